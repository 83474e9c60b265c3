"""Aggregation and derivation: complete parents only, reported totals win, ratio of sums."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from etl import warehouse
from etl.catalog import load_catalog
from etl.derive import derive
from etl.regions import load_registry

BAOJI = "610300"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def counties(registry, city=BAOJI):
    return [r.code for r in registry.counties_of_city(city)]


def facts(rows):
    return pd.DataFrame(rows, columns=["region_code", "year", "indicator_id", "value"]).astype(
        {"year": "int32", "value": "float64"}
    )


def value(out, code, ind, year=2023):
    hit = out[(out.region_code == code) & (out.indicator_id == ind) & (out.year == year)]
    return None if hit.empty else (hit.value.iloc[0], hit.origin.iloc[0])


def test_ratio_is_ratio_of_sums_not_mean_of_ratios(catalog, registry):
    codes = counties(registry)
    beds = {c: 100.0 + 37 * i for i, c in enumerate(codes)}
    elderly = {c: 2000.0 + 1500 * i * i for i, c in enumerate(codes)}
    rows = [(c, 2023, "elderly_beds", beds[c]) for c in codes] + [
        (c, 2023, "pop_60plus", elderly[c]) for c in codes
    ]
    out, issues = derive(facts(rows), catalog, registry)
    expected = sum(beds.values()) / sum(elderly.values()) * 1000
    mean_of_ratios = sum(beds[c] / elderly[c] * 1000 for c in codes) / len(codes)
    got, origin = value(out, BAOJI, "beds_per_1000_elderly")
    assert got == pytest.approx(expected, rel=1e-12) and origin == "derived"
    assert abs(got - mean_of_ratios) > 1  # the data is built so the wrong method would show
    assert value(out, BAOJI, "elderly_beds") == (sum(beds.values()), "aggregated")
    assert value(out, codes[3], "beds_per_1000_elderly")[0] == pytest.approx(
        beds[codes[3]] / elderly[codes[3]] * 1000
    )
    assert value(out, codes[0], "elderly_beds") == (beds[codes[0]], "reported")
    assert not issues


def test_no_city_row_when_a_county_is_missing(catalog, registry):
    codes = counties(registry)
    rows = [(c, 2023, "elderly_beds", 10.0) for c in codes[:-1]]
    out, _ = derive(facts(rows), catalog, registry)
    assert value(out, BAOJI, "elderly_beds") is None
    assert len(out) == len(codes) - 1


def test_reported_total_wins_and_mismatch_over_one_percent_warns(catalog, registry):
    codes = counties(registry)
    rows = [(c, y, "tekun_persons", 100.0) for c in codes for y in (2022, 2023)]
    rows += [
        (BAOJI, 2022, "tekun_persons", 1205.0),  # 0.4 % off the sum 1200: no warning
        (BAOJI, 2023, "tekun_persons", 1300.0),
    ]  # 8.3 % off: warning
    out, issues = derive(facts(rows), catalog, registry)
    assert value(out, BAOJI, "tekun_persons", 2022) == (1205.0, "reported")
    assert value(out, BAOJI, "tekun_persons", 2023) == (1300.0, "reported")
    assert [(i.code, "宝鸡市2023年" in i.message) for i in issues] == [("total_mismatch", True)]


def test_weighted_mean_standard_and_list_numerator(catalog, registry):
    codes = counties(registry)
    persons = {c: 100.0 * (i + 1) for i, c in enumerate(codes)}
    standard = {c: 600.0 + 10 * i for i, c in enumerate(codes)}
    rows = [(c, 2023, "dibao_urban_persons", persons[c]) for c in codes]
    rows += [(c, 2023, "dibao_urban_standard", standard[c]) for c in codes]
    rows += [(c, 2023, "dibao_rural_persons", 50.0) for c in codes]
    rows += [(c, 2023, "population", 100_000.0) for c in codes]
    out, _ = derive(facts(rows), catalog, registry)
    weighted = sum(persons[c] * standard[c] for c in codes) / sum(persons.values())
    assert value(out, BAOJI, "dibao_urban_standard")[0] == pytest.approx(weighted)
    coverage = (sum(persons.values()) + 50 * len(codes)) / (100_000 * len(codes)) * 100
    assert value(out, BAOJI, "dibao_coverage_rate") == (pytest.approx(coverage), "derived")


def test_province_row_only_when_every_city_is_complete(catalog, registry):
    province = "640000"  # 宁夏: five cities
    cities = [r.code for r in registry.children(province)]
    all_counties = [c for city in cities for c in counties(registry, city)]
    rows = [(c, 2023, "marriage_registrations", 1.0) for c in all_counties]
    out, _ = derive(facts(rows), catalog, registry)
    assert value(out, province, "marriage_registrations") == (float(len(all_counties)), "aggregated")
    out, _ = derive(facts(rows[1:]), catalog, registry)
    assert value(out, province, "marriage_registrations") is None


def test_facts_come_in_the_warehouses_stored_order(catalog, registry):
    """derive hands the warehouse its facts sorted by region_code, indicator_id, year (texts by
    their bytes, as DuckDB's ORDER BY): `prepare` then leaves them where they are
    (`warehouse._storage_order` is None) instead of sorting a million rows. Rows come in
    shuffled, over two years and several indicators, so a wrong order shows."""
    codes = counties(registry)
    rows = [
        (c, year, ind, 10.0 + k)
        for k, c in enumerate(codes)
        for year in (2024, 2023)
        for ind in ("pop_60plus", "elderly_beds", "population", "certified_social_workers")
    ]
    shuffled = facts(rows).sample(frac=1, random_state=3).reset_index(drop=True)
    out, _ = derive(shuffled, catalog, registry)
    assert {"reported", "aggregated", "derived"} <= set(out["origin"])
    key = out[["region_code", "indicator_id", "year"]].astype({"region_code": "str", "indicator_id": "str"})
    assert key.equals(key.sort_values(["region_code", "indicator_id", "year"], ignore_index=True))
    table = pa.Table.from_pandas(out, preserve_index=False)
    assert warehouse._storage_order(table) is None
    assert warehouse._storage_order(table.take(np.arange(len(table))[::-1])) is not None
