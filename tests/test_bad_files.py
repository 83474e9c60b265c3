"""Every file in the bad-input corpus is rejected with its exact error class, and the
warehouse (every byte of the data dir) is unchanged afterwards.

The corpus is written by tests/fixtures/make_bad_files.py. Hostile files (zip bombs, a sparse
sheet that would make calamine abort the process, macros, encryption, CSV injection) are
refused in etl/sources.py before any parser inflates them; see also the tests below the
corpus for file names, limits and messages."""

import hashlib
import shutil
import time
from pathlib import Path

import pytest
import python_calamine

from etl import pipeline, sources, warehouse
from etl.settings import MAX_LISTED_CELLS, MAX_NAME_BYTES, MAX_SHOWN_CHARS
from etl.sources import load_source, safe_upload_name

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
    # hardening (issue 5)
    "zip_bomb.xlsx": "too_large",
    "zip_bomb_lying_header.xlsx": "too_large",
    "sparse_bomb.xlsx": "too_large",
    "too_many_rows.xlsx": "too_large",
    "too_many_cols.xlsx": "too_large",
    "too_many_cols.csv": "too_large",
    "csv_named_xlsx.xlsx": "unknown_indicator",  # read as the CSV it is
    "xlsx_named_csv.csv": "negative",  # read as the workbook it is
    "html_named_xls.xls": "not_spreadsheet",
    "empty.xlsx": "empty",
    "macro.xlsm": "macro",
    "macro_old.xls": "macro",
    "encrypted.xlsx": "encrypted",
    "broken_old.xls": "file_unreadable",
    "control_char.csv": "unsafe_text",
    "control_char.xlsx": "unsafe_text",
    "bidi_override.csv": "unsafe_text",
    "long_text.csv": "text_too_long",
    "csv_injection_region.csv": "unsafe_text",
    "csv_injection_dde.csv": "unsafe_text",
    "csv_injection_indicator.xlsx": "unsafe_text",
}
# Refused from the zip directory or the sheet XML alone: the parser must never see them
# (calamine would inflate 272 MB, or allocate a 17-billion-cell grid and abort the process).
REFUSED_BEFORE_PARSING = {
    "zip_bomb.xlsx",
    "zip_bomb_lying_header.xlsx",
    "sparse_bomb.xlsx",
    "too_many_rows.xlsx",
    "too_many_cols.xlsx",
    "macro.xlsm",
    "macro_old.xls",
    "encrypted.xlsx",
}
GOOD_CSV = "地区,区划代码,年份,指标,数值,单位\n眉县,610326,2023,城市低保人数,300,人\n"


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    base = tmp_path_factory.mktemp("data")
    good = base.parent / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    outcome = pipeline.load(base, [good])
    assert outcome.ok and outcome.changed, outcome.issues.items
    return base


def test_corpus_is_complete():
    assert len(EXPECTED) >= 40
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
    for issue in outcome.issues.errors:
        if issue.code in ("unsafe_text", "text_too_long"):
            assert len(issue.value) <= MAX_SHOWN_CHARS + 1 and len(issue.message) < 200  # values cut short


@pytest.mark.parametrize("name", sorted(REFUSED_BEFORE_PARSING))
def test_hostile_workbooks_never_reach_the_parser(monkeypatch, name):
    def parser(*args, **kwargs):
        raise AssertionError("calamine must not see this file")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", parser)
    started = time.perf_counter()
    source, issues = load_source(BAD / name)
    assert source is None and [i.code for i in issues] == [EXPECTED[name]]
    assert time.perf_counter() - started < 2


def test_zip_bomb_is_small_on_disk_and_named_in_chinese():
    assert (BAD / "zip_bomb.xlsx").stat().st_size < 400_000
    _, issues = load_source(BAD / "zip_bomb.xlsx")
    assert "解压后" in issues[0].message and "256 MB" in issues[0].message


def test_limits_are_named_in_the_messages():
    _, issues = load_source(BAD / "too_many_rows.xlsx")
    assert "1,000,000 行" in issues[0].message
    _, issues = load_source(BAD / "too_many_cols.csv")
    assert "500 列" in issues[0].message
    _, issues = load_source(BAD / "encrypted.xlsx")
    assert "请取消密码保护后再上传" in issues[0].suggestion


def test_too_many_csv_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_ROWS", 5)
    path = tmp_path / "rows.csv"
    path.write_text(GOOD_CSV + "眉县,610326,2022,城市低保人数,300,人\n" * 5, encoding="utf-8")
    source, issues = load_source(path)
    assert source is None and [i.code for i in issues] == ["too_large"]
    assert "5 行" in issues[0].message


def test_unclosed_quote_past_the_csv_field_limit_is_an_issue_not_an_exception(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text(GOOD_CSV + '眉县,"' + "3" * 200_000 + "\n", encoding="utf-8")
    source, issues = load_source(path)
    assert source is None and [i.code for i in issues] == ["text_too_long"]


def test_signed_numbers_and_dashes_are_not_injection(tmp_path):
    path = tmp_path / "signs.csv"
    path.write_text(
        "地区,区划代码,年份,指标,数值,单位,备注\n"
        "眉县,610326,2023,城市低保人数,-5,人,-\n"
        "眉县,610326,2022,城市低保人数,+1 234.5,人,--\n"
        "眉县,610326,2021,城市低保人数,-3.2%,人, \n",
        encoding="utf-8",
    )
    source, issues = load_source(path)
    assert issues == [] and source is not None
    for text in ("=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)", " =A1", "-A1", "\t=1"):
        path.write_text(f"地区,数值\n{text},1\n", encoding="utf-8")
        assert [i.code for i in load_source(path)[1]] == ["unsafe_text"], text


def test_many_bad_cells_are_listed_once_each_up_to_a_limit(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text(
        GOOD_CSV + "".join(f"=A{n},610326,2023,城市低保人数,1,人\n" for n in range(50)), encoding="utf-8"
    )
    _, issues = load_source(path)
    assert len(issues) == MAX_LISTED_CELLS + 1 and "另有 30 个单元格" in issues[-1].message
    assert [i.row for i in issues[:3]] == [3, 4, 5] and issues[0].column == "A"


@pytest.mark.parametrize(
    "display, shown",
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\Windows\\win.ini.csv", "win.ini.csv"),
        ("/abs/path/填报表.csv", "填报表.csv"),
        ("\x1b[31m红色.csv", "[31m红色.csv"),
    ],
)
def test_messages_show_a_sanitised_base_name(tmp_path, display, shown):
    path = tmp_path / "copy.csv"
    shutil.copyfile(BAD / "text_in_number.csv", path)
    source, issues = load_source(path, display_name=display)
    assert issues == []  # a CSV reads fine; its problems come later, under the safe name
    assert source.name == shown and all(g.file == shown for g in source.grids)
    shutil.copyfile(BAD / "macro.xlsm", path)
    _, issues = load_source(path, display_name=display)
    assert [i.file for i in issues] == [shown] and "/" not in issues[0].message


def test_hostile_file_names_never_write_outside_the_data_dir(tmp_path):
    base = tmp_path / "data"
    outside = tmp_path / "uploads"
    outside.mkdir()
    # On Linux a backslash is an ordinary character, so such a name can really reach load().
    path = outside / "..\\..\\..\\evil\x07.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    outcome = pipeline.load(base, [path])
    assert outcome.ok, [i.as_text() for i in outcome.issues.items]
    assert [i["name"] for i in outcome.inputs] == ["evil.csv"]
    raw = sorted(p.name for p in (base / "raw").iterdir() if p.is_file())
    assert len(raw) == 1 and raw[0].endswith("_evil.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "uploads"]
    assert sorted(p.name for p in outside.iterdir()) == [path.name]


@pytest.mark.parametrize(
    "name, safe",
    [
        ("填报表.xlsx", "填报表.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\张三\\Desktop\\眉县2023.XLSX", "眉县2023.XLSX"),
        ("..\\..\\x.csv", "x.csv"),
        ("/", "upload"),
        ("", "upload"),
        ("..", "upload"),
        (".csv", "upload.csv"),
        ("...hidden.xlsx", "hidden.xlsx"),
        ("  name .csv  ", "name.csv"),
        ("a\x00b\x1fc\x7f.csv", "abc.csv"),
        ("眉县\u202egpj.exe.csv", "眉县gpj.exe.csv"),
        ("a\tb\r\nc\u200b\ufeff.csv", "abc.csv"),
        ("a:b|c?.csv", "a_b_c_.csv"),
        ("CON.csv", "_CON.csv"),
        ("no_suffix", "no_suffix"),
        ("report.tar.gz", "report.tar.gz"),
    ],
)
def test_safe_upload_name(name, safe):
    assert safe_upload_name(name) == safe


def test_safe_upload_name_limits_length_and_keeps_the_suffix():
    out = safe_upload_name("a" * 300 + ".xlsx")
    assert len(out) == 100 and out.endswith(".xlsx") and out.startswith("a")
    out = safe_upload_name("眉" * 300 + ".xlsx")  # 3 bytes a character: the byte limit comes first
    assert out.endswith(".xlsx") and len(out.encode()) <= MAX_NAME_BYTES and out == "眉" * 65 + ".xlsx"
    assert safe_upload_name("." * 300 + "csv") == "upload.csv"  # like ".csv": all stem, no name
    assert len(safe_upload_name("a" * 1000)) == 100


def test_oversized_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 10)
    path = tmp_path / "big.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    source, issues = load_source(path)
    assert source is None and [i.code for i in issues] == ["too_large"] and "MB" in issues[0].message
