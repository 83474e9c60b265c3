"""Where things live: reference data in the repository, and the (configurable) data dir.

Reference data (indicator catalog, region registry) ships with the code and never moves.
The data dir holds what changes at run time — raw inputs, generated sample files and the
published warehouse — so a deployment can put it elsewhere with `--data-dir` or `MZ_DATA_DIR`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .settings import data_dir_override

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO_ROOT / "data"
CATALOG_FILE = REFERENCE_DIR / "catalog" / "indicators.yaml"
REGIONS_DIR = REFERENCE_DIR / "regions"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data dir: an explicit argument wins, then `MZ_DATA_DIR`, then `data/` in the repo."""
    if explicit:
        return _resolved(os.getcwd(), os.fspath(explicit))
    env = data_dir_override()
    if env:
        return _resolved(os.getcwd(), env)
    return REFERENCE_DIR


@functools.lru_cache(maxsize=16)
def _resolved(cwd: str, path: str) -> Path:
    """Absolute form of a data dir (relative to `cwd`); remembered, since the dashboard asks
    for it at every query."""
    return (Path(cwd) / path).resolve()


def raw_dir(base: Path) -> Path:
    """Inputs the clerk loaded (`etl load`) or dropped in by hand; `etl build` reads all of them."""
    return base / "raw"


def sample_dir(base: Path) -> Path:
    """Generated 示例数据 input files (`etl sample`); used only while raw/ is empty."""
    return base / "sample"


def warehouse_dir(base: Path) -> Path:
    """Published versions and the CURRENT pointer."""
    return base / "warehouse"


def fact_cache_dir(base: Path) -> Path:
    """Each input file's resolved facts and issues, kept so a load re-reads only new or changed
    files (`etl/fact_cache.py`); safe to delete at any time."""
    return base / "cache" / "facts"
