"""The shared sidebar filters — 城市, 区县, 年份范围 — kept in the URL so any view is a link.

The 区县 box holds the counties picked, and nothing when every county counts ("全部区县"): a
box full of twelve chips clipped the last ones, and a search in it found nothing, every option
being taken. "已选2/12个区县" and the quick picks 全部 / 只看市辖区 / 只看县（市） sit above it.

`?city=610300&county=610302&county=610303&from=2018&to=2025` opens the same view for anyone.
Filters survive page switches: with st.navigation a widget's keyed value is dropped when the
key is rendered on another page, unless it is re-assigned as plain session state first
(Streamlit forgets the state of widgets a rerun does not draw). Unknown codes in a URL are
ignored with a notice, never a crash; the notice quotes the URL's text escaped
(`format.escape_markdown`), so a link or markup written into the URL shows as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from . import store
from .format import escape_markdown

CITY, COUNTIES, YEARS = "f_city", "f_counties", "f_years"


@dataclass(frozen=True)
class Filters:
    city: str
    counties: tuple[str, ...]
    year_from: int
    year_to: int
    all_counties: tuple[str, ...]

    @property
    def years(self) -> tuple[int, int]:
        return self.year_from, self.year_to

    @property
    def partial(self) -> bool:
        return set(self.counties) != set(self.all_counties)


def _keep(key: str) -> bool:
    """Re-assign a widget value so it survives a page switch; True if there was one."""
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]
        return True
    return False


def _on_city_change() -> None:
    """A new city starts with all its counties and its full year range."""
    for key in (COUNTIES, YEARS):
        st.session_state.pop(key, None)
    st.session_state["f_city_changed"] = True


def sidebar_filters() -> Filters:
    cities = store.cities_with_data()
    if not cities:
        st.info("暂无数据：数据仓库中还没有任何城市的数据。请在“数据管理”页导入报表。")
        st.stop()
    notices: list[str] = []
    changed = st.session_state.pop("f_city_changed", False)

    if not _keep(CITY):
        wanted = st.query_params.get("city")
        if wanted and wanted not in cities:
            notices.append(  # the URL's text, shown as written (never as markdown)
                f"链接中的城市代码“{escape_markdown(wanted)}”没有数据，"
                f"已改为{escape_markdown(store.region_name(cities[0]))}。"
            )
        st.session_state[CITY] = wanted if wanted in cities else cities[0]
    names = store.region_names()  # one look-up for every option (hundreds of cities nationally)
    city = st.sidebar.selectbox(
        "城市", cities, key=CITY, format_func=lambda c: names.get(c, c), on_change=_on_city_change
    )

    counties = store.counties_of(city)
    if not _keep(COUNTIES):
        from_url = [] if changed else st.query_params.get_all("county")
        unknown = [c for c in from_url if c not in counties]
        if unknown:
            shown = "、".join(escape_markdown(c) for c in unknown)
            notices.append(f"链接中的区县代码 {shown} 不属于所选城市，已忽略。")
        st.session_state[COUNTIES] = [c for c in from_url if c in counties]
    chosen = _county_box(counties, names)

    years = store.years(city) or [0]
    # The range lives in plain session state (a keyed range slider does not survive a page
    # switch as a pair); the slider itself is drawn from it on every run.
    span = st.session_state.get(YEARS)
    if not span or span[0] not in years or span[1] not in years:
        low, high = url_year("from", years) or years[0], url_year("to", years) or years[-1]
        span = (min(low, high), max(low, high))
    if len(years) > 1:
        span = st.sidebar.select_slider("年份范围", options=years, value=span, format_func=lambda y: f"{y}年")
    st.session_state[YEARS] = span
    year_from, year_to = span

    for notice in notices:
        st.sidebar.info(notice, icon="ℹ️")
    keep_in_url(
        {
            "city": city,
            "county": chosen if set(chosen) != set(counties) else [],
            "from": str(year_from),
            "to": str(year_to),
        }
    )
    return Filters(city, tuple(chosen or counties), int(year_from), int(year_to), tuple(counties))


def is_district(name: str) -> bool:
    """A 市辖区 by its name ("渭滨区"); the others are 县, 县级市, 旗 ("眉县", "彬州市")."""
    return name.endswith("区")


def _pick(counties: list[str]) -> None:
    st.session_state[COUNTIES] = counties


def _county_box(counties: tuple[str, ...], names: dict[str, str]) -> list[str]:
    """The county picker: a count, quick picks, and a box that is empty for "all"."""
    if set(st.session_state.get(COUNTIES, ())) >= set(counties):
        st.session_state[COUNTIES] = []  # every county picked one by one is "all" too
    picked = st.session_state.get(COUNTIES, [])
    districts = [c for c in counties if is_district(names.get(c, ""))]
    others = [c for c in counties if c not in districts]
    box = st.sidebar.container(key="county_picks")
    count = f"已选{len(picked)}/{len(counties)}个" if picked else f"全部{len(counties)}个"
    box.markdown(f"区县（{count}）")
    quick = box.container(horizontal=True, gap="small")
    quick.button("全部", key="pick_all", on_click=_pick, args=([],), disabled=not picked, type="tertiary")
    if districts and others:  # a city of districts only (or of counties only) needs neither
        quick.button("只看市辖区", key="pick_districts", on_click=_pick, args=(districts,), type="tertiary")
        quick.button("只看县（市）", key="pick_counties", on_click=_pick, args=(others,), type="tertiary")
    return st.sidebar.multiselect(
        "区县",
        list(counties),
        key=COUNTIES,
        format_func=lambda c: names.get(c, c),
        placeholder="全部区县（输入名称可挑选）",
        label_visibility="collapsed",
    )


def keep_in_url(values: dict[str, str | list[str]]) -> None:
    """Write view state into the URL, in one message and only when something changed: each
    write sends the browser a message (and a history entry) on every rerun otherwise."""
    wanted = {key: [value] if isinstance(value, str) else list(value) for key, value in values.items()}
    if any(st.query_params.get_all(key) != value for key, value in wanted.items()):
        st.query_params.update(values)


def url_year(param: str, years) -> int | None:
    """A year of the URL, only when written exactly as one of `years` ("2020"; not "²", "２０２０"
    or 5,000 digits, which `int` refuses or chokes on)."""
    return {str(y): y for y in years}.get(st.query_params.get(param, ""))
