"""导入向导 (数据管理): map a sheet no reader recognises, once, and keep the mapping as an import
recipe (`etl/recipes.py`) that reads every later sheet of the same layout automatically.

The clerk sees the sheet's first rows as Excel shows them (column letters across, row numbers
down, merged cells filled), picks the header rows and the first data row, where the regions and
the years are, and which column is which catalog indicator in which unit (prefilled from the
header). The facts the mapping yields — through the same resolve step as every file — and their
issues show live before anything is saved. Saving writes `<data-dir>/recipes/<name>.yaml`
(audited) and re-runs the check of the upload, which then reads the sheet with the recipe: from
there it is the normal check → preview → publish flow. The recipes list at the bottom shows,
and deletes (audited), what is saved.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from etl import recipes
from etl.catalog import load_catalog
from etl.paths import data_dir
from etl.recipes import ColumnMap, RecipeError
from etl.regions import load_registry
from etl.sources import Grid, load_source

from . import audit
from .format import escape_markdown

PREVIEW_ROWS = 30  # rows of the sheet shown to pick the header from
FACT_ROWS = 50  # facts shown before saving
YEAR_MODES = {
    "column": "年份在某一列",
    "year": "整张表是同一年",
    "title": "年份写在标题中（如“（2023年）”）",
    "across": "各数值列的表头是年份",
}
SKIP = "（不导入）"


def _indicator_names() -> dict[str, str]:
    catalog = load_catalog()
    return {i.id: f"{i.name_zh}（{i.display_unit or i.unit}）" for i in catalog.indicators.values()}


def sheet_frame(grid: Grid, limit: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The sheet's first `limit` rows as the clerk sees them in Excel: column letters across,
    Excel row numbers down, a merged range's value in every cell it covers, blanks empty."""
    rows = [list(r) for r in grid.rows[:limit]]
    width = max(map(len, rows), default=0)
    for r in rows:
        r.extend([None] * (width - len(r)))
    for (r1, c1), (r2, c2) in grid.merged:
        i1, j1 = r1 - (grid.first_row - 1), c1 - grid.first_col
        if not (0 <= i1 < len(rows) and 0 <= j1 < width):
            continue
        value = rows[i1][j1]
        for i in range(i1, min(r2 - (grid.first_row - 1), len(rows) - 1) + 1):
            for j in range(j1, min(c2 - grid.first_col, width - 1) + 1):
                rows[i][j] = value
    frame = pd.DataFrame(
        [["" if c is None else _shown(c) for c in r] for r in rows],
        columns=[grid.excel_col(j) for j in range(width)],
        index=[grid.excel_row(i) for i in range(len(rows))],
        dtype=object,
    )
    frame.index.name = "行"
    return frame


def _shown(cell: object) -> str:
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else format(cell, ".15g")  # as Excel shows it
    return str(cell)


def guess_header(grid: Grid) -> tuple[list[int], int]:
    """Header rows and first data row, guessed: the data starts at the first row with two or
    more numbers; the header is the row above it with text, and the text rows right above that
    one whose cells are merged over it (a group header)."""
    numeric = [sum(isinstance(c, (int, float)) and not isinstance(c, bool) for c in r) for r in grid.rows]
    first = next((i for i, n in enumerate(numeric) if n >= 2), min(len(grid.rows) - 1, 1))
    texts = [i for i in range(first) if sum(isinstance(c, str) for c in grid.rows[i]) >= 2]
    header = texts[-1:] or [max(first - 1, 0)]
    merged_rows = {r1 - (grid.first_row - 1) for (r1, _), (r2, _) in grid.merged if r2 > r1}
    while header[0] - 1 in texts and header[0] - 1 in merged_rows:
        header.insert(0, header[0] - 1)
    return [grid.excel_row(i) for i in header], grid.excel_row(first)


def upload_grids(check) -> dict[tuple[str, str], Grid]:
    """(file, sheet) → grid of every sheet of the check's files, read once per check and kept in
    the session: a rerun of the page (any widget of the wizard) reads no file again."""
    held = st.session_state.get("wz_grids")
    if held is None or held[0] != check.key:
        grids = {}
        for path in check.paths:
            source, _ = load_source(path)
            for grid in source.grids if source else []:
                grid.region = check.region  # the place the clerk chose for the upload
                grids[(path.name, grid.sheet)] = grid
        held = st.session_state.wz_grids = (check.key, grids)
    return held[1]


def unrecognised(check) -> list[tuple[str, str]]:
    """(file, sheet) of the check's sheets no reader or recipe could place."""
    seen = []
    for issue in check.outcome.issues.errors:
        if issue.code == "no_header" and issue.sheet and (issue.file, issue.sheet) not in seen:
            seen.append((issue.file, issue.sheet))
    return seen


def offer(check, user: str) -> None:
    """The wizard under the upload's issues: open on a sheet no reader recognised, on request
    for any other sheet of the upload."""
    grids = upload_grids(check)
    stuck = [place for place in unrecognised(check) if place in grids]
    sheets = stuck + [place for place in grids if place not in stuck]
    if not sheets:
        return
    title = (
        "导入向导：为无法识别的表建立导入配方" if stuck else "导入向导（可选）：按自定义方式读取某个工作表"
    )
    with st.expander(title, expanded=bool(stuck), icon=":material/table_edit:"):
        if stuck:
            st.info(
                "以下工作表的格式系统不认识。请在下面标出表头、地区、年份和各列对应的指标；"
                "保存后本次上传会重新校验，以后同样格式的表会自动按此读取。"
            )
        picked = st.selectbox(
            "工作表",
            range(len(sheets)),
            format_func=lambda n: (
                f"{sheets[n][0]} › {sheets[n][1]}" + ("（未能识别）" if sheets[n] in stuck else "")
            ),
            key="wz_sheet",
        )
        wizard(grids[sheets[picked]], user, key=f"wz{picked}")


def wizard(grid: Grid, user: str, key: str) -> None:
    """The mapping steps for one sheet, the live facts preview, and saving the recipe."""
    st.markdown(f"**① 表格内容**（前 {PREVIEW_ROWS} 行，与 Excel 中所见相同，合并单元格已展开）")
    shown = sheet_frame(grid)
    st.dataframe(shown, width="stretch", height=320)
    rows = list(shown.index)
    letters = list(shown.columns)
    guessed_header, guessed_first = guess_header(grid)
    left, right = st.columns(2)
    header_rows = left.multiselect(
        "表头所在的行（可多选）", rows, default=[r for r in guessed_header if r in rows], key=f"{key}-hdr"
    )
    first_row = right.number_input(
        "数据从第几行开始",
        min_value=1,
        value=guessed_first,
        step=1,
        key=f"{key}-first",
    )
    if not header_rows:
        st.warning("请选择表头所在的行。")
        return
    header_rows = sorted(header_rows)
    heads = recipes.header_cells(grid, header_rows)

    def column_label(letter: str) -> str:
        return f"{letter}列：{heads.get(letter, '（无表头）')}"

    st.markdown("**② 地区与年份**")
    left, right = st.columns(2)
    by_column = left.radio(
        "地区", ("column", "code"), format_func={"column": "地区在某一列", "code": "整张表是同一个地区"}.get,
        horizontal=True, key=f"{key}-regmode",
    )  # fmt: skip
    region_column = region_code = None
    if by_column == "column":
        region_column = left.selectbox("地区所在列", letters, format_func=column_label, key=f"{key}-regcol")
    else:
        places = load_registry().picker_labels
        region_code = left.selectbox(
            "整张表所属地区（可输入名称搜索）",
            list(places),
            index=None,
            format_func=places.get,
            placeholder="请选择地区",
            key=f"{key}-region",
        )
    modes = list(YEAR_MODES)
    year_mode = right.radio(
        "年份",
        modes,
        index=modes.index(recipes.guess_years(grid, header_rows)),
        format_func=YEAR_MODES.get,
        key=f"{key}-yearmode",
    )
    year_column = year = None
    if year_mode == "column":
        others = [c for c in letters if c != region_column]
        year_column = right.selectbox("年份所在列", others, format_func=column_label, key=f"{key}-yearcol")
    elif year_mode == "year":
        year = int(
            right.number_input("年份", min_value=1949, max_value=2100, value=2024, step=1, key=f"{key}-year")
        )

    st.markdown("**③ 各列对应的指标**")
    names = _indicator_names()
    catalog = load_catalog()
    draft = recipes.draft_indicators(grid, header_rows, catalog)
    value_columns = [c for c in heads if c not in (region_column, year_column)]
    mapped: list[ColumnMap] = []
    if year_mode == "across":
        years = [c for c in value_columns if _is_year(heads[c])]
        left, right = st.columns([3, 1])
        best = next((draft[c]["id"] for c in years if draft.get(c, {}).get("id")), None)
        indicator = left.selectbox(
            f"各年份列（{'、'.join(years) or '无'}）的指标",
            list(names),
            index=list(names).index(best) if best in names else None,
            format_func=names.get,
            placeholder="请选择指标",
            key=f"{key}-across",
        )
        unit = right.text_input(
            "单位（按表中所写）", value=_draft_unit(draft, years), key=f"{key}-across-unit"
        )
        if indicator:
            mapped = [ColumnMap(c, indicator, unit.strip() or None) for c in years]
    else:
        options = [SKIP, *names]
        for letter in value_columns:
            guess = draft.get(letter, {})
            suggested = guess.get("id") if guess.get("score", 0) >= 0.6 else None
            left, right = st.columns([3, 1])
            indicator = left.selectbox(
                column_label(letter),
                options,
                index=options.index(suggested) if suggested in options else 0,
                format_func=lambda i: names.get(i, i),
                key=f"{key}-ind-{letter}",
            )
            unit = right.text_input(
                "单位",
                value=guess.get("unit") or "",
                key=f"{key}-unit-{letter}",
                label_visibility="collapsed",
            )
            if indicator != SKIP:
                mapped.append(ColumnMap(letter, indicator, unit.strip() or None))
    if not mapped:
        st.warning("请至少为一列选择指标。")
        return
    if by_column == "code" and region_code is None:
        st.warning("请选择整张表所属的地区。")
        return
    recipe = recipes.new_recipe(
        name=st.session_state.get(f"{key}-name") or "未命名",
        signature=recipes.header_signature(grid, header_rows),
        header_rows=tuple(header_rows),
        first_data_row=int(first_row),
        indicators=tuple(mapped),
        region_column=region_column,
        region_code=region_code,
        year_mode=year_mode,
        year_column=year_column,
        year=year,
        author=user,
    )
    _facts_preview(recipe, grid)
    _save(recipe, grid, user, key)


def _is_year(text: str) -> bool:
    from etl.readers.yearbook import year_cell

    return any(year_cell(part.strip()) is not None for part in text.split("/"))


def _draft_unit(draft: dict, letters: list[str]) -> str:
    return next((draft[c]["unit"] for c in letters if draft.get(c, {}).get("unit")), "") or ""


def _facts_preview(recipe, grid: Grid) -> None:
    """The first facts the mapping yields, as the warehouse would hold them, and every issue."""
    st.markdown(f"**④ 按此设置读取的结果**（前 {FACT_ROWS} 条）")
    catalog, registry = load_catalog(), load_registry()
    facts, issues = recipes.preview(recipe, grid, catalog, registry, FACT_ROWS)
    if not facts.empty:
        names = registry.frame().set_index("code")["name"]
        units = {i.id: (i.name_zh, i.unit) for i in catalog.indicators.values()}
        st.dataframe(
            pd.DataFrame(
                {
                    "地区": facts["region_code"].map(names),
                    "年份": facts["year"],
                    "指标": facts["indicator_id"].map(lambda i: units[i][0]),
                    "数值": facts["value"],
                    "单位": facts["indicator_id"].map(lambda i: units[i][1]),
                    "来源单元格": facts["column"].astype(str) + facts["row"].astype(str),
                }
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.info("按此设置读不出任何数据。")
    for issue in issues[:10]:
        where = escape_markdown(issue.location())
        text = f"{where + '：' if where else ''}{escape_markdown(issue.message)}"
        (st.error if issue.severity == "error" else st.warning)(text)
    if len(issues) > 10:
        st.caption(f"另有 {len(issues) - 10} 条问题未列出。")


def _save(recipe, grid: Grid, user: str, key: str) -> None:
    st.markdown("**⑤ 保存为导入配方**")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    name = left.text_input("配方名称", placeholder="例如：宝鸡市统计年鉴社会救助表", key=f"{key}-name")
    clicked = right.button("保存并重新校验", type="primary", key=f"{key}-save", disabled=not name.strip())
    if not clicked:
        return
    try:
        path = recipes.save_recipe(data_dir(), dataclasses.replace(recipe, name=name.strip()))
    except RecipeError as exc:
        st.error(str(exc))
        return
    audit.record("recipe_save", user, recipe=name.strip(), file=grid.file, sheet=grid.sheet)
    st.session_state.pop("check", None)  # the upload is checked again, now with the recipe
    st.session_state.flash = f"已保存导入配方“{path.stem}”，已按它重新校验本次上传。"
    st.rerun()


def recipes_section(user: str) -> None:
    """The saved recipes: list, view, delete (audited)."""
    base = data_dir()
    saved, problems = recipes.load_recipes(base)
    with st.expander(f"导入配方（{len(saved)} 个）", icon=":material/receipt_long:"):
        for issue in problems:  # a recipe file edited by hand, or one the catalog no longer fits
            st.error(escape_markdown(f"{issue.location()}：{issue.message}"))
        files = sorted(p.stem for p in recipes.recipes_dir(base).glob(f"*{recipes.SUFFIX}"))
        if not files:
            st.caption("还没有导入配方。上传的表无法识别时，可在“导入向导”中建立。")
            return
        names = _indicator_names()
        st.dataframe(
            pd.DataFrame(
                {
                    "名称": [r.name for r in saved],
                    "建立人": [r.author for r in saved],
                    "建立时间": [r.created for r in saved],
                    "表头行": ["、".join(map(str, r.header_rows)) for r in saved],
                    "指标": [
                        "、".join(dict.fromkeys(names.get(m.indicator, m.indicator) for m in r.indicators))
                        for r in saved
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        chosen = st.selectbox("查看或删除（有误的配方也可删除）", files, key="wz_recipe")
        try:
            st.code(recipes.recipe_text(base, chosen), language="yaml")
        except RecipeError as exc:
            st.error(str(exc))
        if st.button(f"删除配方“{escape_markdown(chosen)}”", key="wz_delete", icon=":material/delete:"):
            recipes.delete_recipe(base, chosen)
            audit.record("recipe_delete", user, recipe=chosen)
            st.session_state.pop("check", None)
            st.session_state.flash = f"已删除导入配方“{chosen}”。"
            st.rerun()
