"""Fixtures shared by many test files: pytest-playwright settings for every browser test (Debian's
chromium, never a download), a data dir of the sample warehouse per module and one serving one
real version."""

import shutil

import pytest

from etl import pipeline
from tests.browser import ARGS, CHROMIUM
from tests.util import baoji_rows, write_long_csv


def pytest_collection_modifyitems(items):
    """Every test that opens a Playwright page is a `browser` test (`make test-fast` leaves them
    out); files that start chromium themselves (meeting pack, bench) mark themselves."""
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}, "locale": "zh-CN"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A data dir serving the sample warehouse, built once per test module (each module has its
    own: some publish into it)."""
    base = tmp_path_factory.mktemp("sample") / "data"
    assert pipeline.build(base).ok
    return base


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
