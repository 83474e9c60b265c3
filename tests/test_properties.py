"""Property-based tests (hypothesis): whatever a cell holds, the input path answers with
issues, never with an exception.

Covered: the long-table reader on in-memory grids and through real CSV/xlsx files
(load_source → read_source → resolve), the unit parser and converter, and the upload-name
and text guards of etl/sources.py. etl/units.py has no error type of its own: an unknown unit
is `None`, so the property there is "returns normally".

Examples are derandomised and not stored (no .hypothesis/ folder in the checkout), so the
suite is reproducible; raise HYPOTHESIS_MAX_EXAMPLES locally for a longer hunt.
"""

from __future__ import annotations

import csv
import io
import math
import os
from fractions import Fraction

import numpy as np
import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import pipeline
from etl.catalog import load_catalog
from etl.issues import ERROR_CODES, WARNING_CODES, Issue
from etl.readers import RAW_COLUMNS, long_table, read_source
from etl.regions import load_registry
from etl.resolve import FACT_COLUMNS, resolve
from etl.settings import MAX_NAME_BYTES, MAX_NAME_CHARS, MAX_SHOWN_CHARS
from etl.sources import (
    Grid,
    Source,
    _size_issues,
    _text_issues,
    _text_problem,
    load_source,
    safe_upload_name,
    shorten,
)
from etl.units import clean_unit, conversion_factor, convert

EXAMPLES = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "200"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

CATALOG = load_catalog()
REGISTRY = load_registry()
HEADER = ["地区", "区划代码", "年份", "指标", "数值", "单位"]

# Values a clerk, a broken export or an attacker might put in a cell.
TRICKY = [
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e308",
    "-1e308",
    "1e-320",
    "0",
    "-0",
    "+5",
    "-5",
    "1,234",
    "1，234",
    "约300",
    "三百",
    "300人",
    "-",
    "—",
    "--",
    "/",
    "无",
    "",
    " ",
    "\u3000",
    "=1+1",
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "眉县",
    "凤县",
    "城关区",
    "610326",
    "610326.0",
    "999999",
    "2023",
    "2023年",
    "二〇二三",
    "2099",
    "城市低保人数",
    "养老床位数",
    "万人",
    "人",
    "张",
    "元/人·月",
    "‰",
    "%",
    "\x00",
    "\x07",
    "\u202e",
    "\ufeff",
    "𠀀",
    "a" * 2000,
    "眉" * 1200,
]
FINITE = st.floats(allow_nan=False, allow_infinity=False)
CELL = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.text(alphabet=st.characters(max_codepoint=0x40), max_size=8),  # controls, digits, signs
    st.sampled_from(TRICKY),
    st.integers(min_value=-(2**70), max_value=2**70),
    FINITE,
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324]),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
# Columns that usually hold sensible values, so that rows get past the first checks too.
REGION = st.one_of(st.sampled_from(["眉县", "凤县", "宝鸡市", "城关区", "陕西省"]), CELL)
CODE = st.one_of(st.sampled_from(["610326", "610330", 610326, 610326.0, None]), CELL)
YEAR = st.one_of(st.sampled_from([2021, 2022, 2023, "2023", 2023.0, None]), CELL)
INDICATOR = st.one_of(st.sampled_from(["城市低保人数", "养老床位数", "农村低保人数"]), CELL)
UNIT = st.one_of(st.sampled_from(["人", "万人", "张", "万张", "亿元", "元/人·月", None]), CELL)
ROW = st.tuples(REGION, CODE, YEAR, INDICATOR, CELL, UNIT).map(list)
RAGGED_ROW = st.one_of(ROW, st.lists(CELL, max_size=8))


def _check_issues(issues) -> None:
    for issue in issues:
        assert isinstance(issue, Issue) and issue.message
        assert issue.code in (ERROR_CODES if issue.severity == "error" else WARNING_CODES)


def _through_pipeline(source: Source) -> None:
    """read_source and resolve on a loaded file: issues and facts, never an exception.

    In-memory grids first pass the same guards load_source applies to files (resolve relies
    on them: it keys labels with "\x1f", which the control-character guard keeps out)."""
    guarded = _size_issues(source.grids, source.name) or _text_issues(source.grids, source.name)
    _check_issues(guarded)
    if guarded:
        return
    raw, issues = read_source(source)
    _check_issues(issues)
    facts, issues = resolve(raw, CATALOG, REGISTRY, default_scope=("610300",))
    _check_issues(issues)
    assert list(facts.columns) == FACT_COLUMNS
    assert np.isfinite(facts["value"].to_numpy(dtype=float)).all()


# ---------------------------------------------------------------- long-table reader
@PROPERTY
@given(st.lists(RAGGED_ROW, max_size=12))
def test_long_table_reader_on_any_grid(body):
    grid = Grid(file="g.xlsx", sheet="表1", rows=[list(HEADER)] + body)
    assert long_table.detect(grid)
    frame, issues = long_table.read(grid)
    _check_issues(issues)
    assert list(frame.columns) == RAW_COLUMNS
    assert len(frame) <= len(body)
    assert all(isinstance(r, (int, np.integer)) and 2 <= r <= len(body) + 1 for r in frame["row"])
    _through_pipeline(Source(path=None, name="g.xlsx", sha256="0" * 64, grids=[grid]))


@PROPERTY
@given(st.lists(st.lists(CELL, max_size=8), max_size=8))
def test_reader_dispatch_on_any_grid_without_a_header(rows):
    """No header at all (or a random one): some reader or a no_header error, nothing else."""
    _through_pipeline(
        Source(path=None, name="g.xlsx", sha256="0" * 64, grids=[Grid(file="g.xlsx", sheet="表1", rows=rows)])
    )


def _text(cell) -> str:
    return "" if cell is None else str(cell)


@PROPERTY
@given(st.lists(RAGGED_ROW, max_size=10), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_file_with_any_cells(tmp_path_factory, body, encoding):
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER] + [[_text(c) for c in row] for row in body])
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buf.getvalue().encode("utf-8")
    path = tmp_path_factory.mktemp("csv") / "input.csv"
    path.write_bytes(data)
    _load_and_check(path)


def _load_and_check(path) -> None:
    """A file is either refused with the project's issues or read, resolved and derived."""
    source, issues = load_source(path)
    _check_issues(issues)
    assert (source is None) == bool(issues)
    if source is not None:
        _through_pipeline(source)


def _xlsx_value(cell):
    """openpyxl refuses control characters and treats "=..." as a formula: store those as text."""
    if isinstance(cell, float) and not math.isfinite(cell):
        return str(cell)
    if isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) > 2**53:
        return str(cell)
    return cell


@settings(PROPERTY, max_examples=max(EXAMPLES // 2, 10))
@given(st.lists(RAGGED_ROW, max_size=8))
def test_xlsx_file_with_any_cells(tmp_path_factory, body):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r, row in enumerate(body, start=2):
        for c, cell in enumerate(row, start=1):
            value = _xlsx_value(cell)
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
            target = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                target.data_type = "s"  # "=1+1" stays text, as a clerk's typed text would
    path = tmp_path_factory.mktemp("xlsx") / "input.xlsx"
    wb.save(path)
    _load_and_check(path)


@PROPERTY
@given(
    st.binary(max_size=600), st.sampled_from([".csv", ".xlsx", ".xls", ".xlsm", ".ods", ".txt", ".pdf", ""])
)
def test_any_bytes_under_any_suffix(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"input{suffix}"
    path.write_bytes(data)
    _load_and_check(path)


# ---------------------------------------------------------------- units
CATALOG_UNITS = sorted(
    {(i.unit, i.display_unit or "", i.scale if i.is_ratio else None) for i in CATALOG.indicators.values()},
    key=str,
)
UNIT_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "万人",
            "亿元",
            "元/人·年",
            "元/人・月",
            "‰",
            "%",
            "张/千名老人",
            "人/万人",
            "十万人",
            "百万元",
            "万 人",
            "（万人）",
            "\x00",
            "\u202e人",
            "ｍ",
            "𠀀",
        ]
    ),
    st.none(),
    st.integers(),
    st.floats(),
    st.booleans(),
)


@PROPERTY
@given(UNIT_TEXT, st.sampled_from(CATALOG_UNITS))
def test_conversion_factor_returns_a_positive_fraction_or_none(given_unit, target):
    unit, display, scale = target
    factor = conversion_factor(given_unit, unit, display, scale)
    assert factor is None or (isinstance(factor, Fraction) and factor > 0)
    assert isinstance(clean_unit(given_unit), str)


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.one_of(FINITE, st.sampled_from([math.nan, math.inf, -math.inf])),
            st.sampled_from(["人", "万人", "亿元", "元", "千元", "十万人", "元/人·年", "%"]),
            st.sampled_from(CATALOG_UNITS),
        ),
        max_size=20,
    )
)
def test_convert_keeps_length_and_finiteness(rows):
    values, factors = [], []
    for value, given_unit, (unit, display, scale) in rows:
        factor = conversion_factor(given_unit, unit, display, scale)
        if factor is not None:
            values.append(value)
            factors.append(factor)
    out = convert(pd.Series(values, dtype="float64"), pd.Series(factors, dtype=object))
    assert out.dtype == np.float64 and len(out) == len(values)
    for v, f, o in zip(values, factors, out):
        if math.isnan(v):
            assert math.isnan(o)
        elif f == 1:
            assert o == v
        elif math.isfinite(v):
            # convert goes through the decimal text of v: equal up to rounding (subnormals: precision)
            assert math.isfinite(o) and math.isclose(o, v * float(f), rel_tol=1e-9, abs_tol=1e-300)


def test_convert_does_not_overflow_on_the_largest_floats():
    out = convert(pd.Series([1.7e308, -1.7e308]), pd.Series([Fraction(10_000)] * 2))
    assert out.tolist() == [math.inf, -math.inf]


def test_a_value_beyond_the_double_range_is_out_of_range(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(
        "地区,区划代码,年份,指标,数值,单位\n眉县,610326,2023,60岁及以上人口,1.7e308,万人\n", encoding="utf-8"
    )
    outcome = pipeline.load(tmp_path / "data", [path])
    assert [i.code for i in outcome.issues.errors] == ["out_of_range"]


# ---------------------------------------------------------------- names and text guards
@PROPERTY
@given(st.one_of(st.text(max_size=300), st.text(alphabet="./\\ \t\r\n:眉a\x00\u202e", max_size=40)))
def test_safe_upload_name_is_always_a_plain_base_name(name):
    safe = safe_upload_name(name)
    assert safe and len(safe) <= MAX_NAME_CHARS and len(safe.encode("utf-8")) <= MAX_NAME_BYTES
    assert "/" not in safe and "\\" not in safe and not safe.startswith((".", " "))
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in safe)
    assert safe not in (".", "..")
    assert safe_upload_name(safe) == safe  # idempotent


@PROPERTY
@given(st.text(max_size=3000))
def test_text_guard_and_shorten_never_raise(text):
    problem = _text_problem(text)
    assert problem is None or problem[0] in ERROR_CODES
    shown = shorten(text)
    assert len(shown) <= MAX_SHOWN_CHARS + 1
    assert not any(ord(ch) < 0x20 for ch in shown)
