"""Publishing: atomic pointer swap, pruning, rollback, and survival of a killed publish."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from etl import warehouse
from tests.util import LINEAGE_SCHEMA

REPO = Path(__file__).resolve().parents[1]


def tables(value: float, n: int = 3) -> dict[str, pd.DataFrame]:
    facts = pd.DataFrame(
        {
            "region_code": [f"61030{i}" for i in range(n)],
            "year": [2023] * n,
            "indicator_id": ["population"] * n,
            "value": [value + i for i in range(n)],
            "origin": ["reported"] * n,
            "is_sample": [False] * n,
        }
    )
    return {"facts": facts, "meta": pd.DataFrame({"key": ["is_sample"], "value": ["false"]})}


def read_values(base: Path) -> list[float]:
    con = duckdb.connect(str(warehouse.current_db(base)), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT value FROM facts ORDER BY region_code").fetchall()]
    finally:
        con.close()


def test_publish_writes_duckdb_parquet_manifest_and_pointer(tmp_path):
    version = warehouse.publish(tmp_path, tables(1.0), {"inputs": [{"name": "a.csv", "sha256": "x"}]})
    assert warehouse.current_version(tmp_path) == version
    folder = warehouse.version_path(tmp_path, version)
    assert (folder / "warehouse.duckdb").exists()
    assert sorted(p.name for p in (folder / "facts").iterdir()) == ["year=2023"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == version and manifest["row_counts"] == {"facts": 3, "meta": 1}
    assert manifest["inputs"][0]["sha256"] == "x"
    assert read_values(tmp_path) == [1.0, 2.0, 3.0]
    con = duckdb.connect()
    parquet = con.execute(
        f"SELECT count(*), min(year) FROM read_parquet('{folder}/facts/*/*.parquet', hive_partitioning=true)"
    ).fetchone()
    assert parquet == (3, 2023)
    types = dict(
        duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
        .execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name='facts'")
        .fetchall()
    )
    assert types["year"] == "INTEGER" and types["value"] == "DOUBLE" and types["is_sample"] == "BOOLEAN"


def test_keeps_last_five_versions_and_rolls_back(tmp_path):
    versions = [warehouse.publish(tmp_path, tables(float(i)), {}) for i in range(7)]
    kept = [v["version"] for v in warehouse.list_versions(tmp_path)]
    assert kept == versions[-5:]
    warehouse.rollback(tmp_path, versions[3])
    assert warehouse.current_version(tmp_path) == versions[3]
    assert read_values(tmp_path) == [3.0, 4.0, 5.0]
    events = [e["event"] for e in warehouse.history(tmp_path)]
    assert events.count("publish") == 7 and events[-1] == "rollback"
    with pytest.raises(ValueError, match="不存在"):
        warehouse.rollback(tmp_path, versions[0])
    # The current (rolled-back) version survives later pruning even when it is old.
    for i in range(5):
        warehouse.publish(tmp_path, tables(10.0 + i), {})
    warehouse.rollback(tmp_path, warehouse.list_versions(tmp_path)[0]["version"])
    warehouse.publish(tmp_path, tables(99.0), {})
    assert warehouse.current_db(tmp_path).exists()


def test_content_hash_is_stable_and_sensitive():
    assert warehouse.content_hash(tables(1.0)) == warehouse.content_hash(tables(1.0))
    assert warehouse.content_hash(tables(1.0)) != warehouse.content_hash(tables(1.5))


def lineage_tables(**changes) -> dict[str, pd.DataFrame]:
    """A compact lineage as `pipeline._lineage` lays it out: two files, four texts, three facts."""
    files = pd.DataFrame(
        {
            "file_id": np.array([0, 1], dtype="int32"),
            "file_name": pd.array(["a.csv", "b.xlsx"], dtype="str"),
            "file_sha256": pd.array(["a" * 64, "b" * 64], dtype="str"),
        }
    )
    texts = pd.DataFrame(
        {
            "text_id": np.arange(7, dtype="int32"),
            "text": pd.array(["610303", "610302", "population", "表1", "", "C", "E"], dtype="str"),
        }
    )
    cells = pd.DataFrame(
        {
            "region_text": pd.array([0, 1, 0], dtype="Int32"),
            "year": np.array([2023, 2022, 2022], dtype="int32"),
            "indicator_text": pd.array([2, 2, 2], dtype="Int32"),
            "file_id": np.array([1, 0, 1], dtype="int32"),
            "sheet_text": pd.array([3, 4, None], dtype="Int32"),
            "row": np.array([5, 2, 6], dtype="int64"),
            "column_text": pd.array([5, 6, 5], dtype="Int32"),
        }
    )
    out = {"lineage_files": files, "lineage_texts": texts, "lineage_cells": cells}
    for key, value in changes.items():
        table, column = key.split("__")
        out[table] = out[table].assign(**{column: value})
    return out


def test_content_hash_covers_the_compact_lineage():
    """The `lineage` view follows from `lineage_files`, `lineage_texts` and `lineage_cells`: a
    change to any of them changes the hash."""

    def digest(**changes):
        return warehouse.content_hash({**tables(1.0), **lineage_tables(**changes)})

    base = digest()
    assert digest() == base
    assert warehouse.content_hash(warehouse.prepare({**tables(1.0), **lineage_tables()})) == base
    changed = [
        digest(lineage_files__file_sha256=pd.array(["a" * 64, "c" * 64], dtype="str")),
        digest(lineage_files__file_name=pd.array(["a.csv", "c.csv"], dtype="str")),
        digest(
            lineage_texts__text=pd.array(["610303", "610302", "population", "表2", "", "C", "E"], dtype="str")
        ),
        digest(lineage_cells__file_id=np.array([0, 0, 1], dtype="int32")),
        digest(lineage_cells__sheet_text=pd.array([3, 4, 4], dtype="Int32")),
        digest(lineage_cells__row=np.array([5, 2, 7], dtype="int64")),
        digest(lineage_cells__column_text=pd.array([5, 5, 5], dtype="Int32")),
        digest(lineage_cells__year=np.array([2023, 2022, 2023], dtype="int32")),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def test_lineage_view_turns_the_compact_tables_into_rows_of_texts(tmp_path):
    warehouse.publish(tmp_path, {**tables(1.0), **lineage_tables()}, {})
    con = duckdb.connect(str(warehouse.current_db(tmp_path)), read_only=True)
    try:
        assert con.execute("SELECT * FROM lineage").fetchall() == [  # in the cells' stored order
            ("610303", 2023, "population", "b.xlsx", "b" * 64, "表1", 5, "C"),
            ("610302", 2022, "population", "a.csv", "a" * 64, "", 2, "E"),
            ("610303", 2022, "population", "b.xlsx", "b" * 64, None, 6, "C"),
        ]
        assert [r[:2] for r in con.execute("DESCRIBE lineage").fetchall()] == LINEAGE_SCHEMA
    finally:
        con.close()


CRASHING_PUBLISH = textwrap.dedent("""
    import sys
    import numpy as np
    import pandas as pd
    from pathlib import Path
    from etl import warehouse
    n = 2_000_000
    facts = pd.DataFrame({
        "region_code": np.full(n, "610302", dtype=object),
        "year": 2000 + np.arange(n) % 20,
        "indicator_id": np.full(n, "population", dtype=object),
        "value": np.arange(n, dtype=float),
        "origin": np.full(n, "reported", dtype=object),
        "is_sample": np.zeros(n, dtype=bool),
    })
    print("ready", flush=True)
    warehouse.publish(Path(sys.argv[1]), {"facts": facts}, {"content_hash": "0" * 64})
""")


@pytest.mark.parametrize("stage", ["", "facts"])
def test_killed_publish_leaves_previous_version_serving(tmp_path, stage):
    """Kill the publisher when its temp folder appears, and when it is writing Parquet."""
    first = warehouse.publish(tmp_path, tables(1.0), {})
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_PUBLISH, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    versions = tmp_path / "warehouse" / "versions"
    while not list(versions.glob(f".tmp-*/{stage}")) and time.monotonic() < deadline:
        time.sleep(0.002)
    assert list(versions.glob(f".tmp-*/{stage}")), "the publish never reached the stage"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert warehouse.current_version(tmp_path) == first
    assert read_values(tmp_path) == [1.0, 2.0, 3.0]
    assert [v["version"] for v in warehouse.list_versions(tmp_path)] == [first]
    # The next publish cleans up the half-written folder and succeeds.
    second = warehouse.publish(tmp_path, tables(5.0), {})
    assert warehouse.current_version(tmp_path) == second and not list(versions.glob(".tmp-*"))


def test_versions_of_an_older_table_layout_cannot_be_rolled_back_to(tmp_path):
    old = warehouse.publish(tmp_path, tables(1.0), {"command": "test"})
    manifest = warehouse.version_path(tmp_path, old) / warehouse.MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "schema": 1}), encoding="utf-8")
    warehouse.publish(tmp_path, tables(2.0), {"command": "test"})
    assert not warehouse.is_current_schema(tmp_path, old)
    with pytest.raises(ValueError, match="旧版程序"):
        warehouse.rollback(tmp_path, old)
    assert read_values(tmp_path) == [2.0, 3.0, 4.0]  # still the newer version


def test_prepared_facts_are_in_stored_order_and_hash_like_the_frames():
    """`prepare` orders facts as DuckDB's ORDER BY region_code, indicator_id, year would (texts by
    bytes), and the hash of prepared tables is the hash of the frames they came from."""
    rng = np.random.default_rng(7)
    n = 500
    facts = pd.DataFrame(
        {
            "region_code": pd.array(rng.choice(["610302", "610300", "61", "6103021", "云"], n), dtype="str"),
            "year": rng.integers(2015, 2025, n).astype("int32"),
            "indicator_id": pd.array(rng.choice(["pop", "pop_60", "b", "Z", "beds"], n), dtype="str"),
            "value": rng.random(n),
            "origin": pd.array(["reported"] * n, dtype="str"),
            "is_sample": np.zeros(n, dtype=bool),
        }
    )
    prepared = warehouse.prepare({"facts": facts})["facts"]
    con = duckdb.connect()
    expected = con.execute(
        "SELECT region_code, indicator_id, year, value FROM facts "
        "ORDER BY region_code, indicator_id, year, value"
    ).fetchall()
    got = con.execute("SELECT region_code, indicator_id, year, value FROM prepared").fetchall()
    keys = [row[:3] for row in got]
    assert keys == [row[:3] for row in expected] and sorted(got) == sorted(expected)
    assert warehouse.content_hash({"facts": facts}) == warehouse.content_hash({"facts": prepared})
    changed = facts.copy()
    changed.loc[3, "origin"] = "derived"
    assert warehouse.content_hash({"facts": changed}) != warehouse.content_hash({"facts": facts})
    swapped = facts.copy()
    swapped.loc[0, "region_code"], swapped.loc[1, "region_code"] = (
        facts.loc[1, "region_code"],
        facts.loc[0, "region_code"],
    )
    if facts.loc[0, "region_code"] != facts.loc[1, "region_code"]:
        assert warehouse.content_hash({"facts": swapped}) != warehouse.content_hash({"facts": facts})


def test_summary_tables_agree_with_the_facts_they_summarise(sample):
    """`region_coverage`, `region_years` and `indicator_coverage` (made by DuckDB from the written
    facts, `warehouse.SUMMARY_TABLES`) hold what pandas works out from the same facts and
    regions: per region its name, level, parent, years and fact count; per region its years
    with those of its children; per indicator how many regions and which years."""
    con = duckdb.connect(str(warehouse.current_db(sample)), read_only=True)
    facts = con.execute("SELECT region_code, year, indicator_id FROM facts").df()
    regions = con.execute("SELECT code, name, level, parent_code FROM regions").df()
    got = {name: con.execute(f"SELECT * FROM {name}").df() for name in warehouse.SUMMARY_TABLES}
    con.close()
    assert facts["region_code"].nunique() > 10 and (regions["level"] == "nation").any()

    counts = facts.groupby("region_code", as_index=False).agg(
        first_year=("year", "min"), last_year=("year", "max"), facts=("year", "size")
    )
    coverage = counts.merge(regions.rename(columns={"code": "region_code"}), on="region_code", how="left")
    coverage = coverage[["region_code", "name", "level", "parent_code", "first_year", "last_year", "facts"]]
    own = facts[["region_code", "year"]].drop_duplicates()
    parents = own.assign(region_code=own["region_code"].map(regions.set_index("code")["parent_code"]))
    parents = parents[parents["region_code"].notna() & (parents["region_code"] != "")]
    years = pd.concat([own, parents]).drop_duplicates()
    years = years.sort_values(["region_code", "year"], ignore_index=True)
    indicators = facts.groupby("indicator_id", as_index=False).agg(
        regions=("region_code", "nunique"), first_year=("year", "min"), last_year=("year", "max")
    )
    expected = {"region_coverage": coverage, "region_years": years, "indicator_coverage": indicators}
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, check_dtype=False, obj=name)
    # a city's years include its counties'
    city = regions.loc[regions["level"] == "city", "code"].iloc[0]
    assert set(got["region_years"].query("region_code == @city")["year"]) >= set(
        facts.loc[facts["region_code"].map(regions.set_index("code")["parent_code"]) == city, "year"]
    )


@pytest.mark.parametrize("in_order", [False, True])
def test_stored_order_puts_nulls_last_and_leaves_sorted_facts_alone(in_order):
    """NULL texts and years sort after every value, as DuckDB's ORDER BY puts them; facts that
    come in that order (as derive's do) are left as they are, and any other order is sorted."""
    rows = [
        ("610302", "pop", 2023),
        ("610302", "pop", None),
        ("610302", None, 2022),
        ("610303", "beds", 2021),
        ("610303", "pop", 2020),
        (None, "beds", 2020),
        (None, "beds", None),
    ]
    if not in_order:
        rows = rows[3:] + rows[:3]
    facts = pd.DataFrame(rows, columns=["region_code", "indicator_id", "year"]).astype(
        {"region_code": "str", "indicator_id": "str", "year": "Int32"}
    )
    facts["value"] = np.arange(len(facts), dtype="float64")
    table = pa.Table.from_pandas(facts, preserve_index=False)
    texts = [pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in table.columns]
    table = pa.table(
        [c.dictionary_encode() if text else c for c, text in zip(table.columns, texts)],
        names=table.column_names,
    )
    order = warehouse._storage_order(table)
    assert (order is None) == in_order
    got = table if order is None else table.take(order)
    con = duckdb.connect()
    expected = con.execute(
        "SELECT region_code, indicator_id, year FROM facts ORDER BY region_code, indicator_id, year"
    ).fetchall()
    assert [
        tuple(row.values()) for row in got.select(["region_code", "indicator_id", "year"]).to_pylist()
    ] == expected


def test_stored_order_of_years_below_zero_and_far_apart():
    """The sort key is built from ranks counted from each column's smallest value: a negative or
    far-off year (never loaded, but a frame may hold one) still sorts as DuckDB sorts it."""
    facts = pd.DataFrame(
        {
            "region_code": pd.array(["610303", "610302", "610302", "610302"], dtype="str"),
            "indicator_id": pd.array(["pop", "pop", "pop", "beds"], dtype="str"),
            "year": np.array([2024, 3000, -5000, 2024], dtype="int32"),
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    prepared = warehouse.prepare({"facts": facts})["facts"]
    got = [
        tuple(row.values()) for row in prepared.select(["region_code", "indicator_id", "year"]).to_pylist()
    ]
    assert got == [
        ("610302", "beds", 2024),
        ("610302", "pop", -5000),
        ("610302", "pop", 3000),
        ("610303", "pop", 2024),
    ]
