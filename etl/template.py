"""The fill-in workbook a city sends to its counties (`python -m etl template`).

One sheet per category, counties prefilled down the side, one column per reported indicator
with its unit in the header, and a hidden-in-plain-sight row of indicator codes so the
reader (`etl/readers/template.py`) never has to guess what a column means. Ratios
(每千名老年人床位数 …) are not asked for: the warehouse computes them from their parts.
Numeric cells carry data validation (a number ≥ 0), and the first sheet explains the rules.
"""

from __future__ import annotations

from pathlib import Path

from .catalog import Catalog, load_catalog
from .regions import Registry, load_registry

INSTRUCTIONS_SHEET = "填表说明"
CODE_HEADER = "区划代码"
ID_ROW_LABEL = "指标代码"
HEADER_ROW = 4  # 0-based: Excel row 5 holds "区划代码 | 区县 | 指标（单位）…"
ID_ROW = 5  # Excel row 6 holds the indicator ids
FIRST_DATA_ROW = 6  # Excel row 7
# xlsxwriter's write() makes a formula of a str starting with "=" (or "{=…}") and a hyperlink of
# one that looks like a URL (http://, mailto:, external:, file://); with these options every
# str goes to write_string, a string cell with exactly that text. Every workbook we write uses
# them (this template, dashboard/export.py's downloads).
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def reported_indicators(catalog: Catalog, category: str) -> list:
    """Indicators a county fills in: everything but ratios, in catalog order."""
    return [i for i in catalog.indicators.values() if i.category == category and not i.is_ratio]


def write_template(
    city: str,
    year: int,
    out: Path,
    values: dict[tuple[str, str], float] | None = None,
    catalog: Catalog | None = None,
    registry: Registry | None = None,
    title_note: str = "",
) -> Path:
    """Write the workbook for `city` and `year`; `values[(county_code, indicator_id)]` prefills cells
    (the sample generator uses this to write filled-in returns)."""
    import xlsxwriter  # here: every load imports this module (the reader's layout), few write

    catalog = catalog or load_catalog()
    registry = registry or load_registry()
    region = registry.get(city)
    if region is None or region.level != "city":
        raise ValueError(f"“{city}”不是地级区划代码（例如 宝鸡市 610300）。")
    counties = registry.counties_of_city(city)
    values = values or {}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(out), XLSX_OPTIONS) as book:
        fmt = _formats(book)
        _instructions(book, fmt, region.name, city, year, catalog, title_note)
        for category in catalog.categories.values():
            indicators = reported_indicators(catalog, category.id)
            if not indicators:
                continue
            sheet = book.add_worksheet(category.name_zh)
            sheet.write(
                0, 0, f"{region.name}{year}年民政统计数据填报表——{category.name_zh}{title_note}", fmt["title"]
            )
            sheet.write_row(1, 0, ["城市", region.name, CODE_HEADER, city], fmt["meta"])
            sheet.write_row(2, 0, ["年份", year], fmt["meta"])
            sheet.write_row(HEADER_ROW, 0, [CODE_HEADER, "区县"], fmt["header"])
            sheet.write_row(ID_ROW, 0, [ID_ROW_LABEL, ""], fmt["ids"])
            for j, ind in enumerate(indicators, start=2):
                sheet.write(HEADER_ROW, j, f"{ind.name_zh}（{ind.unit}）", fmt["header"])
                sheet.write(ID_ROW, j, ind.id, fmt["ids"])
                sheet.set_column(j, j, max(12, len(ind.name_zh) * 2 + 4))
            for i, county in enumerate(counties, start=FIRST_DATA_ROW):
                sheet.write_string(i, 0, county.code, fmt["locked"])
                sheet.write_string(i, 1, county.name, fmt["locked"])
                for j, ind in enumerate(indicators, start=2):
                    value = values.get((county.code, ind.id))
                    if value is None:
                        sheet.write_blank(i, j, None, fmt["input"])
                    else:
                        sheet.write_number(i, j, value, fmt["input"])
            last_row = FIRST_DATA_ROW + len(counties) - 1
            sheet.data_validation(
                FIRST_DATA_ROW,
                2,
                last_row,
                1 + len(indicators),
                {
                    "validate": "decimal",
                    "criteria": ">=",
                    "value": 0,
                    "error_title": "请填写数字",
                    "error_message": "只能填写不小于0的数字；没有数据请留空。",
                },
            )
            sheet.set_column(0, 0, 10)
            sheet.set_column(1, 1, 14)
            sheet.freeze_panes(FIRST_DATA_ROW, 2)
            sheet.set_row(ID_ROW, None, fmt["ids"])
    return out


def _formats(book) -> dict:
    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "meta": book.add_format({"bold": True}),
        "header": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        ),
        "ids": book.add_format({"font_color": "#808080", "font_size": 8}),
        "locked": book.add_format({"bg_color": "#F2F2F2", "border": 1}),
        "input": book.add_format({"border": 1, "num_format": "#,##0.##"}),
        "text": book.add_format({"text_wrap": True, "valign": "top"}),
    }


def _instructions(book, fmt, city_name: str, city: str, year: int, catalog: Catalog, title_note: str) -> None:
    sheet = book.add_worksheet(INSTRUCTIONS_SHEET)
    sheet.set_column(0, 0, 110)
    lines = [
        (f"{city_name}（{city}）{year}年民政统计数据填报表{title_note}", fmt["title"]),
        ("1. 每个分类一张工作表，按行填写各区县的年末数（存量指标）或全年累计数（流量指标）。", fmt["text"]),
        (
            "2. 只填写阿拉伯数字，单位以表头括号内为准；不要写“约”“余”等文字，没有数据请留空，不要填0代替。",
            fmt["text"],
        ),
        (
            "3. 请勿修改区划代码、区县名称、第6行的“指标代码”和表头，不要合并单元格，不要插入或删除列。",
            fmt["text"],
        ),
        (
            "4. 比率类指标（每千名老年人养老床位数、每万人持证社工数、低保覆盖率等）"
            "由系统按分子分母汇总计算，无需填写。",
            fmt["text"],
        ),
        ("5. 填好后交数据管理员，在“数据管理”页上传，或运行 python -m etl load 文件名。", fmt["text"]),
        ("", None),
        ("指标口径", fmt["meta"]),
    ]
    for ind in catalog.indicators.values():
        if not ind.is_ratio:
            lines.append((f"{ind.name_zh}（{ind.unit}）：{ind.definition}", fmt["text"]))
    for i, (text, style) in enumerate(lines):
        sheet.write(i, 0, text, style)
