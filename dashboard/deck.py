"""The meeting deck: which slides exist, and what each one shows, from the current filters.

One model serves the 演示 page (slides on screen) and the meeting pack (PPTX / PDF): a slide
is a title, an optional figure, key numbers, and its 文字解读. Slide ids are stable strings
(`cover`, `kpi`, `elderly_care-trend`, …) so a chosen and reordered deck fits in a URL.

Which slides exist, their order and picker titles, the KPI slide's indicators, the map's
indicator and the rules of 需要关注的事项 are data: `deck` in data/catalog/views.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from . import charts, narrative, store, views
from .format import fmt_change, fmt_value, pct_change
from .topic import story_for, topics


@dataclass(frozen=True)
class Look:
    """How the 演示 screen draws a slide's figure: background, ink and type size, no title (the
    slide has its own) and no fixed height (the page gives the screen's). `build` applies it to
    the figures it makes — new on every call, the caller's own — so no page restyles a figure
    it was handed."""

    background: str
    ink: str
    font_size: int = 18

    def apply(self, figure: go.Figure) -> None:
        figure.update_layout(
            paper_bgcolor=self.background,
            plot_bgcolor=self.background,
            font_color=self.ink,
            font_size=self.font_size,
            height=None,
            autosize=True,
            title_text="",
        )


@dataclass
class Slide:
    id: str
    title: str
    subtitle: str = ""
    figure: go.Figure | None = None
    numbers: list[tuple[str, str, str]] = field(default_factory=list)  # (label, value, 同比)
    bullets: list[str] = field(default_factory=list)
    narrative: str = ""


def slide_ids() -> list[str]:
    """Every slide in default order (`deck.slides` of views.yaml; today cover, KPIs, per topic
    trend + ranking, map, attention)."""
    return list(views.load_views().deck.slide_ids)


def slide_titles() -> dict[str, str]:
    """Slide id → the name the slide picker shows."""
    return views.load_views().deck.titles


@dataclass(frozen=True)
class Scope:
    city: str
    year: int
    counties: tuple[str, ...]
    year_from: int

    @property
    def regions(self) -> tuple[str, ...]:
        return (self.city, *self.counties)


def build(scope: Scope, ids: list[str], look: Look | None = None) -> list[Slide]:
    """The slides `ids` (unknown ids are skipped) for one city, year and set of counties; their
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
    if look is not None:
        for slide in slides:
            if slide.figure is not None:
                look.apply(slide.figure)
    return slides


def _story(scope: Scope, meta: pd.Series, data: pd.DataFrame, sample: bool) -> narrative.Story:
    return story_for(
        scope.city, scope.counties, scope.year, meta, data, store.target_of(meta.name, scope.year), sample
    )


def _cover(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    name = store.region_name(scope.city)
    return Slide(
        "cover",
        f"{name}民政事业发展情况",
        subtitle=f"{scope.year}年 · 数据看板汇报" + ("（示例数据）" if sample else ""),
        bullets=[
            f"范围：{len(scope.counties)}个区县，{scope.year_from}—{scope.year}年",
            f"数据版本：{store.version()}",
        ],
    )


def _kpis(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    kpi_ids = views.load_views().deck.kpi
    data = store.facts((scope.city,), kpi_ids, scope.year - 1, scope.year)
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
        subtitle=store.region_name(scope.city),
        numbers=numbers,
        narrative="同比为与上年相比的变化。" + ("以上为示例数据，并非真实统计。" if sample else ""),
    )


def _topic(scope: Scope, indicators: pd.DataFrame, sample: bool, topic_id: str, kind: str) -> Slide:
    topic = topics()[topic_id]
    ind = topic.indicators[0]
    meta = indicators.loc[ind]
    data = store.facts(scope.regions, (ind,), scope.year_from, scope.year)
    story = _story(scope, meta, data, sample)
    target = store.target_of(ind, scope.year)
    if kind == "trend":
        figure = charts.trend(data, meta, scope.city, target=target) if len(data) else None
        title = f"{topic.title}：{meta['name_zh']}走势"
    else:
        figure = charts.county_ranking(data, meta, scope.year, scope.city, target)
        title = f"{topic.title}：{scope.year}年各区县{meta['name_zh']}"
    return Slide(f"{topic_id}-{kind}", title, figure=figure, narrative=narrative.text(story))


def _map(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    from .geo import city_geojson

    ind = views.load_views().deck.map
    meta = indicators.loc[ind]
    data = store.facts(scope.regions, (ind,), scope.year_from, scope.year)
    rows = data[(data["year"] == scope.year) & (data["region_code"] != scope.city)]
    shapes = city_geojson(scope.city)
    figure = charts.county_map(rows, meta, shapes, scope.year) if shapes is not None and len(rows) else None
    return Slide(
        "map",
        f"{scope.year}年各区县{meta['name_zh']}分布",
        figure=figure,
        narrative=narrative.text(_story(scope, meta, data, sample)),
    )


def _attention(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    """Per indicator of `deck.attention` (views.yaml): the counties that miss its plan target
    (below a floor, above a ceiling: `Target.meets`), and, where higher is better, the counties
    whose value fell by more than `drop_percent` since the year before."""
    rules = views.load_views().deck.attention
    data = store.facts(scope.counties, rules.indicators, scope.year - 1, scope.year)
    bullets, misses = [], set()
    for ind in rules.indicators:
        meta = indicators.loc[ind]
        rows = data[data["indicator_id"] == ind]
        now = rows[rows["year"] == scope.year].set_index("region_name")["value"]
        before = rows[rows["year"] == scope.year - 1].set_index("region_name")["value"]
        unit, decimals = charts.card_unit(meta), int(meta["decimals"])
        target = store.target_of(ind, scope.year) if rules.target_check else None
        if target is not None:
            misses.add(target.miss_words)
            missed = now[[target.meets(v) is False for v in now]]
            if len(missed):
                goal = fmt_value(target.value, unit, decimals)
                bullets.append(
                    f"{meta['name_zh']}{target.miss_words}目标（{goal}）："
                    + "、".join(f"{n} {fmt_value(v, unit, decimals)}" for n, v in missed.items())
                )
        better = meta["higher_is_better"]  # numpy's bool or NA from the warehouse: never `is True`
        if pd.notna(better) and bool(better):
            change = ((now - before) / before.where(before > 0) * 100).dropna()
            drops = change[change < -rules.drop_percent]
            if len(drops):
                bullets.append(
                    f"{meta['name_zh']}同比下降超过{rules.drop_percent:g}%："
                    + "、".join(f"{n} {fmt_change(c)}" for n, c in drops.items())
                )
    if not bullets:
        word = "低于" if misses <= {"低于"} else "未达"  # 未达: some target is a ceiling
        bullets = [f"所选区县没有{word}目标或大幅下降的指标。"]
    return Slide(
        "attention",
        "需要关注的事项",
        subtitle=f"{store.region_name(scope.city)} · {scope.year}年",
        bullets=bullets,
        narrative="以上为示例数据，并非真实统计。" if sample else "",
    )
