"""Exact conversion of values written in a form's unit into the catalog unit.

Forms write 万人, 亿元, 元/人·年, ‰ …; the warehouse stores one canonical unit per indicator.
Factors are exact fractions and values are converted through their decimal text
(2.3 万张 → 23000 张, not 22999.999999999996), so published figures survive unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

import numpy as np
import pandas as pd

# Base units that mean the same thing for counting (家/个/所/处 all count institutions).
_BASE_SYNONYMS = {
    "名": "人",
    "位": "人",
    "人": "人",
    "户": "户",
    "张": "张",
    "床": "张",
    "家": "家",
    "个": "家",
    "所": "家",
    "处": "家",
    "人次": "人次",
    "次": "人次",
    "对": "对",
    "件": "件",
    "元": "元",
}
_PREFIXES = {
    "": 1,
    "十": 10,
    "百": 100,
    "千": 1000,
    "万": 10_000,
    "十万": 100_000,
    "百万": 1_000_000,
    "千万": 10_000_000,
    "亿": 100_000_000,
}
_PER_MONTH = re.compile(r"^元/(人[·/]?月|月[·/]?人|\(人[·/]月\))$")
_PER_YEAR = re.compile(r"^元/(人[·/]?年|年[·/]?人|\(人[·/]年\))$")


def clean_unit(unit: object) -> str:
    """NFKC, no spaces, one middle dot: "元/人・月" and "元 / 人·月" both become "元/人·月"."""
    if unit is None:
        return ""
    s = unicodedata.normalize("NFKC", str(unit))
    s = re.sub(r"\s+", "", s)
    return re.sub(r"[・•∙⋅]", "·", s)


def _count_unit(unit: str) -> tuple[int, str] | None:
    """ "万人" → (10000, "人"); "人次" → (1, "人次"); not a count/money unit → None."""
    for prefix in sorted(_PREFIXES, key=len, reverse=True):
        if unit.startswith(prefix) and unit[len(prefix) :] in _BASE_SYNONYMS:
            return _PREFIXES[prefix], _BASE_SYNONYMS[unit[len(prefix) :]]
    return None


def conversion_factor(
    unit_in: object, unit: str, display_unit: str = "", scale: float | None = None
) -> Fraction | None:
    """Factor that turns a value in `unit_in` into the catalog `unit`; None when they don't match.

    No unit written means the catalog unit. For ratio indicators the display unit
    ("张/千名老年人") and the per-mille/percent sign matching the ratio's scale are accepted too.
    """
    given = clean_unit(unit_in)
    target = clean_unit(unit)
    if not given or given in (target, clean_unit(display_unit)):
        return Fraction(1)
    if scale == 1000 and given in ("‰", "张/千人", "张/千名老人"):
        return Fraction(1)
    if scale == 10000 and given in ("人/万人", "名/万人", "人/万人口", "名/万人口"):
        return Fraction(1)
    if target == "%" and given in ("%", "百分比", "百分之"):
        return Fraction(1)
    if _PER_MONTH.match(target):
        if _PER_MONTH.match(given):
            return Fraction(1)
        if _PER_YEAR.match(given):
            return Fraction(1, 12)
        return None
    a, b = _count_unit(given), _count_unit(target)
    if a and b and a[1] == b[1]:
        return Fraction(a[0], b[0])
    return None


def convert(values: pd.Series, factors: pd.Series) -> pd.Series:
    """Multiply each value by its exact factor (one Fraction per value), rounding once to the
    nearest double. A thin adapter over `convert_coded` for callers holding one factor per row.
    """
    # A file's factors are a few Fraction objects repeated (hashing a Fraction is slow Python
    # code, so the rows are grouped by object identity).
    objects = factors.to_numpy(dtype=object)
    _, first, inverse = np.unique(
        np.fromiter(map(id, objects), np.int64, len(objects)), return_index=True, return_inverse=True
    )
    out = convert_coded(values.to_numpy(dtype="float64"), inverse.reshape(-1), [objects[i] for i in first])
    return pd.Series(out, index=values.index, name=values.name)


def convert_coded(values: np.ndarray, which: np.ndarray, factors: list) -> np.ndarray:
    """values[i] × factors[which[i]], each rounded once to the nearest double (a new array).

    The resolver holds one factor per distinct (indicator, unit) and a number per row, so each
    factor is compared with 1 once and rows with factor 1 (the common case at national scale)
    are left untouched."""
    out = np.array(values, dtype="float64")
    if not len(factors):
        return out
    scaled = np.array([f != 1 for f in factors], dtype=bool)[which]
    if scaled.any():
        rows = np.flatnonzero(scaled)
        out[rows] = [_scaled(v, factors[k]) for v, k in zip(out[rows].tolist(), which[rows].tolist())]
    return out


def _scaled(value: float, factor: Fraction) -> float:
    """value × factor, exactly rounded; beyond the double range it is ±inf, which the range
    check then rejects (1.7e308 万人 is not a number of people)."""
    if not np.isfinite(value):
        return value
    try:
        return float(Fraction(repr(float(value))) * factor)
    except OverflowError:
        return float("inf") if (value > 0) == (factor > 0) else float("-inf")
