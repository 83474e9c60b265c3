"""Statistical-yearbook tables (统计年鉴, 民政厅 publications): regions down the side, indicators across.

These tables are laid out for print, not for machines: the year sits in the title
("（2019年）"), the unit in the header's parentheses next to an English line, group headers are
merged over their sub-columns, "-" / "…" mean no data and notes follow the table. Reading them as
published spares the clerk from retyping figures the statistics bureau has already checked.
A second layout ("wide years") has one column per year and names its single indicator in the
title or the top-left header cell.
"""
from __future__ import annotations

import re
import unicodedata

import pandas as pd

from ..issues import Issue, error
from ..sources import Grid
from ..text import chinese_line, has_cjk, is_no_data, normalize, split_unit, stated_unit
from . import raw_frame
from .long_table import HEADERS, title_year

REGION_HEADERS = HEADERS["region"] | {"区域", "单位", "地区别", "region", "area"}
# Columns that are neither data nor region names.
_IGNORED_HEADERS = {"序号", "编号", "备注", "说明"}
_TOTAL_SUBLABELS = {"合计", "小计", "总计", "计"}
_FOOTNOTE = re.compile(r"^(注|附注|备注|说明|资料来源|数据来源|note|notes|source)(\d|[:.,，、]|$)", re.I)
_YEAR_CELL = re.compile(r"^((?:19|20)\d\d)(?:\.0+)?(?:年|年度|年末)?$")
_UNIT_NOTE = re.compile(r"^(?:计量)?单位:(\S+)$")
_TITLE_YEARS = re.compile(r"\(?(?:19|20)\d\d(?:年)?(?:[-—–~至到](?:19|20)\d\d(?:年)?)?(?:度|末)?\)?")
_TITLE_NUMBER = re.compile(r"^表?[\dA-Za-z]*\d(?:[-—–.]\d+)*")
_TITLE_SCOPE = re.compile(r"^[各分][市县区地州盟旗、()]*")
_HEADER_ROWS_MAX = 5
_SCAN_ROWS = 15


def is_footnote(cell: object) -> bool:
    """Notes printed under a table ("注：…", "资料来源：…", "说明"): the table has ended."""
    return isinstance(cell, str) and bool(_FOOTNOTE.match(normalize(cell)))


def is_region_header(cell: object) -> bool:
    """"地 区", "地区\\nRegion", "地 区 Region", "Region" — the header of the region column."""
    text = normalize(chinese_line(cell)).lower()
    return text in REGION_HEADERS or re.sub(r"[a-z]+", "", text) in REGION_HEADERS


def _year_cell(cell: object) -> int | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return int(cell) if float(cell).is_integer() and 1949 <= cell <= 2100 else None
    m = _YEAR_CELL.match(normalize(cell)) if isinstance(cell, str) else None
    return int(m.group(1)) if m else None


def _is_number(cell: object) -> bool:
    return isinstance(cell, (int, float)) and not isinstance(cell, bool)


def first_filled(row: list) -> int | None:
    return next((j for j, c in enumerate(row) if c is not None), None)


def cell_at(row: list, j: int) -> object:
    return row[j] if j < len(row) else None


class _Layout:
    """Where the table is: header rows [top, bottom], the region column, and the data columns."""

    def __init__(self, grid: Grid, top: int, region_col: int):
        self.top = top
        self.region_col = region_col
        self.bottom = self._header_bottom(grid)
        self.header = self._filled_header(grid)
        self.columns, self.code_col = self._columns()

    def _header_bottom(self, grid: Grid) -> int:
        bottom = self.top
        for (r1, c1), (r2, c2) in grid.merged:
            i1, i2 = r1 - grid.first_row + 1, r2 - grid.first_row + 1
            j1, j2 = c1 - grid.first_col, c2 - grid.first_col
            if i1 <= self.top <= i2 and j1 <= self.region_col <= j2:
                bottom = max(bottom, min(i2, self.top + _HEADER_ROWS_MAX - 1))
        while bottom + 1 < len(grid.rows) and bottom - self.top + 1 < _HEADER_ROWS_MAX:
            row = grid.rows[bottom + 1]
            region = cell_at(row, self.region_col)
            if first_filled(row) is None or not (region is None or is_region_header(region)):
                break
            if any(_is_number(c) and _year_cell(c) is None for c in row):
                break
            bottom += 1
        return bottom

    def _filled_header(self, grid: Grid) -> list[list]:
        """Header rows with every merged range's value copied into all of its cells."""
        rows = grid.rows[self.top:self.bottom + 1]
        width = max(len(r) for r in rows)
        header = [list(r) + [None] * (width - len(r)) for r in rows]
        for (r1, c1), (r2, c2) in grid.merged:
            i1, i2 = r1 - grid.first_row + 1, r2 - grid.first_row + 1
            j1, j2 = c1 - grid.first_col, c2 - grid.first_col
            if i2 < self.top or i1 > self.bottom or not 0 <= i1 < len(grid.rows):
                continue
            value = cell_at(grid.rows[i1], j1)
            for i in range(max(i1, self.top), min(i2, self.bottom) + 1):
                for j in range(max(j1, 0), min(j2, width - 1) + 1):
                    header[i - self.top][j] = value
        return header

    def _columns(self) -> tuple[list[dict], int | None]:
        """Data columns {"j", "year" (int or None), "label", "unit"} and the region-code column, if any.

        Region, English-only, numbering and remark columns are not data.
        """
        out, code_col = [], None
        for j in range(self.region_col + 1, len(self.header[0])):
            parts: list[object] = []
            for row in self.header:
                if row[j] is not None and (not parts or row[j] != parts[-1]):
                    parts.append(row[j])
            if any(is_region_header(p) for p in parts):
                continue
            years = [y for y in map(_year_cell, parts) if y is not None]
            label, unit = _combine([p for p in parts if _year_cell(p) is None and has_cjk(p)])
            if label in HEADERS["code"]:
                code_col = j if code_col is None else code_col
            elif years or (label and label not in _IGNORED_HEADERS):
                out.append({"j": j, "year": years[0] if years else None, "label": label, "unit": unit})
        return out, code_col


def _combine(parts: list[object]) -> tuple[str, str | None]:
    """Group + sub header → one label: "城市低保" over "人数(万人)" → ("城市低保人数", "万人")."""
    label, unit = "", None
    for part in parts:
        sub, sub_unit = split_unit(part)
        unit = sub_unit or unit
        if not label or sub.startswith(label):
            label = sub
        elif sub not in _TOTAL_SUBLABELS:
            label += sub
    return label, unit


def _find_layout(grid: Grid) -> _Layout | None:
    for i, row in enumerate(grid.rows[:_SCAN_ROWS]):
        filled = [j for j, c in enumerate(row) if c is not None]
        if not filled or any(normalize(chinese_line(c)) in HEADERS["indicator"] for c in row):
            continue  # indicators down the side, or a long table: not this layout
        # "地区" may follow a "序号" column; a wide-year table may name its indicator top-left instead.
        region_col = next((j for j in filled[:2] if is_region_header(row[j])), None)
        if region_col is None and sum(_year_cell(c) is not None for c in row[filled[0] + 1:]) >= 2:
            region_col = filled[0] if _year_cell(row[filled[0]]) is None else (0 if filled[0] > 0 else None)
        if region_col is None:
            continue
        layout = _Layout(grid, i, region_col)
        if layout.columns:
            return layout
    return None


def detect(grid: Grid) -> bool:
    return _find_layout(grid) is not None


def _title_texts(grid: Grid, top: int) -> list[str]:
    return [c for row in grid.rows[:top] for c in row if isinstance(c, str) and c.strip()]


def _title_indicator(texts: list[str]) -> tuple[str, str | None]:
    """The indicator a wide-year table names in its title: "表5 2016—2020年各县（区）城市低保人数（人）"."""
    for text in texts:
        s = unicodedata.normalize("NFKC", chinese_line(text)).replace(" ", "")
        if not has_cjk(s) or _UNIT_NOTE.match(s):
            continue
        s = _TITLE_YEARS.sub("", s)
        s = _TITLE_SCOPE.sub("", _TITLE_NUMBER.sub("", s))
        label, unit = split_unit(s)
        if unit and unit.startswith("单位:"):
            unit = unit[len("单位:"):] or None
        if label:
            return label, unit
    return "", None


def read(grid: Grid) -> tuple[pd.DataFrame, list[Issue]]:
    layout = _find_layout(grid)
    if layout is None:
        return raw_frame([]), [error("no_header", "找不到统计年鉴表的表头（第一列应为“地区”）。", **grid.where())]
    issues: list[Issue] = []
    titles = _title_texts(grid, layout.top)
    sheet_unit = stated_unit(titles)  # applies to columns whose header names no unit
    year = title_year(titles)
    wide_label, wide_unit = _wide_indicator(grid, layout, titles)

    columns = []
    for col in layout.columns:
        if col["year"] is not None:
            label, unit = (col["label"], col["unit"]) if col["label"] else (wide_label, wide_unit)
            if not label:
                issues.append(error("no_header", f"年份列“{col['year']}”没有指标名称：标题和表头左上角都没有写明指标。",
                                    **grid.where(layout.top, col["j"]),
                                    suggestion="请在标题中写明指标和单位，例如“城市低保人数（人）”。"))
                return raw_frame([]), issues
            columns.append((col["j"], col["year"], label, unit or sheet_unit))
        elif year is not None:
            columns.append((col["j"], year, col["label"], col["unit"] or sheet_unit))
    if len(columns) < len(layout.columns):
        issues.append(error("year_missing", f"表头（第{grid.excel_row(layout.top)}行）上方的标题中找不到年份。",
                            **grid.where(layout.top),
                            suggestion="请在标题中写明年份，例如“（2019年）”，或改用带“年份”列的长表。"))
        return raw_frame([]), issues

    records = []
    for i in range(layout.bottom + 1, len(grid.rows)):
        row = grid.rows[i]
        first = first_filled(row)
        if first is None:
            continue
        if is_footnote(row[first]):
            break
        region = cell_at(row, layout.region_col)
        if is_region_header(region):  # the header repeated on a continuation page
            continue
        for j, col_year, label, unit in columns:
            value = cell_at(row, j)
            if is_no_data(value):
                continue
            records.append({"sheet": grid.sheet, "row": grid.excel_row(i), "column": grid.excel_col(j),
                            "region": region, "year": col_year,
                            "region_code": None if layout.code_col is None else cell_at(row, layout.code_col),
                            "indicator": label, "context": "", "header_unit": unit, "value": value})
    return raw_frame(records), issues


def _wide_indicator(grid: Grid, layout: _Layout, titles: list[str]) -> tuple[str, str | None]:
    """For year columns without their own label: the top-left header cell, else the title."""
    corner = grid.rows[layout.top][layout.region_col]
    if corner is not None and not is_region_header(corner) and has_cjk(corner):
        return split_unit(corner)
    return _title_indicator(titles)
