"""Turn an input file into grids of cell values, one per sheet, with Excel coordinates kept.

Excel is read with python-calamine (whole sheets at once, much faster than openpyxl cell
by cell). CSV is decoded as UTF-8, UTF-8 with BOM or GB18030 — the encodings Chinese
offices actually produce. Formula cells that were never calculated (a workbook written by
a program and never opened in Excel) have no value to read: they are reported, not guessed.

Uploads come from outside, so the bytes are checked before any parser sees them: only a
regular file with one of INPUT_SUFFIXES is read (the one list `load` and `build` share), the
content decides the format (the extension only breaks ties); workbooks are refused when encrypted, when
they carry macros, when they would inflate past MAX_UNCOMPRESSED_BYTES (zip bombs) or span
more than MAX_ROWS x MAX_COLS (a two-cell "A1 + XFD1048576" sheet makes calamine allocate a
dense 17-billion-cell range and abort the process); cells with control characters, formula
triggers (= + - @, CSV injection) or more than MAX_CELL_CHARS characters are refused too.
Messages show a sanitised base name (`safe_upload_name`) and values cut to ~50 characters.
"""

from __future__ import annotations

import csv
import errno
import functools
import hashlib
import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import MISSING, dataclass, field, fields
from itertools import chain
from operator import itemgetter
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import python_calamine

from .issues import Issue, error, excel_column
from .settings import (
    MAX_CELL_CHARS,
    MAX_COLS,
    MAX_COMPRESSION_RATIO,
    MAX_FILE_BYTES,
    MAX_LISTED_CELLS,
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    MAX_ROWS,
    MAX_SHOWN_CHARS,
    MAX_UNCOMPRESSED_BYTES,
    MAX_ZIP_MEMBERS,
)

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
CSV_SUFFIXES = frozenset({".csv", ".txt"})
# The one list of accepted inputs: what `load_source` reads is what `load` keeps in raw/ and
# what every later `build` reads back from there (pipeline.input_files).
INPUT_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
# The limits on what one input file may be (MAX_FILE_BYTES, MAX_ROWS …) are in settings.py.

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

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
    first_row: int = 1  # Excel row number of rows[0]
    first_col: int = 0  # 0-based column index of rows[i][0]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    # The region the user said the file is about (a code, `etl load --region`), for a table that
    # names none itself; resolve.py gives it to rows without a region.
    region: str | None = None

    def excel_row(self, i: int) -> int:
        return self.first_row + i

    def excel_col(self, j: int) -> str:
        return excel_column(self.first_col + j)

    def observation(self, i: int, j: int, **fields) -> dict:
        """A raw observation read from cell (i, j): its sheet, Excel row and column letter (the
        lineage every reader and recipe records) and the reader's `fields` (`RAW_COLUMNS`)."""
        return {"sheet": self.sheet, "row": self.excel_row(i), "column": self.excel_col(j), **fields}

    def where(self, i: int | None = None, j: int | None = None) -> dict:
        """Keyword arguments for `issues.error(...)` naming this sheet (and cell)."""
        out = {"file": self.file, "sheet": self.sheet}
        if i is not None:
            out["row"] = self.excel_row(i)
        if j is not None:
            out["column"] = self.excel_col(j)
        return out

    def size(self) -> tuple[int, int]:
        """(rows, cells in the longest row)."""
        return len(self.rows), max(map(len, self.rows), default=0)

    def blank(self) -> bool:
        return not any(c is not None for row in self.rows for c in row)

    def column(self, j: int, start: int = 0) -> list:
        """Cells of column j from row `start` on (None where a row is too short)."""
        body = self.rows[start:]
        if j < min(map(len, body), default=0):
            return list(map(itemgetter(j), body))  # C speed
        return [r[j] if j < len(r) else None for r in body]

    def suspect_texts(self) -> Iterator[str]:
        """Distinct text cells `_text_problem` must look at; no other cell can be a problem."""
        for cell in set(chain.from_iterable(self.rows)):
            if cell.__class__ is str and not (
                len(cell) <= MAX_CELL_CHARS
                and cell.isprintable()
                and cell[:1] not in _FORMULA_START
                and cell[:1] != " "
            ):
                yield cell

    def cells_with(self, texts) -> Iterator[tuple[int, int, str]]:
        """(i, j, cell) of every text cell found in `texts`, row by row."""
        for i, row in enumerate(self.rows):
            for j, cell in enumerate(row):
                if cell.__class__ is str and cell in texts:
                    yield i, j, cell


class TableGrid(Grid):
    """A CSV sheet held column by column, as pyarrow parsed it (see `_table_grid`).

    Column j is `texts[j]` (its distinct non-blank cells, then None for blank cells) indexed by
    `codes[j]` (one entry per row, -1 for a blank cell: the None at the end). `rows` is a
    read-only view that builds the rows asked for, so every reader's `detect` sees the header
    rows as in any grid, while the long-table reader takes whole columns as codes
    (`coded_column`) and the text checks look at distinct values only."""

    def __init__(self, file: str, texts: list[np.ndarray], codes: list[np.ndarray], suspects: list[str]):
        for f in fields(Grid):  # every Grid attribute at its default; rows come from the columns
            if f.name != "rows":
                setattr(self, f.name, f.default_factory() if f.default_factory is not MISSING else f.default)
        self.file, self.sheet = file, ""
        self._texts, self._codes, self._suspects = texts, codes, suspects

    @property
    def rows(self) -> _ColumnRows:
        return _ColumnRows(self._texts, self._codes)

    def __repr__(self) -> str:
        return f"TableGrid(file={self.file!r}, rows={len(self._codes[0])}, columns={len(self._codes)})"

    def size(self) -> tuple[int, int]:
        return len(self._codes[0]), len(self._codes)

    def blank(self) -> bool:
        return all(len(texts) == 1 for texts in self._texts)

    def column(self, j: int, start: int = 0) -> np.ndarray:
        return self._texts[j][self._codes[j][start:]]

    def coded_column(self, j: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Column j from row `start` as (its distinct texts as written, one code per row into
        them, -1 for a blank cell): what pyarrow found, for a reader to hand on without hashing
        the texts again. The texts may include some only found above `start` (the header)."""
        return self._texts[j][:-1], self._codes[j][start:]

    def suspect_texts(self) -> Iterator[str]:
        return iter(self._suspects)

    def cells_with(self, texts) -> Iterator[tuple[int, int, str]]:
        rows, cols = [], []
        for j, (values, codes) in enumerate(zip(self._texts, self._codes)):
            wanted = [k for k, v in enumerate(values) if v is not None and v in texts]
            if wanted:
                found = np.flatnonzero(np.isin(codes, wanted))
                rows.append(found)
                cols.append(np.full(len(found), j))
        if not rows:
            return
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        for k in np.lexsort((cols, rows)):
            i, j = int(rows[k]), int(cols[k])
            yield i, j, self._texts[j][self._codes[j][i]]


class _ColumnRows(Sequence):
    """The rows of a TableGrid, each built when asked for (lists of str and None, like csv rows)."""

    def __init__(self, texts: list[np.ndarray], codes: list[np.ndarray]):
        self._texts, self._codes = texts, codes

    def __len__(self) -> int:
        return len(self._codes[0])

    def _row(self, i: int) -> list:
        return [texts[codes[i]] for texts, codes in zip(self._texts, self._codes)]

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self._row(i) for i in range(*key.indices(len(self)))]
        i = key + len(self) if key < 0 else key
        if not 0 <= i < len(self):
            raise IndexError("row index out of range")
        return self._row(i)

    def __iter__(self):
        return map(self._row, range(len(self)))


@dataclass
class Source:
    """A file as loaded: its grids and its fingerprint (for lineage and idempotent loads)."""

    path: Path
    name: str
    sha256: str
    grids: list[Grid]


def sha256_file(path: Path) -> str:
    """The file's sha256. A load hashes the served files in raw/ (which to combine) and again
    after its publish (which cache entries to keep): the second time is a look-up, keyed by
    what any write to the file changes (size, modification and change times, inode), as git's
    index does."""
    st = os.stat(path)
    return _sha256_of(os.fspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@functools.lru_cache(maxsize=1024)
def _sha256_of(path: str, size: int, mtime_ns: int, ctime_ns: int, inode: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def safe_upload_name(name: str) -> str:
    """A browser- or user-supplied file name made safe to write and to show.

    Keeps only the base name (either slash separates folders); drops control, format (bidi,
    zero-width) and surrogate characters, characters Windows forbids, leading dots and
    surrounding spaces; limits the result to MAX_NAME_CHARS characters and MAX_NAME_BYTES
    UTF-8 bytes (raw/ adds a 31-byte prefix; Linux allows 255) with the suffix kept;
    "upload" + suffix when nothing is left.
    """
    base = re.split(r"[/\\]", str(name))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in _NAME_DROP)
    base = re.sub(r'[<>:"|?*]', "_", base).strip().rstrip(". ")  # Windows drops trailing dots too
    m = re.match(r"^(.*?)(\.[A-Za-z0-9]{1,10})?$", base, re.S)
    stem, suffix = m.group(1), m.group(2) or ""
    stem = stem.lstrip(". ").rstrip(". ")
    if stem.upper().split(".")[0] in _WINDOWS_RESERVED:
        stem = "_" + stem
    stem = stem[: MAX_NAME_CHARS - len(suffix)]
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(". ")
    return (stem or "upload") + suffix


_NAME_DROP = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
# C0 controls except tab/newline/carriage return, DEL, C1 controls and the bidi overrides that
# can make text read differently from what it is.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shorten(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """A value as quoted in a message: control characters made visible, at most `limit` characters."""
    text = _CONTROL.sub(_visible, str(value))
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= limit else text[:limit] + "…"


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def load_source(path: Path, display_name: str | None = None) -> tuple[Source | None, list[Issue]]:
    """Read every sheet of `path`. Returns (None, [errors]) when the file cannot or must not be read.

    Never raises for what is inside the file: every problem comes back as an Issue."""
    path = Path(path)
    name = safe_upload_name(display_name or path.name)
    suffix = Path(name).suffix.lower()
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a folder, a pipe, a device: never open it
            what = "文件夹" if stat.S_ISDIR(info.st_mode) else "特殊文件（不是普通文件）"
            return None, [
                error(
                    "not_a_file",
                    f"“{name}”是{what}，不是数据文件，无法导入。",
                    file=name,
                    suggestion="请指定要导入的 .xlsx 或 .csv 文件本身，而不是文件夹。",
                )
            ]
        if suffix not in INPUT_SUFFIXES:
            return None, [_not_spreadsheet(name)]
        size = info.st_size
        if size > MAX_FILE_BYTES:
            return None, [
                error(
                    "too_large",
                    f"文件有 {size / 2**20:,.0f} MB，超过上限 {MAX_FILE_BYTES // 2**20} MB。",
                    file=name,
                    suggestion="请按城市或年份拆分后分别上传。",
                )
            ]
        data = path.read_bytes()
    except OSError as exc:
        return None, [_unreadable(name, exc)]
    if not data or data.isspace():  # (not data.strip(): that copies the whole file)
        return None, [
            error(
                "empty", "文件是空的，没有任何数据。", file=name, suggestion="请确认上传的是填好数据的文件。"
            )
        ]
    sha = hashlib.sha256(data).hexdigest()
    # The content decides the format; the extension only breaks ties (a CSV renamed .xlsx is read as CSV).
    if data[:4] == ZIP_MAGIC or data[:8] == OLE_MAGIC:
        grids, issues = _excel_grids(path, data, name)
    elif suffix in CSV_SUFFIXES:
        grids, issues = _csv_grids(data, name)
    elif suffix in EXCEL_SUFFIXES:
        head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if head.startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<")) or b"<html" in head or b"<table" in head:
            return None, [
                error(
                    "not_spreadsheet",
                    f"“{name}”是网页（HTML/XML）格式，只是扩展名为 {suffix}。",
                    file=name,
                    suggestion="请在 Excel 中打开该文件，“另存为” Excel 工作簿（.xlsx）后再上传。",
                )
            ]
        if _looks_like_text(data):
            grids, issues = _csv_grids(data, name)
        else:
            grids, issues = _excel_grids(path, data, name)
    else:
        return None, [_not_spreadsheet(name)]
    if not issues:
        issues = _size_issues(grids, name) or _text_issues(grids, name)
    if issues:
        return None, issues
    return Source(path=path, name=name, sha256=sha, grids=grids), []


def _not_spreadsheet(name: str) -> Issue:
    return error(
        "not_spreadsheet",
        f"“{name}”不是 Excel（xlsx/xls）或 CSV 文件。",
        file=name,
        suggestion="请用模板另存为 .xlsx 或 .csv 后再上传。",
    )


_OS_REASONS = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有读取该文件的权限",
    errno.EPERM: "没有读取该文件的权限",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENAMETOOLONG: "文件路径过长",
    errno.EIO: "读取时发生磁盘错误",
}


def _unreadable(name: str, exc: OSError) -> Issue:
    reason = _OS_REASONS.get(exc.errno, f"系统错误 {exc.errno}" if exc.errno else "系统错误")
    return error(
        "file_unreadable",
        f"无法打开文件“{name}”：{reason}。",
        file=name,
        value=type(exc).__name__,
        suggestion="请确认文件路径正确、文件存在且可以读取。",
    )


def _looks_like_text(data: bytes) -> bool:
    """Decodes as a CSV encoding and has no NUL bytes: a text file, whatever its extension."""
    if b"\x00" in data[:65536]:
        return False
    for encoding in CSV_ENCODINGS:
        try:
            data[:65536].decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= 65536 - 4:  # cut inside a multi-byte character
                return True
    return False


def _size_issues(grids: list[Grid], name: str) -> list[Issue]:
    """Sheets over MAX_ROWS rows or MAX_COLS columns (after reading; xlsx is also checked before)."""
    issues = []
    for grid in grids:
        height, width = grid.size()
        if height > MAX_ROWS or width > MAX_COLS:
            issues.append(_too_big(name, grid.sheet, height, width))
    return issues


def _too_big(name: str, sheet: str, rows: int, cols: int) -> Issue:
    what = (
        f"有 {rows:,} 行，超过上限 {MAX_ROWS:,} 行"
        if rows > MAX_ROWS
        else f"有 {cols:,} 列，超过上限 {MAX_COLS:,} 列"
    )
    return error(
        "too_large",
        f"表格{what}。",
        file=name,
        sheet=sheet,
        suggestion="请删除多余的空行空列，或按城市、年份拆分成多个文件后上传。",
    )


_FORMULA_START = frozenset("=+-@")
_SIGNED_NUMBER = re.compile(r"^[+-]\s*(?:\d[\d,，\s]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*[%‰]?$")
_NO_DATA_DASHES = re.compile(r"^[-+\s]+$")


def _text_problem(text: str) -> tuple[str, str, str] | None:
    """(code, message, suggestion) for a text cell that must not be loaded, else None."""
    bad = _CONTROL.search(text)
    if bad:
        return (
            "unsafe_text",
            f"单元格含有不可见的控制字符（{_visible(bad)}）。",
            "请删除该单元格中的特殊字符后重新输入（可先粘贴到记事本中再复制回来）。",
        )
    if len(text) > MAX_CELL_CHARS:
        return (
            "text_too_long",
            f"单元格有 {len(text):,} 个字符，超过上限 {MAX_CELL_CHARS:,} 个字符。",
            "请只填写地区、指标名称或数值，说明文字请写在报送说明中。",
        )
    stripped = text.lstrip()
    if (
        stripped[:1] in _FORMULA_START
        and not _SIGNED_NUMBER.match(stripped)
        and not _NO_DATA_DASHES.match(stripped)
    ):
        return (
            "unsafe_text",
            "单元格文字以 = + - @ 开头，可能被表格软件当作公式执行（CSV 注入）。",
            "请删除开头的 = + - @ 符号；数值请直接填写数字，不要写公式。",
        )
    return None


def _text_issues(grids: list[Grid], name: str) -> list[Issue]:
    """Control characters, formula-like text and over-long text, cell by cell (text cells only).

    A national file has millions of cells but a few thousand distinct values: the distinct
    values are checked first, and cells are located only when one of them is bad."""
    issues: list[Issue] = []
    more = 0
    for grid in grids:
        problems = {}
        for cell in grid.suspect_texts():
            problem = _text_problem(cell)
            if problem is not None:
                problems[cell] = problem
        if not problems:
            continue
        for i, j, cell in grid.cells_with(problems):
            if len(issues) >= MAX_LISTED_CELLS:
                more += 1
                continue
            code, message, suggestion = problems[cell]
            issues.append(
                error(code, message, value=shorten(cell), suggestion=suggestion, **grid.where(i, j))
            )
    if more:
        issues.append(error(issues[-1].code, f"另有 {more:,} 个单元格有同类问题，未逐条列出。", file=name))
    return issues


def _csv_grids(data: bytes, name: str) -> tuple[list[Grid], list[Issue]]:
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return [], [
            error(
                "encoding",
                "文件编码无法识别（支持 UTF-8、带 BOM 的 UTF-8 和 GB18030/GBK）。",
                file=name,
                suggestion="请在 Excel 中“另存为 CSV UTF-8”后再上传。",
            )
        ]
    if "\x00" in text:
        return [], [
            error(
                "not_spreadsheet",
                "文件含有二进制内容，不是文本 CSV。",
                file=name,
                suggestion="请上传 .xlsx 或 CSV 文件。",
            )
        ]
    grid = _table_grid(text, data, encoding, name)
    if grid is not None:
        return [grid], []
    # csv yields only strings: "" and whitespace-only cells are empty (inlined: millions of cells).
    try:
        rows = [[c if c and not c.isspace() else None for c in r] for r in csv.reader(io.StringIO(text))]
    except csv.Error:  # a field over csv.field_size_limit() (128 KB), e.g. an unclosed quote
        return [], [
            error(
                "text_too_long",
                f"有单元格超过 {csv.field_size_limit():,} 个字符（可能是引号没有配对）。",
                file=name,
                suggestion="请检查文件中的英文双引号是否成对出现，单元格中只填写数据。",
            )
        ]
    return [Grid(file=name, sheet="", rows=rows)], []


# Python's whitespace (str.isspace; none above U+3000) as an RE2 class: a cell of only these is blank.
_SPACES = "".join(f"\\x{{{c:x}}}" for c in range(0x3001) if chr(c).isspace())
_BLANK_RE2 = rf"\A[{_SPACES}]*\z"
# What `_text_problem` could object to, widened: any C0/C1 control or U+2000-U+206F character
# (bidi marks among them), or a formula trigger or whitespace first. Only these are checked.
_SUSPECT_RE2 = rf"[\x{{0}}-\x{{1f}}\x{{7f}}-\x{{9f}}\x{{2000}}-\x{{206f}}]|\A[=+\-@{_SPACES}]"


def _table_grid(text: str, data: bytes, encoding: str, name: str) -> TableGrid | None:
    """The CSV parsed column-wise by pyarrow (every cell as text, blanks as None), or None when
    pyarrow could read it differently from `csv.reader`: then the caller reads it row by row.

    Only plain files qualify: no quote character, lines ending in \\n or \\r\\n, no empty line (csv
    gives it no cells, pyarrow a row of empty ones), every line with the first line's 2 to MAX_COLS
    fields and no cell over MAX_CELL_CHARS characters (so csv's field limit is never reached).
    Machine exports of national scale are such files; anything odd keeps today's path and messages."""
    if encoding != "utf-8-sig":
        data = text.encode("utf-8")
    elif data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    # Looked for in the UTF-8 bytes (ASCII bytes occur in no multi-byte character): memchr speed.
    if b'"' in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return None
    if data.startswith((b"\n", b"\r\n")) or b"\n\n" in data or b"\n\r\n" in data:
        return None
    end = data.find(b"\n")
    width = data.count(b",", 0, end if end >= 0 else len(data)) + 1
    if not 2 <= width <= MAX_COLS:
        return None
    names = [f"f{j}" for j in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowException:  # a line with another number of fields, a line over the block size
        return None
    texts, codes, suspects = [], [], []
    for chunked in table.columns:
        encoded = pc.dictionary_encode(chunked.combine_chunks())
        distinct = encoded.dictionary
        if len(distinct) and pc.max(pc.utf8_length(distinct)).as_py() > MAX_CELL_CHARS:
            return None
        blank = pc.match_substring_regex(distinct, _BLANK_RE2).to_numpy(zero_copy_only=False)
        filled = ~blank
        kept = int(filled.sum())
        values = np.empty(kept + 1, dtype=object)  # the column's texts, None (blank) last
        values[:kept] = distinct.filter(pa.array(filled)).to_numpy(zero_copy_only=False)
        renumber = np.cumsum(filled) - 1
        renumber[blank] = -1  # indexes the None at the end
        texts.append(values)
        codes.append(renumber[encoded.indices.to_numpy()])
        suspect = pc.and_(pc.match_substring_regex(distinct, _SUSPECT_RE2), pa.array(filled))
        suspects.extend(distinct.filter(suspect).to_pylist())
    return TableGrid(name, texts, codes, list(dict.fromkeys(suspects)))


def _clean(value: Cell) -> Cell:
    if value == "" or value is None:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _excel_grids(path: Path, data: bytes, name: str) -> tuple[list[Grid], list[Issue]]:
    if data[:8] == OLE_MAGIC:
        refused = _ole_issues(data, name)
        if refused:
            return [], refused
        uncalculated: dict[str, list[str]] = {}
    else:
        refused, uncalculated = _inspect_zip(data, name)
        if refused:
            return [], refused
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several types for broken files
        if re.search(r"password|encrypt", str(exc), re.I):
            return [], [_encrypted(name)]
        detail = "文件已损坏或不完整" if data[:2] == b"PK" else "不是有效的 Excel 文件"
        return [], [
            error(
                "file_unreadable",
                f"“{name}”无法作为 Excel 读取：{detail}。",
                file=name,
                value=type(exc).__name__,
                suggestion="请在 Excel 中打开该文件确认无误，另存为 .xlsx 后重新上传。",
            )
        ]
    grids: list[Grid] = []
    issues: list[Issue] = []
    for meta in wb.sheets_metadata:
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        try:
            sheet = wb.get_sheet_by_name(meta.name)
            if sheet.height > MAX_ROWS or sheet.width > MAX_COLS:
                issues.append(_too_big(name, meta.name, sheet.height, sheet.width))
                continue
            values = sheet.to_python()
        except Exception as exc:
            issues.append(
                error(
                    "file_unreadable",
                    f"工作表无法读取：{type(exc).__name__}。",
                    file=name,
                    sheet=meta.name,
                    suggestion="请在 Excel 中打开该文件另存为 .xlsx 后重新上传。",
                )
            )
            continue
        start = sheet.start or (0, 0)
        for ref in uncalculated.get(meta.name, []):
            issues.append(
                error(
                    "formula",
                    f"单元格 {ref} 是公式，但文件中没有保存计算结果。",
                    file=name,
                    sheet=meta.name,
                    row=int(re.sub(r"\D", "", ref)),
                    column=re.sub(r"\d", "", ref),
                    suggestion="请在 Excel 中打开文件、确认公式已计算后保存，或把公式改为数值。",
                )
            )
        grids.append(
            Grid(
                file=name,
                sheet=meta.name,
                rows=[[_clean(c) for c in r] for r in values],
                first_row=start[0] + 1,
                first_col=start[1],
                merged=list(sheet.merged_cell_ranges or []),
            )
        )
    return grids, issues


def _encrypted(name: str) -> Issue:
    return error(
        "encrypted",
        f"“{name}”设置了打开密码（已加密），无法读取。",
        file=name,
        suggestion=(
            "请取消密码保护后再上传（Excel：文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码后保存）。"
        ),
    )


def _macro(name: str) -> Issue:
    return error(
        "macro",
        f"“{name}”是含有宏（VBA 代码）的工作簿，出于安全考虑不予读取。",
        file=name,
        suggestion="请在 Excel 中“另存为” Excel 工作簿（.xlsx，不含宏）后再上传。",
    )


def _ole_issues(data: bytes, name: str) -> list[Issue]:
    """An OLE compound file is an old .xls, or an encrypted OOXML workbook ("EncryptedPackage")."""
    if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptedPackage" in data:
        return [_encrypted(name)]
    if "_VBA_PROJECT".encode("utf-16-le") in data:
        return [_macro(name)]
    return []


def _inspect_zip(data: bytes, name: str) -> tuple[list[Issue], dict[str, list[str]]]:
    """Refuse a zip-based workbook before any parser inflates it; also find uncalculated formulas.

    Declared sizes are checked first (sum and ratio, from the central directory), then each
    member is inflated in bounded chunks to catch headers that lie, then the sheet XML is
    scanned for cell references beyond MAX_ROWS/MAX_COLS. A zip that cannot be opened is left
    to calamine, which reports it as unreadable."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error):
        return [], {}
    with zf:
        declared = sum(i.file_size for i in infos)
        bomb = next(
            (
                i
                for i in infos
                if i.file_size > 2**20 and i.file_size > MAX_COMPRESSION_RATIO * max(i.compress_size, 1)
            ),
            None,
        )
        if len(infos) > MAX_ZIP_MEMBERS or declared > MAX_UNCOMPRESSED_BYTES or bomb is not None:
            return [
                _zip_too_large(name, declared, ratio=bomb is not None and declared <= MAX_UNCOMPRESSED_BYTES)
            ], {}
        if any(i.flag_bits & 0x1 for i in infos):
            return [_encrypted(name)], {}
        if any(i.filename.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for i in infos):
            return [_macro(name)], {}
        inflated = _inflated_size(data, infos, MAX_UNCOMPRESSED_BYTES)
        if inflated is None:
            return [], {}  # damaged: calamine says so
        if inflated[1] or inflated[0] > MAX_UNCOMPRESSED_BYTES:
            return [_zip_too_large(name, inflated[0], ratio=inflated[1])], {}
        try:
            sheets = _sheet_files(zf)
        except (
            KeyError,
            zipfile.BadZipFile,
            OSError,
            ValueError,
            EOFError,
            zlib.error,
            ElementTree.ParseError,
        ):
            sheets = {}
        by_member = {member: sheet for sheet, member in sheets.items()}
        uncalculated: dict[str, list[str]] = {}
        for info in infos:
            member = info.filename
            if not member.lower().endswith(".xml") or member.lower().endswith("sharedstrings.xml"):
                continue
            try:
                xml = zf.read(info)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError):
                return [], {}
            rows, cols = _xml_extent(xml)
            if rows > MAX_ROWS or cols > MAX_COLS:
                return [_too_big(name, by_member.get(member, ""), rows, cols)], {}
            sheet_name = by_member.get(member)
            if sheet_name is not None and _FORMULA_TAG.search(xml):
                refs = _uncalculated_formulas(xml)
                if refs:
                    uncalculated[sheet_name] = refs
    return [], uncalculated


def _zip_too_large(name: str, size: int, ratio: bool = False) -> Issue:
    if ratio:
        message = (
            f"“{name}”中有内容解压后超过压缩前的 {MAX_COMPRESSION_RATIO} 倍，"
            "不像正常的 Excel 文件（可能是恶意构造的压缩文件）。"
        )
    else:
        message = (
            f"“{name}”解压后达 {size / 2**20:,.0f} MB 以上，超过上限 "
            f"{MAX_UNCOMPRESSED_BYTES // 2**20} MB（文件过大或是异常的压缩文件）。"
        )
    return error(
        "too_large",
        message,
        file=name,
        suggestion=(
            "请在 Excel 中打开该文件，删除多余的工作表、空行和格式后另存为 .xlsx，或拆分成多个文件后上传。"
        ),
    )


def _inflated_size(data: bytes, infos: list[zipfile.ZipInfo], budget: int) -> tuple[int, bool] | None:
    """(bytes the members really inflate to, whether one inflates suspiciously); None when damaged.

    Inflates the raw deflate streams with zlib in 1 MB steps, so a member whose header
    under-states its size cannot make anyone allocate more than the budget. Stops with a
    result over `budget` once the total passes it or a member inflates more than
    MAX_COMPRESSION_RATIO times (beyond its first MB)."""
    total = 0
    view = memoryview(data)
    for info in infos:
        offset = info.header_offset
        if data[offset : offset + 4] != ZIP_MAGIC:
            return None
        name_len, extra_len = struct.unpack_from("<HH", data, offset + 26)
        start = offset + 30 + name_len + extra_len
        raw = view[start : start + info.compress_size]
        if info.compress_type == zipfile.ZIP_STORED:
            total += len(raw)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
            pending = bytes(raw)
            member = 0
            try:
                while True:
                    out = inflater.decompress(pending, 1 << 20)
                    member += len(out)
                    if member > 2**20 and member > MAX_COMPRESSION_RATIO * max(len(raw), 1):
                        return total + member, True
                    if total + member > budget:
                        return total + member, False
                    pending = inflater.unconsumed_tail
                    if inflater.eof or (not out and not pending):
                        break
            except zlib.error:
                return None
            total += member
        else:
            return None  # no spreadsheet program writes other methods
        if total > budget:
            return total, False
    return total, False


# Either quote, and blanks around "=" (XML allows both: a regex for one spelling is a way around it).
_REF = re.compile(
    rb'\sr\s*=\s*["\']([A-Z]{2,})([0-9]+)["\']|\sr\s*=\s*["\'][A-Z]([0-9]{7,})["\']'
    rb'|<(?:\w+:)?row\s[^>]*?\br\s*=\s*["\']([0-9]{7,})["\']'
)


def _xml_extent(xml: bytes) -> tuple[int, int]:
    """Largest row number and column count referenced by cells in a sheet's XML.

    Only references that could break a limit are looked at: two or more column letters
    (column 27+) or seven or more row digits (row 1,000,000+), so ordinary sheets cost one scan."""
    rows = cols = 0
    for m in _REF.finditer(xml):
        letters, digits, row_only, row_elem = m.group(1), m.group(2), m.group(3), m.group(4)
        if letters:
            n = 0
            for ch in letters:
                n = n * 26 + ch - 64
            cols = max(cols, n)
            rows = max(rows, int(digits))
        else:
            rows = max(rows, int(row_only or row_elem))
    return rows, cols


# A quick test before parsing: can this XML hold a formula element at all (any prefix)?
_FORMULA_TAG = re.compile(rb"<(?:[\w.-]+:)?f[\s/>]")
# SpreadsheetML's main namespace: transitional, strict, and none (hand-made files).
_SML = frozenset(
    {
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "http://purl.oclc.org/ooxml/spreadsheetml/main",
        "",
    }
)
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")


def _sml(tag: str) -> str:
    """The local name of a SpreadsheetML element ("" for elements of other namespaces)."""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return local if namespace in _SML else ""
    return tag


def _uncalculated_formulas(xml: bytes) -> list[str]:
    """References (e.g. "D4") of formula cells without a cached value, in sheet order.

    The sheet XML is parsed (streaming, namespace-aware), so attribute order, quoting,
    namespace prefixes and whitespace do not matter. A cell counts as calculated when it has
    a `<v>` with text; `<v/>` (what a program writing formulas leaves) does not. Cells
    without an `r` attribute take the position after the previous cell, as Excel reads them."""
    refs: list[str] = []
    row_number, col_index = 0, -1
    formula = value = False
    sheet_data = None
    try:
        for event, elem in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
            local = _sml(elem.tag)
            if event == "start":
                if local == "sheetData":
                    sheet_data = elem
                elif local == "row":
                    r = elem.get("r")
                    row_number = int(r) if r and r.isdigit() else row_number + 1
                    col_index = -1
                elif local == "c":
                    formula = value = False
                continue
            if local == "f":
                formula = True
            elif local == "v":
                value = value or bool(elem.text)
            elif local == "c":
                m = _CELL_REF.match(elem.get("r") or "")
                if m:
                    col_index = _column_index(m.group(1).upper())
                    cell_row = int(m.group(2))
                else:
                    col_index += 1
                    cell_row = row_number
                if formula and not value:
                    refs.append(f"{excel_column(col_index)}{cell_row}")
                elem.clear()
            elif local == "row" and sheet_data is not None:
                sheet_data.clear()  # drop finished rows: memory stays flat on big sheets
    except ElementTree.ParseError:
        return refs  # a damaged sheet: calamine reports the file as unreadable
    return refs


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_RELATIONSHIPS = frozenset(
    {
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "http://purl.oclc.org/ooxml/officeDocument/relationships",
    }
)


def _sheet_files(zf: zipfile.ZipFile) -> dict[str, str]:
    """Map sheet names to their XML part, through workbook.xml and its relationships (parsed,
    so the order of attributes and namespace prefixes do not matter)."""
    targets = {}
    for elem in ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels")).iter():
        if elem.tag.rpartition("}")[2] == "Relationship" and elem.get("Id"):
            targets[elem.get("Id")] = elem.get("Target", "")
    out = {}
    for elem in ElementTree.fromstring(zf.read("xl/workbook.xml")).iter():
        if _sml(elem.tag) != "sheet":
            continue
        rid = next(
            (
                v
                for k, v in elem.attrib.items()
                if k.rpartition("}")[2] == "id" and k[1:].partition("}")[0] in _RELATIONSHIPS
            ),
            None,
        )
        target = targets.get(rid or "", "").lstrip("/")
        if elem.get("name") is not None and target:
            out[elem.get("name")] = target if target.startswith("xl/") else "xl/" + target
    return out
