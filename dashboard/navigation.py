"""The dashboard's pages by section, in one table: app.py navigates with it, and the benchmark's
same-elements floor (bench/replay_app.py) draws the same navigation around its replay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

STATIC = Path(__file__).resolve().parents[1] / "static"
PAGE_CONFIG = dict(page_title="民政数据看板", page_icon="📊", layout="wide")
SECTIONS = {  # section → (page script, title, icon); the first page is the default
    "总览": [("pages/overview.py", "总览", ":material/dashboard:")],
    "专题": [
        ("pages/social_relief.py", "社会救助", ":material/volunteer_activism:"),
        ("pages/elderly_care.py", "养老服务", ":material/elderly:"),
        ("pages/charity.py", "慈善事业", ":material/favorite:"),
        ("pages/social_work.py", "社会工作", ":material/groups:"),
    ],
    "分析": [
        ("pages/compare.py", "区县对比", ":material/compare_arrows:"),
        ("pages/query.py", "数据查询", ":material/table_view:"),
        ("pages/catalog.py", "指标说明", ":material/menu_book:"),
        ("pages/reconcile.py", "公开数据核对", ":material/fact_check:"),
    ],
    "汇报": [("pages/present.py", "演示", ":material/slideshow:")],
    "管理": [("pages/admin.py", "数据管理", ":material/admin_panel_settings:")],
}


def navigation(draw: Callable[[], None] | None = None, titles: dict[str, str] | None = None):
    """The app's navigation; with `draw`, every page is that function instead of its script
    (same titles, icons and URLs). `titles` renames pages by script for this run (the
    comparison page is 区县对比 in a city, 下级地区对比 above)."""
    titles = titles or {}
    first = next(iter(SECTIONS.values()))[0][0]
    return st.navigation(
        {
            section: [
                st.Page(
                    draw or script,
                    title=titles.get(script, title),
                    icon=icon,
                    default=script == first,
                    url_path=Path(script).stem,
                )
                for script, title, icon in pages
            ]
            for section, pages in SECTIONS.items()
        }
    )


def style() -> None:
    """The app's style sheet and its Chinese for Streamlit's own English, on every page: the CSS
    of static/app.css inline (style-src allows it; an st.html of styles only takes no room), and
    static/zh_ui.js by its URL (script-src 'self'), which translates Streamlit's tooltips,
    aria-labels and placeholders in the browser (Streamlit has no locale setting)."""
    st.html(f"<style>{(STATIC / 'app.css').read_text(encoding='utf-8')}</style>")
    st.html('<script src="app/static/zh_ui.js"></script>', unsafe_allow_javascript=True)
