"""Property (hypothesis): the same facts, printed in every layout, resolve to the same facts.

A random small set of facts — a few 宝鸡 counties or one region, 2–4 years, 2–3 indicators,
whole numbers or up to 2 decimals, some indicators written in 万人/万张 — is written as a long
table (CSV) and in each printed layout: regions × indicators (a sheet per year), indicators ×
years and years × indicators (a sheet per region, the region named in the title), regions × years
(a sheet per indicator, named with its unit in the title) — as workbooks or as CSV files in
UTF-8/GB18030. Every layout must resolve, without an error, to exactly the facts it was written
from, in catalog units.

Examples are derandomised and not stored (no .hypothesis/ folder in the checkout); raise
HYPOTHESIS_MAX_EXAMPLES locally for a longer hunt.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.catalog import load_catalog
from etl.readers import read_source
from etl.regions import load_registry
from etl.resolve import resolve
from etl.sources import load_source

EXAMPLES = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "30"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
CATALOG = load_catalog()
REGISTRY = load_registry()

# (as written in a region column, as the title of a one-region table names it, code)
COUNTIES = [
    ("渭滨区", "宝鸡市渭滨区", "610302"),
    ("金台区", "宝鸡市金台区", "610303"),
    ("岐山县", "宝鸡市岐山县", "610323"),
    ("眉 县", "宝鸡市眉县", "610326"),
    ("凤 县", "宝鸡市凤县", "610330"),
    ("太白县", "宝鸡市太白县", "610331"),
]
SINGLE = [("福建省", "福建省", "350000"), ("宝鸡市", "宝鸡市", "610300"), ("眉县", "宝鸡市眉县", "610326")]
# (label, catalog unit, id, English line)
INDICATORS = [
    ("城市低保人数", "人", "dibao_urban_persons", "Urban MLG recipients"),
    ("农村低保人数", "人", "dibao_rural_persons", "Rural MLG recipients"),
    ("养老床位数", "张", "elderly_beds", "Beds for the elderly"),
]
VALUE = st.one_of(
    st.none(),
    st.integers(0, 400_000).map(Decimal),
    st.decimals(min_value=0, max_value=99_999, places=2, allow_nan=False, allow_infinity=False),
)


@st.composite
def fact_sets(draw):
    if draw(st.booleans()):
        regions = draw(st.lists(st.sampled_from(COUNTIES), min_size=2, max_size=4, unique=True))
    else:
        regions = [draw(st.sampled_from(SINGLE))]
    first = draw(st.integers(2015, 2021))
    years = list(range(first, first + draw(st.integers(2, 4))))
    indicators = draw(st.lists(st.sampled_from(INDICATORS), min_size=2, max_size=3, unique=True))
    units = {ind[2]: draw(st.sampled_from([ind[1], "万" + ind[1]])) for ind in indicators}
    values = {(r[2], y, i[2]): draw(VALUE) for r in regions for y in years for i in indicators}
    style = draw(
        st.fixed_dictionaries(
            {
                "missing": st.sampled_from([None, "—", "…", "-"]),
                "year": st.sampled_from(["int", "float", "年", "年末"]),
                "encoding": st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
                "format": st.sampled_from(
                    ["xlsx", "xlsx", "csv"]
                ),  # printed layouts: a workbook, or a CSV per table
                "corner": st.booleans(),  # the cell over the row labels left blank
            }
        )
    )
    return regions, years, indicators, units, values, style


def written(value: Decimal, unit: str, catalog_unit: str) -> Decimal:
    return value / 10_000 if unit != catalog_unit else value


def cell(facts, key, ind, style):
    """The value as a workbook cell in the indicator's written unit; the style's no-data mark if missing."""
    _, units, values = facts
    value = values[key]
    if value is None:
        return style["missing"]
    number = written(value, units[ind[2]], ind[1])
    return int(number) if number == number.to_integral_value() else float(number)


def year_text(year: int, style) -> object:
    return {"int": year, "float": float(year), "年": f"{year}年", "年末": f"{year}年末"}[style["year"]]


def save(folder: Path, stem: str, sheets: dict[str, list[list]], style) -> list[Path]:
    """The tables as sheets of one workbook, or as one CSV file each."""
    if style["format"] == "csv":
        paths = []
        for name, rows in sheets.items():
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(
                [["" if c is None else c for c in row] for row in rows]
            )
            paths.append(folder / f"{stem}_{name}.csv")
            paths[-1].write_bytes(text.getvalue().encode(style["encoding"]))
        return paths
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(folder / f"{stem}.xlsx")
    return [folder / f"{stem}.xlsx"]


def long_csv(folder, regions, years, indicators, facts, style) -> list[Path]:
    _, units, values = facts
    lines = ["宝鸡市民政数据", "地区,年份,指标,数值,单位"]
    for region in regions:
        for year in years:
            for ind in indicators:
                value = values[(region[2], year, ind[2])]
                if value is not None:
                    number = written(value, units[ind[2]], ind[1])
                    lines.append(f"{region[0]},{year},{ind[0]},{number:f},{units[ind[2]]}")
    path = folder / "long.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(style["encoding"]))
    return [path]


def regions_by_indicators(folder, regions, years, indicators, facts, style) -> list[Path]:
    units = facts[1]
    sheets = {}
    for n, year in enumerate(years, start=1):
        rows = [
            [f"表{n}  各县（区）民政主要指标（{year}年）"],
            ["Main Indicators by County"],
            ["地  区\nRegion"] + [f"{i[0]}({units[i[2]]})\n{i[3]}" for i in indicators],
        ]
        rows += [
            [region[0]] + [cell(facts, (region[2], year, i[2]), i, style) for i in indicators]
            for region in regions
        ]
        sheets[f"{year}"] = rows + [[], ["注：年末数。"]]
    return save(folder, "regions_by_indicators", sheets, style)


def items_by_years(folder, regions, years, indicators, facts, style) -> list[Path]:
    units = facts[1]
    sheets = {}
    for region in regions:
        rows = [
            [f"{region[1]}主要民政指标（{years[0]}—{years[-1]}年）"],
            [None if style["corner"] else "项    目", "Item"] + [year_text(y, style) for y in years],
        ]
        rows += [
            [f"{i[0]}（{units[i[2]]}）", i[3]] + [cell(facts, (region[2], y, i[2]), i, style) for y in years]
            for i in indicators
        ]
        sheets[region[2]] = rows + [["资料来源：民政局。"]]
    return save(folder, "items_by_years", sheets, style)


def years_by_indicators(folder, regions, years, indicators, facts, style) -> list[Path]:
    units = facts[1]
    sheets = {}
    for region in regions:
        rows = [
            [f"{region[1]}民政事业发展情况"],
            [None if style["corner"] else "年 份\nYear"] + [f"{i[0]}（{units[i[2]]}）" for i in indicators],
        ]
        rows += [
            [year_text(y, style)] + [cell(facts, (region[2], y, i[2]), i, style) for i in indicators]
            for y in years
        ]
        sheets[region[2]] = rows + [["注：年末数。"]]
    return save(folder, "years_by_indicators", sheets, style)


def regions_by_years(folder, regions, years, indicators, facts, style) -> list[Path]:
    units = facts[1]
    sheets = {}
    for n, ind in enumerate(indicators, start=1):
        rows = [
            [f"表{n}  {years[0]}—{years[-1]}年各县（区）{ind[0]}（{units[ind[2]]}）"],
            ["地  区"] + [f"{y}年" for y in years],
        ]
        rows += [
            [region[0]] + [cell(facts, (region[2], y, ind[2]), ind, style) for y in years]
            for region in regions
        ]
        sheets[ind[2]] = rows
    return save(folder, "regions_by_years", sheets, style)


LAYOUTS = [long_csv, regions_by_indicators, items_by_years, years_by_indicators, regions_by_years]


def resolved(path: Path) -> set[tuple]:
    source, issues = load_source(path)
    assert source is not None, issues
    raw, found = read_source(source)
    facts, more = resolve(raw, CATALOG, REGISTRY)
    errors = [
        (i.code, i.sheet, i.row, i.column, i.message) for i in issues + found + more if i.severity == "error"
    ]
    assert errors == [], (path.name, errors)
    assert len(facts) == len(set(map(tuple, facts[["region_code", "year", "indicator_id"]].to_numpy())))
    return {
        (r.region_code, int(r.year), r.indicator_id, float(r.value)) for r in facts.itertuples(index=False)
    }


@PROPERTY
@given(fact_sets())
def test_every_layout_resolves_to_the_same_facts(drawn):
    regions, years, indicators, units, values, style = drawn
    expected = {
        (code, year, ind, float(value)) for (code, year, ind), value in values.items() if value is not None
    }
    facts = (None, units, values)
    with tempfile.TemporaryDirectory() as tmp:
        for layout in LAYOUTS:
            paths = layout(Path(tmp), regions, years, indicators, facts, style)
            assert set().union(*map(resolved, paths)) == expected, layout.__name__
