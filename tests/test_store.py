"""The store's queries on a published sample warehouse: the fast paths (code range without an
IN list, pre-aggregated listings) answer exactly what a plain scan of the facts answers."""

import shutil

import duckdb
import pytest

from dashboard import store
from etl import pipeline, warehouse
from etl.catalog import load_catalog
from etl.regions import load_registry


@pytest.fixture(scope="module")
def facts_table(sample):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MZ_DATA_DIR", str(sample))
        con = duckdb.connect(str(warehouse.current_db(sample)), read_only=True)
        yield con.execute("SELECT region_code, year, indicator_id, value, origin FROM facts").df()
        con.close()


def test_a_city_with_all_its_counties_is_read_by_code_range_alone(facts_table):
    everything = ("610300", *store.counties_of("610300"))
    where, params = store._in_codes(everything)
    assert " IN " not in where and params == ("610300", max(everything))
    got = store.facts(everything, ("elderly_beds", "pop_60plus"))
    want = facts_table[
        facts_table["region_code"].isin(everything)
        & facts_table["indicator_id"].isin(["elderly_beds", "pop_60plus"])
    ]
    assert len(got) == len(want) > 0 and set(got["region_code"]) == set(want["region_code"])
    assert got["value"].sum() == pytest.approx(want["value"].sum())


def test_a_partial_selection_keeps_its_in_list(facts_table):
    some = ("610300", "610302", "610326")
    where, params = store._in_codes(some)
    assert " IN " in where and params[:3] == some
    got = store.facts(some, ("elderly_beds",))
    assert set(got["region_code"]) == set(some)
    assert len(got) == len(
        facts_table[facts_table["region_code"].isin(some) & (facts_table["indicator_id"] == "elderly_beds")]
    )


def test_years_and_listings_from_the_pre_aggregated_tables(facts_table):
    family = {"610300", *store.counties_of("610300")}
    want_years = sorted(facts_table.loc[facts_table["region_code"].isin(family), "year"].unique())
    assert store.years("610300") == tuple(int(y) for y in want_years)
    regions = store.regions()
    cities = sorted(c for c in facts_table["region_code"].unique() if regions.loc[c, "level"] == "city")
    assert sorted(store.cities_with_data()) == cities
    listed = store.regions_with_data()
    assert sorted(listed["code"]) == sorted(facts_table["region_code"].unique())
    assert (listed.set_index("code")["name"] == regions.loc[listed["code"], "name"]).all()
    assert store.fact_years() == sorted(int(y) for y in facts_table["year"].unique())
    assert store.category_names().to_dict() == {c.id: c.name_zh for c in load_catalog().categories.values()}
    assert list(store.category_names().index)[:3] == [
        "population",
        "social_relief",
        "elderly_care",
    ]  # catalog order


def test_a_caller_changing_its_answer_does_not_change_the_shared_one(facts_table):
    sql = "SELECT region_code, value FROM facts WHERE region_code = ? ORDER BY year, indicator_id"
    first = store.query(sql, ("610326",))
    before = first["value"].tolist()
    first.loc[first.index[0], "value"] = -1.0  # in place, on the frame the cache handed out
    first["region_code"] = "改过"
    again = store.query(sql, ("610326",))
    assert again["value"].tolist() == before and set(again["region_code"]) == {"610326"}


def test_per_version_answers_once_per_version_and_follows_a_publish(sample_template, tmp_path, monkeypatch):
    shutil.copytree(sample_template, tmp_path, dirs_exist_ok=True, symlinks=True)
    monkeypatch.setenv("MZ_DATA_DIR", str(tmp_path))
    calls = []

    @store.per_version(maxsize=4)
    def beds(city: str):
        calls.append(city)
        return store.facts((city,), ("elderly_beds",), 2025, 2025)

    first = beds("610300")
    first.loc[first.index[0], "value"] = -1.0  # a caller's change stays in its own copy
    assert beds("610300")["value"].iloc[0] > 0 and calls == ["610300"]
    old = store.current_db()
    counties = load_registry().frame().query("parent_code == '610300' and kind == 'county'")["code"]
    update = tmp_path / "宝鸡2025.csv"
    update.write_text(
        "区划代码,年份,指标,数值,单位\n" + "".join(f"{c},2025,养老床位数,1000,张\n" for c in counties),
        encoding="utf-8",
    )
    assert pipeline.load(tmp_path, [update]).ok  # publishes a new version
    assert store.current_db() != old and store.version() == warehouse.current_version(tmp_path)
    assert beds("610300")["value"].iloc[0] == 1000 * len(counties) and calls == ["610300", "610300"]


def test_per_version_refuses_a_function_of_a_page_script():
    def in_a_page():
        return 1

    in_a_page.__module__ = "__main__"  # how Streamlit runs a page: anew on every rerun
    with pytest.raises(TypeError, match="dashboard module"):
        store.per_version(maxsize=1)(in_a_page)


def test_answers_come_in_region_indicator_year_order_without_a_sort(facts_table):
    # the store's queries rely on the stored order (etl writes facts sorted; DuckDB keeps it)
    got = store.facts(("610300", "610302", "610326"), ("pop_60plus", "elderly_beds"))
    assert len(got) > 20
    assert got.equals(got.sort_values(["region_code", "indicator_id", "year"], ignore_index=True))
    counties = store.children_values("610300", 2024, ("pop_60plus", "elderly_beds"))
    assert counties["region_code"].is_monotonic_increasing and len(counties) == 24
    assert list(store.years("610302")) == sorted(store.years("610302"))
    assert store.regions_with_data()["code"].is_monotonic_increasing
    assert store._reference(store.current_db(), "with_data").index.is_monotonic_increasing


def test_cached_answers_lists_what_the_per_version_caches_hold(facts_table):
    @store.per_version(maxsize=2)
    def doubled(n: int) -> tuple[int, ...]:
        return (n, n)

    for n in (1, 2, 3):
        doubled(n)
    held = [
        (args, answer)
        for function, args, _, answer in store.cached_answers()
        if function is doubled.__wrapped__
    ]
    assert held == [((2,), (2, 2)), ((3,), (3, 3))]  # at most maxsize, the oldest forgotten
    store.clear_caches()
    assert not [f for f, *_ in store.cached_answers() if f is doubled.__wrapped__]


def test_a_selection_total_is_made_by_the_warehouse_rules(facts_table):
    """All counties selected: every total equals the city's own derived one (computed by the
    build); two counties: sums and ratios of summed parts, computed here independently."""
    counties = store.counties_of("610300")
    every = store.selection_facts("610300", counties, 2016, 2025).set_index(["year", "indicator_id"])["value"]
    city = facts_table[(facts_table["region_code"] == "610300") & (facts_table["origin"] != "reported")]
    city = city.set_index(["year", "indicator_id"])["value"]
    assert len(city) > 100 and every.reindex(city.index).to_numpy() == pytest.approx(
        city.to_numpy(), rel=1e-12
    )

    two = store.selection_facts("610300", counties[:2], 2016, 2025).set_index(["year", "indicator_id"])[
        "value"
    ]
    rows = facts_table[facts_table["region_code"].isin(counties[:2]) & (facts_table["year"] == 2024)]
    part = rows.pivot_table(index="indicator_id", columns="region_code", values="value")
    beds, elderly = part.loc["elderly_beds"].sum(), part.loc["pop_60plus"].sum()
    assert two[(2024, "elderly_beds")] == pytest.approx(beds, rel=1e-12)
    assert two[(2024, "beds_per_1000_elderly")] == pytest.approx(beds / elderly * 1000, rel=1e-12)
    mean = (part.loc["beds_per_1000_elderly"]).mean()  # not the mean of the counties' ratios
    assert two[(2024, "beds_per_1000_elderly")] != pytest.approx(mean, rel=1e-6)
