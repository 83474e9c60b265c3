"""The fill-in workbook: what the ETL writes for the counties reads back exactly."""

import openpyxl
import pytest

from etl.catalog import load_catalog
from etl.readers import read_source
from etl.readers import template as template_reader
from etl.regions import load_registry
from etl.sources import load_source
from etl.template import INSTRUCTIONS_SHEET, write_template


def test_template_layout(tmp_path):
    out = write_template("610300", 2025, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(out)
    catalog = load_catalog()
    assert book.sheetnames[0] == INSTRUCTIONS_SHEET
    assert set(book.sheetnames[1:]) <= {c.name_zh for c in catalog.categories.values()}
    sheet = book["养老服务"]
    assert sheet["B2"].value == "宝鸡市" and sheet["D2"].value == "610300" and sheet["B3"].value == 2025
    ids = [c.value for c in sheet[6][2:]]
    assert "elderly_beds" in ids and "beds_per_1000_elderly" not in ids  # ratios are computed, not asked
    assert sheet.cell(5, 2 + ids.index("elderly_beds") + 1).value == "养老床位数（张）"
    counties = [sheet.cell(r, 1).value for r in range(7, 7 + 12)]
    assert counties == [r.code for r in load_registry().counties_of_city("610300")]
    rules = sheet.data_validations.dataValidation
    assert rules and rules[0].type == "decimal" and rules[0].operator == "greaterThanOrEqual"


def test_template_values_read_back(tmp_path):
    values = {
        ("610326", "elderly_beds"): 812,
        ("610330", "dibao_urban_standard"): 655.5,
        ("610302", "population"): 531_000,
    }
    out = write_template("610300", 2024, tmp_path / "filled.xlsx", values)
    source, issues = load_source(out)
    assert not issues
    assert template_reader.is_instructions(source.grids[0])
    raw, issues = read_source(source)
    assert not issues
    got = {(r.region_code, r.indicator): r.value for r in raw.itertuples()}
    assert got == values
    assert set(raw["year"]) == {2024}
    beds = raw[raw["indicator"] == "elderly_beds"].iloc[0]
    assert (beds["sheet"], beds["row"], beds["header_unit"]) == (
        "养老服务",
        7 + 6,
        "张",
    )  # 眉县 is the 7th county


def test_template_refuses_a_county_code(tmp_path):
    with pytest.raises(ValueError, match="地级"):
        write_template("610326", 2024, tmp_path / "x.xlsx")
