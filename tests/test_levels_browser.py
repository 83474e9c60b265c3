"""Levels in Debian's chromium: a province's map draws one shape per city with its name, a click
on a city opens that city (one level down), the breadcrumb goes back up, and so does the
browser's back button (the region is in the URL)."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import serve_app, wait_ready
from tests.test_levels import build_levels, ningxia_counties

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
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_contain_text("下级地区对比")  # a province's children are cities
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
    expect(nav).to_contain_text("区县对比")  # the navigation follows the level
    expect(nav).not_to_contain_text("下级地区对比")
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


def test_the_county_quick_picks_narrow_the_view_and_all_restores_it(page: Page, levels_url):
    """宝鸡市: 县（市） keeps the counties and county-level cities (the URL lists them, the box
    says how many of 12), 市辖区 the districts, 全部 every county again (the box empty)."""
    page.goto(f"{levels_url}/?region=610300")
    wait_ready(page, True)
    picks = page.locator(".st-key-county_picks")
    expect(picks).to_contain_text("全部12个")
    picks.get_by_role("button", name="县（市）").click()
    page.wait_for_function("location.search.includes('child=')", timeout=30_000)
    wait_ready(page, True)
    counties = page.evaluate("new URLSearchParams(location.search).getAll('child')")
    assert 0 < len(counties) < 12 and all(c.startswith("6103") for c in counties), counties
    expect(picks).to_contain_text(f"已选{len(counties)}/12个")
    picks.get_by_role("button", name="市辖区").click()
    page.wait_for_function(
        f"new URLSearchParams(location.search).getAll('child').length == {12 - len(counties)}"
    )
    wait_ready(page, True)
    expect(picks).to_contain_text(f"已选{12 - len(counties)}/12个")
    picks.get_by_role("button", name="全部").click()
    page.wait_for_function("!location.search.includes('child=')", timeout=30_000)
    wait_ready(page, True)
    expect(picks).to_contain_text("全部12个")


def test_a_copied_query_url_gives_the_same_table(page: Page, levels_url):
    """数据查询: a region added in the box and the year range narrowed with the keyboard; the
    address copied into a new tab downloads the very same CSV."""
    page.goto(f"{levels_url}/query")
    wait_ready(page)
    regions = page.get_by_role("combobox", name="地区（省、市、区县均可）")
    regions.fill("银川市")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("location.search.includes('q_reg=640100')", timeout=30_000)
    wait_ready(page)
    slider = page.get_by_role("slider").first
    slider.focus()
    page.keyboard.press("ArrowRight")  # the range starts a year later
    page.wait_for_function("!location.search.includes('q_from=2016')", timeout=30_000)
    wait_ready(page)

    def csv_of(tab: Page) -> bytes:
        with tab.expect_download() as download:
            tab.get_by_role("button", name="下载 CSV").first.click()
        return Path(download.value.path()).read_bytes()

    shown = csv_of(page)
    copied = page.evaluate("location.href")
    tab = page.context.new_page()
    tab.goto(copied)
    wait_ready(tab)
    assert csv_of(tab) == shown
    assert "银川市".encode() in shown and b"2016" not in shown.split(b"\n", 2)[2]


def test_the_all_counties_map_opens_a_countys_city(page: Page, levels_url):
    """宁夏's 全部区县 map: one shape per county, no names written on it; a click on a county
    opens its city."""
    page.goto(f"{levels_url}/?region=640000&map=beds_per_1000_elderly")
    wait_ready(page, True)
    page.locator(".st-key-overview-map_unit").get_by_text("全部区县").click()
    page.wait_for_function("location.search.includes('overview-map_unit=counties')", timeout=30_000)
    shapes = page.locator(".js-plotly-plot .choroplethlayer path")
    expect(shapes).to_have_count(len(ningxia_counties()), timeout=30_000)
    assert map_texts(page) == []
    first = sorted(code for code, _ in ningxia_counties())[0]
    shapes.first.scroll_into_view_if_needed()
    box = shapes.first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    in_url(page, first[:4] + "00")
    wait_ready(page, True)
    expect(page.locator(".st-key-breadcrumb")).to_contain_text(CITIES[first[:4] + "00"])
