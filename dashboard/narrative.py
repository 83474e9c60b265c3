"""文字解读: one to three Chinese sentences computed from the data, never written by hand.

Deterministic templates over numbers that all come from the warehouse: the latest value with
its unit, 同比, the longest run of rises or falls, the best and worst county, target
attainment, agreement with a published figure, and caveats (missing counties, sample data).
Numbers are written the Chinese way (1.2万人, 5.73亿元, 36.0张) by dashboard.format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .format import fmt_change, fmt_value, pct_change

if TYPE_CHECKING:
    from etl.catalog import Target

MIN_RUN = 3  # "连续3年上升" is worth saying; two years is just 同比


@dataclass(frozen=True)
class Story:
    """Everything a narrative may say, already taken from the warehouse."""

    name: str  # 每千名老年人养老床位数
    unit: str  # unit for values in a sentence (card unit: 张, 人, 万元 …)
    decimals: int
    higher_is_better: bool | None
    place: str  # 宝鸡市 (or a county when one is selected)
    year: int
    series: dict[int, float]  # the place's value by year
    counties: list[tuple[str, float]] = field(default_factory=list)  # (name, value) in `year`
    missing: list[str] = field(default_factory=list)  # counties without a value
    target: Target | None = None  # the plan target (store.target_of): value, op, year
    sample: bool = False
    # published figures of the place: (year, value in the catalog unit, as written, document, tolerance)
    published: list[tuple[int, float, str, str, float]] = field(default_factory=list)
    word: str = "区县"  # what the place's children are called (市 for a province, 省份 for the nation)
    whole: str = "全市"  # what the place's own total is called (全省, 全国)


def _value(story: Story, v: float) -> str:
    return fmt_value(v, story.unit, story.decimals)


def _run(series: dict[int, float], year: int) -> tuple[int, int]:
    """(length, direction) of the run of consecutive yearly rises (+1) or falls (-1) ending in `year`."""
    length, direction = 0, 0
    y = year
    while y in series and y - 1 in series:
        step = series[y] - series[y - 1]
        sign = (step > 0) - (step < 0)
        if sign == 0 or (direction and sign != direction):
            break
        direction, length, y = sign, length + 1, y - 1
    return length, direction


def headline(story: Story) -> str:
    now = story.series.get(story.year)
    if now is None or (isinstance(now, float) and math.isnan(now)):
        return f"{story.year}年{story.place}暂无{story.name}数据。"
    text = f"{story.year}年{story.place}{story.name}为{_value(story, now)}"
    before = story.series.get(story.year - 1)
    change = pct_change(now, before)
    if change is None:
        text += "，上年无可比数据"
    elif round(change, 1) == 0:
        text += "，与上年持平"
    else:
        word = "增加" if now > before else "减少"
        text += f"，比上年{word}{_value(story, abs(now - before))}（{fmt_change(change)}）"
    length, direction = _run(story.series, story.year)
    if length >= MIN_RUN:
        text += f"，已连续{length}年{'上升' if direction > 0 else '下降'}"
    return text + "。"


def counties_sentence(story: Story) -> str:
    if not story.counties:
        return ""
    ranked = sorted(story.counties, key=lambda c: c[1], reverse=story.higher_is_better is not False)
    if len(ranked) == 1:
        text = f"仅有{ranked[0][0]}的{story.word}数据（{_value(story, ranked[0][1])}）"
    else:
        first, last = ("最高", "最低") if story.higher_is_better is not False else ("最低", "最高")
        text = (
            f"{len(ranked)}个{story.word}中，{ranked[0][0]}{first}（{_value(story, ranked[0][1])}），"
            f"{ranked[-1][0]}{last}（{_value(story, ranked[-1][1])}）"
        )
    if story.target is not None:
        below = [name for name, v in ranked if story.target.meets(v) is False]
        goal = f"目标{story.target.goal_words}{_value(story, story.target.value)}"
        text += f"；{goal}，" + (
            f"{len(below)}个{story.word}未达标：{'、'.join(below)}" if below else f"各{story.word}均已达标"
        )
    return text + "。"


def published_sentence(story: Story) -> str:
    """The latest published figure of the place, and whether the data agree with it (within
    half a unit of its last written digit: 2.3万张 agrees with 23,040)."""
    if not story.published:
        return ""
    year, value, written, document, tolerance = max(story.published)
    ours = story.series.get(year)
    if ours is None or (isinstance(ours, float) and math.isnan(ours)):
        return f"{document}公布{story.place}{year}年{story.name}为{written}，本库暂无该年数据。"
    if abs(ours - value) <= tolerance + 1e-9 * abs(value):
        return f"{year}年数值与{document}公布的{written}一致。"
    return (
        f"{year}年数值{_value(story, ours)}，与{document}公布的{written}相差"
        f"{fmt_change(pct_change(ours, value))}。"
    )


def caveat(story: Story) -> str:
    parts = []
    if story.missing:
        missing = "、".join(story.missing[:12]) + (
            f"等{len(story.missing)}个{story.word}" if len(story.missing) > 12 else ""
        )
        parts.append(f"{missing}缺少{story.year}年数据，{story.whole}合计仅在所有{story.word}都有数据时计算")
    if story.sample:
        parts.append("以上为示例数据，并非真实统计")
    return ("注：" + "；".join(parts) + "。") if parts else ""


def sentences(story: Story) -> list[str]:
    """Headline, counties (and target), the published figure, caveats — empty ones dropped."""
    return [
        s for s in (headline(story), counties_sentence(story), published_sentence(story), caveat(story)) if s
    ]


def text(story: Story) -> str:
    return "".join(sentences(story))
