"""Readers for long tables, statistical-yearbook tables and 民政统计季报: exact raw observations.

Each test writes a realistic file into tmp_path, loads it through etl.sources (so encodings,
merged ranges and Excel coordinates are the real ones) and checks what the reader hands over.
"""

from __future__ import annotations

import pytest

from etl.readers import RAW_COLUMNS, as_objects, long_table, quarterly, series, yearbook
from etl.sources import load_source
from tests.util import xlsx


def grids(path):
    source, issues = load_source(path)
    assert source is not None, issues
    return source.grids


def rows(frame, *columns):
    """The frame as a list of tuples (default: every raw column but `sheet`), with `unit` the unit
    the value is in: the row's own unit, else the one its header or title states (`header_unit`)."""
    columns = columns or tuple(c for c in RAW_COLUMNS if c not in ("sheet", "header_unit"))
    frame = frame.assign(**{c: as_objects(frame[c]) for c in frame.columns})  # Categoricals as their texts
    frame = frame.assign(unit=frame["unit"].where(frame["unit"].notna(), frame["header_unit"]))
    return [tuple(r) for r in frame[list(columns)].itertuples(index=False)]


# ---------------------------------------------------------------- long tables

LONG_CSV = (
    "地区,区划代码,年份,指标,数值,单位\n"
    "眉县,610326,2023,城市低保人数,300,人\n"
    ",,,,,\n"
    "凤县,610330,2023,农村低保人数,1.2,万人\n"
    "岐山县,,2023,养老床位数,约300,张\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_long_csv_in_every_encoding(tmp_path, encoding):
    path = tmp_path / "long.csv"
    path.write_bytes(LONG_CSV.encode(encoding))
    (grid,) = grids(path)
    assert long_table.detect(grid) and not quarterly.detect(grid) and not yearbook.detect(grid)
    assert not series.detect(grid)
    frame, issues = long_table.read(grid)
    assert issues == []
    assert list(frame.columns) == RAW_COLUMNS
    assert rows(frame) == [
        (2, "E", "眉县", "610326", "2023", "城市低保人数", "", "人", "300"),
        (4, "E", "凤县", "610330", "2023", "农村低保人数", "", "万人", "1.2"),
        (5, "E", "岐山县", None, "2023", "养老床位数", "", "张", "约300"),  # judged by the resolver
    ]
    assert set(frame["sheet"]) == {""}


def test_long_xlsx_title_year_code_in_region_column_and_notes(tmp_path):
    path = xlsx(
        tmp_path / "long.xlsx",
        {
            "低保": [
                ["宝鸡市2023年社会救助数据"],
                [],
                ["序号", "地区（或代码）", "指标名称", "数值（万人）"],
                [1, "眉县", "城市低保人数", 0.03],
                [2, 610330, "城市低保人数", 0.05],
                [],
                ["注：数据截至2023年12月31日。"],
            ]
        },
    )
    (grid,) = grids(path)
    assert long_table.detect(grid)
    frame, issues = long_table.read(grid)
    assert issues == []
    assert rows(frame) == [
        (4, "D", "眉县", None, 2023, "城市低保人数", "", "万人", 0.03),
        (5, "D", None, 610330.0, 2023, "城市低保人数", "", "万人", 0.05),
    ]
    assert set(frame["sheet"]) == {"低保"}


def test_long_table_without_year_is_one_error_naming_the_header_row(tmp_path):
    path = tmp_path / "no_year.csv"
    path.write_text(
        "宝鸡市社会救助数据\n地区,区划代码,指标,数值,单位\n眉县,610326,城市低保人数,300,人\n"
        "凤县,610330,城市低保人数,200,人\n",
        encoding="utf-8",
    )
    (grid,) = grids(path)
    frame, issues = long_table.read(grid)
    assert frame.empty and list(frame.columns) == RAW_COLUMNS
    assert [(i.code, i.row, i.file) for i in issues] == [("year_missing", 2, "no_year.csv")]
    assert "年份" in issues[0].message


def test_other_sheets_are_not_long_tables(tmp_path):
    path = xlsx(tmp_path / "x.xlsx", {"名单": [["姓名", "电话", "备注"], ["张三", "123", "无"]]})
    (grid,) = grids(path)
    assert not any(m.detect(grid) for m in (long_table, yearbook, quarterly, series))


# ---------------------------------------------------------------- statistical yearbooks

FUJIAN_2119 = [
    ["21-19 各市、县（区）城乡居民最低生活保障情况（2019年）"],
    ["Urban and Rural Minimum Living Security by City and County (2019)"],
    [
        "地  区\nRegion",
        None,
        "城镇居民最低生活保障人数(万人)\n"
        "Number of Urban Residents Receiving Minimum Living Allowance (10 000 persons)",
        "农村居民最低生活保障人数(万人)\n"
        "Number of Rural Residents Receiving Minimum Living Allowance (10 000 persons)",
    ],
    ["全  省", "Fujian", 6.19, 41.45],
    ["福 州 市", "Fuzhou", 0.71, 4.92],
    ["  市辖区", "District under Fuzhou", 0.41, 0.87],
    ["  鼓楼区", "Gulou", 0.03, None],
    ["  台江区", "Taijiang", 0.12, "-"],
    ["  仓山区", "Cangshan", 0.11, "…"],
    [None, None, None, None],
    ["  马尾区", "Mawei", 0.05, 0.11],
    ["注：本表数据由省民政厅提供。"],
    ["资料来源：福建省民政厅", None, 99, 99],
]


def test_yearbook_bilingual_two_line_headers_title_year_footnotes(tmp_path):
    path = xlsx(tmp_path / "2119.xlsx", {"21-19": FUJIAN_2119}, {"21-19": ["A3:B3"]})
    (grid,) = grids(path)
    assert yearbook.detect(grid) and not long_table.detect(grid) and not quarterly.detect(grid)
    assert not series.detect(grid)  # asked before yearbook: must leave a region table alone
    frame, issues = yearbook.read(grid)
    assert issues == []
    urban, rural = "城镇居民最低生活保障人数", "农村居民最低生活保障人数"
    assert rows(frame) == [
        (4, "C", "全  省", None, 2019, urban, "", "万人", 6.19),
        (4, "D", "全  省", None, 2019, rural, "", "万人", 41.45),
        (5, "C", "福 州 市", None, 2019, urban, "", "万人", 0.71),
        (5, "D", "福 州 市", None, 2019, rural, "", "万人", 4.92),
        (6, "C", "  市辖区", None, 2019, urban, "", "万人", 0.41),  # subtotal: passed through
        (6, "D", "  市辖区", None, 2019, rural, "", "万人", 0.87),
        (7, "C", "  鼓楼区", None, 2019, urban, "", "万人", 0.03),  # blank cell: no observation
        (8, "C", "  台江区", None, 2019, urban, "", "万人", 0.12),  # "-": no observation
        (9, "C", "  仓山区", None, 2019, urban, "", "万人", 0.11),  # "…": no observation
        (11, "C", "  马尾区", None, 2019, urban, "", "万人", 0.05),  # after a blank row
        (11, "D", "  马尾区", None, 2019, rural, "", "万人", 0.11),
    ]  # nothing from the English column B, nothing at or after the footnote


def test_yearbook_group_headers_over_chinese_and_english_rows(tmp_path):
    sheet = [
        [],  # a margin row and column, as printed sheets often have: coordinates must still be Excel's
        [None, "宝鸡市各县区城乡低保情况（2022年）"],
        [None, None, None, None, None, "单位：人、万元"],
        [None, "地区", "城市低保", None, "农村低保", None],
        [None, None, "人数(人)", "资金(万元)", "人数（人）", "资金（万元）"],
        [None, "Region", "Persons", "Funds (10 000 yuan)", "Persons", "Funds (10 000 yuan)"],
        [None, "宝鸡市", 5200, 3100.5, 41000, 12000],
        [None, "#市辖区", 2100, 1200, 3000, 900],
        [None, "眉 县", 300, 180.25, 8000, "—"],
        [None, "说明：资金为当年实际支出。"],
    ]
    path = xlsx(tmp_path / "bj.xlsx", {"低保": sheet}, {"低保": ["B4:B5", "C4:D4", "E4:F4"]})
    (grid,) = grids(path)
    assert (grid.first_row, grid.first_col) == (2, 1)
    frame, issues = yearbook.read(grid)
    assert issues == []
    assert rows(frame, "row", "column", "region", "indicator", "unit", "value")[:4] == [
        (7, "C", "宝鸡市", "城市低保人数", "人", 5200),
        (7, "D", "宝鸡市", "城市低保资金", "万元", 3100.5),
        (7, "E", "宝鸡市", "农村低保人数", "人", 41000),
        (7, "F", "宝鸡市", "农村低保资金", "万元", 12000),
    ]
    assert set(frame["year"]) == {2022}
    assert rows(frame, "row", "region")[4:] == [(8, "#市辖区")] * 4 + [(9, "眉 县")] * 3
    assert frame["value"].tolist()[-3:] == [300, 180.25, 8000]


def test_yearbook_unit_note_numbering_code_and_remark_columns(tmp_path):
    sheet = [
        ["2021年各县（区）养老服务情况"],
        [None, None, None, None, None, "单位：张"],
        ["序号", "地 区", "区划代码", "养老床位数", "护理型床位数（床）", "备注"],
        [1, "眉县", "610326", 1200, 600, "含民办机构"],
    ]
    (grid,) = grids(xlsx(tmp_path / "beds.xlsx", {"养老": sheet}))
    frame, issues = yearbook.read(grid)
    assert issues == []
    assert rows(frame, "row", "column", "region", "region_code", "year", "indicator", "unit", "value") == [
        (4, "D", "眉县", "610326", 2021, "养老床位数", "张", 1200),  # unit from the "单位：张" note
        (4, "E", "眉县", "610326", 2021, "护理型床位数", "床", 600),
    ]  # the header's own unit wins


def test_yearbook_wide_years_indicator_from_title(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(
        (
            "表3 2016—2020年各县（区）城市低保人数（人）\n"
            "地区,2016,2017年,2018\n"
            "眉 县,410,395,\n"
            "凤 县,220,-,201\n"
            "资料来源：宝鸡市民政局\n"
        ).encode("gb18030")
    )
    (grid,) = grids(path)
    assert yearbook.detect(grid) and not long_table.detect(grid) and not series.detect(grid)
    frame, issues = yearbook.read(grid)
    assert issues == []
    assert rows(frame, "row", "column", "region", "year", "indicator", "unit", "value") == [
        (3, "B", "眉 县", 2016, "城市低保人数", "人", "410"),
        (3, "C", "眉 县", 2017, "城市低保人数", "人", "395"),
        (4, "B", "凤 县", 2016, "城市低保人数", "人", "220"),
        (4, "D", "凤 县", 2018, "城市低保人数", "人", "201"),
    ]


def test_yearbook_wide_years_indicator_in_top_left_cell(tmp_path):
    sheet = [
        ["福州市养老服务统计"],
        ["养老床位数（张）", 2021, 2022, 2023],
        ["鼓楼区", 1500, 1620, 1710],
    ]
    (grid,) = grids(xlsx(tmp_path / "w.xlsx", {"床位": sheet}))
    assert yearbook.detect(grid) and not series.detect(grid)
    frame, issues = yearbook.read(grid)
    assert issues == []
    assert rows(frame, "column", "region", "year", "indicator", "unit", "value") == [
        ("B", "鼓楼区", 2021, "养老床位数", "张", 1500),
        ("C", "鼓楼区", 2022, "养老床位数", "张", 1620),
        ("D", "鼓楼区", 2023, "养老床位数", "张", 1710),
    ]


def test_yearbook_without_year_is_year_missing(tmp_path):
    sheet = [["各县（区）城乡低保情况"], ["地区", "城市低保人数(人)"], ["眉县", 300]]
    (grid,) = grids(xlsx(tmp_path / "ny.xlsx", {"低保": sheet}))
    frame, issues = yearbook.read(grid)
    assert frame.empty
    assert [(i.code, i.row, i.sheet) for i in issues] == [("year_missing", 2, "低保")]


def test_title_year():
    assert yearbook.title_year(["21-19 各市、县（区）城乡居民最低生活保障情况（2019年）"]) == 2019
    assert yearbook.title_year(["Urban and Rural Minimum Living Security (2019)"]) == 2019
    assert yearbook.title_year(["2016—2020年各县城市低保人数"]) is None  # a range is not one year
    assert yearbook.title_year(["福建统计年鉴2020", "表21-19"]) is None  # a publication, not a data year
    assert yearbook.title_year([]) is None


# ---------------------------------------------------------------- 民政统计季报


def quarterly_sheet(unit_line: str, period: str, header=("指标名称", "代码", "单位", "数量")) -> list[list]:
    return [
        ["民政统计季报"],
        [unit_line, None, None, period],
        ["行政区划代码：610326"],
        list(header),
        ["一、社会救助"],
        ["（一）城市最低生活保障"],
        ["    保障人数", "01", "人", 300],
        ["    其中：女性", "02", "人", 150],
        ["    保障资金", "03", "万元", 120.5],
        ["（二）农村最低生活保障"],
        ["    保障人数", "04", "人", 8000],
        ["    保障资金", "05", "万元", None],
        ["二、养老服务"],
        ["    养老床位数", "06", "张", 1200],
        [],
        ["单位负责人：张三", None, "填表人：李四", "报出日期：2024年1月15日"],
    ]


def test_quarterly_q4_with_sections_and_header_block(tmp_path):
    path = xlsx(
        tmp_path / "jibao.xlsx", {"眉县": quarterly_sheet("填报单位：宝鸡市眉县民政局", "2023年第4季度")}
    )
    (grid,) = grids(path)
    assert quarterly.detect(grid)  # long_table would take it too (代码 column): dispatch asks quarterly first
    assert not series.detect(grid)
    frame, issues = quarterly.read(grid)
    assert issues == []
    assert rows(frame) == [
        (7, "D", "宝鸡市眉县", "610326", 2023, "    保障人数", "（一）城市最低生活保障", "人", 300),
        (8, "D", "宝鸡市眉县", "610326", 2023, "    其中：女性", "（一）城市最低生活保障", "人", 150),
        (9, "D", "宝鸡市眉县", "610326", 2023, "    保障资金", "（一）城市最低生活保障", "万元", 120.5),
        (11, "D", "宝鸡市眉县", "610326", 2023, "    保障人数", "（二）农村最低生活保障", "人", 8000),
        (14, "D", "宝鸡市眉县", "610326", 2023, "    养老床位数", "二、养老服务", "张", 1200),
    ]


@pytest.mark.parametrize(
    "period", ["2023年4季度", "2023年四季度", "2023年年报", "2023年全年", "2023年1-4季度"]
)
def test_quarterly_annual_period_spellings(tmp_path, period):
    (grid,) = grids(xlsx(tmp_path / "q.xlsx", {"s": quarterly_sheet("地区：眉县", period)}))
    frame, issues = quarterly.read(grid)
    assert issues == [] and len(frame) == 5
    assert set(frame["year"]) == {2023} and set(frame["region"]) == {"眉县"}


def test_quarterly_workbook_of_counties_takes_benqi_column(tmp_path):
    feng = quarterly_sheet(
        "填报单位：宝鸡市凤县民政局      2023年第四季度", None, header=("指标名称", "单位", "本期", "同期")
    )
    for row in feng[4:14]:
        if len(row) == 4:  # 指标名称 | 单位 | 本期 | 同期: drop the code column, add last year's value
            row[1:] = [row[2], row[3], 1]
    path = xlsx(
        tmp_path / "two.xlsx",
        {"眉县": quarterly_sheet("填报单位：宝鸡市眉县民政局", "2023年第4季度"), "凤县": feng},
    )
    mei, feng_grid = grids(path)
    frame, issues = quarterly.read(feng_grid)
    assert issues == []
    assert rows(frame, "row", "column", "region", "year", "value")[0] == (7, "C", "宝鸡市凤县", 2023, 300)
    assert len(frame) == 5 and 1 not in frame["value"].tolist()
    assert quarterly.read(mei)[0]["region"].unique().tolist() == ["宝鸡市眉县"]


def test_quarterly_q3_is_refused_with_one_period_error(tmp_path):
    (grid,) = grids(
        xlsx(tmp_path / "q3.xlsx", {"眉县": quarterly_sheet("填报单位：眉县民政局", "2023年第3季度")})
    )
    assert quarterly.detect(grid)
    frame, issues = quarterly.read(grid)
    assert frame.empty
    assert [(i.code, i.row, i.column) for i in issues] == [("period", 2, "D")]
    assert issues[0].message == "季报为第3季度数据，看板只收录年度（第四季度/年报）数据。"


def test_quarterly_without_period_is_year_missing(tmp_path):
    (grid,) = grids(xlsx(tmp_path / "np.xlsx", {"眉县": quarterly_sheet("填报单位：眉县民政局", None)}))
    frame, issues = quarterly.read(grid)
    assert frame.empty and [i.code for i in issues] == ["year_missing"]


def test_long_table_with_quantity_column_is_not_a_quarterly_report(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "2023年第4季度低保数据\n地区,指标名称,单位,数量\n眉县,城市低保人数,人,300\n", encoding="utf-8-sig"
    )
    (grid,) = grids(path)
    assert not quarterly.detect(grid) and long_table.detect(grid) and not series.detect(grid)


# ---------------------------------------------------------------- dispatch


def test_read_source_dispatches_each_sheet_to_its_reader(tmp_path):
    pytest.importorskip("etl.readers.template")
    from etl.readers import read_source

    path = xlsx(
        tmp_path / "mixed.xlsx",
        {
            "季报": quarterly_sheet("填报单位：宝鸡市眉县民政局", "2023年第4季度"),
            "年鉴": [["各县区城市低保人数（2022年）"], ["地区", "城市低保人数(人)"], ["眉 县", 310]],
            "长表": [["地区", "年份", "指标", "数值", "单位"], ["凤县", 2023, "养老床位数", 800, "张"]],
        },
    )
    source, _ = load_source(path)
    frame, issues = read_source(source)
    assert issues == []
    assert rows(frame, "sheet", "row", "region", "year", "indicator", "value")[-2:] == [
        ("年鉴", 3, "眉 县", 2022, "城市低保人数", 310),
        ("长表", 2, "凤县", 2023, "养老床位数", 800),
    ]
    assert (frame["sheet"] == "季报").sum() == 5
