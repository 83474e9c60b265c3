"""区县对比 (下级地区对比 where the region is not a city): one indicator across the children of the
chosen region — the counties of a city, the cities of a province, the provinces of the nation —
ranking, heatmap, scatter, map, table (default indicators: `compare` in data/catalog/views.yaml)."""

import pandas as pd
import streamlit as st

from dashboard import charts, export, filters, store, theme, topic, views
from dashboard.format import fmt_change, pct_change

f = filters.sidebar_filters()
word, whole = filters.level_word(f.region), filters.whole_word(f.region)
st.title(filters.compare_title(f.region))
filters.breadcrumb(f)
sample = topic.sample_banner()
indicators = store.indicators()
ids = tuple(indicators.index)
defaults = views.load_views().compare
ind = topic.pick_indicator(ids, default=defaults.indicator)
meta = indicators.loc[ind]
target = store.target_of(ind, f.year_to)
data = topic.view_facts(f, ind)
st.caption(
    f"{store.region_name(f.region)} · {f.year_to}年 · {meta['name_zh']}（{charts.unit_of(meta)}）"
    + (" · 示例数据" if sample else "")
)
topic.total_note(f)
if data.empty:
    st.info(f"暂无数据：所选{word}和年份没有“{meta['name_zh']}”的数据。")
    st.stop()

# Only the open tab runs; its name is in the URL (`cview`), so a shared link opens it.
rank_tab, heat_tab, scatter_tab, map_tab, table_tab = st.tabs(
    ["排名", "热力图", "散点图", "地图", "排名表"], key="cview", bind="query-params", on_change="rerun"
)
if rank_tab.open:
    with rank_tab:
        topic.indicator_panel(meta, sample)
        ranking = topic.ranking_figure(f, ind)
        if ranking is None:
            st.info(f"暂无数据：{f.year_to}年没有{word}数据。")
        else:
            topic.plot(ranking, "cmp-ranking", filters.level_of(f.region) != "city")
            title = f"{f.year_to}年各{word}{meta['name_zh']}"
            topic.chart_downloads(ranking, f, meta, title, f"{f.year_to}年", sample, key="cmp-rank-img")
            export.buttons(
                topic.download_files((f.region, *f.children), (ind,), f.year_to, f.year_to),
                f"{word}排名_{meta['name_zh']}_{f.year_to}",
                key="cmp-rank-dl",
            )
if heat_tab.open:
    with heat_tab:
        heat = charts.heatmap(data[data["region_code"] != f.region], meta, word)
        st.plotly_chart(heat, config=theme.plotly_config(), key="cmp-heat")
        years = f"{f.year_from}—{f.year_to}年"
        topic.chart_downloads(heat, f, meta, f"各{word}{meta['name_zh']}", years, sample, key="cmp-heat-img")
if scatter_tab.open:
    with scatter_tab:
        left, right = st.columns(2)
        with left:
            x_id = topic.pick_indicator(ids, key="x", default=defaults.scatter_x, label="横轴指标")
        with right:
            y_id = topic.pick_indicator(ids, key="y", default=defaults.scatter_y, label="纵轴指标")
        both = store.facts(f.children, tuple({x_id, y_id, "population"}), f.year_to, f.year_to)
        wide = both.pivot_table(
            index=["region_code", "region_name"], columns="indicator_id", values="value", aggfunc="first"
        ).reset_index()
        points = pd.DataFrame(
            {
                "region_name": wide["region_name"],
                "x": wide.get(x_id),
                "y": wide.get(y_id),
                "population": wide.get("population"),
            }
        )
        if points.dropna(subset=["x", "y"]).empty:
            st.info(f"暂无数据：所选两个指标在该年份没有共同的{word}数据。")
        else:
            scatter = charts.scatter(points, indicators.loc[x_id], indicators.loc[y_id], f.year_to)
            st.plotly_chart(scatter, config=theme.plotly_config(), key="cmp-scatter")
            x_meta, y_meta = indicators.loc[x_id], indicators.loc[y_id]
            export.chart_buttons(
                scatter,
                export.ChartContext(
                    f"{x_meta['name_zh']}与{y_meta['name_zh']}",
                    store.region_name(f.region),
                    f"{f.year_to}年",
                    f"横轴{charts.unit_of(x_meta)}，纵轴{charts.unit_of(y_meta)}",
                    store.version(),
                    sample,
                ),
                f"散点图_{x_meta['name_zh']}_{y_meta['name_zh']}_{f.year_to}",
                key="cmp-scatter-img",
            )
if map_tab.open:
    with map_tab:
        topic.show_map(f, meta, key="cmp-map")
if table_tab.open:
    with table_tab:
        counties = data[data["region_code"] != f.region]
        now = counties[counties["year"] == f.year_to]
        before = counties[counties["year"] == f.year_to - 1].set_index("region_code")["value"]
        table = now.set_index("region_code")[["region_name", "value"]].assign(previous=before)
        table["rank"] = topic.ranks(table["value"], meta)
        table["previous_rank"] = topic.ranks(table["previous"], meta)
        table = table.sort_values("rank")
        shown = pd.DataFrame(
            {
                "排名": table["rank"].astype("Int64"),
                word: table["region_name"],
                f"{f.year_to}年（{charts.unit_of(meta)}）": table["value"].round(int(meta["decimals"])),
                "同比": [fmt_change(pct_change(v, p)) for v, p in zip(table["value"], table["previous"])],
                "名次变化": [
                    (
                        "—"
                        if pd.isna(p)
                        else (
                            "持平" if p == r else (f"上升{int(p - r)}位" if p > r else f"下降{int(r - p)}位")
                        )
                    )
                    for r, p in zip(table["rank"], table["previous_rank"])
                ],
            }
        )
        if target is not None:
            shown["是否达标"] = [topic.attainment(target, v) for v in table["value"]]
        st.dataframe(shown, hide_index=True)
        export.download_buttons(
            shown, f"{word}对比_{meta['name_zh']}_{f.year_to}", topic.data_note(sample), key="cmp-dl"
        )
