"""Pages opened in-process under AppTest, for the benchmarks that record what a page does (its
queries, its element tree): a session opens on 总览, as every browser session does, then
switches to the page."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BAOJI = "610300"


def open_page(data_dir: Path, page: str, query: dict, on_overview: Callable[[], None] = lambda: None):
    """An AppTest session on `page` ("" or "overview": 总览 itself) with these URL parameters;
    `on_overview` runs between the first run and the page switch."""
    from streamlit.testing.v1 import AppTest

    os.environ["MZ_DATA_DIR"] = str(data_dir)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params.update(query)
    at.run()
    on_overview()
    if page not in ("", "overview"):
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, (page, [e.value for e in at.exception])
    return at


def baoji_counties() -> dict[str, str]:
    """Name → code of 宝鸡市's counties, in registry order (the benchmarks' filter values)."""
    from etl.regions import load_registry

    regions = load_registry().frame()
    counties = regions[(regions["parent_code"] == BAOJI) & (regions["kind"] == "county")]
    return dict(zip(counties["name"], counties["code"]))
