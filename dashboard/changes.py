"""What a publish would change: the candidate facts compared with the version being served.

The 数据管理 preview shows this before anything is written, and the summary is kept in the
new version's manifest so the history can say what each publish changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["region_code", "year", "indicator_id"]
STATUS_LABELS = {"new": "新增", "changed": "变化", "unchanged": "不变", "removed": "删除"}
# Stored values are exact decimals converted to float; anything closer than this is the same figure.
_TOLERANCE = 1e-9


def compare(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """One row per fact in either version: key, old value, new value, status, change in %.

    `pct` is (new − old) / |old| × 100, NaN when the old value is 0 or missing."""
    merged = old[KEY + ["value"]].merge(
        new[KEY + ["value"]], on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True
    )
    old_v, new_v = merged["value_old"], merged["value_new"]
    same = np.isclose(old_v, new_v, rtol=_TOLERANCE, atol=_TOLERANCE, equal_nan=True)
    status = np.select(
        [merged["_merge"] == "right_only", merged["_merge"] == "left_only", same],
        ["new", "removed", "unchanged"],
        default="changed",
    )
    pct = ((new_v - old_v) / old_v.abs() * 100).where(old_v.abs() > _TOLERANCE)
    return (
        merged.drop(columns="_merge")
        .rename(columns={"value_old": "old", "value_new": "new"})
        .assign(status=status, pct=pct)
        .sort_values(KEY, ignore_index=True)
    )


def summary(diff: pd.DataFrame) -> dict[str, int]:
    """Counts per status, every status present (0 when none)."""
    counts = diff["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in STATUS_LABELS}


def biggest_moves(diff: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The (region, indicator) series whose values change most, by largest |% change|;
    a series that only gains or loses years ranks after those with changed values."""
    moved = diff[diff["status"] != "unchanged"].assign(size=lambda d: d["pct"].abs().fillna(-1))
    ranked = (
        moved.groupby(["region_code", "indicator_id"], as_index=False)["size"]
        .max()
        .sort_values("size", ascending=False, kind="stable")
    )
    return ranked.head(n)[["region_code", "indicator_id"]].reset_index(drop=True)
