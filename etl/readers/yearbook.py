"""Statistical-yearbook tables (统计年鉴, 民政厅 publications) with a region column: regions down the side.

These tables are laid out for print, not for machines: the year sits in the title
("（2019年）"), the unit in the header's parentheses next to an English line, group headers are
merged over their sub-columns, "-" / "…" mean no data and notes follow the table. Reading them as
published spares the clerk from retyping figures the statistics bureau has already checked.
Two layouts:
- regions down × indicators across: the year from the title ("（2019年）"), from a 年份/年度
  column (one row per region and year), or from the column header ("2019年城市低保人数", a
  "2019年" group header merged over its indicator columns);
- regions down × years across ("wide years"): one indicator, named in the title (with its unit)
  or in the top-left header cell.
A "#"/"其中" column ("#女性" after "城市低保人数") is a breakdown of the column before it: its
label keeps the marker and `context` names that column (resolve.py decides what it means).

The header machinery (HeaderBlock, header_columns, body_rows, year_cell …) is shared with
series.py, which reads one region's tables (indicators × years, years × indicators).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from ..issues import Issue, error
from ..regions import load_registry
from ..sources import Grid
from ..text import chinese_line, has_cjk, is_no_data, normalize, split_unit, stated_unit
from . import raw_frame
from .long_table import HEADERS, title_year

REGION_HEADERS = HEADERS["region"] | {"区域", "单位", "地区别", "region", "area"}
ITEM_HEADERS = HEADERS["indicator"] | {"项目名称", "主要指标", "item", "items", "indicator", "indicators"}
YEAR_HEADERS = HEADERS["year"] | {"年别", "时间", "year", "years"}
UNIT_HEADERS = HEADERS["unit"] | {"unit", "units"}
# Columns that are neither data nor region names.
IGNORED_HEADERS = {"序号", "编号", "备注", "说明"}
_TOTAL_SUBLABELS = {"合计", "小计", "总计", "计"}
_FOOTNOTE = re.compile(r"^(注|附注|备注|说明|资料来源|数据来源|note|notes|source)(\d|[:.,，、]|$)", re.I)
_YEAR_CELL = re.compile(r"^((?:19|20)\d\d)(?:\.0+)?(?:年|年度|年末|年底)?$")
# A year written into a label: "2019年城市低保人数", "城市低保人数（2019年）".
_LEADING_YEAR = re.compile(r"^((?:19|20)\d\d)年(?:度|末|底)?(?=\S)")
_TRAILING_YEAR = re.compile(r"[(（]((?:19|20)\d\d)年?(?:度|末|底)?[)）]$")
_SUB_MARKER = re.compile(r"^([#＃]+|其中[:：]?)")
_UNIT_NOTE = re.compile(r"^(?:计量)?单位:(\S+)$")
_TITLE_YEARS = re.compile(r"\(?(?:19|20)\d\d(?:年)?(?:[-—–~至到](?:19|20)\d\d(?:年)?)?(?:度|末)?\)?")
_TITLE_NUMBER = re.compile(r"^表?[\dA-Za-z]*\d(?:[-—–.]\d+)*")
_TITLE_SCOPE = re.compile(r"^[各分][市县区地州盟旗、()]*")
_HEADER_ROWS_MAX = 5
_SCAN_ROWS = 15


# ---------------------------------------------------------------- cells (shared with series.py)


def is_footnote(cell: object) -> bool:
    """Notes printed under a table ("注：…", "资料来源：…", "说明"): the table has ended."""
    return isinstance(cell, str) and bool(_FOOTNOTE.match(normalize(cell)))


def header_is(cell: object, names: set[str]) -> bool:
    """Whether a header cell says one of `names`, with inner spaces and an English part ignored:
    "地 区", "地区\\nRegion", "地 区 Region", "Region" all say "地区"/"region"."""
    text = normalize(chinese_line(cell)).lower()
    return bool(text) and (text in names or re.sub(r"[a-z]+", "", text) in names)


def is_region_header(cell: object) -> bool:
    """ "地 区", "地区\\nRegion", "地 区 Region", "Region" — the header of the region column."""
    return header_is(cell, REGION_HEADERS)


def year_cell(cell: object) -> int | None:
    """The year a header or stub cell names: 2010, 2010.0 (Excel), "2010", "2010年", "2010年末"."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return int(cell) if float(cell).is_integer() and 1949 <= cell <= 2100 else None
    m = _YEAR_CELL.match(normalize(chinese_line(cell))) if isinstance(cell, str) else None
    return int(m.group(1)) if m else None


def split_year(cell: object) -> tuple[int | None, object]:
    """A year written into a label: "2019年城市低保人数（万人）" → (2019, "城市低保人数（万人）"),
    "城市低保人数（2019年）" → (2019, "城市低保人数"); otherwise (None, cell)."""
    if not isinstance(cell, str):
        return None, cell
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", chinese_line(cell)))
    m = _LEADING_YEAR.match(text) or _TRAILING_YEAR.search(text)
    if m is None:
        return None, cell
    return int(m.group(1)), text[: m.start()] + text[m.end() :]


def sub_marker(cell: object) -> str:
    """The "#" / "其中：" a breakdown row or column starts with, as written; "" when there is none."""
    text = re.sub(r"\s+", "", chinese_line(cell))
    m = _SUB_MARKER.match(text)
    return m.group(1) if m and len(text) > m.end() else ""


def first_filled(row: list) -> int | None:
    return next((j for j, c in enumerate(row) if c is not None), None)


def cell_at(row: list, j: int | None) -> object:
    return row[j] if j is not None and 0 <= j < len(row) else None


def title_texts(grid: Grid, top: int) -> list[str]:
    """The text above a table's header: table number, title, English subtitle, "单位：万人" line."""
    return [c for row in grid.rows[:top] for c in row if isinstance(c, str) and c.strip()]


def year_value(cell: object) -> object:
    """A year cell as a year when it is one, else as written (resolve.py says why it is not)."""
    year = year_cell(cell)
    return cell if year is None else year


# ---------------------------------------------------------------- header block (shared with series.py)


class HeaderBlock:
    """A printed table's header: rows [top, bottom] with every merged value copied into the cells it
    covers. `stub_col` holds the row labels (regions, items or years); the header goes on down
    while that column is blank or repeats a header word (an English line under a Chinese one)."""

    def __init__(self, grid: Grid, top: int, stub_col: int, is_stub_header: Callable[[object], bool]):
        self.top = top
        self.stub_col = stub_col
        self.is_stub_header = is_stub_header
        self.bottom = self._bottom(grid)
        self.rows = self._filled(grid)

    @property
    def width(self) -> int:
        return len(self.rows[0])

    def parts(self, j: int) -> list[object]:
        """Column j's header cells, top to bottom, a merged group header once."""
        parts: list[object] = []
        for row in self.rows:
            if row[j] is not None and (not parts or row[j] != parts[-1]):
                parts.append(row[j])
        return parts

    def _bottom(self, grid: Grid) -> int:
        bottom = self.top
        for (r1, c1), (r2, c2) in grid.merged:
            i1, i2 = r1 - grid.first_row + 1, r2 - grid.first_row + 1
            j1, j2 = c1 - grid.first_col, c2 - grid.first_col
            if i1 <= self.top <= i2 and j1 <= self.stub_col <= j2:
                bottom = max(bottom, min(i2, self.top + _HEADER_ROWS_MAX - 1))
        while bottom + 1 < len(grid.rows) and bottom - self.top + 1 < _HEADER_ROWS_MAX:
            row = grid.rows[bottom + 1]
            stub = cell_at(row, self.stub_col)
            if first_filled(row) is None or not (stub is None or self.is_stub_header(stub)):
                break
            if any(_is_number(c) and year_cell(c) is None for c in row) or is_footnote(
                row[first_filled(row)]
            ):
                break
            bottom += 1
        return bottom

    def _filled(self, grid: Grid) -> list[list]:
        rows = grid.rows[self.top : self.bottom + 1]
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


def _is_number(cell: object) -> bool:
    return isinstance(cell, (int, float)) and not isinstance(cell, bool)


@dataclass
class Column:
    """One column of a printed table, as its header describes it.

    `role` is "data", or what else the column holds: "code" (区划代码), "year" (年份), "unit" (单位).
    A data column names a year ("2019", a "2019年" group, "2019年城市低保人数"), an indicator label
    (unit removed), or both. `context` is the group header a label stands under ("城乡低保"), or
    for a breakdown ("#女性") the label of the column it breaks down.
    """

    j: int
    role: str
    year: int | None = None
    label: str = ""
    unit: str | None = None
    context: str = ""


def header_label(parts: list[object]) -> tuple[int | None, str, str | None, str]:
    """Group and sub headers → (year, label, unit, context).

    A sub header shorter than its group completes the group's label: "城市低保" over "人数(万人)" →
    "城市低保人数" in 万人. A longer one names an indicator of its own, under the group as context:
    "城乡低保" over "城市低保人数" → "城市低保人数", context "城乡低保". A year ("2019年" over
    "城市低保人数", "2019年城市低保人数") goes to `year`; "#女性" stays a label of its own. English
    lines are ignored."""
    year, label, unit, context = None, "", None, ""
    for part in (line for cell in parts for line in _lines(cell)):
        found = year_cell(part)
        if found is None:
            found, part = split_year(part)
        else:
            part = None
        year = found if year is None else year
        if not has_cjk(part):
            continue
        note = _UNIT_NOTE.match(normalize(part))
        if note:  # "单位：张" written in the header cell
            unit = note.group(1)
            continue
        sub, sub_unit = split_unit(part)
        if sub_unit and sub_unit.startswith("单位:"):  # "养老床位数（单位：张）"
            sub_unit = sub_unit[len("单位:") :] or None
        unit = sub_unit or unit
        marker = sub_marker(part)
        if not sub:
            continue
        if marker:
            label = marker + sub  # a breakdown is its own label, not a part of its group's
        elif not label or sub.startswith(label):
            label = sub
        elif len(sub) > len(label):
            label, context = sub, label
        elif sub not in _TOTAL_SUBLABELS:
            label += sub
    if year is not None and label in YEAR_HEADERS:
        label = ""  # a "年份" group header over the year columns
    return year, label, unit, context


def _lines(part: object) -> list[object]:
    """A header cell as parts: its Chinese lines joined into one (a long label wraps: "城镇居民最低\n
    生活保障人数(万人)", "养老床位数\n(张)"), a "单位：张" line apart; English lines dropped."""
    if not isinstance(part, str) or "\n" not in part.strip():
        return [part]
    lines = [ln.strip() for ln in part.splitlines() if has_cjk(ln)]
    notes = [ln for ln in lines if _UNIT_NOTE.match(normalize(ln))]
    return ["".join(ln for ln in lines if ln not in notes)] + notes


def label_text(cell: object) -> object:
    """A label cell with its wrapped Chinese lines joined ("城镇居民最低\n生活保障人数(万人)")."""
    return _lines(cell)[0]


def header_columns(block: HeaderBlock, skip: Callable[[object], bool]) -> list[Column]:
    """The columns of a header block: data columns right of the stub column, and code / year / unit
    columns anywhere. Columns under a header that `skip`s and names no year (another stub-like
    column, e.g. an English "Region" column under a merged "地区"; not the years under a merged
    "年份"), English-only, numbering and remark columns are left out."""
    out: list[Column] = []
    parent: Column | None = None
    for j in range(block.width):
        parts = block.parts(j)
        if j == block.stub_col or not parts:
            continue
        year, label, unit, context = header_label(parts)
        if year is None and any(skip(p) for p in parts):
            continue
        role = (
            "code"
            if label in HEADERS["code"]
            else "year"
            if label in YEAR_HEADERS and year is None
            else "unit"
            if label in UNIT_HEADERS and year is None
            else "data"
        )
        if role == "data":
            if j < block.stub_col or label in IGNORED_HEADERS or not (year is not None or label):
                continue
            column = Column(j, role, year, label, unit, context)
            if sub_marker(label) and parent is not None:  # "#女性" breaks down the column before it
                column.context, column.unit = parent.label, unit or parent.unit
            elif label:
                parent = column
        else:
            column = Column(j, role)
        out.append(column)
    return out


def body_rows(grid: Grid, block: HeaderBlock) -> Iterator[tuple[int, list]]:
    """(index, row) of the table under a header block: blank rows and a header repeated on a
    continuation page skipped; the first note ("注：", "资料来源：") ends the table."""
    for i in range(block.bottom + 1, len(grid.rows)):
        row = grid.rows[i]
        first = first_filled(row)
        if first is None:
            continue
        if is_footnote(row[first]):
            return
        if block.is_stub_header(cell_at(row, block.stub_col)):
            continue
        yield i, row


# ---------------------------------------------------------------- regions down the side


@dataclass
class _Layout:
    block: HeaderBlock
    columns: list[Column]

    @property
    def top(self) -> int:
        return self.block.top

    @property
    def region_col(self) -> int:
        return self.block.stub_col

    @property
    def data(self) -> list[Column]:
        return [c for c in self.columns if c.role == "data"]

    def role_col(self, role: str) -> int | None:
        return next((c.j for c in self.columns if c.role == role), None)


def _find_layout(grid: Grid) -> _Layout | None:
    for i, row in enumerate(grid.rows[:_SCAN_ROWS]):
        filled = [j for j, c in enumerate(row) if c is not None]
        if not filled or any(normalize(chinese_line(c)) in HEADERS["indicator"] for c in row):
            continue  # indicators down the side (series.py), or a long table: not this layout
        # "地区" may follow a "序号" column; a wide-year table may name its indicator top-left instead.
        region_col = next((j for j in filled[:2] if is_region_header(row[j])), None)
        if region_col is None and sum(year_cell(c) is not None for c in row[filled[0] + 1 :]) >= 2:
            region_col = filled[0] if year_cell(row[filled[0]]) is None else (0 if filled[0] > 0 else None)
        if region_col is None:
            continue
        block = HeaderBlock(grid, i, region_col, is_region_header)
        layout = _Layout(block, header_columns(block, is_region_header))
        if layout.data:
            return layout
    return None


def detect(grid: Grid) -> bool:
    return _find_layout(grid) is not None


def _title_indicator(texts: list[str]) -> tuple[str, str | None]:
    """The indicator a wide-year table names in its title: "表5 2016—2020年各县（区）城市低保人数（人）",
    "2018—2022年宝鸡市各县区城市低保人数（单位：人）"."""
    for text in texts:
        s = unicodedata.normalize("NFKC", chinese_line(text))
        if not has_cjk(s) or _UNIT_NOTE.match(s.replace(" ", "")):
            continue
        # Years first, while spaces still separate them from a table number ("表20 2019—2021年…").
        s = _TITLE_NUMBER.sub("", _TITLE_YEARS.sub("", s).strip()).replace(" ", "")
        place = load_registry().leading_name(s)  # "宝鸡市各县区城市低保人数": the place is not the indicator
        s = _TITLE_SCOPE.sub("", s[len(place) :] if place and s.startswith(place) else s)
        label, unit = split_unit(s)
        if unit and unit.startswith("单位:"):
            unit = unit[len("单位:") :] or None
        if label:
            return label, unit
    return "", None


def read(grid: Grid) -> tuple[pd.DataFrame, list[Issue]]:
    layout = _find_layout(grid)
    if layout is None:
        return raw_frame([]), [
            error("no_header", "找不到统计年鉴表的表头（第一列应为“地区”）。", **grid.where())
        ]
    titles = title_texts(grid, layout.top)
    sheet_unit = stated_unit(titles)  # applies to columns whose header names no unit
    year = title_year(titles)
    year_col, code_col = layout.role_col("year"), layout.role_col("code")
    wide_label, wide_unit = _wide_indicator(grid, layout, titles)

    columns = []  # (j, the header's year or None, label, context, header unit)
    for col in layout.data:
        if col.label:
            if col.year is not None or year_col is not None or year is not None:
                columns.append((col.j, col.year, col.label, col.context, col.unit or sheet_unit))
            continue
        if not wide_label:
            return raw_frame([]), [
                error(
                    "no_header",
                    f"年份列“{col.year}”没有指标名称：标题和表头左上角都没有写明指标。",
                    **grid.where(layout.top, col.j),
                    suggestion="请在标题中写明指标和单位，例如“城市低保人数（人）”。",
                )
            ]
        columns.append((col.j, col.year, wide_label, "", col.unit or wide_unit or sheet_unit))
    if len(columns) < len(layout.data):
        return raw_frame([]), [
            error(
                "year_missing",
                f"表头（第{grid.excel_row(layout.top)}行）上方的标题中找不到年份，表中也没有“年份”列。",
                **grid.where(layout.top),
                suggestion="请在标题中写明年份，例如“（2019年）”，或增加“年份”列，或改用带“年份”列的长表。",
            )
        ]

    records = []
    for i, row in body_rows(grid, layout.block):
        region = cell_at(row, layout.region_col)
        row_year = (
            year if year_col is None else year_value(cell_at(row, year_col))
        )  # a 年份 column beats the title
        for j, col_year, label, context, unit in columns:
            value = cell_at(row, j)
            if is_no_data(value):
                continue
            records.append(
                grid.observation(
                    i,
                    j,
                    region=region,
                    region_code=cell_at(row, code_col),
                    year=row_year if col_year is None else col_year,
                    indicator=label,
                    context=context,
                    header_unit=unit,
                    value=value,
                )
            )
    return raw_frame(records), []


def _wide_indicator(grid: Grid, layout: _Layout, titles: list[str]) -> tuple[str, str | None]:
    """For year columns without their own label: the top-left header cell, else the title."""
    corner = grid.rows[layout.top][layout.region_col]
    if corner is not None and not is_region_header(corner) and has_cjk(corner):
        return split_unit(corner)
    return _title_indicator(titles)
