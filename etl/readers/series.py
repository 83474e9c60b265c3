"""One region's statistical tables: indicators down × years across, or years down × indicators across.

Provincial and city yearbooks print a place's series this way: 福建统计年鉴's 社会救济情况
("项    目 | Item | 2010 | 2015 | 2020 | 2021", "#女性" and "#老年人" rows under each item), a
city's "三明市主要民政指标（2006—2022年）" ("项目 | 2006年 | … | 2022年"), or a time series with one
row per year ("年 份 | 城市低保人数（人） | 养老床位数（张）"). Years are written 2010, 2010.0
(Excel), "2010年" or "2010年末".

The place is named only in the title ("21-3 福建省社会救济情况"): the reader takes the region name
the title starts with (`Registry.leading_name`) and hands it over as written; resolve.py turns it
into a code like every other region name. A table whose title names no place needs the region
chosen on import (`Grid.region`: its rows go out without one and resolve.py gives them that
region); without either it is refused.

A "#"/"其中" row is a breakdown of the item above it (its 女性, its 老年人), not that item: it goes
out with its label as written ("#女性") and the item's label as `context`, in the item's unit
unless it names its own. Units: the row's own unit (a 单位/计量单位 column, or the label's
"（万人）") is `unit`; a column header's "（万人）" is `header_unit`, and so is the title's
"单位：万人" for rows that name no unit of their own — the title's unit is the table's default,
replaced by a row's own unit just as yearbook.py lets a column header's unit replace it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

import pandas as pd

from ..issues import Issue, error
from ..regions import load_registry
from ..sources import Grid
from ..text import chinese_line, has_cjk, is_no_data, normalize, split_unit, stated_unit
from . import raw_frame
from .long_table import HEADERS
from .yearbook import (
    IGNORED_HEADERS,
    ITEM_HEADERS,
    UNIT_HEADERS,
    YEAR_HEADERS,
    Column,
    HeaderBlock,
    body_rows,
    cell_at,
    header_columns,
    header_is,
    label_text,
    sub_marker,
    title_texts,
    year_cell,
)

ITEMS = "items"  # indicators down the side, years across
YEARS = "years"  # years down the side, indicators across
_SCAN_ROWS = 15
_PEEK = 8  # body rows looked at to tell which way the years run
# Headers of a table about several places (a region or region-code column) or of a long table: not
# one region's series. A bare "代码" is an item code ("指标名称 | 代码 | 计量单位 | 2019年").
_NOT_SERIES = (
    HEADERS["region"] | (HEADERS["code"] - {"代码"}) | HEADERS["value"] | {"地区别", "区域", "region", "area"}
)
# The corner over the row labels: "项    目\nItem", "指标名称", "年 份", "Year", a diagonal "项目  年份".
_STUB_WORDS = sorted(ITEM_HEADERS | YEAR_HEADERS, key=len, reverse=True)
_STUB = re.compile("(?:" + "|".join(map(re.escape, _STUB_WORDS)) + ")+")
# Stub text of a row that is not one year's figures: "2016—2020年年均增长（%）", "合计", "2016—2020".
_YEAR_WORDS = re.compile(r"[年度末底]")
_RANGE = re.compile(r"(?:19|20)\d\d\D+(?:19|20)\d\d")


def is_stub_header(cell: object) -> bool:
    text = normalize(chinese_line(cell)).lower()
    return bool(text) and bool(_STUB.fullmatch(re.sub(r"[a-z]+", "", text) or text))


@dataclass
class _Table:
    kind: str
    block: HeaderBlock
    data: list[Column]  # years across (ITEMS) or indicators across (YEARS)
    unit_col: int | None = None  # ITEMS: a 单位 / 计量单位 column


def _find(grid: Grid) -> _Table | None:
    for i, row in enumerate(grid.rows[:_SCAN_ROWS]):
        if any(header_is(c, _NOT_SERIES) for c in row if c is not None):
            return None
        filled = [j for j, c in enumerate(row) if c is not None]
        if len(filled) < 2:
            continue  # a title, a "单位：万人" line
        first = filled[1] if header_is(row[filled[0]], IGNORED_HEADERS) else filled[0]  # after "序号"
        blank_left = first > 0 and cell_at(row, first - 1) is None
        if is_stub_header(row[first]) and not (blank_left and not has_cjk(row[first])):
            table = _table(grid, i, first, blank_corner=False)
        elif blank_left:  # a blank corner (an English "Item" may head the column after it)
            table = _table(grid, i, first - 1, blank_corner=True)
        else:
            continue
        if table is not None:
            return table
    return None


def _table(grid: Grid, top: int, stub: int, blank_corner: bool) -> _Table | None:
    """The table whose header starts at row `top` with row labels in column `stub`, if the years
    run either across its header or down its stub column (and not both)."""
    block = HeaderBlock(grid, top, stub, is_stub_header)
    columns = header_columns(block, is_stub_header)
    data = [c for c in columns if c.role == "data"]
    across = [c for c in data if c.year is not None and not c.label]
    labelled = [c for c in data if c.label]
    stubs = [
        s for s in (cell_at(row, stub) for _, row in islice(body_rows(grid, block), _PEEK)) if s is not None
    ]
    down = sum(year_cell(s) is not None for s in stubs)
    if across and not down:
        if blank_corner and (not stubs or _mostly_regions(stubs)):
            return None  # regions down, years across: yearbook.py
        return _Table(ITEMS, block, across, next((c.j for c in columns if c.role == "unit"), None))
    if labelled and not across and down and 2 * down >= len(stubs):
        return _Table(YEARS, block, labelled)
    return None


def _mostly_regions(stubs: list[object]) -> bool:
    """Whether most row labels are places (or totals like "全省"): looked up only to tell a region
    table from an item table when the corner over the labels is blank."""
    names = [str(s).strip() for s in stubs if str(s).strip()]
    found = load_registry().resolve_names(list(dict.fromkeys(names)))
    return 2 * sum(found[n].status != "unknown" for n in names) > len(names)


def detect(grid: Grid) -> bool:
    return _find(grid) is not None


def read(grid: Grid) -> tuple[pd.DataFrame, list[Issue]]:
    table = _find(grid)
    if table is None:
        return raw_frame([]), [
            error(
                "no_header",
                "找不到单一地区统计表的表头（“项目”列加年份列，或“年份”列加指标列）。",
                **grid.where(),
            )
        ]
    titles = title_texts(grid, table.block.top)
    registry = load_registry()
    region = next((name for name in (registry.leading_name(chinese_line(t)) for t in titles) if name), None)
    if region is None and grid.region is None:
        return raw_frame([]), [_no_region(grid, table)]
    read_rows = _read_items if table.kind == ITEMS else _read_years
    return raw_frame(read_rows(grid, table, region, stated_unit(titles))), []


def _no_region(grid: Grid, table: _Table) -> Issue:
    shape = "指标按行、年份按列" if table.kind == ITEMS else "年份按行、指标按列"
    title = next(
        (
            (i, j, c)
            for i, row in enumerate(grid.rows[: table.block.top])
            for j, c in enumerate(row)
            if isinstance(c, str) and has_cjk(c)
        ),
        None,
    )
    if title is None:
        return error(
            "unknown_region",
            f"表格没有写明地区：这是一个地区的统计表（{shape}），但表头上方没有标题。",
            **grid.where(table.block.top, table.block.stub_col),
            suggestion="请在表头上方加一行标题，以地区全称开头，例如“福建省社会救济情况”，"
            "或在导入时选择表格所属地区。",
        )
    i, j, text = title
    return error(
        "unknown_region",
        f"表格没有写明地区：这是一个地区的统计表（{shape}），但标题“{chinese_line(text)}”没有以地区名称开头。",
        **grid.where(i, j),
        value=chinese_line(text),
        suggestion="请在标题开头写明地区全称，例如“福建省社会救济情况”或“三明市主要民政指标（2006—2022年）”，"
        "或在导入时选择表格所属地区。",
    )


def _unit_cell(cell: object) -> object:
    return None if is_no_data(cell) else cell


def _read_items(grid: Grid, table: _Table, region: str, table_unit: str | None) -> list[dict]:
    """Indicators down, years across: one record per item row and year column."""
    records = []
    block = table.block
    parent, parent_unit = "", None
    for i, row in body_rows(grid, block):
        cell = label_text(cell_at(row, block.stub_col))
        label, label_unit = split_unit(cell)
        unit = _unit_cell(cell_at(row, table.unit_col)) or label_unit
        marker = sub_marker(cell)
        if marker:  # "#女性": a breakdown of the item above, in that item's unit unless it names its own
            indicator, context, unit = marker + label, parent, unit or parent_unit
        else:
            indicator, context, parent, parent_unit = label, "", label, unit
        for col in table.data:
            value = cell_at(row, col.j)
            if is_no_data(value):
                continue
            records.append(
                grid.observation(
                    i,
                    col.j,
                    region=region,
                    year=col.year,
                    indicator=indicator,
                    context=context,
                    unit=unit,
                    header_unit=col.unit or (None if unit else table_unit),
                    value=value,
                )
            )
    return records


def _read_years(grid: Grid, table: _Table, region: str, table_unit: str | None) -> list[dict]:
    """Years down, indicators across: one record per year row and indicator column."""
    records = []
    block = table.block
    row_units: dict[int, object] = {}  # a "单位 | 人 | 张" row under the header
    for i, row in body_rows(grid, block):
        cell = cell_at(row, block.stub_col)
        if header_is(cell, UNIT_HEADERS):
            row_units = {col.j: _unit_cell(cell_at(row, col.j)) for col in table.data}
            continue
        year = year_cell(cell)
        if year is None and cell is not None and _not_a_year_row(cell):
            continue
        for col in table.data:
            value = cell_at(row, col.j)
            if is_no_data(value):
                continue
            records.append(
                grid.observation(
                    i,
                    col.j,
                    region=region,
                    year=cell if year is None else year,  # as written: resolve says why
                    indicator=col.label,
                    context=col.context,
                    unit=None,
                    header_unit=col.unit or row_units.get(col.j) or table_unit,
                    value=value,
                )
            )
    return records


def _not_a_year_row(cell: object) -> bool:
    """ "2016—2020年年均增长（%）", "合计", "2016—2020": a row that is not one year's figures. Anything
    else in the year column ("2O19") goes out as written, for resolve.py to report."""
    text = normalize(cell)
    return has_cjk(_YEAR_WORDS.sub("", text)) or bool(_RANGE.search(text))
