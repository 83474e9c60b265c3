"""The indicator catalog: schema, contract ids, and how form labels resolve to indicators."""

import copy

import pandas as pd
import pytest
import yaml

from etl.catalog import CONTRACT_UNITS, catalog_from_data, load_catalog, read_catalog_data, validate_catalog
from etl.paths import CATALOG_FILE


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture
def data():
    return copy.deepcopy(read_catalog_data())


def test_shipped_catalog_is_valid(data, catalog):
    assert validate_catalog(data) == []
    assert len(catalog.indicators) >= 30
    assert (
        {i.category for i in catalog.indicators.values()}
        == set(catalog.categories)
        == {
            "population",
            "social_relief",
            "elderly_care",
            "charity",
            "social_work",
            "disability",
            "social_affairs",
        }
    )
    for ind in catalog.indicators.values():
        assert ind.definition and ind.source and ind.name_en and ind.aliases, ind.id


def test_contract_ids_units_and_rules(catalog):
    for ind_id, unit in CONTRACT_UNITS.items():
        assert catalog.get(ind_id).unit == unit
    beds = catalog.get("beds_per_1000_elderly")
    assert (beds.agg, beds.numerator, beds.denominator, beds.scale) == (
        "ratio",
        ("elderly_beds",),
        ("pop_60plus",),
        1000,
    )
    assert beds.display_unit == "张/千名老年人"
    assert [(t.op, t.value) for t in beds.targets] == [(">=", 35)]
    workers = catalog.get("social_workers_per_10k")
    assert (workers.numerator, workers.denominator, workers.scale) == (
        ("certified_social_workers",),
        ("population",),
        10000,
    )
    assert catalog.get("dibao_urban_standard").weight == "dibao_urban_persons"
    assert catalog.dependencies("dibao_coverage_rate") == (
        "dibao_urban_persons",
        "dibao_rural_persons",
        "population",
    )


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: d["indicators"].append(copy.deepcopy(d["indicators"][0])), "duplicate id"),
        (lambda d: d["indicators"][0].update(category="nope"), "unknown category"),
        (
            lambda d: next(i for i in d["indicators"] if i["id"] == "beds_per_1000_elderly").update(
                numerator=["beds"]
            ),
            "ratio parts",
        ),
        (lambda d: d["indicators"][3]["aliases"].append(d["indicators"][2]["aliases"][0]), "already means"),
        (
            lambda d: next(i for i in d["indicators"] if i.get("targets"))["targets"][0].update(op="=>"),
            "target needs",
        ),
        (lambda d: d["indicators"][0].update(agg="mean"), "agg must be"),
        (
            lambda d: next(i for i in d["indicators"] if i["id"] == "elderly_beds").update(unit="万张"),
            "contract indicator",
        ),
        (lambda d: d["indicators"].pop(0), "contract indicator population missing"),
        (lambda d: d["indicators"][0].update(id="Population-Total"), "snake_case"),
        (lambda d: d["indicators"][0].update(decimals=7), "decimals"),
        (lambda d: d["indicators"][0].pop("definition"), "'definition' missing"),
        (
            lambda d: next(i for i in d["indicators"] if i["id"] == "beds_per_1000_elderly").update(scale=0),
            "positive scale",
        ),
        (
            lambda d: next(i for i in d["indicators"] if i["id"] == "nursing_bed_share").update(
                denominator=["beds_per_1000_elderly"]
            ),
            "ratio parts",
        ),
        (
            lambda d: next(i for i in d["indicators"] if i["id"] == "dibao_urban_standard").update(
                weight="dibao_funds_x"
            ),
            "weighted_mean needs",
        ),
        (lambda d: d["indicators"][1]["aliases"].append(d["indicators"][0]["name_zh"]), "already means"),
        (lambda d: d["indicators"][1]["aliases"].append(" （一） "), "empty after normalisation"),
        (
            lambda d: next(i for i in d["indicators"] if i["id"] == "dibao_rural_persons")[
                "context_aliases"
            ].append({"context": "城市最低生活保障", "label": "保障人数"}),
            "context alias",
        ),
        (
            lambda d: next(i for i in d["indicators"] if i.get("targets"))["targets"][0].update(
                year="2020年"
            ),
            "target needs",
        ),
        (lambda d: d["indicators"][0].update(yoy_bound=-1), "yoy_bound"),
        (lambda d: d["categories"].append(dict(d["categories"][0])), "duplicate category"),
    ],
)
def test_validation_catches_mistakes(data, mutate, expected):
    mutate(data)
    problems = validate_catalog(data)
    assert any(expected in p for p in problems), problems
    with pytest.raises(ValueError):
        catalog_from_data(data)


@pytest.mark.parametrize(
    "label,context,expected",
    [
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
    ],
)
def test_resolve(catalog, label, context, expected):
    found = catalog.resolve(label, context)
    assert (found.id if found else None) == expected


def test_suggest_and_frames(catalog):
    assert "城市低保人数" in catalog.suggest("城市低保人口")
    frame = catalog.frame()
    assert len(frame) == len(catalog.indicators) and frame["id"].is_unique
    assert {
        "id",
        "name_zh",
        "unit",
        "display_unit",
        "decimals",
        "agg",
        "higher_is_better",
        "definition",
        "source",
        "aliases",
        "formula",
    } <= set(frame.columns)
    # the formula names its parts in Chinese (指标说明 shows it), never by id
    formula = frame.set_index("id")["formula"]
    assert formula["beds_per_1000_elderly"] == "（养老床位数）÷（60岁及以上老年人口）× 1000"
    assert formula["dibao_urban_standard"] == "按城市低保人数加权平均"
    assert not formula.str.contains(r"[a-z]{2,}").any(), formula.to_dict()
    targets = catalog.targets_frame()
    assert targets[targets.indicator_id == "beds_per_1000_elderly"]["value"].tolist() == [35.0]
    assert catalog.categories_frame()["name_zh"].tolist()[:3] == ["人口", "社会救助", "养老服务"]


@pytest.mark.parametrize(
    "broken",
    [
        None,
        [],
        "x",
        {"categories": "x", "indicators": [1, None, "y"]},
        {"categories": [{"id": 1}], "indicators": [{"id": "a", "targets": [3], "context_aliases": ["x"]}]},
    ],
)
def test_validation_reports_rather_than_crashes(broken):
    problems = validate_catalog(broken)
    assert problems and all(isinstance(p, str) for p in problems)


def test_load_catalog_default_is_cached_and_bad_file_raises(tmp_path, data):
    assert load_catalog() is load_catalog(None) is load_catalog(CATALOG_FILE)
    ok = tmp_path / "ok.yaml"
    ok.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert list(load_catalog(ok).indicators) == list(load_catalog().indicators)
    data["indicators"][0]["category"] = "nope"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown category"):
        load_catalog(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("indicators: [\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_catalog(broken)


def test_every_name_and_alias_resolves_to_its_own_indicator(catalog):
    for ind in catalog.indicators.values():
        for text in (ind.id, ind.name_zh, *ind.aliases):
            found = catalog.resolve(text)
            assert found is not None and found.id == ind.id, (text, found)
            found = catalog.resolve(f"（一）{text}（{ind.unit}）")
            assert found is not None and found.id == ind.id, (text, found)
        for context, label in ind.context_aliases:
            assert catalog.resolve(label, f"二、{context}").id == ind.id, (context, label)


@pytest.mark.parametrize(
    "label,context,expected",
    [
        ("一、（一）城市低保人数", "", "dibao_urban_persons"),
        ("二、其中：护理型床位数", "", "nursing_beds"),
        ("1.养老床位数", "", "elderly_beds"),
        ("（1）养老床位数", "", "elderly_beds"),
        ("60岁及以上人口（人）", "", "pop_60plus"),
        ("乡镇（街道）社会工作站数（个）", "", "social_work_stations"),
        ("平均保障标准", "（二）农村最低生活保障", "dibao_rural_standard"),
        ("救助资金", "（四）临时救助", "temp_relief_funds"),
        ("保障人数", "（三）城乡医疗救助", None),
        (None, "", None),
        (123, "", None),
        ("", "城市最低生活保障", None),
    ],
)
def test_resolve_edge_cases(catalog, label, context, expected):
    found = catalog.resolve(label, context)
    assert (found.id if found else None) == expected


def test_display_rules_are_sensible(catalog):
    for ind in catalog.indicators.values():
        assert ind.category in catalog.categories
        assert ind.period in {"year_end", "year_total"}
        assert ind.yoy_bound is not None and 0.1 <= ind.yoy_bound <= 1.0, ind.id
        assert ind.max_value is not None, ind.id
        if ind.unit == "%":
            assert ind.is_ratio and ind.scale == 100 and ind.max_value <= 100, ind.id
        if ind.is_ratio:
            assert all(not catalog.get(p).is_ratio for p in catalog.dependencies(ind.id))
    assert catalog.get("dibao_funds_per_recipient").scale == 10000  # 万元 → 元
    assert catalog.get("population").display_unit == "人"  # defaults to unit
    assert catalog.dependencies("dibao_rural_standard") == ("dibao_rural_persons",)
    assert catalog.dependencies("population") == ()
    with pytest.raises(KeyError):
        catalog.get("no_such_indicator")


def test_frame_columns_and_types(catalog):
    frame = catalog.frame()
    assert list(frame["id"]) == list(catalog.indicators)
    for column in (
        "id",
        "name_zh",
        "name_en",
        "category",
        "unit",
        "display_unit",
        "decimals",
        "agg",
        "numerator",
        "denominator",
        "scale",
        "weight",
        "higher_is_better",
        "definition",
        "source",
        "period",
        "aliases",
    ):
        assert column in frame.columns, column
    assert str(frame["higher_is_better"].dtype) == "boolean"
    row = frame.set_index("id").loc["dibao_coverage_rate"]
    assert (
        row["numerator"] == "dibao_urban_persons,dibao_rural_persons" and row["denominator"] == "population"
    )
    assert pd.isna(frame.set_index("id").loc["dibao_urban_persons", "higher_is_better"])
    assert "城镇居民最低生活保障人数" in frame.set_index("id").loc["dibao_urban_persons", "aliases"].split(
        "；"
    )
    targets = catalog.targets_frame()
    assert list(targets.columns) == ["indicator_id", "value", "op", "year", "scope", "source", "note"]
    assert set(targets["indicator_id"]) <= set(catalog.indicators) and set(targets["op"]) <= {
        ">=",
        "<=",
        ">",
        "<",
    }
    cats = catalog.categories_frame()
    assert list(cats.columns) == ["id", "name_zh", "name_en", "position"] and list(cats["position"]) == list(
        range(7)
    )
