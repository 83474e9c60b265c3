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


def test_county_map_is_drawn(tab):
    tab.goto("/?city=610300")
    wait_ready(tab, True)
    paths = tab.locator(".js-plotly-plot .choroplethlayer path")
    expect(paths.first).to_be_attached(timeout=30_000)
    assert paths.count() >= 12  # one shape per county of 宝鸡


def legend(page: Page):
    return page.locator(".js-plotly-plot").first.locator(".legendtext")


def test_filter_change_updates_chart_and_url_reopens_view(tab, browser, app_url):
    tab.goto("/charity?city=610300&county=610302&county=610326")
    wait_ready(tab, True)
    expect(legend(tab)).to_have_text(["宝鸡市（全市）", "渭滨区", "眉县"])
    box = tab.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect")
    box.locator("input").click()
    tab.keyboard.type("凤县")
    tab.keyboard.press("Enter")
    tab.keyboard.press("Escape")
    expect(legend(tab)).to_have_text(["宝鸡市（全市）", "渭滨区", "眉县", "凤县"], timeout=30_000)
    expect(tab).to_have_url(re.compile(r"child=610330"))
    copied = tab.url
    fresh = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    other = fresh.new_page()
    other.goto(copied)
    wait_ready(other, True)
    expect(legend(other)).to_have_text(["宝鸡市（全市）", "渭滨区", "眉县", "凤县"], timeout=30_000)
    fresh.close()


def test_self_hosted_cjk_font_is_used(tab):
    tab.goto("/")
    wait_ready(tab, True)
    tab.wait_for_function("document.fonts.status === 'loaded'")
    loaded = tab.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert any("NotoSansSC" in family for family in loaded), loaded
    family = tab.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert family.startswith("NotoSansSC") or family.startswith('"NotoSansSC"'), family


# The 演示 page's tests (canvas, keyboard, auto-advance, contrast) are in tests/test_present.py.
