"""The meeting pack (汇报材料): the deck's slides as PPTX (python-pptx, native text and charts) and PDF.

In the PPTX, trend and ranking slides are native PowerPoint charts (a line chart with one series
per region, the city's bold and dark; a horizontal bar chart of the counties, best on top) whose
values are the figure's own, i.e. the warehouse's, so staff can restyle and edit them; the number
format follows the catalog's decimals and the axis titles carry the units. Text and charts use
the theme fonts, which name Noto Sans SC (Microsoft YaHei as the theme's 简体中文 font), so one
change in PowerPoint's 设计 → 字体 restyles the whole deck. Each slide shows one message; the
full 文字解读, the sources and the data version are in the speaker notes.

Maps (and, in the PDF, every chart) are PNG images rendered by kaleido through Debian's
/usr/bin/chromium — all figures in one kaleido session, because starting the browser costs
seconds — with the offline topojson stub. The PDF is the same slides laid out in HTML and printed
by the same chromium, so both files have the same pages; its title, author and subject are the
deck's. Sample data carries a red 示例数据 mark on every slide.
"""

from __future__ import annotations

import base64
import html
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.util import Inches, Pt

from etl.settings import ENV_BROWSER_PATH, browser_path

from . import store
from .deck import Slide

STUB = Path(__file__).resolve().parents[1] / "static" / "topojson"
# The app's own subset font: its glyphs map to one character each, so text copied from the PDF
# is right (with the full Noto CJK, 民 and 示 come out as the radicals ⺠ and ⽰).
FONTS = Path(__file__).resolve().parents[1] / "static" / "fonts"
IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_SCALE = 1600, 900, 1.2  # → 1920 × 1080 px pictures
# Headless chromium on a closed network: without the background-networking flags it tries to
# reach Google's hosts at every start. The browser tests launch it with the same flags.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SOURCE_LINE = "数据来源：各区县报送，民政数据看板汇总"
AUTHOR = "民政数据看板"
SUBJECT = "民政数据看板汇报材料"
# The deck's theme fonts (PPTX): Latin and East Asian text in Noto Sans SC, the theme's 简体中文
# script font Microsoft YaHei; charset -122 (GB2312) and a sans-serif panose let Windows pick a
# Chinese sans-serif font where Noto Sans SC is not installed.
THEME_FONT = "Noto Sans SC"
FALLBACK_FONT = "Microsoft YaHei"
INK, GREY, LIGHT = (31, 41, 51), (90, 99, 110), (120, 128, 138)
CITY_INK = RGBColor(0x1F, 0x29, 0x33)  # charts.CITY_COLOR
Progress = Callable[[float, str], None]


def _quiet(done: float, text: str) -> None:
    pass


def chart_kind(slide: Slide) -> str | None:
    """ "trend" or "rank" for a slide the PPTX draws as a native chart (its id ends with -trend or
    -rank and it has a figure); None for the rest (the map stays a picture)."""
    if slide.figure is None:
        return None
    for kind in ("trend", "rank"):
        if slide.id.endswith(f"-{kind}"):
            return kind
    return None


def render_images(
    slides: list[Slide], folder: Path, progress: Progress = _quiet, native_charts: bool = False
) -> dict[str, Path]:
    """PNG per slide figure, all in one kaleido session. Returns slide id → image path. With
    `native_charts`, slides the PPTX draws as native charts (`chart_kind`) get no picture."""
    os.environ[ENV_BROWSER_PATH] = browser_path()  # what kaleido starts
    pio.defaults.topojson = STUB.as_uri() + "/"
    with_figures = [
        s for s in slides if s.figure is not None and not (native_charts and chart_kind(s) is not None)
    ]
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
    """The source line and the deck's own footer (data year and version) where the model gives
    one, else the data version."""
    own = getattr(slide, "footer", "")
    return (
        f"{SOURCE_LINE}；{own}"
        if isinstance(own, str) and own
        else f"{SOURCE_LINE}；数据版本 {store.version()}"
    )


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=。)", text) if s.strip()]


def message(slide: Slide) -> str:
    """The one message a chart slide (trend, ranking, map) shows under its chart — the first
    sentence of its 文字解读: a trend the city's latest value and change, a ranking how the
    counties compare (the sentence on the counties, should the text cover more), the map how
    far apart they are. The whole 文字解读 goes to the speaker notes. Other slides: ""."""
    given = getattr(slide, "message", None)  # a field the deck model may add
    if isinstance(given, str):
        return given
    if not (slide.id.endswith(("-trend", "-rank")) or slide.id == "map"):
        return ""
    sentences = [s for s in _sentences(slide.narrative) if not s.startswith("注：")]
    if slide.id.endswith("-rank"):
        return next(
            (s for s in sentences if re.search("个(区县|市|省份)中", s)), sentences[0] if sentences else ""
        )
    return sentences[0] if sentences else ""


def notes(slide: Slide) -> str:
    """The speaker notes: the whole 文字解读, the sources (the indicator's catalog source where
    the slide charts one indicator) and the data version."""
    lines = [slide.narrative] if slide.narrative else []
    meta = _indicator(slide) if chart_kind(slide) else None
    if meta is not None:
        source = meta.get("source")
        lines.append(
            f"指标：{meta['name_zh']}（{meta['display_unit'] or meta['unit']}）"
            + (f"；指标来源：{source}" if isinstance(source, str) and source else "")
        )
    lines.append(_footer(slide))
    return "\n".join(lines)


def _theme_fonts(prs) -> None:
    """Noto Sans SC as the theme's Latin and East Asian font (major and minor), Microsoft YaHei
    as its 简体中文 script font: every text box and chart uses the theme fonts."""
    theme = prs.slide_master.part.part_related_by(RT.THEME)
    xml = theme.blob.decode("utf-8")
    ea = f'<a:ea typeface="{THEME_FONT}" panose="020B0500000000000000" pitchFamily="34" charset="-122"/>'
    xml = re.sub(r'<a:latin typeface="[^"]*"(?: [^/>]*)?/>', f'<a:latin typeface="{THEME_FONT}"/>', xml)
    xml = re.sub(r'<a:ea typeface="[^"]*"(?: [^/>]*)?/>', ea, xml)
    xml = re.sub(
        r'<a:font script="Hans" typeface="[^"]*"/>',
        f'<a:font script="Hans" typeface="{FALLBACK_FONT}"/>',
        xml,
    )
    theme.blob = xml.encode("utf-8")


def write_pptx(
    slides: list[Slide], images: dict[str, Path], out: Path, sample: bool, title: str | None = None
) -> Path:
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    prs.core_properties.title = deck_title(slides, title)
    prs.core_properties.author = AUTHOR
    prs.core_properties.subject = SUBJECT
    _theme_fonts(prs)
    blank = prs.slide_layouts[6]
    for number, slide in enumerate(slides, start=1):
        page = prs.slides.add_slide(blank)
        _text(page, slide.title, 0.5, 0.3, 12.3, 0.8, 32, bold=True)
        if slide.subtitle:
            _text(page, slide.subtitle, 0.5, 1.05, 12.3, 0.5, 18, color=GREY)
        top = 1.6 if slide.subtitle else 1.25
        kind = chart_kind(slide)
        if kind is not None or slide.id in images:
            line = message(slide)
            caption = _captions(slide.figure) if kind is not None else ""
            height = 6.25 - top - (0.45 if line else 0) - (0.35 if caption else 0)
            if kind is not None:
                _native_chart(page, slide, kind, 0.5, top, 12.3, height)
            else:  # a 16:9 picture, centred in the space
                width = min(12.3, height * 16 / 9)
                page.shapes.add_picture(
                    str(images[slide.id]), Inches(0.5 + (12.3 - width) / 2), Inches(top), width=Inches(width)
                )
            below = top + height
            if caption:
                _text(page, caption, 0.5, below, 12.3, 0.35, 12, color=GREY)
                below += 0.35
            if line:
                _text(page, line, 0.5, below + 0.05, 12.3, 0.5, 18, bold=True)
        else:
            lines = [
                f"{label}：{value}（同比 {change}）" for label, value, change in slide.numbers
            ] + slide.bullets
            if not lines:  # a chart slide without its chart says its message, or that there is no data
                lines = [message(slide) or "暂无数据"]
            _text(page, "\n".join(lines), 0.8, top, 11.8, 4.6, 24 if slide.numbers else 20)
            if slide.narrative and (slide.numbers or slide.bullets):  # a short note (同比, 示例数据)
                _text(page, slide.narrative, 0.8, 6.3, 11.8, 0.6, 14, color=GREY)
        _text(page, _footer(slide), 0.5, 6.95, 10.5, 0.4, 11, color=LIGHT)
        _text(page, f"{number} / {len(slides)}", 11.8, 6.95, 1.0, 0.4, 11, color=LIGHT)
        if sample:
            _text(page, "示例数据", 11.3, 0.3, 1.7, 0.5, 16, bold=True, color=(194, 59, 59))
        page.notes_slide.notes_text_frame.text = notes(slide)
    out.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(out))
    return out


def _number_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def _indicator(slide: Slide) -> pd.Series | None:
    """The catalog entry of the indicator a chart slide shows: the longest catalog name found in
    the slide's title or the figure's bar name ("养老服务：每千名老年人养老床位数走势"); None
    when none is."""
    if slide.figure is None:
        return None
    text = slide.title + "".join(t.name or "" for t in slide.figure.data if t.type == "bar")
    catalog = store.indicators()
    found = [(len(meta["name_zh"]), ind) for ind, meta in catalog.iterrows() if meta["name_zh"] in text]
    return catalog.loc[max(found)[1]].rename(max(found)[1]) if found else None


def _decimals(slide: Slide) -> int:
    """The catalog's decimals of the charted indicator; else those of the figure's hover format
    (",.1f"), else none."""
    meta = _indicator(slide)
    if meta is not None:
        return int(meta["decimals"])
    for trace in slide.figure.data:
        found = re.search(r":[+,]*\.(\d+)f", trace.hovertemplate or "")
        if found:
            return int(found.group(1))
    return 0


def _values(array) -> list:
    return [] if array is None else list(array)


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


@dataclass
class Line:
    name: str
    values: list[float | None]  # one per year, None where the region has no value
    is_city: bool
    color: str | None
    dotted: bool


@dataclass
class Panel:
    """One value axis of a trend figure: its title, domain (share of the height) and lines."""

    title: str
    domain: tuple[float, float]
    lines: list[Line]


def trend_data(figure) -> tuple[list[int], list[Panel]]:
    """(years, panels top first) of a trend figure: a count's figure has the city total on a panel
    of its own above the counties (`yaxis2`), a ratio's one panel. Lines list counties first (in
    code order) and the city last (drawn on top); markers-only traces (公报值) are left out."""
    traces = [t for t in figure.data if t.type == "scatter" and "lines" in (t.mode or "lines")]
    years = sorted({int(x) for t in traces for x in _values(t.x)})
    panels = []
    for ref in sorted({t.yaxis or "y" for t in traces}, key=lambda r: r != "y2"):
        axis = figure.layout["yaxis" + ref[1:]]
        lines = []
        for trace in (t for t in traces if (t.yaxis or "y") == ref):
            by_year = dict(zip((int(x) for x in _values(trace.x)), _values(trace.y), strict=True))
            name = trace.name or ""
            lines.append(
                Line(
                    name,
                    [_number(by_year.get(y)) for y in years],
                    name.endswith(("（全市）", "（全省）", "（全区）"))
                    or name == "全国"
                    or (trace.line.width or 0) >= 3,
                    trace.line.color if isinstance(trace.line.color, str) else None,
                    trace.line.dash in ("dot", "dash", "dashdot", "longdash"),
                )
            )
        others = [line for line in lines if not line.is_city]
        domain = tuple(axis.domain) if axis.domain else (0.0, 1.0)
        title = axis.title.text or (figure.layout.yaxis.title.text if ref == "y" else "") or ""
        panels.append(Panel(title, domain, others[::-1] + [line for line in lines if line.is_city]))
    return years, panels


def rank_data(figure) -> tuple[list[str], list[float], list[str | None]]:
    """(county names best first, values, bar colours) of a ranking figure's bar."""
    bar = next(t for t in figure.data if t.type == "bar")
    if bar.orientation == "h":
        names, values = _values(bar.y), _values(bar.x)
    else:
        names, values = _values(bar.x), _values(bar.y)
    colors = bar.marker.color
    colors = list(colors) if isinstance(colors, (list, tuple)) else [colors] * len(names)
    return [str(n) for n in names], [float(v) for v in values], colors


def _captions(figure) -> str:
    """The figure's reference lines and notes (全市 value, target) as one line under the chart."""
    return "；".join(a.text for a in figure.layout.annotations if a.text)


def _rgb(color) -> RGBColor | None:
    if isinstance(color, str) and re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
        return RGBColor.from_string(color[1:].upper())
    return None


def _native_chart(page, slide: Slide, kind: str, left: float, top: float, width: float, height: float):
    """The slide's figure as native PowerPoint charts: a trend's panels one above the other
    (line charts), a ranking as one horizontal bar chart. Returns the charts."""
    number_format = _number_format(_decimals(slide))
    figure = slide.figure
    if kind == "rank":
        names, values, colors = rank_data(figure)
        data = CategoryChartData(number_format=number_format)
        data.categories = names
        data.add_series(next(t for t in figure.data if t.type == "bar").name or "数值", values)
        frame = page.shapes.add_chart(
            XL_CHART_TYPE.BAR_CLUSTERED, Inches(left), Inches(top), Inches(width), Inches(height), data
        )
        chart = frame.chart
        _chart_style(chart, number_format, figure.layout.xaxis.title.text, None)
        chart.has_legend = False
        chart.category_axis.reverse_order = True  # the best county on top, as on screen
        plot = chart.plots[0]
        plot.gap_width = 50
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format, labels.number_format_is_linked = number_format, False
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
        bars = plot.series[0]
        first = _rgb(colors[0]) if colors else None
        if first is not None:
            bars.format.fill.solid()
            bars.format.fill.fore_color.rgb = first
        for n, color in enumerate(colors):
            rgb = _rgb(color)
            if rgb is not None and rgb != first:  # counties missing the target
                point = bars.points[n]
                point.format.fill.solid()
                point.format.fill.fore_color.rgb = rgb
        return [chart]
    years, panels = trend_data(figure)
    share = [max(p.domain[1] - p.domain[0], 0.1) for p in panels]
    gap = 0.1 if len(panels) > 1 else 0.0
    usable = height - gap * (len(panels) - 1)
    charts, y = [], top
    for n, (panel, part) in enumerate(zip(panels, share, strict=True)):
        tall = usable * part / sum(share)
        data = CategoryChartData(number_format=number_format)
        data.categories = [str(year) for year in years]
        for line in panel.lines:
            data.add_series(line.name, line.values)
        frame = page.shapes.add_chart(
            XL_CHART_TYPE.LINE_MARKERS, Inches(left), Inches(y), Inches(width), Inches(tall), data
        )
        chart = frame.chart
        last = n == len(panels) - 1
        _chart_style(chart, number_format, panel.title, figure.layout.xaxis.title.text if last else None)
        chart.has_legend = True
        chart.legend.position = XL_LEGEND_POSITION.RIGHT
        chart.legend.include_in_layout = False
        for plotted, line in zip(chart.plots[0].series, panel.lines, strict=True):
            plotted.smooth = False
            rgb = CITY_INK if line.is_city else _rgb(line.color)
            plotted.format.line.width = Pt(4 if line.is_city else 2)
            if line.dotted:
                plotted.format.line.dash_style = MSO_LINE_DASH_STYLE.ROUND_DOT
            plotted.marker.style = XL_MARKER_STYLE.CIRCLE
            plotted.marker.size = 7 if line.is_city else 5
            if rgb is not None:
                plotted.format.line.color.rgb = rgb
                plotted.marker.format.fill.solid()
                plotted.marker.format.fill.fore_color.rgb = rgb
                plotted.marker.format.line.color.rgb = rgb
        charts.append(chart)
        y += tall + gap
    return charts


def _chart_style(chart, number_format: str, value_title: str | None, category_title: str | None) -> None:
    chart.has_title = False  # the slide's title names it
    chart.font.size = Pt(12)
    chart.font.color.rgb = RGBColor(*INK)
    values_axis = chart.value_axis
    values_axis.tick_labels.number_format = number_format
    values_axis.tick_labels.number_format_is_linked = False
    values_axis.has_major_gridlines = True
    values_axis.major_gridlines.format.line.color.rgb = RGBColor(0xE4, 0xE7, 0xEB)
    _axis_title(values_axis, value_title)
    _axis_title(chart.category_axis, category_title)


def _axis_title(axis, text: str | None) -> None:
    if not text:
        axis.has_title = False
        return
    axis.has_title = True
    frame = axis.axis_title.text_frame
    frame.text = text
    for paragraph in frame.paragraphs:
        for run in paragraph.runs:
            run.font.size, run.font.bold = Pt(12), False
            run.font.color.rgb = RGBColor(*GREY)


def _text(
    page,
    text: str,
    left: float,
    top: float,
    width: float,
    height: float,
    size: int,
    bold: bool = False,
    color: tuple[int, int, int] = INK,
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


def deck_title(slides: list[Slide], title: str | None = None) -> str:
    """The deck's title: `title` when given, else the cover's, else the first slide's."""
    if title:
        return title
    cover = next((s for s in slides if s.id == "cover"), None)
    return (cover or (slides[0] if slides else Slide("", SUBJECT))).title or SUBJECT


def slides_html(slides: list[Slide], images: dict[str, Path], sample: bool, title: str | None = None) -> str:
    """The slides as 16:9 HTML pages (also what the PDF is printed from): a chart slide shows its
    picture and one message, as in the PPTX; the document's title, author and subject are the
    deck's (chromium's PDF takes its title from <title>)."""
    pages = []
    for number, slide in enumerate(slides, start=1):
        body = ""
        line = message(slide)
        if slide.id in images:
            data = base64.b64encode(images[slide.id].read_bytes()).decode()
            # the picture draws its reference lines and notes itself: no caption line
            body = f'<div class="chart"><img src="data:image/png;base64,{data}"></div>'
            if line:
                body += f'<p class="message">{html.escape(line)}</p>'
        else:
            items = [
                f"{label}：<b>{html.escape(value)}</b>（同比 {html.escape(change)}）"
                for label, value, change in slide.numbers
            ] + [html.escape(b) for b in slide.bullets]
            body = (
                "<ul>"
                + "".join(f"<li>{i}</li>" for i in items or [html.escape(line or "暂无数据")])
                + "</ul>"
            )
            if slide.narrative and (slide.numbers or slide.bullets):
                body += f'<p class="note">{html.escape(slide.narrative)}</p>'
        mark = '<div class="mark">示例数据</div>' if sample else ""
        pages.append(
            f"<section><h1>{html.escape(slide.title)}</h1><h2>{html.escape(slide.subtitle)}</h2>{mark}"
            f"{body}<footer><span>{html.escape(_footer(slide))}</span><span>{number} / {len(slides)}</span>"
            f"</footer></section>"
        )
    fonts = FONTS.as_uri()
    head = (
        f"<title>{html.escape(deck_title(slides, title))}</title>"
        f'<meta name="author" content="{html.escape(AUTHOR)}">'
        f'<meta name="description" content="{html.escape(SUBJECT)}">'
    )
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">{head}<style>
@page {{ size: 1600px 900px; margin: 0; }}
@font-face {{ font-family: "NotoSansSC"; src: url("{fonts}/NotoSansSC-Regular.woff2"); font-weight: 400; }}
@font-face {{ font-family: "NotoSansSC"; src: url("{fonts}/NotoSansSC-Bold.woff2"); font-weight: 700; }}
body {{ margin: 0; font-family: "NotoSansSC", "Noto Sans CJK SC", sans-serif; color: #1F2933; }}
section {{ width: 1600px; height: 900px; box-sizing: border-box; padding: 40px 60px; position: relative;
           page-break-after: always; overflow: hidden; }}
h1 {{ font-size: 44px; margin: 0 0 8px; }} \
h2 {{ font-size: 24px; color: #5A636E; font-weight: normal; margin: 0 0 20px; }}
.chart {{ text-align: center; }} .chart img {{ height: 585px; width: auto; }}
.message {{ font-size: 26px; font-weight: bold; margin: 10px 0 0; }}
ul {{ font-size: 30px; line-height: 1.7; }}
.note {{ font-size: 20px; color: #5A636E; }}
.mark {{ position: absolute; top: 40px; right: 60px; color: #C23B3B; font-size: 24px; font-weight: bold; }}
footer {{ position: absolute; bottom: 24px; left: 60px; right: 60px; \
display: flex; justify-content: space-between;
          font-size: 16px; color: #78808A; }}
</style></head><body>{"".join(pages)}</body></html>"""


def write_pdf(
    slides: list[Slide], images: dict[str, Path], out: Path, sample: bool, title: str | None = None
) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "deck.html"
        page.write_text(slides_html(slides, images, sample, title), encoding="utf-8")
        subprocess.run(
            [
                browser_path(),
                *CHROMIUM_FLAGS,
                "--no-pdf-header-footer",
                f"--user-data-dir={tmp}/profile",
                f"--print-to-pdf={out.resolve()}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    set_pdf_info(out, deck_title(slides, title), AUTHOR, SUBJECT)
    return out


def _pdf_text(text: str) -> bytes:
    """A PDF text string: UTF-16BE with its byte-order mark, in hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def set_pdf_info(path: Path, title: str, author: str, subject: str) -> bool:
    """Give the PDF a document information dictionary with `title`, `author` and `subject` (chromium
    writes only the title of the HTML), appended as an incremental update: a new Info object, an
    xref section for it and a trailer pointing back (/Prev) at chromium's own. A PDF whose trailer
    is not the classic kind chromium writes is left as it is (False)."""
    data = path.read_bytes()
    tail = data[-4096:]
    trailer = re.search(rb"trailer\s*<<(.*?)>>\s*startxref\s*(\d+)\s*%%EOF\s*$", tail, re.S)
    if trailer is None:
        return False
    fields, previous = trailer.group(1), int(trailer.group(2))
    size, root = re.search(rb"/Size\s+(\d+)", fields), re.search(rb"/Root\s+(\d+\s+\d+\s+R)", fields)
    if size is None or root is None:
        return False
    number = int(size.group(1))
    stamp = datetime.now(UTC).strftime("D:%Y%m%d%H%M%S+00'00'").encode()
    info = (
        b"<</Title "
        + _pdf_text(title)
        + b" /Author "
        + _pdf_text(author)
        + b" /Subject "
        + _pdf_text(subject)
        + b" /Creator "
        + _pdf_text(AUTHOR)
        + b" /Producer (Chromium Skia/PDF)"
        + b" /CreationDate ("
        + stamp
        + b") /ModDate ("
        + stamp
        + b")>>"
    )
    body = data if data.endswith(b"\n") else data + b"\n"
    offset = len(body)
    update = b"%d 0 obj\n%s\nendobj\n" % (number, info)
    xref = len(body) + len(update)
    # the free-list head first, as readers expect of any xref section
    update += b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (number, offset)
    update += b"trailer\n<</Size %d /Root %s /Info %d 0 R /Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (
        number + 1,
        root.group(1),
        number,
        previous,
        xref,
    )
    path.write_bytes(body + update)
    return True


def write(
    slides: list[Slide], out: Path, sample: bool, progress: Progress = _quiet, title: str | None = None
) -> Path:
    """Write `out` as .pptx or .pdf (by suffix). `title`: the deck's title (PDF metadata and PPTX
    properties); by default the cover slide's title."""
    out = Path(out)
    if out.suffix.lower() not in (".pptx", ".pdf"):
        raise ValueError("输出文件须为 .pptx 或 .pdf")
    pptx = out.suffix.lower() == ".pptx"
    with tempfile.TemporaryDirectory() as tmp:
        images = render_images(slides, Path(tmp), progress, native_charts=pptx)
        progress(0.9, "正在排版……")
        if pptx:
            write_pptx(slides, images, out, sample, title)
        else:
            write_pdf(slides, images, out, sample, title)
    progress(1.0, "完成")
    return out
