"""数据查询: pick indicators, regions (any level) and years; see and download exactly that.

Choices are made with widgets only — no user-written SQL. Indicators can be searched by name
or by any Chinese alias the catalog knows (that text is part of each option's label; the
English aliases, which only files use, stay out of a Chinese screen).
"""

import streamlit as st

from dashboard import export, filters, store, topic, views
from etl.text import has_cjk

st.title("数据查询")
sample = topic.sample_banner()
indicators = store.indicators()
regions = store.regions_with_data()
levels = {"province": "省", "city": "市", "county": "区县"}
names = regions.set_index("code")["name"]
years = store.fact_years()
if not years:
    st.info("暂无数据：数据仓库为空。")
    st.stop()


def indicator_label(i: str) -> str:
    aliases = [a for a in indicators.loc[i, "aliases"].split("；") if has_cjk(a)]
    return (
        f"{indicators.loc[i, 'name_zh']}（{indicators.loc[i, 'display_unit'] or indicators.loc[i, 'unit']}）"
        + (f" · {' '.join(aliases)}" if aliases else "")
    )


level_of = regions.set_index("code")["level"]
wanted_ind = [i for i in st.query_params.get_all("q_ind") if i in indicators.index]
wanted_reg = [c for c in st.query_params.get_all("q_reg") if c in names.index]
default_ind = [i for i in views.load_views().query.indicators if i in indicators.index]  # views.yaml
chosen_ind = st.multiselect(
    "指标（可按名称或别名搜索）",
    list(indicators.index),
    default=wanted_ind or default_ind,
    format_func=indicator_label,
    key="q_ind",
)
chosen_reg = st.multiselect(
    "地区（省、市、区县均可）",
    list(regions["code"]),
    default=wanted_reg or [c for c in store.cities_with_data()[:1]],
    format_func=lambda c: f"{names[c]}（{levels.get(level_of[c], '')}，{c}）",
    key="q_reg",
)
span = st.select_slider(
    "年份范围", options=years, value=(years[0], years[-1]), format_func=lambda y: f"{y}年", key="q_years"
)
filters.keep_in_url({"q_ind": chosen_ind, "q_reg": chosen_reg})

data = store.facts(tuple(chosen_reg), tuple(chosen_ind), *span)
if data.empty:
    st.info("暂无数据：请选择至少一个指标和一个地区，或扩大年份范围。")
    st.stop()
table = export.tidy(data, indicators)
tidy_tab, pivot_tab = st.tabs(["明细表", "透视表（地区 × 年份）"])
with tidy_tab:
    st.dataframe(table, hide_index=True)
    export.download_buttons(table, "数据查询_明细", topic.data_note(sample), key="q-tidy")
with pivot_tab:
    pivot = table.pivot_table(
        index=["指标", "单位", "地区", "区划代码"], columns="年份", values="数值", aggfunc="first"
    ).reset_index()
    pivot.columns = [f"{c}年" if isinstance(c, (int,)) or str(c).isdigit() else c for c in pivot.columns]
    st.dataframe(pivot, hide_index=True)
    export.download_buttons(pivot, "数据查询_透视", topic.data_note(sample), key="q-pivot")
st.caption(f"共 {len(table)} 条数据。" + topic.data_note(sample))
