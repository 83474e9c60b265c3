"""Fixtures shared by many test files: pytest-playwright settings for every browser test (Debian's
chromium, never a download), a data dir of the sample warehouse per module and one serving one
real version, and one browser tab per module."""

import shutil
from urllib.parse import urlparse

import pytest

from etl import pipeline
from tests.browser import ARGS, CHROMIUM
from tests.util import baoji_rows, write_long_csv


def pytest_collection_modifyitems(items):
    """Every test that uses Playwright's chromium (its `browser` fixture, directly or through
    `page` or a module's own tab) is a `browser` test (`make test-fast` leaves them out); files
    that start chromium themselves (meeting pack, bench) mark themselves."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}, "locale": "zh-CN"}


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory):
    """The sample warehouse, built once per test process (a build takes 3.5 s; a copy 15 ms).
    Never written to: tests take copies."""
    base = tmp_path_factory.mktemp("sample-template") / "data"
    assert pipeline.build(base).ok
    return base


@pytest.fixture(scope="module")
def sample(sample_template, tmp_path_factory):
    """A data dir serving the sample warehouse, one copy per test module (some publish into it)."""
    copy = tmp_path_factory.mktemp("sample") / "data"
    shutil.copytree(sample_template, copy, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def tab(browser, app_url):
    """One tab for a module's page loads against its `app_url` (relative `goto`s work). Each
    `goto` is a full page load at the size set before it, but in a new tab chromium compiles
    Streamlit's and plotly's scripts again: 3.2 s against 1.5 s a load. `tab.hosts` collects the
    host of every network request (not of `data:` and `blob:` URLs, which a page makes itself)."""
    context = browser.new_context(base_url=app_url, viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.hosts = set()

    def request(request) -> None:
        url = urlparse(request.url)
        if url.scheme not in ("data", "blob"):
            page.hosts.add(url.netloc)

    context.on("request", request)
    yield page
    context.close()


@pytest.fixture(scope="session")
def served_template(tmp_path_factory):
    """A data dir serving one real file (no sample data): every 宝鸡 county's 城市低保人数, 300 人,
    in 2022 and 2023 — complete, so the city total is aggregated and nothing is missing."""
    base = tmp_path_factory.mktemp("served") / "data"
    outcome = pipeline.load(base, [write_long_csv(base.parent / "base.csv", baoji_rows("城市低保人数", 300))])
    assert outcome.ok and outcome.changed, [i.as_text() for i in outcome.issues.items]
    return base


@pytest.fixture
def served(served_template, tmp_path):
    """A private copy of `served_template`, for a test that writes."""
    copy = tmp_path / "data"
    shutil.copytree(served_template, copy)
    return copy
