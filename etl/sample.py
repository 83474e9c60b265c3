"""示例数据: a deterministic generator of sample input files in all four shapes the ETL reads.

The sample is what a newcomer sees before real forms are loaded, and what the tests load
end to end, so it goes through the real readers: long CSVs for 2016–2018 (宝鸡 in GB18030,
福州 UTF-8 with BOM, 兵团 UTF-8), statistical-yearbook workbooks for 2019–2020, 民政统计季报
workbooks for 2021–2022 and the project's fill-in template for 2023–2025.

Numbers are invented but anchored to what the bureaus published: 2020 census populations where
public, and city (or county) totals equal to published figures in the years those describe. The
anchor figures are read from data/published/ (seed_facts.csv, research_facts.csv, loaded by
etl/published.py, converted to catalog units there); this module only names which figures anchor
the sample, and keeps the assumptions no bureau published. Everything is labelled 示例数据 in file
names and titles; the warehouse flags it as sample.
"""

from __future__ import annotations

import csv
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from .catalog import Catalog, load_catalog
from .published import COMPARABLE_PERIODS, load_published
from .regions import Registry, load_registry
from .template import reported_indicators, write_template
from .units import conversion_factor

SEED = 20240101
CITIES = ("610300", "350100", "659000")
YEARS = range(2016, 2026)
LONG_YEARS, YEARBOOK_YEARS, QUARTERLY_YEARS = range(2016, 2019), range(2019, 2021), range(2021, 2023)
CSV_ENCODING = {"610300": "gb18030", "350100": "utf-8-sig", "659000": "utf-8"}
LABEL = "示例数据"
COUNT_UNITS = {"人", "户", "张", "家", "个", "人次", "对"}
CENSUS_YEAR = 2020

# ------------------------------------------------ anchors: which published figures, read from data/published

# Totals the sample must equal, (region, year, indicator): the value is the figure data/published
# gives for that key (a year total or year-end stock; an exact figure wins over a rounded one).
# 宝鸡 2019 from the 局长's 2020 speech and 福州 2023 from the bureau's report (seed_facts.csv);
# census totals from research_facts.csv.
ANCHORS = (
    ("610300", 2019, "elderly_beds"),
    ("610300", 2019, "temp_relief_cases"),
    ("610300", 2019, "temp_relief_funds"),
    ("610300", 2019, "vagrant_relief_cases"),
    ("610300", 2019, "disability_subsidy_funds"),
    ("610300", 2019, "marriage_registrations"),
    ("610300", 2020, "pop_60plus"),
    ("610300", 2020, "population"),
    ("350100", 2020, "population"),
    ("350100", 2023, "elderly_care_institutions"),
    ("350100", 2023, "home_care_beds"),
    ("350100", 2023, "elderly_canteens"),
    ("350100", 2023, "certified_social_workers"),
    ("350100", 2023, "near_dibao_persons"),
    ("350100", 2023, "disability_living_subsidy_persons"),
    ("350100", 2023, "disability_care_subsidy_persons"),
    ("350100", 2023, "charity_organizations"),
)
# Every county of the city that has the figure that year (福建统计年鉴2020 表21-19 in
# research_facts.csv). The city rows of that table are not anchors: they differ from the county
# sums by the table's own rounding (0.71 vs 0.69 万人 urban), and the county figures are the finer ones.
COUNTY_ANCHORS = (
    ("350100", 2019, "dibao_urban_persons"),
    ("350100", 2019, "dibao_rural_persons"),
)
# A published ratio whose numerator is published too fixes the denominator: numerator / ratio ×
# scale, rounded to the given digits. Derived, not published: 36‰ beds per thousand elderly
# makes 宝鸡's 2019 elderly base 23000 / 36 × 1000; 10.9 certified social workers per 10,000 makes
# 福州's 2023 population 9151 / 10.9 × 10,000, to the thousand only (10.9 is 10.85–10.95, so
# 8.36–8.43 million: more digits would be invented).
DERIVED_DENOMINATORS = {
    ("610300", 2019, "beds_per_1000_elderly"): 0,
    ("350100", 2023, "social_workers_per_10k"): -3,
}
# Published city ratios met by scaling the numerator after rounding: 兵团 "十三五"末 beds per
# thousand elderly (research_facts.csv); data/published has neither its bed nor its elderly count.
RATIO_ANCHORS = (("659000", 2020, "beds_per_1000_elderly"),)
# Published figures under a label the catalog does not map, named by the label as written; the
# figure is the sum of those rows (research_facts.csv). 福州's census total carries a long note
# about 平潭 that defeats the alias match; 陈仓区's census bulletin gives its population only by
# area (川塬 + 山区), whose sum is the county's exact total (the rounded 47.9 万 is also published).
LABELLED = {
    ("350100", CENSUS_YEAR, "population"): ("常住人口（七普，含平潭；县级分列只列12个县(市)区）",),
    ("610304", CENSUS_YEAR, "population"): ("川塬地区常住人口（七普）", "山区常住人口（七普）"),
}

# ------------------------------------------------ assumptions: not published anywhere in data/published

# 兵团 cities' 2020 populations: invented sample values (data/published has none for 2020).
ASSUMED_POPULATION_2020 = {
    "659001": 700_000,
    "659002": 330_000,
    "659003": 270_000,
    "659004": 150_000,
    "659005": 90_000,
    "659006": 250_000,
    "659007": 60_000,
    "659008": 80_000,
    "659009": 70_000,
    "659010": 70_000,
    "659011": 60_000,
    "659012": 50_000,
}
# 扶风/眉县/凤县 have no published census figure: they share what 宝鸡's total leaves, in these
# invented proportions.
_REMAINDER_WEIGHTS = {"610324": 0.48, "610326": 0.40, "610330": 0.12}

_CITY_PROFILE = {  # invented: elderly share 2020, urban share, urban/rural 低保 standard 2020 (元/人·月)
    "610300": (None, 0.55, 610, 440),  # None: the census share (_elderly_share)
    "350100": (0.1450, 0.72, 840, 840),
    "659000": (0.1300, 0.75, 620, 470),
}


class Published:
    """The figures of data/published the sample anchors to, in catalog units (etl/published.py
    maps and converts them), looked up by (region, year, indicator)."""

    def __init__(self, catalog: Catalog, registry: Registry):
        df = load_published(catalog, registry)
        self.rows = df[df["year"].notna() & df["period"].isin(COMPARABLE_PERIODS)].astype({"year": "int64"})
        self.catalog = catalog

    def find(self, region: str, year: int, ind_id: str) -> tuple[float, bool] | None:
        """(value, rounded) of the figure for the key, or None when data/published has none."""
        if (region, year, ind_id) in LABELLED:
            return self._labelled(region, year, ind_id), False
        rows = self.rows[
            (self.rows["region_code"] == region)
            & (self.rows["year"] == year)
            & (self.rows["indicator_id"] == ind_id)
            & self.rows["value"].notna()
        ]
        exact = rows[~rows["approx"]]
        rows = exact if len(exact) else rows
        values = set(rows["value"])
        if len(values) > 1:
            raise ValueError(
                f"data/published: {region} {year} {ind_id} has differing figures {sorted(values)}"
            )
        return (rows["value"].iloc[0], exact.empty) if values else None

    def figure(self, region: str, year: int, ind_id: str) -> float:
        found = self.find(region, year, ind_id)
        if found is None:
            raise ValueError(
                f"data/published has no figure for {region} {year} {ind_id}, which the sample is anchored to"
            )
        return found[0]

    def _labelled(self, region: str, year: int, ind_id: str) -> float:
        ind = self.catalog.get(ind_id)
        total = Fraction(0)
        for label in LABELLED[(region, year, ind_id)]:
            rows = self.rows[
                (self.rows["region_code"] == region)
                & (self.rows["year"] == year)
                & (self.rows["indicator_zh"] == label)
            ].drop_duplicates("value_written")
            if len(rows) != 1:
                raise ValueError(f"data/published: {len(rows)} figures for {region} {year} “{label}”")
            written = rows.iloc[0]
            factor = conversion_factor(written["unit_written"], ind.unit, ind.display_unit)
            if factor is None:
                raise ValueError(
                    f"data/published: unit “{written['unit_written']}” of “{label}” "
                    f"does not convert to {ind.unit}"
                )
            total += Fraction(written["value_written"].replace(",", "")) * factor
        return float(total)

    def anchors(self, registry: Registry) -> dict[tuple[str, int, str], float]:
        """Every total the sample must equal: (region, year, indicator) → value in catalog units."""
        out = {key: self.figure(*key) for key in ANCHORS}
        for key, digits in DERIVED_DENOMINATORS.items():
            ratio = self.catalog.get(key[2])
            (numerator,), (denominator,) = ratio.numerator, ratio.denominator
            value = self.figure(key[0], key[1], numerator) / self.figure(*key) * ratio.scale
            out[(key[0], key[1], denominator)] = round(value, digits) if digits else round(value)
        for city, year, ind_id in COUNTY_ANCHORS:
            for county in registry.counties_of_city(city):
                found = self.find(county.code, year, ind_id)
                if found is not None:
                    out[(county.code, year, ind_id)] = found[0]
        return out


def _populations(registry: Registry, published: Published) -> dict[str, float]:
    """2020 county populations summing exactly to the city's census total: exact figures stay,
    rounded ones absorb the difference (or counties without a figure share what is left)."""
    pops = {}
    for city in CITIES:
        codes = [r.code for r in registry.counties_of_city(city)]
        census = {c: published.find(c, CENSUS_YEAR, "population") for c in [city, *codes]}
        census.update(
            {
                c: (ASSUMED_POPULATION_2020[c], False)
                for c in codes
                if census[c] is None and c in ASSUMED_POPULATION_2020
            }
        )
        exact = {c: census[c][0] for c in codes if census[c] and not census[c][1]}
        rounded = {c: census[c][0] for c in codes if census[c] and census[c][1]}
        unknown = [c for c in codes if not census[c]]
        total = census[city][0] if census[city] else sum(exact.values())
        left = total - sum(exact.values())
        if unknown:
            left -= sum(rounded.values())
            shares = {c: left * _REMAINDER_WEIGHTS.get(c, 1 / len(unknown)) for c in unknown}
        else:
            shares = {c: v * left / sum(rounded.values()) for c, v in rounded.items()} if rounded else {}
            rounded = {}
        filled = {**exact, **rounded, **{c: float(round(v)) for c, v in shares.items()}}
        if unknown or shares:
            last = max(shares, key=shares.get)
            filled[last] += total - sum(filled.values())
        pops.update(filled)
    return pops


def _elderly_share(city: str, published: Published, assumed: float | None) -> float:
    """The city's 2020 share of people 60+: the census share where both census figures are
    published, to four digits as the bulletin writes it (宝鸡 22.66%); else the assumed one."""
    p60 = published.find(city, CENSUS_YEAR, "pop_60plus")
    pop = published.find(city, CENSUS_YEAR, "population")
    if p60 is not None and pop is not None:
        return round(p60[0] / pop[0], 4)
    if assumed is None:
        raise ValueError(f"no elderly share for {city}: data/published lacks its 2020 census figures")
    return assumed


def sample_truth(catalog: Catalog | None = None, registry: Registry | None = None) -> pd.DataFrame:
    """County values in catalog units for every reported (non-ratio) indicator: what the sample
    files say, and what the warehouse must hold after loading them."""
    catalog = catalog or load_catalog()
    registry = registry or load_registry()
    published = Published(catalog, registry)
    rng = np.random.default_rng(SEED)
    pops = _populations(registry, published)
    rows = []
    for city in CITIES:
        assumed_share, urban_share, urban_std, rural_std = _CITY_PROFILE[city]
        elderly_share = _elderly_share(city, published, assumed_share)
        for county in registry.counties_of_city(city):
            c = county.code
            k = rng.uniform(0.75, 1.3, size=16)  # county character
            growth = rng.uniform(-0.008, 0.012)
            share = elderly_share * rng.uniform(0.85, 1.15)
            urban = (
                min(0.98, urban_share * rng.uniform(0.7, 1.3))
                if county.name.endswith("区")
                else urban_share * rng.uniform(0.4, 0.8)
            )
            noise = rng.normal(1, 0.025, size=(len(YEARS), 32))
            for n, year in enumerate(YEARS):
                t, s = year - 2020, year - 2016
                e = noise[n]
                pop = pops[c] * (1 + growth) ** t
                p60 = pop * (share + 0.0045 * t)
                urban_p = pop * urban * 0.0085 * k[0] * 0.95**s * e[0]
                rural_p = pop * (1 - urban) * 0.045 * k[1] * 0.94**s * e[1]
                ustd = urban_std * 1.055**t * (1 + 0.03 * (k[2] - 1))
                rstd = rural_std * 1.07**t * (1 + 0.03 * (k[3] - 1))
                beds = p60 * (0.027 + 0.0016 * s) * k[4] * e[2]
                workers = pop * (4.0 + 0.9 * s) / 10_000 * k[5] * e[3]
                living = pop * 0.0055 * k[6] * (1 + 0.02 * s) * e[4]
                care = pop * 0.0065 * k[7] * (1 + 0.025 * s) * e[5]
                marriages = pop * 0.0078 * 0.95**s * e[6]
                values = {
                    "population": pop,
                    "pop_60plus": p60,
                    "dibao_urban_persons": urban_p,
                    "dibao_rural_persons": rural_p,
                    "dibao_urban_households": urban_p / 1.85,
                    "dibao_rural_households": rural_p / 2.05,
                    "dibao_urban_standard": ustd,
                    "dibao_rural_standard": rstd,
                    "dibao_funds": (urban_p * ustd * 0.62 + rural_p * rstd * 0.5) * 12 / 10_000,
                    "tekun_persons": pop * 0.0028 * k[8] * e[7],
                    "tekun_funds": pop * 0.0028 * k[8] * e[7] * (9_000 + 600 * s) / 10_000,
                    "temp_relief_cases": pop * 0.011 * k[9] * e[8],
                    "temp_relief_funds": pop * 0.011 * k[9] * e[8] * (620 + 20 * s) / 10_000,
                    "near_dibao_persons": (urban_p + rural_p) * 0.22 * e[9],
                    "elderly_care_institutions": p60 / 4_200 * k[10] * e[10],
                    "elderly_beds": beds,
                    "nursing_beds": beds * min(0.62, 0.30 + 0.035 * s) * e[11],
                    "home_care_beds": p60 * 0.0003 * 1.4**s * k[11] * e[12],
                    "elderly_canteens": pop * 1.5e-5 * 1.3**s * k[12] * e[13],
                    "community_care_facilities": pop / 3_000 * (1 + 0.06 * s) * e[14],
                    "charity_funds_raised": pop * 2.6 * 1.06**s / 10_000 * k[13] * e[15],
                    "charity_organizations": pop / 60_000 * (1 + 0.1 * s) * e[16],
                    "charity_beneficiaries": pop * 0.015 * (1 + 0.05 * s) * e[17],
                    "certified_social_workers": workers,
                    "social_work_stations": pop / 45_000 * min(1.0, 0.3 + 0.1 * s) * e[18],
                    "disability_living_subsidy_persons": living,
                    "disability_care_subsidy_persons": care,
                    "disability_subsidy_funds": (living * 82 + care * 95) * 12 / 10_000 * e[19],
                    "marriage_registrations": marriages,
                    "divorce_registrations": marriages * 0.36 * e[20],
                    "vagrant_relief_cases": pop * 0.0024 * k[14] * e[21],
                    "social_organizations": pop / 1_700 * k[15] * (1 + 0.03 * s) * e[22],
                }
                for ind_id, value in values.items():
                    rows.append((c, city, year, ind_id, value))
    frame = pd.DataFrame(rows, columns=["region_code", "city", "year", "indicator_id", "value"])
    missing = {i.id for i in catalog.indicators.values() if not i.is_ratio} - set(frame["indicator_id"])
    if missing:
        raise ValueError(f"sample generator lacks indicators: {sorted(missing)}")
    frame = frame[frame["indicator_id"].isin([i.id for i in catalog.indicators.values()])]
    frame = _anchor(frame, catalog, published, registry)
    return frame.drop(columns="city").sort_values(["region_code", "year", "indicator_id"], ignore_index=True)


def _anchor(frame: pd.DataFrame, catalog: Catalog, published: Published, registry: Registry) -> pd.DataFrame:
    """Scale series so totals equal the published figures, then round to whole units (counts)
    or cents of 万元, putting the rounding residue where it keeps each total exact.

    An anchor scales the whole series of its city (or county), not only its year, so the
    published year sits on a smooth trend instead of sticking out of it."""
    frame = frame.copy()
    anchors = published.anchors(registry)
    for (region, ind_id), years in _group_targets(anchors).items():
        sel = ((frame["city"] == region) | (frame["region_code"] == region)) & (
            frame["indicator_id"] == ind_id
        )
        factors = {
            y: anchors[(region, y, ind_id)] / frame.loc[sel & (frame["year"] == y), "value"].sum()
            for y in years
        }
        # each year scales by the factor of its nearest anchor year (the earlier one on a tie)
        scale = {
            y: factors[min(years, key=lambda t, y=y: (abs(t - y), t))]
            for y in frame.loc[sel, "year"].unique()
        }
        frame.loc[sel, "value"] = frame.loc[sel, "value"] * frame.loc[sel, "year"].map(scale)
    frame = _round(frame, catalog, anchors)
    return _ratio_anchors(frame, catalog, published)


def _group_targets(targets: dict) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for region, year, ind_id in targets:
        out.setdefault((region, ind_id), []).append(year)
    return out


def _round(frame: pd.DataFrame, catalog: Catalog, targets: dict) -> pd.DataFrame:
    counts = frame["indicator_id"].map(lambda i: catalog.get(i).unit in COUNT_UNITS)
    frame["value"] = [float(round(v)) if whole else round(v, 2) for v, whole in zip(frame["value"], counts)]
    for (region, year, ind_id), total in targets.items():
        sel = (
            ((frame["city"] == region) | (frame["region_code"] == region))
            & (frame["year"] == year)
            & (frame["indicator_id"] == ind_id)
        )
        residue = total - frame.loc[sel, "value"].sum()
        biggest = frame.loc[sel, "value"].idxmax()
        frame.loc[biggest, "value"] = round(frame.loc[biggest, "value"] + residue, 2)
    return frame


def _ratio_anchors(frame: pd.DataFrame, catalog: Catalog, published: Published) -> pd.DataFrame:
    """Make each city ratio of RATIO_ANCHORS equal its published figure (兵团 2020: 36.8 beds per
    thousand elderly, to 0.05) by scaling the numerator's county values."""
    for city, year, ind_id in RATIO_ANCHORS:
        ratio = catalog.get(ind_id)
        (numerator,), (denominator,) = ratio.numerator, ratio.denominator
        sel = (frame["city"] == city) & (frame["year"] == year)
        base = frame.loc[sel & (frame["indicator_id"] == denominator), "value"].sum()
        values = frame.loc[sel & (frame["indicator_id"] == numerator), "value"]
        factor = published.figure(city, year, ind_id) * base / ratio.scale / values.sum()
        frame.loc[values.index, "value"] = (values * factor).round()
    return frame


# ---------------------------------------------------------------- writing the four shapes


def generate(folder: Path, catalog: Catalog | None = None, registry: Registry | None = None) -> list[Path]:
    """Write every sample input file into `folder` (replacing earlier sample files)."""
    catalog = catalog or load_catalog()
    registry = registry or load_registry()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{LABEL}_*"):
        old.unlink()
    truth = sample_truth(catalog, registry)
    truth = truth.assign(city=truth["region_code"].map(registry.city_of))
    written = []
    for city in CITIES:
        mine = truth[truth["city"] == city]
        name = registry.name(city)
        written.append(
            _write_long(folder, city, name, mine[mine["year"].isin(LONG_YEARS)], catalog, registry)
        )
        for year in YEARBOOK_YEARS:
            written.append(
                _write_yearbook(folder, city, name, year, mine[mine["year"] == year], catalog, registry)
            )
        for year in QUARTERLY_YEARS:
            written.append(
                _write_quarterly(folder, city, name, year, mine[mine["year"] == year], catalog, registry)
            )
        for year in YEARS:
            if year > QUARTERLY_YEARS[-1]:
                values = {
                    (r.region_code, r.indicator_id): r.value for r in mine[mine["year"] == year].itertuples()
                }
                out = folder / f"{LABEL}_{year}_{name}_填报模板.xlsx"
                written.append(
                    write_template(city, year, out, values, catalog, registry, title_note=f"（{LABEL}）")
                )
    return written


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _write_long(folder, city, name, rows, catalog, registry) -> Path:
    path = folder / f"{LABEL}_{LONG_YEARS[0]}-{LONG_YEARS[-1]}_{name}_长表.csv"
    with path.open("w", encoding=CSV_ENCODING[city], newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["地区", "区划代码", "年份", "指标", "数值", "单位"])
        for r in rows.sort_values(["year", "region_code", "indicator_id"]).itertuples():
            ind = catalog.get(r.indicator_id)
            w.writerow(
                [registry.name(r.region_code), r.region_code, r.year, ind.name_zh, _number(r.value), ind.unit]
            )
    return path


def _spaced(name: str) -> str:
    """Yearbooks pad two-character names to the width of three: "眉县" → "眉 县"."""
    return f"{name[0]} {name[1]}" if len(name) == 2 else name


def _city_total(rows: pd.DataFrame, ind, catalog) -> float | None:
    values = rows[rows["indicator_id"] == ind.id].set_index("region_code")["value"]
    if ind.agg == "weighted_mean":
        w = rows[rows["indicator_id"] == ind.weight].set_index("region_code")["value"]
        return round(float((values * w).sum() / w.sum()), 2)
    return round(float(values.sum()), 2)


def _write_yearbook(folder, city, name, year, rows, catalog, registry) -> Path:
    path = folder / f"{LABEL}_{year}_{name}_统计年鉴表.xlsx"
    book = openpyxl.Workbook()
    book.remove(book.active)
    counties = registry.counties_of_city(city)
    for n, category in enumerate(catalog.categories.values(), start=1):
        indicators = reported_indicators(catalog, category.id)
        if not indicators:
            continue
        sheet = book.create_sheet(category.name_zh)
        sheet.append([f"表{n} 各县（市、区）{category.name_zh}情况（{year}年）（{LABEL}）"])
        sheet.append([f"{category.name_en} by County ({year})"])
        sheet.append(["地  区\nRegion"] + [f"{i.name_zh}({i.unit})\n{i.name_en}" for i in indicators])
        sheet.append([_spaced(name)] + [_number(_city_total(rows, i, catalog)) for i in indicators])
        table = rows.pivot_table(index="region_code", columns="indicator_id", values="value", aggfunc="first")
        for county in counties:
            sheet.append(
                ["  " + _spaced(county.name)] + [_yearbook_cell(table, county.code, i.id) for i in indicators]
            )
        sheet.append([])
        sheet.append([f"注：{LABEL}，由系统随机生成，仅供演示。"])
    book.save(path)
    return path


def _yearbook_cell(table: pd.DataFrame, code: str, ind_id: str):
    value = table.at[code, ind_id] if code in table.index and ind_id in table.columns else math.nan
    return "-" if pd.isna(value) else _number(value)


# 季报 items under their section: (section, label written on the form, indicator id).
_QUARTERLY_SECTIONS = (
    (
        "（一）城市最低生活保障",
        [
            ("保障人数", "dibao_urban_persons"),
            ("保障户数", "dibao_urban_households"),
            ("平均保障标准", "dibao_urban_standard"),
        ],
    ),
    (
        "（二）农村最低生活保障",
        [
            ("保障人数", "dibao_rural_persons"),
            ("保障户数", "dibao_rural_households"),
            ("平均保障标准", "dibao_rural_standard"),
        ],
    ),
)


def _write_quarterly(folder, city, name, year, rows, catalog, registry) -> Path:
    path = folder / f"{LABEL}_{year}_{name}_民政统计季报.xlsx"
    book = openpyxl.Workbook()
    book.remove(book.active)
    for county in registry.counties_of_city(city):
        values = rows[rows["region_code"] == county.code].set_index("indicator_id")["value"]
        sheet = book.create_sheet(county.name)
        sheet.append([f"民政统计季报（{LABEL}）"])
        sheet.append([f"填报单位：{name}{county.name}民政局", None, None, f"{year}年第4季度"])
        sheet.append([f"行政区划代码：{county.code}"])
        sheet.append(["指标名称", "代码", "单位", "数量"])
        done: set[str] = set()
        item = 0
        for category_no, category in enumerate(catalog.categories.values()):
            sheet.append([f"{'一二三四五六七八九十'[category_no]}、{category.name_zh}"])
            for section, items in _QUARTERLY_SECTIONS if category.id == "social_relief" else ():
                sheet.append([section])
                for label, ind_id in items:
                    # The short label only where the catalog understands it in this section.
                    resolved = catalog.resolve(label, section)
                    text = (
                        label
                        if resolved is not None and resolved.id == ind_id
                        else catalog.get(ind_id).name_zh
                    )
                    item += 1
                    sheet.append(
                        [f"    {text}", f"{item:02d}", catalog.get(ind_id).unit, _number(values[ind_id])]
                    )
                    done.add(ind_id)
            for ind in reported_indicators(catalog, category.id):
                if ind.id in done:
                    continue
                item += 1
                sheet.append([f"    {ind.name_zh}", f"{item:02d}", ind.unit, _number(values[ind.id])])
        sheet.append([])
        sheet.append(["单位负责人：（示例）", None, "填表人：（示例）", f"报出日期：{year + 1}年1月15日"])
    book.save(path)
    return path
