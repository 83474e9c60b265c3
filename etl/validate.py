"""Checks across facts that do not block a load but the clerk should see (warnings).

Errors about single cells are found while resolving (`resolve.py`); what needs several
facts together lives here: year-on-year jumps beyond the catalog's bound and counties
missing from a city's return. County sums against reported totals are checked where the
totals are computed (`derive.py`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .catalog import Catalog
from .issues import Issue, fact_location, warning
from .regions import Registry

MAX_LISTED = 500  # per warning class; the rest is summarised in one line
MIN_ABSOLUTE_CHANGE = 5  # in the catalog unit


def check(reported: pd.DataFrame, catalog: Catalog, registry: Registry) -> list[Issue]:
    return _yoy_jumps(reported, catalog, registry) + _missing_counties(reported, catalog, registry)


def _yoy_jumps(facts: pd.DataFrame, catalog: Catalog, registry: Registry) -> list[Issue]:
    bounds = {i.id: i.yoy_bound for i in catalog.indicators.values() if i.yoy_bound}
    df = facts[facts["indicator_id"].isin(list(bounds))].sort_values(["region_code", "indicator_id", "year"])
    if df.empty:
        return []
    same = (df["region_code"] == df["region_code"].shift()) & (df["indicator_id"] == df["indicator_id"].shift())
    consecutive = same & (df["year"] == df["year"].shift() + 1)
    prev = df["value"].shift()
    change = (df["value"] - prev) / prev.where(prev > 0, np.nan)
    limit = df["indicator_id"].map(bounds)
    # 1 → 2 institutions is +100 % but no news: small absolute changes are never flagged.
    material = (df["value"] - prev).abs() >= MIN_ABSOLUTE_CHANGE
    jumps = df.assign(prev=prev, change=change)[consecutive & (change.abs() > limit) & material]
    issues = []
    for row in jumps.head(MAX_LISTED).itertuples():
        ind = catalog.get(row.indicator_id)
        issues.append(warning(
            "yoy_jump", f"{registry.name(row.region_code)}{row.year}年“{ind.name_zh}”为 {row.value:,.6g}，"
                        f"比上年（{row.prev:,.6g}）{'增加' if row.change > 0 else '减少'} {abs(row.change):.0%}，"
                        f"超过通常波动范围（±{limit[row.Index]:.0%}）。",
            value=f"{row.value:g}", suggestion="请确认数值和单位无误；口径调整请在报送说明中注明。",
            **fact_location(row)))
    if len(jumps) > MAX_LISTED:
        issues.append(warning("yoy_jump", f"另有 {len(jumps) - MAX_LISTED} 条同比变化过大的数据未逐条列出。"))
    return issues


def _missing_counties(facts: pd.DataFrame, catalog: Catalog, registry: Registry) -> list[Issue]:
    """Per city and year: which counties lack indicators that other counties of the city reported.

    Computed with group counts over all cities at once (a national file has ~340 cities ×
    10 years); only the city-years with a shortfall are turned into messages."""
    regions = registry.frame()
    counties = regions[(regions["level"] == "county") & (regions["kind"] != "zone")][["code", "parent_code"]]
    counties = counties.rename(columns={"code": "region_code", "parent_code": "city"})
    df = facts[["region_code", "year", "indicator_id"]].merge(counties, on="region_code")
    if df.empty:
        return []
    wanted = df.groupby(["city", "year"], as_index=False).agg(n=("indicator_id", "nunique"))
    have = df.groupby(["region_code", "year"], as_index=False).agg(have=("indicator_id", "nunique"))
    expected = wanted.merge(counties, on="city").merge(have, on=["region_code", "year"], how="left")
    short = expected[expected["have"].fillna(0) < expected["n"]].sort_values(["city", "year", "region_code"])
    issues = []
    for (city, year), group in short.groupby(["city", "year"], sort=False):
        codes = group["region_code"].tolist()
        names = "、".join(registry.name(c) for c in codes[:15]) + ("等" if len(codes) > 15 else "")
        issues.append(warning(
            "missing_counties", f"{registry.name(city)}{year}年：{names} 共{len(codes)}个区县缺少部分或全部指标数据"
                                f"（本次共{group['n'].iloc[0]}项指标），这些指标不生成全市合计。",
            suggestion="请催报缺少的区县，补齐后重新导入。"))
        if len(issues) >= MAX_LISTED:
            break
    return issues
