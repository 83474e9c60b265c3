"""Download files: cached under a digest of the table's content, never served for another table."""

import io

import openpyxl
import pandas as pd

from dashboard import export

TABLE = pd.DataFrame({"地区": ["眉县", "凤县"], "年份": [2024, 2024], "数值": [38.0, 41.5]})


def test_digest_changes_with_any_value_name_or_type():
    same = TABLE.copy()
    assert export.content_digest(same) == export.content_digest(TABLE)
    changed = TABLE.assign(数值=[38.0, 41.6])
    renamed = TABLE.rename(columns={"数值": "数量"})
    retyped = TABLE.astype({"年份": "float64"})
    reordered = TABLE.iloc[::-1]
    digests = {export.content_digest(t) for t in (TABLE, changed, renamed, retyped, reordered)}
    assert len(digests) == 5


def test_cached_files_belong_to_their_table():
    xlsx, csv = export._files(export.content_digest(TABLE), TABLE, "示例数据")
    other = TABLE.assign(数值=[1.0, 2.0])
    xlsx2, csv2 = export._files(export.content_digest(other), other, "示例数据")
    assert csv.decode("utf-8-sig").splitlines()[1:] == ["眉县,2024,38", "凤县,2024,41.5"]
    assert csv2.decode("utf-8-sig").splitlines()[1:] == ["眉县,2024,1", "凤县,2024,2"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx2))
    assert [c.value for c in book["数据"]["C"]][1:] == [1, 2] and book["说明"]["A2"].value == "示例数据"


# One chart as a picture that explains itself (export.chart_image).
CONTEXT = export.ChartContext(
    "每千名老年人养老床位数走势", "宝鸡市", "2018—2025年", "张/千名老年人", "v-test", True
)


def small_figure():
    import plotly.graph_objects as go

    return go.Figure(go.Scatter(x=[2023, 2024, 2025], y=[30.5, 31.2, 33.0], name="宝鸡市（全市）"))


def test_chart_figure_carries_title_region_years_unit_source_and_sample_mark():
    from dashboard.meeting_pack import SOURCE_LINE

    fig = export.chart_figure(small_figure(), CONTEXT)
    assert fig.layout.title.text == "每千名老年人养老床位数走势"
    assert fig.layout.title.subtitle.text == "宝鸡市 · 2018—2025年 · 单位：张/千名老年人"
    notes = [a.text for a in fig.layout.annotations]
    assert f"{SOURCE_LINE}；数据版本 v-test" in notes
    assert export.SAMPLE_MARK in notes
    real = export.chart_figure(small_figure(), CONTEXT._replace(sample=False))
    assert export.SAMPLE_MARK not in [a.text for a in real.layout.annotations]


def test_chart_image_png_and_svg():
    png = export.chart_image(small_figure(), CONTEXT)
    assert png.startswith(b"\x89PNG")
    svg = export.chart_image(small_figure(), CONTEXT, "svg").decode()
    assert svg.startswith("<svg")
    for text in ("每千名老年人养老床位数走势", "宝鸡市", "2018—2025年", "数据来源：", "示例数据"):
        assert text in svg, text


def test_chart_image_is_made_only_when_asked(monkeypatch):
    """The buttons get a callable: a rerun renders nothing, a click renders its one format."""
    made, given = [], {}
    monkeypatch.setattr(
        export, "chart_image", lambda figure, context, format="png": made.append(format) or b"x"
    )

    class Column:
        def download_button(self, label, data, file_name, **kwargs):
            given[file_name] = data

    monkeypatch.setattr(export.st, "columns", lambda n: [Column() for _ in range(n)])
    monkeypatch.setattr(export.runtime, "exists", lambda: True)
    export.chart_buttons(small_figure(), CONTEXT, "走势", key="k")
    assert made == [] and set(given) == {"走势.png", "走势.svg"}
    assert all(callable(data) for data in given.values())
    assert given["走势.svg"]() == b"x" and made == ["svg"]


# The 示例数据 mark and title inside the files (export.csv_bytes / xlsx_bytes with `title`, `sample`).
def test_files_without_title_or_sample_are_unchanged():
    xlsx, csv = export.files(TABLE, "说明文字")
    assert csv.decode("utf-8-sig").split("\r\n") == ["地区,年份,数值", "眉县,2024,38", "凤县,2024,41.5", ""]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx))["数据"]
    assert [c.value for c in sheet[1]] == ["地区", "年份", "数值"]


def test_sample_csv_starts_with_one_mark_cell_and_parses_with_skiprows():
    data = export.csv_bytes(TABLE, sample=True)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "示例数据：系统生成，非真实统计数据"
    assert lines[1:] == ["地区,年份,数值", "眉县,2024,38", "凤县,2024,41.5", ""]
    got = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", skiprows=1)
    pd.testing.assert_frame_equal(got, TABLE)


def test_xlsx_title_row_above_the_table():
    made = export.xlsx_bytes(TABLE, "说明文字", "民政数据看板 数据查询", True)
    book = openpyxl.load_workbook(io.BytesIO(made))
    sheet = book["数据"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["民政数据看板 数据查询（示例数据）", None, None],
        ["地区", "年份", "数值"],
        ["眉县", 2024, 38],
        ["凤县", 2024, 41.5],
    ]
    assert sheet["A1"].data_type == "s" and sheet["C4"].data_type == "n"
    assert book["说明"]["A2"].value == "说明文字"
    real = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(TABLE, "", "民政数据看板 数据查询")))["数据"]
    assert real["A1"].value == "民政数据看板 数据查询" and real["A2"].value == "地区"
    assert export.sheet_title("", True) == "示例数据：系统生成，非真实统计数据"


def test_cached_files_differ_by_title_and_sample():
    digest = export.content_digest(TABLE)
    plain = export._files(digest, TABLE, "说明")
    marked = export._files(digest, TABLE, "说明", "标题", True)
    assert plain.csv.decode("utf-8-sig").startswith("地区,")
    assert marked.csv.decode("utf-8-sig").startswith("示例数据：")
    assert openpyxl.load_workbook(io.BytesIO(marked.xlsx))["数据"]["A1"].value == "标题（示例数据）"


def test_values_round_to_each_indicators_decimals_with_the_full_value_beside():
    indicators = pd.DataFrame(
        {
            "name_zh": ["每千名老年人养老床位数", "养老床位数"],
            "unit": ["张", "张"],
            "display_unit": ["张/千名老年人", ""],
            "decimals": [1, 0],
        },
        index=["beds_per_1000_elderly", "elderly_beds"],
    )
    data = pd.DataFrame(
        {
            "region_code": ["610300", "610300", "610326"],
            "region_name": ["宝鸡市", "宝鸡市", "眉县"],
            "year": [2024, 2024, 2024],
            "indicator_id": ["beds_per_1000_elderly", "elderly_beds", "beds_per_1000_elderly"],
            "value": [33.11275874117049, 12345.6, 29.96],
            "origin": ["derived", "aggregated", "derived"],
        }
    )
    table = export.tidy_rounded(data, indicators)
    assert table["数值"].tolist() == [33.1, 12346.0, 30.0]
    assert table["数值（未修约）"].tolist() == [33.11275874117049, 12345.6, 29.96]
    assert table["单位"].tolist() == ["张/千名老年人", "张", "张/千名老年人"]
    assert table["指标代码"].tolist() == data["indicator_id"].tolist()
    decimals = pd.Series([2, None, 0])
    assert export.round_each(pd.Series([1.23456, 1.23456, 2.5]), decimals).tolist() == [1.23, 1.23456, 2.0]
