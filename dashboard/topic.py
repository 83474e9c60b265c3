"""The topic pages (社会救助, 养老服务, 慈善事业, 社会工作): one layout, configured as data by the
`topics` of data/catalog/views.yaml (dashboard/views.py: title, indicators in picker order, cards).

Each page: KPI cards for its headline indicators, an indicator picker (in the URL as `ind`),
then tabs 图表 (trend with a line per child and the bold line of the region's own total, ranking
with target), 地图 and 表格, a 相对起始年 toggle, the 指标说明 panel and downloads of exactly what
is shown — at any level: the region picked (全国, a province, a city) against its children
(provinces, cities, counties; `filters.level_word`), with the breadcrumb above and a click on the
map or a ranking bar going one level down.
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
    ) + f"数据版本 {store.version()}；上级地区数值只在所有下级地区都有数据时汇总，比率由分子分母汇总后计算。"


def total_note(f: filters.Filters) -> None:
    """Says plainly when the region has no total of its own in the shown years (全国合计 where not
    every province has data, a province where not every city is complete): the children with
    data are still shown."""
    if not store.facts((f.region,), tuple(store.indicators().index), f.year_from, f.year_to).empty:
        return  # the region has figures of its own in these years
    word, whole = filters.level_word(f.region), filters.whole_word(f.region)
    have = store.children_values(f.region, f.year_to, tuple(store.indicators().index))[
        "region_code"
    ].nunique()
    st.info(
        f"{whole}合计暂不可用：{store.region_name(f.region)}的合计只在所有{word}都有数据时计算，"
        f"{f.year_to}年有数据的{word}为{have}/{len(f.all_children)}个。下面显示有数据的{word}。",
        icon="ℹ️",
    )


def delta_colour(meta: pd.Series) -> str:
    better = meta["higher_is_better"]
    return "off" if pd.isna(better) else ("normal" if better else "inverse")


def kpi_cards(f: filters.Filters, ids: tuple[str, ...]) -> None:
    """Latest selected year: value, 同比, sparkline and rank — for the region, for the one child
    when a single child is selected (then ranked among all children of the region), or for the
    selected children together (所选N个区县, with the whole region's value beside it)."""
    for column, (metric, caption) in zip(st.columns(len(ids)), card_models(f, ids)):
        with column:
            st.metric(**metric)
            st.caption(caption)


def is_selection(region: str, children: tuple[str, ...]) -> bool:
    """Several but not all of the region's children: their total is shown (所选N个区县)."""
    return len(children) > 1 and set(children) != set(store.children_of(region))


def selection_label(children: tuple[str, ...], word: str = "区县") -> str:
    """ "所选2个区县" ("所选2个市"): how a total over some of the children is named."""
    return f"所选{len(children)}个{word}"


def selection_series(
    region: str, children: tuple[str, ...], years: tuple[int, int], indicator: str
) -> pd.Series:
    """Year → the selected children's total (`store.selection_facts`: the warehouse's own rules)."""
    totals = store.selection_facts(region, children, *years)
    return totals[totals["indicator_id"] == indicator].set_index("year")["value"]


@store.per_version(maxsize=256)
def card_models(f: filters.Filters, ids: tuple[str, ...]) -> tuple[tuple[Mapping[str, object], str], ...]:
    """What each card shows (st.metric's arguments, its caption), per version and filters: the
    same for every session that opens the view, so it is computed once per process and shared —
    the cache keeps the arguments as read-only mappings and the sparkline as a tuple."""
    indicators = store.indicators()
    single = len(f.children) == 1
    several = is_selection(f.region, f.children)
    word, whole = filters.level_word(f.region), filters.whole_word(f.region)
    data = store.facts((f.region, *f.all_children), ids, f.year_from, f.year_to)
    by_indicator = dict(tuple(data.groupby("indicator_id", sort=False)))
    cards = []
    for ind in ids:
        meta = indicators.loc[ind]
        unit, decimals = charts.card_unit(meta), int(meta["decimals"])
        rows = by_indicator.get(ind, data.iloc[:0])
        subject = f.children[0] if single else f.region
        if several:
            series = selection_series(f.region, f.children, f.years, ind)
        else:
            series = rows[rows["region_code"] == subject].set_index("year")["value"]
        now, before = series.get(f.year_to), series.get(f.year_to - 1)
        change = pct_change(now, before)
        latest = rows[rows["year"] == f.year_to]
        counties = latest[latest["region_code"].isin(f.children if several else f.all_children)]
        own = latest.loc[latest["region_code"] == f.region, "value"]
        city_text = f"{whole} {fmt_value(own.iloc[0], unit, decimals)}" if several and len(own) else ""
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
                            f"**{selection_label(f.children, word)}**" if several else "",
                            target_text(ind, f.year_to, now, unit),
                            city_text,
                            rank_text(
                                counties, subject, meta, unit, f"所选{word}" if several else word, word
                            ),
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


def rank_text(
    counties: pd.DataFrame, subject: str, meta: pd.Series, unit: str, among: str = "区县", word: str = "区县"
) -> str:
    """ "在12个区县中排第3" (or "并列第3") for a child; the best of `counties` (the children) for
    the region or a selection ("所选区县最高：…"; best = by higher_is_better). `word`: 区县, 市, 省份."""
    if counties.empty:
        return f"暂无{word}数据"
    ranked = counties.assign(rank=ranks(counties["value"], meta)).sort_values(
        "rank", kind="stable", ignore_index=True
    )
    if subject in set(ranked["region_code"]):
        position = ranked.loc[ranked["region_code"] == subject, "rank"].iloc[0]
        tied = (ranked["rank"] == position).sum() > 1
        return f"在{len(ranked)}个{word}中{'并列' if tied else '排'}第{int(position)}"
    best = ranked.iloc[0]
    word = "最低" if charts.lower_is_better(meta) else "最高"
    return f"{among}{word}：{best['region_name']} {fmt_value(best['value'], unit, int(meta['decimals']))}"


def show_map(f: filters.Filters, meta: pd.Series, key: str) -> None:
    """Map of the selected children in the last selected year (provinces of the nation with the
    九段线, cities of a province, counties of a city), with the boundary credit, or a note when it
    cannot be drawn. A click on a child with children of its own opens it (`filters.drill`).
    Above a city, a switch (`_map_unit`) shows every county under the
    selected children instead (全部区县: the country's ~2,900 counties in one map), unnamed on the
    map, a click opening the county's city."""
    word = filters.level_word(f.region)
    if geo.children_geojson(f.region) is None:
        st.info(f"暂无该地区的{word}边界数据，无法绘制地图。")
        return
    counties = filters.level_of(f.region) != "city" and geo.counties_geojson(f.region) is not None
    if counties:
        counties = _map_unit(f"{key}_unit", word) == "counties"
    shown = "区县" if counties else word
    figure = (counties_map_figure if counties else map_figure)(f.region, f.children, meta.name, f.year_to)
    if figure is None:
        st.info(f"暂无数据：{f.year_to}年没有“{meta['name_zh']}”的{shown}数据。")
        return
    drillable = filters.level_of(f.region) != "city"
    plot(figure, key, drillable)
    click = "；点击区县可查看其所在市。" if counties else "；点击地图上的地区可查看其下级地区。"
    st.caption(geo.CREDIT + (click if drillable else ""))
    title = f"{f.year_to}年各{shown}{meta['name_zh']}"
    chart_downloads(figure, f, meta, title, f"{f.year_to}年", store.is_sample(), key=f"{key}-img")


def _map_unit(key: str, word: str) -> str:
    """The map's regions: "children" (各市, 各省份) or "counties" (全部区县), in the URL as `key`
    only when counties (a link without it opens the children's map)."""
    if st.session_state.get(key) not in ("children", "counties"):
        st.session_state[key] = "counties" if st.query_params.get(key) == "counties" else "children"
    unit = st.segmented_control(
        "地图单元",
        ["children", "counties"],
        required=True,
        format_func={"children": f"各{word}", "counties": "全部区县"}.__getitem__,
        key=key,
        label_visibility="collapsed",
    )
    if unit == "counties":
        filters.keep_in_url({key: unit})
    else:
        filters.keep_in_url({}, drop=(key,))
    return unit


def plot(figure: go.Figure, key: str, drillable: bool) -> None:
    """A map or a ranking; where its regions have children of their own, a click on one opens it
    (Streamlit's selection event: single points only, then `filters.drill`)."""
    if drillable:
        st.plotly_chart(
            figure,
            config=theme.plotly_config(),
            key=key,
            on_select=lambda: filters.drill(key),
            selection_mode="points",
        )
    else:
        st.plotly_chart(figure, config=theme.plotly_config(), key=key)


@store.per_version(maxsize=128)
def map_figure(region: str, children: tuple[str, ...], indicator: str, year: int) -> go.Figure | None:
    """The map of one indicator and year over the region's children, built once per version and
    shared (as JSON text; each call gets its own figure): a map is the costliest figure of a page
    (plotly copies the polygons). None without values."""
    values = store.facts(children, (indicator,), year, year)
    if values.empty:
        return None
    return charts.county_map(
        values[["region_code", "region_name", "value"]],
        store.indicators().loc[indicator],
        geo.children_geojson(region),
        year,
        filters.level_word(region),
    )


@store.per_version(maxsize=32)
def counties_map_figure(
    region: str, children: tuple[str, ...], indicator: str, year: int
) -> go.Figure | None:
    """The map of one indicator and year over every county under the region's selected children
    (`map_figure`'s 全部区县 view), without names on the map. None without values."""
    codes = store.counties_under(children)
    values = store.facts(codes, (indicator,), year, year)
    if values.empty:
        return None
    shapes = geo.counties_geojson(region)
    wanted = set(codes)
    return charts.county_map(
        values[["region_code", "region_name", "value"]],
        store.indicators().loc[indicator],
        {**shapes, "features": [f for f in shapes["features"] if f["id"] in wanted]},
        year,
        "区县",
        labels=False,
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
    filters.breadcrumb(f)
    sample = sample_banner()
    st.caption(
        f"{store.region_name(f.region)} · {f.year_from}—{f.year_to}年"
        + (
            f" · 已选{len(f.children)}/{len(f.all_children)}个{filters.level_word(f.region)}"
            if f.partial
            else ""
        )
        + (" · 示例数据" if sample else "")
    )
    indicators = store.indicators()
    total_note(f)
    kpi_cards(f, topic.card_ids)

    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        ind = pick_indicator(topic.indicators)
    with right:
        relative = st.toggle("相对起始年", key=f"rel_{topic_id}", help="显示相对所选起始年份的变化（%）")
    meta = indicators.loc[ind]
    data = view_facts(f, ind)
    if data.empty:
        st.info(f"暂无数据：{store.region_name(f.region)}在所选年份没有“{meta['name_zh']}”的数据。")
        return
    render_indicator(f, meta, data, sample, relative)


def view_facts(f: filters.Filters, indicator: str) -> pd.DataFrame:
    """The facts of one indicator a view shows: the region and the selected children over the
    selected years. Every part of the view (cards aside) is drawn from this one answer."""
    return store.facts((f.region, *f.children), (indicator,), f.year_from, f.year_to)


def render_indicator(
    f: filters.Filters, meta: pd.Series, data: pd.DataFrame, sample: bool, relative: bool
) -> None:
    missing = missing_counties(f, meta.name)
    if missing:
        word, whole = filters.level_word(f.region), filters.whole_word(f.region)
        listed = "、".join(missing[:12]) + (f"等{len(missing)}个" if len(missing) > 12 else "")
        st.caption(f"{f.year_to}年缺少数据的{word}：{listed}（{whole}合计仅在所有{word}都有数据时计算）。")
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
    """Names of the selected children without a value in the last selected year."""
    data = view_facts(f, indicator)
    have = set(data.loc[data["year"] == f.year_to, "region_code"])
    return tuple(store.region_name(c) for c in sorted(set(f.children) - have))


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
    rows = comparable_published((f.region, *f.children), meta.name, f.year_from, f.year_to)
    return rows.assign(region_name=rows["region_code"].map(store.region_name))


def national_reference(f: filters.Filters, meta: pd.Series) -> pd.DataFrame | None:
    """The published national series of a ratio (每千名老年人养老床位 …) over the shown years, as
    a reference line; totals are on another scale than a city's and are not drawn (nor on the
    nation's own view, where the national line is the region's own)."""
    if meta["agg"] != "ratio" or f.region == filters.NATION:
        return None
    return comparable_published(("",), meta.name, f.year_from, f.year_to).drop_duplicates("year")


def chart_view(f: filters.Filters, meta: pd.Series, sample: bool, relative: bool) -> None:
    """Trend (a line per child + the region's bold line) and the latest year's ranking, with the
    指标说明 panel; a ranking bar of a child with children of its own opens it."""
    trend, ranking, words = chart_parts(f, meta.name, relative)
    head, panel = st.columns([5, 1], vertical_alignment="center")
    head.markdown(f"**{meta['name_zh']}**（{charts.unit_of(meta)}）")
    with panel:
        indicator_panel(meta, sample)
    years = f"{f.year_from}—{f.year_to}年"
    st.plotly_chart(trend, config=theme.plotly_config(), key="trend")
    chart_downloads(trend, f, meta, f"{meta['name_zh']}走势", years, sample, key="img-trend")
    if ranking is not None:
        plot(ranking, "ranking", filters.level_of(f.region) != "city")
        chart_downloads(
            ranking,
            f,
            meta,
            f"{f.year_to}年各{filters.level_word(f.region)}{meta['name_zh']}",
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
    region = store.region_name(f.region) + (
        f"（已选{len(f.children)}个{filters.level_word(f.region)}）" if f.partial else ""
    )
    return export.ChartContext(title, region, years, charts.unit_of(meta), store.version(), sample)


def chart_downloads(
    figure: go.Figure, f: filters.Filters, meta: pd.Series, title: str, years: str, sample: bool, key: str
) -> None:
    """下载图片 buttons under a chart: the picture with title, region, years, unit, source and the
    示例数据 mark, made only when clicked."""
    export.chart_buttons(
        figure,
        chart_context(f, meta, title, years, sample),
        f"{title}_{store.region_name(f.region)}_{years}",
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
        data,
        meta,
        f.region,
        relative,
        target,
        published_marks(f, meta),
        national_reference(f, meta),
        filters.whole_word(f.region),
        filters.level_word(f.region),
    )
    words = narrative.text(story_for(f.region, f.children, f.year_to, meta, data, target, store.is_sample()))
    return trend, ranking_figure(f, indicator), words


@store.per_version(maxsize=256)
def ranking_figure(f: filters.Filters, indicator: str) -> go.Figure | None:
    """The selected children ranked in the last selected year, with the region's own value and
    the target (None when no child has a value), per version and filters; each call gets its own
    figure."""
    return charts.county_ranking(
        view_facts(f, indicator),
        store.indicators().loc[indicator],
        f.year_to,
        f.region,
        store.target_of(indicator, f.year_to),
        filters.whole_word(f.region),
        filters.level_word(f.region),
    )


def story_for(
    region: str,
    children: tuple[str, ...],
    year: int,
    meta: pd.Series,
    data: pd.DataFrame,
    target: Target | None,
    sample: bool,
) -> narrative.Story:
    """The facts a narrative may use, from the rows on screen: the region (or the one selected
    child, or the selected children together: 宝鸡市所选2个区县), the children of the latest
    year, and which selected children have no value."""
    subject = children[0] if len(children) == 1 else region
    year_rows = data[(data["year"] == year) & (data["region_code"] != region)]
    have = set(year_rows["region_code"])
    better = meta["higher_is_better"]
    place = store.region_name(subject)
    series = data[data["region_code"] == subject].set_index("year")["value"]
    published = comparable_published((subject,), meta.name, min(data["year"]), year)
    if is_selection(region, children):
        series = selection_series(region, children, (int(min(data["year"])), year), meta.name)
        place = store.region_name(region) + selection_label(children, filters.level_word(region))
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
        missing=[store.region_name(c) for c in children if c not in have],
        target=target,
        sample=sample,
        published=[
            (int(r.year), r.value, f"{r.value_written}{r.unit_written}", r.document, r.tolerance)
            for r in published.itertuples()
        ],
        word=filters.level_word(region),
        whole=filters.whole_word(region),
    )


def download_view(f: filters.Filters, meta: pd.Series, key: str) -> None:
    """The data behind this view, as the user filtered it (xlsx and CSV)."""
    export.buttons(
        download_files((f.region, *f.children), (meta.name,), f.year_from, f.year_to),
        f"{meta['name_zh']}_{store.region_name(f.region)}_{f.year_from}-{f.year_to}",
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
