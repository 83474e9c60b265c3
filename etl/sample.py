"""示例数据: a deterministic generator of sample input files in all four shapes the ETL reads.

The sample is what a newcomer sees before real forms are loaded, and what the tests load
end to end, so it goes through the real readers: long CSVs for 2016–2018 (宝鸡 in GB18030,
福州 UTF-8 with BOM, 兵团 UTF-8), statistical-yearbook workbooks for 2019–2020, 民政统计季报
workbooks for 2021–2022 and the project's fill-in template for 2023–2025.

Numbers are invented but anchored: 2020 census populations where public (see
SAMPLE_POPULATION_2020), and city totals equal to figures the bureaus published (PUBLISHED,
from data/published/seed_facts.csv and research_facts.csv) in the years those describe. Everything is
labelled 示例数据 in file names and titles; the warehouse flags it as sample.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from .catalog import Catalog, load_catalog
from .regions import Registry, load_registry
from .template import reported_indicators, write_template

SEED = 20240101
CITIES = ("610300", "350100", "659000")
YEARS = range(2016, 2026)
LONG_YEARS, YEARBOOK_YEARS, QUARTERLY_YEARS = range(2016, 2019), range(2019, 2021), range(2021, 2023)
CSV_ENCODING = {"610300": "gb18030", "350100": "utf-8-sig", "659000": "utf-8"}
LABEL = "示例数据"
COUNT_UNITS = {"人", "户", "张", "家", "个", "人次", "对"}

# 2020 census (七普) resident population. Exact where a bulletin gives it, rounded figures
# (万人) where only those were found; 扶风/眉县/凤县 share what the city total leaves.
# Sources: data/published/research_facts.csv. 兵团 cities: invented sample values.
SAMPLE_POPULATION_2020 = {
    "610300": 3_321_853,
    "610302": 535_800, "610303": 461_000, "610304": 479_179, "610305": 386_156, "610323": 365_209,
    "610327": 208_482, "610328": 99_510, "610329": 73_000, "610331": 39_630,
    "610324": None, "610326": None, "610330": None,
    "350100": 8_291_268,
    "350102": 669_090, "350103": 411_000, "350104": 1_142_000, "350105": 290_554, "350111": 789_775,
    "350112": 790_000, "350121": 988_200, "350122": 639_000, "350123": 255_214, "350124": 256_181,
    "350125": 281_216, "350128": 385_981, "350181": 1_390_487,
    "659001": 700_000, "659002": 330_000, "659003": 270_000, "659004": 150_000, "659005": 90_000,
    "659006": 250_000, "659007": 60_000, "659008": 80_000, "659009": 70_000, "659010": 70_000,
    "659011": 60_000, "659012": 50_000,
}
ROUNDED = {"610302", "610303", "610329", "350103", "350104", "350112", "350122"}  # 万人, one decimal
_REMAINDER_WEIGHTS = {"610324": 0.48, "610326": 0.40, "610330": 0.12}

# City totals the sample must equal, in catalog units: (city, year, indicator) → value.
# 宝鸡 2019 and 福州 2023 from the bureaus' own reports (data/published/seed_facts.csv);
# 36‰ beds per thousand elderly fixes 宝鸡's 2019 elderly base at 23000/36×1000.
PUBLISHED = {
    ("610300", 2019, "elderly_beds"): 23_000,
    ("610300", 2019, "pop_60plus"): 638_889,
    ("610300", 2019, "temp_relief_cases"): 41_700,
    ("610300", 2019, "temp_relief_funds"): 2_844,
    ("610300", 2019, "vagrant_relief_cases"): 9_085,
    ("610300", 2019, "disability_subsidy_funds"): 8_320,
    ("610300", 2019, "marriage_registrations"): 23_000,
    ("610300", 2020, "pop_60plus"): 752_731,
    ("610300", 2020, "population"): 3_321_853,   # 七普
    ("350100", 2020, "population"): 8_291_268,   # 七普 (incl. 平潭)
    ("350100", 2023, "elderly_care_institutions"): 167,
    ("350100", 2023, "home_care_beds"): 2_375,
    ("350100", 2023, "elderly_canteens"): 528,
    ("350100", 2023, "certified_social_workers"): 9_151,
    ("350100", 2023, "population"): 8_395_000,   # 9151 / 10.9 per 10,000 (rounding range 8.36–8.43 M)
    ("350100", 2023, "near_dibao_persons"): 12_400,
    ("350100", 2023, "disability_living_subsidy_persons"): 42_000,
    ("350100", 2023, "disability_care_subsidy_persons"): 49_000,
    ("350100", 2023, "charity_organizations"): 90,
}
# 福建统计年鉴2020 表21-19: 2019 城镇/农村低保人数 by county (万人, two decimals) → persons.
FUZHOU_DIBAO_2019 = {
    "dibao_urban_persons": {"350102": 0.03, "350103": 0.12, "350104": 0.11, "350105": 0.05, "350111": 0.06,
                            "350112": 0.03, "350121": 0.03, "350122": 0.03, "350123": 0.03, "350124": 0.03,
                            "350125": 0.05, "350128": 0.04, "350181": 0.08},
    "dibao_rural_persons": {"350104": 0.14, "350105": 0.11, "350111": 0.07, "350112": 0.56, "350121": 0.72,
                            "350122": 0.70, "350123": 0.45, "350124": 0.37, "350125": 0.51, "350128": 0.56,
                            "350181": 0.74},
}
# 兵团 "十三五"末 36.8 beds per thousand elderly (data/published/research_facts.csv).
BINGTUAN_BEDS_PER_1000_2020 = 36.8

_CITY_PROFILE = {  # elderly share 2020, urban share, urban/rural 低保 standard 2020 (元/人·月)
    "610300": (0.2266, 0.55, 610, 440),
    "350100": (0.1450, 0.72, 840, 840),
    "659000": (0.1300, 0.75, 620, 470),
}


def _populations(registry: Registry) -> dict[str, float]:
    """2020 county populations summing exactly to the city's census total: exact figures stay,
    rounded ones absorb the difference (or counties without a figure share what is left)."""
    pops = {}
    for city in CITIES:
        codes = [r.code for r in registry.counties_of_city(city)]
        exact = {c: SAMPLE_POPULATION_2020[c] for c in codes if SAMPLE_POPULATION_2020.get(c) and c not in ROUNDED}
        rounded = {c: SAMPLE_POPULATION_2020[c] for c in codes if c in ROUNDED}
        unknown = [c for c in codes if not SAMPLE_POPULATION_2020.get(c)]
        total = SAMPLE_POPULATION_2020.get(city) or sum(exact.values())
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


def sample_truth(catalog: Catalog | None = None, registry: Registry | None = None) -> pd.DataFrame:
    """County values in catalog units for every reported (non-ratio) indicator: what the sample
    files say, and what the warehouse must hold after loading them."""
    catalog = catalog or load_catalog()
    registry = registry or load_registry()
    rng = np.random.default_rng(SEED)
    pops = _populations(registry)
    rows = []
    for city in CITIES:
        elderly_share, urban_share, urban_std, rural_std = _CITY_PROFILE[city]
        for county in registry.counties_of_city(city):
            c = county.code
            k = rng.uniform(0.75, 1.3, size=16)          # county character
            growth = rng.uniform(-0.008, 0.012)
            share = elderly_share * rng.uniform(0.85, 1.15)
            urban = min(0.98, urban_share * rng.uniform(0.7, 1.3)) if county.name.endswith("区") else \
                urban_share * rng.uniform(0.4, 0.8)
            noise = rng.normal(1, 0.025, size=(len(YEARS), 32))
            for n, year in enumerate(YEARS):
                t, s = year - 2020, year - 2016
                e = noise[n]
                pop = pops[c] * (1 + growth) ** t
                p60 = pop * (share + 0.0045 * t)
                urban_p = pop * urban * 0.0085 * k[0] * 0.95 ** s * e[0]
                rural_p = pop * (1 - urban) * 0.045 * k[1] * 0.94 ** s * e[1]
                ustd = urban_std * 1.055 ** t * (1 + 0.03 * (k[2] - 1))
                rstd = rural_std * 1.07 ** t * (1 + 0.03 * (k[3] - 1))
                beds = p60 * (0.027 + 0.0016 * s) * k[4] * e[2]
                workers = pop * (4.0 + 0.9 * s) / 10_000 * k[5] * e[3]
                living = pop * 0.0055 * k[6] * (1 + 0.02 * s) * e[4]
                care = pop * 0.0065 * k[7] * (1 + 0.025 * s) * e[5]
                marriages = pop * 0.0078 * 0.95 ** s * e[6]
                values = {
                    "population": pop, "pop_60plus": p60,
                    "dibao_urban_persons": urban_p, "dibao_rural_persons": rural_p,
                    "dibao_urban_households": urban_p / 1.85, "dibao_rural_households": rural_p / 2.05,
                    "dibao_urban_standard": ustd, "dibao_rural_standard": rstd,
                    "dibao_funds": (urban_p * ustd * 0.62 + rural_p * rstd * 0.5) * 12 / 10_000,
                    "tekun_persons": pop * 0.0028 * k[8] * e[7],
                    "tekun_funds": pop * 0.0028 * k[8] * e[7] * (9_000 + 600 * s) / 10_000,
                    "temp_relief_cases": pop * 0.011 * k[9] * e[8],
                    "temp_relief_funds": pop * 0.011 * k[9] * e[8] * (620 + 20 * s) / 10_000,
                    "near_dibao_persons": (urban_p + rural_p) * 0.22 * e[9],
                    "elderly_care_institutions": p60 / 4_200 * k[10] * e[10],
                    "elderly_beds": beds,
                    "nursing_beds": beds * min(0.62, 0.30 + 0.035 * s) * e[11],
                    "home_care_beds": p60 * 0.0003 * 1.4 ** s * k[11] * e[12],
                    "elderly_canteens": pop * 1.5e-5 * 1.3 ** s * k[12] * e[13],
                    "community_care_facilities": pop / 3_000 * (1 + 0.06 * s) * e[14],
                    "charity_funds_raised": pop * 2.6 * 1.06 ** s / 10_000 * k[13] * e[15],
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
    frame = _anchor(frame, catalog)
    return frame.drop(columns="city").sort_values(["region_code", "year", "indicator_id"], ignore_index=True)


def _anchor(frame: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Scale series so totals equal the published figures, then round to whole units (counts)
    or cents of 万元, putting the rounding residue where it keeps each total exact.

    An anchor scales the whole series of its city (or county), not only its year, so the
    published year sits on a smooth trend instead of sticking out of it."""
    frame = frame.copy()
    anchors = dict(PUBLISHED)
    anchors.update({(code, 2019, ind_id): round(wan * 10_000)
                    for ind_id, by_county in FUZHOU_DIBAO_2019.items() for code, wan in by_county.items()})
    for (region, ind_id), years in _group_targets(anchors).items():
        sel = ((frame["city"] == region) | (frame["region_code"] == region)) & (frame["indicator_id"] == ind_id)
        factors = {y: anchors[(region, y, ind_id)] / frame.loc[sel & (frame["year"] == y), "value"].sum()
                   for y in years}
        nearest = frame.loc[sel, "year"].map(lambda y: factors[min(years, key=lambda t: (abs(t - y), t))])
        frame.loc[sel, "value"] = frame.loc[sel, "value"] * nearest
    frame = _round(frame, catalog, anchors)
    return _bingtuan_beds(frame)


def _group_targets(targets: dict) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for region, year, ind_id in targets:
        out.setdefault((region, ind_id), []).append(year)
    return out


def _round(frame: pd.DataFrame, catalog: Catalog, targets: dict) -> pd.DataFrame:
    counts = frame["indicator_id"].map(lambda i: catalog.get(i).unit in COUNT_UNITS)
    frame["value"] = [float(round(v)) if whole else round(v, 2) for v, whole in zip(frame["value"], counts)]
    for (region, year, ind_id), total in targets.items():
        sel = (((frame["city"] == region) | (frame["region_code"] == region)) & (frame["year"] == year)
               & (frame["indicator_id"] == ind_id))
        residue = total - frame.loc[sel, "value"].sum()
        biggest = frame.loc[sel, "value"].idxmax()
        frame.loc[biggest, "value"] = round(frame.loc[biggest, "value"] + residue, 2)
    return frame


def _bingtuan_beds(frame: pd.DataFrame) -> pd.DataFrame:
    """Make the 兵团 cities' 2020 beds per thousand elderly equal the published 36.8 (to 0.05)."""
    sel = (frame["city"] == "659000") & (frame["year"] == 2020)
    p60 = frame.loc[sel & (frame["indicator_id"] == "pop_60plus"), "value"].sum()
    beds = frame.loc[sel & (frame["indicator_id"] == "elderly_beds"), "value"]
    factor = BINGTUAN_BEDS_PER_1000_2020 * p60 / 1000 / beds.sum()
    frame.loc[beds.index, "value"] = (beds * factor).round()
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
        written.append(_write_long(folder, city, name, mine[mine["year"].isin(LONG_YEARS)], catalog, registry))
        for year in YEARBOOK_YEARS:
            written.append(_write_yearbook(folder, city, name, year, mine[mine["year"] == year], catalog, registry))
        for year in QUARTERLY_YEARS:
            written.append(_write_quarterly(folder, city, name, year, mine[mine["year"] == year], catalog, registry))
        for year in YEARS:
            if year > QUARTERLY_YEARS[-1]:
                values = {(r.region_code, r.indicator_id): r.value for r in mine[mine["year"] == year].itertuples()}
                out = folder / f"{LABEL}_{year}_{name}_填报模板.xlsx"
                written.append(write_template(city, year, out, values, catalog, registry, title_note=f"（{LABEL}）"))
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
            w.writerow([registry.name(r.region_code), r.region_code, r.year, ind.name_zh, _number(r.value), ind.unit])
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
            sheet.append(["  " + _spaced(county.name)] + [_yearbook_cell(table, county.code, i.id) for i in indicators])
        sheet.append([])
        sheet.append([f"注：{LABEL}，由系统随机生成，仅供演示。"])
    book.save(path)
    return path


def _yearbook_cell(table: pd.DataFrame, code: str, ind_id: str):
    value = table.at[code, ind_id] if code in table.index and ind_id in table.columns else math.nan
    return "-" if pd.isna(value) else _number(value)


# 季报 items under their section: (section, label written on the form, indicator id).
_QUARTERLY_SECTIONS = (
    ("（一）城市最低生活保障", [("保障人数", "dibao_urban_persons"), ("保障户数", "dibao_urban_households"),
                        ("平均保障标准", "dibao_urban_standard")]),
    ("（二）农村最低生活保障", [("保障人数", "dibao_rural_persons"), ("保障户数", "dibao_rural_households"),
                        ("平均保障标准", "dibao_rural_standard")]),
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
                    text = label if resolved is not None and resolved.id == ind_id else catalog.get(ind_id).name_zh
                    item += 1
                    sheet.append([f"    {text}", f"{item:02d}", catalog.get(ind_id).unit, _number(values[ind_id])])
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
