"""Readers: one per input shape, each turning a sheet grid into raw observations.

A reader module exposes `detect(grid) -> bool` (does this sheet have my shape?) and
`read(grid) -> (DataFrame[RAW_COLUMNS], list[Issue])`. `read_source` tries them in order,
most specific first, so a sheet is read by exactly one of them, and records which one in a
`shape` column (published forms carry items the catalog does not track; see resolve.py). The
column contract is in docs/ARCHITECTURE.md ("Raw observations").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..issues import Issue, error
from ..sources import Grid, Source

RAW_COLUMNS = [
    "sheet",
    "row",
    "column",
    "region",
    "region_code",
    "year",
    "indicator",
    "context",
    "unit",
    "header_unit",
    "value",
]


def as_objects(column: pd.Series) -> pd.Series:
    """A raw column with object dtype: a Categorical's texts as written, None for blanks
    (pandas' own conversion would put NaN there)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column
    texts = np.append(np.asarray(column.cat.categories, dtype=object), None)  # code -1: None
    return pd.Series(texts[column.cat.codes.to_numpy()], index=column.index, name=column.name, dtype=object)


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
    """Read every sheet of a loaded file; adds `shape` (the reader of each row's sheet), `file`
    and `file_sha256` columns, as Categoricals: a national file has ~10⁶ rows and one file."""
    frames: list[pd.DataFrame] = []
    shapes: list[str] = []
    issues: list[Issue] = []
    readers = _readers()
    for grid in source.grids:
        if is_blank(grid) or getattr(readers[0], "is_instructions", lambda g: False)(grid):
            continue
        reader = next((r for r in readers if r.detect(grid)), None)
        if reader is None:
            issues.append(
                error(
                    "no_header",
                    "找不到可识别的表头：既不是本系统模板，也不是“地区/年份/指标/数值/单位”长表、"
                    "统计年鉴表（地区×指标、地区×年份，或一个地区的指标×年份、年份×指标）或民政统计季报。",
                    **grid.where(),
                    suggestion="请使用“python -m etl template”生成的填报模板，或按长表格式整理。",
                )
            )
            continue
        frame, found = reader.read(grid)
        frames.append(frame)
        shapes.append(reader.__name__.rsplit(".", 1)[-1])
        issues.extend(found)
    if not frames and not issues:
        issues.append(
            error(
                "empty", "文件中没有任何数据。", file=source.name, suggestion="请确认上传的是填好数据的文件。"
            )
        )
    if len(frames) > 1:  # Categoricals of several sheets would concatenate to objects with NaN
        frames = [
            f.assign(
                **{c: as_objects(f[c]) for c, t in f.dtypes.items() if isinstance(t, pd.CategoricalDtype)}
            )
            for f in frames
        ]
    if not frames:
        data = raw_frame([]).assign(shape=None)
    else:
        data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        codes, names = pd.factorize(pd.Series(shapes, dtype=object))
        data["shape"] = _texts(np.repeat(codes, [len(f) for f in frames]), names)
    one = np.zeros(len(data), dtype=np.int8)
    data["file"] = _texts(one, [source.name])
    data["file_sha256"] = _texts(one, [source.sha256])
    return data, issues


def _texts(codes: np.ndarray, texts) -> pd.Categorical:
    """A Categorical of distinct texts (object categories: the very str objects)."""
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(texts, dtype=object)))
