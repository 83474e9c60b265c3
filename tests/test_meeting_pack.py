"""The meeting pack from the command line: PPTX with native Chinese text, native (editable) trend
and ranking charts holding the warehouse's values, the map as a sharp picture, the 文字解读 and
sources in the speaker notes; a PDF with the same pages and the deck's title, author and subject;
the 示例数据 mark and source line on every slide; `--year latest`, `--list-slides`, and no
Streamlit log lines on stdout or stderr."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pypdf
import pytest
import yaml
from PIL import Image
from pptx import Presentation

from etl import warehouse
from tests.util import query

REPO = Path(__file__).resolve().parents[1]
# Chart pictures and the PDF come from Debian's chromium (make test installs it); one worker
# runs the module against its copy of the sample warehouse.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("meeting_pack")]


STREAMLIT_NOISE = ("No runtime found", "ScriptRunContext", "streamlit")


def deck(data_dir, *args):
    """Run `python -m dashboard deck`; its output never carries a Streamlit log line."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard", "deck", "--data-dir", str(data_dir), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    proc.seconds = time.perf_counter() - start
    for noise in STREAMLIT_NOISE:
        assert noise not in proc.stdout and noise not in proc.stderr, (proc.stdout, proc.stderr)
    return proc


@pytest.fixture(scope="module")
def pptx(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "宝鸡_2024.pptx"
    proc = deck(sample, "--city", "610300", "--year", "2024", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    print(f"PPTX export of 12 slides: {proc.seconds:.1f} s (process), {proc.stdout.splitlines()[-1]}")
    return out


def db(sample):
    return warehouse.current_db(sample)


def notes(slide) -> str:
    return slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""


def charts(slide) -> list:
    return [shape.chart for shape in slide.shapes if shape.has_chart]


def series_values(slide) -> dict[str, tuple]:
    """Series name → values over every chart of the slide (a count's trend has two: the city
    total above the counties)."""
    return {s.name: tuple(s.values) for chart in charts(slide) for plot in chart.plots for s in plot.series}


def slide_titled(prs, title: str):
    return next(s for s in prs.slides if texts(s) and texts(s)[0] == title)


def texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def test_pptx_slides_titles_charts_pictures_marks_notes(pptx):
    prs = Presentation(str(pptx))
    slides = list(prs.slides)
    assert len(slides) == 12
    titles = [texts(s)[0] for s in slides]
    assert titles[0] == "宝鸡市民政事业发展情况" and titles[1] == "2024年核心指标"
    assert "养老服务：每千名老年人养老床位数走势" in titles and titles[-1] == "需要关注的事项"
    # trend and ranking slides: native charts (4 topics × 2); the map: the one picture
    with_charts = [s for s in slides if charts(s)]
    assert len(with_charts) == 8
    assert {t for s, t in zip(slides, titles, strict=True) if charts(s)} == {
        t for t in titles if t.endswith("走势") or "年各区县" in t and not t.endswith("分布")
    }
    pictures = [shape for s in slides for shape in s.shapes if shape.shape_type == 13]
    assert len(pictures) == 1 and pictures[0] in list(
        slides[titles.index("2024年各区县每千名老年人养老床位数分布")].shapes
    )
    assert Image.open(io.BytesIO(pictures[0].image.blob)).size[0] >= 1600
    for slide in slides:
        words = " ".join(texts(slide))
        assert "数据来源：各区县报送" in words and "示例数据" in words
        assert "数据来源：各区县报送" in notes(slide)  # the sources are in the notes too
    # the 文字解读 is in the speaker notes; the slide shows one message, not the whole text
    trend = slide_titled(prs, "养老服务：每千名老年人养老床位数走势")
    assert "2024年宝鸡市每千名老年人养老床位数为" in notes(trend)
    assert "2019年数值" in notes(trend) and "公布的36张/千名老年人" in notes(
        trend
    )  # cites the published figure
    assert "指标来源：" in notes(trend)
    body = " ".join(texts(trend))
    assert "2024年宝鸡市每千名老年人养老床位数为" in body and "公布的36张" not in body
    rank = slide_titled(prs, "养老服务：2024年各区县每千名老年人养老床位数")
    assert "目标不低于35.0张" in notes(rank) and "目标不低于35.0张" in " ".join(texts(rank))
    # trend and ranking do not repeat each other's message
    assert "2024年宝鸡市每千名老年人养老床位数为" not in " ".join(texts(rank))
    assert (
        prs.core_properties.title == "宝鸡市民政事业发展情况" and prs.core_properties.author == "民政数据看板"
    )


def test_native_charts_hold_the_warehouses_values(pptx, sample):
    prs = Presentation(str(pptx))
    names = dict(query(db(sample), "SELECT code, name FROM regions WHERE code LIKE '6103%'"))
    for indicator, trend_title, rank_title in [
        (
            "beds_per_1000_elderly",
            "养老服务：每千名老年人养老床位数走势",
            "养老服务：2024年各区县每千名老年人养老床位数",
        ),
        ("dibao_urban_persons", "社会救助：城市低保人数走势", "社会救助：2024年各区县城市低保人数"),
    ]:
        rows = query(
            db(sample),
            "SELECT region_code, year, value FROM facts WHERE indicator_id = ? AND region_code LIKE '6103%' "
            "AND year <= 2024 ORDER BY region_code, year",
            [indicator],
        )
        decimals, unit, display = query(
            db(sample), "SELECT decimals, unit, display_unit FROM indicators WHERE id = ?", [indicator]
        )[0]
        years = sorted({y for _, y, _ in rows})
        expected = {}
        for code, year, value in rows:
            name = names[code] + ("（全市）" if code == "610300" else "")
            expected.setdefault(name, [None] * len(years))[years.index(year)] = value
        slide = slide_titled(prs, trend_title)
        got = series_values(slide)
        assert got == {name: tuple(values) for name, values in expected.items()}
        chart = charts(slide)[-1]  # the counties' (or the only) panel
        assert list(chart.plots[0].categories) == [str(y) for y in years]
        assert chart.value_axis.tick_labels.number_format == "#,##0" + (
            "." + "0" * decimals if decimals else ""
        )
        assert f"（{display or unit}）" in chart.value_axis.axis_title.text_frame.text
        assert chart.category_axis.axis_title.text_frame.text == "年份"
        city = next(s for c in charts(slide) for s in c.plots[0].series if s.name == "宝鸡市（全市）")
        assert city.format.line.width.pt == 4 and str(city.format.line.color.rgb) == "1F2933"
        # ranking: counties best first, the 2024 values exactly
        ranked = sorted(
            ((names[code], value) for code, year, value in rows if year == 2024 and code != "610300"),
            key=lambda item: -item[1],
        )
        bar = charts(slide_titled(prs, rank_title))[0]
        assert bar.chart_type == 57  # XL_CHART_TYPE.BAR_CLUSTERED
        assert list(bar.plots[0].categories) == [name for name, _ in ranked]
        assert bar.plots[0].series[0].values == tuple(value for _, value in ranked)
        assert bar.category_axis.reverse_order  # the best on top
        assert bar.plots[0].data_labels.number_format.startswith("#,##0")
        assert f"（{display or unit}）" in bar.value_axis.axis_title.text_frame.text


def test_pdf_has_the_same_pages(sample, tmp_path, pptx):
    out = tmp_path / "宝鸡_2024.pdf"
    proc = deck(sample, "--city", "610300", "--year", "2024", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    print(f"PDF export of 12 slides: {proc.seconds:.1f} s (process), {proc.stdout.splitlines()[-1]}")
    reader = pypdf.PdfReader(str(out), strict=True)
    assert len(reader.pages) == len(Presentation(str(pptx)).slides)
    first = reader.pages[0].extract_text()
    assert "宝鸡市民政事业发展情况" in first and "示例数据" in first
    meta = reader.metadata
    assert meta.title == "宝鸡市民政事业发展情况"  # not "deck.html"
    assert meta.author == "民政数据看板" and meta.subject == "民政数据看板汇报材料"


def test_chosen_slides_and_counties(sample, tmp_path):
    out = tmp_path / "two.pptx"
    proc = deck(
        sample,
        "--city",
        "610300",
        "--year",
        "2024",
        "--counties",
        "610302,610326",
        "--slides",
        "kpi,elderly_care-rank",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    prs = Presentation(str(out))
    slides = list(prs.slides)
    assert [texts(s)[0] for s in slides] == ["2024年核心指标", "养老服务：2024年各区县每千名老年人养老床位数"]
    assert "2个区县中" in " ".join(texts(slides[1]))
    assert set(charts(slides[1])[0].plots[0].categories) == {"渭滨区", "眉县"}
    # no cover among the slides: the deck's title is still the cover's
    assert prs.core_properties.title == "宝鸡市民政事业发展情况"


def test_year_latest_is_the_citys_latest_year(sample, tmp_path):
    latest = query(db(sample), "SELECT max(year) FROM region_years WHERE region_code = '610300'")[0][0]
    out = tmp_path / "latest.pptx"
    proc = deck(sample, "--city", "610300", "--slides", "cover,kpi", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"（{latest}年）" in proc.stdout
    slides = list(Presentation(str(out)).slides)
    assert texts(slides[1])[0] == f"{latest}年核心指标"
    proc = deck(sample, "--city", "610300", "--year", "latest", "--slides", "kpi", "--out", str(out))
    assert proc.returncode == 0 and texts(list(Presentation(str(out)).slides)[0])[0] == f"{latest}年核心指标"


def test_list_slides_prints_ids_and_titles_in_order(sample):
    views = yaml.safe_load((REPO / "data" / "catalog" / "views.yaml").read_text(encoding="utf-8"))
    expected = [f"{s['id']}\t{s['title']}" for s in views["deck"]["slides"]]
    proc = deck(sample, "--list-slides")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == expected and proc.stderr == ""
    assert expected[0] == "cover\t封面" and expected[-1] == "attention\t需要关注的事项"
    proc = deck(sample, "--list-slides", "--slides", "map,kpi")
    assert proc.returncode == 0 and proc.stdout.splitlines() == ["map\t区县分布图", "kpi\t核心指标"]


def test_bad_arguments_are_refused_in_chinese(sample, tmp_path):
    proc = deck(
        sample,
        "--city",
        "610300",
        "--year",
        "2024",
        "--slides",
        "nonsense",
        "--out",
        str(tmp_path / "x.pptx"),
    )
    assert proc.returncode == 1 and "未知的页面代码" in proc.stderr
    proc = deck(
        sample,
        "--city",
        "610300",
        "--year",
        "2024",
        "--counties",
        "350102",
        "--out",
        str(tmp_path / "x.pptx"),
    )
    assert proc.returncode == 1 and "不属于" in proc.stderr
    for year, words in (("abc", "年份“abc”无效"), ("1999", "没有 1999 年的数据")):
        proc = deck(sample, "--city", "610300", "--year", year, "--out", str(tmp_path / "x.pptx"))
        assert proc.returncode == 1 and words in proc.stderr
    proc = deck(sample, "--year", "2024", "--out", str(tmp_path / "x.pptx"))
    assert proc.returncode == 1 and "请用 --region 指定" in proc.stderr
    proc = deck(sample, "--region", "610302", "--out", str(tmp_path / "x.pptx"))  # a county: no view
    assert proc.returncode == 1 and "不是有数据的地区代码" in proc.stderr
    assert not (tmp_path / "x.pptx").exists()


def test_a_deck_for_a_province(sample, tmp_path):
    out = tmp_path / "陕西.pptx"
    proc = deck(sample, "--region", "610000", "--slides", "cover,kpi", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    cover = Presentation(str(out)).slides[0]
    assert any("陕西省民政事业发展情况" in s.text_frame.text for s in cover.shapes if s.has_text_frame)
