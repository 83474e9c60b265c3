"""Every page with AppTest: sample and empty warehouses, URL filters, county changes, page
switches, and downloads whose content is exactly the data shown."""

import io
from pathlib import Path

import pandas as pd
import plotly.io
import pytest
from streamlit.runtime.state.query_params import QueryParams

from dashboard.topic import rank_text, ranks
from etl import pipeline, warehouse
from etl.catalog import load_catalog
from etl.regions import load_registry
from tests.util import download, numbers, open_page, query

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = [
    "overview",
    "social_relief",
    "elderly_care",
    "charity",
    "social_work",
    "compare",
    "query",
    "catalog",
    "reconcile",
    "present",
]
FUZHOU = "350100"


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    base = tmp_path_factory.mktemp("empty")
    tables, _ = pipeline.assemble([], load_catalog(), load_registry(), is_sample=False)
    warehouse.publish(base, tables, {"command": "test"})
    return base


app = open_page


def figures(at) -> list:
    """The page's plotly figures (plotly.io decodes the binary-packed arrays)."""
    return [plotly.io.from_json(chart.proto.spec) for chart in at.get("plotly_chart")]


def trace_names(at, n=0) -> list[str]:
    return sorted(t.name for t in figures(at)[n].data)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_sample(monkeypatch, sample, page):
    at = app(monkeypatch, sample, page)
    if page == "present":  # slides, not a page: the mark is on the slide
        assert any('<div class="mz-mark">示例数据</div>' in h.proto.body for h in at.get("html"))
        return
    assert at.title and any("示例数据" in w.value for w in at.warning)
    assert len(at.get("download_button")) >= 2  # xlsx and CSV of what the page shows
    if page in ("social_relief", "elderly_care", "charity", "social_work"):
        assert len(figures(at)) == 2  # trend + ranking; other tabs run only when open
    if page == "compare":
        assert len(figures(at)) == 1


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_an_empty_warehouse(monkeypatch, empty, page):
    at = app(monkeypatch, empty, page)
    assert any("暂无数据" in i.value for i in at.info) or page == "catalog"
    if page == "catalog":
        assert any("暂无数据" in m.value for m in at.markdown)


def test_url_sets_the_filters(monkeypatch, sample):
    at = app(
        monkeypatch,
        sample,
        "charity",
        city=FUZHOU,
        county=["350102", "350103"],
        **{"from": "2019", "to": "2022"},
    )
    assert at.sidebar.selectbox[0].value == FUZHOU
    assert at.sidebar.multiselect[0].value == ["350102", "350103"]
    assert at.sidebar.select_slider[0].value == (2019, 2022)
    trend = figures(at)[0]
    assert sorted(t.name for t in trend.data) == ["台江区", "福州市（全市）", "鼓楼区"]
    assert {int(x) for t in trend.data for x in numbers(t.x)} == {2019, 2020, 2021, 2022}


def test_unknown_codes_in_the_url_are_ignored_with_a_notice(monkeypatch, sample):
    at = app(monkeypatch, sample, "overview", city="999999", county=["610326", "123456"])
    assert at.sidebar.selectbox[0].value == "610300"
    assert at.sidebar.multiselect[0].value == ["610326"]
    notices = " ".join(i.value for i in at.sidebar.info)
    assert "999999" in notices and "123456" in notices


def test_county_filter_changes_the_chart_and_survives_a_page_switch(monkeypatch, sample):
    at = app(monkeypatch, sample, "social_relief")
    assert len([t for t in figures(at)[0].data if t.name != "公报值"]) == 13  # 12 counties + the city
    at.sidebar.multiselect[0].set_value(["610302", "610326"]).run()
    assert trace_names(at) == ["宝鸡市（全市）", "渭滨区", "眉县"]
    assert at.query_params["child"] == ["610302", "610326"]
    at.switch_page("pages/elderly_care.py").run()
    assert not at.exception
    assert at.sidebar.multiselect[0].value == ["610302", "610326"]
    assert trace_names(at) == [
        "公报值",
        "宝鸡市（全市）",
        "渭滨区",
        "眉县",
    ]  # 宝鸡 2019 published beds per 1,000


def test_the_url_is_written_once_and_only_when_the_view_changed(monkeypatch, sample):
    # every URL write is a message to the browser (and a history entry)
    writes = []
    real = QueryParams._send_query_param_msg
    monkeypatch.setattr(QueryParams, "_send_query_param_msg", lambda self: (writes.append(1), real(self))[1])
    at = app(monkeypatch, sample, "elderly_care")
    first = len(writes)
    at.run()  # nothing changed
    assert len(writes) == first
    at.sidebar.multiselect[0].set_value(["610302", "610326"]).run()
    assert len(writes) == first + 1
    assert at.query_params["child"] == ["610302", "610326"] and at.query_params["region"] == "610300"


def test_topic_download_is_exactly_the_filtered_data(monkeypatch, sample):
    at = app(
        monkeypatch,
        sample,
        "charity",
        county=["610302", "610326"],
        view="表格",
        **{"from": "2020", "to": "2023"},
    )
    assert not figures(at) and at.dataframe  # the 表格 tab from the URL, nothing else ran
    got = pd.read_csv(io.BytesIO(download(at, "下载 CSV")), encoding="utf-8-sig", dtype={"区划代码": str})
    assert download(at, "下载 CSV").startswith(b"\xef\xbb\xbf")
    expected = query(
        warehouse.current_db(sample),
        "SELECT region_code, year, value FROM facts WHERE indicator_id = 'charity_funds_raised' AND "
        "region_code IN ('610300', '610302', '610326') AND year BETWEEN 2020 AND 2023 ORDER BY 1, 2",
    )
    assert list(zip(got["区划代码"], got["年份"])) == [(code, year) for code, year, _ in expected]
    assert got["数值"].tolist() == pytest.approx([value for _, _, value in expected], rel=1e-14)
    assert set(got["单位"]) == {"万元"} and set(got["指标"]) == {"慈善募集资金"}
    xlsx = pd.read_excel(io.BytesIO(download(at, "下载 Excel")), sheet_name=None, engine="calamine")
    assert xlsx["数据"]["数值"].tolist() == got["数值"].tolist()
    assert "示例数据" in xlsx["说明"].iloc[0, 0]


def test_query_page_table_and_downloads(monkeypatch, sample):
    at = app(
        monkeypatch,
        sample,
        "query",
        q_ind=["elderly_beds", "social_workers_per_10k"],
        q_reg=["610300", "350100", "350102"],
    )
    shown = at.dataframe[0].value
    expected = query(
        warehouse.current_db(sample),
        "SELECT count(*) FROM facts WHERE indicator_id IN ('elderly_beds', 'social_workers_per_10k') "
        "AND region_code IN ('610300', '350100', '350102')",
    )[0][0]
    assert len(shown) == expected
    csv = download(at, "下载 CSV")
    assert csv.decode("utf-8-sig").startswith("示例数据：")  # the mark's line, then the table
    got = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype={"区划代码": str}, skiprows=1)
    assert sorted(set(got["区划代码"])) == ["350100", "350102", "610300"]
    assert got["数值"].tolist() == pytest.approx(shown["数值"].tolist(), rel=1e-14)


def test_map_tab_from_the_url(monkeypatch, sample):
    at = app(monkeypatch, sample, "elderly_care", view="地图")
    (fig,) = figures(at)
    assert {t.type for t in fig.data} == {"choropleth", "scattergeo"}


def test_compare_page_ranking_table(monkeypatch, sample):
    at = app(monkeypatch, sample, "compare", ind="beds_per_1000_elderly", cview="排名表", **{"to": "2024"})
    table = at.dataframe[0].value
    assert len(table) == 12 and table["排名"].tolist() == sorted(table["排名"].tolist())
    assert set(table["是否达标"]) <= {"达标", "未达标"}
    expected = query(
        warehouse.current_db(sample),
        "SELECT max(value) FROM facts WHERE year = 2024 AND "
        "indicator_id = 'beds_per_1000_elderly' AND region_code LIKE '6103%' AND region_code <> '610300'",
    )
    assert table.iloc[0, 2] == pytest.approx(round(expected[0][0], 1))


def test_catalog_search(monkeypatch, sample):
    at = app(monkeypatch, sample, "catalog")
    at.text_input(key="cat_q").set_value("社工").run()
    titles = [e.label for e in at.expander]
    assert titles and all("社" in t for t in titles)
    assert any("每万人持证社工数" in t for t in titles)


def test_a_failing_query_shows_a_chinese_message(monkeypatch, tmp_path):
    tables, _ = pipeline.assemble([], load_catalog(), load_registry(), is_sample=False)
    del tables["targets"]  # a broken version: one table missing
    warehouse.publish(tmp_path, tables, {"command": "test"})
    at = app(monkeypatch, tmp_path, "catalog")
    assert any("数据查询失败" in e.value for e in at.error)


def test_single_county_cards_show_its_value_and_rank(monkeypatch, sample):
    at = app(monkeypatch, sample, "elderly_care", county="610326", to="2024")
    card = next(m for m in at.metric if m.label.startswith("养老床位数"))
    assert card.label == "养老床位数（眉县）"
    beds = query(
        warehouse.current_db(sample),
        "SELECT region_code, value FROM facts WHERE year = 2024 AND "
        "indicator_id = 'elderly_beds' AND region_code LIKE '6103%' AND region_code <> '610300' "
        "ORDER BY value DESC",
    )
    position = [code for code, _ in beds].index("610326") + 1
    assert any(c.value == f"在12个区县中排第{position}" for c in at.caption)


def test_topic_chart_has_a_copyable_narrative_from_the_data(monkeypatch, sample):
    at = app(monkeypatch, sample, "elderly_care", to="2024")
    (value,) = query(
        warehouse.current_db(sample),
        "SELECT value FROM facts WHERE region_code = '610300' AND "
        "year = 2024 AND indicator_id = 'beds_per_1000_elderly'",
    )[0]
    words = at.code[0].value
    assert words.startswith(f"2024年宝鸡市每千名老年人养老床位数为{value:.1f}张")
    assert "以上为示例数据" in words and "目标不低于35.0张" in words


def slide_title(at) -> str:
    """The title of the slide on the canvas (pages/present.py `head`)."""
    body = next(h.proto.body for h in at.get("html") if h.proto.body.startswith('<p class="mz-title">'))
    return body.split(">", 1)[1].split("<", 1)[0]


def test_presentation_follows_the_url_and_the_buttons(monkeypatch, sample):
    at = app(monkeypatch, sample, "present", slides="kpi,elderly_care-rank,attention", s="2", to="2024")
    assert slide_title(at) == "养老服务：2024年各区县每千名老年人养老床位数"
    assert len(figures(at)) == 1
    at.button(key="next").click().run()
    assert slide_title(at) == "需要关注的事项" and at.query_params["s"] == "3"
    at.button(key="prev").click().run()
    at.button(key="prev").click().run()
    assert slide_title(at) == "2024年核心指标" and at.query_params["s"] == "1"
    assert at.query_params["slides"] == "kpi,elderly_care-rank,attention"


def test_a_warehouse_of_an_older_layout_is_rebuilt_on_start(monkeypatch, tmp_path, sample):
    import json
    import shutil

    base = tmp_path / "data"
    shutil.copytree(sample, base)
    old = warehouse.current_version(base)
    manifest = warehouse.version_path(base, old) / warehouse.MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "schema": 1}), encoding="utf-8")
    at = app(monkeypatch, base, "catalog")
    assert warehouse.current_version(base) != old and warehouse.is_current_schema(
        base, warehouse.current_version(base)
    )
    assert at.title[0].value == "指标说明"


def test_trend_marks_published_figures_with_their_quote(monkeypatch, sample):
    at = app(monkeypatch, sample, "elderly_care", city="610300", ind="beds_per_1000_elderly")
    marks = [t for t in figures(at)[0].data if t.name == "公报值"]
    assert len(marks) == 1
    assert numbers(marks[0].x) == [2019] and numbers(marks[0].y) == [36.0]  # 宝鸡 2019: 36 张/千名老年人
    assert "36" in marks[0].customdata[0][1] and "讲话" in marks[0].customdata[0][3]
    words = " ".join(m.value for m in at.markdown)
    assert "2019年数值" in words and "公布的36张/千名老年人" in words  # 文字解读 cites it


def test_reconcile_page_shows_each_figure_beside_the_warehouse(monkeypatch, sample):
    at = app(monkeypatch, sample, "reconcile")
    summary = next(m.value for m in at.markdown if m.value.startswith("本库数据与公开发布数字"))
    table = next(d.value for d in at.dataframe if "状态" in d.value.columns)
    for status in ("一致", "偏差", "无对应数据", "口径不同"):
        assert f"{status} **{int((table['状态'] == status).sum())}** 项" in summary
    beds = table[(table["地区"] == "宝鸡市") & (table["指标（原文）"] == "养老床位数")].iloc[0]
    assert beds["公开数字"] == "2.3万张" and beds["换算值"] == "23,000" and beds["口径"] == "时点存量"
    ytd = table[table["口径"] == "年内累计"]
    assert len(ytd) and set(ytd["状态"]) == {"口径不同"}
    assert any("示例数据" in w.value for w in at.warning)


def test_no_national_reference_line_for_totals_or_years_without_one(monkeypatch, sample):
    # national 每千名老年人床位 is published for 2013–2015 only; the sample starts in 2016
    at = app(monkeypatch, sample, "elderly_care", city="610300", ind="beds_per_1000_elderly")
    assert not [t for t in figures(at)[0].data if t.name == "全国（公报）"]
    at = app(monkeypatch, sample, "elderly_care", city="610300", ind="elderly_beds")
    assert not [t for t in figures(at)[0].data if t.name == "全国（公报）"]  # a national total: another scale


def test_a_publish_is_shown_at_the_next_rerun_not_the_cached_view(monkeypatch, tmp_path):
    # cards, charts, narrative and downloads are cached per version and shared by sessions:
    # after a publish the same session's next rerun must draw the new version's numbers
    assert pipeline.build(tmp_path).ok
    at = app(monkeypatch, tmp_path, "elderly_care", city="610300", ind="elderly_beds")
    mei = next(t for t in figures(at)[0].data if t.name == "眉县")
    assert 99999.0 not in numbers(mei.y) and any("示例数据" in w.value for w in at.warning)
    counties = load_registry().frame().query("parent_code == '610300' and kind == 'county'")["code"]
    update = tmp_path / "宝鸡2025.csv"
    update.write_text(
        "区划代码,年份,指标,数值,单位\n"
        + "".join(f"{c},2025,养老床位数,{99999 if c == '610326' else 1000},张\n" for c in counties),
        encoding="utf-8",
    )
    assert pipeline.load(tmp_path, [update]).ok  # the first real load replaces the sample
    at.run()
    assert not at.exception
    mei = next(t for t in figures(at)[0].data if t.name == "眉县")
    assert numbers(mei.y) == [99999.0] and not any("示例数据" in w.value for w in at.warning)
    words = " ".join(m.value for m in at.markdown)  # 文字解读 of the new version
    assert "2025年宝鸡市养老床位数为11.1万张" in words and "眉县最高（10.00万张）" in words


def test_tied_counties_share_a_rank_everywhere():
    """One ranking rule for the cards and 区县对比's table: ties share the best rank of their
    group ("并列第2") and the next rank skips; where lower is better, the lowest is first."""
    counties = pd.DataFrame(
        {
            "region_code": ["a", "b", "c", "d"],
            "region_name": ["甲", "乙", "丙", "丁"],
            "value": [30.0, 20.0, 20.0, 10.0],
        }
    )
    higher = pd.Series({"higher_is_better": True, "decimals": 0})
    lower = pd.Series({"higher_is_better": False, "decimals": 0})
    assert ranks(counties["value"], higher).tolist() == [1, 2, 2, 4]
    assert ranks(counties["value"], lower).tolist() == [4, 2, 2, 1]
    assert rank_text(counties, "c", higher, "人") == "在4个区县中并列第2"
    assert rank_text(counties, "d", higher, "人") == "在4个区县中排第4"
    assert rank_text(counties, "d", lower, "人") == "在4个区县中排第1"


def test_the_narrative_is_shown_once_and_its_copy_block_stays_folded(monkeypatch, sample):
    at = app(monkeypatch, sample, "elderly_care")
    (code,) = [c for c in at.code]
    assert sum(m.value == code.value for m in at.markdown) == 1  # the text itself, once
    (copy,) = [e for e in at.expander if e.label == "复制文字解读"]
    assert copy.proto.expanded is False and copy.code[0].value == code.value


def test_county_quick_picks_and_the_count(monkeypatch, sample):
    at = app(monkeypatch, sample, "social_relief")
    assert "全部12个" in [c.value for c in at.sidebar.caption]
    assert at.sidebar.multiselect[0].value == []  # "all": an empty box, every name searchable
    names = load_registry().frame().set_index("code")["name"]
    at.sidebar.button(key="pick_counties").click().run()
    picked = at.sidebar.multiselect[0].value
    assert picked and all(not names[c].endswith("区") for c in picked) and len(picked) < 12
    assert f"已选{len(picked)}/12个" in [c.value for c in at.sidebar.caption]
    assert at.query_params["child"] == picked
    at.sidebar.button(key="pick_districts").click().run()
    assert all(names[c].endswith("区") for c in at.sidebar.multiselect[0].value)
    at.sidebar.button(key="pick_all").click().run()
    assert at.sidebar.multiselect[0].value == [] and "child" not in at.query_params
    at.sidebar.multiselect[0].set_value(list(store_counties(sample))).run()  # all, picked one by one
    assert at.sidebar.multiselect[0].value == [] and "child" not in at.query_params


def store_counties(base) -> list[str]:
    return [
        code
        for (code,) in query(
            warehouse.current_db(base),
            "SELECT code FROM regions WHERE parent_code = '610300' AND kind <> 'zone' ORDER BY code",
        )
    ]


def test_cards_and_narrative_follow_a_selection_of_counties(monkeypatch, sample):
    """Two counties picked: the cards show their total (the ratio of their summed parts, checked
    here from the warehouse's county facts), the whole city's value beside it, the best of the
    two; the narrative speaks of the two."""
    at = app(monkeypatch, sample, "elderly_care", county=["610302", "610303"], to="2024")
    rows = dict(
        query(
            warehouse.current_db(sample),
            "SELECT indicator_id, sum(value) FROM facts WHERE year = 2024 AND region_code IN "
            "('610302', '610303') AND indicator_id IN ('elderly_beds', 'pop_60plus') GROUP BY 1",
        )
    )
    ratio = rows["elderly_beds"] / rows["pop_60plus"] * 1000
    card = next(m for m in at.metric if m.label == "每千名老年人养老床位数")
    assert card.value == f"{ratio:.1f}张"
    caption = next(c.value for c in at.caption if c.value.startswith("**所选2个区县**"))
    (city,) = query(
        warehouse.current_db(sample),
        "SELECT value FROM facts WHERE region_code = '610300' AND year = 2024 "
        "AND indicator_id = 'beds_per_1000_elderly'",
    )[0]
    assert f"全市 {city:.1f}张" in caption and "所选区县最高：" in caption
    assert "岐山县" not in caption  # not selected
    assert at.code[0].value.startswith(f"2024年宝鸡市所选2个区县每千名老年人养老床位数为{ratio:.1f}张")


@pytest.mark.parametrize("year", ["²", "２０２０", "9" * 5000, "2020.0", " 2020"])
def test_a_year_in_the_url_counts_only_when_written_as_one(monkeypatch, sample, year):
    at = app(monkeypatch, sample, "overview", **{"from": year, "to": year})  # no exception
    assert at.sidebar.select_slider[0].value == (2016, 2025)  # the whole range instead
