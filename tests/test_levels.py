"""Every level, every region (issue 20): 全国, a province, a city and the 兵团 each open every
topic page, 总览, 区县对比 (下级地区对比) and 演示 with their own children; the region, its children
and years round-trip through the URL; old `?city=` links still open; a province's ratio is the
ratio of its summed county parts; the national total exists only when every province has one."""

import shutil

import pandas as pd
import plotly.io
import pytest

from dashboard import geo
from etl import pipeline
from etl.catalog import load_catalog
from etl.derive import derive
from etl.regions import NATION, load_registry
from etl.sample import generate
from tests.util import numbers, open_page, query

NINGXIA = "640000"  # complete in the fixture: every county of its five cities reports
BAOJI = "610300"
BINGTUAN = "659000"  # 新疆生产建设兵团师市: the 兵团's 师市 are its children
TOPICS = ["social_relief", "elderly_care", "charity", "social_work"]
PAGES = ["overview", *TOPICS, "compare", "present"]
LEVELS = [NATION, "610000", NINGXIA, BAOJI, BINGTUAN]
# what the fixture reports for every 宁夏 county (index i): 2023, and 2024 5 % higher
PARTS = {
    "常住人口": (100_000, 7_919),
    "60岁及以上老年人口": (20_000, 311),
    "养老床位数": (1_000, 37),
    "持证社会工作者人数": (50, 13),
    "城市低保人数": (500, 17),
    "农村低保人数": (800, 23),
}
UNITS = {"养老床位数": "张"}


def ningxia_counties() -> list[tuple[str, str]]:
    frame = load_registry().frame()
    cities = frame[frame["parent_code"] == NINGXIA]["code"]
    counties = frame[frame["parent_code"].isin(cities) & (frame["kind"] == "county")]
    return list(zip(counties["code"], counties["name"]))


@pytest.fixture(scope="module")
def levels(tmp_path_factory):
    return build_levels(tmp_path_factory.mktemp("levels"))


def build_levels(base):
    """A data dir of the sample's files (宝鸡, 福州, 兵团) plus every 宁夏 county's figures for
    2023 and 2024 (so 宁夏 has a province total; the nation has none)."""
    raw = base / "raw"
    raw.mkdir()
    generate(base / "sample")
    for path in (base / "sample").iterdir():
        shutil.copy(path, raw / path.name)
    shutil.rmtree(base / "sample")
    rows = ["地区,区划代码,年份,指标,数值,单位"]
    for i, (code, name) in enumerate(ningxia_counties()):
        for name_zh, (start, step) in PARTS.items():
            for year, factor in ((2023, 1.0), (2024, 1.05)):
                value = round((start + step * i) * factor)
                rows.append(f"{name},{code},{year},{name_zh},{value},{UNITS.get(name_zh, '人')}")
    (raw / "宁夏_全区.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    outcome = pipeline.build(base)
    assert outcome.ok, [i.as_text() for i in outcome.issues.items]
    return base


def figures(at) -> list:
    return [plotly.io.from_json(chart.proto.spec) for chart in at.get("plotly_chart")]


def lines(at) -> list[str]:
    """The trend's region lines (published marks and the national reference left out)."""
    return sorted(t.name for t in figures(at)[0].data if t.name not in ("公报值", "全国（公报）"))


def names_of(codes) -> list[str]:
    frame = load_registry().frame().set_index("code")["name"]
    return [frame[c] for c in codes]


def reported_children(base, region: str) -> list[str]:
    """Children of `region` with any fact in the warehouse (computed independently of the app)."""
    db = next((base / "warehouse" / "versions").glob("*/warehouse.duckdb"))
    return [
        code
        for (code,) in query(
            db,
            "SELECT DISTINCT f.region_code FROM facts f JOIN regions r ON r.code = f.region_code "
            "WHERE r.parent_code = ? ORDER BY 1",
            [region],
        )
    ]


@pytest.mark.parametrize("region", LEVELS)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_at_every_level(monkeypatch, levels, page, region):
    at = open_page(monkeypatch, levels, page, region=region)
    assert at.sidebar.selectbox(key="f_region").value == region
    assert at.query_params["region"] == region
    if page == "present":
        name = "全国" if region == NATION else names_of([region])[0]
        assert any(f"{name}民政事业发展情况" in h.proto.body for h in at.get("html"))


WHOLE = {NATION: None, "610000": None, NINGXIA: "宁夏回族自治区（全区）", BAOJI: "宝鸡市（全市）"}
WHOLE[BINGTUAN] = "新疆生产建设兵团师市（全市）"


@pytest.mark.parametrize("region", LEVELS)
def test_topic_pages_show_the_regions_children(monkeypatch, levels, region):
    for page, indicator in (("social_work", "social_workers_per_10k"), ("elderly_care", "elderly_beds")):
        at = open_page(monkeypatch, levels, page, region=region, ind=indicator)
        expected = sorted(
            names_of(reported_children(levels, region)) + ([WHOLE[region]] if WHOLE[region] else [])
        )
        data_lines = lines(at)
        assert set(data_lines) <= set(expected) and data_lines, (page, data_lines, expected)
        if region == NATION:
            assert data_lines == ["宁夏回族自治区"]
            assert any("全国合计暂不可用" in i.value for i in at.info)
            assert at.sidebar.multiselect[0].label == "省份" and "全部31个" in [
                c.value for c in at.sidebar.caption
            ]
        if region == "610000":
            assert data_lines == ["宝鸡市"]  # no 陕西 total: only 宝鸡 of its cities has data
        if region == NINGXIA:
            assert (
                data_lines
                == expected
                == sorted(["银川市", "石嘴山市", "吴忠市", "固原市", "中卫市", WHOLE[NINGXIA]])
            )
            assert at.sidebar.multiselect[0].label == "市" and "全部5个" in [
                c.value for c in at.sidebar.caption
            ]
        if region == BAOJI:
            assert len(data_lines) == 13 and WHOLE[BAOJI] in data_lines
            assert at.sidebar.multiselect[0].label == "区县" and "全部12个" in [
                c.value for c in at.sidebar.caption
            ]
        if region == BINGTUAN:
            assert WHOLE[BINGTUAN] in data_lines and len(data_lines) == 1 + len(
                reported_children(levels, BINGTUAN)
            )


def test_compare_page_title_and_ranking_follow_the_level(monkeypatch, levels):
    at = open_page(monkeypatch, levels, "compare", region=NINGXIA, ind="certified_social_workers")
    assert at.title[0].value == "下级地区对比"
    (ranking,) = figures(at)
    assert sorted(ranking.data[0].y) == sorted(["银川市", "石嘴山市", "吴忠市", "固原市", "中卫市"])
    assert set(ranking.data[0].customdata) == {"640100", "640200", "640300", "640400", "640500"}
    at = open_page(monkeypatch, levels, "compare", region=BAOJI)
    assert at.title[0].value == "区县对比"
    at = open_page(monkeypatch, levels, "compare", region=NATION, ind="certified_social_workers")
    assert at.title[0].value == "下级地区对比"
    assert list(figures(at)[0].data[0].y) == ["宁夏回族自治区"]


def test_overview_maps_the_children_and_the_nation_shows_the_south_china_sea(monkeypatch, levels):
    at = open_page(monkeypatch, levels, "overview", region=NINGXIA, map="beds_per_1000_elderly")
    (shape,) = [t for t in figures(at)[0].data if t.type == "choropleth" and t.name != "暂无数据"]
    assert sorted(shape.locations) == ["640100", "640200", "640300", "640400", "640500"]
    at = open_page(monkeypatch, levels, "overview", region=NATION, map="beds_per_1000_elderly")
    data = figures(at)[0].data
    (shape,) = [t for t in data if t.type == "choropleth" and t.name not in ("暂无数据", "中华人民共和国")]
    assert list(shape.locations) == [NINGXIA]
    assert {t.name for t in data if t.type == "scattergeo" and t.mode == "lines"} == {"九段线", "未定国界"}
    missing = next(t for t in data if t.name == "暂无数据")
    assert len(missing.locations) == 30  # every other province, grey


def test_region_children_and_years_round_trip_through_the_url(monkeypatch, levels):
    at = open_page(
        monkeypatch,
        levels,
        "social_work",
        region=NINGXIA,
        child=["640100", "640300"],
        **{"from": "2023", "to": "2024"},
    )
    assert at.sidebar.selectbox(key="f_region").value == NINGXIA
    assert at.sidebar.multiselect[0].value == ["640100", "640300"]
    assert at.sidebar.select_slider[0].value == (2023, 2024)
    assert lines(at) == sorted(["银川市", "吴忠市", WHOLE[NINGXIA]])
    assert at.query_params["region"] == NINGXIA and at.query_params["child"] == ["640100", "640300"]
    assert (at.query_params["from"], at.query_params["to"]) == ("2023", "2024")
    assert at.sidebar.multiselect[0].label == "市" and "已选2/5个" in [c.value for c in at.sidebar.caption]


def test_an_old_city_link_still_opens_its_view(monkeypatch, levels):
    at = open_page(monkeypatch, levels, "social_relief", city=BAOJI, county=["610302"])
    assert at.sidebar.selectbox(key="f_region").value == BAOJI
    assert at.sidebar.multiselect[0].value == ["610302"]
    assert at.query_params["region"] == BAOJI and at.query_params["child"] in ("610302", ["610302"])
    assert "city" not in at.query_params and "county" not in at.query_params


def test_the_breadcrumb_goes_up(monkeypatch, levels):
    at = open_page(monkeypatch, levels, "social_work", region="640100")
    assert at.sidebar.selectbox(key="f_region").value == "640100"
    at.button(key="crumb_640000").click().run()
    assert at.sidebar.selectbox(key="f_region").value == NINGXIA
    assert at.query_params["region"] == NINGXIA
    at.button(key="crumb_100000").click().run()
    assert at.sidebar.selectbox(key="f_region").value == NATION
    assert not at.exception


def test_a_provinces_ratio_is_the_ratio_of_its_summed_county_parts(monkeypatch, levels):
    """宁夏's 每万人持证社工数 (2024) from its counties' reported facts, summed here, on the card."""
    db = next((levels / "warehouse" / "versions").glob("*/warehouse.duckdb"))
    codes = [c for c, _ in ningxia_counties()]
    parts = dict(
        query(
            db,
            f"SELECT indicator_id, sum(value) FROM facts WHERE year = 2024 AND origin = 'reported' "
            f"AND region_code IN ({', '.join('?' * len(codes))}) "
            "AND indicator_id IN ('certified_social_workers', 'population') GROUP BY 1",
            codes,
        )
    )
    ratio = parts["certified_social_workers"] / parts["population"] * 10_000
    ((stored, origin),) = query(
        db,
        "SELECT value, origin FROM facts WHERE region_code = ? AND year = 2024 "
        "AND indicator_id = 'social_workers_per_10k'",
        [NINGXIA],
    )
    assert origin == "derived" and stored == pytest.approx(ratio, rel=1e-12)
    at = open_page(monkeypatch, levels, "social_work", region=NINGXIA)
    card = next(m for m in at.metric if m.label.startswith("每万人持证社工数"))
    assert card.value == f"{ratio:.1f}人"
    # no national total: 宁夏 is the only province with data
    assert query(db, "SELECT count(*) FROM facts WHERE region_code = ?", [NATION]) == [(0,)]


def test_a_national_total_only_when_every_province_has_a_value():
    registry = load_registry()
    provinces = registry.frame().query("level == 'province'")["code"].tolist()
    rows = pd.DataFrame(
        [(p, 2023, "marriage_registrations", float(n + 1)) for n, p in enumerate(provinces)],
        columns=["region_code", "year", "indicator_id", "value"],
    )
    out, _ = derive(rows, load_catalog(), registry)
    nation = out[(out["region_code"] == NATION) & (out["indicator_id"] == "marriage_registrations")]
    assert nation[["value", "origin"]].values.tolist() == [[sum(range(1, len(provinces) + 1)), "aggregated"]]
    out, _ = derive(rows.iloc[1:], load_catalog(), registry)
    assert not (out["region_code"] == NATION).any()


def test_the_all_counties_map_of_a_province_and_of_the_nation(monkeypatch, levels):
    """全部区县: every county under the region on one map, unnamed (too many to read), each with
    its value from the warehouse; the nation's map holds every county with a boundary, grey
    where there is no value, with the 九段线. A city has no such switch (its map is of counties)."""

    def counties_map(region: str) -> tuple:
        at = open_page(
            monkeypatch, levels, "overview", region=region, map=BEDS, **{"overview-map_unit": "counties"}
        )
        assert at.query_params["overview-map_unit"] == "counties"
        assert [b.key for b in at.get("button_group")] == ["overview-map_unit"]
        data = figures(at)[0].data
        (shape,) = [
            t for t in data if t.type == "choropleth" and t.name not in ("暂无数据", "中华人民共和国")
        ]
        assert not [t for t in data if t.type == "scattergeo" and "text" in t.mode]  # no names on the map
        return data, dict(zip(shape.locations, numbers(shape.z), strict=True))

    _, shown = counties_map(NINGXIA)
    assert shown == county_values(levels, NINGXIA) and set(shown) == {code for code, _ in ningxia_counties()}
    data, shown = counties_map(NATION)
    national = {f["id"] for f in geo.national_counties_geojson()["features"]}
    assert shown == {code: value for code, value in county_values(levels, NATION).items() if code in national}
    missing = next(t for t in data if t.name == "暂无数据")
    assert set(shown) | set(missing.locations) == national
    assert {t.name for t in data if t.type == "scattergeo" and t.mode == "lines"} == {"九段线", "未定国界"}
    at = open_page(
        monkeypatch, levels, "overview", region=BAOJI, map=BEDS, **{"overview-map_unit": "counties"}
    )
    assert not at.get("button_group")  # the choice stays in the URL for the way back up
    assert any(t.type == "scattergeo" and "text" in t.mode for t in figures(at)[0].data)  # names on it


BEDS = "beds_per_1000_elderly"


def county_values(base, region: str) -> dict[str, float]:
    """Beds per 1000 elderly of every county under `region` in the region's last year (computed from the
    warehouse independently of the app)."""
    db = next((base / "warehouse" / "versions").glob("*/warehouse.duckdb"))
    return dict(
        query(
            db,
            "SELECT f.region_code, f.value FROM facts f JOIN regions r ON r.code = f.region_code "
            "WHERE r.level = 'county' AND f.indicator_id = 'beds_per_1000_elderly' "
            "AND (? = '100000' OR f.region_code LIKE substr(?, 1, 2) || '%') "
            "AND f.year = (SELECT max(year) FROM region_years WHERE region_code = ?)",
            [region, region, region],
        )
    )
