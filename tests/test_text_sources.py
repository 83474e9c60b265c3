"""Shared text normalisation and file loading (encodings, broken files, formulas)."""

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from etl import sources
from etl.issues import excel_column
from etl.readers import read_source
from etl.sources import load_source
from etl.text import chinese_line, normalize, split_unit


def test_normalize_removes_spaces_markers_and_fullwidth():
    assert normalize("全 省") == "全省"
    assert normalize("  眉　县 ") == "眉县"
    assert normalize("#农村低保人数") == "农村低保人数"
    assert normalize("其中：特困人员") == "特困人员"
    assert normalize("ＡＢ１") == "AB1"
    assert normalize(None) == ""


def test_split_unit_from_bilingual_header():
    assert split_unit("城镇居民最低生活保障人数(万人)\nNumber of urban (10 000 persons)") == (
        "城镇居民最低生活保障人数",
        "万人",
    )
    assert split_unit("养老床位数（张）") == ("养老床位数", "张")
    assert split_unit("低保标准（元/人·月）") == ("低保标准", "元/人·月")
    assert split_unit("地 区") == ("地区", None)
    assert chinese_line("Region\n地区") == "地区"


def test_excel_column_letters():
    assert [excel_column(i) for i in (0, 1, 25, 26, 27, 701, 702)] == ["A", "B", "Z", "AA", "AB", "ZZ", "AAA"]


def _write_csv(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_encodings(tmp_path):
    text = "地区,年份,指标,数值\n眉县,2023,城市低保人数,300\n"
    for enc in ("utf-8", "utf-8-sig", "gb18030"):
        source, issues = load_source(_write_csv(tmp_path / f"{enc}.csv", text, enc))
        assert issues == []
        assert source.grids[0].rows[1] == ["眉县", "2023", "城市低保人数", "300"]


def test_csv_in_unknown_encoding_is_rejected(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("地区,年份\n眉县,2023\n".encode("utf-16"))
    source, issues = load_source(path)
    assert source is None
    assert [i.code for i in issues] in (["encoding"], ["not_spreadsheet"])


def test_excel_coordinates_and_uncalculated_formula(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws["B3"] = "地区"
    ws["C4"] = 5
    ws["D4"] = "=C4*2"
    path = tmp_path / "f.xlsx"
    wb.save(path)
    source, issues = load_source(path)
    assert source is None
    assert [(i.code, i.sheet, i.row, i.column) for i in issues] == [("formula", "数据", 4, "D")]


def test_grid_keeps_excel_offsets(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C5"] = "x"
    ws["D6"] = 1
    path = tmp_path / "o.xlsx"
    wb.save(path)
    source, issues = load_source(path)
    grid = source.grids[0]
    assert (grid.rows[0][0], grid.excel_row(0), grid.excel_col(0)) == ("x", 5, "C")
    assert (grid.rows[1][1], grid.excel_row(1), grid.excel_col(1)) == (1, 6, "D")


PLAIN = "地区,区划代码,年份,指标,数值,单位\n眉县,610326,2023,城市低保人数,300,人\n"
CSV_CASES = {
    "plain": PLAIN,
    "crlf": PLAIN.replace("\n", "\r\n") + "岐山县, ,2023,城市低保人数,\u3000,\t\n",
    "blank cells and rows": PLAIN + ",,,,,\n眉县,610326,2022,城市低保人数, ,\x1c\n",
    "title above the header": "2023年（单位：人）,,,\n地区,指标,数值,单位\n眉县,城市低保人数,300,\n",
    "formulas": PLAIN + "".join(f"=A{n},610326,2023,城市低保人数,{n},@人\n" for n in range(30)),
    "signed numbers": PLAIN + "眉县,610326,2022,城市低保人数,-3.2%, - \n",
    "control characters": PLAIN + "眉县,610326,2022,城\u202e市低保人数,2,人\x07\n",
    # read row by row, as before: quotes, lone CR, empty lines, ragged rows, long cells, one column
    "quoted": PLAIN + '"眉县",610326,2022,城市低保人数,"1,300",人\n',
    "lone CR": PLAIN.replace("\n", "\r"),
    "empty line": PLAIN + "\n" + PLAIN,
    "ragged": PLAIN + "眉县,610326\n",
    "long cell": PLAIN + "眉县,610326,2022," + "长" * 1500 + ",1,人\n",
    "one column": "地区\n眉县\n",
}


@pytest.mark.parametrize("name", sorted(CSV_CASES))
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_plain_csv_read_column_wise_as_row_by_row(tmp_path, monkeypatch, name, encoding):
    """Plain CSVs are parsed column-wise by pyarrow (TableGrid); the grid rows, the text checks
    and the raw observations are exactly those of the row-by-row csv path: the same cells as
    written (values and their Python types, None for blanks, rows, columns). The column-wise
    frame may hold a column as a Categorical of those texts (docs/ARCHITECTURE.md, "Raw
    observations"), the row-wise one holds objects."""
    path = tmp_path / "t.csv"
    try:
        path.write_bytes(CSV_CASES[name].encode(encoding))
    except UnicodeEncodeError:
        pytest.skip("not representable in this encoding")
    columns, issues = load_source(path)
    with monkeypatch.context() as m:
        m.setattr(sources, "_table_grid", lambda *args: None)
        rows, row_issues = load_source(path)
    assert [vars(i) for i in issues] == [vars(i) for i in row_issues]
    plain = name in ("plain", "crlf", "blank cells and rows", "title above the header", "signed numbers")
    if columns is None:
        assert rows is None
        return
    assert isinstance(columns.grids[0], sources.TableGrid) == plain
    (a,), (b,) = columns.grids, rows.grids
    assert list(a.rows) == b.rows and a.size() == b.size() and a.blank() == b.blank()
    assert a.rows[:2] == b.rows[:2] and a.rows[-1] == b.rows[-1]
    frame_a, found_a = read_source(columns)
    frame_b, found_b = read_source(rows)
    assert [vars(i) for i in found_a] == [vars(i) for i in found_b]
    assert list(frame_a.columns) == list(frame_b.columns) and len(frame_a) == len(frame_b)
    assert isinstance(frame_a.index, pd.RangeIndex) and isinstance(frame_b.index, pd.RangeIndex)
    for column in frame_a.columns:
        a_col, b_col = frame_a[column], frame_b[column]
        if isinstance(a_col.dtype, pd.CategoricalDtype) and not isinstance(b_col.dtype, pd.CategoricalDtype):
            assert plain and b_col.dtype == object
            assert all(type(t) is str for t in a_col.cat.categories)
        else:
            assert a_col.dtype == b_col.dtype
        assert _cells(a_col) == _cells(b_col), column


def _cells(column: pd.Series) -> list[tuple[type, object]]:
    """A raw column's cells as written, with their Python types; a Categorical's blanks are None."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        texts = list(column.cat.categories) + [None]
        cells = [texts[code] for code in column.cat.codes]
    else:
        cells = column.tolist()
    return [(type(v), v) for v in cells]
