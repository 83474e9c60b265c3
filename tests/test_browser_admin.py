"""数据管理 in the real browser: a viewer gets only the login form; the clerk logs in, uploads a
good file, previews, publishes, sees the new value on 总览, rolls back and sees the old one;
a bad file shows the issues table and publishes nothing; a table no reader knows is mapped in
the 导入向导 and published."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dashboard import auth
from etl import pipeline, warehouse
from tests.browser import serve_app, wait_ready
from tests.test_recipes import BODY_2023, bureau_sheet
from tests.util import HEADER, baoji_rows, query, write_long_csv

PASSWORD = "browser test password"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("admin-data")
    rows = baoji_rows("城市低保人数", 300) + baoji_rows("农村低保人数", 100)
    assert pipeline.load(base, [write_long_csv(base.parent / "base.csv", rows)]).ok
    with serve_app(
        base, base.parent / "streamlit-admin.log", **{auth.ENV_HASH: auth.hash_password(PASSWORD)}
    ) as server:
        yield server.url, base


def log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/admin")
    wait_ready(page)
    page.get_by_label("管理员密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("① 下载填报模板")).to_be_visible(timeout=30_000)


def upload(page: Page, path: Path) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    wait_ready(page)


def overview_total(page: Page, url: str) -> str:
    page.goto(f"{url}/?city=610300&from=2022&to=2023")
    wait_ready(page)
    card = page.get_by_test_id("stMetric").filter(has_text="低保人数（城乡合计）")
    return card.get_by_test_id("stMetricValue").inner_text()


def test_deep_link_as_first_request_gets_the_whole_app(page: Page, served):
    """Runs first on this module's fresh server: a deep link must not start Streamlit's old
    pages-folder mode (page file alone, no page config, file names as navigation)."""
    url, _ = served
    page.goto(f"{url}/admin")
    wait_ready(page)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_contain_text("数据管理")
    expect(nav).to_contain_text("区县对比")
    expect(nav).not_to_contain_text("social relief")
    assert page.title() == "民政数据看板"


def test_viewer_cannot_reach_the_uploader(page: Page, served):
    url, _ = served
    page.goto(f"{url}/admin")
    wait_ready(page)
    expect(page.get_by_label("管理员密码")).to_be_visible()
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    page.get_by_label("管理员密码").fill("wrong password!")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("密码错误")).to_be_visible()
    assert page.locator('[data-testid="stFileUploader"]').count() == 0


def test_publish_and_rollback_in_the_browser(page: Page, served, tmp_path):
    url, base = served
    viewer = page.context.new_page()  # leadership, in another tab
    assert overview_total(viewer, url) == "4,800人"  # 12 counties × (300 + 100)
    first = warehouse.current_version(base)

    log_in(page, url)
    upload(page, write_long_csv(tmp_path / "眉县更正.csv", "眉县,610326,2023,城市低保人数,320,人\n"))
    expect(page.get_by_text("校验通过")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="变化数据")).to_contain_text("2")
    page.get_by_role("button", name="发布新版本").click()
    expect(page.get_by_text("已发布新版本")).to_be_visible(timeout=60_000)
    assert overview_total(viewer, url) == "4,820人"  # no restart needed

    page.get_by_text("确认回滚").click()
    wait_ready(page)
    page.get_by_role("button", name="回滚", exact=True).click()
    expect(page.get_by_text(f"已回滚到版本 {first}")).to_be_visible(timeout=30_000)
    assert overview_total(viewer, url) == "4,800人"


def test_bad_file_shows_issues_and_publishes_nothing(page: Page, served, tmp_path):
    url, base = served
    before = warehouse.current_version(base)
    log_in(page, url)
    bad = tmp_path / "错误.csv"
    bad.write_text(HEADER + "眉县,610326,2023,城市低保人数,三百,人\n", encoding="utf-8")
    upload(page, bad)
    expect(page.get_by_text("发现 1 个错误")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    assert page.get_by_role("button", name="发布新版本").count() == 0
    assert warehouse.current_version(base) == before


def test_the_import_wizard_maps_an_unknown_table_in_the_browser(page: Page, served, tmp_path):
    """Runs last on this module's server (it publishes a new layout): the clerk uploads a bureau
    table no reader knows, maps it in the wizard, saves the recipe and publishes."""
    url, base = served
    log_in(page, url)
    upload(page, bureau_sheet(tmp_path / "救助2023.xlsx", 2023, BODY_2023))
    expect(page.get_by_text("找不到可识别的表头").first).to_be_attached()
    expect(page.get_by_text("① 表格内容")).to_be_visible()
    page.get_by_text("年份写在标题中").click()
    wait_ready(page)
    for column, indicator in (("B列", "城市低保人数"), ("C列", "低保资金支出"), ("D列", "养老床位数")):
        page.get_by_test_id("stSelectbox").filter(has_text=column).click()
        page.keyboard.type(indicator)
        page.keyboard.press("Enter")
        wait_ready(page)
    expect(page.get_by_text("④ 按此设置读取的结果")).to_be_visible()
    page.get_by_label("配方名称").fill("宝鸡社会救助表")
    page.get_by_label("配方名称").press("Enter")
    wait_ready(page)
    page.get_by_role("button", name="保存并重新校验").click()
    expect(page.get_by_text("已保存导入配方“宝鸡社会救助表”")).to_be_visible(timeout=30_000)
    page.get_by_text("我已核对以上").click()  # the jumps against the served 300s
    wait_ready(page)
    page.get_by_role("button", name="发布新版本").click()
    expect(page.get_by_text("已发布新版本")).to_be_visible(timeout=60_000)
    db = warehouse.current_db(base)
    assert query(
        db,
        "SELECT value FROM facts WHERE region_code = '610302' AND year = 2023 "
        "AND indicator_id = 'dibao_urban_persons'",
    ) == [(1200.0,)]  # 0.12 万人 in B5
