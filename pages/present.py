"""演示: the deck on the meeting-room screen, the way presentation software shows it.

The slide is a fixed 1920×1080 canvas scaled to the screen (letterboxed, `static/present/
present.css`): the audience sees the slide and nothing else. The controls are a bar at the
bottom of the screen that appears when the mouse moves and hides 3 s later, outside the slide
while hidden. Keys (`static/present/present.js`, a `st.components.v2` component in the page's
own document): ←/→, PageUp/PageDown, Home/End, a number then Enter, Esc to leave, P to pause.
On a phone the page says that 演示 is for large screens, with a way back.

Everything that defines a prepared deck is in the URL: region (any level: 全国, a province, a
city), its children and years (the shared filters), the slides and their order (`slides`), the
current slide (`s`), the theme and the auto-advance interval (`auto`) — so a deck is a link.
"""

from __future__ import annotations

import html
import tempfile
import time
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from dashboard import deck, filters, meeting_pack, store, theme
from dashboard.deck import Slide

STATIC = Path(__file__).resolve().parents[1] / "static" / "present"
# Per theme: the CSS variables of present.css. Text colours meet WCAG AA (≥ 4.5:1) on their
# backgrounds (tests/test_present.py measures the rendered page).
THEMES = {
    "light": {
        "bg": "#FFFFFF",
        "ink": "#1F2933",
        "muted": "#4B5563",
        "mark": "#B42318",
        "accent": "#1F5AA6",
        "card": "#F3F5F8",
        "edge": "#000000",
        "bar-bg": "#FFFFFF",
        "bar-ink": "#1F2933",
        "bar-button": "#F3F5F8",
        "bar-line": "#9AA5B1",
    },
    "dark": {
        "bg": "#0F172A",
        "ink": "#F1F5F9",
        "muted": "#CBD5E1",
        "mark": "#FCA5A5",
        "accent": "#60A5FA",
        "card": "#1E293B",
        "edge": "#000000",
        "bar-bg": "#1E293B",
        "bar-ink": "#F1F5F9",
        "bar-button": "#334155",
        "bar-line": "#64748B",
    },
}
INTERVALS = (5, 10, 15, 30, 60)
CHART_HEIGHT = 780  # px of the 1080 px canvas under the title and above the footer
EXIT_PARAMS = ("region", "child", "from", "to")


@st.cache_resource
def _keys():
    """The keyboard and control-bar script, registered once per process."""
    return st.components.v2.component("mz_present_keys", js=(STATIC / "present.js").read_text("utf-8"))


def _esc(text: object) -> str:
    return html.escape(str(text))


f = filters.sidebar_filters()
all_ids = deck.slide_ids()
titles = deck.slide_titles()

# ------------------------------------------------------------------ state from the URL
wanted = [s for s in st.query_params.get("slides", "").split(",") if s in all_ids]
if "deck_ids" not in st.session_state:
    st.session_state.deck_ids = wanted or all_ids
ids = st.session_state.deck_ids or all_ids
if "slide" not in st.session_state:
    number = st.query_params.get("s", "1")
    st.session_state.slide = min(max(int(number) - 1, 0), len(ids) - 1) if number.isdigit() else 0
st.session_state.slide = min(st.session_state.slide, len(ids) - 1)
mode = st.query_params.get("theme", "light")
mode = mode if mode in THEMES else "light"
colours = THEMES[mode]
auto = st.query_params.get("auto", "")
interval = int(auto) if auto.isdigit() and int(auto) in INTERVALS else None
if interval:
    st.session_state.last_interval = interval
scope = deck.Scope(f.region, f.year_to, f.children, f.year_from)
exit_params = {k: st.query_params.get_all(k) for k in EXIT_PARAMS}

variables = ";".join(f"--{name}:{value}" for name, value in colours.items())
st.html(f"<style>:root{{{variables}}}\n{(STATIC / 'present.css').read_text('utf-8')}</style>")

# ------------------------------------------------------------------ phones: a plain message
with st.container(key="small"):
    st.html(
        '<p style="font-size:22px;font-weight:700;margin:0 0 8px 0">演示模式适用于电脑和会议室大屏幕</p>'
        '<p style="font-size:17px;line-height:1.6;margin:0">手机屏幕太小，无法完整显示幻灯片。'
        "请在电脑上打开本页，或返回数据看板查看各项数据。</p>"
    )
    st.page_link(
        "pages/overview.py", label="返回总览", icon=":material/arrow_back:", query_params=exit_params
    )


def go_to(n: int) -> None:
    st.session_state.slide = max(0, min(n, len(ids) - 1))


def set_auto(value: str) -> None:
    st.query_params["auto"] = value


# ------------------------------------------------------------------ the slide
def head(slide: Slide) -> str:
    sub = f'<p class="mz-sub">{_esc(slide.subtitle)}</p>' if slide.subtitle else ""
    return f'<p class="mz-title">{_esc(slide.title)}</p>{sub}'


def cover(slide: Slide) -> str:
    lines = "".join(
        f'<p class="mz-line{" mz-quiet" if n else ""}">{_esc(line)}</p>'
        for n, line in enumerate(slide.bullets)
    )
    top = f'<h1>{_esc(slide.title)}</h1><p class="mz-year">{_esc(slide.subtitle)}</p>'
    return f'<div class="mz-cover">{top}{lines}</div>'


def kpis(slide: Slide) -> str:
    cards = "".join(
        f'<div class="mz-kpi"><p class="mz-label">{_esc(label)}</p><p class="mz-value">{_esc(value)}</p>'
        f'<p class="mz-change">同比 {_esc(change)}</p></div>'
        for label, value, change in slide.numbers
    )
    note = f'<p class="mz-note">{_esc(slide.narrative)}</p>' if slide.narrative else ""
    return f'{head(slide)}<div class="mz-kpis">{cards}</div>{note}'


def listing(slide: Slide) -> str:
    items = []
    for line in slide.bullets or ["暂无数据"]:
        label, sep, rest = line.partition("：")
        items.append(f"<li><b>{_esc(label)}</b>{_esc(rest)}</li>" if sep else f"<li>{_esc(line)}</li>")
    note = f'<p class="mz-note">{_esc(slide.narrative)}</p>' if slide.narrative else ""
    return f'{head(slide)}<ul class="mz-list">{"".join(items)}</ul>{note}'


def show(slide: Slide, number: int, total: int, sample: bool) -> None:
    with st.container(key="canvas"):
        if slide.kind == "chart":
            st.html(head(slide))
            if slide.figure is None:
                st.html('<p class="mz-empty">暂无数据</p>')
            else:
                chart, words = st.columns([7, 3], vertical_alignment="center")
                # drawn in the screen's look by deck.build: this page changes no figure it is handed;
                # laid out at its slot's size in canvas px, not on-screen px (present.css)
                chart.plotly_chart(
                    slide.figure,
                    config={**theme.plotly_config(), "displayModeBar": False},
                    height=CHART_HEIGHT,
                    theme=None,
                    key=f"slide-{slide.id}",
                )
                words.html(f'<div class="mz-words">{_esc(slide.narrative)}</div>')
        elif slide.kind == "cover":
            st.html(cover(slide))
        elif slide.kind == "kpi":
            st.html(kpis(slide))
        else:
            st.html(listing(slide))
        mark = '<div class="mz-mark">示例数据</div>' if sample else ""
        st.html(
            f'{mark}<div class="mz-foot"><span class="mz-footer">{_esc(slide.footer)}</span>'
            f'<span class="mz-number">{number} / {total}</span></div>'
        )


# ------------------------------------------------------------------ the control bar
def bar(n: int) -> None:
    with st.container(key="bar", horizontal=True, vertical_alignment="center"):
        st.button("◀ 上一页", key="prev", on_click=go_to, args=(n - 1,), help="←、PageUp")
        st.button("下一页 ▶", key="next", on_click=go_to, args=(n + 1,), help="→、PageDown、空格")
        jump = st.selectbox(
            "跳转",
            range(len(ids)),
            index=n,
            format_func=lambda i: f"{i + 1}. {titles[ids[i]]}",
            label_visibility="collapsed",
            key=f"jump-{n}",
        )
        if jump != n:
            go_to(jump)
            st.rerun(scope="fragment")
        if interval:
            st.button("⏸ 暂停", key="pause", on_click=set_auto, args=("",), help="P")
        else:
            again = str(st.session_state.get("last_interval", 10))
            st.button("▶ 播放", key="play", on_click=set_auto, args=(again,), help="P")
        with st.popover("自动播放"):
            choice = st.radio(
                "间隔",
                ("暂停", *INTERVALS),
                index=0 if interval is None else INTERVALS.index(interval) + 1,
                format_func=lambda v: v if isinstance(v, str) else f"{v} 秒",
                horizontal=True,
            )
            new_auto = "" if choice == "暂停" else str(choice)
            if new_auto != auto:
                st.query_params["auto"] = new_auto
                st.rerun()
        with st.popover("编排页面"):
            chosen = st.multiselect(
                "页面与顺序（按选择的先后排列）",
                all_ids,
                default=ids,
                format_func=lambda i: titles[i],
                key="deck-pick",
            )
            if chosen and chosen != ids:
                st.session_state.deck_ids = chosen
                st.session_state.slide = 0
                st.rerun()
        with st.popover("导出"):
            export()
        with st.popover("显示"):
            dark = st.toggle("深色大屏", value=mode == "dark", key="dark")
            if dark != (mode == "dark"):
                st.query_params["theme"] = "dark" if dark else "light"
                st.rerun()
        st.html(f'<span class="mz-count">{n + 1} / {len(ids)}</span>')
        st.page_link("pages/overview.py", label="退出演示", icon=":material/close:", query_params=exit_params)
        st.html('<span class="mz-hint">←/→ 翻页 · 数字+回车 跳转 · Esc 退出</span>')


def export() -> None:
    for suffix in ("pptx", "pdf"):
        if st.button(f"生成 {suffix.upper()}", key=f"make-{suffix}"):
            progress = st.progress(0.0, text="正在准备……")
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / f"汇报材料.{suffix}"
                slides = deck.build(scope, ids)
                meeting_pack.write(
                    slides,
                    out,
                    store.is_sample(),
                    progress=lambda d, t, bar=progress: bar.progress(d, text=t),
                )
                st.session_state[f"pack-{suffix}"] = out.read_bytes()
        if f"pack-{suffix}" in st.session_state:
            st.download_button(
                f"下载 {suffix.upper()}",
                st.session_state[f"pack-{suffix}"],
                f"{store.region_name(f.region)}_{f.year_to}_汇报材料.{suffix}",
                key=f"dl-{suffix}",
                on_click="ignore",
            )


def _noop() -> None:
    """The keys are read from the component's result; its callbacks only register the triggers."""


st.session_state.full_run = True


@st.fragment(run_every=interval)
def presentation() -> None:
    """The slide, the bar and the keys; a key, a bar button or the auto-advance timer reruns
    only this fragment."""
    keys = _keys()(key="present-keys", on_go_change=_noop)
    full_run = st.session_state.pop("full_run", False)
    # the key pressed last, with a sequence number: a state stays, so each press is read once
    action = keys.get("go") if isinstance(keys.get("go"), dict) else None
    if action is not None and action.get("seq") == st.session_state.get("key_seq"):
        action = None
    elif action is not None:
        st.session_state.key_seq = action.get("seq")
    n = st.session_state.slide
    if action:
        what = action.get("action")
        if what == "to" and isinstance(action.get("n"), int):
            go_to(action["n"] - 1)  # an absolute slide: the page may send it again safely
        elif what == "pause":
            set_auto("" if interval else str(st.session_state.get("last_interval", 10)))
            st.rerun()
    elif interval and not full_run:
        # a timer run moves on once the slide has been up for the interval (a button pressed
        # meanwhile restarts the count)
        if time.monotonic() - st.session_state.get("shown_at", 0.0) >= interval - 0.5:
            go_to((n + 1) % len(ids))
    n = st.session_state.slide
    if st.session_state.get("shown") != (n, tuple(ids)):
        st.session_state.shown, st.session_state.shown_at = (n, tuple(ids)), time.monotonic()
    filters.keep_in_url({"s": str(n + 1)})
    (slide,) = deck.build(scope, [ids[n]], deck.Look(colours["bg"], colours["ink"]))
    show(slide, n + 1, len(ids), store.is_sample())
    if slide.kind == "chart":
        st.session_state.plotly_loaded = True
    elif not st.session_state.get("plotly_loaded"):
        warm_up_plotly()
    bar(n)


def warm_up_plotly() -> None:
    """An empty chart, out of sight, while no chart slide has been shown: the browser fetches
    and compiles plotly's code (Streamlit loads it with the first chart of a page) while the
    cover is up, not after the key press that brings the first chart slide (that step: 1.5 → 0.4 s)."""
    with st.container(key="warmup"):
        st.plotly_chart(go.Figure(), config={"staticPlot": True}, key="plotly-warmup", theme=None)


presentation()
filters.keep_in_url({"slides": ",".join(ids)})
