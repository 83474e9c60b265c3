"""The real app in Debian's chromium (never a downloaded browser): the county map draws, a
filter change updates the chart, a copied URL reopens the same view, the self-hosted CJK font is
used. Every page at every size (heading, charts, 示例数据, no host but the app) is in
tests/test_chinese_ui.py."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import serve_app, wait_ready


@pytest.fixture(scope="module")
def app_url(sample, tmp_path_factory):
    with serve_app(sample, tmp_path_factory.mktemp("log") / "streamlit.log") as server:
        yield server.url


@pytest.fixture(scope="module")
def base_url(app_url):
    return app_url


@pytest.fixture(scope="module")
def shared(browser, app_url):
    """One tab for the module (a new tab compiles Streamlit's and plotly's scripts again)."""
    context = browser.new_context(base_url=app_url, viewport={"width": 1400, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_county_map_is_drawn(shared):
    page = shared
    page.goto("/?city=610300")
    wait_ready(page, True)
    paths = page.locator(".js-plotly-plot .choroplethlayer path")
    expect(paths.first).to_be_attached(timeout=30_000)
    assert paths.count() >= 12  # one shape per county of 宝鸡


def legend(page: Page):
    return page.locator(".js-plotly-plot").first.locator(".legendtext")


def test_filter_change_updates_chart_and_url_reopens_view(shared, browser, app_url):
    page = shared
    page.goto("/charity?city=610300&county=610302&county=610326")
    wait_ready(page, True)
    expect(legend(page)).to_have_text(["宝鸡市（全市）", "渭滨区", "眉县"])
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect")
    box.locator("input").click()
    page.keyboard.type("凤县")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(legend(page)).to_have_text(["宝鸡市（全市）", "渭滨区", "眉县", "凤县"], timeout=30_000)
    expect(page).to_have_url(re.compile(r"child=610330"))
    copied = page.url
    fresh = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    other = fresh.new_page()
    other.goto(copied)
    wait_ready(other, True)
    expect(legend(other)).to_have_text(["宝鸡市（全市）", "渭滨区", "眉县", "凤县"], timeout=30_000)
    fresh.close()


def test_self_hosted_cjk_font_is_used(shared):
    page = shared
    page.goto("/")
    wait_ready(page, True)
    page.wait_for_function("document.fonts.status === 'loaded'")
    loaded = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert any("NotoSansSC" in family for family in loaded), loaded
    family = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert family.startswith("NotoSansSC") or family.startswith('"NotoSansSC"'), family


# The 演示 page's tests (canvas, keyboard, auto-advance, contrast) are in tests/test_present.py.
