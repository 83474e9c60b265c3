"""Small helpers shared by the tests: long-table CSVs and read-only warehouse queries."""
from pathlib import Path

import duckdb

HEADER = "地区,区划代码,年份,指标,数值,单位\n"


def write_long_csv(path: Path, body: str, encoding: str = "utf-8") -> Path:
    """A long-table CSV with the standard header and `body` rows."""
    path.write_text(HEADER + body, encoding=encoding)
    return path


def query(db, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
