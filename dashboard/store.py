"""Read-only access to the published warehouse, cached per version.

Every query names the version it reads, so a publish (a new `CURRENT`) is picked up on the
next rerun without a restart, and cached answers of an old version are never served for the
new one. All SQL is ours, with `?` parameters; no user text ever becomes SQL.
"""
from __future__ import annotations

import logging
import subprocess
import sys

import duckdb
import pandas as pd
import streamlit as st

from etl import warehouse
from etl.paths import data_dir
from etl.regions import default_cities

log = logging.getLogger(__name__)


def version() -> str | None:
    return warehouse.current_version(data_dir())


def ensure_warehouse() -> None:
    """On a fresh clone there is no warehouse yet: build the sample one before the first page."""
    if warehouse.current_db(data_dir()) is not None:
        return
    with st.spinner("首次启动：正在生成示例数据并建立数据仓库……"):
        proc = subprocess.run([sys.executable, "-m", "etl", "build"], capture_output=True, text=True, check=False)
    if proc.returncode != 0 or warehouse.current_db(data_dir()) is None:
        st.error("数据仓库建立失败：\n\n```\n" + (proc.stderr or proc.stdout)[-2000:] + "\n```")
        st.stop()


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(version_id: str) -> duckdb.DuckDBPyConnection:
    path = warehouse.version_path(data_dir(), version_id) / warehouse.DB_NAME
    return duckdb.connect(str(path), read_only=True)


@st.cache_data(max_entries=512, show_spinner=False)
def _query(version_id: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    cursor = _connection(version_id).cursor()  # one cursor per query: sessions run in threads
    try:
        return cursor.execute(sql, list(params)).df()
    finally:
        cursor.close()


def _current() -> str:
    current = version()
    if current is None:
        st.info("暂无数据：还没有发布任何数据版本。")
        st.stop()
    return current


def query(sql: str, params: tuple = ()) -> pd.DataFrame:
    """Run one of our queries on the current version; a failure is logged in full and shown
    to the user as a short Chinese message (never a traceback)."""
    current = _current()
    try:
        return _query(current, sql, tuple(params))
    except duckdb.Error:
        log.exception("warehouse query failed (version %s): %s %s", current, sql, params)
        st.error("数据查询失败，请稍后重试；如果问题持续，请联系管理员（详细信息已记录在服务器日志中）。")
        st.stop()


def is_sample() -> bool:
    meta = query("SELECT value FROM meta WHERE key = 'is_sample'")
    return not meta.empty and meta["value"].iloc[0] == "true"


@st.cache_resource(max_entries=4, show_spinner=False)
def _reference(version_id: str, table: str) -> pd.DataFrame:
    """Small reference tables (regions, indicators) shared by every session of a version, not
    copied per call like `st.cache_data` results: pages look names up dozens of times a run.
    Callers must treat them as read-only."""
    sql = {"regions": "SELECT code, name, level, parent_code, kind, note FROM regions",
           "indicators": "SELECT * FROM indicators ORDER BY position"}[table]
    cursor = _connection(version_id).cursor()
    try:
        return cursor.execute(sql).df().set_index("code" if table == "regions" else "id")
    finally:
        cursor.close()


def regions() -> pd.DataFrame:
    return _reference(_current(), "regions")


def indicators() -> pd.DataFrame:
    return _reference(_current(), "indicators")


def region_name(code: str) -> str:
    return regions()["name"].get(code, code)


def cities_with_data() -> list[str]:
    """Cities that have facts, the configured default cities first."""
    found = query("SELECT DISTINCT f.region_code FROM facts f JOIN regions r ON r.code = f.region_code "
                  "WHERE r.level = 'city' ORDER BY 1")["region_code"].tolist()
    first = [c for c in default_cities() if c in found]
    return first + [c for c in found if c not in first]


def counties_of(city: str) -> tuple[str, ...]:
    """County codes of a city in code order (development zones only where they have data)."""
    frame = query("SELECT code, kind FROM regions WHERE parent_code = ? AND level = 'county' AND "
                  "(kind <> 'zone' OR code IN (SELECT DISTINCT region_code FROM facts)) ORDER BY code", (city,))
    return tuple(frame["code"])


def years(region_code: str) -> list[int]:
    """Years with data for a region or its children."""
    return query("SELECT DISTINCT year FROM facts WHERE region_code = ? OR region_code IN "
                 "(SELECT code FROM regions WHERE parent_code = ?) ORDER BY year",
                 (region_code, region_code))["year"].astype(int).tolist()


def _marks(values) -> str:
    return ", ".join("?" * len(values))


def facts(region_codes: tuple[str, ...], indicator_ids: tuple[str, ...],
          year_from: int | None = None, year_to: int | None = None) -> pd.DataFrame:
    """Tidy facts with region names: region_code, region_name, level, year, indicator_id, value, origin."""
    if not region_codes or not indicator_ids:
        return pd.DataFrame(columns=["region_code", "region_name", "level", "year", "indicator_id", "value", "origin"])
    sql = (f"SELECT f.region_code, r.name AS region_name, r.level, f.year, f.indicator_id, f.value, f.origin "
           f"FROM facts f JOIN regions r ON r.code = f.region_code "
           f"WHERE f.region_code IN ({_marks(region_codes)}) AND f.indicator_id IN ({_marks(indicator_ids)}) "
           f"AND f.year BETWEEN ? AND ? ORDER BY f.region_code, f.indicator_id, f.year")
    return query(sql, (*region_codes, *indicator_ids, year_from or 0, year_to or 9999))


def series(region_code: str, indicator_ids: tuple[str, ...]) -> pd.DataFrame:
    """Every year of the given indicators for one region: columns year, indicator_id, value, origin."""
    return facts((region_code,), indicator_ids)[["year", "indicator_id", "value", "origin"]]


def children_values(parent_code: str, year: int, indicator_ids: tuple[str, ...]) -> pd.DataFrame:
    """One year's values of the children (counties of a city) for the given indicators."""
    return query(f"SELECT f.region_code, r.name, f.indicator_id, f.value FROM facts f "
                 f"JOIN regions r ON r.code = f.region_code WHERE r.parent_code = ? AND f.year = ? "
                 f"AND f.indicator_id IN ({_marks(indicator_ids)}) ORDER BY r.code", (parent_code, year, *indicator_ids))


def targets() -> pd.DataFrame:
    return query("SELECT * FROM targets")


def regions_with_data() -> pd.DataFrame:
    """Every region that has facts, with level and parent, in code order (for the query page)."""
    return query("SELECT code, name, level, parent_code FROM regions WHERE code IN "
                 "(SELECT DISTINCT region_code FROM facts) ORDER BY code")


def coverage() -> pd.DataFrame:
    """Per indicator: how many regions and which years have data (for 指标说明)."""
    return query("SELECT indicator_id, count(DISTINCT region_code) AS regions, min(year) AS first_year, "
                 "max(year) AS last_year FROM facts GROUP BY indicator_id").set_index("indicator_id")
