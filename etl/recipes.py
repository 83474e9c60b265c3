"""Import recipes: a clerk's saved mapping for a sheet layout no reader knows.

A statistics bureau prints tables no automatic reader can know in advance. When no reader
recognises a sheet, the clerk maps it once in 数据管理's 导入向导 (or writes the YAML by hand):
which rows are the header, where the data starts, which column holds the regions (or which one
region the whole sheet is about), where the year is, and which column is which catalog indicator
in which unit. The mapping is saved as `<data-dir>/recipes/<name>.yaml`, keyed by the sheet's
header signature, and every later sheet with the same header is read with it automatically
(`readers.read_source`, before the built-in readers: a clerk who made a recipe for a sheet meant
it). A recipe only says where things are: the raw observations it gives go through resolve.py like
every other reader's, so region names, years, units and values are checked and converted the same
way, with the same Chinese messages naming file, sheet, row and column.

The header signature (`header_signature`) is the normalised text of the header rows, column by
column from column A, merged cells copied into every cell they cover:
- insensitive to whitespace, full/half width (NFKC), English letter case, and to whether a header
  cell spanning two rows is merged or written once;
- a header cell that is nothing but a year ("2019", "2019年", "2019年末") counts as "〈年〉", so a
  table with years across reads next year's file too; the title above the header is not part of
  the signature at all (it carries the year and the place);
- sensitive to everything else: the order of the columns, their names, their number.
The header is looked for at the recipe's rows and up to three rows higher or lower (`fit`): next
year's table often has one title line more.

A recipe with a fixed year refuses a sheet whose title or header names another year (the same
layout next year must not be stored as this year's figures); `years: {title: true}` takes the
year from the title instead.

The YAML (keys in English, texts as written):

    name: 宝鸡社会救助表
    author: 张三
    created: '2024-03-01T10:00:00+08:00'
    signature: 县(市、区)/county|...
    header_rows: [3, 4]            # 1-based Excel rows of the header
    first_data_row: 5
    regions: {column: A}           # or {code: '610326'}: one region for the whole sheet
    years: {title: true}           # or {column: B}, {year: 2023}, {across: true} (header cells are years)
    indicators:
      B: {id: dibao_urban_persons, unit: 万人}
      C: {id: dibao_funds, unit: 元}
    skip_rows: [12]                # optional: rows that are not data

Total rows (合计, 全市), 市辖区 subtotals and no-data cells ("-", "…") are handled exactly as in a
yearbook table (resolve.py), a note under the table ("注：…", "资料来源：…") ends it, blank rows
and a header repeated on a continuation page are passed over.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .catalog import Catalog, label_key
from .issues import Issue, error
from .readers import RECIPE_SHAPE, raw_frame
from .readers.long_table import title_year
from .readers.yearbook import (
    cell_at,
    first_filled,
    header_label,
    is_footnote,
    title_texts,
    year_cell,
    year_value,
)
from .regions import Registry
from .settings import MAX_COLS, MAX_RECIPE_BYTES, MAX_RECIPE_NAME_CHARS, MAX_ROWS
from .sources import Grid
from .text import is_no_data, normalize, stated_unit
from .units import conversion_factor

RECIPES_DIR = "recipes"
SUFFIX = ".yaml"
SHAPE_PREFIX = RECIPE_SHAPE  # the `shape` of a sheet a recipe read: "recipe:<name>"
YEAR_MASK = "〈年〉"  # a header cell that is only a year, in a signature
_KEYS = {
    "name",
    "author",
    "created",
    "signature",
    "header_rows",
    "first_data_row",
    "regions",
    "years",
    "indicators",
    "skip_rows",
}
_REQUIRED = ("name", "signature", "header_rows", "first_data_row", "regions", "years", "indicators")
YEAR_MODES = ("column", "year", "title", "across")
_LETTERS = re.compile(r"^[A-Z]{1,3}$")
_CODE = re.compile(r"^\d{6}(?:\d{6})?(?:\.0+)?$")  # a region code written in the region column
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_MAX_HEADER_ROWS = 10


class RecipeError(ValueError):
    """A recipe that cannot be saved, read or deleted; the message is Chinese, for the clerk."""


@dataclass(frozen=True)
class ColumnMap:
    """A value column: its Excel letter, the catalog indicator id and the unit as written (None:
    the title's "单位：" note, else the catalog unit)."""

    column: str
    indicator: str
    unit: str | None = None


@dataclass(frozen=True)
class Recipe:
    name: str
    signature: str
    header_rows: tuple[int, ...]  # 1-based Excel rows
    first_data_row: int  # 1-based
    indicators: tuple[ColumnMap, ...]
    region_column: str | None = None  # the letter of the column of region names or codes …
    region_code: str | None = None  # … or the one region of the whole sheet
    year_mode: str = "column"  # YEAR_MODES: a column, one year, the title's year, years across
    year_column: str | None = None
    year: int | None = None
    skip_rows: tuple[int, ...] = ()
    author: str = ""
    created: str = ""  # ISO time

    @property
    def shape(self) -> str:
        return SHAPE_PREFIX + self.name

    @property
    def file_name(self) -> str:
        return self.name + SUFFIX


# ---------------------------------------------------------------- columns and signatures


def column_index(letter: str) -> int:
    """Excel letters → 0-based index (A → 0, AA → 26)."""
    index = 0
    for ch in letter:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _header_matrix(grid: Grid, header_rows: Sequence[int]) -> list[list[object]]:
    """The header rows' cells (None beyond the sheet), merged values copied into every covered cell;
    each row padded to the sheet's columns from column A (`first_col` blanks in front)."""
    indices = [r - grid.first_row for r in header_rows]
    rows = [list(grid.rows[i]) if 0 <= i < len(grid.rows) else [] for i in indices]
    width = max(map(len, rows), default=0)
    matrix = [r + [None] * (width - len(r)) for r in rows]
    for (r1, c1), (r2, c2) in grid.merged:
        i1, j1 = r1 - grid.first_row + 1, c1 - grid.first_col
        if not 0 <= i1 < len(grid.rows):
            continue
        value = cell_at(grid.rows[i1], j1)
        for k, i in enumerate(indices):
            if i1 <= i <= r2 - grid.first_row + 1:
                for j in range(max(j1, 0), min(c2 - grid.first_col, width - 1) + 1):
                    matrix[k][j] = value
    return [[None] * grid.first_col + r for r in matrix]


def _key(cell: object) -> str:
    """One header cell as the signature has it."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return ""
    if year_cell(cell) is not None:
        return YEAR_MASK
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return normalize(cell).lower().replace("|", "¦")


def _column_keys(grid: Grid, header_rows: Sequence[int]) -> list[str]:
    matrix = _header_matrix(grid, header_rows)
    width = max(map(len, matrix), default=0)
    keys = []
    for j in range(width):
        parts: list[str] = []
        for row in matrix:
            key = _key(row[j])
            if key and (not parts or parts[-1] != key):
                parts.append(key)
        keys.append("/".join(parts))
    while keys and not keys[-1]:
        keys.pop()
    return keys


def header_signature(grid: Grid, header_rows: Sequence[int]) -> str:
    """The normalised header text of these rows (1-based), column by column from column A: "a|b/c|…"
    (see the module docstring for what it is and is not sensitive to)."""
    return "|".join(_column_keys(grid, header_rows))


def _signature_columns(signature: str) -> list[str]:
    return signature.split("|") if signature else []


def header_cells(grid: Grid, header_rows: Sequence[int]) -> dict[str, str]:
    """{column letter: its header text as written} for every column with a header, group headers
    first ("城市低保 / 人数(万人)"), lines of a cell joined by a space: what the wizard shows."""
    matrix = _header_matrix(grid, header_rows)
    width = max(map(len, matrix), default=0)
    out = {}
    for j in range(width):
        parts: list[str] = []
        for row in matrix:
            cell = row[j]
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            if isinstance(cell, float) and cell.is_integer():
                cell = int(cell)
            text = " ".join(line.strip() for line in str(cell).splitlines() if line.strip())
            if not parts or parts[-1] != text:
                parts.append(text)
        if parts:
            out[grid.excel_col(j - grid.first_col)] = " / ".join(parts)
    return out


def header_differences(grid: Grid, recipe: Recipe, limit: int = 5) -> list[str]:
    """How this sheet's header differs from the recipe's, in Chinese, one line per column:
    "C列：配方为“城市低保人数(万人)”，此表为“城镇低保人数(万人)”"."""
    mine = _signature_columns(recipe.signature)
    theirs = _column_keys(grid, recipe.header_rows)
    lines = []
    if len(mine) != len(theirs):
        lines.append(f"表头列数不同：配方有{len(mine)}列，此表有{len(theirs)}列")
    for j in range(max(len(mine), len(theirs))):
        a = mine[j] if j < len(mine) else ""
        b = theirs[j] if j < len(theirs) else ""
        if a != b:
            letter = grid.excel_col(j - grid.first_col)
            lines.append(f"{letter}列：配方为“{a or '（空）'}”，此表为“{b or '（空）'}”")
    shown = lines[: limit + (1 if len(mine) != len(theirs) else 0)]
    if len(lines) > len(shown):
        shown.append(f"另有{len(lines) - len(shown)}处不同")
    return shown


# How far a header may have moved from the recipe's rows: next year's table often has one title
# or note line more (or less) above it. Tried nearest first.
SHIFTS = (0, 1, -1, 2, -2, 3, -3)


def fit(recipe: Recipe, grid: Grid, signatures: dict | None = None) -> Recipe | None:
    """The recipe as it fits this sheet: unchanged when the header is at its rows, moved (header,
    first data row and skipped rows together) when the same header sits up to 3 rows higher or
    lower, None when the header is nowhere near. `signatures` caches header rows → signature."""
    signatures = {} if signatures is None else signatures
    for shift in SHIFTS:
        rows = tuple(r + shift for r in recipe.header_rows)
        if rows[0] < grid.first_row or rows[-1] >= grid.first_row + len(grid.rows):
            continue
        if rows not in signatures:
            signatures[rows] = header_signature(grid, rows)
        if signatures[rows] == recipe.signature:
            if not shift:
                return recipe
            return dataclasses.replace(
                recipe,
                header_rows=rows,
                first_data_row=recipe.first_data_row + shift,
                skip_rows=tuple(r + shift for r in recipe.skip_rows),
            )
    return None


def find_recipe(grid: Grid, recipes: Sequence[Recipe]) -> Recipe | None:
    """The first recipe (in the given order; `load_recipes` sorts by name) whose header this
    sheet has at the recipe's rows or a few rows off (`fit`), fitted to the sheet; or None."""
    signatures: dict[tuple[int, ...], str] = {}
    for recipe in recipes:
        if (fitted := fit(recipe, grid, signatures)) is not None:
            return fitted
    return None


def close_recipe(grid: Grid, recipes: Sequence[Recipe]) -> Recipe | None:
    """A recipe whose header almost fits this sheet: the same number of header columns, more than
    half of them equal (but not all) — most likely a bureau renamed a column. None otherwise."""
    best, best_equal = None, 0
    for recipe in recipes:
        mine = _signature_columns(recipe.signature)
        theirs = _column_keys(grid, recipe.header_rows)
        if len(mine) != len(theirs) or not mine:
            continue
        equal = sum(a == b for a, b in zip(mine, theirs))
        if len(mine) / 2 < equal < len(mine) and equal > best_equal:
            best, best_equal = recipe, equal
    return best


# ---------------------------------------------------------------- reading a sheet with a recipe


def apply(recipe: Recipe, grid: Grid) -> tuple[pd.DataFrame, list[Issue]]:
    """Raw observations (exactly `readers.RAW_COLUMNS`) of a sheet read with this recipe, one per
    value cell of a mapped column, with its sheet, Excel row and column letter. Does not check the
    signature (`find_recipe` and `read_source` do); names, years, units and values are left as
    written for resolve.py."""
    issues: list[Issue] = []
    top = min(recipe.header_rows) - grid.first_row
    titles = title_texts(grid, max(top, 0))
    title_unit = stated_unit(titles)
    matrix = _header_matrix(grid, recipe.header_rows)

    def header_parts(j: int) -> list[object]:
        parts: list[object] = []
        for row in matrix:
            cell = row[j] if j < len(row) else None
            if cell is not None and (not parts or parts[-1] != cell):
                parts.append(cell)
        return parts

    sheet_year: int | None = None
    if recipe.year_mode == "title":
        sheet_year = title_year(titles)
        if sheet_year is None:
            issues.append(
                error(
                    "year_missing",
                    f"按导入配方“{recipe.name}”，年份应写在表头上方的标题中，但标题中找不到年份。",
                    **grid.where(max(top, 0)),
                    suggestion="请在标题中写明年份（例如“（2023年）”），或修改导入配方的年份设置。",
                )
            )
            return raw_frame([]), issues
    elif recipe.year_mode == "year":
        sheet_year = recipe.year
        written = {title_year(titles)} | {
            year_cell(c) for row in matrix for c in row if c is not None and year_cell(c) is not None
        }
        other = sorted(y for y in written if y is not None and y != recipe.year)
        if other:
            issues.append(
                error(
                    "year_invalid",
                    f"导入配方“{recipe.name}”规定年份为{recipe.year}年，但此表的标题或表头写的是"
                    f"{'、'.join(f'{y}年' for y in other)}。",
                    value=str(other[0]),
                    **grid.where(max(top, 0)),
                    suggestion="请确认表格的年份；如果此表确是另一年的，请修改导入配方的年份，"
                    "或把年份设为“从标题读取”。",
                )
            )
            return raw_frame([]), issues

    columns = []  # (j, indicator id, unit, year of the column or None)
    for mapping in recipe.indicators:
        j = column_index(mapping.column) - grid.first_col
        col_year = None
        if recipe.year_mode == "across":
            col_year = next((year_cell(p) for p in header_parts(j + grid.first_col) if year_cell(p)), None)
            if col_year is None:
                issues.append(
                    error(
                        "year_missing",
                        f"按导入配方“{recipe.name}”，{mapping.column}列的表头应为年份（如“2023年”），"
                        f"此表为“{' / '.join(map(str, header_parts(j + grid.first_col))) or '（空）'}”。",
                        **grid.where(max(top, 0), j),
                        suggestion="请核对表头，或修改导入配方。",
                    )
                )
                continue
        unit = mapping.unit
        if unit is None:
            unit = _header_unit(header_parts(j + grid.first_col)) or title_unit
        columns.append((j, mapping.indicator, unit, col_year))

    region_j = None if recipe.region_column is None else column_index(recipe.region_column) - grid.first_col
    year_j = None if recipe.year_column is None else column_index(recipe.year_column) - grid.first_col
    region_header = (
        {_key(p) for p in header_parts(region_j + grid.first_col)} if region_j is not None else set()
    )
    skip = set(recipe.skip_rows)
    records = []
    for i in range(max(recipe.first_data_row - grid.first_row, 0), len(grid.rows)):
        row = grid.rows[i]
        first = first_filled(row)
        if first is None or grid.excel_row(i) in skip:
            continue
        if is_footnote(row[first]):
            break  # the notes under the table: it has ended
        if region_j is not None:
            cell = cell_at(row, region_j)
            if cell is not None and _key(cell) in region_header:
                continue  # the header again, on a continuation page
            text = str(cell).strip() if cell is not None else ""
            code = cell if _CODE.match(text) else None
            region = None if code is not None else cell
        else:
            region, code = None, recipe.region_code
        row_year = year_value(cell_at(row, year_j)) if year_j is not None else sheet_year
        for j, indicator, unit, col_year in columns:
            value = cell_at(row, j)
            if is_no_data(value):
                continue
            records.append(
                grid.observation(
                    i,
                    j,
                    region=region,
                    region_code=code,
                    year=row_year if col_year is None else col_year,
                    indicator=indicator,
                    context="",
                    unit=None,
                    header_unit=unit,
                    value=value,
                )
            )
    return raw_frame(records), issues


def _header_unit(parts: list[object]) -> str | None:
    """The unit a column's header names ("城市低保人数（万人）", "单位：张"), or None."""
    return header_label(parts)[2] if parts else None


def preview(
    recipe: Recipe, grid: Grid, catalog: Catalog, registry: Registry, limit: int = 50
) -> tuple[pd.DataFrame, list[Issue]]:
    """The first `limit` facts this recipe gives for the sheet, resolved (catalog units, region
    codes, lineage columns as `resolve.resolve` returns them), and every issue: what the wizard
    shows before the clerk saves the recipe."""
    from .resolve import resolve

    issues: list[Issue] = []
    fitted = fit(recipe, grid)
    if fitted is None:
        issues.append(mismatch(recipe, grid))
        return resolve(raw_frame([]), catalog, registry)[0], issues
    raw, found = apply(fitted, grid)
    issues += found
    raw = raw.assign(shape=recipe.shape, file=grid.file, file_sha256="")
    facts, found = resolve(raw, catalog, registry, region=grid.region)
    return facts.head(limit).reset_index(drop=True), issues + found


def mismatch(recipe: Recipe, grid: Grid) -> Issue:
    """The error for a sheet a recipe was told to read (`--recipe`) whose header is not the recipe's."""
    return error(
        "no_header",
        f"导入配方“{recipe.name}”与此表的表头不一致（第{'、'.join(map(str, recipe.header_rows))}行）："
        + "；".join(header_differences(grid, recipe))
        + "。",
        **grid.where(),
        suggestion="请确认选择的导入配方是否正确；表头确有变化时，请在“数据管理”的“导入向导”中重新建立导入配方。",
    )


# ---------------------------------------------------------------- suggestions for the wizard


def suggest_indicators(header_text: str, catalog: Catalog, limit: int = 5) -> list[tuple[str, float]]:
    """Catalog indicators whose id, name or an alias is closest to a header text (its unit and
    outline numbering removed, English lines ignored), as (id, score 0–1), best first."""
    key = label_key(header_text)
    if not key:
        return []
    scored = []
    for position, ind in enumerate(catalog.indicators.values()):
        best = 0.0
        for text in (ind.id, ind.name_zh, *ind.aliases):
            other = label_key(text)
            if not other:
                continue
            score = 1.0 if other == key else difflib.SequenceMatcher(None, key, other).ratio()
            best = max(best, score)
        if best > 0:
            scored.append((-best, position, ind.id, best))
    scored.sort()
    return [(ind_id, round(score, 3)) for _, _, ind_id, score in scored[:limit]]


def draft_indicators(grid: Grid, header_rows: Sequence[int], catalog: Catalog) -> dict[str, dict]:
    """The wizard's prefill for the header's columns: {letter: {"id": best suggestion or None,
    "score": its score, "unit": the unit the header or the title's "单位：" note names}}. A
    suggestion whose unit the header's cannot be converted to is passed over ("床位（张）" is
    not 养老机构数, counted in 家, however alike the names)."""
    matrix = _header_matrix(grid, header_rows)
    width = max(map(len, matrix), default=0)
    title_unit = stated_unit(title_texts(grid, max(min(header_rows) - grid.first_row, 0)))
    out = {}
    for j in range(width):
        parts: list[object] = []
        for row in matrix:
            if row[j] is not None and (not parts or parts[-1] != row[j]):
                parts.append(row[j])
        if not parts:
            continue
        _, label, unit, _ = header_label(parts)
        unit = unit or title_unit
        found = [
            (ind_id, score)
            for ind_id, score in (suggest_indicators(label, catalog) if label else [])
            if not unit or _fits_unit(unit, catalog.indicators[ind_id])
        ]
        out[grid.excel_col(j - grid.first_col)] = {
            "id": found[0][0] if found else None,
            "score": found[0][1] if found else 0.0,
            "unit": unit,
        }
    return out


def _fits_unit(unit: str, indicator) -> bool:
    """Whether a value written in `unit` converts to the indicator's catalog unit."""
    return conversion_factor(unit, indicator.unit, indicator.display_unit, indicator.scale) is not None


def guess_years(grid: Grid, header_rows: Sequence[int]) -> str:
    """The wizard's first guess of where a sheet's year is (a `YEAR_MODES` key): header cells
    that are years → "across"; a year in the title → "title"; a header named 年份/年度 → "column";
    else one year for the sheet ("year")."""
    cells = header_cells(grid, header_rows)
    if sum(year_cell(text.split(" / ")[-1]) is not None for text in cells.values()) >= 2:
        return "across"
    if title_year(title_texts(grid, max(min(header_rows) - grid.first_row, 0))) is not None:
        return "title"
    if any(label_key(text.split(" / ")[-1]) in ("年份", "年度", "年") for text in cells.values()):
        return "column"
    return "year"


# ---------------------------------------------------------------- validation and YAML


def _is_letter(value: object) -> bool:
    return isinstance(value, str) and bool(_LETTERS.match(value)) and column_index(value) < MAX_COLS


def _is_row(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROWS


def name_problem(name: object) -> str | None:
    """Why a recipe name cannot be a file name, in Chinese; None when it can."""
    if not isinstance(name, str) or not name.strip():
        return "配方名称不能为空。"
    if len(name) > MAX_RECIPE_NAME_CHARS:
        return f"配方名称不能超过{MAX_RECIPE_NAME_CHARS}个字符。"
    if _UNSAFE_NAME.search(name) or name != name.strip() or name.startswith(".") or not name.isprintable():
        return f'配方名称“{name}”含有不能用于文件名的字符（\\ / : * ? " < > | 、开头的“.”或首尾空格）。'
    return None


def _code_text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else None


def validate(data: object, catalog: Catalog, registry: Registry) -> list[str]:
    """Every problem of a recipe document (the parsed YAML), in Chinese; [] when it is valid."""
    if not isinstance(data, dict):
        return ["导入配方应为键值对（name、header_rows、regions、years、indicators 等）。"]
    problems = []
    unknown = [str(k) for k in data if k not in _KEYS]
    if unknown:
        problems.append(f"不认识的项：{'、'.join(unknown)}（可用的项：{'、'.join(sorted(_KEYS))}）。")
    missing = [k for k in _REQUIRED if data.get(k) in (None, "", [], {})]
    if missing:
        problems.append(f"缺少必填项：{'、'.join(missing)}。")
    if "name" in data and (p := name_problem(data["name"])):
        problems.append(p)
    for key in ("author", "created", "signature"):
        if data.get(key) is not None and not isinstance(data[key], (str, dt.datetime, dt.date)):
            problems.append(f"{key} 应为文字。")
    header = data.get("header_rows")
    if isinstance(header, int) and not isinstance(header, bool):
        header = [header]
    if header is not None:
        if not isinstance(header, list) or not header or not all(map(_is_row, header)):
            problems.append("header_rows 应为表头所在的行号（从1起的整数，可写多行，如 [3, 4]）。")
            header = None
        elif header != sorted(set(header)):
            problems.append("header_rows 的行号应从小到大排列且不重复。")
        elif len(header) > _MAX_HEADER_ROWS:
            problems.append(f"表头最多{_MAX_HEADER_ROWS}行。")
    first = data.get("first_data_row")
    if first is not None:
        if not _is_row(first):
            problems.append("first_data_row 应为数据开始的行号（从1起的整数）。")
        elif header and first <= max(header):
            problems.append(f"数据开始的行（第{first}行）应在表头（第{max(header)}行）之下。")
    used: dict[str, str] = {}
    regions = data.get("regions")
    if regions is not None:
        if not isinstance(regions, dict) or len(regions) != 1 or not regions.keys() <= {"column", "code"}:
            problems.append(
                "regions 应为 {column: 地区所在列的字母} 或 {code: 整表所属地区的6位区划代码} 之一。"
            )
        elif "column" in regions:
            if not _is_letter(regions["column"]):
                problems.append(f"regions 的列“{regions['column']}”不是有效的列字母（如 A）。")
            else:
                used[regions["column"]] = "地区"
        else:
            code = _code_text(regions["code"])
            res = registry.resolve_code(code) if code else None
            if res is None or res.status not in ("ok", "alias"):
                problems.append(f"区划代码“{regions['code']}”不在全国区划代码表中。")
    years = data.get("years")
    if years is not None:
        if not isinstance(years, dict) or len(years) != 1 or not years.keys() <= set(YEAR_MODES):
            problems.append(
                "years 应为 {column: 年份所在列的字母}、{year: 整表的年份}、{title: true}（年份写在标题中）"
                "或 {across: true}（各数值列的表头是年份）之一。"
            )
        else:
            (mode, value), latest = next(iter(years.items())), dt.date.today().year + 1
            if mode == "column":
                if not _is_letter(value):
                    problems.append(f"years 的列“{value}”不是有效的列字母（如 B）。")
                elif value in used:
                    problems.append(f"{value}列不能既是{used[value]}列又是年份列。")
                else:
                    used[value] = "年份"
            elif mode == "year":
                if not (isinstance(value, int) and not isinstance(value, bool) and 1949 <= value <= latest):
                    problems.append(f"年份“{value}”无效，应为1949—{latest}之间的4位年份。")
            elif value is not True:
                problems.append(f"years 的 {mode} 只能写 true。")
    indicators = data.get("indicators")
    if indicators is not None:
        if not isinstance(indicators, dict) or not indicators:
            problems.append("indicators 应为 {列字母: {id: 指标代码, unit: 单位}}，至少一列。")
        else:
            for letter, spec in indicators.items():
                problems += _indicator_problems(letter, spec, used, catalog)
    skip = data.get("skip_rows")
    if skip is not None and (not isinstance(skip, list) or not all(map(_is_row, skip))):
        problems.append("skip_rows 应为要跳过的行号列表（从1起的整数）。")
    elif skip and _is_row(first) and min(skip) < first:
        problems.append(f"skip_rows 中的行应在数据开始的行（第{first}行）之下。")
    return problems


def _indicator_problems(letter: object, spec: object, used: dict[str, str], catalog: Catalog) -> list[str]:
    if not _is_letter(letter):
        return [f"indicators 的列“{letter}”不是有效的列字母（如 C）。"]
    if letter in used:
        return [f"{letter}列不能既是{used[letter]}列又是数值列。"]
    used[letter] = "数值"
    if not isinstance(spec, dict) or "id" not in spec or not spec.keys() <= {"id", "unit"}:
        return [f"{letter}列应写为 {{id: 指标代码, unit: 单位}}（unit 可省略）。"]
    ind_id, unit = spec["id"], spec.get("unit")
    if not isinstance(ind_id, str) or ind_id not in catalog.indicators:
        hint = catalog.suggest(str(ind_id))
        return [
            f"{letter}列的指标“{ind_id}”不在指标目录中"
            + (f"（是否为：{'、'.join(hint)}？）" if hint else "（请使用指标说明页中的指标代码）")
            + "。"
        ]
    if unit is None:
        return []
    ind = catalog.get(ind_id)
    if not isinstance(unit, str) or not unit.strip():
        return [f"{letter}列的单位应为文字，如“{ind.unit}”，或省略。"]
    if conversion_factor(unit, ind.unit, ind.display_unit, ind.scale if ind.is_ratio else None) is None:
        return [f"{letter}列的单位“{unit}”无法换算为“{ind.name_zh}”的单位“{ind.unit}”。"]
    return []


def _text(value: object) -> str:
    if isinstance(value, (dt.datetime, dt.date)):  # an unquoted ISO time in hand-written YAML
        return value.isoformat()
    return "" if value is None else str(value)


def recipe_from_data(data: dict, catalog: Catalog | None = None, registry: Registry | None = None) -> Recipe:
    """A Recipe from a parsed document; raises RecipeError listing every problem."""
    catalog, registry = _references(catalog, registry)
    problems = validate(data, catalog, registry)
    if problems:
        raise RecipeError("\n".join(problems))
    header = data["header_rows"]
    (mode, value), regions = next(iter(data["years"].items())), data["regions"]
    return Recipe(
        name=data["name"],
        signature=_text(data["signature"]),
        header_rows=tuple(header) if isinstance(header, list) else (header,),
        first_data_row=data["first_data_row"],
        indicators=tuple(
            ColumnMap(letter, spec["id"], None if spec.get("unit") is None else spec["unit"].strip())
            for letter, spec in data["indicators"].items()
        ),
        region_column=regions.get("column"),
        region_code=_code_text(regions["code"]) if "code" in regions else None,
        year_mode=mode,
        year_column=value if mode == "column" else None,
        year=value if mode == "year" else None,
        skip_rows=tuple(sorted(set(data.get("skip_rows") or ()))),
        author=_text(data.get("author")),
        created=_text(data.get("created")),
    )


def recipe_to_data(recipe: Recipe) -> dict:
    """The document of a recipe (what `to_yaml` writes)."""
    data: dict = {"name": recipe.name, "author": recipe.author, "created": recipe.created}
    data["signature"] = recipe.signature
    data["header_rows"] = list(recipe.header_rows)
    data["first_data_row"] = recipe.first_data_row
    data["regions"] = (
        {"column": recipe.region_column} if recipe.region_column is not None else {"code": recipe.region_code}
    )
    data["years"] = {
        "column": {"column": recipe.year_column},
        "year": {"year": recipe.year},
        "title": {"title": True},
        "across": {"across": True},
    }[recipe.year_mode]
    data["indicators"] = {
        m.column: ({"id": m.indicator} | ({"unit": m.unit} if m.unit is not None else {}))
        for m in recipe.indicators
    }
    if recipe.skip_rows:
        data["skip_rows"] = list(recipe.skip_rows)
    return data


def to_yaml(recipe: Recipe) -> str:
    return yaml.safe_dump(
        recipe_to_data(recipe), allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000
    )


def recipe_from_yaml(text: str, catalog: Catalog | None = None, registry: Registry | None = None) -> Recipe:
    """Parse (yaml.safe_load only) and validate a recipe; raises RecipeError in Chinese."""
    if len(text.encode("utf-8")) > MAX_RECIPE_BYTES:
        raise RecipeError(f"导入配方文件超过{MAX_RECIPE_BYTES:,}字节，不予读取。")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第{mark.line + 1}行）" if mark is not None else ""
        raise RecipeError(f"导入配方不是有效的 YAML{where}。") from exc
    return recipe_from_data(data, catalog, registry)


def _references(catalog: Catalog | None, registry: Registry | None) -> tuple[Catalog, Registry]:
    if catalog is None:
        from .catalog import load_catalog

        catalog = load_catalog()
    if registry is None:
        from .regions import load_registry

        registry = load_registry()
    return catalog, registry


# ---------------------------------------------------------------- the recipes folder


def recipes_dir(base: Path) -> Path:
    return Path(base) / RECIPES_DIR


def _path(base: Path, name: str) -> Path:
    problem = name_problem(name)
    if problem:
        raise RecipeError(problem)
    return recipes_dir(base) / (name + SUFFIX)


def load_recipes(base: Path) -> tuple[list[Recipe], list[Issue]]:
    """The recipes saved under `<base>/recipes/`, sorted by name, and problems reading them: a file
    that is too large, not UTF-8, not valid YAML or not a valid recipe (unknown indicator id or
    region code, bad column letters, rows out of order, missing or unknown keys), whose name is not
    its file name, or that reads the same header as an earlier one, is an error naming the file and
    is left out."""
    folder = recipes_dir(base)
    if not folder.is_dir():
        return [], []
    catalog, registry = _references(None, None)
    recipes: list[Recipe] = []
    issues: list[Issue] = []
    seen: dict[tuple[tuple[int, ...], str], str] = {}
    for path in sorted(folder.glob("*" + SUFFIX)):
        if path.name.startswith(".") or not path.is_file():
            continue

        def refuse(message: str, where: str = f"{RECIPES_DIR}/{path.name}") -> None:
            issues.append(
                error(
                    "recipe_invalid",
                    message,
                    file=where,
                    suggestion="请在“数据管理”的“导入向导”中重新建立该导入配方，或改正、删除该文件"
                    "（python -m etl recipes --delete 名称）。",
                )
            )

        try:
            if path.stat().st_size > MAX_RECIPE_BYTES:
                refuse(f"导入配方文件超过{MAX_RECIPE_BYTES:,}字节，不予读取。")
                continue
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            refuse("导入配方文件不是 UTF-8 编码的文字。")
            continue
        except OSError as exc:
            refuse(f"导入配方文件无法读取：{exc.strerror or exc}。")
            continue
        try:
            recipe = recipe_from_yaml(text, catalog, registry)
        except RecipeError as exc:
            for line in str(exc).splitlines():
                refuse(line)
            continue
        if recipe.name != path.stem:
            refuse(f"配方名称“{recipe.name}”与文件名“{path.stem}”不一致。")
            continue
        key = (recipe.header_rows, recipe.signature)
        if key in seen:
            refuse(f"导入配方“{recipe.name}”与“{seen[key]}”的表头相同，同一种表只能有一个导入配方。")
            continue
        seen[key] = recipe.name
        recipes.append(recipe)
    return recipes, issues


def fingerprint(recipes: Sequence[Recipe]) -> str:
    """A stable hash of the recipes' content: a changed recipe reads files differently."""
    return hashlib.sha256("\0".join(sorted(map(to_yaml, recipes))).encode("utf-8")).hexdigest()


def save_recipe(
    base: Path,
    recipe: Recipe,
    replace: bool = False,
    catalog: Catalog | None = None,
    registry: Registry | None = None,
) -> Path:
    """Validate and write `<base>/recipes/<name>.yaml` atomically (a temporary file renamed into
    place: a reader never sees half a recipe). Refuses (RecipeError) an invalid recipe, an existing
    name unless `replace`, and a recipe for a header another recipe already reads."""
    text = to_yaml(recipe)
    recipe_from_yaml(text, catalog, registry)  # the same checks as reading it back
    path = _path(base, recipe.name)
    existing, _ = load_recipes(base)
    twin = next(
        (
            r
            for r in existing
            if r.name != recipe.name
            and (r.header_rows, r.signature) == (recipe.header_rows, recipe.signature)
        ),
        None,
    )
    if twin is not None:
        raise RecipeError(f"已有导入配方“{twin.name}”读取同样表头的表，请修改或删除它，而不是再建一个。")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails when the name exists, even if another writer just made it
            except FileExistsError:
                raise RecipeError(
                    f"已有名为“{recipe.name}”的导入配方；如要替换，请先确认替换（或换一个名称）。"
                ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def delete_recipe(base: Path, name: str) -> Path:
    """Remove `<base>/recipes/<name>.yaml`; RecipeError when there is no such recipe."""
    path = _path(base, name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise RecipeError(f"没有名为“{name}”的导入配方。") from None
    return path


def recipe_text(base: Path, name: str) -> str:
    """The file of a recipe as saved (also one that does not validate, so it can be fixed)."""
    path = _path(base, name)
    try:
        if path.stat().st_size > MAX_RECIPE_BYTES:
            raise RecipeError(f"导入配方文件超过{MAX_RECIPE_BYTES:,}字节，不予显示。")
        return path.read_bytes().decode("utf-8-sig", errors="replace")
    except FileNotFoundError:
        raise RecipeError(f"没有名为“{name}”的导入配方。") from None


def new_recipe(**fields) -> Recipe:
    """A Recipe with `created` set to now (ISO, local time with offset) unless given."""
    fields.setdefault("created", dt.datetime.now().astimezone().isoformat(timespec="seconds"))
    return Recipe(**fields)
