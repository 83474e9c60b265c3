"""演示: the deck on the meeting-room screen — 16:9 slides, big type, keyboard navigation,
auto-advance, light or dark, and the meeting pack (PPTX / PDF) for afterwards.

Everything that defines a prepared deck is in the URL: city, counties and years (the shared
filters), the slides and their order (`slides`), the current slide (`s`), the theme and the
auto-advance interval — so a deck is a link.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from dashboard import deck, filters, meeting_pack, store, theme
from dashboard.deck import Slide

# Markdown drops class attributes, so slide type is styled inline.
TITLE = "font-size:max(40px,4.8vh);font-weight:700;line-height:1.2;margin:0"
SUB = "font-size:max(20px,2.2vh);margin:0.3vh 0 1vh 0;opacity:.75"
TEXT = "font-size:max(20px,2.4vh);line-height:1.55"
BIG = "font-size:max(28px,3.6vh);line-height:1.6"
CORNER = "position:fixed;right:2.5vw;bottom:1vh;font-size:16px;opacity:.7"
MARK = "position:fixed;right:2.5vw;top:1.2vh;font-size:22px;font-weight:700;color:#C23B3B"
THEMES = {"light": ("#FFFFFF", "#1F2933", "#5A636E"), "dark": ("#0F172A", "#F1F5F9", "#A8B3C2")}
INTERVALS = (5, 10, 15, 30, 60)
SCREENS = {"1080": 760, "768": 480}  # screen height → chart height (px) that fills the slide

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
screen = st.query_params.get("screen", "1080")
screen = screen if screen in SCREENS else "1080"
mode = st.query_params.get("theme", "light")
mode = mode if mode in THEMES else "light"
background, ink, _ = THEMES[mode]

st.html(f"""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] {{ display: none !important; }}
[data-testid="stApp"], [data-testid="stMain"] {{ background: {background}; color: {ink}; }}
[data-testid="stMainBlockContainer"] {{ padding: 1.2vh 2.5vw 0 2.5vw !important; \
max-width: 100% !important; }}
html, body, [data-testid="stMain"] {{ overflow: hidden !important; }}
</style>""")


def go_to(n: int) -> None:
    st.session_state.slide = max(0, min(n, len(ids) - 1))


def show(slide: Slide, number: int, total: int, sample: bool) -> None:
    st.markdown(
        f'<p style="{TITLE};color:{ink}">{slide.title}</p><p style="{SUB};color:{ink}">{slide.subtitle}</p>',
        unsafe_allow_html=True,
    )
    if slide.figure is not None:
        chart, words = st.columns([3, 1], vertical_alignment="center")
        # drawn in the screen's look by deck.build: this page changes no figure it is handed
        chart.plotly_chart(
            slide.figure, config=theme.plotly_config(), height=SCREENS[screen], key=f"slide-{slide.id}"
        )
        words.markdown(f'<div style="{TEXT};color:{ink}">{slide.narrative}</div>', unsafe_allow_html=True)
    else:
        items = [
            f"{label}：<b>{value}</b>（同比 {change}）" for label, value, change in slide.numbers
        ] + slide.bullets
        body = "".join(f"<li>{item}</li>" for item in items) or "<li>暂无数据</li>"
        st.markdown(f'<ul style="{BIG};color:{ink}">{body}</ul>', unsafe_allow_html=True)
        if slide.narrative:
            st.markdown(f'<div style="{TEXT};color:{ink}">{slide.narrative}</div>', unsafe_allow_html=True)
    st.markdown(
        f'<div style="{CORNER};color:{ink}">'
        f"{number} / {total} · 数据截至{f.year_to}年 · 版本 {store.version()}</div>"
        + (f'<div style="{MARK}">示例数据</div>' if sample else ""),
        unsafe_allow_html=True,
    )


auto = st.query_params.get("auto", "")
interval = int(auto) if auto.isdigit() and int(auto) in INTERVALS else None
scope = deck.Scope(f.city, f.year_to, f.counties, f.year_from)
st.session_state.full_run = True


@st.fragment(run_every=interval)
def current_slide() -> None:
    """The slide alone reruns on the auto-advance timer; buttons rerun the whole page."""
    if not st.session_state.pop("full_run", False) and interval:
        st.session_state.slide = (st.session_state.slide + 1) % len(ids)
    n = st.session_state.slide
    filters.keep_in_url({"s": str(n + 1)})
    (slide,) = deck.build(scope, [ids[n]], deck.Look(background, ink))
    show(slide, n + 1, len(ids), store.is_sample())


current_slide()

# ------------------------------------------------------------------ controls (one compact row)
cols = st.columns([1, 1, 1, 1, 3, 2, 2, 2, 2, 2], vertical_alignment="center")
n = st.session_state.slide
cols[0].button("◀", key="prev-arrow", shortcut="Left", on_click=go_to, args=(n - 1,), help="上一页（←）")
cols[1].button("上一页", key="prev-page", shortcut="PageUp", on_click=go_to, args=(n - 1,), help="PageUp")
cols[2].button("下一页", key="next-page", shortcut="PageDown", on_click=go_to, args=(n + 1,), help="PageDown")
cols[3].button("▶", key="next-arrow", shortcut="Right", on_click=go_to, args=(n + 1,), help="下一页（→）")
jump = cols[4].selectbox(
    "跳转",
    range(len(ids)),
    index=n,
    format_func=lambda i: f"{i + 1}. {titles[ids[i]]}",
    label_visibility="collapsed",
    key=f"jump-{n}",
)
if jump != n:
    go_to(jump)
    st.rerun()
with cols[5].popover("自动播放"):
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
with cols[6].popover("编排页面"):
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
with cols[7].popover("导出"):
    for suffix in ("pptx", "pdf"):
        if st.button(f"生成 {suffix.upper()}", key=f"make-{suffix}"):
            bar = st.progress(0.0, text="正在准备……")
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / f"汇报材料.{suffix}"
                slides = deck.build(scope, ids)
                meeting_pack.write(
                    slides, out, store.is_sample(), progress=lambda d, t, bar=bar: bar.progress(d, text=t)
                )
                st.session_state[f"pack-{suffix}"] = out.read_bytes()
        if f"pack-{suffix}" in st.session_state:
            st.download_button(
                f"下载 {suffix.upper()}",
                st.session_state[f"pack-{suffix}"],
                f"{store.region_name(f.city)}_{f.year_to}_汇报材料.{suffix}",
                key=f"dl-{suffix}",
                on_click="ignore",
            )
with cols[8].popover("显示"):
    dark = st.toggle("深色大屏", value=mode == "dark", key="dark")
    size = st.radio(
        "屏幕",
        tuple(SCREENS),
        index=tuple(SCREENS).index(screen),
        horizontal=True,
        format_func=lambda h: {"1080": "1920×1080", "768": "1366×768"}[h],
    )
    if dark != (mode == "dark") or size != screen:
        st.query_params["theme"], st.query_params["screen"] = ("dark" if dark else "light"), size
        st.rerun()
cols[9].page_link(
    "pages/overview.py",
    label="退出演示",
    icon=":material/close:",
    query_params={k: st.query_params.get_all(k) for k in ("city", "county", "from", "to")},
)
filters.keep_in_url({"slides": ",".join(ids)})
