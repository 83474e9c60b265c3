"""The overview page, run with AppTest against real warehouses built by the ETL."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from etl import pipeline, warehouse
from etl.regions import load_registry
from tests.util import write_long_csv

BAOJI = "610300"
APP = str(Path(__file__).resolve().parents[1] / "app.py")


def county_values(i: int, year: int) -> dict:
    """Hand-made inputs: county i of 宝鸡 in `year` (2024 is 2023 plus a known step)."""
    step = year - 2023
    return {
        "城市低保人数": 100 + i + 10 * step,
        "农村低保人数": 1000 + 10 * i,
        "养老床位数": 500 + 20 * i + 30 * step,
        "60岁及以上老年人口": 20_000 + 1_000 * i,
        "慈善募集资金": 50.5 + i + step,
        "持证社会工作者人数": 30 + i,
        "常住人口": 200_000 + 5_000 * i,
    }


@pytest.fixture(scope="module")
def real_data(tmp_path_factory):
    base = tmp_path_factory.mktemp("real")
    counties = [r.code for r in load_registry().counties_of_city(BAOJI)]
    rows = "".join(
        f",{code},{year},{name},{value},\n"
        for year in (2023, 2024)
        for i, code in enumerate(counties)
        for name, value in county_values(i, year).items()
    )
    outcome = pipeline.load(base, [write_long_csv(base.parent / "baoji.csv", rows)])
    assert outcome.ok, outcome.issues.items[:3]
    return base, len(counties)


@pytest.fixture(scope="module")
def first_start(tmp_path_factory):
    """A fresh data dir, as on a fresh clone: the app must build the sample warehouse itself."""
    base = tmp_path_factory.mktemp("fresh")
    with pytest.MonkeyPatch.context() as mp:
        at = run(mp, base)
    return base, at


def run(monkeypatch, base, **params) -> AppTest:
    monkeypatch.setenv("MZ_DATA_DIR", str(base))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def totals(n: int, year: int) -> dict:
    parts = [county_values(i, year) for i in range(n)]
    return {k: sum(p[k] for p in parts) for k in parts[0]}


def test_kpis_match_an_independent_computation(monkeypatch, real_data):
    base, n = real_data
    at = run(monkeypatch, base)
    cards = {m.label: (m.value, m.delta) for m in at.metric}
    now, before = totals(n, 2024), totals(n, 2023)
    dibao_now = now["城市低保人数"] + now["农村低保人数"]
    dibao_before = before["城市低保人数"] + before["农村低保人数"]
    beds = now["养老床位数"] / now["60岁及以上老年人口"] * 1000
    beds_before = before["养老床位数"] / before["60岁及以上老年人口"] * 1000
    assert cards["低保人数（城乡合计）"] == (
        f"{dibao_now / 10_000:.2f}万人",
        f"+{(dibao_now / dibao_before - 1) * 100:.1f}%",
    )
    assert cards["每千名老年人养老床位数"] == (f"{beds:.1f}张", f"+{(beds / beds_before - 1) * 100:.1f}%")
    assert cards["慈善募集资金"][0] == f"{now['慈善募集资金']:,.1f}万元"
    assert cards["每万人持证社工数"] == (
        f"{now['持证社会工作者人数'] / now['常住人口'] * 10_000:.1f}人",
        "0.0%",
    )
    assert not [w for w in at.warning if "示例数据" in w.value]
    assert any(f"{n} / {n}" in c.value for c in at.caption)
    assert (at.query_params["region"], at.query_params["to"]) == (BAOJI, "2024")


def test_year_from_the_url(monkeypatch, real_data):
    base, n = real_data
    at = run(monkeypatch, base, to="2023")
    cards = {m.label: (m.value, m.delta) for m in at.metric}
    then = totals(n, 2023)
    assert cards["慈善募集资金"] == (f"{then['慈善募集资金']:,.1f}万元", "")  # no 2022: no 同比


def test_first_start_builds_the_sample_warehouse(first_start):
    base, at = first_start
    assert warehouse.current_db(base) is not None
    assert warehouse.read_manifest(base, warehouse.current_version(base))["is_sample"] is True
    assert any("示例数据" in w.value for w in at.warning)
    assert at.sidebar.selectbox[0].value == BAOJI  # the default city


def test_sample_banner_and_city_from_url(monkeypatch, first_start):
    at = run(monkeypatch, first_start[0], city="350100")
    assert any("示例数据" in w.value for w in at.warning)
    assert at.sidebar.selectbox[0].value == "350100"
    assert "福州市" in at.caption[0].value and "示例数据" in at.caption[0].value
    assert len(at.metric) == 8 and all(m.value != "—" for m in at.metric)  # 4 mission + 4 topic cards
