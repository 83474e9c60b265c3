"""Chart builders: frames in, figures out — trace names, units, target lines, map colouring."""

import json

import numpy as np
import pandas as pd
import plotly.colors
import pytest

from dashboard import charts
from dashboard.geo import children_geojson, city_geojson
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
    assert list(mark.marker.color) == [charts.CITY_COLOR]  # 宝鸡市's own figure, in its line's colour
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


def test_a_national_map_writes_provinces_short_and_points_to_them_in_full(meta):
    """31 provinces in a small map: 广西 and 内蒙古 on the map, the full names where the pointer goes."""
    shapes = children_geojson("100000")
    values = pd.DataFrame(
        {
            "region_code": ["450000", "150000", "110000"],
            "region_name": ["广西壮族自治区", "内蒙古自治区", "北京市"],
            "value": [60.0, 70.0, 80.0],
        }
    )
    fig = charts.county_map(values, meta("beds_per_1000_elderly"), shapes, 2024, "省份")
    labels = " ".join(
        t for trace in fig.data if trace.type == "scattergeo" and trace.text for t in trace.text
    )
    for short in ("广西", "内蒙古", "北京", "黑龙江", "新疆", "西藏"):
        assert short in labels, short
    assert "自治区" not in labels and "省" not in labels.replace("省份", "")
    coloured = next(t for t in fig.data if t.type == "choropleth" and "450000" in t.locations)
    assert list(coloured.text) == ["广西壮族自治区", "内蒙古自治区", "北京市"]  # the hover's names
    assert charts.short_name("黑龙江省") == "黑龙江" and charts.short_name("宁夏回族自治区") == "宁夏"


def test_map_greys_counties_without_data(meta):
    shapes = city_geojson("610300")
    assert shapes is not None and len(shapes["features"]) == 12
    values = pd.DataFrame(
        {"region_code": ["610302", "610326"], "region_name": ["渭滨区", "眉县"], "value": [33.0, 38.0]}
    )
    fig = charts.county_map(values, meta("beds_per_1000_elderly"), shapes, 2024)
    grey, coloured = (t for t in fig.data if t.type == "choropleth")
    assert grey.name == charts.NO_DATA and len(grey.locations) == 10 and "暂无数据" in grey.hovertemplate
    assert list(coloured.locations) == ["610302", "610326"] and list(coloured.z) == [33.0, 38.0]
    # each trace carries exactly the polygons it colours, and the city's file is left whole
    assert sorted(f["id"] for f in coloured.geojson["features"]) == ["610302", "610326"]
    assert sorted(f["id"] for f in grey.geojson["features"]) == sorted(grey.locations)
    assert len(shapes["features"]) == 12
    assert json.loads(fig.to_json())["layout"]["geo"]["visible"] is False


def test_a_maps_colour_bar_lies_under_it_in_room_of_its_own(meta):
    """The colour bar is horizontal, under the map, inside the bottom margin kept for it (beside
    the map it took a third of a phone's width), with the unit above it; the map keeps 480 px."""
    values = pd.DataFrame({"region_code": ["610302"], "region_name": ["渭滨区"], "value": [33.0]})
    beds = meta("beds_per_1000_elderly")
    fig = charts.county_map(values, beds, city_geojson("610300"), 2024)
    bar = next(t for t in fig.data if t.type == "choropleth" and t.showscale is not False).colorbar
    assert bar.orientation == "h" and bar.yanchor == "top" and bar.y <= 0
    assert bar.title.text == charts.unit_of(beds) == "张/千名老年人" and bar.title.side == "top"
    margin = fig.layout.margin
    assert fig.layout.height - margin.t - margin.b == 480
    assert margin.b >= bar.thickness + 40 and margin.l == margin.r == 0  # ticks and title under the bar


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


def _county_facts(city: str) -> pd.DataFrame:
    """Every county of the city with a value in 2023 and 2024 except the last two (no data)."""
    features = city_geojson(city)["features"]
    rows = [
        (f["id"], f["properties"]["name"], year, float(100 + 150 * i + 10 * (year - 2023)))
        for i, f in enumerate(features[:-2])
        for year in (2023, 2024)
    ]
    return facts(rows)


@pytest.mark.parametrize("city", ["610300", "350100", "659000"])
def test_every_map_names_each_county_with_data_once(meta, city):
    shapes = city_geojson(city)
    rows = _county_facts(city).query("year == 2024")
    fig = charts.county_map(rows, meta("elderly_beds"), shapes, 2024)
    (labels,) = [t for t in fig.data if t.type == "scattergeo" and t.name == "养老床位数（标注）"]
    names = [text.split("<br>")[0] for text in labels.text]
    assert sorted(names) == sorted(rows["region_name"])  # one label per county with data
    assert len(labels.lon) == len(labels.lat) == len(rows) and labels.hoverinfo == "skip"
    assert any("<br>" in text for text in labels.text) or city == "659000"  # value where it fits
    for text in labels.text:
        if "<br>" in text:
            assert text.split("<br>")[1].replace(",", "").isdigit()
    assert labels.textfont.shadow == "auto"  # a halo in the contrasting colour
    # the label point of each county lies inside its polygon (and on the map, in its city)
    (grey_names,) = [t for t in fig.data if t.type == "scattergeo" and t.name == f"{charts.NO_DATA}（标注）"]
    assert list(grey_names.text) == [f["properties"]["name"] for f in shapes["features"][-2:]]
    outline = [t for t in fig.data if t.type == "choropleth" and t.name == "新疆维吾尔自治区"]
    assert len(outline) == (city == "659000")
    if outline:
        assert fig.data[0] is outline[0]  # drawn first, under the 兵团 cities
        assert outline[0].hoverinfo == "skip" and outline[0].showscale is False
        # the view fits the outline: its polygons are among the located shapes
        assert json.loads(fig.to_json())["layout"]["geo"]["fitbounds"] == "locations"
    for trace in fig.data:  # no trace carries the whole city's file or its outline twice
        if trace.type == "choropleth" and trace is not (outline or [None])[0]:
            assert "outline" not in trace.geojson


def test_label_points_lie_inside_their_county():
    from dashboard import geo

    def inside(lon, lat, ring):
        hit = False
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            if (y0 > lat) != (y1 > lat) and lon < (x1 - x0) * (lat - y0) / (y1 - y0) + x0:
                hit = not hit
        return hit

    for city in ("610300", "350100", "659000"):
        for f in geo.city_geojson(city)["features"]:
            lon, lat = f["properties"]["label"]
            polygons = f["geometry"]["coordinates"]
            assert any(inside(lon, lat, p[0]) for p in polygons), f["properties"]["name"]
            assert f["properties"]["label_room"] > 0


def test_xinjiang_outline_is_clockwise_and_holds_the_bingtuan_cities():
    from dashboard import geo

    outline = geo.outline_geojson("650000")
    (feature,) = outline["features"]
    ring = feature["geometry"]["coordinates"][0][0]
    twice_area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))
    assert twice_area < 0  # clockwise, as the county files (d3-geo's "inside")
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    for f in geo.city_geojson("659000")["features"]:
        lon, lat = f["properties"]["label"]
        assert min(xs) < lon < max(xs) and min(ys) < lat < max(ys)
    assert geo.city_geojson("659000")["outline"] is outline


def _relative_luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return sum(w * charts._linear(c) for w, c in zip((0.2126, 0.7152, 0.0722), (r, g, b), strict=True))


def _lab(hex_colour: str) -> tuple[float, float, float]:
    r, g, b = (charts._linear(int(hex_colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_sixteen_series_colours_distinct_and_legible_on_white_and_navy(meta):
    palette = charts.SERIES_COLORS
    assert len(set(palette)) == len(palette) == 16
    for colour in palette:
        lum = _relative_luminance(colour)
        assert 1.05 / (lum + 0.05) >= 3, colour  # on white
        assert (lum + 0.05) / (_relative_luminance("#0F172A") + 0.05) >= 3, colour  # on navy
    for a, b in ((a, b) for i, a in enumerate(palette) for b in palette[i + 1 :]):
        assert sum((p - q) ** 2 for p, q in zip(_lab(a), _lab(b), strict=True)) ** 0.5 >= 25, (a, b)
    # a trend of 16 counties draws 16 different colours, the city apart in its own
    rows = facts(
        [(f"6103{i + 1:02d}", f"县{i}", 2024, float(i)) for i in range(16)] + [("610300", "市", 2024, 99.0)]
    )
    fig = charts.trend(rows, meta("beds_per_1000_elderly"), "610300")
    counties = [t.line.color for t in fig.data if t.name != "市（全市）"]
    assert len(set(counties)) == 16 and charts.CITY_COLOR not in counties


def test_a_counts_trend_puts_the_city_total_on_its_own_panel(meta):
    data = _county_facts("610300")
    total = (
        data.groupby("year", as_index=False)["value"].sum().assign(region_code="610300", region_name="宝鸡市")
    )
    data = pd.concat([data, total])
    fig = charts.trend(data, meta("elderly_beds"), "610300")
    city = next(t for t in fig.data if t.name == "宝鸡市（全市）")
    counties = [t for t in fig.data if t.name != "宝鸡市（全市）"]
    assert city.yaxis == "y2" and {t.yaxis for t in counties} == {"y"}
    top, bottom = fig.layout.yaxis2.domain, fig.layout.yaxis.domain
    assert bottom[1] < top[0]  # two panels, the total above, not overlaid
    assert "全市合计" in fig.layout.yaxis2.title.text and "张" in fig.layout.yaxis.title.text
    # a ratio keeps one axis: city and counties are comparable
    ratio = charts.trend(DATA, meta("beds_per_1000_elderly"), "610300")
    assert {t.yaxis for t in ratio.data} == {"y"} and "yaxis2" not in ratio.to_plotly_json()["layout"]
    relative = charts.trend(data, meta("elderly_beds"), "610300", relative=True)
    assert {t.yaxis for t in relative.data} == {"y"}  # all in %


def _city_total(data: pd.DataFrame) -> pd.DataFrame:
    total = data.groupby("year", as_index=False)["value"].sum()
    return total.assign(region_code="610300", region_name="宝鸡市")


def _published(rows):
    return pd.DataFrame(
        rows, columns=["region_code", "region_name", "year", "value", "value_written", "unit_written"]
    ).assign(document="某公报", quote="原文。")


def test_published_markers_carry_their_regions_colour_and_name(meta):
    data = _county_facts("610300")
    total = (
        data.groupby("year", as_index=False)["value"].sum().assign(region_code="610300", region_name="宝鸡市")
    )
    data = pd.concat([data, total])
    published = _published(
        [("610304", "陈仓区", 2023, 788.0, "788", "张"), ("610300", "宝鸡市", 2024, 2.0e4, "2万", "张")]
    )
    fig = charts.trend(data, meta("elderly_beds"), "610300", published=published)
    lines = {t.name: t.line.color for t in fig.data if t.mode == "lines+markers"}
    marks = [t for t in fig.data if t.name == "公报值"]
    assert sum(bool(t.showlegend) for t in marks) == 1  # one legend entry
    seen = {}
    for t in marks:
        for name, colour, axis in zip(
            (row[0] for row in t.customdata), t.marker.color, [t.yaxis] * len(t.x), strict=True
        ):
            seen[name] = (colour, axis)
        assert t.texttemplate == "%{customdata[0]}公报" and "%{customdata[0]}" in t.hovertemplate
        assert list(t.textfont.color) == list(t.marker.color)
    assert seen == {"陈仓区": (lines["陈仓区"], "y"), "宝鸡市": (lines["宝鸡市（全市）"], "y2")}


def test_ranking_axis_fits_the_bars_not_a_far_city_total(meta):
    data = _county_facts("610300")
    total = (
        data.groupby("year", as_index=False)["value"].sum().assign(region_code="610300", region_name="宝鸡市")
    )
    fig = charts.county_ranking(pd.concat([data, total]), meta("elderly_beds"), 2024, "610300")
    low, high = fig.layout.xaxis.range
    biggest = data.query("year == 2024")["value"].max()
    assert low == 0 and biggest < high < 1.6 * biggest  # fitted to the bars and their labels
    assert not fig.layout.shapes  # no line for a count's city total: a note
    (note,) = fig.layout.annotations
    city_total = float(total.query("year == 2024")["value"].iloc[0])
    assert note.text == f"全市合计 {city_total:,.0f}张" and city_total > high


def test_a_far_target_is_a_note_and_a_near_one_a_line(meta):
    rows = DATA[(DATA.year == 2024) & (DATA.region_code != "610300")]
    far = Target(value=500, op=">=", year=2025, scope="全国", source="规划")
    fig = charts.ranking(rows, meta("beds_per_1000_elderly"), 2024, target=far)
    assert not fig.layout.shapes and fig.layout.xaxis.range[1] < 100
    assert [a.text for a in fig.layout.annotations] == [far.label()]
    near = charts.ranking(rows, meta("beds_per_1000_elderly"), 2024, city_value=36.5, target=BEDS_TARGET)
    assert sorted(s.x0 for s in near.layout.shapes) == [35, 36.5]
    assert {s.layer for s in near.layout.shapes} == {"below"}  # under the bars and their labels


@pytest.mark.parametrize("city_value, target", [(36.5, BEDS_TARGET), (None, BEDS_TARGET), (33.1, None)])
def test_no_line_label_or_note_overlaps_a_bar_value_label(meta, city_value, target):
    rows = DATA[(DATA.year == 2024) & (DATA.region_code != "610300")]
    fig = charts.ranking(rows, meta("beds_per_1000_elderly"), 2024, city_value=city_value, target=target)
    boxes = charts.label_boxes(fig)
    bars = len(fig.data[0].x)
    assert len(boxes) == bars + len(fig.layout.annotations)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2]
            assert apart, (a, b)
    low, high = fig.layout.xaxis.range
    for x0, x1, _, _ in boxes:  # every label within the plot's width
        assert low - 1e-9 <= x0 and x1 <= high + 1e-9
    for shape in fig.layout.shapes:  # lines stop at the first bar: the band above is the labels'
        assert (shape.yref, min(shape.y0, shape.y1)) == ("y", -0.5)


def test_every_map_fill_has_a_label_colour_with_aa_contrast():
    """County names sit on their fills: for every colour of the map scale, the label colour the
    map picks reaches WCAG AA 4.5:1 against it."""
    fills = plotly.colors.sample_colorscale(charts.MAP_SCALE, [i / 2000 for i in range(2001)])
    assert min(charts.contrast(charts._ink_on(f), f) for f in fills) >= 4.5
