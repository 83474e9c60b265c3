"""The shared sidebar filters — 地区, its children (区县 / 市 / 省份), 年份范围 — kept in the URL so
any view is a link.

One region picker for every level: 全国, a province (or the 兵团's 师市 under 新疆), a city. A
view compares the region's children (the provinces of the nation, the cities of a province, the
counties of a city) with the region's own total. The picker is one searchable box of every region
with data, each labelled with its level and, for a city, its province ("宝鸡市 · 市级（陕西省）"):
a director types two characters of the name instead of walking a cascade. A map click or a
ranking bar goes one level down (`go_to`) and the breadcrumb (`breadcrumb`) back up.

The children box holds the children picked, and nothing when every child counts ("全部区县"): a
box full of twelve chips clipped the last ones, and a search in it found nothing, every option
being taken. "已选2/12个" and, for a city, the quick picks 全部 / 市辖区 / 县（市） sit under it
(全部 is also "clear": an empty box counts every child).

`?region=610300&child=610302&child=610303&from=2018&to=2025` opens the same view for anyone; old
links (`?city=610300&county=610302`) still open theirs. The browser's back button works: the URL
is read again whenever it differs from what this session last wrote (`WRITTEN`) and from the
link it last read (`READ`).
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

REGION, CHILDREN, YEARS = "f_region", "f_children", "f_years"
WRITTEN = "f_written"  # the filter part of the URL this session wrote last
READ = "f_read"  # the filter part of the last URL this session read as a new link
NATION = "100000"
# The word for a region's children, by the region's level, and for its own total.
CHILD_WORDS = {"nation": "省份", "province": "市", "city": "区县"}
LEVEL_NAMES = {"nation": "全国", "province": "省级", "city": "市级"}
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}


@dataclass(frozen=True)
class Filters:
    region: str
    children: tuple[str, ...]
    year_from: int
    year_to: int
    all_children: tuple[str, ...]

    @property
    def years(self) -> tuple[int, int]:
        return self.year_from, self.year_to

    @property
    def partial(self) -> bool:
        return set(self.children) != set(self.all_children)


def level_of(region: str) -> str:
    """nation, province, city or county (the warehouse's regions table)."""
    return store.region_levels().get(region, "city")


def level_word(region: str) -> str:
    """What the region's children are called: 区县 (a city), 市 (a province), 省份 (the nation)."""
    return CHILD_WORDS.get(level_of(region), "区县")


def whole_word(region: str) -> str:
    """What the region's own total is called: 全市, 全省 (全区 for an autonomous region, 全市 for a
    municipality), 全国."""
    level = level_of(region)
    if level == "nation":
        return "全国"
    if level == "province" and region not in MUNICIPALITIES:
        return "全区" if store.region_name(region).endswith("自治区") else "全省"
    return "全市"


def compare_title(region: str) -> str:
    """The comparison page's name: 区县对比 for a city, 下级地区对比 above (its children are
    cities or provinces)."""
    return "区县对比" if level_of(region) == "city" else "下级地区对比"


def current_region() -> str:
    """The region this run shows, known before any page draws the sidebar (app.py names the
    comparison page in the navigation by it): a link this session has not read yet, else the
    picker's value, else the link's, else the default — as `sidebar_filters` decides; "" when
    no region has data."""
    choices = store.regions_with_views()
    if not choices:
        return ""
    url = _url_filters()
    wanted = url[0] if _is_new_link(url) else st.session_state.get(REGION, url[0])
    return wanted if wanted in choices else store.default_region()


def _is_new_link(url: tuple) -> bool:
    """A URL this session did not write (a link opened, the browser's back button), nor read
    already (a client that sends its first address on every rerun)."""
    return url[0] is not None and url not in (st.session_state.get(WRITTEN), st.session_state.get(READ))


def _keep(key: str) -> bool:
    """Re-assign a widget value so it survives a page switch; True if there was one."""
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]
        return True
    return False


def _on_region_change() -> None:
    """A new region starts with all its children and its full year range."""
    for key in (CHILDREN, YEARS):
        st.session_state.pop(key, None)
    st.session_state["f_region_changed"] = True


def go_to(region: str) -> None:
    """Open another region (a drill-down click, a breadcrumb): a callback, run before the picker
    is drawn."""
    if region in store.regions_with_views():
        st.session_state[REGION] = region
        _on_region_change()


def _url_filters() -> tuple:
    """The filter part of the URL: region (or an old link's city), children, years."""
    params = st.query_params
    region = params.get("region") or params.get("city")
    children = params.get_all("child") or params.get_all("county")
    return region, tuple(children), params.get("from"), params.get("to")


def sidebar_filters() -> Filters:
    choices = store.regions_with_views()
    if not choices:
        st.info("暂无数据：数据仓库中还没有任何地区的数据。请在“数据管理”页导入报表。")
        st.stop()
    notices: list[str] = []
    changed = st.session_state.pop("f_region_changed", False)
    url = _url_filters()
    from_url = _is_new_link(url)  # read again: a link opened, the browser's back button
    if from_url:
        st.session_state[READ] = url
    if from_url and not changed:
        for key in (REGION, CHILDREN, YEARS):
            st.session_state.pop(key, None)

    if st.session_state.get(REGION, choices[0]) not in choices:  # a region a new version lacks
        for key in (REGION, CHILDREN, YEARS):
            st.session_state.pop(key, None)
    if not _keep(REGION):
        wanted = url[0]
        default = store.default_region()
        if wanted and wanted not in choices:
            notices.append(  # the URL's text, shown as written (never as markdown)
                f"链接中的地区代码“{escape_markdown(wanted)}”没有数据，"
                f"已改为{escape_markdown(store.region_name(default))}。"
            )
        st.session_state[REGION] = wanted if wanted in choices else default
    labels = store.region_labels()
    region = st.sidebar.selectbox(
        "地区",
        choices,
        key=REGION,
        format_func=lambda c: labels.get(c, c),
        on_change=_on_region_change,
        help="可输入名称查找：全国、各省（区、市）、各市。地图或排名中点击下级地区可进入该地区。",
    )

    children = store.children_of(region)
    names = store.region_names()  # one look-up for every option (hundreds of cities nationally)
    if not _keep(CHILDREN):
        wanted_children = [] if changed else list(url[1])
        unknown = [c for c in wanted_children if c not in children]
        if unknown:
            shown = "、".join(escape_markdown(c) for c in unknown)
            notices.append(f"链接中的{level_word(region)}代码 {shown} 不属于所选地区，已忽略。")
        st.session_state[CHILDREN] = [c for c in wanted_children if c in children]
    chosen = _county_box(children, names, region)

    years = store.years(region) or tuple(store.fact_years()) or (0,)
    years = list(years)
    # The range lives in plain session state (a keyed range slider does not survive a page
    # switch as a pair); the slider itself is drawn from it on every run.
    span = st.session_state.get(YEARS)
    if not span or span[0] not in years or span[1] not in years:
        known = {str(y): y for y in years}
        low, high = _year(known, url[2]) or years[0], _year(known, url[3]) or years[-1]
        span = (min(low, high), max(low, high))
    if len(years) > 1:
        span = st.sidebar.select_slider("年份范围", options=years, value=span, format_func=lambda y: f"{y}年")
    st.session_state[YEARS] = span
    year_from, year_to = span

    for notice in notices:
        st.sidebar.info(notice, icon="ℹ️")
    shown_children = chosen if set(chosen) != set(children) else []
    st.session_state[WRITTEN] = (region, tuple(shown_children), str(year_from), str(year_to))
    keep_in_url(
        {"region": region, "child": shown_children, "from": str(year_from), "to": str(year_to)},
        drop=("city", "county"),
    )
    return Filters(region, tuple(chosen or children), int(year_from), int(year_to), tuple(children))


def is_district(name: str) -> bool:
    """A 市辖区 by its name ("渭滨区"); the others are 县, 县级市, 旗 ("眉县", "彬州市")."""
    return name.endswith("区")


def _pick(counties: list[str]) -> None:
    st.session_state[CHILDREN] = counties


def _county_box(children: tuple[str, ...], names: dict[str, str], region: str) -> list[str]:
    """The children picker: a box that is empty for "all", its label the children's word ("区县"
    for a city's counties, "市", "省份"); under it the count and (a city's) quick picks — above
    it, they pushed the box so low that its list had no room to open."""
    if set(st.session_state.get(CHILDREN, ())) >= set(children):
        st.session_state[CHILDREN] = []  # every child picked one by one is "all" too
    picked = st.session_state.get(CHILDREN, [])
    word = level_word(region)
    chosen = st.sidebar.multiselect(
        word,
        list(children),
        key=CHILDREN,
        format_func=lambda c: names.get(c, c),
        placeholder=f"全部{word}（输入名称可挑选）",
    )
    quick = st.sidebar.container(
        key="county_picks", horizontal=True, gap="small", vertical_alignment="center"
    )
    count = f"已选{len(picked)}/{len(children)}个" if picked else f"全部{len(children)}个"
    quick.caption(count, width="content")
    picks = [("全部", "pick_all", [], f"全部{word}")]
    if level_of(region) == "city":
        districts = [c for c in children if is_district(names.get(c, ""))]
        others = [c for c in children if c not in districts]
        if districts and others:  # a city of districts only (or of counties only) needs neither
            picks += [
                ("市辖区", "pick_districts", districts, "只看市辖区"),
                ("县（市）", "pick_counties", others, "只看县和县级市"),
            ]
    for label, key, wanted, meaning in picks:
        quick.button(
            label,
            key=key,
            on_click=_pick,
            args=(wanted,),
            help=meaning,
            type="tertiary",  # links under the box, not buttons
            disabled=wanted == picked,
        )
    return chosen


def breadcrumb(f: Filters) -> None:
    """全国 › 陕西省 › 宝鸡市 above a page: each region above the chosen one is a button that
    opens it (the URL changes with it, so the browser's back button returns)."""
    chain = store.ancestry(f.region)
    with st.container(key="breadcrumb", horizontal=True, gap="small", vertical_alignment="center"):
        for n, code in enumerate(chain):
            if n:
                st.markdown("›")
            name = store.region_name(code)
            if code == f.region:
                st.markdown(f"**{name}**")
            elif code in store.regions_with_views():
                st.button(name, key=f"crumb_{code}", on_click=go_to, args=(code,), type="tertiary")
            else:
                st.markdown(name)


def drill(key: str) -> None:
    """The selection callback of a map or a ranking: a click on a child opens it (one level
    down), where it has children of its own, and a county (the 全部区县 map) opens its city;
    the clicked code is the point's customdata (or a map's location)."""
    event = st.session_state.get(key)
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else []
    parents = store.regions()["parent_code"]
    for point in points:
        code = point.get("customdata", point.get("location"))
        if isinstance(code, list):
            code = code[0] if code else None
        if isinstance(code, str) and code in parents.index and level_of(code) == "county":
            code = parents[code]
        if isinstance(code, str) and store.children_of(code):
            go_to(code)
            return


def keep_in_url(values: dict[str, str | list[str]], drop: tuple[str, ...] = ()) -> None:
    """Write view state into the URL, in one message and only when something changed: each
    write sends the browser a message (and a history entry) on every rerun otherwise. `drop`:
    parameters an old link carried that the written ones replace."""
    wanted = {key: [value] if isinstance(value, str) else list(value) for key, value in values.items()}
    stale = [key for key in drop if key in st.query_params]
    if stale or any(st.query_params.get_all(key) != value for key, value in wanted.items()):
        for key in stale:  # an old link's parameters, once (widget-bound ones stay untouched)
            del st.query_params[key]
        st.query_params.update(values)


def url_year(param: str, years) -> int | None:
    """A year of the URL, only when written exactly as one of `years` ("2020"; not "²", "２０２０"
    or 5,000 digits, which `int` refuses or chokes on)."""
    return _year({str(y): y for y in years}, st.query_params.get(param, ""))


def _year(known: dict[str, int], text: str | None) -> int | None:
    return known.get(text or "")
