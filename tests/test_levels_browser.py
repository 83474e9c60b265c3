"""Levels in Debian's chromium: a province's map draws one shape per city with its name, a click
on a city opens that city (one level down), the breadcrumb goes back up, and so does the
browser's back button (the region is in the URL)."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser import serve_app, wait_ready
from tests.test_levels import build_levels

CITIES = {
    "640100": "银川市",
    "640200": "石嘴山市",
    "640300": "吴忠市",
    "640400": "固原市",
    "640500": "中卫市",
}


@pytest.fixture(scope="module")
def levels_url(tmp_path_factory):
    base = build_levels(tmp_path_factory.mktemp("levels-browser"))
    with serve_app(base, tmp_path_factory.mktemp("log") / "streamlit.log") as server:
        yield server.url


def in_url(page: Page, region: str) -> None:
    """Wait for the address bar to name the region (Playwright's `page.url` lags Streamlit's
    history writes, so the document's own location is asked)."""
    page.wait_for_function(f"location.search.includes('region={region}')", timeout=30_000)


def map_texts(page: Page) -> list[str]:
    return page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot .geo text')].map(t => t.textContent)"
    )


def test_province_map_drills_down_and_the_breadcrumb_goes_back(page: Page, levels_url):
    page.goto(f"{levels_url}/?region=640000&map=beds_per_1000_elderly")
    wait_ready(page, True)
    shapes = page.locator(".js-plotly-plot .choroplethlayer path")
    expect(shapes).to_have_count(len(CITIES), timeout=30_000)  # one shape per city of 宁夏
    texts = " ".join(map_texts(page))
    assert all(name in texts for name in CITIES.values()), texts
    # 银川市 is the first shape (codes in order); click well inside it
    shapes.first.scroll_into_view_if_needed()
    box = shapes.first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    in_url(page, "640100")
    wait_ready(page, True)
    crumbs = page.locator(".st-key-breadcrumb")
    expect(crumbs).to_contain_text("全国")
    expect(crumbs).to_contain_text("宁夏回族自治区")
    expect(crumbs).to_contain_text("银川市")
    expect(page.locator(".js-plotly-plot .choroplethlayer path")).to_have_count(
        6, timeout=30_000
    )  # its counties
    crumbs.get_by_role("button", name="宁夏回族自治区").click()
    in_url(page, "640000")
    wait_ready(page, True)
    expect(page.locator(".js-plotly-plot .choroplethlayer path")).to_have_count(len(CITIES), timeout=30_000)
    page.go_back()
    in_url(page, "640100")
    wait_ready(page, True)
    expect(page.locator(".js-plotly-plot .choroplethlayer path")).to_have_count(6, timeout=30_000)
