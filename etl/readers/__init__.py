"""Readers: one per input shape, each turning a sheet grid into raw observations.

A reader module exposes `detect(grid) -> bool` (does this sheet have my shape?) and
`read(grid) -> (DataFrame[RAW_COLUMNS], list[Issue])`. `read_source` tries them in order,
most specific first, so a sheet is read by exactly one of them, and records which one in a
`shape` column (published forms carry items the catalog does not track; see resolve.py). The column contract is in
docs/ARCHITECTURE.md ("Raw observations").
"""
from __future__ import annotations

import pandas as pd

from ..issues import Issue, error
from ..sources import Grid, Source

RAW_COLUMNS = ["sheet", "row", "column", "region", "region_code", "year",
               "indicator", "context", "unit", "header_unit", "value"]


def raw_frame(records: list[dict]) -> pd.DataFrame:
    """Build a raw-observation frame with exactly RAW_COLUMNS (object dtype, missing → None)."""
    frame = pd.DataFrame.from_records(records, columns=RAW_COLUMNS)
    return frame.astype(object).where(frame.notna(), None)


def _readers():
    from . import long_table, quarterly, series, template, yearbook
    return [template, quarterly, long_table, series, yearbook]


def is_blank(grid: Grid) -> bool:
    return grid.blank()


def read_source(source: Source) -> tuple[pd.DataFrame, list[Issue]]:
    """Read every sheet of a loaded file; adds `file` and `file_sha256` columns."""
    frames: list[pd.DataFrame] = []
    issues: list[Issue] = []
    readers = _readers()
    for grid in source.grids:
        if is_blank(grid) or getattr(readers[0], "is_instructions", lambda g: False)(grid):
            continue
        reader = next((r for r in readers if r.detect(grid)), None)
        if reader is None:
            issues.append(error(
                "no_header", "找不到可识别的表头：既不是本系统模板，也不是“地区/年份/指标/数值/单位”长表、"
                "统计年鉴表（地区×指标、地区×年份，或一个地区的指标×年份、年份×指标）或民政统计季报。", **grid.where(),
                suggestion="请使用“python -m etl template”生成的填报模板，或按长表格式整理。"))
            continue
        frame, found = reader.read(grid)
        frames.append(frame.assign(shape=reader.__name__.rsplit(".", 1)[-1]))
        issues.extend(found)
    if not frames and not issues:
        issues.append(error("empty", "文件中没有任何数据。", file=source.name,
                            suggestion="请确认上传的是填好数据的文件。"))
    data = pd.concat(frames, ignore_index=True) if frames else raw_frame([]).assign(shape=None)
    data["file"] = source.name
    data["file_sha256"] = source.sha256
    return data, issues
