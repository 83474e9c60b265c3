"""Every file in the bad-input corpus is rejected with its exact error class, and the
warehouse (every byte of the data dir) is unchanged afterwards."""
import hashlib
from pathlib import Path

import pytest

from etl import pipeline, warehouse

BAD = Path(__file__).parent / "fixtures" / "bad"

EXPECTED = {
    "text_in_number.csv": "not_a_number",
    "approx_number.csv": "not_a_number",
    "gbk_with_error.csv": "not_a_number",
    "negative_count.csv": "negative",
    "unknown_region.csv": "unknown_region",
    "unknown_region_code.csv": "unknown_region",
    "ambiguous_region.csv": "unknown_region",
    "unknown_indicator.csv": "unknown_indicator",
    "unknown_unit.csv": "unknown_unit",
    "duplicate_conflict.csv": "duplicate",
    "year_invalid.csv": "year_invalid",
    "year_future.csv": "year_invalid",
    "year_missing.csv": "year_missing",
    "huge_number.csv": "out_of_range",
    "wrong_encoding.csv": "encoding",
    "empty.csv": "empty",
    "binary.csv": "not_spreadsheet",
    "report.pdf": "not_spreadsheet",
    "empty_sheet.xlsx": "empty",
    "formula_cell.xlsx": "formula",
    "no_header.xlsx": "no_header",
    "truncated.xlsx": "file_unreadable",
    "renamed_zip.xlsx": "file_unreadable",
    "template_merged_cells.xlsx": "merged_cells",
    "quarterly_q3.xlsx": "period",
}


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    base = tmp_path_factory.mktemp("data")
    good = base.parent / "good.csv"
    good.write_text("地区,区划代码,年份,指标,数值,单位\n眉县,610326,2023,城市低保人数,300,人\n", encoding="utf-8")
    outcome = pipeline.load(base, [good])
    assert outcome.ok and outcome.changed, outcome.issues.items
    return base


def test_corpus_is_complete():
    assert len(EXPECTED) >= 20
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_rejected_and_warehouse_untouched(published, name):
    before = snapshot(published)
    version = warehouse.current_version(published)
    outcome = pipeline.load(published, [BAD / name])
    codes = {i.code for i in outcome.issues.errors}
    assert not outcome.ok
    assert codes == {EXPECTED[name]}, [i.as_text() for i in outcome.issues.errors]
    for issue in outcome.issues.errors:
        assert issue.file == name and issue.message  # every error names the file and says what is wrong
    assert warehouse.current_version(published) == version
    assert snapshot(published) == before
