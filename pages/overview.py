"""总览: the mission measures and one card per topic for the chosen city and year (value,
同比, sparkline, rank), and a county map of a chosen headline indicator — which ones is
`overview` in data/catalog/views.yaml."""

from __future__ import annotations

import streamlit as st

from dashboard import export, filters, missions, store, topic, views

view = views.load_views().overview

st.title("总览")
f = filters.sidebar_filters()
city, year = f.city, f.year_to
sample = topic.sample_banner()
city_name = store.region_name(city)
st.caption(f"{city_name} · {year}年" + (" · 示例数据" if sample else ""))

meta = store.indicators()
for column, card in zip(st.columns(len(view.cards)), missions.mission_cards(f)):
    column.metric(**card)

st.markdown("**各专题要点**")
topic.kpi_cards(f, view.topic_cards)

counties = store.children_values(city, year, view.card_ids)
st.caption(
    f"{year}年有数据的区县：{counties['region_code'].nunique()} / {len(f.all_counties)} 个。"
    "全市数值只在所有区县都有数据时计算；比率由分子分母汇总后计算。"
)

st.subheader("区县分布")
headline = topic.pick_indicator(view.map_indicators, key="map", label="地图指标")
topic.show_map(f, meta.loc[headline], key="overview-map")

with st.expander("下载本页数据"):
    export.buttons(
        topic.download_files((city,), view.card_ids, f.year_from, f.year_to),
        f"总览_{city_name}_{f.year_from}-{f.year_to}",
        key="ov-dl",
    )
st.caption(f"数据版本：{store.version()}　数据来源：各区县报送" + ("（示例数据）" if sample else ""))
