"""resolve: label work once per distinct value, broadcast back to every row, with each
message pointing at the first row that carries the label."""

import gc

import numpy as np
import pandas as pd
import pytest

from etl import pipeline
from etl.catalog import load_catalog
from etl.readers import raw_frame, read_source
from etl.regions import load_registry
from etl.resolve import Distinct, resolve
from etl.sources import load_source

CATALOG, REGISTRY = load_catalog(), load_registry()


def test_distinct_combinations_in_order_of_first_appearance():
    d = Distinct(
        pd.Series(["b", "a", "b", None, "a"], dtype=object), pd.Series([1, 1, 1, 1, 2], dtype=object)
    )
    assert d.keys == [("b", 1), ("a", 1), (None, 1), ("a", 2)]
    assert list(d.first) == [0, 1, 3, 4]
    assert list(d.inverse) == [0, 1, 0, 2, 3]
    assert list(np.array(["B", "A", "-", "A2"])[d.inverse]) == ["B", "A", "B", "-", "A2"]
    assert list(d.counts()) == [2, 1, 1, 1]


def test_distinct_keeps_true_apart_from_one():
    # hashing alone would put the boolean cell True in the group of the number 1
    d = Distinct(pd.Series([1, True, 1, "1"], dtype=object))
    assert [k[0] for k in d.keys] == [1, True, "1"] and [type(k[0]) for k in d.keys] == [int, bool, str]
    assert list(d.inverse) == [0, 1, 0, 2]


def test_distinct_takes_integer_codes_as_they_are():
    # codes made by an earlier step (a row's indicator number, -1 for none) combine with object columns
    d = Distinct(pd.Series(["b", "a", "b", None, "a"], dtype=object), np.array([7, 7, 7, 7, -1]))
    assert d.keys == [("b", 7), ("a", 7), (None, 7), ("a", -1)]
    assert list(d.first) == [0, 1, 3, 4] and list(d.inverse) == [0, 1, 0, 2, 3]


def _rows(n_good: int, bad_region: str, bad_year: object) -> pd.DataFrame:
    rows = [
        {
            "sheet": "表1",
            "row": 2 + i,
            "column": "E",
            "region": "眉县",
            "year": 2016 + i,
            "indicator": "养老床位数",
            "unit": "张",
            "value": 100 + i,
        }
        for i in range(n_good)
    ]
    rows += [
        {
            "sheet": "表1",
            "row": 2 + n_good + i,
            "column": "E",
            "region": bad_region,
            "year": 2023,
            "indicator": "养老床位数",
            "unit": "张",
            "value": 1,
        }
        for i in range(3)
    ]
    rows.append(
        {
            "sheet": "表1",
            "row": 2 + n_good + 3,
            "column": "E",
            "region": "凤县",
            "year": bad_year,
            "indicator": "养老床位数",
            "unit": "万张",
            "value": 2,
        }
    )
    return raw_frame(rows).assign(shape="long_table", file="f.csv", file_sha256="0" * 64)


def test_one_message_per_label_at_its_first_row_and_values_broadcast():
    facts, issues = resolve(_rows(5, "火星县", 2022), CATALOG, REGISTRY, default_scope=("610300",))
    unknown = [i for i in issues if i.code == "unknown_region"]
    assert len(unknown) == 1 and unknown[0].row == 7 and "火星县" in unknown[0].message
    mei = facts[facts["region_code"] == "610326"].sort_values("row")
    assert list(mei["value"]) == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert list(mei["year"]) == [2016, 2017, 2018, 2019, 2020]
    feng = facts[facts["region_code"] == "610330"]
    assert list(feng["value"]) == [20000.0] and list(feng["year"]) == [2022]  # 2 万张 → 20,000 张


@pytest.mark.parametrize("year", [True, "二〇二二"])
def test_a_bad_year_is_reported_once_at_its_row(year):
    _, issues = resolve(_rows(2, "眉县", year), CATALOG, REGISTRY, default_scope=("610300",))
    bad = [i for i in issues if i.code == "year_invalid"]
    assert len(bad) == 1 and bad[0].row == 7 and bad[0].value == str(year)


def test_builds_pause_the_garbage_collector_and_restore_it(tmp_path, monkeypatch):
    seen = []
    real = pipeline.read_files
    monkeypatch.setattr(
        pipeline, "read_files", lambda *a, **k: (seen.append(gc.isenabled()), real(*a, **k))[1]
    )
    assert gc.isenabled()
    assert pipeline.build(tmp_path).ok
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        pipeline.build(tmp_path)
        assert not gc.isenabled()  # a caller's own choice is left as it was
    finally:
        gc.enable()


def _csv_raw(tmp_path, body: str) -> pd.DataFrame:
    path = tmp_path / "t.csv"
    path.write_text("地区,区划代码,年份,指标,数值,单位\n" + body, encoding="utf-8")
    source, problems = load_source(path)
    assert not problems
    raw, problems = read_source(source)
    assert not problems
    return raw


def test_each_rule_once_per_distinct_cell_with_messages_at_first_rows(tmp_path):
    # a plain CSV (read column-wise): full-width comma, no-data dash, text, bad year, 1e400,
    # name/code mismatch
    raw = _csv_raw(
        tmp_path,
        "眉县,,2020,养老床位数,1，300,张\n火星县,,2020,养老床位数,5,张\n凤县,,2021,养老床位数,约300,张\n"
        "眉县,610330,2022,养老床位数,—,张\n,610326,2022,养老床位数,2,万张\n眉县,,2020,养老床位数,1300,张\n"
        ",,二〇二二,养老床位数,1e400,张\n眉县,,2021,养老床位数,-4,张\n",
    )
    facts, issues = resolve(raw, CATALOG, REGISTRY, default_scope=("610300",))
    assert [(i.code, i.row) for i in issues] == [
        ("unknown_region", 3),
        ("unknown_region", 8),
        ("region_mismatch", 5),
        ("year_invalid", 8),
        ("not_a_number", 4),
        ("not_a_number", 8),
        ("negative", 9),
    ]
    assert facts.set_index("row")["value"].to_dict() == {
        2: 1300.0,
        6: 20000.0,
        9: -4.0,
    }  # row 7 repeats row 2


def test_values_are_read_once_per_distinct_cell_but_booleans_never_count_as_one():
    rows = [
        {
            "sheet": "s",
            "row": 2 + k,
            "column": "E",
            "region": "眉县",
            "year": 2000 + k,
            "indicator": "养老床位数",
            "unit": "张",
            "value": v,
        }
        for k, v in enumerate([1, True, 1.0, "1", "1,300", float("inf")])
    ]
    facts, issues = resolve(
        raw_frame(rows).assign(shape="long_table", file="f.xlsx", file_sha256="0" * 64), CATALOG, REGISTRY
    )
    assert facts.set_index("row")["value"].to_dict() == {2: 1.0, 4: 1.0, 5: 1.0, 6: 1300.0}
    assert [(i.row, i.value) for i in issues if i.code == "not_a_number"] == [(3, "True"), (7, "inf")]
