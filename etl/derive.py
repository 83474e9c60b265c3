"""Aggregation to cities and provinces, and ratios from summed parts, driven by the catalog.

Rules (DESIGN §3): a parent row exists only where every child (county, or city) has a
value, so a city total never silently omits a county; a reported total wins over the
aggregate, and a difference above 1 % is a warning; ratios are always computed from the
summed parts at each level — never as a mean of the children's ratios.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .catalog import Catalog
from .issues import Issue, error, fact_location, warning
from .regions import Registry

KEY = ["region_code", "year", "indicator_id"]
TOLERANCE = 0.01
_LEVEL_STEPS = (("county", "city"), ("city", "province"))


def derive(reported: pd.DataFrame, catalog: Catalog, registry: Registry) -> tuple[pd.DataFrame, list[Issue]]:
    """`reported` has KEY + value (+ lineage columns); returns all facts with an `origin` column."""
    facts = reported.assign(origin="reported")
    issues: list[Issue] = []
    regions = registry.frame()[["code", "level", "parent_code", "kind"]]
    sums = [i.id for i in catalog.indicators.values() if i.agg == "sum"]
    means = [i for i in catalog.indicators.values() if i.agg == "weighted_mean"]
    for child_level, parent_level in _LEVEL_STEPS:
        children = _with_region(facts, regions, child_level)
        expected = _expected_children(regions, child_level)
        parts = [_aggregate_sums(children, sums, expected)]
        parts += [_aggregate_weighted(children, ind.id, ind.weight, expected) for ind in means]
        facts, found = _merge_parent(facts, pd.concat(parts, ignore_index=True), "aggregated", catalog, registry)
        issues += found
    for ind in catalog.indicators.values():
        if ind.agg == "ratio":
            facts, found = _merge_parent(facts, _ratio(facts, ind), "derived", catalog, registry)
            issues += found
    return facts.sort_values(KEY, ignore_index=True), issues


def _with_region(facts: pd.DataFrame, regions: pd.DataFrame, level: str) -> pd.DataFrame:
    merged = facts.merge(regions, left_on="region_code", right_on="code", how="inner")
    merged = merged[merged["level"] == level]
    return merged.assign(core=merged["kind"] != "zone")


def _expected_children(regions: pd.DataFrame, level: str) -> pd.Series:
    """Children a parent must have values for: every non-zone child (zones count when present)."""
    core = regions[(regions["level"] == level) & (regions["kind"] != "zone")]
    return core.groupby("parent_code").size()


def _complete(grouped: pd.DataFrame, expected: pd.Series) -> pd.DataFrame:
    need = grouped["parent_code"].map(expected)
    return grouped[grouped["n"] == need]


def _aggregate_sums(children: pd.DataFrame, sums: list[str], expected: pd.Series) -> pd.DataFrame:
    rows = children[children["indicator_id"].isin(sums)]
    grouped = (rows.groupby(["parent_code", "year", "indicator_id"], as_index=False)
               .agg(value=("value", "sum"), n=("core", "sum")))
    done = _complete(grouped, expected)
    return done.rename(columns={"parent_code": "region_code"})[KEY + ["value"]]


def _aggregate_weighted(children: pd.DataFrame, ind_id: str, weight_id: str, expected: pd.Series) -> pd.DataFrame:
    """Mean of a rate (e.g. 低保标准) weighted by its base (recipients), over complete parents."""
    v = children[children["indicator_id"] == ind_id][["region_code", "parent_code", "year", "value", "core"]]
    w = children[children["indicator_id"] == weight_id][["region_code", "year", "value"]]
    both = v.merge(w, on=["region_code", "year"], suffixes=("", "_w"))
    both = both.assign(vw=both["value"] * both["value_w"])
    grouped = (both.groupby(["parent_code", "year"], as_index=False)
               .agg(vw=("vw", "sum"), w=("value_w", "sum"), n=("core", "sum")))
    done = _complete(grouped, expected)
    done = done[done["w"] > 0]
    return pd.DataFrame({"region_code": done["parent_code"], "year": done["year"],
                         "indicator_id": ind_id, "value": done["vw"] / done["w"]})


def _ratio(facts: pd.DataFrame, ind) -> pd.DataFrame:
    """sum(numerator parts) / sum(denominator parts) × scale wherever every part is present."""
    parts = list(dict.fromkeys(ind.numerator + ind.denominator))
    wide = (facts[facts["indicator_id"].isin(parts)]
            .pivot_table(index=["region_code", "year"], columns="indicator_id", values="value", aggfunc="first"))
    if wide.empty or not set(parts) <= set(wide.columns):
        return pd.DataFrame(columns=KEY + ["value"])
    wide = wide.dropna(subset=parts)
    num = wide[list(ind.numerator)].sum(axis=1)
    den = wide[list(ind.denominator)].sum(axis=1)
    ok = den > 0
    out = (num[ok] / den[ok] * ind.scale).rename("value").reset_index()
    return out.assign(indicator_id=ind.id)[KEY + ["value"]]


def _merge_parent(facts: pd.DataFrame, computed: pd.DataFrame, origin: str,
                  catalog: Catalog, registry: Registry) -> tuple[pd.DataFrame, list[Issue]]:
    """Add computed rows where nothing is reported; where a reported value exists it wins,
    and a difference above 1 % becomes a warning pointing at the reported cell. A computed value
    beyond the catalog's range is an error, as a reported one would be (`_out_of_range`)."""
    if computed.empty:
        return facts, []
    computed, refused = _out_of_range(computed, facts, origin, catalog, registry)
    computed = computed.astype({"year": facts["year"].dtype}) if len(facts) else computed
    joined = computed.merge(facts, on=KEY, how="left", suffixes=("", "_have"), indicator=True)
    new = joined[joined["_merge"] == "left_only"][KEY + ["value"]].assign(origin=origin)
    clash = joined[joined["_merge"] == "both"]
    rel = (clash["value_have"] - clash["value"]).abs() / clash["value"].abs().where(clash["value"] != 0, np.nan)
    issues = []
    code = "ratio_mismatch" if origin == "derived" else "total_mismatch"
    for row in clash[rel > TOLERANCE].head(500).itertuples():
        ind = catalog.get(row.indicator_id)
        what = "按分项计算" if origin == "derived" else "各区县合计"
        issues.append(warning(
            code, f"{registry.name(row.region_code)}{row.year}年“{ind.name_zh}”上报值 {row.value_have:,.6g} 与"
                  f"{what} {row.value:,.6g} 相差 {abs(row.value_have - row.value) / abs(row.value):.1%}，采用上报值。",
            value=f"{row.value_have:g}", suggestion="请核对上报总数或区县数据。", **fact_location(row)))
    return pd.concat([facts, new], ignore_index=True), refused + issues


def _out_of_range(computed: pd.DataFrame, facts: pd.DataFrame, origin: str, catalog: Catalog,
                  registry: Registry) -> tuple[pd.DataFrame, list[Issue]]:
    """Computed rows that are negative, not finite or above the indicator's ceiling are errors
    naming the parts they came from (absurd parts — a 60+ population of 1e-300 — make an absurd
    ratio, 1e305 beds per 1,000 elderly, that must not be stored); the rest are returned."""
    ceilings = computed["indicator_id"].map({i.id: i.max_value for i in catalog.indicators.values()})
    values = computed["value"].astype("float64")
    bad = ~np.isfinite(values) | (values < 0) | (values > ceilings.astype("float64").fillna(np.inf))
    if not bad.any():
        return computed, []
    by_key = facts.set_index(KEY)
    issues = []
    for row in computed[bad].head(200).itertuples():
        ind = catalog.get(row.indicator_id)
        parts = (list(dict.fromkeys(ind.numerator + ind.denominator)) if origin == "derived"
                 else [c.code for c in registry.children(row.region_code)])
        shown, where = [], {}
        for part in parts:
            key = (row.region_code, row.year, part) if origin == "derived" else (part, row.year, row.indicator_id)
            if key not in by_key.index:
                continue
            found = by_key.loc[key]
            found = found.iloc[0] if isinstance(found, pd.DataFrame) else found
            label = catalog.get(part).name_zh if origin == "derived" else registry.name(part)
            part_unit = catalog.get(part).unit if origin == "derived" else ind.unit
            shown.append(f"{label} {found['value']:g}{part_unit}")
            where = where or fact_location(found)
        how = "由" + "、".join(shown[:6]) + "算得" if shown else "算得"
        unit = ind.display_unit or ind.unit
        issues.append(error(
            "out_of_range",
            f"{registry.name(row.region_code)}{row.year}年“{ind.name_zh}”{how} {row.value:g}{unit}，"
            f"超出合理范围（0～{ind.max_value:g}{unit}）。",
            value=f"{row.value:g}", suggestion="请核对这些分项的数值和单位（例如人口是否误填为万人、是否多填或少填了位数）。",
            **where))
    return computed[~bad], issues
