"""Publishing warehouse versions: write a complete folder, then swap one pointer atomically.

A reader (the dashboard) reads `CURRENT`, then opens `versions/<id>/warehouse.duckdb`.
Publishing builds `versions/.tmp-<id>/`, renames it into place and only then replaces
`CURRENT` with `os.replace`, so a crash at any moment leaves the previous version serving
and a reader sees either the old or the new version, never half of one. A write that fails
(a full disk) removes what it wrote and raises: the previous version stays current.

Writers (publish, rollback, and the pipeline's build and load around them) hold one lock,
`publish_lock`: an `fcntl` lock on `warehouse/.lock` between processes, and a thread lock
between the sessions of one dashboard process. It is re-entrant within a thread, so the
pipeline holds it from reading the served inputs to the pointer swap and calls `publish`
inside. A second writer waits up to `publish_wait()` seconds (`MZ_PUBLISH_WAIT`), then
gives up with `Busy`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .paths import warehouse_dir
from .settings import ENV_PUBLISH_WAIT, KEEP_VERSIONS, publish_wait  # noqa: F401  (cli.py names the env here)

# The table layout the dashboard expects; a version written by an older layout is rebuilt from
# raw/ on the next start (dashboard/store.py) and cannot be rolled back to.
# 2: pre-aggregated `region_coverage` and `indicator_coverage` tables. 3: `published`.
# 4: `region_coverage` carries name, level and parent; pre-aggregated `region_years`.
# 5: `region_years` holds a region's years with those of its children.
# 6: lineage stored compactly (`lineage_files`, `lineage_texts`, and per fact `lineage_cells` of integers)
#    behind a `lineage` view with the former table's columns, types and values (912 k rows of texts cost
#    ~0.3 s of hash and write per national build).
# 7: `regions` holds the nation (100000 全国, level "nation", the provinces' parent) and `facts` its totals.
SCHEMA_VERSION = 7
DB_NAME = "warehouse.duckdb"
MANIFEST = "manifest.json"
LOCK_FILE = ".lock"

log = logging.getLogger(__name__)

# The lineage of each reported fact, one row per fact, as the contract names it, from the compact
# tables (`pipeline._lineage`): a file's name and sha256 are stored once in `lineage_files`, the
# texts once in `lineage_texts`, and per fact only integers in `lineage_cells`. The texts are
# looked up by index in one-row lists rather than by joins: a projection keeps `lineage_cells`'
# stored order (a hash join would not) and costs about what the scan of a table of texts did.
LINEAGE_TABLES = ("lineage_files", "lineage_texts", "lineage_cells")
LINEAGE_VIEW = """CREATE VIEW lineage AS
SELECT t.texts[c.region_text + 1] AS region_code, c.year, t.texts[c.indicator_text + 1] AS indicator_id,
       f.names[c.file_id + 1] AS file_name, f.shas[c.file_id + 1] AS file_sha256,
       t.texts[c.sheet_text + 1] AS sheet, c."row", t.texts[c.column_text + 1] AS "column"
FROM lineage_cells c,
     (SELECT list(text ORDER BY text_id) AS texts FROM lineage_texts) t,
     (SELECT list(file_name ORDER BY file_id) AS names, list(file_sha256 ORDER BY file_id) AS shas
      FROM lineage_files) f"""

# Pre-aggregated for the pages that list what has data (a scan of every fact otherwise), made
# from `facts` and `regions` once both are written: DuckDB's parallel group-by on the stored
# table costs a fraction of doing it in pandas before the write (0.2 → 0.03 s for a national
# warehouse).
# - region_coverage: per region with data, in code order, its name, level and parent (so listing
#   cities or regions with data needs no join), first and last year, and how many facts;
# - region_years: per region, the years with data of it or of any of its children (a city's
#   view shows its counties too), sorted: the year choices of its filters;
# - indicator_coverage: per indicator, in id order, how many regions and which years have data.
SUMMARY_TABLES = {
    "region_coverage": """
SELECT c.region_code, r.name, r.level, r.parent_code, c.first_year, c.last_year, c.facts
FROM (SELECT region_code, min(year) AS first_year, max(year) AS last_year, count(*) AS facts
      FROM facts GROUP BY region_code) c
LEFT JOIN regions r ON r.code = c.region_code
ORDER BY c.region_code""",
    "region_years": """
WITH own AS (SELECT DISTINCT region_code, year FROM facts)
SELECT DISTINCT region_code, year FROM (
    SELECT region_code, year FROM own
    UNION ALL
    SELECT r.parent_code, own.year FROM own JOIN regions r ON r.code = own.region_code
    WHERE r.parent_code IS NOT NULL AND r.parent_code <> ''
)
ORDER BY region_code, year""",
    "indicator_coverage": """
SELECT indicator_id, count(DISTINCT region_code) AS regions, min(year) AS first_year, max(year) AS last_year
FROM facts GROUP BY indicator_id
ORDER BY indicator_id""",
}

# Column types of the contract tables; other tables take DuckDB's inferred types.
_FACT_TYPES = {
    "region_code": "VARCHAR",
    "year": "INTEGER",
    "indicator_id": "VARCHAR",
    "value": "DOUBLE",
    "origin": "VARCHAR",
    "is_sample": "BOOLEAN",
}


def _versions_dir(base: Path) -> Path:
    return warehouse_dir(base) / "versions"


def pointer_path(base: Path) -> Path:
    return warehouse_dir(base) / "CURRENT"


def current_version(base: Path) -> str | None:
    try:
        version = pointer_path(base).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version or None


def version_path(base: Path, version: str) -> Path:
    return _versions_dir(base) / version


def current_db(base: Path) -> Path | None:
    version = current_version(base)
    return version_path(base, version) / DB_NAME if version else None


def read_manifest(base: Path, version: str) -> dict:
    return json.loads((version_path(base, version) / MANIFEST).read_text(encoding="utf-8"))


def is_current_schema(base: Path, version: str) -> bool:
    """A complete version written with the table layout of this program."""
    if not version:
        return False
    try:
        return read_manifest(base, version).get("schema") == SCHEMA_VERSION
    except FileNotFoundError:  # never published, or pruned by a concurrent publish
        return False


def list_versions(base: Path) -> list[dict]:
    """Complete versions (with a manifest), oldest first."""
    root = _versions_dir(base)
    if not root.exists():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if d.is_dir() and not d.name.startswith("."):
            try:
                out.append(read_manifest(base, d.name))
            except FileNotFoundError:  # incomplete, or pruned by a concurrent publish (we hold no lock)
                continue
    return out


def prepare(tables: dict[str, pd.DataFrame | pa.Table]) -> dict[str, pd.DataFrame | pa.Table]:
    """The tables as they are written: a frame whose columns all have a typed pandas dtype
    becomes an Arrow table (its pyarrow-backed text columns without a copy); `facts` also gets
    its text columns dictionary-encoded (DuckDB reads those as VARCHAR without materialising one
    string per row) and is put in its stored order (region_code, indicator_id, year). A frame
    with object columns (whose DuckDB types come from DuckDB's own inference) stays a frame and
    is written as before. Idempotent.

    `publish` prepares what it is given; a caller that also hashes prepares once and passes
    the result to both (`content_hash` of prepared and unprepared tables is the same)."""
    return {name: _prepared(name, df) for name, df in tables.items()}


def _prepared(name: str, df):
    if isinstance(df, pa.Table) or any(pd.api.types.is_object_dtype(dtype) for dtype in df.dtypes):
        return df
    table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    if name != "facts" or not {"region_code", "indicator_id", "year"} <= set(table.column_names):
        return table  # pyarrow-backed text columns: no copy
    columns = []
    for column in table.columns:
        column = column.combine_chunks()
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = column.dictionary_encode()
        columns.append(column)
    table = pa.table(columns, names=table.column_names)
    order = _storage_order(table)
    return table if order is None else table.take(order)


def _storage_order(facts: pa.Table) -> np.ndarray | None:
    """Row order that sorts `facts` by region_code, indicator_id, year as DuckDB's ORDER BY
    does (texts by their bytes, NULLs last), computed on integer ranks: the texts' dictionaries
    are sorted (a few thousand values), not the million rows. Stable, so rows with equal keys
    keep their order. None when the rows are in that order already (derive's facts are:
    `derive.FactGrid.frame`), so nothing is sorted or moved."""
    ranks = [_ranks(facts.column(name).combine_chunks()) for name in ("region_code", "indicator_id", "year")]
    if _in_order(ranks):
        return None
    key = np.zeros(len(facts), np.int64)
    for rank in ranks:
        rank = rank.astype(np.int64) - int(rank.min(initial=0))  # 0 upwards (years may be anything)
        key = key * (int(rank.max(initial=0)) + 1) + rank
    return np.argsort(key, kind="stable")


def _ranks(column: pa.Array) -> np.ndarray:
    """Per row, a number that orders the rows as the column's values do (NULL last), in as
    small an integer type as the column has: a dictionary's indices as they are when its values
    are in order already (derive's Categoricals), else their ranks."""
    if pa.types.is_dictionary(column.type):
        order = pc.sort_indices(column.dictionary).to_numpy()
        size = len(order)
        if not column.null_count and np.array_equal(order, np.arange(size)):
            return column.indices.to_numpy()
        rank = np.empty(size + 1, np.int32)
        rank[order] = np.arange(size)
        rank[size] = size
        return rank[column.indices.cast(pa.int32()).fill_null(size).to_numpy()]
    if pa.types.is_integer(column.type) and len(column):
        if not column.null_count:
            return column.to_numpy()
        high = pc.max(column).as_py()
        return column.cast(pa.int64()).fill_null(0 if high is None else high + 1).to_numpy()
    return pc.rank(column, sort_keys=[("", "ascending", "at_end")], tiebreaker="dense").to_numpy()


def _in_order(ranks: list[np.ndarray]) -> bool:
    """Whether every row's ranks are ≥ the row before's, compared as (first, second, …): a
    pass over each column with no sort and no million-row key."""
    undecided = np.ones(max(len(ranks[0]) - 1, 0), bool)  # neighbours equal in the columns so far
    for rank in ranks:
        later, earlier = rank[1:], rank[:-1]
        if (undecided & (later < earlier)).any():
            return False
        undecided &= later == earlier
    return True


def content_hash(tables: dict[str, pd.DataFrame | pa.Table]) -> str:
    """Fingerprint of the data itself, so publishing identical content can be skipped.

    Covers every table's name, column names and types, and every cell in row order: Arrow
    tables (`prepare`) through their buffers — a text column's distinct values and each row's
    index into them (in first-seen order, so both follow from the content), NULLs as their own
    index —, other frames through pandas' per-cell hash."""
    h = hashlib.sha256()
    for name in sorted(tables):
        df = _prepared(name, tables[name])
        h.update(name.encode())
        if isinstance(df, pa.Table):
            h.update(b"\0arrow\0" + str(df.schema).encode())
            for column in df.columns:
                _hash_arrow(h, column.combine_chunks())
            continue
        h.update(",".join(map(str, df.columns)).encode())
        for column in df.columns:
            try:
                hashed = pd.util.hash_pandas_object(df[column], index=False)
            except TypeError:  # list cells (e.g. indicator aliases) are not hashable as such
                hashed = pd.util.hash_pandas_object(df[column].astype(str), index=False)
            h.update(hashed.to_numpy().tobytes())
    return h.hexdigest()


def _hash_arrow(h, column: pa.Array) -> None:
    def feed(data: bytes) -> None:
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)

    feed(str(column.type).encode() + b":" + str(len(column)).encode())
    if pa.types.is_dictionary(column.type):
        dictionary = column.dictionary
        feed(pc.binary_length(dictionary).to_numpy(zero_copy_only=False).astype(np.int64).tobytes())
        feed(b"".join(dictionary.cast(pa.large_binary()).to_pylist()))  # a few thousand values at most
        feed(column.indices.fill_null(-1).to_numpy().astype(np.int64).tobytes())
        return
    feed(column.is_null().to_numpy(zero_copy_only=False).tobytes() if column.null_count else b"no nulls")
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        _, offsets, data = column.buffers()
        wide = np.int64 if pa.types.is_large_string(column.type) else np.int32
        offsets = np.frombuffer(offsets, wide)[column.offset : column.offset + len(column) + 1]
        feed(memoryview(offsets - offsets[0] if offsets[0] else offsets).cast("B"))  # row boundaries
        feed(memoryview(data)[offsets[0] : offsets[-1]] if data is not None else b"")
        return
    if pa.types.is_boolean(column.type):
        values = column.fill_null(False).to_numpy(zero_copy_only=False)
    else:
        values = column.to_numpy(zero_copy_only=False)
    feed(memoryview(np.ascontiguousarray(values)).cast("B"))


class Busy(Exception):
    """Another writer held the publish lock for longer than the wait; nothing was changed."""

    def __init__(self, waited: float):
        self.waited = waited
        super().__init__(
            f"另一项发布（导入、重建或回滚）正在进行，已等待 {waited:g} 秒仍未结束。"
            "本次未做任何改动，当前版本保持不变，请稍后再试。"
        )


_held = threading.local()  # per thread: {lock path: depth}
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def publish_lock(base: Path, *, wait: float | None = None, on_wait: Callable[[], None] | None = None):
    """Hold the one writers' lock of this data dir: no other process or thread publishes,
    rolls back or moves inputs into raw/ meanwhile.

    Re-entrant within a thread (a pipeline holding it calls `publish`, which takes it again).
    When another writer holds it, `on_wait()` is called once and the lock is polled until
    `wait` seconds (default `publish_wait()`) have passed; then `Busy` is raised."""
    root = warehouse_dir(base)
    root.mkdir(parents=True, exist_ok=True)
    key = str(root.resolve())
    held = _held.__dict__.setdefault("paths", {})
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    limit = publish_wait() if wait is None else max(0.0, wait)
    deadline = time.monotonic() + limit
    waiting = False

    def wait_once() -> None:
        nonlocal waiting
        if not waiting:
            waiting = True
            if on_wait is not None:
                on_wait()

    with _thread_locks_guard:
        in_process = _thread_locks.setdefault(key, threading.Lock())
    if not in_process.acquire(blocking=False):  # another session of this process
        wait_once()
        if not in_process.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise Busy(limit)
    try:
        with open(root / LOCK_FILE, "a") as fh:
            pause = 0.01
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:  # another process
                    wait_once()
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise Busy(limit) from None
                    time.sleep(min(pause, left))
                    pause = min(pause * 2, 0.2)
            held[key] = 1
            try:
                yield
            finally:
                held.pop(key, None)
                fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        in_process.release()


def publish(base: Path, tables: dict[str, pd.DataFrame], manifest: dict) -> str:
    """Write `tables` as a new version and make it current. Returns the version id.

    Takes the publish lock (re-entrant: a caller may hold it already). When writing fails
    (OSError, e.g. a full disk; DuckDB's IOException) everything this call wrote is removed
    and the exception is raised: the previous version is still current, byte for byte."""
    with publish_lock(base):
        root = _versions_dir(base)
        now = dt.datetime.now(dt.UTC)
        digest = manifest.get("content_hash") or content_hash(tables)
        version = f"{now:%Y%m%dT%H%M%S%fZ}-{digest[:8]}"
        tmp = root / f".tmp-{version}"
        placed = False
        try:
            root.mkdir(parents=True, exist_ok=True)
            _remove_stale_temp(root)
            tmp.mkdir()
            _write_tables(tmp, tables)
            full = {
                **manifest,
                "version": version,
                "schema": SCHEMA_VERSION,
                "created": now.isoformat(timespec="seconds"),
                "content_hash": digest,
                "user": manifest.get("user") or _user(),
                "row_counts": {name: int(len(df)) for name, df in tables.items()},
            }
            (tmp / MANIFEST).write_text(json.dumps(full, ensure_ascii=False, indent=2), encoding="utf-8")
            _fsync_tree(tmp)
            os.rename(tmp, root / version)
            placed = True
            fsync_dir(root)
            _swap_pointer(base, version)
        except BaseException:
            _discard(base, tmp, version if placed else None)
            raise
        # Published: what follows is bookkeeping, and its failure must not report the publish as failed.
        try:
            _record(
                base,
                {"event": "publish", "version": version, "created": full["created"], "user": full["user"]},
            )
            prune(base)
        except OSError as exc:
            log.warning("published %s, but could not record or prune: %s", version, exc)
        return version


def _discard(base: Path, tmp: Path, version: str | None) -> None:
    """Remove what a failed publish wrote, unless the pointer already names it."""
    shutil.rmtree(tmp, ignore_errors=True)
    if version is not None and current_version(base) != version:
        doomed = _versions_dir(base) / f".tmp-failed-{version}"
        with contextlib.suppress(OSError):
            os.rename(version_path(base, version), doomed)
        shutil.rmtree(doomed, ignore_errors=True)


def rollback(
    base: Path, version: str, user: str | None = None, *, on_wait: Callable[[], None] | None = None
) -> str | None:
    """Point CURRENT at an earlier complete version (the swap itself is atomic); returns the
    version served before.

    Waits for a publish in progress (the lock), so a rollback is never undone by a load that
    read the inputs of the version before it; raises `Busy` when the wait runs out."""
    with publish_lock(base, on_wait=on_wait):
        if not (version_path(base, version) / MANIFEST).exists():
            known = ", ".join(v["version"] for v in list_versions(base)) or "无"
            raise ValueError(f"版本“{version}”不存在或不完整。可用版本：{known}")
        if not is_current_schema(base, version):
            raise ValueError(f"版本“{version}”由旧版程序生成，数据结构与当前程序不兼容，不能回滚到该版本。")
        previous = current_version(base)
        _swap_pointer(base, version)
        try:
            _record(
                base,
                {
                    "event": "rollback",
                    "version": version,
                    "from": previous,
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "user": user or _user(),
                },
            )
        except OSError as exc:
            log.warning("rolled back to %s, but could not record it: %s", version, exc)
        return previous


def prune(base: Path, keep: int = KEEP_VERSIONS) -> None:
    """Keep the newest `keep` versions and always the current one."""
    current = current_version(base)
    versions = [v["version"] for v in list_versions(base)]
    for old in versions[:-keep] if len(versions) > keep else []:
        if old != current:
            # Hide the version with one atomic rename before deleting it file by file: a publish
            # killed half-way through must not leave a listed, rollback-able version with part
            # of its files gone. A leftover `.tmp-` folder is removed by the next publish.
            doomed = _versions_dir(base) / f".tmp-pruned-{old}"
            os.rename(version_path(base, old), doomed)
            shutil.rmtree(doomed, ignore_errors=True)


def history(base: Path) -> list[dict]:
    path = warehouse_dir(base) / "history.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_tables(folder: Path, tables: dict[str, pd.DataFrame | pa.Table]) -> None:
    con = duckdb.connect(str(folder / DB_NAME))
    try:
        for name, df in prepare(tables).items():
            con.register("incoming", df)
            if name == "facts":
                names = list(df.column_names if isinstance(df, pa.Table) else df.columns)
                cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in _FACT_TYPES.items() if c in names)
                extra = [c for c in names if c not in _FACT_TYPES]
                cols += "".join(f", {c}" for c in extra)
                # A prepared (Arrow) facts table is already in its stored order; DuckDB keeps
                # insertion order. A frame is sorted here.
                order = "" if isinstance(df, pa.Table) else " ORDER BY region_code, indicator_id, year"
                con.execute(f"CREATE TABLE facts AS SELECT {cols} FROM incoming{order}")
            else:
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
            con.unregister("incoming")
        if set(LINEAGE_TABLES) <= tables.keys():
            con.execute(LINEAGE_VIEW)
        if {"facts", "regions"} <= tables.keys():
            for name, query in SUMMARY_TABLES.items():
                con.execute(f"CREATE TABLE {name} AS {query}")
        con.execute(f"COPY facts TO '{folder / 'facts'}' (FORMAT parquet, PARTITION_BY (year))")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _swap_pointer(base: Path, version: str) -> None:
    """Make `version` current with one atomic rename; a failed write (a full disk) leaves the
    old pointer and no `CURRENT.tmp` behind."""
    pointer = pointer_path(base)
    tmp = pointer.with_name("CURRENT.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(version + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, pointer)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    fsync_dir(pointer.parent)


def _record(base: Path, event: dict) -> None:
    with open(warehouse_dir(base) / "history.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(event, ensure_ascii=False) + "\n")


def _remove_stale_temp(root: Path) -> None:
    """Folders of publishes that crashed half-way; never visible to readers."""
    for d in root.glob(".tmp-*"):
        shutil.rmtree(d, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fsync_file(path)
    for d in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        fsync_dir(d)


def fsync_file(path: Path) -> None:
    """Force a file's bytes to disk (before a rename or pointer swap makes it count)."""
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Force a folder's entries (renames, new files) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
