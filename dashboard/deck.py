"""The meeting deck: which slides exist, and what each one shows, from the current filters.

One model serves the 演示 page (slides on screen) and the meeting pack (PPTX / PDF): a slide
is a title, an optional figure, key numbers, and its 文字解读. Slide ids are stable strings
(`cover`, `kpi`, `elderly_care-trend`, …) so a chosen and reordered deck fits in a URL.

Which slides exist, their order and picker titles, the KPI slide's indicators, the map's
indicator and the rules of 需要关注的事项 are data: `deck` in data/catalog/views.yaml.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from . import charts, narrative, store, views
from .filters import level_of, level_word, whole_word
from .format import fmt_change, fmt_value, pct_change
from .topic import story_for, topics

# Colours a figure is drawn with that mean "ink" or "alarm" on a white page; on a dark screen they
# become the screen's ink and a lighter red (both readable on navy, WCAG AA).
_DARK_TARGET = "#FCA5A5"


def _is_dark(colour: str) -> bool:
    """True for a background colour darker than mid-grey (relative luminance below 0.18)."""
    return charts.luminance(colour) < 0.18


@dataclass(frozen=True)
class Look:
    """How the 演示 screen draws a slide's figure: background, ink and type size, no title (the
    slide has its own) and no fixed height (the page gives the screen's). `build` applies it to
    the figures it makes — new on every call, the caller's own — so no page restyles a figure
    it was handed. Every text of the figure (axes, ticks, legend, colour bar, annotations) is
    drawn in `ink`, a map's geo background is the slide's, and on a dark background the dark
    city line and the red target line become light."""

    background: str
    ink: str
    font_size: int = 18
    grid: str = ""  # gridline colour; default: a faint mix for the background

    def apply(self, figure: go.Figure) -> None:
        dark = _is_dark(self.background)
        grid = self.grid or ("#334155" if dark else "#E4E7EB")
        axis_line = "#64748B" if dark else "#9AA5B1"
        ink_font = dict(color=self.ink)
        figure.update_layout(
            paper_bgcolor=self.background,
            plot_bgcolor=self.background,
            font_color=self.ink,
            font_size=self.font_size,
            legend_font_color=self.ink,
            legend_bgcolor="rgba(0,0,0,0)",
            legend_title_font_color=self.ink,
            hoverlabel=dict(font_color="#1F2933", bgcolor="#FFFFFF"),
            height=None,
            autosize=True,
            title_text="",
            margin=dict(l=16, r=32, t=48, b=16),
        )
        axes = dict(
            automargin=True,
            tickfont=ink_font,
            title_font=ink_font,
            gridcolor=grid,
            linecolor=axis_line,
            zerolinecolor=grid,
        )
        figure.update_xaxes(**axes)
        figure.update_yaxes(**axes)
        figure.update_geos(bgcolor=self.background, lakecolor=self.background, landcolor=self.background)
        figure.update_coloraxes(colorbar=dict(tickfont=ink_font, title_font=ink_font))
        for trace in figure.data:
            if "colorbar" in trace:
                trace.colorbar.tickfont.color = self.ink
                trace.colorbar.title.font.color = self.ink
            if dark and "marker" in trace and trace.type == "choropleth":
                trace.marker.line.color = self.background
        for note in figure.layout.annotations:
            note.font.color = self.ink
        if dark:
            swaps = {charts.CITY_COLOR.upper(): self.ink, charts.TARGET_COLOR.upper(): _DARK_TARGET}
            for trace in figure.data:
                line = getattr(trace, "line", None)
                if line is not None and isinstance(line.color, str) and line.color.upper() in swaps:
                    line.color = swaps[line.color.upper()]
            for trace in figure.data:  # a map: the dark end of the scale, every name in the ink
                if trace.type == "choropleth":
                    flat = {
                        charts.NO_DATA_COLOR: charts.NO_DATA_COLOR_DARK,
                        charts.OUTLINE_FILL: self.background,
                    }
                    first = trace.colorscale[0][1]
                    fill = flat.get(first, None)
                    trace.colorscale = [[0, fill], [1, fill]] if fill else charts.MAP_SCALE_DARK
                elif trace.type == "scattergeo" and trace.text is not None:
                    trace.textfont.color = self.ink
                    trace.textfont.shadow = "none"
            for shape in figure.layout.shapes:
                if isinstance(shape.line.color, str) and shape.line.color.upper() in swaps:
                    shape.line.color = swaps[shape.line.color.upper()]


@dataclass
class Slide:
    """One slide. `kind` says how a screen lays it out: "cover" (title, subtitle, then the
    department, date and scope lines of `bullets`), "kpi" (`numbers` as big figures), "chart"
    (`figure` beside its `narrative`; no figure means no data) or "list" (`bullets`, each
    "label：text"). `footer` is the small print of every slide: data year and version (the
    version is never a bullet)."""

    id: str
    title: str
    subtitle: str = ""
    figure: go.Figure | None = None
    numbers: list[tuple[str, str, str]] = field(default_factory=list)  # (label, value, 同比)
    bullets: list[str] = field(default_factory=list)
    narrative: str = ""
    kind: str = "list"  # cover | kpi | chart | list
    footer: str = ""


def slide_ids() -> list[str]:
    """Every slide in default order (`deck.slides` of views.yaml; today cover, KPIs, per topic
    trend + ranking, map, attention)."""
    return list(views.load_views().deck.slide_ids)


def slide_titles() -> dict[str, str]:
    """Slide id → the name the slide picker shows."""
    return views.load_views().deck.titles


@dataclass(frozen=True)
class Scope:
    """What a deck is about: a region at any level (全国, a province, a city), its last year,
    the children it compares (provinces, cities, counties) and its first year."""

    region: str
    year: int
    children: tuple[str, ...]
    year_from: int

    @property
    def regions(self) -> tuple[str, ...]:
        return (self.region, *self.children)

    @property
    def word(self) -> str:
        """What the children are called: 区县, 市, 省份."""
        return level_word(self.region)

    @property
    def whole(self) -> str:
        """What the region's own total is called: 全市, 全省, 全国."""
        return whole_word(self.region)


def build(scope: Scope, ids: list[str], look: Look | None = None) -> list[Slide]:
    """The slides `ids` (unknown ids are skipped) for one region, year and set of children; their
    figures are made on every call (never from a shared cache), drawn in `look` when given."""
    indicators = store.indicators()
    sample = store.is_sample()
    makers = {"cover": _cover, "kpi": _kpis, "map": _map, "attention": _attention}
    slides = []
    for slide_id in ids:
        topic_id, _, kind = slide_id.partition("-")
        if slide_id in makers:
            slides.append(makers[slide_id](scope, indicators, sample))
        elif topic_id in topics() and kind in views.TOPIC_SLIDES:
            slides.append(_topic(scope, indicators, sample, topic_id, kind))
    footer = f"数据截至{scope.year}年 · 数据版本 {store.version()}"
    for slide in slides:
        slide.footer = footer
        if look is not None and slide.figure is not None:
            look.apply(slide.figure)
    return slides


def _story(scope: Scope, meta: pd.Series, data: pd.DataFrame, sample: bool) -> narrative.Story:
    return story_for(
        scope.region, scope.children, scope.year, meta, data, store.target_of(meta.name, scope.year), sample
    )


def _cover(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    """Title, year and city, the department, the date and the scope; the data version is in the
    footer only."""
    name = store.region_name(scope.region)
    office = {"nation": "民政部", "province": "民政厅"}.get(level_of(scope.region), "民政局")
    today = datetime.date.today()
    return Slide(
        "cover",
        f"{name}民政事业发展情况",
        subtitle=f"{scope.year}年度 · 数据看板汇报" + ("（示例数据）" if sample else ""),
        bullets=[
            office if office == "民政部" else f"{name}{office}",
            f"{today.year}年{today.month}月{today.day}日",
            f"范围：{len(scope.children)}个{scope.word} · {scope.year_from}—{scope.year}年",
        ],
        kind="cover",
    )


def _kpis(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    kpi_ids = views.load_views().deck.kpi
    data = store.facts((scope.region,), kpi_ids, scope.year - 1, scope.year)
    numbers = []
    for ind in kpi_ids:
        meta = indicators.loc[ind]
        values = data[data["indicator_id"] == ind].set_index("year")["value"]
        now, before = values.get(scope.year), values.get(scope.year - 1)
        change = pct_change(now, before)
        numbers.append(
            (
                meta["name_zh"],
                fmt_value(now, charts.card_unit(meta), int(meta["decimals"])),
                fmt_change(change) if change is not None else "—",
            )
        )
    return Slide(
        "kpi",
        f"{scope.year}年核心指标",
        subtitle=store.region_name(scope.region),
        numbers=numbers,
        narrative="同比为与上年相比的变化。" + ("以上为示例数据，并非真实统计。" if sample else ""),
        kind="kpi",
    )


def _topic(scope: Scope, indicators: pd.DataFrame, sample: bool, topic_id: str, kind: str) -> Slide:
    """One message per slide: the trend slide says how the city moved (and whether a published
    figure agrees), the ranking slide how the counties compare with each other and the target."""
    topic = topics()[topic_id]
    ind = topic.indicators[0]
    meta = indicators.loc[ind]
    data = store.facts(scope.regions, (ind,), scope.year_from, scope.year)
    story = _story(scope, meta, data, False)  # the 示例数据 mark is on every slide; no caveat line
    target = store.target_of(ind, scope.year)
    if kind == "trend":
        figure = (
            charts.trend(data, meta, scope.region, target=target, whole=scope.whole, word=scope.word)
            if len(data)
            else None
        )
        title = f"{topic.title}：{meta['name_zh']}走势"
        words = narrative.headline(story) + narrative.published_sentence(story)
    else:
        figure = charts.county_ranking(data, meta, scope.year, scope.region, target, scope.whole, scope.word)
        title = f"{topic.title}：{scope.year}年各{scope.word}{meta['name_zh']}"
        words = narrative.counties_sentence(story) + narrative.caveat(story)
    return Slide(f"{topic_id}-{kind}", title, figure=figure, narrative=words, kind="chart")


def _map(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    from .geo import children_geojson

    ind = views.load_views().deck.map
    meta = indicators.loc[ind]
    data = store.facts(scope.regions, (ind,), scope.year_from, scope.year)
    rows = data[(data["year"] == scope.year) & (data["region_code"] != scope.region)]
    shapes = children_geojson(scope.region)
    figure = (
        charts.county_map(rows, meta, shapes, scope.year, scope.word)
        if shapes is not None and len(rows)
        else None
    )
    return Slide(
        "map",
        f"{scope.year}年各{scope.word}{meta['name_zh']}分布",
        figure=figure,
        narrative=_spread(scope, meta, data),
        kind="chart",
    )


def _spread(scope: Scope, meta: pd.Series, data: pd.DataFrame) -> str:
    """The map's message: how many counties are above the city's level, and how far apart the
    highest and the lowest are (the ranking slide already names them)."""
    now = data[data["year"] == scope.year]
    counties = now[now["region_code"] != scope.region].dropna(subset=["value"])
    city = now.loc[now["region_code"] == scope.region, "value"].dropna()
    if counties.empty:
        return f"{scope.year}年暂无{scope.word}{meta['name_zh']}数据。"
    unit, decimals = charts.card_unit(meta), int(meta["decimals"])
    parts = []
    if len(city):
        above = int((counties["value"] > city.iloc[0]).sum())
        parts.append(
            f"{len(counties)}个{scope.word}中，{above}个高于{scope.whole}水平"
            f"（{fmt_value(city.iloc[0], unit, decimals)}）"
        )
    low, high = counties["value"].min(), counties["value"].max()
    if low > 0 and len(counties) > 1:
        parts.append(f"最高值是最低值的{high / low:.1f}倍")
    return "，".join(parts) + "。" if parts else ""


LIST_TOP = 3  # counties per line of the attention slide, the most serious first
MAX_LINES = 6  # lines of the attention slide: what the screen holds at its type size


def _attention(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    """需要关注的事项 over the indicators of `deck.attention` (views.yaml): `attention_lines`,
    and a sentence saying what was checked."""
    rules = views.load_views().deck.attention
    first = min(scope.year_from, scope.year - 10)  # a run of falls may start before the chosen range
    data = store.facts(scope.children, rules.indicators, first, scope.year)
    check = rules.indicators if rules.target_check else ()
    targets = {ind: store.target_of(ind, scope.year) for ind in check}
    lines = attention_lines(data, indicators, targets, rules, scope.year, scope.word)
    with_target = sum(t is not None for t in targets.values())
    known = [i for i in rules.indicators if i in indicators.index]
    directed = int(indicators.loc[known, "higher_is_better"].notna().sum())
    checked = f"共检查{len(known)}项指标（{with_target}项有规划目标，{directed}项有增减方向）。"
    return Slide(
        "attention",
        "需要关注的事项",
        subtitle=f"{store.region_name(scope.region)} · {scope.year}年",
        bullets=lines,
        narrative=checked + ("以上为示例数据，并非真实统计。" if sample else ""),
        kind="list",
    )


def attention_lines(
    data: pd.DataFrame,
    indicators: pd.DataFrame,
    targets: dict,
    rules: views.Attention,
    year: int,
    word: str = "区县",
) -> list[str]:
    """The lines of 需要关注的事项, each "what：counties", for the counties in `data` (region_name,
    year, indicator_id, value) and the indicators of `rules`, at most `MAX_LINES`:

    1. per indicator with a plan target in force (`targets`: id → `Target` or None), the
       counties that miss it (below a floor, above a ceiling: `Target.meets`), every one;
    2. per indicator with a direction, the counties that changed for the worse since the year
       before (a fall where higher is better, a rise where lower is better) by more than
       `drop_percent` — the largest `LIST_TOP`; lines ordered by their largest change;
    3. per indicator with a direction, the longest runs of yearly worsening (at least
       `narrative.MIN_RUN` years) ending in `year` — the longest `LIST_TOP`.
    """
    misses, drops, runs = [], [], []
    for ind in rules.indicators:
        if ind not in indicators.index:
            continue
        meta = indicators.loc[ind]
        name = meta["name_zh"]
        rows = data[data["indicator_id"] == ind]
        now = rows[rows["year"] == year].set_index("region_name")["value"]
        before = rows[rows["year"] == year - 1].set_index("region_name")["value"]
        unit, decimals = charts.card_unit(meta), int(meta["decimals"])
        target = targets.get(ind)
        if target is not None:
            missed = now[[target.meets(v) is False for v in now]]
            if len(missed):
                goal = fmt_value(target.value, unit, decimals)
                misses.append(
                    f"{name}{target.miss_words}目标（{goal}）："
                    + "、".join(f"{n} {fmt_value(v, unit, decimals)}" for n, v in missed.items())
                )
        better = meta["higher_is_better"]  # numpy's bool or NA from the warehouse: never `is True`
        if pd.isna(better):
            continue
        worse = -1 if bool(better) else 1  # the sign of a change for the worse
        way = "下降" if worse < 0 else "上升"
        change = ((now - before) / before.where(before > 0) * 100).dropna()
        bad = change[change * worse > rules.drop_percent].sort_values(ascending=worse < 0)
        if len(bad):
            listed = [(n, fmt_change(c)) for n, c in bad.items()]
            drops.append(
                (-abs(bad.iloc[0]), f"{name}同比{way}超过{rules.drop_percent:g}%：" + _top(listed, word))
            )
        lengths = {}
        for county, series in rows.groupby("region_name"):
            length, direction = narrative._run(dict(zip(series["year"], series["value"])), year)
            if direction == worse and length >= narrative.MIN_RUN:
                lengths[county] = length
        if lengths:
            longest = sorted(lengths.items(), key=lambda item: -item[1])
            listed = [(n, f"{n_years}年") for n, n_years in longest]
            runs.append((-longest[0][1], f"{name}连续{way}：" + _top(listed, word)))
    lines = misses + [text for _, text in sorted(drops)] + [text for _, text in sorted(runs)]
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], f"另有{len(lines) - MAX_LINES + 1}项，见数据看板各专题页"]
    if not lines:
        miss = "低于" if all(t is None or t.miss_words == "低于" for t in targets.values()) else "未达"
        lines = [f"所选{word}没有{miss}目标、同比大幅变差或连续变差的指标。"]
    return lines


def _top(items: list[tuple[str, str]], word: str = "区县") -> str:
    """The first `LIST_TOP` (child, figure) pairs as "县 数值、…", and how many there are."""
    shown = "、".join(f"{county} {figure}" for county, figure in items[:LIST_TOP])
    return shown + (f"等{len(items)}个{word}" if len(items) > LIST_TOP else "")
