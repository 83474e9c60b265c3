"""Raw observations → facts in catalog terms: region code, indicator id, year, value in catalog unit.

Every reader hands over text as written; this one module decides what it means, so the
rules (and their Chinese error messages) are the same for every input shape. Work is done
once per distinct label, not per cell, which keeps national-scale files fast.
"""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from .catalog import Catalog
from .issues import Issue, error, fact_location, warning
from .regions import Registry
from .text import is_no_data
from .units import conversion_factor, convert

FACT_KEY = ["region_code", "year", "indicator_id"]
LINEAGE_COLUMNS = ["file_name", "file_sha256", "sheet", "row", "column"]
FACT_COLUMNS = FACT_KEY + ["value"] + LINEAGE_COLUMNS

_YEAR = re.compile(r"^\s*((?:19|20)\d\d)(?:\.0+)?\s*年?\s*$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def resolve(raw: pd.DataFrame, catalog: Catalog, registry: Registry, default_scope: tuple[str, ...] = (),
            region: str | None = None) -> tuple[pd.DataFrame, list[Issue]]:
    """Resolve one file's raw observations. Returns (facts with lineage, issues).

    `region` is the code of the place the user said the file is about: rows that name no region
    take it, and it decides same-name places the file's own rows leave open. `default_scope` (the
    app's cities) only orders suggestions for names that cannot be read."""
    issues: list[Issue] = []
    if raw.empty:
        return pd.DataFrame(columns=FACT_COLUMNS), issues
    df = raw.reset_index(drop=True)
    if region is not None:
        df["region_code"] = df["region_code"].where(df["region"].notna() | df["region_code"].notna(), region)
    ok = pd.Series(True, index=df.index)

    region_codes, region_issues, skip = _resolve_regions(df, registry, default_scope, region)
    issues += region_issues
    ok &= region_codes.notna() & ~skip

    indicator_ids = _resolve_indicators(df, catalog, issues)
    ok &= indicator_ids.notna()

    years = _resolve_years(df, issues)
    ok &= years.notna()

    values, has_value = _parse_values(df, issues)
    ok &= has_value

    factors = _unit_factors(df, indicator_ids, catalog, issues)
    ok &= factors.notna()

    good = ok.to_numpy()
    def text(column: pd.Series) -> pd.Series:
        return column[good].fillna("").astype("str").reset_index(drop=True)

    facts = pd.DataFrame({
        "region_code": text(region_codes),
        "year": years[good].astype("int32").to_numpy(),
        "indicator_id": text(indicator_ids),
        "value": convert(values[good], factors[good]).to_numpy(),
        "file_name": text(df["file"]),
        "file_sha256": text(df["file_sha256"]),
        "sheet": text(df["sheet"]),
        "row": df["row"][good].astype("int64").to_numpy(),
        "column": text(df["column"]),
    })
    issues += _check_ranges(facts, catalog, registry)
    facts, dup_issues = _drop_duplicates(facts, catalog, registry)
    issues += dup_issues
    return facts, issues


def _loc(df: pd.DataFrame, i: int) -> dict:
    r = df.iloc[i]
    return {"file": r["file"], "sheet": r["sheet"] or "", "row": int(r["row"]) if r["row"] is not None else None,
            "column": r["column"] or ""}


# infer_dtype kinds that cannot hold a boolean (True == 1 would merge them when hashed)
_NO_BOOLEANS = {"string", "integer", "floating", "mixed-integer-float", "empty"}


class Distinct:
    """The distinct combinations of some columns, in order of first appearance.

    Label work (registry and catalog look-ups, year and unit parsing) runs once per
    combination and is broadcast back to the rows: a national file has ~10⁶ rows but a
    few thousand labels. `first` is each combination's first row (for messages), `inverse`
    each row's combination number. Columns that may hold booleans are compared by type and
    text, since hashing would merge True with 1."""

    def __init__(self, *columns: pd.Series):
        combined = np.zeros(len(columns[0]), dtype=np.int64)
        for col in columns:
            if pd.api.types.infer_dtype(col, skipna=True) not in _NO_BOOLEANS:
                col = col.map(lambda v: None if v is None else f"{type(v).__name__}:{v}")
            codes, _ = pd.factorize(col, use_na_sentinel=False)
            combined, _ = pd.factorize(combined * (codes.max(initial=0) + 1) + codes)  # renumbered: no overflow
        # factorize numbers in order of first appearance: a row starts a new combination exactly
        # where the running maximum of the numbers goes up (no sort needed).
        top = np.maximum.accumulate(combined)
        self.first = np.flatnonzero(np.diff(top, prepend=-1)) if len(top) else top
        self.inverse = combined
        # The original values (object columns: the very objects, without a per-key iloc).
        picked = [col.to_numpy()[self.first].tolist() if col.dtype == object else [col.iloc[i] for i in self.first]
                  for col in columns]
        self.keys = list(zip(*picked))

    def broadcast(self, results: list, index: pd.Index) -> pd.Series:
        """One result per combination → one per row."""
        done = np.empty(len(results), dtype=object)
        done[:] = results
        return pd.Series(done[self.inverse] if len(done) else done, index=index, dtype=object)


def _per_distinct(values: pd.Series, func) -> pd.Series:
    """func(value) for every row, computed once per distinct value."""
    distinct = Distinct(values)
    return distinct.broadcast([func(key[0]) for key in distinct.keys], values.index)


def _resolve_regions(df, registry: Registry, default_scope, chosen: str | None
                     ) -> tuple[pd.Series, list[Issue], pd.Series]:
    """Region codes per row, the issues, and the rows to skip (subtotals, totals nothing fits).

    A code decides where one is written, but a name beside it must name the same place. Names
    are resolved together (same-name places by the file's other rows, `Registry.resolve_names`);
    a total row stands for the common parent of the other regions on its own sheet."""
    issues: list[Issue] = []
    code_text = _per_distinct(df["region_code"], lambda v: None if v is None else _code_text(v))
    name_text = _per_distinct(df["region"], lambda v: None if v is None else str(v).strip() or None)

    by_code = code_text.notna()
    code_of: dict[str, str] = {}
    skipped_codes: set[str] = set()
    for i, text in _first_rows(code_text[by_code]):
        res = registry.resolve_code(text)
        if res.status in ("ok", "alias"):
            code_of[text] = res.code
        elif res.status == "subtotal":
            skipped_codes.add(text)
            issues.append(warning("subtotal_skipped", f"“{text}”是市辖区小计行，不作为区县数据导入。",
                                  value=str(text), **_loc(df, i)))
        else:
            issues.append(error("unknown_region", f"区划代码“{text}”不在全国区划代码表中。", value=str(text),
                                suggestion="请核对6位统计用区划代码（例如 眉县 610326）。", **_loc(df, i)))

    names = name_text[name_text.notna()]
    context = tuple(sorted(set(code_of.values()) | ({chosen} if chosen else set())))
    resolutions = registry.resolve_names(names.unique().tolist(), context=context) if len(names) else {}
    by_name = ~by_code & name_text.notna()
    name_of: dict[str, str] = {}
    skipped_names: set[str] = set()
    totals: set[str] = set()
    for i, text in _first_rows(name_text[by_name]):
        res = resolutions[text]
        if res.status == "total":
            totals.add(text)
        elif res.status in ("ok", "alias") and res.code:
            name_of[text] = res.code
        elif res.status == "subtotal":
            skipped_names.add(text)
            issues.append(warning("subtotal_skipped", f"“{text}”是市辖区小计行，不作为区县数据导入。",
                                  value=text, **_loc(df, i)))
        elif res.status == "ambiguous":
            places = "、".join(f"{registry.full_name(c)}（{c}）" for c in res.candidates[:6])
            issues.append(error("unknown_region", f"地区“{text}”有重名，表中其他地区也无法确定是哪一个：{places}。",
                                value=text, suggestion="请在“区划代码”列填写6位代码，或写出所属城市（如“福州市鼓楼区”）。",
                                **_loc(df, i)))
        else:
            hint = registry.suggest(text, scope=default_scope)
            issues.append(error("unknown_region", f"地区“{text}”无法识别。", value=text,
                                suggestion=f"是否为：{'、'.join(hint)}？" if hint else "请填写规范的县（市、区）名称或6位区划代码。",
                                **_loc(df, i)))
    missing = ~by_code & name_text.isna()
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        issues.append(error("unknown_region", f"有{int(missing.sum())}个数据没有填写地区。",
                            suggestion="请为每一行填写地区名称或区划代码，或在导入时选择表格所属地区。", **_loc(df, i)))
    codes = code_text.map(code_of).where(by_code, name_text.map(name_of))
    skip = (by_code & code_text.isin(skipped_codes)) | (by_name & name_text.isin(skipped_names))
    issues += _check_name_matches_code(df, name_text, code_text, code_of, resolutions, registry)
    if totals:
        is_total = by_name & name_text.isin(totals)
        codes, skipped, found = _place_totals(df, name_text, codes, is_total, registry)
        skip |= skipped
        issues += found
    return codes, issues, skip


def _check_name_matches_code(df, name_text: pd.Series, code_text: pd.Series, code_of: dict[str, str],
                             resolutions: dict, registry: Registry) -> list[Issue]:
    """A row naming a place and giving a code for another one is an error: which one is right
    is for the clerk to say (the code winning silently put 眉县's figures on 福州's 鼓楼区)."""
    both = name_text.notna() & code_text.notna()
    if not both.any():
        return []
    issues = []
    pairs = Distinct(name_text[both], code_text[both])
    for (name, code), i in zip(pairs.keys, pairs.first):
        res, by_code = resolutions[name], code_of.get(code)
        if by_code is None or res.status not in ("ok", "alias", "ambiguous"):
            continue   # a code that is itself wrong is reported above; totals and subtotals follow the code
        if by_code == res.code or (res.status == "ambiguous" and by_code in res.candidates):
            continue
        named = (f"{registry.full_name(res.code)}，{res.code}" if res.code
                 else "、".join(registry.full_name(c) for c in res.candidates[:4]))
        issues.append(error("region_mismatch",
                            f"地区名称“{name}”（{named}）与区划代码“{code}”（{registry.full_name(by_code)}）不是同一个地方。",
                            value=f"{name} / {code}", suggestion="请核对地区名称和6位区划代码，改正其中错误的一项。",
                            **_loc(df, int(both.to_numpy().nonzero()[0][i]))))
    return issues


def _place_totals(df, name_text: pd.Series, codes: pd.Series, is_total: pd.Series, registry: Registry
                  ) -> tuple[pd.Series, pd.Series, list[Issue]]:
    """Total rows ("全  省", "合计") take the common parent of the other regions on their sheet: in
    a table of 福建's cities 全省 is 350000. Where no single parent fits, the row is skipped with
    a warning (its figure is checked against nothing, but nothing wrong is stored)."""
    sheets = df["sheet"].fillna("")
    known = codes.notna() & ~is_total
    on_sheet = {sheet: group.unique().tolist() for sheet, group in codes[known].groupby(sheets[known])}
    skip = pd.Series(False, index=df.index)
    issues = []
    pairs = Distinct(sheets[is_total], name_text[is_total])
    rows = np.flatnonzero(is_total.to_numpy())
    placed = []
    for (sheet, text), first in zip(pairs.keys, pairs.first):
        res = registry.total_of(text, on_sheet.get(sheet, []))
        placed.append(res.code)
        if res.code is None:
            count = int((pairs.inverse == len(placed) - 1).sum())
            issues.append(warning("total_skipped", f"合计行“{text}”已跳过{count}个数据：{res.note}。", value=text,
                                  suggestion="如需导入该合计数，请把“合计”改为地区名称（如“福建省”）或填写区划代码。",
                                  **_loc(df, int(rows[first]))))
    total_codes = pairs.broadcast(placed, is_total[is_total].index)
    codes = codes.copy()
    codes[is_total] = total_codes
    skip[is_total] = total_codes.isna()
    return codes, skip, issues


def _first_rows(values: pd.Series) -> list[tuple[int, str]]:
    """(row, value) for the first row of each distinct text, in text order (for messages)."""
    distinct = Distinct(values)
    return sorted(zip(values.index[distinct.first], (key[0] for key in distinct.keys)), key=lambda pair: pair[1])


def _code_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# Shapes printed for other purposes (季报 with dozens of items, yearbook tables with extra
# columns): an item the catalog does not track is skipped with a warning, not an error.
# In our template and in long tables every row claims to be a dashboard indicator.
TOLERANT_SHAPES = {"quarterly", "yearbook", "series"}
# "#女性", "其中：农村" under an item: a breakdown of the row above, not the item itself.
_BREAKDOWN = re.compile(r"^\s*(?:[#＃]|其中[:：]?)")


def _resolve_indicators(df, catalog: Catalog, issues: list[Issue]) -> pd.Series:
    shapes = df["shape"] if "shape" in df else pd.Series(None, index=df.index, dtype=object)
    distinct = Distinct(df["indicator"], df["context"], shapes)
    ids = []
    for (label, context, shape), i in zip(distinct.keys, distinct.first):
        label, context, shape = ("" if v is None else str(v) for v in (label, context, shape))
        ind = catalog.resolve(label, context) if label.strip() else None
        ids.append(None if ind is None else ind.id)
        if ind is not None:
            continue
        if not label.strip():
            issues.append(error("unknown_indicator", "指标名称为空。", suggestion="请填写指标名称。", **_loc(df, i)))
            continue
        if shape in TOLERANT_SHAPES:
            skipped = int((distinct.inverse == len(ids) - 1).sum())
            if _BREAKDOWN.match(label) and context.strip():
                issues.append(warning("breakdown_skipped",
                                      f"“{label.strip()}”是“{context.strip()}”的分项，看板没有收录该分项，已跳过{skipped}个数据。",
                                      value=label.strip(), suggestion="分项不是该指标本身，不会代替它导入。",
                                      **_loc(df, i)))
            else:
                issues.append(warning("indicator_skipped", f"“{label.strip()}”不是看板收录的指标，已跳过{skipped}个数据。",
                                      value=label.strip(), suggestion="如需收录，请在指标目录中增加该指标或别名。",
                                      **_loc(df, i)))
            continue
        hint = catalog.suggest(label)
        issues.append(error("unknown_indicator", f"指标“{label}”不在指标目录中。", value=label,
                            suggestion=f"是否为：{'、'.join(hint)}？" if hint else "请使用指标说明页中的指标名称或别名。",
                            **_loc(df, i)))
    return distinct.broadcast(ids, df.index)


def _resolve_years(df, issues: list[Issue]) -> pd.Series:
    latest = dt.date.today().year + 1
    distinct = Distinct(df["year"])
    years = []
    for (value,), i in zip(distinct.keys, distinct.first):
        t = None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        m = _YEAR.match(t) if t is not None else None
        year = int(m.group(1)) if m else None
        years.append(year if year is not None and 1949 <= year <= latest else None)
        if t is None:
            count = int((distinct.inverse == len(years) - 1).sum())
            issues.append(error("year_missing", f"有{count}个数据缺少年份。",
                                suggestion="请在“年份”列或表头填写4位年份，例如 2023。", **_loc(df, i)))
        elif years[-1] is None:
            issues.append(error("year_invalid", f"年份“{t}”无效。", value=t,
                                suggestion=f"请填写1949—{latest}之间的4位年份，例如 2023。", **_loc(df, i)))
    return distinct.broadcast(years, df.index)


def _parse_values(df, issues: list[Issue]) -> tuple[pd.Series, pd.Series]:
    """Numbers pass; blanks and '-' mean no data (skipped); anything else is an error."""
    raw = df["value"]
    numeric = pd.to_numeric(raw, errors="coerce")
    is_bool = raw.map(lambda v: isinstance(v, bool))
    values = numeric.astype("float64")
    has_value = numeric.notna() & ~is_bool
    todo = ~has_value & raw.notna()
    for i in np.flatnonzero(todo.to_numpy()):
        v = raw.iloc[i]
        text = str(v).strip()
        if is_no_data(text):
            continue
        cleaned = text.replace(",", "").replace("，", "").replace(" ", "")
        if _NUMBER.match(cleaned) and not isinstance(v, bool):
            values.iloc[i] = float(cleaned)
            has_value.iloc[i] = True
            continue
        issues.append(error("not_a_number", f"数值“{text}”不是数字。", value=text,
                            suggestion="请只填写阿拉伯数字（如 300），不要带“约”“余”等文字或单位；没有数据请留空。",
                            **_loc(df, i)))
    bad = has_value & ~np.isfinite(values.fillna(0))
    for i in np.flatnonzero(bad.to_numpy()):
        issues.append(error("not_a_number", f"数值“{raw.iloc[i]}”不是有限的数字。", value=str(raw.iloc[i]),
                            suggestion="请填写正常的数值。", **_loc(df, i)))
    return values, has_value & ~bad


def _unit_factors(df, indicator_ids: pd.Series, catalog: Catalog, issues: list[Issue]) -> pd.Series:
    """The factor from each value's unit to the catalog unit.

    A value's unit may be written on its row (a unit column, an item label) and for the whole
    column or table (a header "数值（万人）", a title "单位：万人"): a blank unit cell never erases the
    header's unit, and two units that convert differently are an error naming both."""
    header_units = df["header_unit"] if "header_unit" in df else pd.Series(None, index=df.index, dtype=object)
    distinct = Distinct(indicator_ids, df["unit"], header_units)
    factors = []
    for (ind_id, unit, header_unit), i in zip(distinct.keys, distinct.first):
        factors.append(None)
        if ind_id is None:
            continue
        ind = catalog.get(ind_id)
        written = [str(u).strip() for u in (unit, header_unit) if u is not None and str(u).strip()]
        found = [conversion_factor(u, ind.unit, ind.display_unit, ind.scale if ind.is_ratio else None)
                 for u in written] or [conversion_factor("", ind.unit)]
        bad = next((u for u, f in zip(written, found) if f is None), None)
        if bad is not None:
            issues.append(error("unknown_unit", f"“{ind.name_zh}”的单位“{bad}”无法换算为“{ind.unit}”。", value=bad,
                                suggestion=f"请使用单位“{ind.display_unit or ind.unit}”或可换算的单位（如 万{ind.unit}）。",
                                **_loc(df, i)))
        elif len(set(found)) > 1:
            issues.append(error("unit_conflict",
                                f"“{ind.name_zh}”的单位前后不一致：本行（单位列或项目名称）写“{written[0]}”，"
                                f"表头或标题写“{written[1]}”。", value=written[0],
                                suggestion="请核对数值是按哪个单位填写的，只保留一处单位或改为一致。", **_loc(df, i)))
        else:
            factors[-1] = found[0]
    return distinct.broadcast(factors, df.index)


def _check_ranges(facts: pd.DataFrame, catalog: Catalog, registry: Registry) -> list[Issue]:
    """Negative counts and values beyond the catalog's plausibility ceiling are errors."""
    issues: list[Issue] = []
    negative = facts[facts["value"] < 0]
    for row in negative.head(200).itertuples():
        ind = catalog.get(row.indicator_id)
        issues.append(error("negative", f"{registry.name(row.region_code)}{row.year}年“{ind.name_zh}”为负数（{row.value:g}）。",
                            value=f"{row.value:g}", suggestion="请核对数值，统计数不能为负。", **fact_location(row)))
    ceilings = facts["indicator_id"].map({i.id: i.max_value for i in catalog.indicators.values()}).astype("float64")
    too_big = facts[ceilings.notna() & (facts["value"] > ceilings.fillna(np.inf))]
    for row in too_big.head(200).itertuples():
        ind = catalog.get(row.indicator_id)
        issues.append(error("out_of_range",
                            f"{registry.name(row.region_code)}{row.year}年“{ind.name_zh}”为{row.value:,.0f}{ind.unit}，超出合理范围（上限 {ind.max_value:,.0f}{ind.unit}）。",
                            value=f"{row.value:g}", suggestion="请检查是否多填了位数或单位填错（例如把“人”写成了“万人”）。",
                            **fact_location(row)))
    return issues


def _drop_duplicates(facts: pd.DataFrame, catalog: Catalog, registry: Registry) -> tuple[pd.DataFrame, list[Issue]]:
    """Within one file a fact may appear once; the same value twice is harmless, two values are an error."""
    dup = facts.duplicated(FACT_KEY, keep=False)
    if not dup.any():
        return facts, []
    issues: list[Issue] = []
    for key, group in facts[dup].groupby(FACT_KEY, sort=False):
        if group["value"].nunique() > 1:
            first, second = group.iloc[0], group.iloc[1]
            ind = catalog.get(key[2])
            issues.append(error(
                "duplicate",
                f"{registry.name(key[0])}{key[1]}年“{ind.name_zh}”出现多次且数值不同："
                f"{first['value']:g}（第{first['row']}行）与 {second['value']:g}（第{second['row']}行）。",
                value=f"{second['value']:g}", suggestion="请删除重复行，只保留正确的数值。",
                file=second["file_name"], sheet=second["sheet"], row=int(second["row"]), column=second["column"]))
    return facts.drop_duplicates(FACT_KEY, keep="first").reset_index(drop=True), issues
