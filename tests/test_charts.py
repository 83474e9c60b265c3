"""Chart builders: frames in, figures out — trace names, units, target lines, map colouring."""

import json

import numpy as np
import pandas as pd
import pytest

from dashboard import charts
from dashboard.geo import city_geojson
from etl.catalog import Target, load_catalog

BEDS_TARGET = Target(value=35, op=">=", year=2020, scope="全国", source="规划")


@pytest.fixture(scope="module")
def meta():
    frame = load_catalog().frame().set_index("id")
    return lambda ind: frame.loc[ind]


def facts(rows):
    return pd.DataFrame(rows, columns=["region_code", "region_name", "year", "value"])


DATA = facts(
    [
        ("610300", "宝鸡市", 2023, 34.0),
        ("610300", "宝鸡市", 2024, 36.5),
        ("610302", "渭滨区", 2023, 30.0),
        ("610302", "渭滨区", 2024, 33.0),
        ("610326", "眉县", 2023, 40.0),
        ("610326", "眉县", 2024, 38.0),
    ]
)


def test_trend_city_line_bold_and_values_unchanged(meta):
    fig = charts.trend(DATA, meta("beds_per_1000_elderly"), "610300", target=BEDS_TARGET)
    names = [t.name for t in fig.data]
    assert sorted(names) == ["宝鸡市（全市）", "渭滨区", "眉县"]
    city = next(t for t in fig.data if t.name == "宝鸡市（全市）")
    assert list(city.y) == [34.0, 36.5]  # the warehouse's own city row, not a mean of counties
    assert city.line.width > next(t for t in fig.data if t.name == "眉县").line.width
    assert fig.data[-1].name == "宝鸡市（全市）"  # drawn on top
    assert "张/千名老年人" in fig.layout.yaxis.title.text
    assert [s.y0 for s in fig.layout.shapes] == [35]
    assert "目标 ≥35张/千名老年人" in fig.layout.annotations[0].text
    assert "年：" in city.hovertemplate


def test_trend_marks_published_figures_and_the_national_reference(meta):
    published = pd.DataFrame(
        {
            "region_name": ["宝鸡市"],
            "year": [2023],
            "value": [34.0],
            "value_written": ["34"],
            "unit_written": ["张/千名老年人"],
            "document": ["某公报"],
            "quote": ["每千名老年人床位34张。"],
        }
    )
    national = pd.DataFrame(
        {"year": [2024, 2023], "value": [31.0, 30.3], "document": ["民政事业发展统计公报"] * 2}
    )
    fig = charts.trend(DATA, meta("beds_per_1000_elderly"), "610300", published=published, national=national)
    mark = next(t for t in fig.data if t.name == "公报值")
    assert (list(mark.x), list(mark.y), mark.marker.symbol) == ([2023], [34.0], "diamond")
    assert "每千名老年人床位34张" in mark.text[0] and "customdata[3]" in mark.hovertemplate
    line = next(t for t in fig.data if t.name == "全国（公报）")
    assert (list(line.x), list(line.y), line.line.dash) == ([2023, 2024], [30.3, 31.0], "dash")
    relative = charts.trend(
        DATA, meta("beds_per_1000_elderly"), "610300", relative=True, published=published, national=national
    )
    assert {t.name for t in relative.data} == {"宝鸡市（全市）", "渭滨区", "眉县"}  # values, not changes


def test_every_figure_carries_the_project_template(meta):
    from dashboard import theme

    fig = charts.trend(DATA, meta("beds_per_1000_elderly"), "610300")
    sent = json.loads(fig.to_json())["layout"]["template"]["layout"]
    assert sent["font"]["family"] == theme.FONT and sent["colorway"] == theme.COLORS


def test_trend_relative_to_first_year(meta):
    fig = charts.trend(DATA, meta("beds_per_1000_elderly"), "610300", relative=True, target=BEDS_TARGET)
    mei = next(t for t in fig.data if t.name == "眉县")
    assert list(mei.y) == pytest.approx([0.0, -5.0])
    assert "相对2023年变化" in fig.layout.yaxis.title.text
    assert not fig.layout.shapes  # a target in 张 means nothing in %


def test_ranking_order_city_and_target_lines(meta):
    year = DATA[(DATA.year == 2024) & (DATA.region_code != "610300")]
    fig = charts.ranking(year, meta("beds_per_1000_elderly"), 2024, city_value=36.5, target=BEDS_TARGET)
    bar = fig.data[0]
    assert list(bar.y) == ["眉县", "渭滨区"] and list(bar.x) == [38.0, 33.0]  # best first
    assert sorted(s.x0 for s in fig.layout.shapes) == [35, 36.5]
    assert bar.marker.color[1] != bar.marker.color[0]  # below target marked


def test_county_ranking_takes_the_year_the_city_line_and_nothing_without_counties(meta):
    fig = charts.county_ranking(DATA, meta("beds_per_1000_elderly"), 2024, "610300", target=BEDS_TARGET)
    assert list(fig.data[0].y) == ["眉县", "渭滨区"] and list(fig.data[0].x) == [38.0, 33.0]
    assert sorted(s.x0 for s in fig.layout.shapes) == [35, 36.5]  # the target and 宝鸡市's 2024 value
    assert (
        charts.county_ranking(
            DATA[DATA.region_code == "610300"], meta("beds_per_1000_elderly"), 2024, "610300"
        )
        is None
    )


def test_heatmap_and_scatter(meta):
    fig = charts.heatmap(DATA[DATA.region_code != "610300"], meta("elderly_beds"))
    assert list(fig.data[0].y) == ["渭滨区", "眉县"] and list(fig.data[0].x) == ["2023", "2024"]
    points = pd.DataFrame(
        {
            "region_name": ["渭滨区", "眉县"],
            "x": [33.0, 38.0],
            "y": [10.1, 8.2],
            "population": [535800, 300000],
        }
    )
    fig = charts.scatter(points, meta("beds_per_1000_elderly"), meta("social_workers_per_10k"), 2024)
    assert list(fig.data[0].marker.size) == [535800, 300000]
    assert "人/万人" in fig.layout.yaxis.title.text


def test_map_greys_counties_without_data(meta):
    shapes = city_geojson("610300")
    assert shapes is not None and len(shapes["features"]) == 12
    values = pd.DataFrame(
        {"region_code": ["610302", "610326"], "region_name": ["渭滨区", "眉县"], "value": [33.0, 38.0]}
    )
    fig = charts.county_map(values, meta("beds_per_1000_elderly"), shapes, 2024)
    grey, coloured = fig.data
    assert grey.name == charts.NO_DATA and len(grey.locations) == 10 and "暂无数据" in grey.hovertemplate
    assert list(coloured.locations) == ["610302", "610326"] and list(coloured.z) == [33.0, 38.0]
    # each trace carries exactly the polygons it colours, and the city's file is left whole
    assert sorted(f["id"] for f in coloured.geojson["features"]) == ["610302", "610326"]
    assert sorted(f["id"] for f in grey.geojson["features"]) == sorted(grey.locations)
    assert len(shapes["features"]) == 12
    assert json.loads(fig.to_json())["layout"]["geo"]["visible"] is False


@pytest.mark.parametrize("better, lowest_first", [(np.False_, True), (np.True_, False), (pd.NA, False)])
def test_lower_is_better_ranks_the_lowest_first_with_the_warehouses_numpy_bools(meta, better, lowest_first):
    """The warehouse gives numpy's bool (never `is False`): a lower-is-better indicator must still
    put its lowest county on top of the chart, rank it 1 and call it 最低."""
    from dashboard import topic

    m = meta("beds_per_1000_elderly").copy()
    m["higher_is_better"] = better
    rows = DATA[(DATA["year"] == 2024) & (DATA["region_code"] != "610300")]
    bars = charts.ranking(rows, m, 2024).data[0]
    top = list(bars.y)[0]  # best first, as test_ranking_order_city_and_target_lines
    assert top == ("渭滨区" if lowest_first else "眉县")
    ranks = topic.ranks(rows.set_index("region_name")["value"], m)
    assert ranks["渭滨区"] == (1 if lowest_first else 2)
    assert topic.rank_text(rows, "610300", m, "张").startswith("区县最低" if lowest_first else "区县最高")
