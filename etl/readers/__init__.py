"""Readers: one per input shape, each turning a sheet grid into raw observations.

A reader module exposes `detect(grid) -> bool` (does this sheet have my shape?) and
`read(grid) -> (DataFrame[RAW_COLUMNS], list[Issue])`. `read_source` tries them in order,
most specific first, so a sheet is read by exactly one of them, and records which one in a
`shape` column (published forms carry items the catalog does not track; see resolve.py). The
column contract is in docs/ARCHITECTURE.md ("Raw observations").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..issues import Issue, error, note
from ..sources import Grid, Source

if TYPE_CHECKING:
    from ..recipes import Recipe

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


# How a sheet was read (the `shape` of its rows), in the clerk's words: 数据管理's check says it.
READER_NAMES = {
    "template": "填报模板",
    "quarterly": "民政统计季报",
    "long_table": "长表",
    "series": "单一地区统计表",
    "yearbook": "统计年鉴表",
}
RECIPE_SHAPE = "recipe:"  # the shape of a sheet an import recipe read: "recipe:<name>"


def how_read(shape: str) -> str:
    """'统计年鉴表', '导入配方“宝鸡社会救助表”': a sheet's reader as the check names it."""
    if shape.startswith(RECIPE_SHAPE):
        return f"导入配方“{shape.removeprefix(RECIPE_SHAPE)}”"
    return READER_NAMES.get(shape, shape)


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


def read_source(
    source: Source, recipes: Sequence[Recipe] = (), forced: str | None = None
) -> tuple[pd.DataFrame, list[Issue]]:
    """Read every sheet of a loaded file; adds `shape` (the reader of each row's sheet), `file`
    and `file_sha256` columns, as Categoricals: a national file has ~10⁶ rows and one file.

    `recipes` are the data dir's saved import recipes (`etl.recipes.load_recipes`): a sheet whose
    header one of them has is read with it, before the built-in readers are asked (a clerk who
    made a recipe for a sheet meant it); its `shape` is "recipe:<name>" and a note (no warning:
    it asks for no confirmation) says so. `forced` is the name of the one recipe the user chose
    for this file (`load --recipe`): it alone may read the file's sheets, and a sheet whose
    header is not its header is an error naming the cells that differ, never read silently."""
    from .. import recipes as recipe_engine

    frames: list[pd.DataFrame] = []
    shapes: list[str] = []
    issues: list[Issue] = []
    readers = _readers()
    only = None
    if forced is not None:
        only = next((r for r in recipes if r.name == forced), None)
        if only is None:
            return _no_rows(source), [
                error(
                    "recipe_invalid",
                    f"没有名为“{forced}”的导入配方（或该配方有误，未能读取）。",
                    file=source.name,
                    value=forced,
                    suggestion="请用“python -m etl recipes”查看已有的导入配方，"
                    "或在“数据管理”的“导入向导”中建立导入配方。",
                )
            ]
    for grid in source.grids:
        if is_blank(grid) or getattr(readers[0], "is_instructions", lambda g: False)(grid):
            continue
        if only is not None:
            recipe = recipe_engine.fit(only, grid)
            if recipe is None:
                issues.append(recipe_engine.mismatch(only, grid))
                continue
        else:
            recipe = recipe_engine.find_recipe(grid, recipes)
        if recipe is not None:
            frame, found = recipe_engine.apply(recipe, grid)
            frames.append(frame)
            shapes.append(recipe.shape)
            issues.append(
                note(
                    "recipe_used",
                    f"按导入配方“{recipe.name}”读取。",
                    **grid.where(),
                    value=recipe.name,
                    suggestion="如读取有误，请在“数据管理”的“导入向导”中修改或删除该导入配方。",
                )
            )
            issues.extend(found)
            continue
        reader = next((r for r in readers if r.detect(grid)), None)
        if reader is None:
            issues.append(_no_header(grid, recipe_engine.close_recipe(grid, recipes), recipe_engine))
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
        return _no_rows(source), issues
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    codes, names = pd.factorize(pd.Series(shapes, dtype=object))
    data["shape"] = _texts(np.repeat(codes, [len(f) for f in frames]), names)
    one = np.zeros(len(data), dtype=np.int8)
    data["file"] = _texts(one, [source.name])
    data["file_sha256"] = _texts(one, [source.sha256])
    return data, issues


def _no_rows(source: Source) -> pd.DataFrame:
    data = raw_frame([]).assign(shape=None)
    one = np.zeros(0, dtype=np.int8)
    data["file"] = _texts(one, [source.name])
    data["file_sha256"] = _texts(one, [source.sha256])
    return data


def _no_header(grid: Grid, close, recipe_engine) -> Issue:
    """No reader and no recipe knows this sheet: say what is read, and that a recipe can be made
    (naming a recipe whose header almost fits, with the cells that differ)."""
    suggestion = (
        "请使用“python -m etl template”生成的填报模板，或按长表格式整理；也可以在“数据管理”的“导入向导”中"
        "为这种表建立导入配方，以后同样表头的表会自动按配方读取。"
    )
    if close is not None:
        suggestion += (
            f"此表与导入配方“{close.name}”的表头相近，但有不同："
            + "；".join(recipe_engine.header_differences(grid, close))
            + "。表头确有变化时，请在导入向导中修改该配方。"
        )
    return error(
        "no_header",
        "找不到可识别的表头：既不是本系统模板，也不是“地区/年份/指标/数值/单位”长表、"
        "统计年鉴表（地区×指标、地区×年份，或一个地区的指标×年份、年份×指标）或民政统计季报，"
        "也没有与之表头相同的导入配方。",
        **grid.where(),
        suggestion=suggestion,
    )


def _texts(codes: np.ndarray, texts) -> pd.Categorical:
    """A Categorical of distinct texts (object categories: the very str objects)."""
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(texts, dtype=object)))
