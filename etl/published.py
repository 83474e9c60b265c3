"""Published figures (公开发布数字) beside the data: load, map to the catalog, reconcile.

The figures a bureau has already published (data/published/, see SOURCE.md) go into the
warehouse as their own table `published`, never into `facts`: every column as written (region,
year, period, indicator, value, unit, approx/exact, document, quote, source address), plus the
catalog indicator it maps to (through the catalog's aliases) and the value converted exactly to
the catalog unit. Rows that map to no indicator, or whose unit does not convert, stay in the
table with the reason in `mapping_note`.

Reconciling compares a mapped figure with the warehouse value for the same region, year and
indicator. A published number is only as precise as it is written — 2.3 万张 means 22,500 to
23,500 — so "一致" is within half a unit of its last written digit. Only year totals and
year-end stocks are comparable with the yearly facts: a year-to-date, part-year, cumulative,
target or one-off event figure is "口径不同", never "偏差".
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
import pandas as pd

from .catalog import Catalog
from .paths import REFERENCE_DIR
from .regions import Registry
from .units import conversion_factor

PUBLISHED_DIR = REFERENCE_DIR / "published"
COLUMNS = [
    "source_file",
    "region_name",
    "region_code",
    "year",
    "period",
    "indicator_zh",
    "value_written",
    "unit_written",
    "approx",
    "document",
    "quote",
    "source_address",
    "indicator_id",
    "value",
    "tolerance",
    "mapping_note",
]
COMPARABLE_PERIODS = {"year", "stock"}
PERIOD_LABELS = {
    "year": "全年",
    "stock": "时点存量",
    "ytd": "年内累计",
    "part_year": "年中时点",
    "cumulative": "跨年累计",
    "target": "目标",
    "event": "单项活动",
}
STATUSES = ("一致", "偏差", "无对应数据", "口径不同")
_APPROX = re.compile(r"约|余|多|近|左右|more than|about", re.I)
_PART_YEAR = re.compile(r"截至\d{4}年\d{1,2}月")


def _seed(path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame(
        {
            "region_name": df["region_name"],
            "region_code": df["region_code"],
            "year": df["year"],
            "period": df["period"],
            "indicator_zh": df["indicator_zh"],
            "value_written": df["value"],
            "unit_written": df["unit"],
            "approx": df["kind"].eq("approx"),
            "document": df["document"],
            "quote": df["quote"],
            "source_address": "",
        }
    )


def _research(path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    period = np.where(df["indicator_zh"].str.contains(_PART_YEAR), "part_year", "year")
    return pd.DataFrame(
        {
            "region_name": df["region_name"],
            "region_code": df["region_code"],
            "year": df["year"],
            "period": period,
            "indicator_zh": df["indicator_zh"],
            "value_written": df["value"],
            "unit_written": df["unit"],
            "approx": (df["indicator_zh"] + df["unit"]).str.contains(_APPROX),
            "document": df["source_title"],
            "quote": df["quote"],
            "source_address": df["source_address"],
        }
    )


def tolerance(written: str, factor: Fraction) -> float:
    """Half a unit of the last written digit, in the catalog unit: "2.3" 万张 → 500 张."""
    try:
        exponent = Decimal(written.replace(",", "")).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    return float(Fraction(1, 2) * Fraction(10) ** exponent * factor)


def load_published(catalog: Catalog, registry: Registry) -> pd.DataFrame:
    """Both published files, every row kept, mapped to catalog indicators where one fits."""
    frames = []
    for name, reader in (("seed_facts.csv", _seed), ("research_facts.csv", _research)):
        path = PUBLISHED_DIR / name
        if path.exists():
            frames.append(reader(path).assign(source_file=name))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.concat(frames, ignore_index=True)
    missing = df["region_code"].eq("")
    if missing.any():  # provinces and other regions named without a code
        found = registry.resolve_names(df.loc[missing, "region_name"].unique().tolist())
        df.loc[missing, "region_code"] = df.loc[missing, "region_name"].map(
            lambda n: found[n].code if found[n].status in ("ok", "alias", "total") and found[n].code else ""
        )
    mapped = [_map(row, catalog) for row in df.itertuples()]
    df["indicator_id"], df["value"], df["tolerance"], df["mapping_note"] = zip(*mapped)
    df["year"] = pd.to_numeric(df["year"], errors="coerce").astype("Int64")
    return df[COLUMNS].astype({"value": "float64", "tolerance": "float64", "approx": "bool"})


def _map(row, catalog: Catalog) -> tuple:
    indicator = catalog.resolve(row.indicator_zh, "")
    if indicator is None:
        return None, np.nan, np.nan, "指标目录中没有对应指标"
    factor = conversion_factor(
        row.unit_written,
        indicator.unit,
        indicator.display_unit,
        indicator.scale if indicator.is_ratio else None,
    )
    if factor is None:
        return indicator.id, np.nan, np.nan, f"单位“{row.unit_written}”无法换算为“{indicator.unit}”"
    try:
        written = Fraction(row.value_written.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return indicator.id, np.nan, np.nan, f"数值“{row.value_written}”不是数字"
    return indicator.id, float(written * factor), tolerance(row.value_written, factor), ""


def reconcile(published: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Mapped published figures next to the warehouse value for the same region, year and
    indicator: `warehouse`, `difference`, `pct` and `status` (一致 / 偏差 / 无对应数据 / 口径不同)."""
    rows = published[published["value"].notna()].copy()
    rows["year"] = rows["year"].astype("float64")
    keyed = facts[["region_code", "year", "indicator_id", "value"]].rename(columns={"value": "warehouse"})
    keyed = keyed.astype({"year": "float64"})
    out = rows.merge(keyed, on=["region_code", "year", "indicator_id"], how="left")
    out["difference"] = out["warehouse"] - out["value"]
    out["pct"] = (out["difference"] / out["value"].abs() * 100).where(out["value"] != 0)
    comparable = out["period"].isin(COMPARABLE_PERIODS)
    within = out["difference"].abs() <= out["tolerance"] + 1e-9 * out["value"].abs()
    out["status"] = np.select(
        [~comparable, out["warehouse"].isna(), within], ["口径不同", "无对应数据", "一致"], default="偏差"
    )
    out["year"] = out["year"].astype("Int64")
    return out
