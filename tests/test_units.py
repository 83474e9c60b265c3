"""Unit conversion must be exact: published figures like 2.3万张 must become 23000 张, not 22999.99…"""

from fractions import Fraction

import pandas as pd
import pytest

from etl.units import clean_unit, conversion_factor, convert


@pytest.mark.parametrize(
    "given, unit, factor",
    [
        ("万人", "人", 10_000),
        ("人", "人", 1),
        (None, "人", 1),
        ("", "万元", 1),
        ("亿元", "万元", 10_000),
        ("元", "万元", Fraction(1, 10_000)),
        ("千元", "万元", Fraction(1, 10)),
        ("万张", "张", 10_000),
        ("万人次", "人次", 10_000),
        ("次", "人次", 1),
        ("万对", "对", 10_000),
        ("名", "人", 1),
        ("个", "家", 1),
        ("所", "家", 1),
        ("万户", "户", 10_000),
    ],
)
def test_count_and_money_factors(given, unit, factor):
    assert conversion_factor(given, unit) == factor


def test_monthly_standard_accepts_spellings_and_converts_yearly():
    for spelling in ("元/人·月", "元/人・月", "元/人/月", "元 / 人·月", "元/月·人"):
        assert conversion_factor(spelling, "元/人·月") == 1
    assert conversion_factor("元/人·年", "元/人·月") == Fraction(1, 12)
    assert conversion_factor("元/人/年", "元/人·月") == Fraction(1, 12)
    assert conversion_factor("万元", "元/人·月") is None


def test_ratio_units_by_scale():
    assert conversion_factor("‰", "张", "张/千名老年人", 1000) == 1
    assert conversion_factor("张/千名老年人", "张", "张/千名老年人", 1000) == 1
    assert conversion_factor("人/万人", "人", "人/万人", 10000) == 1
    assert conversion_factor("名/万人", "人", "人/万人", 10000) == 1
    assert conversion_factor("％", "%") == 1
    assert conversion_factor("‰", "%") is None


def test_incompatible_units_are_rejected():
    assert conversion_factor("公斤", "人") is None
    assert conversion_factor("万元", "人") is None
    assert conversion_factor("张", "人") is None


def test_convert_is_exact_for_published_figures():
    values = pd.Series([2.3, 3931.033, 5.73, 0.71, 4.17, 1.24])
    factors = pd.Series([Fraction(10_000)] * 6)
    assert convert(values, factors).tolist() == [23000.0, 39310330.0, 57300.0, 7100.0, 41700.0, 12400.0]


def test_convert_yearly_standard_to_monthly():
    out = convert(pd.Series([6960.0, 100.0]), pd.Series([Fraction(1, 12), Fraction(1, 12)]))
    assert out.tolist() == [580.0, 100 / 12]


def test_convert_leaves_factor_one_untouched():
    values = pd.Series([0.1 + 0.2, 7.0])
    assert convert(values, pd.Series([Fraction(1), Fraction(1)])).tolist() == [0.1 + 0.2, 7.0]


def test_clean_unit():
    assert clean_unit(" 元／人・月 ") == "元/人·月"
    assert clean_unit(None) == ""
