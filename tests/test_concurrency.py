"""Concurrency of publishing (issue 5): readers in other processes never see a mixed or missing
version while publishes run, and a publish killed at any moment leaves a serving, consistent one.

Every published version carries a "generation" marker: all facts rows have `value ==
generation` and the meta table has `('generation', '<generation>')`, so a reader can tell a
complete version from a mixed one with one query. Real processes throughout, no mocking.
"""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from etl import warehouse

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # real processes publishing, reading and being killed


def generation_tables(generation: int, n: int, years: int = 20) -> dict[str, pd.DataFrame]:
    """A minimal warehouse (facts + meta) whose every row is marked with `generation`; the
    facts span `years` years, i.e. that many Parquet partitions."""
    codes = np.array([f"61{i:04d}" for i in range(1000)], dtype=object)
    facts = pd.DataFrame(
        {
            "region_code": codes[np.arange(n) % 1000],
            "year": 1000 + np.arange(n) % years,
            "indicator_id": np.full(n, "population", dtype=object),
            "value": np.full(n, float(generation)),
            "origin": np.full(n, "reported", dtype=object),
            "is_sample": np.zeros(n, dtype=bool),
        }
    )
    meta = pd.DataFrame({"key": ["is_sample", "generation"], "value": ["false", str(generation)]})
    return {"facts": facts, "meta": meta}


def check_version(base: Path, version: str) -> int:
    """Open one version read-only (as the dashboard does), assert it is complete (database,
    manifest and the Parquet export of the facts) and of a single generation; return that."""
    folder = warehouse.version_path(base, version)
    manifest = warehouse.read_manifest(base, version)
    assert manifest["version"] == version
    con = duckdb.connect(str(folder / warehouse.DB_NAME), read_only=True)
    try:
        rows, low, high = con.execute("SELECT count(*), min(value), max(value) FROM facts").fetchone()
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        exported = con.execute(f"SELECT count(*) FROM read_parquet('{folder}/facts/*/*.parquet')").fetchone()[
            0
        ]
    finally:
        con.close()
    assert exported == rows, f"{version}: {exported} of {rows} rows in the Parquet export"
    generation = int(meta["generation"])
    assert low == high == float(generation), f"{version}: mixed generations {low}..{high} (meta {generation})"
    assert rows == manifest["row_counts"]["facts"], (
        f"{version}: {rows} rows, manifest says {manifest['row_counts']}"
    )
    return generation


# A reader process: resolves CURRENT, opens the version read-only, checks it, over and over,
# until the stop file appears and it has read the final generation. "fresh" opens a new
# connection per read; "cached" keeps the last two connections per database path like
# dashboard/store.py's `_connection` cache, so a connection may outlive the pruning of its
# version; "admin" lists the versions on offer for rollback, as the admin page does. Prints one
# JSON summary line at the end.
READER = textwrap.dedent("""
    import json, sys, time
    from collections import OrderedDict
    from pathlib import Path
    import duckdb
    from etl import warehouse

    base, stop, rows_expected, mode = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    cache = OrderedDict()
    reads, bad, errors, seen, last = 0, 0, [], set(), -1

    def connection(db):
        if mode == "fresh":
            return duckdb.connect(db, read_only=True)
        if db not in cache:
            cache[db] = duckdb.connect(db, read_only=True)
            while len(cache) > 2:
                cache.popitem(last=False)[1].close()
        return cache[db]

    def list_once():
        # What the admin page's version history (and `etl versions`) does.
        versions = warehouse.list_versions(base)
        offered = [m["version"] for m in versions if warehouse.is_current_schema(base, m["version"])]
        return None, ([] if offered else ["no version offered"])

    def read_once():
        if mode == "admin":
            return list_once()
        db = warehouse.current_db(base)
        version = db.parent.name
        con = connection(str(db))
        try:
            cur = con.cursor()
            rows, low, high = cur.execute("SELECT count(*), min(value), max(value) FROM facts").fetchone()
            meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
            cur.close()
        finally:
            if mode == "fresh":
                con.close()
        manifest = warehouse.read_manifest(base, version)
        generation = int(meta["generation"])
        problems = []
        if not (low == high == float(generation)):
            problems.append(f"mixed generations {low}..{high}, meta {generation}")
        if rows != rows_expected or manifest["row_counts"]["facts"] != rows:
            problems.append(f"{rows} rows, expected {rows_expected}, manifest {manifest['row_counts']}")
        if manifest["version"] != version:
            problems.append(f"manifest of {manifest['version']} in folder {version}")
        return generation, problems

    def finished():
        # The stop file holds the final generation: stop once it has been read (or 10 s after
        # the stop, so a loaded machine cannot turn "read the last version" into a race).
        if not stop.exists():
            return False
        global stopped_at
        stopped_at = stopped_at or time.monotonic()
        return mode == "admin" or last >= int(stop.read_text()) or time.monotonic() - stopped_at > 10

    first, stopped_at = True, None
    while not finished():
        reads += 1
        try:
            generation, problems = read_once()
            if generation is not None:
                if generation < last:
                    problems.append(f"went back from generation {last} to {generation}")
                last = max(last, generation)
                seen.add(generation)
        except Exception as exc:  # a vanished file, a locked or corrupt database: all bad reads
            problems = [f"{type(exc).__name__}: {exc}"]
        if problems:
            bad += 1
            errors.extend(problems[: 10 - len(errors)])
        if first:
            print("ready", flush=True)
            first = False
    print(json.dumps({"reads": reads, "bad": bad, "errors": errors, "generations": sorted(seen)}), flush=True)
""")


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_readers_never_see_a_mixed_or_missing_version_during_50_publishes(tmp_path):
    rows, publishes = 500, 50
    base, stop = tmp_path / "data", tmp_path / "stop"
    warehouse.publish(base, generation_tables(0, rows), {})
    readers = {
        mode: start([READER, str(base), str(stop), str(rows), mode]) for mode in ("fresh", "cached", "admin")
    }
    try:
        for proc in readers.values():
            assert proc.stdout.readline().strip() == "ready"
        started = time.monotonic()
        for generation in range(1, publishes + 1):
            warehouse.publish(base, generation_tables(generation, rows), {})
        publishing = time.monotonic() - started
        (tmp_path / "stop.tmp").write_text(str(publishes))
        (tmp_path / "stop.tmp").rename(stop)  # whole, never half-written
        results = {
            mode: json.loads(proc.communicate(timeout=30)[0].strip().splitlines()[-1])
            for mode, proc in readers.items()
        }
    finally:
        for proc in readers.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for mode, result in results.items():
        assert result["bad"] == 0, (
            f"{mode} reader: {result['bad']} bad of {result['reads']} reads: {result['errors']}"
        )
        assert result["reads"] > publishes, (
            f"{mode} reader: only {result['reads']} reads in {publishing:.1f} s"
        )
        # The reads really interleaved with the publishes (not all before or after them).
        if mode != "admin":
            assert len(result["generations"]) >= 5 and result["generations"][-1] == publishes, result[
                "generations"
            ]
    assert len(warehouse.list_versions(base)) == warehouse.KEEP_VERSIONS
    assert check_version(base, warehouse.current_version(base)) == publishes


# A publisher killed from outside: builds its tables first, says "ready", then publishes.
PUBLISHER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from etl import warehouse
    from tests.test_concurrency import generation_tables
    tables = generation_tables(int(sys.argv[2]), int(sys.argv[3]))
    print("ready", flush=True)
    warehouse.publish(Path(sys.argv[1]), tables, {})
    print("done", flush=True)
""")


def timed_publish(base: Path, generation: int, rows: int) -> float:
    """Seconds from "ready" to "done" of one unkilled publisher process: the kills are spread over
    the time the same process takes (the faster of two runs, as a loaded machine only slows it)."""
    proc = start([PUBLISHER, str(base), str(generation), str(rows)])
    assert proc.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    assert proc.stdout.readline().strip() == "done"
    duration = time.perf_counter() - started
    assert proc.wait(30) == 0
    return duration


def test_publish_killed_at_random_points_always_leaves_a_serving_consistent_version(tmp_path):
    rows, kills = 250_000, 20
    base = tmp_path / "data"
    versions_dir = base / "warehouse" / "versions"
    warehouse.publish(base, generation_tables(0, rows), {})
    duration = min(timed_publish(base, 900 + n, rows) for n in range(2))  # one publish of this size, here
    rng = random.Random(20240505)
    # One kill in each of `kills` equal slices of the publish (and a little past its end), in random order.
    delays = [(i + rng.random()) / kills * duration * 1.2 for i in range(kills)]
    rng.shuffle(delays)
    serving, interrupted, completed = 901, 0, 0  # the second timed publish is served
    for i, delay in enumerate(delays):
        killed = 1000 + i  # the generation the killed publisher was writing
        proc = start([PUBLISHER, str(base), str(killed), str(rows)])
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # Something is serving, and it is one complete version: the previous one or the killed one.
        current = warehouse.current_version(base)
        assert current is not None and warehouse.current_db(base).exists()
        generation = check_version(base, current)
        assert generation in (serving, killed), (
            f"kill {i} after {delay:.3f} s: serving generation {generation}"
        )
        if generation == killed:
            completed += 1
        else:
            interrupted += 1
        # Every version offered for rollback is complete too, and the publish log still parses.
        for manifest in warehouse.list_versions(base):
            check_version(base, manifest["version"])
        warehouse.history(base)
        # The next publish cleans up what the killed one left behind and succeeds.
        serving = 2000 + i
        version = warehouse.publish(base, generation_tables(serving, 1_000), {})
        assert warehouse.current_version(base) == version and check_version(base, version) == serving
        assert not list(versions_dir.glob(".tmp-*")) and not (base / "warehouse" / "CURRENT.tmp").exists()
    # The kills landed across the publish: some before it finished, and (usually) some after.
    assert interrupted >= kills // 4, (
        f"{interrupted} interrupted, {completed} completed (publish {duration:.2f} s)"
    )
    assert len(warehouse.list_versions(base)) <= warehouse.KEEP_VERSIONS + 1


def test_publish_killed_while_pruning_leaves_no_half_deleted_version_on_offer(tmp_path):
    """Pruning deletes an old version file by file; a publisher killed half-way through must not
    leave that version listed (and offered for rollback) with part of its files gone."""
    base = tmp_path / "data"
    versions_dir = base / "warehouse" / "versions"
    # The oldest version has 1,000 Parquet partitions, so deleting it takes a while (~0.2 s).
    oldest = warehouse.publish(base, generation_tables(0, 2_000, years=1_000), {})
    for generation in range(1, warehouse.KEEP_VERSIONS):
        warehouse.publish(base, generation_tables(generation, 500), {})
    folder = warehouse.version_path(base, oldest)
    partitions = len(os.listdir(folder / "facts"))

    def deleting() -> bool:
        try:
            return len(os.listdir(folder / "facts")) < partitions
        except FileNotFoundError:
            return True

    # This publish makes six versions, so it prunes the oldest; kill it as soon as that starts.
    proc = start([PUBLISHER, str(base), "5", "500"])
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        while not deleting() and time.monotonic() < deadline:
            time.sleep(0.0005)
        assert deleting(), "the publish never started pruning"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert "done" not in proc.stdout.read(), "killed too late: the prune had already finished"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert check_version(base, warehouse.current_version(base)) == 5
    for manifest in warehouse.list_versions(base):
        check_version(base, manifest["version"])
    # The next publish finishes the job: nothing half-deleted is left anywhere.
    warehouse.publish(base, generation_tables(6, 500), {})
    listed = {m["version"] for m in warehouse.list_versions(base)}
    assert sorted(p.name for p in versions_dir.iterdir()) == sorted(listed) and oldest not in listed
