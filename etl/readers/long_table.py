"""Long tables: one observation per row, with columns for region (or code), year, indicator, value, unit.

This is the shape machines exchange (database exports, the national benchmark's CSV of
~900,000 rows), so it is read column-wise: a plain CSV arrives as columns (`sources.TableGrid`),
other grids are sliced into a few Python lists once, and row numbers are computed with numpy,
never a dict per row.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from ..issues import Issue, error
from ..sources import Grid, TableGrid
from ..text import chinese_line, normalize, split_unit, stated_unit
from ..units import clean_unit
from . import RAW_COLUMNS, as_objects

HEADERS = {
    role: {normalize(s) for s in spellings}
    for role, spellings in {
        "region": ["地区", "地区名称", "区县", "县区", "行政区划", "单位名称", "地区（或代码）"],
        "code": ["代码", "区划代码", "地区代码", "行政区划代码"],
        "year": ["年份", "年度", "年"],
        "indicator": ["指标", "指标名称", "项目"],
        "value": ["数值", "数量", "值", "数据"],
        "unit": ["单位", "计量单位"],
    }.items()
}
_ROLE = {spelling: role for role, spellings in HEADERS.items() for spelling in spellings}
_SCAN_ROWS = 10
_CODE = r"\d{6}(?:\d{6})?(?:\.0+)?"  # a region code typed into the region column
_YEAR_WORD = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年(?![代鉴])")
_YEAR_PARENS = re.compile(r"[(]\s*((?:19|20)\d\d)\s*[)]")
_YEAR_RANGE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-—–~至到]\s*((?:19|20)\d\d)(?!\d)")


def title_year(texts: list[object]) -> int | None:
    """The one year named in title text ("…（2019年）", "(2019)"); None when absent or ambiguous.

    "2016—2020年" names two years, so it gives None; "统计年鉴2020" is a publication, not a year.
    """
    years: set[int] = set()
    for text in texts:
        if not isinstance(text, str):
            continue
        s = unicodedata.normalize("NFKC", text)
        for m in _YEAR_RANGE.finditer(s):
            years.update({int(m.group(1)), int(m.group(2))})
        years.update(int(m.group(1)) for m in _YEAR_WORD.finditer(s))
        years.update(int(m.group(1)) for m in _YEAR_PARENS.finditer(s))
    return years.pop() if len(years) == 1 else None


def _header(grid: Grid) -> tuple[int, dict[str, int], dict[str, str]] | None:
    """(header row index, {role: column index}, {role: unit named in its header}) — the value or
    indicator header may carry the unit of every row: "数值(万人)", "指标（万人）"."""
    for i, row in enumerate(grid.rows[:_SCAN_ROWS]):
        roles: dict[str, int] = {}
        units: dict[str, str] = {}
        for j, cell in enumerate(row):
            if cell is None:
                continue
            role = _ROLE.get(normalize(chinese_line(cell)))
            if role is None:
                label, unit = split_unit(cell)
                role = _ROLE.get(label)
                if role in ("value", "indicator") and unit:
                    units.setdefault(role, unit)
            if role is not None:
                roles.setdefault(role, j)
        if {"indicator", "value"} <= roles.keys() and roles.keys() & {"region", "code"}:
            return i, roles, units
    return None


def detect(grid: Grid) -> bool:
    return _header(grid) is not None


def read(grid: Grid) -> tuple[pd.DataFrame, list[Issue]]:
    found = _header(grid)
    if found is None:
        return _frame({}, 0), [
            error("no_header", "找不到长表表头（地区/年份/指标/数值/单位）。", **grid.where())
        ]
    top, roles, header_units = found
    titles = [c for row in grid.rows[:top] for c in row if isinstance(c, str)]
    header_unit, problem = _header_unit(grid, top, roles, header_units, stated_unit(titles))
    if problem is not None:
        return _frame({}, 0), [problem]
    year = None
    if "year" not in roles:
        year = title_year(titles)
        if year is None:
            return _frame({}, 0), [
                error(
                    "year_missing",
                    f"表头（第{grid.excel_row(top)}行）没有“年份”列，标题中也没有写明年份。",
                    **grid.where(top),
                    suggestion="请增加“年份”列并填写4位年份（例如 2023），或在表头上方的标题中写明“2023年”。",
                )
            ]

    # Whole columns under the header (a CSV held column-wise hands them over without row lists).
    cols = {role: _column(grid, j, top + 1) for role, j in roles.items()}
    # Blank rows and notes under the table carry neither an indicator nor a value.
    keep = (cols["indicator"].notna() | cols["value"].notna()).to_numpy()
    if not keep.all():
        cols = {role: s[keep].reset_index(drop=True) for role, s in cols.items()}
    n = int(keep.sum())

    region = cols["region"] if "region" in cols else np.full(n, None, dtype=object)
    if "code" in cols:
        code = cols["code"]
    else:  # "地区（或代码）": codes typed into the region column go to region_code
        region = as_objects(cols["region"]).to_numpy()
        is_code = (
            pd.Series(region, dtype=object).astype(str).str.fullmatch(_CODE, na=False).to_numpy(dtype=bool)
        )
        code = np.where(is_code, region, None)
        region = np.where(is_code, None, region)

    def const(value):
        if isinstance(value, str):  # one text on every row: a Categorical of it (resolve reads its code)
            return _one_text(value, n)
        return np.full(n, value, dtype=object)

    data = {
        "sheet": const(grid.sheet),
        "row": (np.flatnonzero(keep) + grid.excel_row(top + 1)).astype(object),
        "column": const(grid.excel_col(roles["value"])),
        "region": region,
        "region_code": code,
        "year": cols["year"] if "year" in cols else const(year),
        "indicator": cols["indicator"],
        "context": const(""),
        "unit": cols["unit"] if "unit" in cols else const(None),
        "header_unit": const(header_unit),
        "value": cols["value"],
    }
    return _frame(data, n), []


def _header_unit(
    grid: Grid, top: int, roles: dict[str, int], units: dict[str, str], title_unit: str | None
) -> tuple[str | None, Issue | None]:
    """The one unit the header and the title state for every row, or an error when they disagree.

    A unit column, where there is one, is checked against it row by row in resolve.py."""
    stated = [(f"表头“{grid.rows[top][roles[role]]}”", unit) for role, unit in units.items()]
    if title_unit:
        stated.append((f"标题中的“单位：{title_unit}”", title_unit))
    distinct = {clean_unit(unit) for _, unit in stated}
    if len(distinct) > 1:
        (where_a, a), (where_b, b) = (
            stated[0],
            next(s for s in stated if clean_unit(s[1]) != clean_unit(stated[0][1])),
        )
        return None, error(
            "unit_conflict",
            f"单位前后不一致：{where_a}写“{a}”，{where_b}写“{b}”。",
            **grid.where(top, roles[next(iter(units))] if units else None),
            suggestion="请只保留一处单位，或改为一致的单位。",
        )
    return (stated[0][1] if stated else None), None


def _column(grid: Grid, j: int, start: int) -> pd.Series:
    """Column j from row `start` down. A TableGrid's is a Categorical of its texts as written,
    made straight from the codes pyarrow found (no text is hashed again, and resolve.py works on
    these codes); any other grid's is an object Series of its cells (None for blanks)."""
    if isinstance(grid, TableGrid):
        texts, codes = grid.coded_column(j, start)
        dtype = pd.CategoricalDtype(pd.Index(texts, dtype=object))  # object: the very str objects
        return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype, validate=False), copy=False)
    return pd.Series(grid.column(j, start), dtype=object)


def _one_text(text: str, n: int) -> pd.Series:
    """`text` on each of n rows, as a Categorical: one category and a byte per row."""
    dtype = pd.CategoricalDtype(pd.Index([text], dtype=object))
    return pd.Series(
        pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), dtype=dtype, validate=False), copy=False
    )


def _frame(data: dict, n: int) -> pd.DataFrame:
    """The raw-observation frame, built column-wise (object dtype, None for missing; a column
    taken whole from a TableGrid, or one text on every row, is a Categorical of its texts: see
    `_column` and `_one_text`).

    Same contract as `readers.raw_frame`, which takes records; a dict per row would cost
    seconds at national scale. `copy=False` keeps one block per column: stacking them into one
    2-D object block (pandas' default) costs ~0.2 s at national scale and nothing needs it.
    """

    def column(c: str) -> pd.Series:
        values = data.get(c)
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            return values.reset_index(drop=True)
        values = np.asarray(values, dtype=object) if c in data else np.full(n, None, dtype=object)
        return pd.Series(values, dtype=object, copy=False)

    return pd.DataFrame({c: column(c) for c in RAW_COLUMNS}, columns=RAW_COLUMNS, copy=False)
