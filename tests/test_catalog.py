"""The indicator catalog: schema, contract ids, and how form labels resolve to indicators."""
import copy

import pytest

from etl.catalog import CONTRACT_UNITS, catalog_from_data, load_catalog, read_catalog_data, validate_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture
def data():
    return copy.deepcopy(read_catalog_data())


def test_shipped_catalog_is_valid(data, catalog):
    assert validate_catalog(data) == []
    assert len(catalog.indicators) >= 30
    assert {i.category for i in catalog.indicators.values()} == set(catalog.categories) == {
        "population", "social_relief", "elderly_care", "charity", "social_work", "disability", "social_affairs"}
    for ind in catalog.indicators.values():
        assert ind.definition and ind.source and ind.name_en and ind.aliases, ind.id


def test_contract_ids_units_and_rules(catalog):
    for ind_id, unit in CONTRACT_UNITS.items():
        assert catalog.get(ind_id).unit == unit
    beds = catalog.get("beds_per_1000_elderly")
    assert (beds.agg, beds.numerator, beds.denominator, beds.scale) == ("ratio", ("elderly_beds",), ("pop_60plus",), 1000)
    assert beds.display_unit == "张/千名老年人"
    assert [(t.op, t.value) for t in beds.targets] == [(">=", 35)]
    workers = catalog.get("social_workers_per_10k")
    assert (workers.numerator, workers.denominator, workers.scale) == (("certified_social_workers",), ("population",), 10000)
    assert catalog.get("dibao_urban_standard").weight == "dibao_urban_persons"
    assert catalog.dependencies("dibao_coverage_rate") == ("dibao_urban_persons", "dibao_rural_persons", "population")


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d["indicators"].append(copy.deepcopy(d["indicators"][0])), "duplicate id"),
    (lambda d: d["indicators"][0].update(category="nope"), "unknown category"),
    (lambda d: next(i for i in d["indicators"] if i["id"] == "beds_per_1000_elderly").update(numerator=["beds"]),
     "ratio parts"),
    (lambda d: d["indicators"][3]["aliases"].append(d["indicators"][2]["aliases"][0]), "already means"),
    (lambda d: next(i for i in d["indicators"] if i.get("targets"))["targets"][0].update(op="=>"), "target needs"),
    (lambda d: d["indicators"][0].update(agg="mean"), "agg must be"),
    (lambda d: next(i for i in d["indicators"] if i["id"] == "elderly_beds").update(unit="万张"), "contract indicator"),
])
def test_validation_catches_mistakes(data, mutate, expected):
    mutate(data)
    problems = validate_catalog(data)
    assert any(expected in p for p in problems), problems
    with pytest.raises(ValueError):
        catalog_from_data(data)


@pytest.mark.parametrize("label,context,expected", [
    ("城镇居民最低生活保障人数(万人)", "", "dibao_urban_persons"),
    ("城镇居民最低生活保障人数（万人）", "", "dibao_urban_persons"),
    (" 每千名老年人 拥有养老床位数", "", "beds_per_1000_elderly"),
    ("一、养老床位数", "", "elderly_beds"),
    ("（三）临时救助人次", "", "temp_relief_cases"),
    ("其中：护理型床位数", "", "nursing_beds"),
    ("保障人数", "（二）农村最低生活保障", "dibao_rural_persons"),
    ("保障人数", "（一）城市最低生活保障", "dibao_urban_persons"),
    ("救助人次", "四、临时救助", "temp_relief_cases"),
    ("elderly_beds", "", "elderly_beds"),
    ("保障人数", "", None),
    ("城市低保人口数量合计", "", None),
])
def test_resolve(catalog, label, context, expected):
    found = catalog.resolve(label, context)
    assert (found.id if found else None) == expected


def test_suggest_and_frames(catalog):
    assert "城市低保人数" in catalog.suggest("城市低保人口")
    frame = catalog.frame()
    assert len(frame) == len(catalog.indicators) and frame["id"].is_unique
    assert {"id", "name_zh", "unit", "display_unit", "decimals", "agg", "higher_is_better", "definition",
            "source", "aliases", "formula"} <= set(frame.columns)
    targets = catalog.targets_frame()
    assert targets[targets.indicator_id == "beds_per_1000_elderly"]["value"].tolist() == [35.0]
    assert catalog.categories_frame()["name_zh"].tolist()[:3] == ["人口", "社会救助", "养老服务"]
