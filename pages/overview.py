"""总览: the four mission measures and one card per topic for the chosen city and year (value,
同比, sparkline, rank), and a county map of a chosen headline indicator."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import charts, export, filters, store, topic
from dashboard.format import fmt_change, fmt_value, pct_change


@dataclass(frozen=True)
class Kpi:
    label: str
    parts: tuple[str, ...]   # indicator ids; a card over several ids shows their sum


# One more card per topic beside the four mission measures.
TOPIC_CARDS = ("dibao_coverage_rate", "nursing_bed_share", "charity_organizations", "social_work_stations")
HEADLINES = ("beds_per_1000_elderly", "social_workers_per_10k", "dibao_coverage_rate", "charity_funds_raised",
             "nursing_bed_share", "dibao_funds_per_recipient")
KPIS = (
    Kpi("低保人数（城乡合计）", ("dibao_urban_persons", "dibao_rural_persons")),
    Kpi("每千名老年人养老床位数", ("beds_per_1000_elderly",)),
    Kpi("慈善募集资金", ("charity_funds_raised",)),
    Kpi("每万人持证社工数", ("social_workers_per_10k",)),
)
KPI_IDS = tuple(dict.fromkeys(p for k in KPIS for p in k.parts))


def kpi_series(table: pd.DataFrame, kpi: Kpi) -> pd.Series:
    """Value per year; a year counts only when every part has a value (no partial sums)."""
    if not set(kpi.parts) <= set(table.columns):
        return pd.Series(dtype="float64")
    return table[list(kpi.parts)].dropna().sum(axis=1)


def describe(kpi: Kpi, meta: pd.DataFrame) -> tuple[str, int, str, str]:
    """(card unit, decimals, delta colour, help text) from the catalog."""
    first = meta.loc[kpi.parts[0]]
    better = first["higher_is_better"]
    colour = "off" if len(kpi.parts) > 1 or pd.isna(better) else ("normal" if better else "inverse")
    text = "；".join(f"{meta.loc[p, 'name_zh']}：{meta.loc[p, 'definition']}" for p in kpi.parts)
    return charts.card_unit(first), int(first["decimals"]), colour, text


@st.cache_resource(max_entries=256, show_spinner=False)
def mission_cards(db: str, f: filters.Filters) -> list[dict]:
    """The four mission cards for these filters, per version (`db`): computed once per process
    and shared by every session that opens the same view (read-only)."""
    meta = store.indicators()
    table = store.series(f.city, KPI_IDS).pivot_table(index="year", columns="indicator_id", values="value",
                                                  aggfunc="first")
    cards = []
    for kpi in KPIS:
        unit, decimals, colour, help_text = describe(kpi, meta)
        values = kpi_series(table, kpi)
        current, previous = values.get(f.year_to), values.get(f.year_to - 1)
        change = pct_change(current, previous)
        cards.append(dict(
            label=kpi.label, value=fmt_value(current, unit, decimals),
            delta=fmt_change(change) if change is not None else None, delta_color=colour,
            delta_description="同比", border=True,
            help=help_text if current is not None else f"{f.year_to}年无数据。{help_text}",
            chart_data=values.loc[f.year_from:f.year_to].tolist() or None, chart_type="line"))
    return cards


st.title("总览")
f = filters.sidebar_filters()
city, year = f.city, f.year_to
sample = topic.sample_banner()
city_name = store.region_name(city)
st.caption(f"{city_name} · {year}年" + (" · 示例数据" if sample else ""))

meta = store.indicators()
for column, card in zip(st.columns(len(KPIS)), mission_cards(store.current_db(), f)):
    column.metric(**card)

st.markdown("**各专题要点**")
topic.kpi_cards(f, TOPIC_CARDS)

counties = store.children_values(city, year, KPI_IDS)
st.caption(f"{year}年有数据的区县：{counties['region_code'].nunique()} / {len(f.all_counties)} 个。"
           "全市数值只在所有区县都有数据时计算；比率由分子分母汇总后计算。")

st.subheader("区县分布")
headline = topic.pick_indicator(HEADLINES, meta, key="map", label="地图指标")
topic.show_map(city, store.facts(f.counties, (headline,), year, year), meta.loc[headline], year, key="overview-map")

with st.expander("下载本页数据"):
    export.download_buttons(topic.download_table(store.current_db(), (city,), KPI_IDS, f.year_from, f.year_to),
                            f"总览_{city_name}_{f.year_from}-{f.year_to}", topic.data_note(sample), key="ov-dl")
st.caption(f"数据版本：{store.version()}　数据来源：各区县报送" + ("（示例数据）" if sample else ""))
