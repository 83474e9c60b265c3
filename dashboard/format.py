"""Numbers the way Chinese reports write them: 1.2万人, 5.73亿元, 36.0张/千名老年人, 同比 +3.2%.

Large counts switch to 万/亿 so a KPI card stays readable on the meeting-room screen; money
stored in 万元 becomes 亿元 from 1 亿 up. Missing values are "—", never 0 or "nan".
"""

from __future__ import annotations

import math

MISSING = "—"
_MINUS = "-"  # ASCII: st.metric reads the sign of a delta string from a leading "-"


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _trim(number: float, decimals: int) -> str:
    return f"{number:,.{decimals}f}"


def fmt_number(value, decimals: int = 0) -> str:
    """Plain number with thousands separators: 12,345 / 36.0."""
    return MISSING if _is_missing(value) else _trim(float(value), decimals)


def fmt_value(value, unit: str = "", decimals: int = 0) -> str:
    """Value with unit, scaled to 万/亿 where that is how reports say it."""
    if _is_missing(value):
        return MISSING
    v = float(value)
    if unit == "万元":
        if abs(v) >= 10_000:
            return f"{_trim(v / 10_000, 2)}亿元"
        return f"{_trim(v, decimals if abs(v) < 1_000 else 0)}万元"
    if unit in ("人", "户", "张", "人次", "对", "家", "个") and abs(v) >= 10_000:
        if abs(v) >= 100_000_000:
            return f"{_trim(v / 100_000_000, 2)}亿{unit}"
        return f"{_trim(v / 10_000, 2 if abs(v) < 100_000 else 1)}万{unit}"
    return f"{_trim(v, decimals)}{unit}"


def pct_change(current, previous) -> float | None:
    """Relative change in percent; None when either value is missing or the base is 0."""
    if _is_missing(current) or _is_missing(previous) or float(previous) == 0:
        return None
    return (float(current) - float(previous)) / abs(float(previous)) * 100


def fmt_change(pct, decimals: int = 1) -> str:
    """同比 text: "+3.2%", "-1.5%", "0.0%"; missing → "—"."""
    if _is_missing(pct):
        return MISSING
    rounded = round(float(pct), decimals)
    if rounded == 0:
        return f"{0:.{decimals}f}%"
    sign = "+" if rounded > 0 else _MINUS
    return f"{sign}{abs(rounded):,.{decimals}f}%"
