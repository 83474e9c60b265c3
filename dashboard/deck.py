"""The meeting deck: which slides exist, and what each one shows, from the current filters.

One model serves the 演示 page (slides on screen) and the meeting pack (PPTX / PDF): a slide
is a title, an optional figure, key numbers, and its 文字解读. Slide ids are stable strings
(`cover`, `kpi`, `elderly_care-trend`, …) so a chosen and reordered deck fits in a URL.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from . import charts, narrative, store
from .format import fmt_change, fmt_value, pct_change
from .topic import TOPICS, story_for

KPI_IDS = ("dibao_urban_persons", "dibao_rural_persons", "beds_per_1000_elderly", "charity_funds_raised",
           "social_workers_per_10k", "nursing_bed_share")
MAP_INDICATOR = "beds_per_1000_elderly"
DROP_ALERT = -10.0  # a fall of more than 10 % in a higher-is-better indicator needs attention


@dataclass
class Slide:
    id: str
    title: str
    subtitle: str = ""
    figure: go.Figure | None = None
    numbers: list[tuple[str, str, str]] = field(default_factory=list)   # (label, value, 同比)
    bullets: list[str] = field(default_factory=list)
    narrative: str = ""


def slide_ids() -> list[str]:
    """Every slide in default order: cover, KPIs, per topic trend + ranking, map, attention."""
    ids = ["cover", "kpi"]
    for topic_id in TOPICS:
        ids += [f"{topic_id}-trend", f"{topic_id}-rank"]
    return ids + ["map", "attention"]


def slide_titles() -> dict[str, str]:
    titles = {"cover": "封面", "kpi": "核心指标", "map": "区县分布图", "attention": "需要关注的事项"}
    for topic_id, topic in TOPICS.items():
        titles[f"{topic_id}-trend"] = f"{topic.title}：走势"
        titles[f"{topic_id}-rank"] = f"{topic.title}：区县排名"
    return titles


@dataclass(frozen=True)
class Scope:
    city: str
    year: int
    counties: tuple[str, ...]
    year_from: int

    @property
    def regions(self) -> tuple[str, ...]:
        return (self.city, *self.counties)


def build(scope: Scope, ids: list[str]) -> list[Slide]:
    """The slides `ids` (unknown ids are skipped) for one city, year and set of counties."""
    indicators = store.indicators()
    sample = store.is_sample()
    makers = {"cover": _cover, "kpi": _kpis, "map": _map, "attention": _attention}
    slides = []
    for slide_id in ids:
        topic_id, _, kind = slide_id.partition("-")
        if slide_id in makers:
            slides.append(makers[slide_id](scope, indicators, sample))
        elif topic_id in TOPICS and kind in ("trend", "rank"):
            slides.append(_topic(scope, indicators, sample, topic_id, kind))
    return slides


def _story(scope: Scope, meta: pd.Series, data: pd.DataFrame, sample: bool) -> narrative.Story:
    return story_for(scope.city, scope.counties, scope.year, meta, data, store.target_of(meta.name), sample)


def _cover(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    name = store.region_name(scope.city)
    return Slide("cover", f"{name}民政事业发展情况", subtitle=f"{scope.year}年 · 数据看板汇报" +
                 ("（示例数据）" if sample else ""),
                 bullets=[f"范围：{len(scope.counties)}个区县，{scope.year_from}—{scope.year}年",
                          f"数据版本：{store.version()}"])


def _kpis(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    data = store.facts((scope.city,), KPI_IDS, scope.year - 1, scope.year)
    numbers = []
    for ind in KPI_IDS:
        meta = indicators.loc[ind]
        values = data[data["indicator_id"] == ind].set_index("year")["value"]
        now, before = values.get(scope.year), values.get(scope.year - 1)
        change = pct_change(now, before)
        numbers.append((meta["name_zh"], fmt_value(now, charts.card_unit(meta), int(meta["decimals"])),
                        fmt_change(change) if change is not None else "—"))
    return Slide("kpi", f"{scope.year}年核心指标", subtitle=store.region_name(scope.city), numbers=numbers,
                 narrative="同比为与上年相比的变化。" + ("以上为示例数据，并非真实统计。" if sample else ""))


def _topic(scope: Scope, indicators: pd.DataFrame, sample: bool, topic_id: str, kind: str) -> Slide:
    topic = TOPICS[topic_id]
    ind = topic.indicators[0]
    meta = indicators.loc[ind]
    data = store.facts(scope.regions, (ind,), scope.year_from, scope.year)
    story = _story(scope, meta, data, sample)
    target = store.target_of(ind)
    if kind == "trend":
        figure = charts.trend(data, meta, scope.city, target=target) if len(data) else None
        title = f"{topic.title}：{meta['name_zh']}走势"
    else:
        figure = charts.county_ranking(data, meta, scope.year, scope.city, target)
        title = f"{topic.title}：{scope.year}年各区县{meta['name_zh']}"
    return Slide(f"{topic_id}-{kind}", title, figure=figure, narrative=narrative.text(story))


def _map(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    from .geo import city_geojson
    meta = indicators.loc[MAP_INDICATOR]
    data = store.facts(scope.regions, (MAP_INDICATOR,), scope.year_from, scope.year)
    rows = data[(data["year"] == scope.year) & (data["region_code"] != scope.city)]
    shapes = city_geojson(scope.city)
    figure = charts.county_map(rows, meta, shapes, scope.year) if shapes is not None and len(rows) else None
    return Slide("map", f"{scope.year}年各区县{meta['name_zh']}分布", figure=figure,
                 narrative=narrative.text(_story(scope, meta, data, sample)))


def _attention(scope: Scope, indicators: pd.DataFrame, sample: bool) -> Slide:
    """Counties below a plan target, and falls of more than 10 % in higher-is-better indicators."""
    ids = tuple(i for topic in TOPICS.values() for i in topic.indicators[:4])
    data = store.facts(scope.counties, ids, scope.year - 1, scope.year)
    bullets = []
    for ind in dict.fromkeys(ids):
        meta = indicators.loc[ind]
        rows = data[data["indicator_id"] == ind]
        now = rows[rows["year"] == scope.year].set_index("region_name")["value"]
        before = rows[rows["year"] == scope.year - 1].set_index("region_name")["value"]
        unit, decimals = charts.card_unit(meta), int(meta["decimals"])
        target = store.target_of(ind)
        if target is not None:
            below = now[now < target]
            if len(below):
                bullets.append(f"{meta['name_zh']}低于目标（{fmt_value(target, unit, decimals)}）："
                               + "、".join(f"{n} {fmt_value(v, unit, decimals)}" for n, v in below.items()))
        if meta["higher_is_better"] is True:
            change = ((now - before) / before.where(before > 0) * 100).dropna()
            drops = change[change < DROP_ALERT]
            if len(drops):
                bullets.append(f"{meta['name_zh']}同比下降超过{-DROP_ALERT:.0f}%："
                               + "、".join(f"{n} {fmt_change(c)}" for n, c in drops.items()))
    if not bullets:
        bullets = ["所选区县没有低于目标或大幅下降的指标。"]
    return Slide("attention", "需要关注的事项", subtitle=f"{store.region_name(scope.city)} · {scope.year}年",
                 bullets=bullets, narrative="以上为示例数据，并非真实统计。" if sample else "")
