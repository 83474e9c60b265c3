"""数据查询 (pages/query.py) with AppTest on 示例数据: indicators shown by name and unit and found
by any alias through the search box, no indicator id on screen, values rounded to the catalog's
decimals (the stored value in the downloads' 数值（未修约）), every choice in the URL, and the
示例数据 mark inside each download."""

import csv
import io

import openpyxl
import pandas as pd
import pytest

from dashboard import export
from dashboard.format import escape_markdown
from etl import warehouse
from tests.util import RecordingStorage, open_page, query

SHOWN = ["指标", "单位", "地区", "区划代码", "年份", "数值", "来源方式"]
DOWNLOAD = ["指标代码", "指标", "单位", "地区", "区划代码", "年份", "数值", "数值（未修约）", "来源方式"]
BEDS = "beds_per_1000_elderly"
BEDS_LABEL = "每千名老年人养老床位数（张/千名老年人）"


def catalog(base) -> list[tuple[str, str]]:
    """(id, the label the picker must show) of every indicator, in catalog order."""
    rows = query(
        warehouse.current_db(base),
        "SELECT id, name_zh, coalesce(nullif(display_unit, ''), unit) FROM indicators ORDER BY position",
    )
    return [(i, f"{name}（{unit}）") for i, name, unit in rows]


def downloads(at, label: str) -> list[bytes]:
    """The files of every download button called `label`, in page order (明细表, 透视表)."""
    return [
        RecordingStorage.files[b.proto.url.rsplit("/", 1)[-1].split(".")[0]]
        for b in at.get("download_button")
        if b.proto.label == label
    ]


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", skiprows=1, dtype={"区划代码": str})


def facts(base, where: str) -> list[tuple]:
    return query(
        warehouse.current_db(base),
        f"SELECT region_code, indicator_id, year, value FROM facts WHERE {where} "
        "ORDER BY region_code, indicator_id, year",
    )


# ---------------------------------------------------------------- the picker
def test_option_labels_are_name_and_unit_only(monkeypatch, sample):
    at = open_page(monkeypatch, sample, "query")
    picker = at.multiselect(key="q_ind")
    expected = catalog(sample)
    assert picker.options == [label for _, label in expected]
    assert "城市低保人数（人）" in picker.options and BEDS_LABEL in picker.options
    ids = [i for i, _ in expected]
    assert not [o for o in picker.options if " · " in o or any(i in o for i in ids)]  # no alias, no id


def test_an_english_alias_finds_the_indicator_and_choices_stay(monkeypatch, sample):
    chosen = ["population", "elderly_beds"]
    at = open_page(monkeypatch, sample, "query", q_ind=chosen)
    assert at.multiselect(key="q_ind").value == chosen
    at.text_input(key="q_search").set_value("Beds per 1000").run()
    picker = at.multiselect(key="q_ind")
    labels = dict(catalog(sample))
    # The match, and the indicators already chosen (kept though they do not match), in catalog order.
    assert picker.options == [label for i, label in catalog(sample) if i == BEDS or i in chosen]
    assert picker.value == chosen and at.caption[0].value == "找到 1 个指标，已列在下方供选择。"
    picker.select(BEDS).run()
    at.text_input(key="q_search").set_value("").run()  # the search cleared: the choice stays
    assert at.multiselect(key="q_ind").value == [*chosen, BEDS]
    assert len(at.multiselect(key="q_ind").options) == len(labels)
    assert set(at.dataframe[0].value["指标"]) >= {"每千名老年人养老床位数"}


@pytest.mark.parametrize("text", ["千人养老床位数", "ＢＥＤＳ　PER 1000 elderly"])
def test_a_chinese_alias_or_full_width_text_finds_it_too(monkeypatch, sample, text):
    at = open_page(monkeypatch, sample, "query", q_ind=["population"])
    at.text_input(key="q_search").set_value(text).run()
    assert at.multiselect(key="q_ind").options == ["常住人口（人）", BEDS_LABEL]


def test_a_search_with_no_match_says_so_escaped_and_keeps_the_choice(monkeypatch, sample):
    text = "[点我](https://evil.example) 无此指标"
    at = open_page(monkeypatch, sample, "query", q_ind=["population"])
    at.text_input(key="q_search").set_value(text).run()
    assert not at.exception
    assert at.multiselect(key="q_ind").options == ["常住人口（人）"]
    assert at.multiselect(key="q_ind").value == ["population"]
    assert at.caption[0].value == f"没有找到与“{escape_markdown(text)}”相符的指标，请换一个词。"


# ---------------------------------------------------------------- the tables
def test_tables_show_no_indicator_id_and_round_to_the_catalog(monkeypatch, sample):
    at = open_page(monkeypatch, sample, "query", q_ind=[BEDS, "elderly_beds"], q_reg=["610300", "610326"])
    shown, pivot = at.dataframe[0].value, at.dataframe[1].value
    assert list(shown.columns) == SHOWN
    assert list(pivot.columns)[:4] == ["指标", "单位", "地区", "区划代码"] and "指标代码" not in pivot.columns
    stored = facts(
        sample, f"indicator_id IN ('{BEDS}', 'elderly_beds') AND region_code IN ('610300', '610326')"
    )
    assert len(shown) == len(stored)
    full = {(code, ind, year): value for code, ind, year, value in stored}
    decimals = {BEDS: 1, "elderly_beds": 0}  # the catalog's
    ids = shown["指标"].map({"每千名老年人养老床位数": BEDS, "养老床位数": "elderly_beds"})
    keys = list(zip(shown["区划代码"], ids, shown["年份"]))
    rounded = [round(full[k], decimals[k[1]]) for k in keys]
    assert shown["数值"].tolist() == rounded
    assert any(full[k] != r for k, r in zip(keys, rounded))  # there was something to round
    beds_2024 = shown[(shown["指标"] == "每千名老年人养老床位数") & (shown["年份"] == 2024)]
    assert beds_2024["数值"].tolist() == [round(full[(c, BEDS, 2024)], 1) for c in beds_2024["区划代码"]]

    tidy_csv, pivot_csv = downloads(at, "下载 CSV")
    got = read_csv(tidy_csv)
    assert list(got.columns) == DOWNLOAD
    assert got["数值"].tolist() == rounded
    # The stored value to 15 significant digits in the CSV (%.15g), 16 in the xlsx (xlsxwriter's %.16g).
    assert got["数值（未修约）"].tolist() == pytest.approx([full[k] for k in keys], rel=1e-14)
    assert list(zip(got["区划代码"], got["指标代码"], got["年份"])) == keys
    book = openpyxl.load_workbook(io.BytesIO(downloads(at, "下载 Excel")[0]))
    rows = list(book["数据"].iter_rows(min_row=3, values_only=True))
    assert [r[6] for r in rows] == rounded
    assert [r[7] for r in rows] == pytest.approx([full[k] for k in keys], rel=1e-15)
    numbers = book["数据"].iter_rows(min_row=3, min_col=6, max_col=8)  # 年份, 数值, 数值（未修约）
    assert {c.data_type for row in numbers for c in row} == {"n"}
    pivot_got = read_csv(pivot_csv)
    assert pivot_got.columns[0] == "指标代码" and set(pivot_got["指标代码"]) == {BEDS, "elderly_beds"}


# ---------------------------------------------------------------- the URL
def test_a_copied_url_gives_the_same_rows_as_the_choices(monkeypatch, sample):
    at = open_page(monkeypatch, sample, "query")
    at.multiselect(key="q_ind").set_value([BEDS, "dibao_urban_persons"])
    at.multiselect(key="q_reg").set_value(["610300", "610326", "350100"])
    at.select_slider(key="q_years").set_range(2020, 2023).run()
    shown = at.dataframe[0].value
    expected = facts(
        sample,
        f"indicator_id IN ('{BEDS}', 'dibao_urban_persons') "
        "AND region_code IN ('610300', '610326', '350100') AND year BETWEEN 2020 AND 2023",
    )
    assert len(shown) == len(expected) and set(shown["年份"]) == {2020, 2021, 2022, 2023}
    params = {key: at.query_params[key] for key in ("q_ind", "q_reg", "q_from", "q_to")}
    assert params == {
        "q_ind": [BEDS, "dibao_urban_persons"],
        "q_reg": ["610300", "610326", "350100"],
        "q_from": "2020",
        "q_to": "2023",
    }
    again = open_page(monkeypatch, sample, "query", **params)
    assert again.select_slider(key="q_years").value == (2020, 2023)
    pd.testing.assert_frame_equal(again.dataframe[0].value, shown)


GARBAGE = ["abc", "", "2020.0", "02020", "²", "9" * 5000, "-1", "1900", "<script>", "２０２０"]


@pytest.mark.parametrize("text", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_years_in_the_url_are_ignored(monkeypatch, sample, text):
    years = [y for (y,) in query(warehouse.current_db(sample), "SELECT DISTINCT year FROM facts ORDER BY 1")]
    at = open_page(
        monkeypatch,
        sample,
        "query",
        q_ind=[BEDS, "nope", text],
        q_reg=["610300", text],
        q_from=text,
        q_to=text,
    )
    assert at.select_slider(key="q_years").value == (years[0], years[-1])
    assert at.multiselect(key="q_ind").value == [BEDS] and at.multiselect(key="q_reg").value == ["610300"]
    assert len(at.dataframe[0].value) == len(
        facts(sample, f"indicator_id = '{BEDS}' AND region_code = '610300'")
    )
    assert at.query_params["q_from"] == str(years[0]) and at.query_params["q_to"] == str(years[-1])


def test_a_reversed_year_range_is_read_in_order(monkeypatch, sample):
    at = open_page(monkeypatch, sample, "query", q_ind=[BEDS], q_reg=["610300"], q_from="2023", q_to="2020")
    assert at.select_slider(key="q_years").value == (2020, 2023)
    assert set(at.dataframe[0].value["年份"]) == {2020, 2021, 2022, 2023}


# ---------------------------------------------------------------- the 示例数据 mark in the files
def test_every_download_carries_the_sample_mark(monkeypatch, sample):
    at = open_page(monkeypatch, sample, "query", q_ind=[BEDS], q_reg=["610300", "610326"])
    shown = at.dataframe[0].value
    tidy_csv, pivot_csv = downloads(at, "下载 CSV")
    tidy_xlsx, pivot_xlsx = downloads(at, "下载 Excel")
    for data in (tidy_csv, pivot_csv):
        text = data.decode("utf-8-sig")
        assert text.split("\r\n", 1)[0] == "示例数据：系统生成，非真实统计数据" == export.SAMPLE_LINE
        assert next(csv.reader(io.StringIO(text, newline=""))) == [export.SAMPLE_LINE]  # one cell
    got = read_csv(tidy_csv)
    pd.testing.assert_frame_equal(got[SHOWN], shown.reset_index(drop=True), check_dtype=False)
    for data, title in ((tidy_xlsx, "明细表"), (pivot_xlsx, "透视表")):
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.sheetnames == ["数据", "说明"]
        sheet = book["数据"]
        assert sheet["A1"].value == f"民政数据看板 数据查询·{title}（示例数据）"
        assert sheet["A1"].data_type == "s"
        assert sheet["B1"].value is None and sheet["A2"].value == "指标代码"
        assert book["说明"]["A2"].value.startswith("示例数据：系统生成，非真实统计数据。")
    table = pd.read_excel(io.BytesIO(tidy_xlsx), sheet_name="数据", header=1, dtype={"区划代码": str})
    pd.testing.assert_frame_equal(table[SHOWN], got[SHOWN], check_dtype=False)
