"""Small helpers shared by the tests: long-table CSVs, read-only warehouse queries, and the
bytes behind AppTest download buttons."""

import asyncio
import base64
import concurrent.futures
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

# The lineage view's columns and types: the warehouse contract (docs/ARCHITECTURE.md).
LINEAGE_SCHEMA = [
    ("region_code", "VARCHAR"),
    ("year", "INTEGER"),
    ("indicator_id", "VARCHAR"),
    ("file_name", "VARCHAR"),
    ("file_sha256", "VARCHAR"),
    ("sheet", "VARCHAR"),
    ("row", "BIGINT"),
    ("column", "VARCHAR"),
]

APP = str(Path(__file__).resolve().parents[1] / "app.py")

HEADER = "地区,区划代码,年份,指标,数值,单位\n"


def run_async(coro):
    """asyncio.run in a thread of its own: the Playwright fixtures keep an event loop running in
    the test thread of any xdist worker that has run a browser test, where asyncio.run refuses."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def write_long_csv(path: Path, body: str, encoding: str = "utf-8") -> Path:
    """A long-table CSV with the standard header and `body` rows."""
    path.write_text(HEADER + body, encoding=encoding)
    return path


def xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    """A workbook with one sheet per entry ({name: rows}, None = empty cell) and merged ranges
    ("A1:D1"), as a printed table is typed into Excel."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, data in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(data, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
        for ref in (merges or {}).get(name, []):
            ws.merge_cells(ref)
    wb.save(path)
    return path


def query(db, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


BAOJI = {
    "610302": "渭滨区",
    "610303": "金台区",
    "610304": "陈仓区",
    "610305": "凤翔区",
    "610323": "岐山县",
    "610324": "扶风县",
    "610326": "眉县",
    "610327": "陇县",
    "610328": "千阳县",
    "610329": "麟游县",
    "610330": "凤县",
    "610331": "太白县",
}


def baoji_rows(indicator: str, value: float, years=(2022, 2023)) -> str:
    """Long-table rows giving every county of 宝鸡 the same value: a complete city, so its
    total is aggregated and no county is reported missing."""
    return "".join(
        f"{name},{code},{year},{indicator},{value:g},人\n" for year in years for code, name in BAOJI.items()
    )


class RecordingStorage(MemoryMediaFileStorage):
    """AppTest's in-memory media storage, keeping what download buttons serve (by file id)."""

    files: dict[str, bytes] = {}

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        RecordingStorage.files[file_id] = path_or_data if isinstance(path_or_data, bytes) else b""
        return file_id


def download(at, label: str) -> bytes:
    button = next(b for b in at.get("download_button") if b.proto.label == label)
    file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
    return RecordingStorage.files[file_id]


def open_page(
    monkeypatch, base: Path, page: str = "overview", state: dict | None = None, **params
) -> AppTest:
    """The app on data dir `base` in AppTest, opened at `page` with URL `params` and session
    `state`, download bytes recorded (RecordingStorage); fails on any exception shown."""
    monkeypatch.setenv("MZ_DATA_DIR", str(base))
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def numbers(array) -> list:
    """A trace array from the figure JSON: plain list, or plotly's {"dtype", "bdata"} packing."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)
