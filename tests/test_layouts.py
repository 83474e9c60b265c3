"""Every common layout of a printed statistical table, as statistics bureaus and 民政 offices publish them.

A corpus of tables in the real conventions (table numbers, English subtitles and bilingual header
cells, "单位：万人" lines, units inside labels and in unit columns, "#"/"其中" breakdowns, total rows,
"—"/"…" cells, notes under the table, margin rows and columns, merged cells, years written 2019,
2019.0, "2019年", "2019年末"), each written to a real file (xlsx through openpyxl, CSV in GB18030 or
UTF-8), loaded through etl.sources and checked observation by observation; then each layout end to
end through resolve.py, down to the facts in catalog units.

Layouts: (1) regions down × indicators across, one year (from the title, a 年份 column or the
header); (2) indicators down × years across, one region named in the title; (3) years down ×
indicators across, one region; (4) regions down × years across, one indicator named in the title.
Figures: 福建统计年鉴2020 表21-19 (2019 城乡低保 by city, as the yearbook prints them) where
published, realistic magnitudes elsewhere.
"""

from __future__ import annotations

import pandas as pd
import pytest

from etl import pipeline
from etl.catalog import load_catalog
from etl.readers import RAW_COLUMNS, long_table, quarterly, read_source, series, template, yearbook
from etl.regions import load_registry
from etl.resolve import resolve
from etl.sources import load_source
from etl.template import write_template
from tests.util import xlsx

URBAN, RURAL = "城镇居民最低生活保障人数", "农村居民最低生活保障人数"
OBS = [c for c in RAW_COLUMNS if c != "sheet"]  # a cell: where it sits and what it says


def csv(path, lines: list[str], encoding: str):
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def only_grid(path):
    source, issues = load_source(path)
    assert source is not None, issues
    (grid,) = source.grids
    return grid


def observations(frame: pd.DataFrame) -> list[tuple]:
    assert list(frame.columns[: len(RAW_COLUMNS)]) == RAW_COLUMNS
    return [tuple(r) for r in frame[OBS].itertuples(index=False)]


ORDER = [template, quarterly, long_table, series, yearbook]  # as etl.readers.read_source asks them


def read_only(path, reader):
    """The one sheet of `path`, read by `reader`: it recognises the sheet and no reader asked before
    it does."""
    grid = only_grid(path)
    assert reader.detect(grid) and not any(m.detect(grid) for m in ORDER[: ORDER.index(reader)])
    frame, issues = reader.read(grid)
    assert issues == []
    return frame


def facts(path):
    """load_source → read_source → resolve: (sorted facts, issues)."""
    source, issues = load_source(path)
    assert source is not None, issues
    raw, found = read_source(source)
    resolved, more = resolve(raw, load_catalog(), load_registry())
    rows = sorted(
        (r.region_code, int(r.year), r.indicator_id, float(r.value)) for r in resolved.itertuples(index=False)
    )
    return rows, issues + found + more


def codes(issues) -> list[tuple]:
    return sorted((i.severity, i.code, i.row, i.column) for i in issues)


# ============================================================ (1) regions down × indicators across

FUJIAN_2119 = [  # 福建统计年鉴2020 表21-19, as printed: a margin row and column, title merged over the table
    [],
    [None, "21-19  各市、县（区）城乡居民最低生活保障情况（2019年）"],
    [None, "Urban and Rural Minimum Living Security by City and County (2019)"],
    [None, None, None, None, "单位：万人"],
    [None, "地  区", None, "城镇居民最低生活保障人数", "农村居民最低\n生活保障人数"],  # a wrapped label
    [
        None,
        "Region",
        None,
        "Urban Residents Receiving Minimum Living Allowance",
        "Rural Residents Receiving Minimum Living Allowance",
    ],
    [None, "全  省", "Fujian Province", 6.19, 41.45],
    [None, "福 州 市", "Fuzhou", 0.71, 4.92],
    [None, "#市辖区", "Districts under Fuzhou", 0.41, 0.87],
    [None, "  鼓楼区", "Gulou", 0.03, "—"],
    [None, "  台江区", "Taijiang", 0.12, "…"],
    [None, "  仓山区", "Cangshan", 0.11, 0.14],
    [],
    [None, "  闽侯县", "Minhou", 0.03, 0.72],
    [None, "  福清市", "Fuqing", 0.08, 0.74],
    [None, "注：城乡低保人数为年末数。"],
    [None, "资料来源：福建省民政厅", None, 99, 99],
]
FUJIAN_2119_MERGES = ["B2:E2", "B3:E3", "B5:C5", "B6:C6"]


def test_regions_by_indicators_year_in_title_unit_line_margins(tmp_path):
    frame = read_only(
        xlsx(tmp_path / "2119.xlsx", {"21-19": FUJIAN_2119}, {"21-19": FUJIAN_2119_MERGES}), yearbook
    )
    assert observations(frame) == [
        (7, "D", "全  省", None, 2019, URBAN, "", None, "万人", 6.19),  # a total row: passed through
        (7, "E", "全  省", None, 2019, RURAL, "", None, "万人", 41.45),
        (8, "D", "福 州 市", None, 2019, URBAN, "", None, "万人", 0.71),
        (8, "E", "福 州 市", None, 2019, RURAL, "", None, "万人", 4.92),
        (9, "D", "#市辖区", None, 2019, URBAN, "", None, "万人", 0.41),  # a region sub-row: as written
        (9, "E", "#市辖区", None, 2019, RURAL, "", None, "万人", 0.87),
        (10, "D", "  鼓楼区", None, 2019, URBAN, "", None, "万人", 0.03),  # "—": no observation
        (11, "D", "  台江区", None, 2019, URBAN, "", None, "万人", 0.12),  # "…": no observation
        (12, "D", "  仓山区", None, 2019, URBAN, "", None, "万人", 0.11),
        (12, "E", "  仓山区", None, 2019, RURAL, "", None, "万人", 0.14),
        (14, "D", "  闽侯县", None, 2019, URBAN, "", None, "万人", 0.03),  # after a blank row
        (14, "E", "  闽侯县", None, 2019, RURAL, "", None, "万人", 0.72),
        (15, "D", "  福清市", None, 2019, URBAN, "", None, "万人", 0.08),
        (15, "E", "  福清市", None, 2019, RURAL, "", None, "万人", 0.74),
    ]  # nothing from the English column C, nothing at or after the notes
    assert set(frame["sheet"]) == {"21-19"}


BAOJI_YEAR_COLUMN = [  # one row per county and year: the year in a 年份 column, a "#女性" breakdown column
    "宝鸡市各县区社会救助和养老服务情况",
    "（单位：人、张）",
    "序号,地 区,年 份,城市低保人数(人),#女性,农村低保人数(人),养老床位数(张)",
    "1,渭滨区,2021,1520,800,2310,1850",
    "2,渭滨区,2022年,1480,780,2270,1920",
    "3,眉 县,2021,410,—,8120,1200",
    "4,眉 县,2022,395,205,7980,1260",
    ",合  计,2022,1875,985,10250,3180",
    "注：合计为上述区县之和。",
]


def test_regions_by_indicators_year_column_and_breakdown_column_gb18030(tmp_path):
    frame = read_only(csv(tmp_path / "bj.csv", BAOJI_YEAR_COLUMN, "gb18030"), yearbook)
    rows = []
    for n, (region, year, values) in enumerate(
        [
            ("渭滨区", 2021, ("1520", "800", "2310", "1850")),
            ("渭滨区", 2022, ("1480", "780", "2270", "1920")),
            ("眉 县", 2021, ("410", "—", "8120", "1200")),
            ("眉 县", 2022, ("395", "205", "7980", "1260")),
            ("合  计", 2022, ("1875", "985", "10250", "3180")),
        ],
        start=4,
    ):
        for column, indicator, context, unit, value in zip(
            "DEFG",
            ("城市低保人数", "#女性", "农村低保人数", "养老床位数"),
            ("", "城市低保人数", "", ""),
            ("人", "人", "人", "张"),
            values,
        ):
            if value != "—":
                rows.append((n, column, region, None, year, indicator, context, None, unit, value))
    assert observations(frame) == rows


FUZHOU_YEAR_GROUPS = [  # "2018年" / "2019年" merged over the indicators of each year
    ["表5  福州市各区县城乡低保人数"],
    [None, None, None, None, "单位：万人"],
    ["地  区\nRegion", "2018年", None, "2019年", None],
    [
        None,
        "城镇居民最低生活保障人数",
        "农村居民最低生活保障人数",
        "城镇居民最低生活保障人数",
        "农村居民最低生活保障人数",
    ],
    ["福州市", 0.75, 5.1, 0.71, 4.92],
    ["  鼓楼区", 0.04, None, 0.03, None],
]
HEADER_YEAR = [  # the year written into each column header
    ["福州市各区县养老服务和低保情况"],
    ["地区", "2019年城市低保人数（人）", "2019年养老床位数\n(张)", "城市低保人数（2018年）"],
    ["台江区", 1200, 2350, 1260],
]


def test_regions_by_indicators_year_in_group_header_or_in_the_label(tmp_path):
    path = xlsx(
        tmp_path / "fz.xlsx",
        {"分年": FUZHOU_YEAR_GROUPS, "表头年份": HEADER_YEAR},
        {"分年": ["A3:A4", "B3:C3", "D3:E3"]},
    )
    source, _ = load_source(path)
    groups, labels = source.grids
    frame, issues = yearbook.read(groups)
    assert issues == []
    assert observations(frame) == [
        (5, "B", "福州市", None, 2018, URBAN, "", None, "万人", 0.75),
        (5, "C", "福州市", None, 2018, RURAL, "", None, "万人", 5.1),
        (5, "D", "福州市", None, 2019, URBAN, "", None, "万人", 0.71),
        (5, "E", "福州市", None, 2019, RURAL, "", None, "万人", 4.92),
        (6, "B", "  鼓楼区", None, 2018, URBAN, "", None, "万人", 0.04),
        (6, "D", "  鼓楼区", None, 2019, URBAN, "", None, "万人", 0.03),
    ]
    frame, issues = yearbook.read(labels)
    assert issues == []
    assert observations(frame) == [
        (3, "B", "台江区", None, 2019, "城市低保人数", "", None, "人", 1200),
        (3, "C", "台江区", None, 2019, "养老床位数", "", None, "张", 2350),
        (3, "D", "台江区", None, 2018, "城市低保人数", "", None, None, 1260),  # no unit written
    ]


def test_regions_by_indicators_end_to_end(tmp_path):
    found, issues = facts(xlsx(tmp_path / "2119.xlsx", {"21-19": FUJIAN_2119}, {"21-19": FUJIAN_2119_MERGES}))
    urban, rural = "dibao_urban_persons", "dibao_rural_persons"
    assert found == sorted(
        [
            ("350000", 2019, urban, 61900.0),
            ("350000", 2019, rural, 414500.0),  # 全  省: 福建
            ("350100", 2019, urban, 7100.0),
            ("350100", 2019, rural, 49200.0),
            ("350102", 2019, urban, 300.0),
            ("350103", 2019, urban, 1200.0),
            ("350104", 2019, urban, 1100.0),
            ("350104", 2019, rural, 1400.0),
            ("350121", 2019, urban, 300.0),
            ("350121", 2019, rural, 7200.0),
            ("350181", 2019, urban, 800.0),
            ("350181", 2019, rural, 7400.0),
        ]
    )
    assert [(i.code, i.row) for i in issues if i.severity == "error"] == []
    assert ("warning", "subtotal_skipped", 9, "D") in codes(issues)  # #市辖区

    found, issues = facts(csv(tmp_path / "bj.csv", BAOJI_YEAR_COLUMN, "gb18030"))
    assert found == sorted(
        [
            ("610302", 2021, "dibao_urban_persons", 1520.0),
            ("610302", 2021, "dibao_rural_persons", 2310.0),
            ("610302", 2021, "elderly_beds", 1850.0),
            ("610302", 2022, "dibao_urban_persons", 1480.0),
            ("610302", 2022, "dibao_rural_persons", 2270.0),
            ("610302", 2022, "elderly_beds", 1920.0),
            ("610326", 2021, "dibao_urban_persons", 410.0),
            ("610326", 2021, "dibao_rural_persons", 8120.0),
            ("610326", 2021, "elderly_beds", 1200.0),
            ("610326", 2022, "dibao_urban_persons", 395.0),
            ("610326", 2022, "dibao_rural_persons", 7980.0),
            ("610326", 2022, "elderly_beds", 1260.0),
            ("610300", 2022, "dibao_urban_persons", 1875.0),
            ("610300", 2022, "dibao_rural_persons", 10250.0),
            ("610300", 2022, "elderly_beds", 3180.0),  # 合  计: 宝鸡市
        ]
    )
    assert [i.code for i in issues if i.severity == "error"] == []
    assert {(i.code, i.value) for i in issues} == {("breakdown_skipped", "#女性")}


# ============================================================ (2) indicators down × years across, one region

FUJIAN_RELIEF = [  # a provincial yearbook's 社会救济情况: items down, years across, English Item column
    ["表21-3  福建省社会救济情况"],
    ["Social Relief"],
    [None, None, None, None, None, "单位：万人"],
    ["项    目", "Item", 2017, 2018.0, "2019年", "2019年比2018年增长(%)"],
    [
        "城镇居民最低生活保障人数",
        "Urban Residents Receiving Minimum Living Allowance",
        8.16,
        7.03,
        6.19,
        -11.9,
    ],
    ["  #女性", "Female", 3.9, 3.4, 3.0, -11.8],
    ["  #老年人", "The Elderly", 1.2, "…", 0.93, None],
    [
        "农村居民最低生活保障人数",
        "Rural Residents Receiving Minimum Living Allowance",
        47.25,
        44.6,
        41.45,
        -7.1,
    ],
    ["  #女性", "Female", 21.3, 20.1, 18.7, -7.0],
    ["特困人员救助\n供养人数", "Persons Receiving Extreme-poverty Support", 6.45, "—", 6.31, None],
    ["养老床位数(万张)", "Beds for the Elderly (10 000 beds)", 18.2, 19.0, 20.4, 7.4],
    [None],
    ["注：低保人数为年末数。"],
    ["资料来源：福建省民政厅。", None, 1, 1, 1],
]


def test_items_by_years_provincial_yearbook_with_breakdown_rows(tmp_path):
    frame = read_only(
        xlsx(tmp_path / "213.xlsx", {"21-3": FUJIAN_RELIEF}, {"21-3": ["A1:F1", "A2:F2"]}), series
    )
    p = "福建省"
    assert observations(frame) == [
        (5, "C", p, None, 2017, URBAN, "", None, "万人", 8.16),
        (5, "D", p, None, 2018, URBAN, "", None, "万人", 7.03),
        (5, "E", p, None, 2019, URBAN, "", None, "万人", 6.19),
        (6, "C", p, None, 2017, "#女性", URBAN, None, "万人", 3.9),  # a breakdown of the item above
        (6, "D", p, None, 2018, "#女性", URBAN, None, "万人", 3.4),
        (6, "E", p, None, 2019, "#女性", URBAN, None, "万人", 3.0),
        (7, "C", p, None, 2017, "#老年人", URBAN, None, "万人", 1.2),
        (7, "E", p, None, 2019, "#老年人", URBAN, None, "万人", 0.93),
        (8, "C", p, None, 2017, RURAL, "", None, "万人", 47.25),
        (8, "D", p, None, 2018, RURAL, "", None, "万人", 44.6),
        (8, "E", p, None, 2019, RURAL, "", None, "万人", 41.45),
        (9, "C", p, None, 2017, "#女性", RURAL, None, "万人", 21.3),
        (9, "D", p, None, 2018, "#女性", RURAL, None, "万人", 20.1),
        (9, "E", p, None, 2019, "#女性", RURAL, None, "万人", 18.7),
        (10, "C", p, None, 2017, "特困人员救助供养人数", "", None, "万人", 6.45),
        (10, "E", p, None, 2019, "特困人员救助供养人数", "", None, "万人", 6.31),
        (
            11,
            "C",
            p,
            None,
            2017,
            "养老床位数",
            "",
            "万张",
            None,
            18.2,
        ),  # the row's own unit replaces the note's
        (11, "D", p, None, 2018, "养老床位数", "", "万张", None, 19.0),
        (11, "E", p, None, 2019, "养老床位数", "", "万张", None, 20.4),
    ]  # nothing from the Item column B or the growth column F


SANMING = [  # a city yearbook's time series; the city is named only in the title
    "三明市主要民政指标（2006—2022年）",
    "项目,2018年,2019年,2020年,2021年,2022年",
    "城市低保人数（人）,9860,9120,8650,8210,7930",
    "  #女性,4750,4400,—,3960,3830",
    "农村低保人数（人）,52300,50100,49600,47800,46900",
    "特困人员救助供养人数（人）,8420,8510,8390,8300,8260",
    "养老床位数（张）,14200,15100,16300,17050,17800",
    "社会组织数（个）,2810,2930,3050,3120,3180",
    "资料来源：三明市民政局、三明市统计局。",
]


def test_items_by_years_city_series_gb18030(tmp_path):
    frame = read_only(csv(tmp_path / "三明.csv", SANMING, "gb18030"), series)
    expected = []
    for row, (indicator, context, unit) in enumerate(
        [
            ("城市低保人数", "", "人"),
            ("#女性", "城市低保人数", "人"),
            ("农村低保人数", "", "人"),
            ("特困人员救助供养人数", "", "人"),
            ("养老床位数", "", "张"),
            ("社会组织数", "", "个"),
        ],
        start=3,
    ):
        values = SANMING[row - 1].split(",")[1:]
        expected += [
            (row, column, "三明市", None, year, indicator, context, unit, None, value)
            for column, year, value in zip("BCDEF", range(2018, 2023), values)
            if value != "—"
        ]
    assert observations(frame) == expected
    assert len(expected) == 29


MEIXIAN_UNIT_COLUMN = [  # 序号, 指标名称, 计量单位 and year-end columns
    "宝鸡市眉县民政事业主要指标",
    "序号,指标名称,计量单位,2020年末,2021年末,2022年末",
    "1,城市低保人数,人,420,410,395",
    "2,其中：女性,人,210,205,-",
    "3,农村低保人数,万人,0.83,0.81,0.80",
    "4,养老床位数,张,1150,,1260",
    "5,持证社会工作者人数,人,36,41,52",
    "",
    "说明：2021年养老床位数未统计。",
]


def test_items_by_years_unit_column_numbering_and_year_ends_utf8(tmp_path):
    frame = read_only(csv(tmp_path / "眉县.csv", MEIXIAN_UNIT_COLUMN, "utf-8-sig"), series)
    m = "宝鸡市眉县"
    assert observations(frame) == [
        (3, "D", m, None, 2020, "城市低保人数", "", "人", None, "420"),
        (3, "E", m, None, 2021, "城市低保人数", "", "人", None, "410"),
        (3, "F", m, None, 2022, "城市低保人数", "", "人", None, "395"),
        (4, "D", m, None, 2020, "其中：女性", "城市低保人数", "人", None, "210"),
        (4, "E", m, None, 2021, "其中：女性", "城市低保人数", "人", None, "205"),
        (5, "D", m, None, 2020, "农村低保人数", "", "万人", None, "0.83"),
        (5, "E", m, None, 2021, "农村低保人数", "", "万人", None, "0.81"),
        (5, "F", m, None, 2022, "农村低保人数", "", "万人", None, "0.80"),
        (6, "D", m, None, 2020, "养老床位数", "", "张", None, "1150"),
        (6, "F", m, None, 2022, "养老床位数", "", "张", None, "1260"),
        (7, "D", m, None, 2020, "持证社会工作者人数", "", "人", None, "36"),
        (7, "E", m, None, 2021, "持证社会工作者人数", "", "人", None, "41"),
        (7, "F", m, None, 2022, "持证社会工作者人数", "", "人", None, "52"),
    ]


def test_items_by_years_end_to_end(tmp_path):
    found, issues = facts(xlsx(tmp_path / "213.xlsx", {"21-3": FUJIAN_RELIEF}))
    assert found == sorted(
        [
            ("350000", 2017, "dibao_urban_persons", 81600.0),
            ("350000", 2018, "dibao_urban_persons", 70300.0),
            ("350000", 2019, "dibao_urban_persons", 61900.0),
            ("350000", 2017, "dibao_rural_persons", 472500.0),
            ("350000", 2018, "dibao_rural_persons", 446000.0),
            ("350000", 2019, "dibao_rural_persons", 414500.0),
            ("350000", 2017, "tekun_persons", 64500.0),
            ("350000", 2019, "tekun_persons", 63100.0),
            ("350000", 2017, "elderly_beds", 182000.0),
            ("350000", 2018, "elderly_beds", 190000.0),
            ("350000", 2019, "elderly_beds", 204000.0),
        ]
    )
    assert [i for i in issues if i.severity == "error"] == []
    assert sorted(i.value for i in issues if i.code == "breakdown_skipped") == ["#女性", "#女性", "#老年人"]

    found, issues = facts(csv(tmp_path / "三明.csv", SANMING, "gb18030"))
    table = {
        "dibao_urban_persons": 2,
        "dibao_rural_persons": 4,
        "tekun_persons": 5,
        "elderly_beds": 6,
        "social_organizations": 7,
    }
    assert found == sorted(
        (
            ("350400", year, ind, float(SANMING[row].split(",")[year - 2017]))
            for ind, row in table.items()
            for year in range(2018, 2023)
        )
    )
    assert [i for i in issues if i.severity == "error"] == []

    found, issues = facts(csv(tmp_path / "眉县.csv", MEIXIAN_UNIT_COLUMN, "utf-8-sig"))
    assert found == sorted(
        [
            ("610326", 2020, "dibao_urban_persons", 420.0),
            ("610326", 2021, "dibao_urban_persons", 410.0),
            ("610326", 2022, "dibao_urban_persons", 395.0),
            ("610326", 2020, "dibao_rural_persons", 8300.0),
            ("610326", 2021, "dibao_rural_persons", 8100.0),
            ("610326", 2022, "dibao_rural_persons", 8000.0),
            ("610326", 2020, "elderly_beds", 1150.0),
            ("610326", 2022, "elderly_beds", 1260.0),
            ("610326", 2020, "certified_social_workers", 36.0),
            ("610326", 2021, "certified_social_workers", 41.0),
            ("610326", 2022, "certified_social_workers", 52.0),
        ]
    )
    assert [i for i in issues if i.severity == "error"] == []


def test_items_by_years_through_validate(tmp_path):
    """The clerk's path: 数据管理 checks the upload against an empty data folder."""
    (tmp_path / "in").mkdir()
    path = xlsx(tmp_path / "in" / "213.xlsx", {"21-3": FUJIAN_RELIEF})
    outcome = pipeline.validate(tmp_path / "data", [path])
    assert outcome.ok, [i.message for i in outcome.issues.items]
    assert outcome.fact_count >= 11  # the 11 reported facts, plus whatever derive.py computes from them


@pytest.mark.parametrize(
    "title, where",
    [
        (["表21-3  社会救济情况", "Social Relief"], (1, "A")),
        ([], (1, "A")),
    ],
)
def test_single_region_table_without_a_region_in_its_title_is_one_error(tmp_path, title, where):
    rows = [[t] for t in title] + FUJIAN_RELIEF[3:6]
    grid = only_grid(xlsx(tmp_path / "t.xlsx", {"救济": rows}))
    assert series.detect(grid)
    frame, issues = series.read(grid)
    assert frame.empty and list(frame.columns) == RAW_COLUMNS
    assert [(i.severity, i.code, i.file, i.sheet, i.row, i.column) for i in issues] == [
        ("error", "unknown_region", "t.xlsx", "救济", *where)
    ]
    assert "没有写明地区" in issues[0].message and "福建省社会救济情况" in issues[0].suggestion
    if title:
        assert "“表21-3  社会救济情况”" in issues[0].message


@pytest.mark.parametrize(
    "corner", ["项    目\nItem", "指 标", "指标名称", "主要指标", "年份", "项目  年份", None]
)
def test_items_by_years_corner_spellings(tmp_path, corner):
    """The cell over the item labels may say 项目, 指标, 年份 (naming the header row), a diagonal
    "项目  年份", or nothing: the years across decide the layout."""
    sheet = [
        ["三明市养老服务主要指标"],
        [corner, "Item", "2021年", "2022年"],
        ["养老床位数(张)", "Beds for the elderly", 17050, 17800],
        ["养老机构数(家)", "Elderly care institutions", 96, "—"],
    ]
    frame = read_only(xlsx(tmp_path / "c.xlsx", {"s": sheet}), series)
    assert observations(
        frame
    ) == [  # the Chinese labels, never the English ones (which are catalog aliases too)
        (3, "C", "三明市", None, 2021, "养老床位数", "", "张", None, 17050),
        (3, "D", "三明市", None, 2022, "养老床位数", "", "张", None, 17800),
        (4, "C", "三明市", None, 2021, "养老机构数", "", "家", None, 96),
    ]


def test_items_by_years_under_a_merged_year_group(tmp_path):
    sheet = [
        ["三明市养老服务主要指标"],
        ["项  目", "年  份", None],
        [None, 2021, 2022.0],
        ["养老床位数(张)", 17050, 17800],
    ]
    frame = read_only(xlsx(tmp_path / "g.xlsx", {"s": sheet}, {"s": ["A2:A3", "B2:C2"]}), series)
    assert observations(frame) == [
        (4, "B", "三明市", None, 2021, "养老床位数", "", "张", None, 17050),
        (4, "C", "三明市", None, 2022, "养老床位数", "", "张", None, 17800),
    ]


@pytest.mark.parametrize("corner", ["年 份\nYear", "Year", "年度", "项目  年份", None])
def test_years_by_indicators_corner_spellings(tmp_path, corner):
    sheet = [
        ["三明市养老服务主要指标"],
        [corner, "养老床位数(张)", "养老机构数(家)"],
        ["2021年", 17050, 96],
        [2022, 17800, "—"],
    ]
    frame = read_only(xlsx(tmp_path / "c.xlsx", {"s": sheet}), series)
    assert observations(frame) == [
        (3, "B", "三明市", None, 2021, "养老床位数", "", None, "张", 17050),
        (3, "C", "三明市", None, 2021, "养老机构数", "", None, "家", 96),
        (4, "B", "三明市", None, 2022, "养老床位数", "", None, "张", 17800),
    ]


# ============================================================ (3) years down × indicators across, one region

MEIXIAN_YEARS = [
    ["表5-2  宝鸡市眉县主要民政指标（2018—2022年）"],
    ["Main Civil Affairs Indicators of Meixian County (2018-2022)"],
    ["年 份\nYear", "城乡低保", None, "养老床位数\nBeds for the Elderly"],
    [None, "城市低保人数(人)", "农村低保人数（万人）", "单位：张"],
    ["2018年", 452, 0.85, 1100],
    [2019, 430, 0.83, 1150],
    [2020.0, 420, "—", 1200],
    ["2021年末", 410, 0.81, None],
    ["2022", 395, 0.8, 1260],
    ["2018—2022年年均增长（%）", -3.3, -1.5, 3.4],
    ["注：2020年农村低保人数缺报。"],
]


def test_years_by_indicators_merged_year_header_and_group(tmp_path):
    frame = read_only(
        xlsx(tmp_path / "52.xlsx", {"5-2": MEIXIAN_YEARS}, {"5-2": ["A1:D1", "A3:A4", "B3:C3"]}), series
    )
    m = "宝鸡市眉县"
    assert observations(frame) == [
        (5, "B", m, None, 2018, "城市低保人数", "城乡低保", None, "人", 452),
        (5, "C", m, None, 2018, "农村低保人数", "城乡低保", None, "万人", 0.85),
        (5, "D", m, None, 2018, "养老床位数", "", None, "张", 1100),
        (6, "B", m, None, 2019, "城市低保人数", "城乡低保", None, "人", 430),
        (6, "C", m, None, 2019, "农村低保人数", "城乡低保", None, "万人", 0.83),
        (6, "D", m, None, 2019, "养老床位数", "", None, "张", 1150),
        (7, "B", m, None, 2020, "城市低保人数", "城乡低保", None, "人", 420),
        (7, "D", m, None, 2020, "养老床位数", "", None, "张", 1200),
        (8, "B", m, None, 2021, "城市低保人数", "城乡低保", None, "人", 410),
        (8, "C", m, None, 2021, "农村低保人数", "城乡低保", None, "万人", 0.81),
        (9, "B", m, None, 2022, "城市低保人数", "城乡低保", None, "人", 395),
        (9, "C", m, None, 2022, "农村低保人数", "城乡低保", None, "万人", 0.8),
        (9, "D", m, None, 2022, "养老床位数", "", None, "张", 1260),
    ]  # not the growth row, not the note


GULOU_YEARS = [  # blank corner, a unit row under the header, the title's unit for the rest
    "福州市鼓楼区养老服务和社会救助情况（单位：人）",
    ",养老床位数,城市低保人数,特困人员救助供养人数,#女性",
    "单位,张,,,",
    "2019,1620,300,45,20",
    "2020,1710,280,—,",
    "2021,1800,,41,18",
    "20l9,1,1,1,",
    "说明：2021年城市低保人数未填报。",
]


def test_years_by_indicators_blank_corner_unit_row_and_a_mistyped_year_utf8(tmp_path):
    frame = read_only(csv(tmp_path / "鼓楼.csv", GULOU_YEARS, "utf-8"), series)
    g, tekun = "福州市鼓楼区", "特困人员救助供养人数"
    assert observations(frame) == [
        (4, "B", g, None, 2019, "养老床位数", "", None, "张", "1620"),
        (4, "C", g, None, 2019, "城市低保人数", "", None, "人", "300"),
        (4, "D", g, None, 2019, tekun, "", None, "人", "45"),
        (4, "E", g, None, 2019, "#女性", tekun, None, "人", "20"),
        (5, "B", g, None, 2020, "养老床位数", "", None, "张", "1710"),
        (5, "C", g, None, 2020, "城市低保人数", "", None, "人", "280"),
        (6, "B", g, None, 2021, "养老床位数", "", None, "张", "1800"),
        (6, "D", g, None, 2021, tekun, "", None, "人", "41"),
        (6, "E", g, None, 2021, "#女性", tekun, None, "人", "18"),
        (7, "B", g, None, "20l9", "养老床位数", "", None, "张", "1"),  # as written: resolve.py reports it
        (7, "C", g, None, "20l9", "城市低保人数", "", None, "人", "1"),
        (7, "D", g, None, "20l9", tekun, "", None, "人", "1"),
    ]


def test_years_by_indicators_end_to_end(tmp_path):
    found, issues = facts(xlsx(tmp_path / "52.xlsx", {"5-2": MEIXIAN_YEARS}, {"5-2": ["A3:A4", "B3:C3"]}))
    m, urban, rural, beds = "610326", "dibao_urban_persons", "dibao_rural_persons", "elderly_beds"
    assert found == sorted(
        [
            (m, 2018, urban, 452.0),
            (m, 2018, rural, 8500.0),
            (m, 2018, beds, 1100.0),  # 0.85 万人 → 8500 人
            (m, 2019, urban, 430.0),
            (m, 2019, rural, 8300.0),
            (m, 2019, beds, 1150.0),
            (m, 2020, urban, 420.0),
            (m, 2020, beds, 1200.0),
            (m, 2021, urban, 410.0),
            (m, 2021, rural, 8100.0),
            (m, 2022, urban, 395.0),
            (m, 2022, rural, 8000.0),
            (m, 2022, beds, 1260.0),
        ]
    )
    assert [i for i in issues if i.severity == "error"] == []

    found, issues = facts(csv(tmp_path / "鼓楼.csv", GULOU_YEARS, "utf-8"))
    g = "350102"
    assert found == sorted(
        [
            (g, 2019, "elderly_beds", 1620.0),
            (g, 2019, "dibao_urban_persons", 300.0),
            (g, 2019, "tekun_persons", 45.0),
            (g, 2020, "elderly_beds", 1710.0),
            (g, 2020, "dibao_urban_persons", 280.0),
            (g, 2021, "elderly_beds", 1800.0),
            (g, 2021, "tekun_persons", 41.0),
        ]
    )
    assert [(i.code, i.row, i.column, i.value) for i in issues if i.severity == "error"] == [
        ("year_invalid", 7, "B", "20l9")
    ]


# ============================================================ (4) regions down × years across, one indicator

BAOJI_WIDE = [
    ["表3  2018—2022年宝鸡市各县区城市低保人数（单位：人）"],
    [None, "2018年", "2019年", "2020年", "2021年", "2022年"],
    ["渭滨区", 1610, 1580, 1550, 1520, 1480],
    ["眉 县", 452, 430, 420, 410, 395],
    ["凤 县", 260, "…", 231, 220, 214],
    ["合  计", 2322, None, 2201, 2150, 2089],
    ["注：合计为表中区县之和。"],
]


def test_regions_by_years_blank_corner_indicator_and_unit_in_title(tmp_path):
    frame = read_only(xlsx(tmp_path / "w.xlsx", {"表3": BAOJI_WIDE}), yearbook)
    expected = [
        (row, column, BAOJI_WIDE[row - 1][0], None, year, "城市低保人数", "", None, "人", value)
        for row in range(3, 7)
        for column, year, value in zip("BCDEF", range(2018, 2023), BAOJI_WIDE[row - 1][1:])
        if value not in (None, "…")
    ]
    assert observations(frame) == expected and len(expected) == 18
    assert not series.detect(only_grid(tmp_path / "w.xlsx"))  # the labels are places: not one region's items


def test_regions_by_years_end_to_end(tmp_path):
    found, issues = facts(xlsx(tmp_path / "w.xlsx", {"表3": BAOJI_WIDE}))
    codes_of = {"渭滨区": "610302", "眉 县": "610326", "凤 县": "610330", "合  计": "610300"}
    assert found == sorted(
        (codes_of[row[0]], year, "dibao_urban_persons", float(value))
        for row in BAOJI_WIDE[2:6]
        for year, value in zip(range(2018, 2023), row[1:])
        if value not in (None, "…")
    )
    assert [i for i in issues if i.severity == "error"] == []


# ============================================================ dispatch


def test_each_sheet_goes_to_its_own_reader(tmp_path):
    from tests.test_readers import quarterly_sheet

    path = xlsx(
        tmp_path / "all.xlsx",
        {
            "季报": quarterly_sheet("填报单位：宝鸡市眉县民政局", "2023年第4季度"),
            "长表": [["地区", "年份", "指标", "数值", "单位"], ["凤县", 2023, "养老床位数", 800, "张"]],
            "21-19": FUJIAN_2119,
            "21-3": FUJIAN_RELIEF,
            "5-2": MEIXIAN_YEARS,
            "表3": BAOJI_WIDE,
        },
    )
    source, _ = load_source(path)
    frame, issues = read_source(source)
    assert issues == []
    shapes = frame.groupby("sheet", sort=False)["shape"].unique().map(list).to_dict()
    assert shapes == {
        "季报": ["quarterly"],
        "长表": ["long_table"],
        "21-19": ["yearbook"],
        "21-3": ["series"],
        "5-2": ["series"],
        "表3": ["yearbook"],
    }

    filled = write_template(
        "610300", 2023, tmp_path / "模板.xlsx", values={("610326", "elderly_beds"): 1200.0}
    )
    source, _ = load_source(filled)
    assert not any(series.detect(grid) for grid in source.grids)
    frame, issues = read_source(source)
    assert issues == [] and set(frame["shape"]) == {"template"} and len(frame) == 1
