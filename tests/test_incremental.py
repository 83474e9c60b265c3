"""Incremental loads (issue 19, part 3): each input's resolved facts and issues are kept in the
data dir's fact cache (etl/fact_cache.py), so a load re-reads only its new files.

The result must be exactly that of a full build of the same files: random load sequences
(updated files, repeated files, two files at once, a chosen region, a catalog change half-way)
end in the warehouse one `build` of raw/ gives, and every step's outcome is the one the same
step gives with the cache off. Cache hits really skip reading; a damaged or foreign entry is
read again silently; a changed catalog, registry, default area or recipe set misses.
"""

import hashlib
import os
import random
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl import fact_cache, pipeline, warehouse
from etl.catalog import Catalog, catalog_from_data, load_catalog, read_catalog_data
from etl.paths import fact_cache_dir
from etl.regions import Registry, load_registry
from etl.resolve import concat_facts
from etl.sources import sha256_file
from tests.util import BAOJI, baoji_rows, write_long_csv

INDICATORS = ["城市低保人数", "农村低保人数", "特困人员救助供养人数", "低保边缘人口数"]
YEARS = [2021, 2022, 2023]
NAMES = ["a.csv", "b.csv", "c.csv", "d.csv"]


def changed_catalog() -> Catalog:
    """The shipped catalog with 低保边缘人口数 counted in 万人: every file giving it in 人 then
    resolves to other values (a cached result of the old catalog would be wrong)."""
    data = read_catalog_data()
    next(i for i in data["indicators"] if i["id"] == "near_dibao_persons")["unit"] = "万人"
    return catalog_from_data(data)


def returning(value):
    return lambda: value


def random_body(rng: random.Random, indicators: list[str] | None = None) -> str:
    """A small long-table file: some 宝鸡 counties × years × indicators, each fact once."""
    counties = rng.sample(sorted(BAOJI.items()), rng.randint(1, len(BAOJI)))
    years = rng.sample(YEARS, rng.randint(1, len(YEARS)))
    indicators = indicators or rng.sample(INDICATORS, rng.randint(1, 2))
    return "".join(
        f"{name},{code},{year},{indicator},{rng.randint(100, 5000)},人\n"
        for code, name in counties
        for year in years
        for indicator in indicators
    )


def random_steps(seed: int, n: int = 7) -> list[tuple]:
    """("load", [(name, body), …], region) steps and one ("catalog",) step half-way."""
    rng = random.Random(seed)
    # the first file gives the indicator the catalog change is about
    written: list[tuple[str, str]] = [
        ("a.csv", random_body(rng, ["低保边缘人口数", rng.choice(INDICATORS[:3])]))
    ]
    steps: list[tuple] = [("load", list(written), None)]
    for i in range(1, n):
        if i == n // 2:
            steps.append(("catalog",))
        kind = rng.random()
        if written and kind < 0.2:  # the very same file again
            files = [rng.choice(written)]
        elif kind < 0.35:  # two files in one load (they may disagree: a `duplicate` error)
            files = [(name, random_body(rng)) for name in rng.sample(NAMES, 2)]
        else:  # a new file, or an updated version of an earlier one (same name)
            files = [(rng.choice(NAMES), random_body(rng))]
        written += files
        steps.append(("load", files, "610300" if rng.random() < 0.25 else None))
    # a last new file always publishes: the warehouse then reflects the final catalog
    steps.append(("load", [("z.csv", random_body(rng))], None))
    return steps


def play(base: Path, uploads: Path, steps: list[tuple], monkeypatch) -> list[pipeline.Outcome]:
    monkeypatch.setattr(pipeline, "load_catalog", load_catalog)
    outcomes = []
    for n, step in enumerate(steps):
        if step[0] == "catalog":
            monkeypatch.setattr(pipeline, "load_catalog", returning(changed_catalog()))
            continue
        _, files, region = step
        folder = uploads / str(n)
        folder.mkdir(parents=True)
        paths = [write_long_csv(folder / name, body) for name, body in files]
        outcomes.append(pipeline.load(base, paths, region=region))
    return outcomes


def state(base: Path) -> dict:
    """The served version: its tables as frames (stored order), its inputs and content hash."""
    version = warehouse.current_version(base)
    con = duckdb.connect(str(warehouse.current_db(base)), read_only=True)
    try:
        tables = {
            name: con.execute(f"SELECT * FROM {name}").df()
            for name in ("facts", "lineage", "issues", "indicators", "region_coverage", "indicator_coverage")
        }
    finally:
        con.close()
    manifest = warehouse.read_manifest(base, version)
    return {"tables": tables, "inputs": manifest["inputs"], "hash": manifest["content_hash"]}


def assert_same_state(a: dict, b: dict) -> None:
    for name, frame in a["tables"].items():
        pd.testing.assert_frame_equal(frame, b["tables"][name], check_exact=True, obj=name)
    assert a["inputs"] == b["inputs"]
    assert a["hash"] == b["hash"]


def summary(outcome: pipeline.Outcome) -> tuple:
    return (outcome.issues.items, outcome.inputs, outcome.changed, outcome.fact_count, outcome.ok)


def no_cache(monkeypatch) -> None:
    monkeypatch.setattr(fact_cache.FactCache, "fetch", lambda self, *a, **k: None)
    monkeypatch.setattr(fact_cache.FactCache, "store", lambda self, *a, **k: None)


class Reads:
    """Counts the files really read (`read_source` calls) by the pipeline."""

    def __init__(self, monkeypatch):
        self.names: list[str] = []
        real = pipeline.read_source

        def spy(source, *args, **kwargs):
            self.names.append(source.name)
            return real(source, *args, **kwargs)

        monkeypatch.setattr(pipeline, "read_source", spy)

    def take(self) -> list[str]:
        names, self.names = self.names, []
        return names


def entries(base: Path) -> list[Path]:
    folder = fact_cache_dir(base)
    return sorted(folder.glob("*" + fact_cache.SUFFIX)) if folder.exists() else []


# ------------------------------------------------------------------ (a) same as a full build
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_load_sequences_end_where_one_build_of_the_same_files_does(tmp_path, monkeypatch, seed):
    steps = random_steps(seed)
    cached = play(tmp_path / "cached", tmp_path / "up1", steps, monkeypatch)
    assert any(o.changed for o in cached)
    assert entries(tmp_path / "cached")  # the cache was used
    final_catalog = pipeline.load_catalog()

    with monkeypatch.context() as m:
        no_cache(m)
        uncached = play(tmp_path / "uncached", tmp_path / "up2", steps, m)
        # every step: the same issues (in order), inputs, facts and publish decision as without cache
        assert [summary(o) for o in cached] == [summary(o) for o in uncached]
        rebuilt = tmp_path / "rebuilt"
        shutil.copytree(tmp_path / "cached" / "raw", rebuilt / "raw")
        m.setattr(pipeline, "load_catalog", lambda: final_catalog)
        build = pipeline.build(rebuilt)
        assert build.ok, [i.as_text() for i in build.issues.errors]

    assert_same_state(state(tmp_path / "cached"), state(rebuilt))
    assert_same_state(state(tmp_path / "uncached"), state(rebuilt))
    # the issues of the files themselves and of the whole, as a build finds them
    last = next(o for o in reversed(cached) if o.changed)
    assert sorted(map(repr, set(last.issues.items))) == sorted(map(repr, set(build.issues.items)))


def test_a_catalog_change_reads_every_file_again_and_gives_the_new_values(tmp_path, monkeypatch):
    base = tmp_path / "data"
    reads = Reads(monkeypatch)
    a = write_long_csv(tmp_path / "a.csv", baoji_rows("低保边缘人口数", 3000))
    assert pipeline.load(base, [a]).ok
    modified = changed_catalog()
    monkeypatch.setattr(pipeline, "load_catalog", lambda: modified)
    b = write_long_csv(tmp_path / "b.csv", baoji_rows("城市低保人数", 300))
    reads.take()
    assert pipeline.load(base, [b]).ok
    assert sorted(reads.take()) == ["a.csv", "b.csv"]
    values = state(base)["tables"]["facts"].query("indicator_id == 'near_dibao_persons'")["value"]
    assert set(values.round(6)) == {0.3, round(0.3 * len(BAOJI), 6)}  # 3000 人 = 0.3 万人 a county


# ------------------------------------------------------------------ (b) hits skip reading
def test_a_second_load_reads_only_its_new_file(tmp_path, monkeypatch):
    base = tmp_path / "data"
    reads = Reads(monkeypatch)
    a = write_long_csv(tmp_path / "a.csv", baoji_rows("城市低保人数", 300))
    assert pipeline.load(base, [a]).ok
    assert reads.take() == ["a.csv"]
    b = write_long_csv(tmp_path / "b.csv", baoji_rows("农村低保人数", 900))
    outcome = pipeline.load(base, [b])
    assert outcome.ok and outcome.changed
    assert reads.take() == ["b.csv"]  # a.csv (served) comes from the cache

    # 数据管理: check, then publish — the publish reads nothing; nor does a rebuild
    c = write_long_csv(tmp_path / "c.csv", baoji_rows("特困人员救助供养人数", 50))
    checked, fresh, tables = pipeline.check_files(base, [c])
    assert checked.ok and tables is not None and [i["name"] for i in fresh] == ["c.csv"]
    assert reads.take() == ["c.csv"]
    loaded = pipeline.load(base, [c])
    assert loaded.ok and loaded.changed and reads.take() == []
    assert pipeline.build(base).changed is False and reads.take() == []

    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(base / "raw", rebuilt / "raw")
    assert pipeline.build(rebuilt).ok
    assert sorted(reads.take()) == ["a.csv", "b.csv", "c.csv"]
    assert_same_state(state(base), state(rebuilt))


def test_cached_frames_keep_their_dtypes_and_values(tmp_path):
    base = tmp_path / "data"
    catalog, registry = load_catalog(), load_registry()
    files = [
        write_long_csv(tmp_path / "a.csv", baoji_rows("城市低保人数", 300)),
        write_long_csv(tmp_path / "b.csv", "眉县,,2023,养老床位数,100,张\n眉县,,2023,未知指标,1,人\n"),
        write_long_csv(tmp_path / "empty.csv", ""),
    ]
    plain = pipeline.read_files(files, catalog, registry)
    stored = pipeline.read_files(files, catalog, registry, base=base)
    assert len(entries(base)) == 3
    fetched = pipeline.read_files(files, catalog, registry, base=base)
    for frames, issues, inputs in (stored, fetched):
        assert issues.items == plain[1].items and inputs == plain[2]
        for frame, expected in zip(frames, plain[0], strict=True):
            assert frame.dtypes.to_dict() == expected.dtypes.to_dict()
            pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert fetched[0][0].dtypes[["year", "value"]].tolist() == ["int32", "float64"]
    assert [i.code for i in fetched[1].errors] == ["unknown_indicator", "empty"]


def test_an_entry_keeps_categoricals_issues_and_the_inputs_entry_exactly(tmp_path):
    from etl.issues import warning

    cache = fact_cache.FactCache(tmp_path, load_catalog(), load_registry())
    frame = pd.DataFrame(
        {
            "region_code": pd.Series(["610302", None], dtype="str"),
            "year": pd.array([2022, 2023], dtype="int32"),
            "sheet": pd.Categorical.from_codes(
                [0, -1], dtype=pd.CategoricalDtype(pd.Index(["表1"], dtype=object))
            ),
            "tag": pd.Categorical(["x", "y"]),
            "value": [1.5, float("nan")],
            "row": pd.array([3, None], dtype="Int64"),
        },
        index=[4, 9],
    )
    issues = [warning("yoy_jump", "同比变化过大", file="a.csv", sheet="表1", row=3, column="E", value="9")]
    entry = fact_cache.Entry(
        frame, issues, {"name": "a.csv", "sha256": "f" * 64, "facts": 2, "region": "610300"}
    )
    cache.store("f" * 64, "a.csv", "610300", None, entry)
    source = tmp_path / "a.csv"
    source.write_bytes(b"")  # fetch hashes the file: point the key at this file's sha256
    sha = fact_cache.sha256_file(source)
    entry.input["sha256"] = sha
    cache.store(sha, "a.csv", "610300", None, entry)
    got = cache.fetch(source, "a.csv", "610300")
    assert got is not None and got[0] == sha
    assert got[1].facts.dtypes.to_dict() == frame.dtypes.to_dict()
    pd.testing.assert_frame_equal(got[1].facts, frame, check_exact=True)
    assert got[1].issues == issues and got[1].input == entry.input
    assert cache.fetch(source, "a.csv", None) is None  # another region: another entry
    assert cache.fetch(source, "b.csv", "610300") is None  # another name (lineage, messages)
    assert cache.fetch(source, "a.csv", "610300", "某配方") is None  # another forced recipe


# ------------------------------------------------------------------ (c) damaged entries
@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "foreign"])
def test_a_damaged_cache_entry_is_read_again_silently(tmp_path, monkeypatch, damage):
    base = tmp_path / "data"
    reads = Reads(monkeypatch)
    a = write_long_csv(tmp_path / "a.csv", baoji_rows("城市低保人数", 300))
    x = write_long_csv(tmp_path / "x.csv", baoji_rows("城市低保人数", 301, years=(2020,)))
    assert pipeline.load(base, [a]).ok
    (entry,) = entries(base)
    data = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        middle = len(data) // 2
        entry.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    elif damage == "garbage":
        entry.write_bytes(b"not an arrow file" * 100)
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # an intact entry of another file put under this one's name
        pipeline.validate(base, [x])
        other = next(p for p in entries(base) if p != entry)
        entry.write_bytes(other.read_bytes())
    reads.take()
    b = write_long_csv(tmp_path / "b.csv", baoji_rows("农村低保人数", 900))
    outcome = pipeline.load(base, [b])
    assert outcome.ok and outcome.changed, [i.as_text() for i in outcome.issues.items]
    assert sorted(reads.take()) == ["a.csv", "b.csv"]  # a.csv read again, nothing said about it
    assert [i.code for i in outcome.issues.items] == []

    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(base / "raw", rebuilt / "raw")
    assert pipeline.build(rebuilt).ok
    assert_same_state(state(base), state(rebuilt))
    reads.take()
    # the entry was written again, whole: the next load reads only its own file
    c = write_long_csv(tmp_path / "c.csv", baoji_rows("特困人员救助供养人数", 50))
    assert pipeline.load(base, [c]).ok and reads.take() == ["c.csv"]


def test_an_unwritable_cache_costs_reads_not_errors(tmp_path, monkeypatch):
    base = tmp_path / "data"
    reads = Reads(monkeypatch)
    fact_cache_dir(base).parent.mkdir(parents=True)
    fact_cache_dir(base).write_text("a file where the folder should be")
    a = write_long_csv(tmp_path / "a.csv", baoji_rows("城市低保人数", 300))
    b = write_long_csv(tmp_path / "b.csv", baoji_rows("农村低保人数", 900))
    assert pipeline.load(base, [a]).ok
    outcome = pipeline.load(base, [b])
    assert outcome.ok and outcome.changed and outcome.issues.items == []
    assert sorted(reads.take()) == ["a.csv", "a.csv", "b.csv"]


# ------------------------------------------------------------------ (d) a changed context misses
@pytest.mark.parametrize("change", ["catalog", "registry", "cities", "recipes", "code"])
def test_a_changed_context_misses_the_cache(tmp_path, monkeypatch, change):
    base = tmp_path / "data"
    reads = Reads(monkeypatch)
    a = write_long_csv(tmp_path / "a.csv", baoji_rows("城市低保人数", 300))
    b = write_long_csv(tmp_path / "b.csv", baoji_rows("农村低保人数", 900))
    assert pipeline.load(base, [a]).ok
    assert pipeline.build(base).changed is False
    assert reads.take() == ["a.csv"]  # the build hit
    if change == "catalog":
        monkeypatch.setattr(Catalog, "fingerprint", lambda self: "another catalog")
    elif change == "registry":
        monkeypatch.setattr(Registry, "fingerprint", lambda self: "another registry")
    elif change == "cities":
        monkeypatch.setenv("MZ_CITIES", "350100")
    elif change == "recipes":
        monkeypatch.setattr(fact_cache, "fingerprint", lambda recipes: "other recipes")
    else:
        monkeypatch.setattr(fact_cache, "CODE_VERSION", fact_cache.CODE_VERSION + 1)
    before = {p.name for p in entries(base)}
    assert pipeline.load(base, [b]).ok
    assert sorted(reads.take()) == ["a.csv", "b.csv"]
    # the publish pruned the entries of the old context: only the new one's are left
    after = {p.name for p in entries(base)}
    assert len(after) == 2 and not after & before


def test_real_fingerprints_follow_the_catalog_and_registry():
    catalog = load_catalog()
    assert catalog.fingerprint() == catalog_from_data(read_catalog_data()).fingerprint()
    assert changed_catalog().fingerprint() != catalog.fingerprint()
    registry = load_registry()
    frame, aliases = registry.frame(), registry.aliases_frame()
    assert Registry(frame, aliases).fingerprint() == registry.fingerprint()
    renamed = frame.copy()
    renamed.loc[renamed.index[-1], "name"] += "新"
    assert Registry(renamed, aliases).fingerprint() != registry.fingerprint()
    assert Registry(frame, aliases.iloc[:-1]).fingerprint() != registry.fingerprint()


# ------------------------------------------------------------------ pruning
def test_a_publish_prunes_entries_of_files_no_version_or_raw_file_has(tmp_path, monkeypatch):
    base = tmp_path / "data"
    a = write_long_csv(tmp_path / "a.csv", baoji_rows("城市低保人数", 300))
    checked_only = write_long_csv(tmp_path / "checked.csv", baoji_rows("农村低保人数", 900))
    assert pipeline.load(base, [a]).ok
    assert pipeline.validate(base, [checked_only]).ok
    assert len(entries(base)) == 2
    stale = fact_cache_dir(base) / f"{fact_cache._TMP}dead-writer"
    stale.write_bytes(b"half")
    monkeypatch.setattr(fact_cache, "STALE_TEMP_SECONDS", -1)
    b = write_long_csv(tmp_path / "b.csv", baoji_rows("特困人员救助供养人数", 50))
    assert pipeline.load(base, [b]).ok
    shas = {p.name.split(".")[0] for p in entries(base)}
    served = {i["sha256"] for i in warehouse.read_manifest(base, warehouse.current_version(base))["inputs"]}
    assert shas == served and len(shas) == 2 and not stale.exists()
    # a file still in raw/ keeps its entry though no kept version lists it any more
    monkeypatch.setattr(warehouse, "list_versions", lambda base: [])
    c = write_long_csv(tmp_path / "c.csv", baoji_rows("特困人员救助供养人数", 60))
    assert pipeline.load(base, [c]).ok
    assert {p.name.split(".")[0] for p in entries(base)} == served | {
        i["sha256"] for i in pipeline.read_files([c], load_catalog(), load_registry())[2]
    }


# ------------------------------------------------------------------ combining
@pytest.mark.parametrize("seed", range(5))
def test_later_wins_is_drop_duplicates_keep_last(seed):
    """On files combined as a load combines them (`concat_facts`: each text column one
    Categorical over the files' texts), the later file wins exactly as pandas'
    drop_duplicates(keep="last") on plain texts."""
    rng = random.Random(seed)
    frames = []
    for n in range(rng.randint(1, 4)):
        rows = [
            (code, year, indicator)
            for code in rng.sample(sorted(BAOJI), rng.randint(1, 5))
            for year in rng.sample(YEARS, rng.randint(1, 3))
            for indicator in rng.sample(["population", "tekun_persons", "elderly_beds"], rng.randint(1, 3))
        ]
        frames.append(
            pd.DataFrame(
                {
                    "region_code": pd.Categorical([r[0] for r in rows]),
                    "year": pd.array([r[1] for r in rows], dtype="int32"),
                    "indicator_id": pd.Categorical([r[2] for r in rows]),
                    "value": [float(rng.randint(1, 9)) for _ in rows],
                    "file_name": pd.Categorical([f"{n}.csv"] * len(rows)),
                    "file_sha256": pd.Categorical([f"{n}" * 64] * len(rows)),
                    "row": pd.array(range(2, len(rows) + 2), dtype="int64"),
                }
            )
        )
    texts = dict.fromkeys(["region_code", "indicator_id", "file_name", "file_sha256"], "str")
    plain = pd.concat([f.astype(texts) for f in frames], ignore_index=True)
    expected = plain.drop_duplicates(["region_code", "year", "indicator_id"], keep="last").reset_index(
        drop=True
    )
    got = pipeline._later_wins(concat_facts(frames))
    assert all(isinstance(got[c].dtype, pd.CategoricalDtype) for c in texts)
    pd.testing.assert_frame_equal(got.astype(texts), expected, check_exact=True)


def test_a_refused_load_or_check_writes_no_cache_entry(tmp_path):
    base = tmp_path / "data"
    assert pipeline.load(base, [write_long_csv(tmp_path / "a.csv", baoji_rows("城市低保人数", 300))]).ok
    before = {p.name: p.read_bytes() for p in entries(base)}
    good = write_long_csv(tmp_path / "good.csv", baoji_rows("农村低保人数", 900))
    bad = write_long_csv(tmp_path / "bad.csv", "火星市,,2023,城市低保人数,300,人\n")
    assert not pipeline.load(base, [good, bad]).ok
    assert not pipeline.validate(base, [good, bad]).ok
    assert {p.name: p.read_bytes() for p in entries(base)} == before


def test_a_file_rewritten_in_place_is_hashed_again(tmp_path):
    """`sha256_file` remembers a file's hash by its size, times and inode: a rewrite of the same
    size, even with its modification time put back, gives the new content's hash."""
    path = tmp_path / "a.csv"
    path.write_bytes(b"first")
    first = sha256_file(path)
    assert first == hashlib.sha256(b"first").hexdigest() and sha256_file(path) == first
    stat = path.stat()
    path.write_bytes(b"other")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert sha256_file(path) == hashlib.sha256(b"other").hexdigest()
    replaced = tmp_path / "b.csv"
    replaced.write_bytes(b"third")
    replaced.replace(path)  # another inode under the same name
    assert sha256_file(path) == hashlib.sha256(b"third").hexdigest()
