"""The project's own fill-in workbook (`etl/template.py`): the exact, unambiguous shape.

The row of indicator codes ("指标代码") says what each column is, so headers a county
re-typed or shortened do not matter; the "年份" cell above the table gives the year.
Merged cells inside the table are refused: a merged value belongs to no single county.
"""

from __future__ import annotations

import re

import pandas as pd

from ..issues import Issue, error
from ..sources import Grid
from ..template import CODE_HEADER, ID_ROW_LABEL, INSTRUCTIONS_SHEET
from ..text import normalize, split_unit
from . import RAW_COLUMNS

_SCAN_ROWS = 12
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def is_instructions(grid: Grid) -> bool:
    first = grid.rows[0][0] if grid.rows and grid.rows[0] else None
    return normalize(grid.sheet) == INSTRUCTIONS_SHEET or (
        isinstance(first, str) and normalize(first).startswith(INSTRUCTIONS_SHEET)
    )


def _id_row(grid: Grid) -> int | None:
    for i, row in enumerate(grid.rows[:_SCAN_ROWS]):
        if (
            row
            and normalize(row[0]) == ID_ROW_LABEL
            and i > 0
            and normalize(grid.rows[i - 1][0]) == CODE_HEADER
        ):
            return i
    return None


def detect(grid: Grid) -> bool:
    return grid.first_col == 0 and _id_row(grid) is not None


def _year(grid: Grid, before: int) -> object:
    for row in grid.rows[:before]:
        if row and normalize(row[0]) == "年份" and len(row) > 1:
            return row[1]
    return None


def read(grid: Grid) -> tuple[pd.DataFrame, list[Issue]]:
    ids_at = _id_row(grid)
    header = grid.rows[ids_at - 1]
    ids = grid.rows[ids_at]
    issues: list[Issue] = []
    first_data = ids_at + 1
    for (r1, c1), (r2, c2) in grid.merged:
        if r2 >= grid.first_row - 1 + first_data:
            issues.append(
                error(
                    "merged_cells",
                    f"数据区域有合并单元格（{grid.excel_col(c1 - grid.first_col)}{r1 + 1}:"
                    f"{grid.excel_col(c2 - grid.first_col)}{r2 + 1}），无法确定数值属于哪个区县。",
                    suggestion="请取消合并，每个区县每个指标各填一格。",
                    **grid.where(r1 - grid.first_row + 1, c1 - grid.first_col),
                )
            )
    if issues:
        return pd.DataFrame(columns=RAW_COLUMNS), issues
    year = _year(grid, ids_at)
    columns = [
        (j, str(v).strip(), split_unit(header[j] if j < len(header) else None)[1])
        for j, v in enumerate(ids)
        if j >= 2 and isinstance(v, str) and _ID.match(v.strip())
    ]
    records = []
    for i in range(first_data, len(grid.rows)):
        row = grid.rows[i]
        if not row or (row[0] is None and (len(row) < 2 or row[1] is None)):
            continue
        for j, ind, unit in columns:
            value = row[j] if j < len(row) else None
            if value is None:
                continue
            records.append(
                (
                    grid.sheet,
                    grid.excel_row(i),
                    grid.excel_col(j),
                    row[1] if len(row) > 1 else None,
                    row[0],
                    year,
                    ind,
                    None,
                    None,
                    unit,
                    value,
                )
            )  # the header's unit
    frame = pd.DataFrame.from_records(records, columns=RAW_COLUMNS).astype(object)
    return frame, issues
