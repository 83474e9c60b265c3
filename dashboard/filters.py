"""Sidebar filters kept in the URL, so a view can be shared as a link (?city=350100&year=2023)."""
from __future__ import annotations

import streamlit as st

from . import store


def _pick(label: str, options: list, param: str, default, format_func=str):
    """A selectbox whose choice lives in the URL query parameter `param`."""
    wanted = st.query_params.get(param)
    by_text = {str(o): o for o in options}
    current = by_text.get(wanted, default if default in options else options[0])
    chosen = st.sidebar.selectbox(label, options, index=options.index(current), format_func=format_func)
    st.query_params[param] = str(chosen)
    return chosen


def select_city() -> str:
    cities = store.cities_with_data()
    if not cities:
        st.warning("数据仓库中还没有任何城市的数据。")
        st.stop()
    names = store.regions()["name"]
    return _pick("城市", cities, "city", cities[0], lambda c: names.get(c, c))


def select_year(region_code: str) -> int:
    years = store.years(region_code)
    if not years:
        st.warning("所选城市没有数据。")
        st.stop()
    return _pick("年份", sorted(years, reverse=True), "year", max(years), lambda y: f"{y}年")
