"""The same-elements floor for page benchmarks: a bare script that draws the element tree
recorded from a real page (`server_bench.record_page`) — every title, card, picker, tab, chart
and download button, with the page's own text and chart specs — from constant data: no
queries, no pandas, no figure building. What Streamlit itself costs to draw exactly that page,
so the page's own work is the difference. `?page=<name>` picks the tree from the JSON file
named by `MZ_REPLAY_TREES`; it draws the app's page config and navigation around it and runs
with app.py's process settings, like the bare floor."""

import json
import os
from pathlib import Path

import plotly.io as pio
import streamlit as st

from dashboard.navigation import PAGE_CONFIG, navigation
from dashboard.process import freeze_startup_heap

DOWNLOAD = bytes(8192)  # constant bytes for every download button
TEXTS = ("title", "header", "subheader", "markdown", "caption", "warning", "info", "error", "success")


# st.cache_resource, not functools: a script's functions are defined anew on every rerun.
@st.cache_resource(show_spinner=False)
def trees(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


@st.cache_resource(max_entries=64, show_spinner=False)
def figure(spec: str):
    """A recorded chart as a plotly figure, built once per process (constant data)."""
    return pio.from_json(spec)


class Replay:
    """Draws recorded nodes; widget keys are numbered in drawing order."""

    def __init__(self):
        self.count = 0

    def key(self) -> str:
        self.count += 1
        return f"w{self.count}"

    def draw_all(self, nodes: list[dict]) -> None:
        for node in nodes:
            self.draw(node)

    def draw(self, node: dict) -> None:
        kind, p, children = node["type"], node["proto"], node["children"]
        if kind in TEXTS:
            getattr(st, kind)(p["body"])
        elif kind == "metric":
            st.metric(
                p["label"],
                p["body"],
                delta=p.get("delta") or None,
                help=p.get("help") or None,
                border=p.get("show_border", False),
                chart_data=p.get("chart_data") or None,
                chart_type="line",
                delta_description=p.get("delta_description") or None,
            )
        elif kind == "selectbox":
            st.selectbox(p["label"], p.get("options", []), index=p.get("default", 0), key=self.key())
        elif kind == "multiselect":
            options = p.get("options", [])
            st.multiselect(p["label"], options, default=p.get("raw_values", []), key=self.key())
        elif kind == "select_slider":
            options = p.get("options", [])
            picked = [options[int(i)] for i in p.get("default", [])] or options[:1]
            st.select_slider(
                p["label"], options, value=tuple(picked) if len(picked) == 2 else picked[0], key=self.key()
            )
        elif kind == "toggle":
            st.toggle(p["label"], key=self.key())
        elif kind == "plotly_chart":
            st.plotly_chart(figure(p["spec"]), config=json.loads(p.get("config") or "{}"), key=self.key())
        elif kind == "html":  # the app's style sheet and script (navigation.style)
            st.html(p["body"], unsafe_allow_javascript=p.get("unsafe_allow_javascript", False))
        elif kind == "code":
            st.code(p.get("code_text", ""), language=None, wrap_lines=p.get("wrap_lines", False))
        elif kind == "download_button":
            st.download_button(p["label"], DOWNLOAD, "floor.bin", key=self.key(), on_click="ignore")
        elif kind == "flex_container" and children and all(c["type"] == "column" for c in children):
            for column, child in zip(st.columns(len(children)), children):
                with column:
                    self.draw_all(child["children"])
        elif kind == "flex_container":  # st.container (the breadcrumb, the quick picks): its direction
            horizontal = p.get("flex_container", {}).get("direction") == "HORIZONTAL"
            with st.container(horizontal=horizontal, gap="small", vertical_alignment="center"):
                self.draw_all(children)
        elif kind == "button":
            st.button(p["label"], key=self.key(), type=p.get("type") or "secondary")
        elif kind == "tab_container":
            tabs = st.tabs([c["proto"]["label"] for c in children], key=self.key(), on_change="rerun")
            for tab, child in zip(tabs, children):
                with tab:
                    self.draw_all(child["children"])
        elif kind == "expander":
            with st.expander(p["label"], expanded=p.get("expanded", False)):
                self.draw_all(children)
        elif kind == "popover":
            with st.popover(p["popover"]["label"]):
                self.draw_all(children)
        else:
            raise ValueError(f"replay: no rule for a recorded {kind!r}")


def draw_page() -> None:
    tree = trees(os.environ["MZ_REPLAY_TREES"])[st.query_params.get("page", "")]
    replay = Replay()
    with st.sidebar:
        replay.draw_all(tree["sidebar"])
    replay.draw_all(tree["main"])


st.set_page_config(**PAGE_CONFIG)
navigation(draw_page).run()
freeze_startup_heap()
