"""The topic pages (社会救助, 养老服务, 慈善事业, 社会工作): one layout, configured as data by the
`topics` of data/catalog/views.yaml (dashboard/views.py: title, indicators in picker order, cards).

Each page: KPI cards for its headline indicators, an indicator picker (in the URL as `ind`),
then tabs 图表 (trend with county lines and the bold city line, ranking with target),
地图 and 表格, a 相对起始年 toggle, the 指标说明 panel and downloads of exactly what is shown.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from etl.catalog import Target
from etl.published import COMPARABLE_PERIODS

from . import charts, export, filters, geo, narrative, store, theme, views
from .format import fmt_change, fmt_value, pct_change
from .views import Topic


def topics() -> Mapping[str, Topic]:
    """Topic id → Topic, in page order, from data/catalog/views.yaml (loaded once, read-only)."""
    return views.load_views().topics


def attainment(target: Target, value: object) -> str:
    """是否达标 of one value: 达标, 未达标, or — without a value (the tables of the topic pages
    and 区县对比)."""
    met = target.meets(value)
    return "—" if met is None else ("达标" if met else "未达标")


def sample_banner() -> bool:
    sample = store.is_sample()
    if sample:
        st.warning(
            "示例数据：当前展示的是系统生成的示例数据，不是真实统计数据。导入真实报表后自动替换。", icon="⚠️"
        )
    return sample


def data_note(sample: bool) -> str:
    return (
        "示例数据：系统生成，非真实统计数据。" if sample else ""
    ) + f"数据版本 {store.version()}；城市及以上数值只在所有区县都有数据时汇总，比率由分子分母汇总后计算。"


def delta_colour(meta: pd.Series) -> str:
    better = meta["higher_is_better"]
    return "off" if pd.isna(better) else ("normal" if better else "inverse")


def kpi_cards(f: filters.Filters, ids: tuple[str, ...]) -> None:
    """Latest selected year: value, 同比, sparkline and rank — for the city, for the one county
    when a single county is selected (then ranked among all counties of the city), or for the
    selected counties together (所选N个区县, with the whole city's value beside it)."""
    for column, (metric, caption) in zip(st.columns(len(ids)), card_models(f, ids)):
        with column:
            st.metric(**metric)
            st.caption(caption)


def is_selection(city: str, counties: tuple[str, ...]) -> bool:
    """Several but not all of the city's counties: their total is shown (所选N个区县)."""
    return len(counties) > 1 and set(counties) != set(store.counties_of(city))


def selection_label(counties: tuple[str, ...]) -> str:
    """ "所选2个区县": how a total over some of the counties is named."""
    return f"所选{len(counties)}个区县"


def selection_series(
    city: str, counties: tuple[str, ...], years: tuple[int, int], indicator: str
) -> pd.Series:
    """Year → the selected counties' total (`store.selection_facts`: the warehouse's own rules)."""
    totals = store.selection_facts(city, counties, *years)
    return totals[totals["indicator_id"] == indicator].set_index("year")["value"]


@store.per_version(maxsize=256)
def card_models(f: filters.Filters, ids: tuple[str, ...]) -> tuple[tuple[Mapping[str, object], str], ...]:
    """What each card shows (st.metric's arguments, its caption), per version and filters: the
    same for every session that opens the view, so it is computed once per process and shared —
    the cache keeps the arguments as read-only mappings and the sparkline as a tuple."""
    indicators = store.indicators()
    single = len(f.counties) == 1
    several = is_selection(f.city, f.counties)
    data = store.facts((f.city, *f.all_counties), ids, f.year_from, f.year_to)
    by_indicator = dict(tuple(data.groupby("indicator_id", sort=False)))
    cards = []
    for ind in ids:
        meta = indicators.loc[ind]
        unit, decimals = charts.card_unit(meta), int(meta["decimals"])
        rows = by_indicator.get(ind, data.iloc[:0])
        subject = f.counties[0] if single else f.city
        if several:
            series = selection_series(f.city, f.counties, f.years, ind)
        else:
            series = rows[rows["region_code"] == subject].set_index("year")["value"]
        now, before = series.get(f.year_to), series.get(f.year_to - 1)
        change = pct_change(now, before)
        latest = rows[rows["year"] == f.year_to]
        counties = latest[latest["region_code"].isin(f.counties if several else f.all_counties)]
        whole = latest.loc[latest["region_code"] == f.city, "value"]
        city_text = f"全市 {fmt_value(whole.iloc[0], unit, decimals)}" if several and len(whole) else ""
        cards.append(
            (
                dict(
                    label=meta["name_zh"] + (f"（{store.region_name(subject)}）" if single else ""),
                    value=fmt_value(now, unit, decimals),
                    delta=fmt_change(change) if change is not None else None,
                    delta_color=delta_colour(meta),
                    delta_description="同比",
                    border=True,
                    help=meta["definition"],
                    chart_data=series.tolist() or None,
                    chart_type="line",
                ),
                "；".join(
                    filter(
                        None,
                        [
                            f"**{selection_label(f.counties)}**" if several else "",
                            target_text(ind, f.year_to, now, unit),
                            city_text,
                            rank_text(counties, subject, meta, unit, "所选区县" if several else "区县"),
                        ],
                    )
                ),
            )
        )
    return tuple(cards)


def target_text(indicator: str, year: int, value: float | None, unit: str) -> str:
    """ "目标 ≥35张（2020年）：达标" under a card whose indicator has a plan target for `year`,
    first, so it reads as the card's own value's verdict; "" without a target or a value."""
    target = store.target_of(indicator, year)
    if target is None or target.meets(value) is None:
        return ""
    return f"{target.label(unit)}：{attainment(target, value)}"


def ranks(values: pd.Series, meta: pd.Series) -> pd.Series:
    """Rank 1 for the best value (the lowest where lower is better); tied values share the best
    rank of their group ("并列第2"), the next rank skips. The one ranking rule of every page."""
    return values.rank(ascending=charts.lower_is_better(meta), method="min")


def rank_text(counties: pd.DataFrame, subject: str, meta: pd.Series, unit: str, among: str = "区县") -> str:
    """ "在12个区县中排第3" (or "并列第3") for a county; the best of `counties` for a city or a
    selection ("所选区县最高：…"; best = by higher_is_better)."""
    if counties.empty:
        return "暂无区县数据"
    ranked = counties.assign(rank=ranks(counties["value"], meta)).sort_values(
        "rank", kind="stable", ignore_index=True
    )
    if subject in set(ranked["region_code"]):
        position = ranked.loc[ranked["region_code"] == subject, "rank"].iloc[0]
        tied = (ranked["rank"] == position).sum() > 1
        return f"在{len(ranked)}个区县中{'并列' if tied else '排'}第{int(position)}"
    best = ranked.iloc[0]
    word = "最低" if charts.lower_is_better(meta) else "最高"
    return f"{among}{word}：{best['region_name']} {fmt_value(best['value'], unit, int(meta['decimals']))}"


def show_map(f: filters.Filters, meta: pd.Series, key: str) -> None:
    """County map of the selected counties in the last selected year, with the boundary
    credit, or a note when it cannot be drawn."""
    if geo.city_geojson(f.city) is None:
        st.info("暂无该城市的区县边界数据，无法绘制地图。")
        return
    figure = map_figure(f.city, f.counties, meta.name, f.year_to)
    if figure is None:
        st.info(f"暂无数据：{f.year_to}年没有“{meta['name_zh']}”的区县数据。")
        return
    st.plotly_chart(figure, config=theme.plotly_config(), key=key)
    st.caption(geo.CREDIT)
    title = f"{f.year_to}年各区县{meta['name_zh']}"
    chart_downloads(figure, f, meta, title, f"{f.year_to}年", store.is_sample(), key=f"{key}-img")


@store.per_version(maxsize=128)
def map_figure(city: str, counties: tuple[str, ...], indicator: str, year: int) -> go.Figure | None:
    """The county map of one indicator and year, built once per version and shared (as JSON
    text; each call gets its own figure): a map is the costliest figure of a page (plotly copies
    the polygons). None without values."""
    values = store.facts(counties, (indicator,), year, year)
    if values.empty:
        return None
    return charts.county_map(
        values[["region_code", "region_name", "value"]],
        store.indicators().loc[indicator],
        geo.city_geojson(city),
        year,
    )


def indicator_panel(meta: pd.Series, sample: bool) -> None:
    """指标说明 next to a chart: 口径, unit, formula, source, and the sample-data note."""
    lines = [
        f"**{meta['name_zh']}**（{charts.unit_of(meta)}）",
        f"口径：{meta['definition']}",
        f"计算：{meta['formula']}",
        f"来源：{meta['source']}",
    ]
    if sample:
        lines.append("注意：当前为**示例数据**，数值为系统生成。")
    with st.popover("指标说明", icon=":material/info:"):
        st.markdown("\n\n".join(lines))  # one element, a paragraph per line


def pick_indicator(
    ids: tuple[str, ...], key: str = "ind", default: str | None = None, label: str = "指标"
) -> str:
    """Indicator choice in the URL (`?ind=elderly_beds`); unknown ids fall back to the default."""
    wanted = st.query_params.get(key)
    default = wanted if wanted in ids else (default if default in ids else ids[0])
    if f"pick_{key}" not in st.session_state or st.session_state[f"pick_{key}"] not in ids:
        st.session_state[f"pick_{key}"] = default
    names = store.indicator_names()
    chosen = st.selectbox(label, ids, key=f"pick_{key}", format_func=lambda i: names.get(i, i))
    filters.keep_in_url({key: chosen})
    return chosen


def render(topic_id: str) -> None:
    topic = topics()[topic_id]
    st.title(topic.title)
    f = filters.sidebar_filters()
    sample = sample_banner()
    st.caption(
        f"{store.region_name(f.city)} · {f.year_from}—{f.year_to}年"
        + (f" · 已选{len(f.counties)}/{len(f.all_counties)}个区县" if f.partial else "")
        + (" · 示例数据" if sample else "")
    )
    indicators = store.indicators()
    kpi_cards(f, topic.card_ids)

    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        ind = pick_indicator(topic.indicators)
    with right:
        relative = st.toggle("相对起始年", key=f"rel_{topic_id}", help="显示相对所选起始年份的变化（%）")
    meta = indicators.loc[ind]
    data = view_facts(f, ind)
    if data.empty:
        st.info(f"暂无数据：{store.region_name(f.city)}在所选年份没有“{meta['name_zh']}”的数据。")
        return
    render_indicator(f, meta, data, sample, relative)


def view_facts(f: filters.Filters, indicator: str) -> pd.DataFrame:
    """The facts of one indicator a view shows: the city and the selected counties over the
    selected years. Every part of the view (cards aside) is drawn from this one answer."""
    return store.facts((f.city, *f.counties), (indicator,), f.year_from, f.year_to)


def render_indicator(
    f: filters.Filters, meta: pd.Series, data: pd.DataFrame, sample: bool, relative: bool
) -> None:
    missing = missing_counties(f, meta.name)
    if missing:
        st.caption(
            f"{f.year_to}年缺少数据的区县：{'、'.join(missing)}（全市合计仅在所有区县都有数据时计算）。"
        )
    # Only the open tab runs (its name is in the URL as `view`): a map or a workbook nobody
    # looks at costs nothing.
    chart_tab, map_tab, table_tab = st.tabs(
        ["图表", "地图", "表格"], key="view", bind="query-params", on_change="rerun"
    )
    if chart_tab.open:
        with chart_tab:
            chart_view(f, meta, sample, relative)
    if map_tab.open:
        with map_tab:
            show_map(f, meta, key="map")
    if table_tab.open:
        with table_tab:
            table_view(f, meta, data, store.target_of(meta.name, f.year_to))


@store.per_version(maxsize=256)
def missing_counties(f: filters.Filters, indicator: str) -> tuple[str, ...]:
    """Names of the selected counties without a value in the last selected year."""
    data = view_facts(f, indicator)
    have = set(data.loc[data["year"] == f.year_to, "region_code"])
    return tuple(store.region_name(c) for c in sorted(set(f.counties) - have))


def comparable_published(
    regions: tuple[str, ...], indicator: str, year_from: int, year_to: int
) -> pd.DataFrame:
    """Published year totals and year-end stocks of these regions, indicator and years (a
    year-to-date or one-off figure would be a false point on a yearly line)."""
    rows = store.published(indicator)
    return rows[
        rows["region_code"].isin(regions)
        & rows["period"].isin(COMPARABLE_PERIODS)
        & rows["value"].notna()
        & rows["year"].between(year_from, year_to)
    ]


def published_marks(f: filters.Filters, meta: pd.Series) -> pd.DataFrame:
    rows = comparable_published((f.city, *f.counties), meta.name, f.year_from, f.year_to)
    return rows.assign(region_name=rows["region_code"].map(store.region_name))


def national_reference(f: filters.Filters, meta: pd.Series) -> pd.DataFrame | None:
    """The published national series of a ratio (每千名老年人养老床位 …) over the shown years, as
    a reference line; totals are on another scale than a city's and are not drawn."""
    if meta["agg"] != "ratio":
        return None
    return comparable_published(("",), meta.name, f.year_from, f.year_to).drop_duplicates("year")


def chart_view(f: filters.Filters, meta: pd.Series, sample: bool, relative: bool) -> None:
    """Trend (county lines + bold city line) and the latest year's ranking, with the 指标说明 panel."""
    trend, ranking, words = chart_parts(f, meta.name, relative)
    head, panel = st.columns([5, 1], vertical_alignment="center")
    head.markdown(f"**{meta['name_zh']}**（{charts.unit_of(meta)}）")
    with panel:
        indicator_panel(meta, sample)
    years = f"{f.year_from}—{f.year_to}年"
    st.plotly_chart(trend, config=theme.plotly_config(), key="trend")
    chart_downloads(trend, f, meta, f"{meta['name_zh']}走势", years, sample, key="img-trend")
    if ranking is not None:
        st.plotly_chart(ranking, config=theme.plotly_config(), key="ranking")
        chart_downloads(
            ranking,
            f,
            meta,
            f"{f.year_to}年各区县{meta['name_zh']}",
            f"{f.year_to}年",
            sample,
            key="img-rank",
        )
    # The narrative once, as text; the copy button of a code block only inside a closed expander
    # (shown open beside the text, it read as the same paragraph twice).
    st.markdown("**文字解读**")
    st.markdown(words)
    with st.expander("复制文字解读", expanded=False, icon=":material/content_copy:"):
        st.code(words, language=None, wrap_lines=True)
    download_view(f, meta, key="dl-chart")


def chart_context(
    f: filters.Filters, meta: pd.Series, title: str, years: str, sample: bool
) -> export.ChartContext:
    """What a downloaded chart of this view says about itself (export.chart_image)."""
    region = store.region_name(f.city) + (f"（已选{len(f.counties)}个区县）" if f.partial else "")
    return export.ChartContext(title, region, years, charts.unit_of(meta), store.version(), sample)


def chart_downloads(
    figure: go.Figure, f: filters.Filters, meta: pd.Series, title: str, years: str, sample: bool, key: str
) -> None:
    """下载图片 buttons under a chart: the picture with title, region, years, unit, source and the
    示例数据 mark, made only when clicked."""
    export.chart_buttons(
        figure,
        chart_context(f, meta, title, years, sample),
        f"{title}_{store.region_name(f.city)}_{years}",
        key=key,
    )


@store.per_version(maxsize=256)
def chart_parts(
    f: filters.Filters, indicator: str, relative: bool
) -> tuple[go.Figure, go.Figure | None, str]:
    """The trend and ranking figures and the 文字解读 of one indicator, per version and filters:
    built once per process and shared by every session showing the view (building plotly
    figures was most of a rerun). The cache keeps the figures as JSON text; each call hands out
    figures of its own (`store.per_version`)."""
    meta = store.indicators().loc[indicator]
    target = store.target_of(indicator, f.year_to)
    data = view_facts(f, indicator)
    trend = charts.trend(
        data, meta, f.city, relative, target, published_marks(f, meta), national_reference(f, meta)
    )
    words = narrative.text(story_for(f.city, f.counties, f.year_to, meta, data, target, store.is_sample()))
    return trend, ranking_figure(f, indicator), words


@store.per_version(maxsize=256)
def ranking_figure(f: filters.Filters, indicator: str) -> go.Figure | None:
    """The selected counties ranked in the last selected year, with the city and the target
    (None when no county has a value), per version and filters; each call gets its own figure."""
    return charts.county_ranking(
        view_facts(f, indicator),
        store.indicators().loc[indicator],
        f.year_to,
        f.city,
        store.target_of(indicator, f.year_to),
    )


def story_for(
    city: str,
    counties: tuple[str, ...],
    year: int,
    meta: pd.Series,
    data: pd.DataFrame,
    target: Target | None,
    sample: bool,
) -> narrative.Story:
    """The facts a narrative may use, from the rows on screen: the city (or the one selected
    county, or the selected counties together: 宝鸡市所选2个区县), the counties of the latest
    year, and which selected counties have no value."""
    subject = counties[0] if len(counties) == 1 else city
    year_rows = data[(data["year"] == year) & (data["region_code"] != city)]
    have = set(year_rows["region_code"])
    better = meta["higher_is_better"]
    place = store.region_name(subject)
    series = data[data["region_code"] == subject].set_index("year")["value"]
    published = comparable_published((subject,), meta.name, min(data["year"]), year)
    if is_selection(city, counties):
        series = selection_series(city, counties, (int(min(data["year"])), year), meta.name)
        place = store.region_name(city) + selection_label(counties)
        published = published.iloc[:0]  # no bureau publishes a total over a selection
    return narrative.Story(
        name=meta["name_zh"],
        unit=charts.card_unit(meta),
        decimals=int(meta["decimals"]),
        higher_is_better=None if pd.isna(better) else bool(better),
        place=place,
        year=year,
        series=series.to_dict(),
        counties=list(zip(year_rows["region_name"], year_rows["value"])),
        missing=[store.region_name(c) for c in counties if c not in have],
        target=target,
        sample=sample,
        published=[
            (int(r.year), r.value, f"{r.value_written}{r.unit_written}", r.document, r.tolerance)
            for r in published.itertuples()
        ],
    )


def download_view(f: filters.Filters, meta: pd.Series, key: str) -> None:
    """The data behind this view, as the user filtered it (xlsx and CSV)."""
    export.buttons(
        download_files((f.city, *f.counties), (meta.name,), f.year_from, f.year_to),
        f"{meta['name_zh']}_{store.region_name(f.city)}_{f.year_from}-{f.year_to}",
        key=key,
    )


@store.per_version(maxsize=256)
def download_files(
    regions: tuple[str, ...], indicators: tuple[str, ...], year_from: int, year_to: int
) -> export.Files:
    """The xlsx and CSV of these facts, per version, shared by every session: built once, not
    digested and looked up on every rerun."""
    return export.files(
        export.tidy(store.facts(regions, indicators, year_from, year_to), store.indicators()),
        data_note(store.is_sample()),
    )


def table_view(f: filters.Filters, meta: pd.Series, data: pd.DataFrame, target: Target | None) -> None:
    """Regions × years, target attainment where the catalog has a target, and the downloads."""
    table = data.pivot_table(
        index=["region_code", "region_name"], columns="year", values="value", aggfunc="first", sort=False
    )
    table.columns = [f"{y}年" for y in table.columns]
    latest = f"{f.year_to}年"
    if target is not None and latest in table.columns:
        table["是否达标"] = table[latest].map(lambda v: attainment(target, v))
    shown = table.reset_index().rename(columns={"region_code": "区划代码", "region_name": "地区"})
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format=f"%.{int(meta['decimals'])}f")
            for c in table.columns
            if c.endswith("年")
        },
    )
    download_view(f, meta, key="dl")
