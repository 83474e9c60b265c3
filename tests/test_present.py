"""演示 as presentation software: the slide is a 16:9 canvas filling the screen, the controls stay
off it once their bar has hidden, every text on every slide is readable (WCAG AA, measured from
the rendered colours) in both themes, the keyboard drives the deck, phones get a plain message.
Plus the deck model the 演示 page and the meeting pack share (cover, footer, attention rules)."""

import re
import time

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from dashboard import deck, store, views
from etl.catalog import Target
from tests.browser import READY, REPO, SLIDE_CHART, WARMUP, serve_app, wait_ready

ARTIFACTS = REPO / "test-artifacts"

# WCAG 2 contrast of every visible text: HTML elements with their own text (getComputedStyle
# color) and SVG text (fill), against the first opaque background up the ancestors (CSS
# background-color; semi-transparent layers blended on the way) — for SVG text, the topmost
# filled shape of the chart under the text's centre (a county of a map, a bar) comes first.
# Returns the failures, the lowest ratio found and how many texts were measured.
CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c && c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const blend = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
  };
  const lum = (c) => {
    const l = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    let under = [255, 255, 255, 1];
    for (const c of layers.reverse()) under = blend(c, under);
    return under;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    if (r.right <= 0 || r.bottom <= 0 || r.left >= innerWidth || r.top >= innerHeight) return false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || Number(s.opacity) === 0) return false;
    }
    return true;
  };
  // the topmost filled path or rect of the same chart that contains the text's centre
  const under = (text) => {
    const chart = text.closest(".js-plotly-plot") || text.closest("svg");
    const r = text.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    let found = null;
    for (const shape of chart.querySelectorAll("path, rect")) {
      if (shape.closest("defs, clipPath")) continue;  // clip paths are not painted
      const style = getComputedStyle(shape);
      const fill = parse(style.fill);
      if (!fill || fill[3] === 0 || style.visibility === "hidden" || style.display === "none") continue;
      const matrix = shape.getScreenCTM();
      if (!matrix) continue;
      const point = new DOMPoint(x, y).matrixTransform(matrix.inverse());
      let inside = false;
      try { inside = shape.isPointInFill(point); } catch (e) { inside = false; }
      if (inside) {
        const opacity = Number(style.fillOpacity) * Number(style.opacity);
        found = [fill[0], fill[1], fill[2], fill[3] * opacity];  // later in the document = on top
      }
    }
    return found;
  };
  const failures = [];
  let lowest = 99;
  let count = 0;
  for (const el of document.querySelectorAll("body *")) {
    const svg = el instanceof SVGElement;
    if (svg ? el.tagName !== "text" && el.tagName !== "tspan" : el.closest("svg")) continue;
    if (el.tagName === "STYLE" || el.tagName === "SCRIPT") continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    const style = getComputedStyle(el);
    let ink = parse(svg ? style.fill : style.color);
    if (!ink) continue;
    let bg = background(svg ? el.closest("svg").parentElement : el);
    if (svg) {
      const shape = under(el);
      if (shape) bg = blend(shape, bg);
    }
    const opacity = svg ? Number(style.fillOpacity) * Number(style.opacity) : 1;
    ink = blend([ink[0], ink[1], ink[2], ink[3] * opacity], bg);
    const r = ratio(ink, bg);
    count += 1;
    lowest = Math.min(lowest, r);
    if (r < 4.5) failures.push(`${el.textContent.trim().slice(0, 30)}: ${r.toFixed(2)}`);
  }
  return { failures, lowest, count };
}
"""


@pytest.fixture(scope="module")
def app_url(sample, tmp_path_factory):
    with serve_app(sample, tmp_path_factory.mktemp("log") / "streamlit.log") as server:
        yield server.url


def number(page: Page):
    """The slide number in the footer; while a rerun replaces the slide, Streamlit keeps the old
    footer on screen marked stale for a moment, so only the current one counts."""
    return page.locator('.st-key-canvas [data-stale="false"] .mz-number')


def at_slide(page: Page, n: int, total: int) -> None:
    expect(number(page)).to_have_text(f"{n} / {total}", timeout=45_000)
    page.wait_for_selector(READY, state="attached", timeout=30_000)
    page.wait_for_function("() => !!window.__mzPresent", timeout=30_000)  # keys and bar bound
    if page.locator(SLIDE_CHART).count():  # its plotly chart may still be on its way
        page.wait_for_selector(".st-key-canvas .js-plotly-plot .main-svg", timeout=30_000)
        page.wait_for_timeout(300)  # plotly's last layout pass


def press(page: Page, key: str, n: int, total: int) -> None:
    """Press `key` until slide n shows: a key pressed in the moment before the page's script has
    bound its keys is lost (a presenter presses again, and so does the test, once)."""
    for attempt in (1, 2):
        page.keyboard.press(key)
        try:
            at_slide(page, n, total)
            return
        except AssertionError:
            if attempt == 2:
                raise


def boxes_overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def controls_off_canvas(page: Page) -> None:
    page.wait_for_function("document.querySelector('.st-key-bar').getBoundingClientRect().top >= innerHeight")
    canvas = page.locator(".st-key-canvas").bounding_box()
    for control in page.locator(".st-key-bar button, .st-key-bar a, .st-key-bar input").all():
        box = control.bounding_box()
        assert box is None or not boxes_overlap(box, canvas), f"a control lies on the slide: {box}"


def settled_top(bar) -> float:
    """The bar's top once its slide-in transition has finished (two equal readings 100 ms apart)."""
    before = bar.bounding_box()["y"]
    for _ in range(30):
        time.sleep(0.1)
        now = bar.bounding_box()["y"]
        if abs(now - before) < 0.5:
            return now
        before = now
    return before


def canvas_fills(page: Page, width: int, height: int) -> None:
    box = page.locator(".st-key-canvas").bounding_box()
    assert abs(box["width"] - width) <= 2 or abs(box["height"] - height) <= 2, box
    assert box["width"] <= width + 2 and box["height"] <= height + 2, box
    assert abs(box["width"] / box["height"] / (16 / 9) - 1) <= 0.01, box


# Every slide in both themes and at both sizes: the meeting room's dark theme on its 1920 × 1080
# screen, the light one on a 1366 × 768 laptop. The slide's layout does not depend on the theme
# (the canvas, the bar and the text sizes are the same CSS in both), and its colours do not
# depend on the size.
SLIDE_VIEWS = [("dark", 1920, 1080), ("light", 1366, 768)]


@pytest.mark.slow
@pytest.mark.parametrize("mode,width,height", SLIDE_VIEWS)
def test_every_slide_fills_the_screen_with_readable_text(browser, app_url, mode, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{app_url}/present?city=610300&theme={mode}")
    wait_ready(page)
    total = len(deck.slide_ids())
    at_slide(page, 1, total)
    # the bar appears on mouse movement, over the slide's bottom edge, and hides ~3 s later
    bar = page.locator(".st-key-bar")
    expect(bar).to_be_hidden()
    page.mouse.move(width / 2, height / 2)
    page.mouse.move(width / 2 + 10, height / 2 + 10)
    expect(bar).to_be_visible()
    expect(bar.get_by_role("button", name="◀ 上一页")).to_be_visible()
    label = bar.get_by_role("button", name="下一页 ▶")
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "button label cut off"
    top = settled_top(bar)
    expect(bar).to_be_hidden(timeout=6_000)
    lowest = 99.0
    ARTIFACTS.mkdir(exist_ok=True)
    for n in range(1, total + 1):
        if n > 1:
            press(page, "ArrowRight", n, total)
        canvas_fills(page, width, height)
        controls_off_canvas(page)
        result = page.evaluate(CONTRAST_JS)
        assert result["count"] > 3
        assert not result["failures"], (n, result["failures"])
        lowest = min(lowest, result["lowest"])
        page.screenshot(path=ARTIFACTS / f"present-{mode}-{width}x{height}-{n:02d}.png")
    page.mouse.move(5, 5)
    expect(bar).to_be_visible()
    assert settled_top(bar) == pytest.approx(top, abs=1), "the bar is in the same place on every slide"
    print(f"contrast {mode} {width}x{height}: lowest {lowest:.2f}")
    context.close()


@pytest.mark.slow
def test_keyboard_drives_the_deck(browser, app_url):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{app_url}/present?city=610300&slides=cover,kpi,elderly_care-trend,attention")
    wait_ready(page)
    at_slide(page, 1, 4)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    # plotly's code is loaded while the cover is up, by a chart drawn out of sight
    warmup = page.locator(WARMUP)
    expect(warmup.locator(".js-plotly-plot .main-svg").first).to_be_attached(timeout=30_000)
    box = warmup.bounding_box()
    assert box["x"] + box["width"] <= 0, box
    press(page, "ArrowRight", 2, 4)
    press(page, "PageDown", 3, 4)
    expect(warmup).to_have_count(0)  # the first chart slide has come: no more warming up
    expect(page).to_have_url(re.compile(r"[?&]s=3"))
    press(page, "ArrowLeft", 2, 4)
    press(page, "PageUp", 1, 4)
    press(page, "End", 4, 4)
    press(page, "Home", 1, 4)
    page.keyboard.press("3")
    press(page, "Enter", 3, 4)
    expect(page.locator(".st-key-canvas .mz-title")).to_have_text("养老服务：每千名老年人养老床位数走势")
    page.keyboard.press("Escape")
    expect(page).not_to_have_url(re.compile(r"/present"), timeout=20_000)
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    context.close()


# A chart slide's chart in canvas px: its slot (the chart element's CSS size, which no transform
# changes), the size plotly laid it out at, and on screen its drawing and the slide canvas.
CHART_SIZES_JS = """
(selector) => {
  const slot = document.querySelector(selector);
  const plot = slot.querySelector(".js-plotly-plot");
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  };
  const style = getComputedStyle(slot);
  return {
    slot: [parseFloat(style.width), parseFloat(style.height)],
    layout: [plot._fullLayout.width, plot._fullLayout.height],
    chart: box(plot.querySelector(".main-svg")),
    canvas: box(document.querySelector(".st-key-canvas")),
  };
}
"""


def chart_fits_its_slot(page: Page, width: int, height: int) -> list[float]:
    """The chart is laid out at its slot's size in canvas px and drawn at that size × the canvas's
    scale, inside the slide; returns the slot's size."""
    k = min(width / 1920, height / 1080)
    sizes = page.evaluate(CHART_SIZES_JS, SLIDE_CHART)
    slot, chart, canvas = sizes["slot"], sizes["chart"], sizes["canvas"]
    assert sizes["layout"] == pytest.approx(slot, abs=1), (width, height, sizes)
    drawn = [chart["width"], chart["height"]]
    assert drawn == pytest.approx([side * k for side in slot], abs=2), (width, height, sizes)
    assert box_inside(chart, canvas), (width, height, sizes)
    return slot


def box_inside(inner: dict, outer: dict, slack: float = 1) -> bool:
    return (
        outer["x"] - slack <= inner["x"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and outer["y"] - slack <= inner["y"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


@pytest.mark.slow
def test_charts_look_the_same_on_every_screen(tab):
    """Streamlit lays a plotly chart out at its frame's on-screen size, which the canvas has
    already scaled: unless the page undoes that, a chart is scaled twice (at 1366 × 768 half its
    slot with half-size text, at 2560 × 1440 cut off at the bottom). Each chart kind, at the
    meeting room's size, a laptop's and a 1440p monitor's (loaded at each), then after the
    window changes size under it."""
    deck_url = "/present?city=610300&slides=elderly_care-trend,elderly_care-rank,map"
    slots = []
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in [(1920, 1080), (1366, 768), (2560, 1440)]:
        tab.set_viewport_size({"width": width, "height": height})
        tab.goto(deck_url)
        wait_ready(tab)
        at_slide(tab, 1, 3)
        slots.append(chart_fits_its_slot(tab, width, height))
        tab.screenshot(path=ARTIFACTS / f"present-chart-{width}x{height}.png")
    for n in (2, 3):  # the ranking and the map, at 2560 × 1440
        press(tab, "ArrowRight", n, 3)
        slots.append(chart_fits_its_slot(tab, 2560, 1440))
    tab.set_viewport_size({"width": 1366, "height": 768})
    tab.wait_for_timeout(300)  # plotly's resize handler
    slots.append(chart_fits_its_slot(tab, 1366, 768))
    assert all(slot == pytest.approx(slots[0], abs=0.5) for slot in slots), slots


def test_presentation_auto_advance_and_pause(browser, app_url):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{app_url}/present?city=610300&slides=cover,kpi,attention&auto=5&theme=dark")
    wait_ready(page)
    at_slide(page, 1, 3)
    expect(number(page)).to_have_text("2 / 3", timeout=15_000)  # moved on by itself
    canvas = page.locator(".st-key-canvas").evaluate("e => getComputedStyle(e).backgroundColor")
    assert canvas == "rgb(15, 23, 42)"  # the dark big-screen theme
    page.keyboard.press("p")
    expect(page).to_have_url(re.compile(r"auto=(&|$)"), timeout=15_000)
    page.mouse.move(100, 100)
    expect(page.locator(".st-key-bar").get_by_role("button", name="▶ 播放")).to_be_visible()
    context.close()


def test_a_phone_is_told_to_use_a_large_screen(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.goto(f"{app_url}/present?city=610300")
    wait_ready(page)
    expect(page.get_by_text("演示模式适用于电脑和会议室大屏幕")).to_be_visible()
    expect(page.locator(".st-key-canvas")).to_be_hidden()
    back = page.get_by_role("link", name="返回总览")
    expect(back).to_be_visible()
    back.click()
    expect(page).not_to_have_url(re.compile(r"/present"), timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "present-phone-390x844.png")
    context.close()


# ---------------------------------------------------------------------------- the deck model


@pytest.fixture
def served(sample, monkeypatch):
    monkeypatch.setenv("MZ_DATA_DIR", str(sample))
    return sample


def test_the_cover_names_the_department_and_keeps_the_version_in_the_footer(served):
    scope = deck.Scope("610300", 2024, store.counties_of("610300"), 2016)
    cover, kpi = deck.build(scope, ["cover", "kpi"])
    assert cover.kind == "cover" and kpi.kind == "kpi"
    assert cover.title == "宝鸡市民政事业发展情况"
    assert "2024年" in cover.subtitle and "示例数据" in cover.subtitle
    assert cover.bullets[0] == "宝鸡市民政局"
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", cover.bullets[1])
    assert not any("版本" in line for line in cover.bullets)
    assert store.version() in cover.footer and "版本" in cover.footer
    assert kpi.footer == cover.footer


def test_trend_and_ranking_slides_say_different_things(served):
    scope = deck.Scope("610300", 2024, store.counties_of("610300"), 2016)
    trend, rank, shown = deck.build(scope, ["elderly_care-trend", "elderly_care-rank", "map"])
    assert trend.narrative and rank.narrative and shown.narrative
    assert len({trend.narrative, rank.narrative, shown.narrative}) == 3
    assert "示例数据" not in trend.narrative + rank.narrative  # the mark says it on every slide


def meta(**rows) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": i,
                "name_zh": n,
                "unit": "张",
                "display_unit": "",
                "decimals": 1,
                "higher_is_better": hib,
            }
            for i, (n, hib) in rows.items()
        ]
    ).set_index("id")


def facts(values: dict[tuple[str, str], list[float]], first: int = 2019) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"region_name": county, "indicator_id": ind, "year": first + k, "value": v}
            for (ind, county), series in values.items()
            for k, v in enumerate(series)
        ]
    )


def test_attention_has_a_line_per_rule_when_the_data_warrant_it():
    indicators = meta(beds=("床位", True), funds=("资金", False), count=("人数", None))
    data = facts(
        {
            ("beds", "甲县"): [30, 31, 32, 33, 34, 20],  # misses the floor, falls 41 %
            ("beds", "乙县"): [50, 48, 46, 44, 42, 41],  # falls 5 years running
            ("beds", "丙县"): [40, 41, 42, 43, 44, 45],
            ("funds", "甲县"): [10, 10, 10, 10, 10, 13],  # lower is better: rises 30 %
            ("count", "甲县"): [10, 10, 10, 10, 10, 1],  # no direction: never listed
        }
    )
    floor = Target(35.0, ">=", 2020, "city", "规划")
    rules = views.Attention(True, 10.0, ("beds", "funds", "count"))
    lines = deck.attention_lines(data, indicators, {"beds": floor}, rules, 2024)
    assert lines == [
        "床位低于目标（35.0张）：甲县 20.0张",
        "床位同比下降超过10%：甲县 -41.2%",
        "资金同比上升超过10%：甲县 +30.0%",
        "床位连续下降：乙县 5年",
    ]


def test_attention_lists_at_most_three_counties_per_line_and_says_when_all_is_well():
    indicators = meta(beds=("床位", True))
    data = facts({("beds", f"{c}县"): [50, 50, 50, 50, 50, 50 - k] for k, c in enumerate("甲乙丙丁戊", 10)})
    rules = views.Attention(True, 10.0, ("beds",))
    (line,) = deck.attention_lines(data, indicators, {}, rules, 2024)
    assert line == "床位同比下降超过10%：戊县 -28.0%、丁县 -26.0%、丙县 -24.0%等5个区县"
    calm = facts({("beds", "甲县"): [40, 41, 42, 43, 44, 45]})
    floor = Target(35.0, ">=", 2020, "city", "规划")
    assert deck.attention_lines(calm, indicators, {"beds": floor}, rules, 2024) == [
        "所选区县没有低于目标、同比大幅变差或连续变差的指标。"
    ]
