"""指标说明: the searchable catalog — 口径, unit, formula, aggregation, source, targets, coverage."""

import streamlit as st

from dashboard import export, store, topic
from dashboard.format import escape_markdown

AGG = {
    "sum": "各区县求和",
    "ratio": "比率：分子、分母分别汇总后相除（不是区县比率的平均）",
    "weighted_mean": "加权平均",
}

st.title("指标说明")
topic.sample_banner()
indicators = store.indicators()
categories = store.category_names()
targets = store.targets()
coverage = store.coverage()
search = st.text_input("搜索指标（名称、别名或口径）", key="cat_q", placeholder="例如：低保、床位、社工")
text = search.strip()
hits = indicators[
    indicators.apply(
        lambda r: not text or any(text in str(r[c]) for c in ("name_zh", "name_en", "aliases", "definition")),
        axis=1,
    )
]
st.caption(f"共 {len(hits)} 项指标" + (f"（搜索“{escape_markdown(text)}”）" if text else ""))
listing = hits.reset_index()[
    [
        "id",
        "name_zh",
        "name_en",
        "category",
        "unit",
        "display_unit",
        "agg",
        "formula",
        "definition",
        "source",
        "aliases",
    ]
].rename(
    columns={
        "id": "指标代码",
        "name_zh": "指标",
        "name_en": "英文名",
        "category": "分类",
        "unit": "单位",
        "display_unit": "显示单位",
        "agg": "汇总方式",
        "formula": "计算",
        "definition": "口径",
        "source": "来源",
        "aliases": "表头别名",
    }
)
export.download_buttons(
    listing, "指标说明", "民政数据看板指标目录（data/catalog/indicators.yaml）", key="cat-dl"
)
for category, group in hits.groupby("category", sort=False):
    st.subheader(categories.get(category, category))
    for ind, row in group.iterrows():
        unit = row["display_unit"] or row["unit"]
        with st.expander(f"{row['name_zh']}（{unit}）", expanded=bool(text) and len(hits) <= 3):
            st.markdown(f"**口径**：{row['definition']}")
            st.markdown(f"**单位**：{unit}　**小数位**：{row['decimals']}　**代码**：`{ind}`")
            st.markdown(
                f"**计算方法**：{AGG.get(row['agg'], row['agg'])}"
                + (f"；{row['formula']}" if row["agg"] != "sum" else "")
            )
            st.markdown(f"**数据来源**：{row['source']}")
            mine = targets[targets["indicator_id"] == ind]
            for t in mine.itertuples():
                st.markdown(f"**目标**：{t.op} {t.value:g}{unit}（{t.scope}，{t.year}年；{t.source}）")
            if row["aliases"]:
                # literal header texts a file may carry (English ones too), written as they must be
                headers = " ".join(f"`{alias}`" for alias in row["aliases"].split("；"))
                st.markdown(f"**可识别的表头**：{headers}")
            if ind in coverage.index:
                c = coverage.loc[ind]
                st.markdown(
                    f"**已有数据**：{int(c['regions'])} 个地区，"
                    f"{int(c['first_year'])}—{int(c['last_year'])}年"
                )
            else:
                st.markdown("**已有数据**：暂无数据")
