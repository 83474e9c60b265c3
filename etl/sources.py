"""Turn an input file into grids of cell values, one per sheet, with Excel coordinates kept.

Excel is read with python-calamine (whole sheets at once, much faster than openpyxl cell
by cell). CSV is decoded as UTF-8, UTF-8 with BOM or GB18030 — the encodings Chinese
offices actually produce. Formula cells that were never calculated (a workbook written by
a program and never opened in Excel) have no value to read: they are reported, not guessed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from .issues import Issue, error, excel_column

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".txt"}
CSV_ENCODINGS = ("utf-8-sig", "gb18030")

Cell = object  # int | float | str | bool | date | None


@dataclass
class Grid:
    """One sheet's cells. `rows[i][j]` is Excel row `first_row + i`, column `first_col + j`.

    Empty cells are `None` (calamine's "" is mapped to None), so readers test `is None`.
    `merged` holds merged ranges as 0-based ((r1, c1), (r2, c2)) in sheet coordinates.
    """
    file: str
    sheet: str
    rows: list[list[Cell]]
    first_row: int = 1          # Excel row number of rows[0]
    first_col: int = 0          # 0-based column index of rows[i][0]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)

    def excel_row(self, i: int) -> int:
        return self.first_row + i

    def excel_col(self, j: int) -> str:
        return excel_column(self.first_col + j)

    def where(self, i: int | None = None, j: int | None = None) -> dict:
        """Keyword arguments for `issues.error(...)` naming this sheet (and cell)."""
        out = {"file": self.file, "sheet": self.sheet}
        if i is not None:
            out["row"] = self.excel_row(i)
        if j is not None:
            out["column"] = self.excel_col(j)
        return out


@dataclass
class Source:
    """A file as loaded: its grids and its fingerprint (for lineage and idempotent loads)."""
    path: Path
    name: str
    sha256: str
    grids: list[Grid]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_source(path: Path, display_name: str | None = None) -> tuple[Source | None, list[Issue]]:
    """Read every sheet of `path`. Returns (None, [error]) when the file cannot be read at all."""
    path = Path(path)
    name = display_name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [error("file_unreadable", f"无法打开文件：{exc.strerror or exc}", file=name)]
    if not data.strip():
        return None, [error("empty", "文件是空的，没有任何数据。", file=name,
                            suggestion="请确认上传的是填好数据的文件。")]
    sha = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        grids, issues = _csv_grids(data, name)
    elif suffix in EXCEL_SUFFIXES or data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        grids, issues = _excel_grids(path, data, name)
    else:
        return None, [error("not_spreadsheet", f"“{name}”不是 Excel（xlsx/xls）或 CSV 文件。", file=name,
                            suggestion="请用模板另存为 .xlsx 或 .csv 后再上传。")]
    if issues:
        return None, issues
    return Source(path=path, name=name, sha256=sha, grids=grids), []


def _csv_grids(data: bytes, name: str) -> tuple[list[Grid], list[Issue]]:
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return [], [error("encoding", "文件编码无法识别（支持 UTF-8、带 BOM 的 UTF-8 和 GB18030/GBK）。",
                          file=name, suggestion="请在 Excel 中“另存为 CSV UTF-8”后再上传。")]
    if "\x00" in text:
        return [], [error("not_spreadsheet", "文件含有二进制内容，不是文本 CSV。", file=name,
                          suggestion="请上传 .xlsx 或 CSV 文件。")]
    # csv yields only strings: "" and whitespace-only cells are empty (inlined: millions of cells).
    rows = [[c if c and not c.isspace() else None for c in r] for r in csv.reader(io.StringIO(text))]
    return [Grid(file=name, sheet="", rows=rows)], []


def _clean(value: Cell) -> Cell:
    if value == "" or value is None:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _excel_grids(path: Path, data: bytes, name: str) -> tuple[list[Grid], list[Issue]]:
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several types for broken files
        detail = "文件已损坏或不完整" if data[:2] == b"PK" else "不是有效的 Excel 文件"
        return [], [error("file_unreadable", f"“{name}”无法作为 Excel 读取：{detail}。", file=name,
                          value=type(exc).__name__,
                          suggestion="请在 Excel 中打开该文件确认无误，另存为 .xlsx 后重新上传。")]
    uncalculated = _uncalculated_formulas(data)
    grids: list[Grid] = []
    issues: list[Issue] = []
    for meta in wb.sheets_metadata:
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        try:
            sheet = wb.get_sheet_by_name(meta.name)
            values = sheet.to_python()
        except Exception as exc:
            issues.append(error("file_unreadable", f"工作表无法读取：{type(exc).__name__}。", file=name,
                                sheet=meta.name, suggestion="请在 Excel 中打开该文件另存为 .xlsx 后重新上传。"))
            continue
        start = sheet.start or (0, 0)
        for ref in uncalculated.get(meta.name, []):
            issues.append(error("formula", f"单元格 {ref} 是公式，但文件中没有保存计算结果。", file=name,
                                sheet=meta.name, row=int(re.sub(r"\D", "", ref)),
                                column=re.sub(r"\d", "", ref),
                                suggestion="请在 Excel 中打开文件、确认公式已计算后保存，或把公式改为数值。"))
        grids.append(Grid(file=name, sheet=meta.name,
                          rows=[[_clean(c) for c in r] for r in values],
                          first_row=start[0] + 1, first_col=start[1],
                          merged=list(sheet.merged_cell_ranges or [])))
    return grids, issues


_HAS_VALUE = re.compile(rb"<v>[^<]+</v>")
_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)


def _uncalculated_formulas(data: bytes) -> dict[str, list[str]]:
    """Cells with a formula (<f>) but no cached value (<v>), per sheet name; xlsx only."""
    if data[:2] != b"PK":
        return {}
    out: dict[str, list[str]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            sheet_files = _sheet_files(zf)
            for sheet_name, member in sheet_files.items():
                xml = zf.read(member)
                if b"<f" not in xml:
                    continue
                refs = [m.group(1).decode() for m in _CELL.finditer(xml)
                        if m.group(2) and b"<f" in m.group(2) and not _HAS_VALUE.search(m.group(2))]
                if refs:
                    out[sheet_name] = refs
    except (zipfile.BadZipFile, KeyError, OSError):
        return {}
    return out


def _sheet_files(zf: zipfile.ZipFile) -> dict[str, str]:
    """Map sheet names to their XML part, through workbook.xml and its relationships."""
    wb = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
    out = {}
    for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb):
        target = targets.get(rid, "")
        target = target.lstrip("/")
        out[_unescape(name)] = target if target.startswith("xl/") else "xl/" + target
    return out


def _unescape(s: str) -> str:
    return s.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
