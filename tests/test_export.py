"""Download files: cached under a digest of the table's content, never served for another table."""

import io

import openpyxl
import pandas as pd

from dashboard import export

TABLE = pd.DataFrame({"地区": ["眉县", "凤县"], "年份": [2024, 2024], "数值": [38.0, 41.5]})


def test_digest_changes_with_any_value_name_or_type():
    same = TABLE.copy()
    assert export.content_digest(same) == export.content_digest(TABLE)
    changed = TABLE.assign(数值=[38.0, 41.6])
    renamed = TABLE.rename(columns={"数值": "数量"})
    retyped = TABLE.astype({"年份": "float64"})
    reordered = TABLE.iloc[::-1]
    digests = {export.content_digest(t) for t in (TABLE, changed, renamed, retyped, reordered)}
    assert len(digests) == 5


def test_cached_files_belong_to_their_table():
    xlsx, csv = export._files(export.content_digest(TABLE), TABLE, "示例数据")
    other = TABLE.assign(数值=[1.0, 2.0])
    xlsx2, csv2 = export._files(export.content_digest(other), other, "示例数据")
    assert csv.decode("utf-8-sig").splitlines()[1:] == ["眉县,2024,38", "凤县,2024,41.5"]
    assert csv2.decode("utf-8-sig").splitlines()[1:] == ["眉县,2024,1", "凤县,2024,2"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx2))
    assert [c.value for c in book["数据"]["C"]][1:] == [1, 2] and book["说明"]["A2"].value == "示例数据"
