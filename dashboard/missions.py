"""The overview's mission cards: the headline measures of 总览 (today 低保人数 as the sum of
urban and rural, 每千名老年人养老床位数, 慈善募集资金, 每万人持证社工数 — `overview.cards` of
data/catalog/views.yaml), built per version and filter state and shared by every session (a
page script's own functions are defined anew on every rerun, so a cache must live in a module)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from . import charts, filters, store, views
from .format import fmt_change, fmt_value, pct_change
from .views import Kpi


def kpis() -> tuple[Kpi, ...]:
    """The mission cards in order: label and parts (a card over several ids shows their sum)."""
    return views.load_views().overview.cards


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


def mission_cards(f: filters.Filters) -> tuple[Mapping[str, object], ...]:
    """The mission cards for these filters (st.metric arguments, read-only mappings)."""
    return _mission_cards(f, kpis())


@store.per_version(maxsize=256)
def _mission_cards(f: filters.Filters, cards_of: tuple[Kpi, ...]) -> tuple[Mapping[str, object], ...]:
    """The cards per version, filters and card definitions: computed once per process and
    shared by every session that opens the same view (the cache keeps each as a read-only
    mapping, its sparkline a tuple)."""
    meta = store.indicators()
    ids = tuple(dict.fromkeys(p for kpi in cards_of for p in kpi.parts))
    table = store.series(f.region, ids).pivot_table(
        index="year", columns="indicator_id", values="value", aggfunc="first"
    )
    cards = []
    for kpi in cards_of:
        unit, decimals, colour, help_text = describe(kpi, meta)
        values = kpi_series(table, kpi)
        current, previous = values.get(f.year_to), values.get(f.year_to - 1)
        change = pct_change(current, previous)
        cards.append(
            dict(
                label=kpi.label,
                value=fmt_value(current, unit, decimals),
                delta=fmt_change(change) if change is not None else None,
                delta_color=colour,
                delta_description="同比",
                border=True,
                help=help_text if current is not None else f"{f.year_to}年无数据。{help_text}",
                chart_data=values.loc[f.year_from : f.year_to].tolist() or None,
                chart_type="line",
            )
        )
    return tuple(cards)
