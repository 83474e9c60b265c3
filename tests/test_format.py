"""Chinese number formatting used on every card, table and narrative."""

import math

import pytest

from dashboard.format import fmt_change, fmt_number, fmt_value, pct_change


@pytest.mark.parametrize(
    "value,unit,decimals,expected",
    [
        (12_345, "人", 0, "1.23万人"),
        (9_876, "人", 0, "9,876人"),
        (123_456, "人", 0, "12.3万人"),
        (250_000_000, "人", 0, "2.50亿人"),
        (57_300, "万元", 1, "5.73亿元"),
        (2_844, "万元", 1, "2,844万元"),
        (284.4, "万元", 1, "284.4万元"),
        (36.04, "张/千名老年人", 1, "36.0张/千名老年人"),
        (10.9, "人/万人", 1, "10.9人/万人"),
        (None, "人", 0, "—"),
        (math.nan, "万元", 1, "—"),
    ],
)
def test_fmt_value(value, unit, decimals, expected):
    assert fmt_value(value, unit, decimals) == expected


def test_changes():
    assert pct_change(110, 100) == pytest.approx(10)
    assert pct_change(90, 100) == pytest.approx(-10)
    assert pct_change(5, 0) is None and pct_change(None, 3) is None
    assert fmt_change(3.24) == "+3.2%"
    assert fmt_change(-1.56) == "-1.6%"
    assert fmt_change(0.01) == "0.0%"
    assert fmt_change(None) == "—"
    assert fmt_number(1234567.891, 2) == "1,234,567.89"
