"""总览: the mission measures and one card per topic for the chosen region and year (value,
同比, sparkline, rank), and a map of the region's children (provinces of the nation, cities of a
province, counties of a city) for a chosen headline indicator — which ones is `overview` in
data/catalog/views.yaml."""

from __future__ import annotations

import streamlit as st

from dashboard import export, filters, missions, store, topic, views

view = views.load_views().overview

st.title("总览")
f = filters.sidebar_filters()
filters.breadcrumb(f)
region, year = f.region, f.year_to
word, whole = filters.level_word(region), filters.whole_word(region)
sample = topic.sample_banner()
region_name = store.region_name(region)
st.caption(f"{region_name} · {year}年" + (" · 示例数据" if sample else ""))
topic.total_note(f)

meta = store.indicators()
for column, card in zip(st.columns(len(view.cards)), missions.mission_cards(f)):
    column.metric(**card)

st.markdown("**各专题要点**")
topic.kpi_cards(f, view.topic_cards)

children = store.children_values(region, year, view.card_ids)
st.caption(
    f"{year}年有数据的{word}：{children['region_code'].nunique()} / {len(f.all_children)} 个。"
    f"{whole}数值只在所有{word}都有数据时计算；比率由分子分母汇总后计算。"
)

st.subheader(f"{word}分布")
headline = topic.pick_indicator(view.map_indicators, key="map", label="地图指标")
topic.show_map(f, meta.loc[headline], key="overview-map")

with st.expander("下载本页数据"):
    export.buttons(
        topic.download_files((region,), view.card_ids, f.year_from, f.year_to),
        f"总览_{region_name}_{f.year_from}-{f.year_to}",
        key="ov-dl",
    )
st.caption(f"数据版本：{store.version()}　数据来源：各{word}报送" + ("（示例数据）" if sample else ""))
