"""公开数据核对: every published figure that maps to a catalog indicator beside the warehouse
value for the same region, year and indicator — difference, status, the sentence and the
document — and the published figures the catalog does not track, listed as such."""

import pandas as pd
import streamlit as st

from dashboard import export, store, topic
from dashboard.format import fmt_change, fmt_number
from etl.published import PERIOD_LABELS, STATUSES, reconcile

# Deviations first: they are what a reader of this page is looking for.
REVIEW_ORDER = ("偏差", "一致", "口径不同", "无对应数据")

st.title("公开数据核对")
sample = topic.sample_banner()
published = store.published()
if published.empty:
    st.info("暂无公开发布数字。")
    st.stop()
indicators = store.indicators()
mapped = published[published["value"].notna()]
facts = store.facts(
    tuple(sorted(set(mapped["region_code"]) - {""})), tuple(sorted(set(mapped["indicator_id"])))
)
checked = reconcile(published, facts)
checked = checked.iloc[checked["status"].map(REVIEW_ORDER.index).argsort(kind="stable")]
if facts.empty:
    st.info("暂无数据：数据仓库中还没有与公开数字对应的数据，下表各项均为“无对应数据”或“口径不同”。")
counts = checked["status"].value_counts()
st.markdown(
    "本库数据与公开发布数字"
    + "，".join(f"{status} **{int(counts.get(status, 0))}** 项" for status in STATUSES)
    + f"；另有 {len(published) - len(mapped)} 个公开数字不在指标目录中（见页末）。"
)
if sample:
    st.warning(
        "当前库中是示例数据：下面的“一致/偏差”只说明示例数据与公开数字的差别，不代表真实统计数据的质量。"
    )
st.caption(
    "“一致”：差值在公开数字书写精度的半个单位以内（如“2.3万张”即 22,500～23,500 张）；"
    "“口径不同”：年内累计、年中时点、跨年累计、目标或单项活动的数字，不与全年数比较。"
)

left, middle, right, last = st.columns(4)
documents = left.multiselect("文件", sorted(checked["document"].unique()), placeholder="全部")
regions = middle.multiselect(
    "地区",
    sorted(checked["region_code"].unique(), key=str),
    format_func=lambda c: store.region_name(c) if c else "全国",
    placeholder="全部",
)
wanted = right.multiselect(
    "指标",
    sorted(checked["indicator_id"].unique()),
    format_func=lambda i: indicators.loc[i, "name_zh"],
    placeholder="全部",
)
statuses = last.multiselect("状态", list(STATUSES), placeholder="全部")
shown = checked
for column, chosen in (
    ("document", documents),
    ("region_code", regions),
    ("indicator_id", wanted),
    ("status", statuses),
):
    if chosen:
        shown = shown[shown[column].isin(chosen)]

decimals = shown["indicator_id"].map(indicators["decimals"]).fillna(0).astype(int)
table = pd.DataFrame(
    {
        "状态": shown["status"],
        "地区": shown["region_name"],
        "年份": shown["year"],
        "指标（原文）": shown["indicator_zh"],
        "公开数字": shown["value_written"] + shown["unit_written"],
        "口径": shown["period"].map(PERIOD_LABELS),
        "对应指标": shown["indicator_id"].map(indicators["name_zh"]),
        "换算值": [fmt_number(v, d) for v, d in zip(shown["value"], decimals)],
        "本库数值": [fmt_number(v, d) for v, d in zip(shown["warehouse"], decimals)],
        "差值": [fmt_number(v, d) for v, d in zip(shown["difference"], decimals)],
        "差异": [fmt_change(p) for p in shown["pct"]],
        "文件": shown["document"],
        "原文": shown["quote"],
        "来源地址": shown["source_address"],
    }
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "原文": st.column_config.TextColumn(width="large"),
        "来源地址": st.column_config.LinkColumn(display_text="打开"),
    },
)
export.download_buttons(table, "公开数据核对", topic.data_note(sample), key="reconcile-dl")

with st.expander(f"不在指标目录中的公开数字（{len(published) - len(mapped)} 条）"):
    rest = published[published["value"].isna()]
    st.dataframe(
        pd.DataFrame(
            {
                "地区": rest["region_name"],
                "年份": rest["year"],
                "指标（原文）": rest["indicator_zh"],
                "公开数字": rest["value_written"] + rest["unit_written"],
                "原因": rest["mapping_note"],
                "文件": rest["document"],
                "原文": rest["quote"],
            }
        ),
        hide_index=True,
        width="stretch",
    )
