"""民政统计季报: a header block naming the reporting unit and period, then 指标名称 | 单位 | 数量 rows.

One sheet is one county's report, so region and year come from the header block, not from
the table. Section rows ("一、社会救助", "（一）城市最低生活保障") give item rows their meaning
("保障人数" of which programme?), so they travel along as `context`. Only annual figures
(第四季度 / 年报) belong in the dashboard; an earlier quarter is refused, not half-loaded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from ..issues import Issue, error
from ..sources import Grid
from ..text import is_no_data, normalize
from . import raw_frame
from .long_table import HEADERS
from .yearbook import cell_at, first_filled, is_footnote

_INDICATOR = {"指标名称", "指标", "项目"}
_UNIT = {"单位", "计量单位"}
_VALUE = ("数量", "本期", "本期数")  # in order of preference
# Long-table columns that never appear in a 季报 table header ("代码" there is the item code).
_NOT_QUARTERLY = HEADERS["region"] | HEADERS["year"] | (HEADERS["code"] - {"代码"})
_FIELD = re.compile(
    r"^(填报单位|单位名称|地区|行政区划代码|区划代码)\s*(?:\([^)]*\))?\s*(?::\s*(.*))?$", re.S
)
_QUARTER = re.compile(
    r"((?:19|20)\d\d)\s*年\s*(?:第\s*)?(?:[1一]\s*[-—–~至到]\s*(?:第\s*)?)?([1-4一二三四])\s*季"
)
_ANNUAL = re.compile(
    r"((?:19|20)\d\d)\s*(?:年\s*(?:年报|全年|年度)|年度)"
    r"|^(?:报告期:?\s*)?((?:19|20)\d\d)\s*年$"
    r"|((?:19|20)\d\d)\s*年[^季]*年报"
)
_QUARTER_NUMBER = {"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}
_BUREAU_SUFFIX = re.compile(r"(民政局|民政厅)$")
_SIGNATURE = re.compile(r"^(单位负责人|统计负责人|填表人|填报人|审核人|报出日期|填报日期|联系电话)")
_SCAN_ROWS = 20


@dataclass
class _Block:
    """What the header block above the table says."""

    region: str | None = None
    unit_name: str | None = None  # 填报单位 / 单位名称, used when no 地区 is given
    code: str | None = None
    year: int | None = None
    quarter: int | None = None  # 4 for 年报 / 全年
    period_at: tuple[int, int] | None = None


def _table_header(grid: Grid) -> tuple[int, list[tuple[int, int | None, int]]] | None:
    """(header row index, [(indicator col, unit col, value col)]); forms often print two groups side
    by side."""
    for i, row in enumerate(grid.rows[:_SCAN_ROWS]):
        texts = [normalize(c) if isinstance(c, str) else "" for c in row]
        if _NOT_QUARTERLY & set(texts):
            continue
        starts = [j for j, t in enumerate(texts) if t in _INDICATOR]
        groups = []
        for n, j in enumerate(starts):
            span = range(j + 1, starts[n + 1] if n + 1 < len(starts) else len(texts))
            unit = next((k for k in span if texts[k] in _UNIT), None)
            value = next((k for v in _VALUE for k in span if texts[k] == v), None)
            if value is not None:
                groups.append((j, unit, value))
        if groups:
            return i, groups
    return None


def _field_value(text: str) -> str:
    """ "宝鸡市眉县民政局      2023年第4季度" → "宝鸡市眉县民政局": a cell may hold several fields."""
    period = _QUARTER.search(text) or _ANNUAL.search(text)
    if period:
        text = text[: period.start()]
    return re.split(r"\s{2,}|\t", text.strip())[0].strip()


def _as_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return unicodedata.normalize("NFKC", str(cell)).strip()


def _header_block(grid: Grid, top: int) -> _Block:
    block = _Block()
    for i, row in enumerate(grid.rows[:top]):
        pending = None  # a label whose value sits in the next filled cell
        for j, cell in enumerate(row):
            if cell is None:
                continue
            text = _as_text(cell)
            if pending:
                _set_field(block, pending, _field_value(text))
                pending = None
                continue
            m = _FIELD.match(text)
            if m:
                value = _field_value(m.group(2) or "")
                if value:
                    _set_field(block, m.group(1), value)
                else:
                    pending = m.group(1)
            if block.period_at is None:
                _set_period(block, text, (i, j))
    return block


def _set_field(block: _Block, label: str, value: str) -> None:
    if label in ("行政区划代码", "区划代码"):
        block.code = block.code or value
    elif label == "地区":
        block.region = block.region or _BUREAU_SUFFIX.sub("", value) or None
    else:
        block.unit_name = block.unit_name or _BUREAU_SUFFIX.sub("", value) or None


def _set_period(block: _Block, text: str, at: tuple[int, int]) -> None:
    if re.search(r"年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", text):
        return  # a date (填报日期), not the reporting period
    m = _QUARTER.search(text)
    if m:
        block.year, block.quarter, block.period_at = int(m.group(1)), _QUARTER_NUMBER[m.group(2)], at
        return
    m = _ANNUAL.search(text)
    if m:
        block.year, block.quarter, block.period_at = int(next(g for g in m.groups() if g)), 4, at


def detect(grid: Grid) -> bool:
    found = _table_header(grid)
    if found is None:
        return False
    block = _header_block(grid, found[0])
    return bool(block.period_at or block.region or block.unit_name or block.code)


def read(grid: Grid) -> tuple[pd.DataFrame, list[Issue]]:
    found = _table_header(grid)
    if found is None:
        return raw_frame([]), [error("no_header", "找不到季报表头（指标名称/单位/数量）。", **grid.where())]
    top, groups = found
    block = _header_block(grid, top)
    if block.period_at is None:
        return raw_frame([]), [
            error(
                "year_missing",
                "季报表头中找不到报告期。",
                **grid.where(),
                suggestion="请在表头写明报告期，例如“2023年第4季度”或“2023年年报”。",
            )
        ]
    if block.quarter != 4:
        return raw_frame([]), [
            error(
                "period",
                f"季报为第{block.quarter}季度数据，看板只收录年度（第四季度/年报）数据。",
                **grid.where(*block.period_at),
                value=str(grid.rows[block.period_at[0]][block.period_at[1]]),
                suggestion="请上传第四季度季报或年报。",
            )
        ]
    region = block.region or block.unit_name
    if region is None and block.code is None:
        return raw_frame([]), [
            error(
                "unknown_region",
                "季报表头没有填写填报单位、地区或行政区划代码。",
                **grid.where(),
                suggestion="请在表头填写，例如“填报单位：宝鸡市眉县民政局”或“行政区划代码：610326”。",
            )
        ]

    records = []
    contexts = [""] * len(groups)
    for i in range(top + 1, len(grid.rows)):
        row = grid.rows[i]
        first = first_filled(row)
        if first is None:
            continue
        if is_footnote(row[first]) or _SIGNATURE.match(normalize(row[first])):
            break
        for g, (jl, ju, jv) in enumerate(groups):
            label, value = cell_at(row, jl), cell_at(row, jv)
            unit = cell_at(row, ju) if ju is not None else None
            if unit is None and value is None:
                if label is not None and not str(label).lstrip().startswith(("其中", "#", "＃")):
                    contexts[g] = str(label).strip()  # a section row: "一、社会救助"
                continue
            if is_no_data(value):
                continue
            records.append(
                grid.observation(
                    i,
                    jv,
                    region=region,
                    region_code=block.code,
                    year=block.year,
                    indicator=label,
                    context=contexts[g],
                    unit=unit,
                    value=value,
                )
            )
    return raw_frame(records), []
