"""The meeting pack (汇报材料): the deck's slides as PPTX (python-pptx, native text) and PDF.

Charts become PNG images rendered by kaleido through Debian's /usr/bin/chromium — all figures
in one kaleido session, because starting the browser costs seconds — with the offline topojson
stub. The PDF is the same slides laid out in HTML and printed by the same chromium, so both
files have the same pages. Sample data carries a red 示例数据 mark on every slide.
"""

from __future__ import annotations

import base64
import html
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Inches, Pt

from etl.settings import ENV_BROWSER_PATH, browser_path

from . import store
from .deck import Slide

STUB = Path(__file__).resolve().parents[1] / "static" / "topojson"
# The app's own subset font: its glyphs map to one character each, so text copied from the PDF
# is right (with the full Noto CJK, 民 and 示 come out as the radicals ⺠ and ⽰).
FONTS = Path(__file__).resolve().parents[1] / "static" / "fonts"
IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_SCALE = 1600, 900, 1.2  # → 1920 × 1080 px pictures
SOURCE_LINE = "数据来源：各区县报送，民政数据看板汇总"
Progress = Callable[[float, str], None]


def _quiet(done: float, text: str) -> None:
    pass


def render_images(slides: list[Slide], folder: Path, progress: Progress = _quiet) -> dict[str, Path]:
    """PNG per slide figure, all in one kaleido session. Returns slide id → image path."""
    os.environ[ENV_BROWSER_PATH] = browser_path()  # what kaleido starts
    pio.defaults.topojson = STUB.as_uri() + "/"
    with_figures = [s for s in slides if s.figure is not None]
    paths = {s.id: folder / f"{s.id}.png" for s in with_figures}
    if with_figures:
        progress(0.1, f"正在生成 {len(with_figures)} 张图表图片……")
        pio.write_images(
            [_for_slide(s.figure) for s in with_figures],
            [paths[s.id] for s in with_figures],
            format="png",
            width=IMAGE_WIDTH,
            height=IMAGE_HEIGHT,
            scale=IMAGE_SCALE,
        )
    progress(0.8, "图表图片已生成")
    return paths


def _for_slide(figure):
    """The screen figure, restyled for a projected slide: larger type, room for axis labels, no
    title of its own (the slide has one)."""
    fig = go.Figure(figure)
    fig.update_layout(font_size=22, title_text="", height=None, margin=dict(l=30, r=40, t=30, b=40))
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _footer(slide: Slide) -> str:
    return f"{SOURCE_LINE}；数据版本 {store.version()}"


def write_pptx(slides: list[Slide], images: dict[str, Path], out: Path, sample: bool) -> Path:
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    blank = prs.slide_layouts[6]
    for number, slide in enumerate(slides, start=1):
        page = prs.slides.add_slide(blank)
        _text(page, slide.title, 0.5, 0.3, 12.3, 0.8, 32, bold=True)
        if slide.subtitle:
            _text(page, slide.subtitle, 0.5, 1.05, 12.3, 0.5, 18, color=(90, 99, 110))
        top = 1.6
        if slide.id in images:
            page.shapes.add_picture(str(images[slide.id]), Inches(0.5), Inches(top), width=Inches(8.7))
            if slide.narrative:
                _text(page, slide.narrative, 9.4, top, 3.5, 4.9, 16)
        else:
            lines = [
                f"{label}：{value}（同比 {change}）" for label, value, change in slide.numbers
            ] + slide.bullets
            if slide.figure is None and not lines and not slide.narrative:
                lines = ["暂无数据"]
            _text(page, "\n".join(lines), 0.8, top, 11.8, 4.6, 24 if slide.numbers else 20)
            if slide.narrative:
                _text(page, slide.narrative, 0.8, 6.3, 11.8, 0.6, 14, color=(90, 99, 110))
        _text(page, _footer(slide), 0.5, 6.95, 10.5, 0.4, 11, color=(120, 128, 138))
        _text(page, f"{number} / {len(slides)}", 11.8, 6.95, 1.0, 0.4, 11, color=(120, 128, 138))
        if sample:
            _text(page, "示例数据", 11.3, 0.3, 1.7, 0.5, 16, bold=True, color=(194, 59, 59))
    out.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(out))
    return out


def _text(
    page,
    text: str,
    left: float,
    top: float,
    width: float,
    height: float,
    size: int,
    bold: bool = False,
    color: tuple[int, int, int] = (31, 41, 51),
) -> None:
    box = page.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    for n, line in enumerate(text.split("\n")):
        paragraph = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = line
        run.font.size, run.font.bold = Pt(size), bold
        run.font.color.rgb = RGBColor(*color)


def slides_html(slides: list[Slide], images: dict[str, Path], sample: bool) -> str:
    """The slides as 16:9 HTML pages (also what the PDF is printed from)."""
    pages = []
    for number, slide in enumerate(slides, start=1):
        body = ""
        if slide.id in images:
            data = base64.b64encode(images[slide.id].read_bytes()).decode()
            body = (
                f'<div class="row"><img src="data:image/png;base64,{data}">'
                f'<p class="story">{html.escape(slide.narrative)}</p></div>'
            )
        else:
            items = [
                f"{label}：<b>{html.escape(value)}</b>（同比 {html.escape(change)}）"
                for label, value, change in slide.numbers
            ] + [html.escape(b) for b in slide.bullets]
            body = "<ul>" + "".join(f"<li>{i}</li>" for i in items or ["暂无数据"]) + "</ul>"
            if slide.narrative:
                body += f'<p class="note">{html.escape(slide.narrative)}</p>'
        mark = '<div class="mark">示例数据</div>' if sample else ""
        pages.append(
            f"<section><h1>{html.escape(slide.title)}</h1><h2>{html.escape(slide.subtitle)}</h2>{mark}"
            f"{body}<footer><span>{html.escape(_footer(slide))}</span><span>{number} / {len(slides)}</span>"
            f"</footer></section>"
        )
    fonts = FONTS.as_uri()
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page {{ size: 1600px 900px; margin: 0; }}
@font-face {{ font-family: "NotoSansSC"; src: url("{fonts}/NotoSansSC-Regular.woff2"); font-weight: 400; }}
@font-face {{ font-family: "NotoSansSC"; src: url("{fonts}/NotoSansSC-Bold.woff2"); font-weight: 700; }}
body {{ margin: 0; font-family: "NotoSansSC", "Noto Sans CJK SC", sans-serif; color: #1F2933; }}
section {{ width: 1600px; height: 900px; box-sizing: border-box; padding: 40px 60px; position: relative;
           page-break-after: always; overflow: hidden; }}
h1 {{ font-size: 44px; margin: 0 0 8px; }} \
h2 {{ font-size: 24px; color: #5A636E; font-weight: normal; margin: 0 0 20px; }}
.row {{ display: flex; gap: 30px; }} .row img {{ width: 1060px; height: auto; }}
.story {{ font-size: 22px; line-height: 1.6; }} ul {{ font-size: 30px; line-height: 1.7; }}
.note {{ font-size: 20px; color: #5A636E; }}
.mark {{ position: absolute; top: 40px; right: 60px; color: #C23B3B; font-size: 24px; font-weight: bold; }}
footer {{ position: absolute; bottom: 24px; left: 60px; right: 60px; \
display: flex; justify-content: space-between;
          font-size: 16px; color: #78808A; }}
</style></head><body>{"".join(pages)}</body></html>"""


def write_pdf(slides: list[Slide], images: dict[str, Path], out: Path, sample: bool) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "deck.html"
        page.write_text(slides_html(slides, images, sample), encoding="utf-8")
        subprocess.run(
            [
                browser_path(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-pdf-header-footer",
                f"--user-data-dir={tmp}/profile",
                f"--print-to-pdf={out.resolve()}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return out


def write(slides: list[Slide], out: Path, sample: bool, progress: Progress = _quiet) -> Path:
    """Write `out` as .pptx or .pdf (by suffix)."""
    out = Path(out)
    if out.suffix.lower() not in (".pptx", ".pdf"):
        raise ValueError("输出文件须为 .pptx 或 .pdf")
    with tempfile.TemporaryDirectory() as tmp:
        images = render_images(slides, Path(tmp), progress)
        progress(0.9, "正在排版……")
        if out.suffix.lower() == ".pptx":
            write_pptx(slides, images, out, sample)
        else:
            write_pdf(slides, images, out, sample)
    progress(1.0, "完成")
    return out
