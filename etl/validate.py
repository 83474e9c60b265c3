"""Checks across facts that do not block a load but the clerk should see (warnings).

Errors about single cells are found while resolving (`resolve.py`); what needs several
facts together lives here: year-on-year jumps beyond the catalog's bound and counties
missing from a city's return. County sums against reported totals are checked where the
totals are computed (`derive.py`). Both checks run on the facts' integer grid (`FactGrid`),
comparing neighbouring cells instead of sorting and joining text keys; only the rows that are
listed are read back from the frame for their wording and location.
"""

from __future__ import annotations

import numpy as np

from .catalog import Catalog
from .derive import FactGrid
from .issues import Issue, fact_location, warning
from .regions import Registry
from .settings import MAX_LISTED_WARNINGS

MIN_ABSOLUTE_CHANGE = 5  # in the catalog unit


def check(grid: FactGrid, catalog: Catalog, registry: Registry) -> list[Issue]:
    """Warnings about the reported facts (`FactGrid` of them, read only: `derive` goes on with it)."""
    return _yoy_jumps(grid, catalog, registry) + _missing_counties(grid, registry)


def _yoy_jumps(grid: FactGrid, catalog: Catalog, registry: Registry) -> list[Issue]:
    """Each fact against the year before, for every (region, indicator) at once on the grid;
    listed in (region, indicator, year) order."""
    bounds = np.array(
        [
            np.nan if (ind := catalog.indicators.get(i)) is None or not ind.yoy_bound else ind.yoy_bound
            for i in grid.ids
        ]
    )
    value, prev = grid.value[:, 1:, :], grid.value[:, :-1, :]
    consecutive = (grid.years[1:] == grid.years[:-1] + 1)[None, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (value - prev) / np.where(prev > 0, prev, np.nan)
        # 1 → 2 institutions is +100 % but no news: small absolute changes are never flagged.
        material = np.abs(value - prev) >= MIN_ABSOLUTE_CHANGE
        jumps = consecutive & (np.abs(change) > bounds) & material
    r, i, y = np.nonzero(jumps.transpose(0, 2, 1))
    issues = []
    shown = slice(MAX_LISTED_WARNINGS)
    listed = grid.reported.iloc[grid.source[r[shown], y[shown] + 1, i[shown]]]
    for k, row in enumerate(listed.itertuples()):
        ind = catalog.get(row.indicator_id)
        before, rise = prev[r[k], y[k], i[k]], change[r[k], y[k], i[k]]
        issues.append(
            warning(
                "yoy_jump",
                f"{registry.name(row.region_code)}{row.year}年“{ind.name_zh}”为 {row.value:,.6g}，"
                f"比上年（{before:,.6g}）{'增加' if rise > 0 else '减少'} {abs(rise):.0%}，"
                f"超过通常波动范围（±{bounds[i[k]]:.0%}）。",
                value=f"{row.value:g}",
                suggestion="请确认数值和单位无误；口径调整请在报送说明中注明。",
                **fact_location(row),
            )
        )
    if len(r) > MAX_LISTED_WARNINGS:
        issues.append(
            warning("yoy_jump", f"另有 {len(r) - MAX_LISTED_WARNINGS} 条同比变化过大的数据未逐条列出。")
        )
    return issues


def _missing_counties(grid: FactGrid, registry: Registry) -> list[Issue]:
    """Per city and year: which counties lack indicators that other counties of the city reported.

    Counted on the grid for all cities at once (a national file has ~340 cities × 10 years):
    a city-year wants every indicator any of its (non-zone) counties reported; only the city-years
    with a shortfall are turned into messages, in (city, year) order."""
    counties = np.flatnonzero((grid.level == 0) & grid.core)  # in code order
    if not len(counties):
        return []
    counties = counties[np.argsort(grid.parent[counties], kind="stable")]  # by city, then code
    city = grid.parent[counties]
    starts = np.flatnonzero(np.r_[True, city[1:] != city[:-1]])  # each city's first county
    ends = np.r_[starts[1:], len(city)]
    has = grid.origin[counties] >= 0  # county × year × indicator
    wanted = np.logical_or.reduceat(has, starts, axis=0).sum(axis=2)  # city × year
    n = np.repeat(wanted, ends - starts, axis=0)  # per county: its city's count
    short = (has.sum(axis=2) < n) & (n > 0)
    issues = []
    for g, y in zip(*np.nonzero(np.logical_or.reduceat(short, starts, axis=0))):
        members = slice(starts[g], ends[g])
        codes = grid.codes[counties[members][short[members, y]]].tolist()
        names = "、".join(registry.name(c) for c in codes[:15]) + ("等" if len(codes) > 15 else "")
        issues.append(
            warning(
                "missing_counties",
                f"{registry.name(grid.codes[city[starts[g]]])}{grid.years[y]}年：{names} "
                f"共{len(codes)}个区县缺少部分或全部指标数据"
                f"（本次共{wanted[g, y]}项指标），这些指标不生成全市合计。",
                suggestion="请催报缺少的区县，补齐后重新导入。",
            )
        )
        if len(issues) >= MAX_LISTED_WARNINGS:
            break
    return issues
