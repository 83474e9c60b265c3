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
