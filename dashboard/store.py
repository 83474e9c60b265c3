"""Read-only access to the published warehouse, cached per version.

Every cached answer is keyed by the version's database file (its full path, so two data dirs
never share an entry): a publish (a new `CURRENT`) is picked up on the next rerun without a
restart, and an old version's answers are never served for the new one (`per_version`). All
SQL is ours, with `?` parameters; no user text ever becomes SQL.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.basedatatypes import BaseFigure

from etl import warehouse
from etl.catalog import Target, load_catalog, target_in_force
from etl.derive import derive
from etl.paths import data_dir
from etl.regions import Registry, default_cities

log = logging.getLogger(__name__)


def version() -> str | None:
    """The current version's id (the folder its database file is in)."""
    db = _db_now()
    return None if db is None else Path(db).parent.name


def _db_now() -> str | None:
    """The database file the version pointer names. Asked a dozen times a rerun, so the
    pointer file is read again only when it changed: a publish replaces it (`os.replace`: a
    new file, so a new inode and new times)."""
    base = data_dir()
    try:
        stamp = os.stat(warehouse.pointer_path(base))
    except FileNotFoundError:
        return None
    return _named_db(str(base), stamp.st_ino, stamp.st_mtime_ns, stamp.st_ctime_ns, stamp.st_size)


@functools.lru_cache(maxsize=8)
def _named_db(base: str, *pointer_stamp: int) -> str | None:
    """The database file the version pointer of a data dir names, per state of the pointer."""
    db = warehouse.current_db(Path(base))
    return None if db is None else str(db)


@functools.lru_cache(maxsize=4)
def _usable(base: str, version_id: str) -> bool:
    return warehouse.is_current_schema(Path(base), version_id)


def ensure_warehouse() -> None:
    """Before the first page: on a fresh clone there is no warehouse yet, so build the sample
    one; after an upgrade that changed the table layout, rebuild from raw/ (or the sample)."""
    current = version()
    if current is not None and _usable(str(data_dir()), current):
        return
    text = (
        "首次启动：正在生成示例数据并建立数据仓库……"
        if current is None
        else "程序已更新，正在按已导入的原始数据重建数据仓库……"
    )
    with st.spinner(text):
        proc = subprocess.run(
            [sys.executable, "-m", "etl", "build"], capture_output=True, text=True, check=False
        )
    if proc.returncode != 0 or not _usable(str(data_dir()), version() or ""):
        # The build's output quotes file names and cell values: shown as plain text, never Markdown.
        st.error("数据仓库建立失败，命令行输出如下：")
        st.code((proc.stderr or proc.stdout)[-2000:], language=None)
        st.stop()


def connect(db: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a version's database, set up as the pages query it (the
    benchmark times its queries on one of these).

    Where a query has no ORDER BY, answers come in the tables' stored order: the ETL writes
    `facts` sorted by region, indicator and year, `region_years` by region and year and
    `region_coverage` by region, and DuckDB keeps insertion order (its default
    `preserve_insertion_order`). Sorting again cost a fifth of a page query.

    DuckDB's `in_clause` rewrite turns an IN list of five or more values into a hash join; the
    pages' lists are a few indicators or counties, which it filters faster as they are
    (−0.15 ms a query). The setting holds for every connection to the file in this process."""
    con = duckdb.connect(db, read_only=True)
    con.execute("SET GLOBAL disabled_optimizers = 'in_clause'")
    return con


@functools.lru_cache(maxsize=2)
def _connection(db: str) -> duckdb.DuckDBPyConnection:
    return connect(db)


@functools.lru_cache(maxsize=512)
def _query(db: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    """One answer, shared by every session of the process (`query` hands out shallow copies).
    `st.cache_data` would unpickle a fresh copy on every hit — tens per rerun."""
    with _cursor(db) as cursor:
        return cursor.execute(sql, list(params)).df()


@functools.lru_cache(maxsize=512)
def _column(db: str, sql: str, params: tuple = ()) -> tuple:
    with _cursor(db) as cursor:
        return tuple(row[0] for row in cursor.execute(sql, list(params)).fetchall())


@contextlib.contextmanager
def _cursor(db: str):
    """A cursor of its own for one statement: sessions run in threads."""
    cursor = _connection(db).cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def current_db() -> str:
    """The current version's database file: the first key of every cache, so a publish is
    never answered from an older version's entries."""
    db = _db_now()
    if db is None:
        st.info("暂无数据：还没有发布任何数据版本。")
        st.stop()
    return db


def per_version(maxsize: int):
    """Cache a function of the published data per version: keyed by the current database file
    and the arguments, shared by every session of the process.

    `functools.lru_cache`, not `st.cache_resource`: a version's database never changes once
    published, so there is nothing to expire, and a hit costs about a microsecond where
    Streamlit hashes every argument (30–100 µs) — a page makes dozens of hits a rerun.

    Answers are shared, so what the cache keeps is immutable by construction (`_kept`): a plotly
    figure is kept as its JSON text and every call hands out a figure of its own built from it
    (`_FigureText`); a dict becomes a read-only `MappingProxyType` and a list a tuple (also inside
    tuples and named tuples); a frame is handed out as a copy-on-write shallow copy (pandas 3: a
    caller's change, in place or not, changes its own copy only — tests/test_cache_safety.py);
    a value of any other mutable type is refused with a TypeError the first time it is made."""

    def decorate(function):
        if function.__module__ == "__main__":
            # a page script runs anew each rerun: its cache would be new (and kept) every time
            raise TypeError(f"per_version: define {function.__name__} in a dashboard module, not a page")
        name = f"{function.__module__}.{function.__qualname__}"
        keys: dict = {}  # the arguments of the answers made, at most maxsize (`cached_answers`)

        @functools.lru_cache(maxsize=maxsize)
        def cached(db: str, *args, **kwargs):
            kept = _kept(function(*args, **kwargs), name)
            with _KEYS_LOCK:
                keys[(db, args, tuple(kwargs.items()))] = None
                while len(keys) > maxsize:
                    del keys[next(iter(keys))]
            return kept, _needs_thaw(kept)

        @functools.wraps(function)
        def call(*args, **kwargs):
            kept, thaw = cached(current_db(), *args, **kwargs)
            return _thawed(kept) if thaw else kept

        cached.keys, cached.function = keys, function
        _CACHES.append(cached)
        return call

    return decorate


_CACHES: list = []
_KEYS_LOCK = threading.Lock()


class _FigureText:
    """A plotly figure as a shared cache keeps it: its JSON text, which no caller can change;
    each hand-out is a figure of its own made from the text (`_Figure`)."""

    __slots__ = ("text",)

    def __init__(self, figure: BaseFigure):
        self.text = figure.to_json()

    def figure(self) -> go.Figure:
        return _Figure(self.text)


class _Figure(go.Figure):
    """A figure handed out by a per-version cache, made from the cached JSON text when used.

    Until a caller touches its parts it is only the text: `to_dict` — all that `st.plotly_chart`,
    `plotly.io` and kaleido ask of a figure — parses the text anew (0.04 ms for a trend, 0.25 ms
    for a county map; a built figure's `to_dict` deep-copies and re-encodes its arrays: 1.5 and
    1.4 ms). The first other use (`update_layout`, `.data`, `.layout` …) builds the plotly state
    from the text, without plotly's validation, which the figure passed when it was made; from
    then on it is an ordinary figure, private to its caller. Copies and pickles are plain figures."""

    def __init__(self, text: str):
        object.__setattr__(self, "_text", text)

    def __getattr__(self, name: str):
        # only for attributes not set yet: the plotly state, built on first use
        text = self.__dict__.pop("_text", None)
        if text is None:
            raise AttributeError(name)
        go.Figure.__init__(self, json.loads(text), _validate=False)
        return getattr(self, name)

    def to_dict(self) -> dict:
        text = self.__dict__.get("_text")
        return json.loads(text) if text is not None else super().to_dict()

    def __reduce__(self):
        return go.Figure, (self.to_dict(),)


_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, frozenset, range, np.generic)


def _kept(value, name: str):
    """What a per-version cache keeps of an answer: the answer made immutable (see `per_version`)."""
    if isinstance(value, (*_IMMUTABLE, pd.DataFrame, pd.Series)):
        return value
    if isinstance(value, BaseFigure):
        return _FigureText(value)
    if isinstance(value, tuple):
        parts = [_kept(part, name) for part in value]
        return value._make(parts) if hasattr(value, "_make") else tuple(parts)
    if isinstance(value, list):
        return tuple(_kept(part, name) for part in value)
    if isinstance(value, Mapping):
        return MappingProxyType({key: _kept(part, name) for key, part in value.items()})
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
        return value
    params = getattr(type(value), "__dataclass_params__", None)
    if params is not None and params.frozen:  # a frozen dataclass (Target, Filters …)
        return value
    raise TypeError(
        f"per_version: {name} returned a {type(value).__name__}, which a caller could change; "
        "return an immutable value (tuple, frozen dataclass, str, number), a dict or list (kept "
        "read-only), a frame or a plotly figure"
    )


def _needs_thaw(kept) -> bool:
    """Whether handing out `kept` takes a step (a figure to build, a frame to copy)."""
    if isinstance(kept, _FigureText | pd.DataFrame | pd.Series):
        return True
    if isinstance(kept, tuple):
        return any(_needs_thaw(part) for part in kept)
    if isinstance(kept, MappingProxyType):
        return any(_needs_thaw(part) for part in kept.values())
    return False


def _thawed(kept):
    """An answer as a caller gets it: figures built anew, frames as shallow copies (copy-on-write)."""
    if isinstance(kept, _FigureText):
        return kept.figure()
    if isinstance(kept, pd.DataFrame | pd.Series):
        return kept.copy(deep=False)
    if isinstance(kept, tuple):
        parts = [_thawed(part) for part in kept]
        return kept._make(parts) if hasattr(kept, "_make") else tuple(parts)
    if isinstance(kept, MappingProxyType):
        return MappingProxyType({key: _thawed(part) for key, part in kept.items()})
    return kept


def cached_answers():
    """(function, args, kwargs, answer as a caller gets it) for every answer the per-version
    caches hold for the current version — for tests that check no caller changed a shared
    answer. An answer evicted since it was made is made again (`cache_info().misses` grows)."""
    db = current_db()
    for cached in _CACHES:
        with _KEYS_LOCK:
            keys = [key for key in cached.keys if key[0] == db]
        for _, args, kwargs in keys:
            kept, thaw = cached(db, *args, **dict(kwargs))
            yield cached.function, args, dict(kwargs), _thawed(kept) if thaw else kept


def clear_caches() -> None:
    """Forget every cached answer (the benchmark records which page asks what)."""
    for cache in (*_CACHES, _query, _column, _reference):
        cache.cache_clear()
    for cache in _CACHES:
        with _KEYS_LOCK:
            cache.keys.clear()


def query(sql: str, params: tuple = ()) -> pd.DataFrame:
    """Run one of our queries on the current version; a failure is logged in full and shown
    to the user as a short Chinese message (never a traceback)."""
    # Copy-on-write (pandas 3): a caller that changes its frame changes its own copy only.
    return _answer(_query, sql, params).copy(deep=False)


def column(sql: str, params: tuple = ()) -> tuple:
    """The first column of an answer as a tuple of Python values, for list answers (years,
    codes): building a DataFrame costs DuckDB more than such a query itself (0.2 of 0.5 ms)."""
    return _answer(_column, sql, params)


def _answer(fetch, sql: str, params: tuple):
    db = current_db()
    try:
        return fetch(db, sql, tuple(params))
    except duckdb.Error:
        log.exception("warehouse query failed (%s): %s %s", db, sql, params)
        st.error("数据查询失败，请稍后重试；如果问题持续，请联系管理员（详细信息已记录在服务器日志中）。")
        st.stop()


@per_version(maxsize=4)
def is_sample() -> bool:
    return column("SELECT value FROM meta WHERE key = 'is_sample'") == ("true",)


@functools.lru_cache(maxsize=8)  # three tables, for the old and new version
def _reference(db: str, table: str) -> pd.DataFrame:
    """Small reference tables (regions, indicators, the sorted codes of regions with data), read
    once per version; `regions` and `indicators` hand them out as shallow copies."""
    sql = {
        "regions": "SELECT code, name, level, parent_code, kind, note FROM regions",
        "indicators": "SELECT * FROM indicators ORDER BY position",
        "with_data": "SELECT region_code AS code FROM region_coverage",
    }[table]  # in code order
    with _cursor(db) as cursor:
        return cursor.execute(sql).df().set_index("id" if table == "indicators" else "code")


def regions() -> pd.DataFrame:
    """Every region: code (index), name, level, parent_code, kind, note — a copy-on-write shallow
    copy of the shared table (≈ 20 µs), so a caller's change stays its own."""
    return _reference(current_db(), "regions").copy(deep=False)


def indicators() -> pd.DataFrame:
    """The catalog in catalog order, by id — a copy-on-write shallow copy of the shared table."""
    return _reference(current_db(), "indicators").copy(deep=False)


@per_version(maxsize=4)
def region_names() -> Mapping[str, str]:
    """Code → name of every region (a picker labels its options from one look-up); read-only."""
    return dict(zip(regions().index, regions()["name"]))


def region_name(code: str) -> str:
    return region_names().get(code, code)


@per_version(maxsize=4)
def indicator_names() -> Mapping[str, str]:
    """Id → the catalog's Chinese name; read-only."""
    return dict(zip(indicators().index, indicators()["name_zh"]))


@per_version(maxsize=4)
def cities_with_data() -> tuple[str, ...]:
    """Cities that have facts, the configured default cities first."""
    found = column("SELECT region_code FROM region_coverage WHERE level = 'city'")
    first = [c for c in default_cities() if c in found]
    return tuple(first + [c for c in found if c not in first])


@per_version(maxsize=256)
def counties_of(city: str) -> tuple[str, ...]:
    """County codes of a city in code order (development zones only where they have data)."""
    return column(
        "SELECT code FROM regions WHERE parent_code = ? AND level = 'county' AND "
        "(kind <> 'zone' OR code IN (SELECT region_code FROM region_coverage)) ORDER BY code",
        (city,),
    )


@per_version(maxsize=64)
def counties_under(regions_: tuple[str, ...]) -> tuple[str, ...]:
    """The counties under some cities or provinces (their own counties, or their cities'), in
    code order, development zones only where they have data: a map of every county of a
    province or of the country."""
    marks = ", ".join("?" * len(regions_))
    return column(
        "SELECT c.code FROM regions c LEFT JOIN regions p ON p.code = c.parent_code "
        f"WHERE c.level = 'county' AND (c.parent_code IN ({marks}) OR p.parent_code IN ({marks})) AND "
        "(c.kind <> 'zone' OR c.code IN (SELECT region_code FROM region_coverage)) ORDER BY c.code",
        (*regions_, *regions_),
    )


@per_version(maxsize=256)
def children_of(region: str) -> tuple[str, ...]:
    """The children a view of `region` compares, in code order: the provinces of the nation
    (100000), the cities of a province, the counties of a city (development zones only where
    they have data); () for a county."""
    return column(
        "SELECT code FROM regions WHERE parent_code = ? AND level <> 'nation' AND "
        "(kind <> 'zone' OR code IN (SELECT region_code FROM region_coverage)) ORDER BY code",
        (region,),
    )


@per_version(maxsize=4)
def region_levels() -> Mapping[str, str]:
    """Code → level (nation, province, city, county) of every region; read-only."""
    return dict(zip(regions().index, regions()["level"]))


@per_version(maxsize=4)
def regions_with_views() -> tuple[str, ...]:
    """The regions the region picker offers, in picker order: 全国, then each province with data
    (its own, or of any region under it) followed by its cities with data; () when nothing has
    data. A county has no view of its own (it has no children)."""
    table = regions()
    if "100000" not in table.index:  # a warehouse from before the nation level
        return ()
    parent = table["parent_code"]
    level = table["level"]
    have: set[str] = set()
    for code in column("SELECT region_code FROM region_coverage"):
        while code in parent.index and code not in have:
            have.add(code)
            code = parent[code]
    if not have:
        return ()
    ordered = ["100000"]
    for province in sorted(c for c in have if level.get(c) == "province"):
        ordered.append(province)
        ordered += sorted(c for c in have if level.get(c) == "city" and parent[c] == province)
    return tuple(ordered)


@per_version(maxsize=4)
def region_labels() -> Mapping[str, str]:
    """How the region picker names each of its regions: "全国", "陕西省 · 省级", "宝鸡市 · 市级（陕西省）"
    (typing a province's name finds its cities too); read-only."""
    table = regions()
    labels = {}
    for code in regions_with_views():
        name, level = table.loc[code, "name"], table.loc[code, "level"]
        if level == "nation":
            labels[code] = name
        elif level == "province":
            labels[code] = f"{name} · 省级"
        else:
            labels[code] = f"{name} · 市级（{region_name(table.loc[code, 'parent_code'])}）"
    return labels


def default_region() -> str:
    """The view opened without a link: the first configured default city with data, else the
    first region under the nation with data, else the nation."""
    offered = regions_with_views()
    cities = [c for c in cities_with_data() if c in offered]
    if cities:
        return cities[0]
    return offered[1] if len(offered) > 1 else offered[0]


@per_version(maxsize=256)
def ancestry(region: str) -> tuple[str, ...]:
    """全国 … the region, top down (the breadcrumb)."""
    parent = regions()["parent_code"]
    chain = [region]
    while chain[-1] in parent.index and parent[chain[-1]] in parent.index:
        chain.append(parent[chain[-1]])
    return tuple(reversed(chain))


def _marks(values) -> str:
    return ", ".join("?" * len(values))


def _in_codes(codes: tuple[str, ...]) -> tuple[str, tuple]:
    """`f.region_code IN (…)` plus the same set as a code range. The facts are stored sorted by
    region code, so the range lets DuckDB skip every row group outside it (its zone maps do not
    prune on an IN list), which is most of a national warehouse.

    When no other region with data lies in the range — a city with all its counties, the
    default view — the range alone selects the same rows, and the IN list (≈ 0.15 of a
    query's 1.1 ms) is left out."""
    low, high = min(codes), max(codes)
    with_data = _reference(current_db(), "with_data").index
    inside = with_data[with_data.searchsorted(low) : with_data.searchsorted(high, side="right")]
    if set(inside) <= set(codes):
        return "f.region_code BETWEEN ? AND ?", (low, high)
    return f"f.region_code IN ({_marks(codes)}) AND f.region_code BETWEEN ? AND ?", (*codes, low, high)


@per_version(maxsize=256)
def years(region_code: str) -> tuple[int, ...]:
    """Years with data for a region or its children (pre-aggregated per region, in order)."""
    return column("SELECT year FROM region_years WHERE region_code = ?", (region_code,))


FACT_COLUMNS = ["region_code", "region_name", "level", "year", "indicator_id", "value", "origin"]


def _named(data: pd.DataFrame, name_column: str = "region_name") -> pd.DataFrame:
    """Add region names (and levels) from the shared regions table: cheaper than a join in
    every query, which costs DuckDB a hash table over all 3,000+ regions each time."""
    table = regions()
    out = data.assign(**{name_column: data["region_code"].map(table["name"])})
    return out.assign(level=data["region_code"].map(table["level"])) if name_column == "region_name" else out


def facts(
    region_codes: tuple[str, ...],
    indicator_ids: tuple[str, ...],
    year_from: int | None = None,
    year_to: int | None = None,
) -> pd.DataFrame:
    """Tidy facts with region names: region_code, region_name, level, year, indicator_id, value, origin."""
    if not region_codes or not indicator_ids:
        return pd.DataFrame(columns=FACT_COLUMNS)
    return _facts(tuple(region_codes), tuple(indicator_ids), year_from, year_to)


@per_version(maxsize=256)
def selection_facts(region: str, children: tuple[str, ...], year_from: int, year_to: int) -> pd.DataFrame:
    """Totals over some of a region's children (所选2个区县, 所选2个市): year, indicator_id, value.

    Made by the warehouse's own rules, not a second copy of them: the reported facts of the
    selected children and everything under them go through `etl.derive.derive` with the region as
    the parent of these children alone, so sums, weighted means and ratios of summed parts come
    out as the region's total does — a year counts only where every selected child is complete."""
    table = regions()
    parent = table["parent_code"]
    under = list(children)
    frontier = set(children)
    while frontier:  # the children's descendants: a province's cities have counties
        frontier = set(parent.index[parent.isin(frontier)])
        under += sorted(frontier)
    where, params = _in_codes(tuple(under))
    reported = query(
        f"SELECT region_code, year, indicator_id, value FROM facts f WHERE {where} "
        "AND origin = 'reported' AND year BETWEEN ? AND ?",
        (*params, year_from, year_to),
    )
    reported = reported[reported["region_code"].isin(under)]
    # a tree of these alone, with the region's ancestors (the nation is added by derive itself)
    chain = [c for c in ancestry(region) if table.loc[c, "level"] != "nation"]
    chosen = table.loc[[*chain, *under]].reset_index(names="code")
    registry = Registry(chosen[["code", "name", "level", "parent_code", "kind", "note"]], pd.DataFrame())
    derived, _ = derive(reported, load_catalog(), registry)  # range issues: the build reported them
    own = derived[derived["region_code"] == region]
    return own[["year", "indicator_id", "value"]].astype({"indicator_id": "str"}).reset_index(drop=True)


@per_version(maxsize=512)
def _facts(
    region_codes: tuple[str, ...], indicator_ids: tuple[str, ...], year_from: int | None, year_to: int | None
) -> pd.DataFrame:
    """`facts` with the names added, cached per version: pages ask the same few questions every
    rerun."""
    where, params = _in_codes(region_codes)
    sql = (
        f"SELECT f.region_code, f.year, f.indicator_id, f.value, f.origin FROM facts f "
        f"WHERE {where} AND f.indicator_id IN ({_marks(indicator_ids)}) "
        f"AND f.year BETWEEN ? AND ?"
    )  # in table order: region, indicator, year
    return _named(query(sql, (*params, *indicator_ids, year_from or 0, year_to or 9999)))[FACT_COLUMNS]


def series(region_code: str, indicator_ids: tuple[str, ...]) -> pd.DataFrame:
    """Every year of the given indicators for one region: columns year, indicator_id, value, origin."""
    return facts((region_code,), indicator_ids)[["year", "indicator_id", "value", "origin"]]


@per_version(maxsize=256)
def children_values(parent_code: str, year: int, indicator_ids: tuple[str, ...]) -> pd.DataFrame:
    """One year's values of the children (counties of a city, cities of a province, provinces of
    the nation) for the given indicators."""
    children = children_of(parent_code)
    if not children:
        return pd.DataFrame(columns=["region_code", "name", "indicator_id", "value"])
    where, params = _in_codes(children)
    data = query(
        f"SELECT f.region_code, f.indicator_id, f.value FROM facts f WHERE {where} AND f.year = ? "
        f"AND f.indicator_id IN ({_marks(indicator_ids)})",  # in table order: by region
        (*params, year, *indicator_ids),
    )
    return _named(data, "name")[["region_code", "name", "indicator_id", "value"]]


def targets() -> pd.DataFrame:
    return query("SELECT * FROM targets")


@per_version(maxsize=4)
def _targets_by_indicator() -> dict[str, tuple[Target, ...]]:
    """Indicator id → its targets in catalog order, from the version's `targets` table (op, year
    and scope included). Read-only."""
    found: dict[str, list[Target]] = {}
    for row in targets().itertuples(index=False):
        found.setdefault(row.indicator_id, []).append(
            Target(
                value=float(row.value),
                op=row.op,
                year=None if pd.isna(row.year) else int(row.year),
                scope=row.scope or "",
                source=row.source,
                note=row.note or "",
            )
        )
    return {ind: tuple(ts) for ind, ts in found.items()}


def target_of(indicator_id: str, year: int) -> Target | None:
    """The plan target a value of `year` is measured against (value, op, year, scope, source),
    or None: the plan covering that year (`etl.catalog.target_in_force`). Every check of a value
    goes through `Target.meets`, so a ceiling ("<=") is judged as one."""
    return target_in_force(_targets_by_indicator().get(indicator_id, ()), year)


def regions_with_data() -> pd.DataFrame:
    """Every region that has facts, with level and parent, in code order (for the query page)."""
    return query("SELECT region_code AS code, name, level, parent_code FROM region_coverage")


def fact_years() -> list[int]:
    """Every year with data anywhere, ascending (数据查询's year range); read from the small
    pre-aggregated `region_years`, which holds every year of every region, not from `facts`."""
    return [int(y) for y in column("SELECT DISTINCT year FROM region_years ORDER BY year")]


def category_names() -> pd.Series:
    """The topic categories in display order: id → Chinese name (指标说明)."""
    return query("SELECT id, name_zh FROM categories ORDER BY position").set_index("id")["name_zh"]


def coverage() -> pd.DataFrame:
    """Per indicator: how many regions and which years have data (for 指标说明)."""
    return query("SELECT indicator_id, regions, first_year, last_year FROM indicator_coverage").set_index(
        "indicator_id"
    )


def published(indicator_id: str | None = None) -> pd.DataFrame:
    """Published figures (公开发布数字): all, or those of one indicator (what a chart needs)."""
    if indicator_id is None:
        return query("SELECT * FROM published ORDER BY source_file, region_code, year")
    return query(
        "SELECT * FROM published WHERE indicator_id = ? ORDER BY source_file, region_code, year",
        (indicator_id,),
    )
