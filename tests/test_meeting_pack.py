"""The meeting pack from the command line: PPTX with native Chinese text and sharp chart
pictures, a PDF with the same pages, the 示例数据 mark and source line on every slide."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from PIL import Image
from pptx import Presentation

from etl import pipeline

REPO = Path(__file__).resolve().parents[1]
# Chart pictures and the PDF come from Debian's chromium (make test installs it); one worker
# builds the module's data dir once.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("meeting_pack")]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("deck-data")
    assert pipeline.build(base).ok
    return base


def deck(data_dir, *args):
    return subprocess.run(
        [sys.executable, "-m", "dashboard", "deck", "--data-dir", str(data_dir), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )


@pytest.fixture(scope="module")
def pptx(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "宝鸡_2024.pptx"
    proc = deck(data_dir, "--city", "610300", "--year", "2024", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def test_pptx_slides_titles_pictures_marks(pptx):
    prs = Presentation(str(pptx))
    slides = list(prs.slides)
    assert len(slides) == 12
    titles = [texts(s)[0] for s in slides]
    assert titles[0] == "宝鸡市民政事业发展情况" and titles[1] == "2024年核心指标"
    assert "养老服务：每千名老年人养老床位数走势" in titles and titles[-1] == "需要关注的事项"
    pictures = [shape for s in slides for shape in s.shapes if shape.shape_type == 13]
    assert len(pictures) == 9  # 4 topics × (trend, ranking) + map
    assert all(Image.open(io.BytesIO(p.image.blob)).size[0] >= 1600 for p in pictures)
    for slide in slides:
        words = " ".join(texts(slide))
        assert "数据来源：各区县报送" in words and "示例数据" in words
    narrative = " ".join(texts(slides[titles.index("养老服务：每千名老年人养老床位数走势")]))
    assert "2024年宝鸡市每千名老年人养老床位数为" in narrative and "目标不低于35.0张" in narrative
    assert "2019年数值" in narrative and "公布的36张/千名老年人" in narrative  # cites the published figure


def test_pdf_has_the_same_pages(data_dir, tmp_path, pptx):
    out = tmp_path / "宝鸡_2024.pdf"
    proc = deck(data_dir, "--city", "610300", "--year", "2024", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == len(Presentation(str(pptx)).slides)
    first = reader.pages[0].extract_text()
    assert "宝鸡市民政事业发展情况" in first and "示例数据" in first


def test_chosen_slides_and_counties(data_dir, tmp_path):
    out = tmp_path / "two.pptx"
    proc = deck(
        data_dir,
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
    slides = list(Presentation(str(out)).slides)
    assert [texts(s)[0] for s in slides] == ["2024年核心指标", "养老服务：2024年各区县每千名老年人养老床位数"]
    assert "2个区县中" in " ".join(texts(slides[1]))


def test_bad_arguments_are_refused_in_chinese(data_dir, tmp_path):
    proc = deck(
        data_dir,
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
        data_dir,
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
