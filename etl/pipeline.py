"""Build, load and validate: the one path every input takes from files to a published version.

    read (sources + readers) → resolve → combine (later file wins) → validate → derive → publish

`load` checks the new files on their own first (each file, and the files against each other:
two files of one load may not give one fact different values) and writes nothing when any of
them has an error. Errors found after combining (derive) block the publish too, in `build`
and `load` alike.

Writers hold the warehouse's publish lock (`warehouse.publish_lock`) from reading the inputs
of the served version to the pointer swap and the move of the new inputs into raw/: `build`,
`load` and `rollback` (CLI and 数据管理 alike) run one at a time, a second one waits (saying
so through `progress(WAITING, …)`) and gives up with a "busy" error after
`warehouse.publish_wait()` seconds. A rollback therefore waits for a load in progress and
sticks; a load that follows builds on the version rolled back to.

New files are copied to `raw/.staging/` (and fsynced) before the pointer moves and into
`raw/` after it. Every writer first finishes what a crashed one left there
(`_recover_staging`): a staged file some version lists is kept, any other is removed; and
`published_inputs` reads staged files too. A write that fails (a full disk) removes what it
wrote and comes back as a "write_failed" error; the previous version keeps serving.

Loads are incremental: what reading a file gives (its resolved facts, issues and inputs
entry) is kept in the data dir's fact cache (`fact_cache`, keyed by the file's bytes, name,
region and recipe and by the catalog, registry, recipes and code it was read with), so a load
re-reads only its new files and takes the served ones from there; combining, validation,
derivation and publishing run on the whole as before, and the result is the same as a full
build of the same files. The cache is written atomically (`check_files` writes it too, without
the lock) only by a build, load or check that found no error (a refused one writes nothing),
an entry that is not intact is read again, and each publish prunes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import gc
import logging
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import warehouse
from .catalog import Catalog, load_catalog
from .derive import FactGrid, derive
from .fact_cache import Entry, FactCache
from .issues import Issue, IssueList, error, fact_location, location_text
from .paths import raw_dir, sample_dir, warehouse_dir
from .published import load_published
from .readers import read_source
from .recipes import Recipe, load_recipes
from .regions import Registry, load_registry, with_nation
from .resolve import FACT_KEY, LINEAGE_COLUMNS, Distinct, concat_facts, resolve
from .settings import MAX_CONFLICTS, default_cities
from .sources import INPUT_SUFFIXES, load_source, safe_upload_name, sha256_file
from .validate import check

Progress = Callable[[str, int, int], None]
WAITING = "等待另一项发布完成…"  # the progress step shown while another writer holds the lock
STAGING = ".staging"
# What a failed write raises: the OS (a full disk, no permission) or DuckDB writing its file.
WRITE_ERRORS = (OSError, duckdb.IOException)
ANY = object()  # load(base_version=ANY): whatever version is served

log = logging.getLogger(__name__)


def _quiet(step: str, done: int, total: int) -> None:
    pass


@dataclass
class Outcome:
    """What a build/load/validate did: the issues, and the version published (None if none)."""

    issues: IssueList = field(default_factory=IssueList)
    version: str | None = None
    changed: bool = False
    inputs: list[dict] = field(default_factory=list)
    fact_count: int = 0
    is_sample: bool = False

    @property
    def ok(self) -> bool:
        return self.issues.ok


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector for a build.

    Reading a national file allocates millions of small lists (one per CSV row) that all stay
    alive; each allocation burst triggers a full collection that scans them all and frees
    nothing, which was 2 of the 11 seconds of the national build (docs/PERFORMANCE.md).
    Reference counting still frees everything; the collector is restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def input_files(folder: Path) -> list[Path]:
    """Input files of a folder in load order (`load_order`).

    The suffixes are `sources.INPUT_SUFFIXES`, the ones `load_source` accepts: every file a
    load keeps in raw/ is read again by every later build."""
    if not folder.exists():
        return []
    return sorted(
        (
            p
            for p in folder.iterdir()
            if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES and not p.name.startswith((".", "~$"))
        ),
        key=load_order,
    )


def load_order(path: Path) -> tuple[bool, str]:
    """Where a file of raw/ stands when a build reads them (later wins): files dropped in by
    hand first, by name; then the loaded ones, whose stored name starts with their load time
    (`_stored_name`), in load order. By name alone, a dropped-in "宝鸡.csv" would sort after
    every "2026…" stored name and silently override every correction loaded after it."""
    return (_STORED.match(path.name) is not None, path.name)


@dataclass(frozen=True)
class FileRead:
    """One file read (or found in the fact cache), reported as soon as it is done: 数据管理's
    check shows each file, how each of its sheets was read and its first issues while the next
    file is being read."""

    name: str
    number: int  # 1-based, of `total`
    total: int
    sheets: dict[str, str]  # sheet → how it was read (`readers.how_read`)
    facts: int
    issues: list[Issue]
    cached: bool = False


def _sheets(raw: pd.DataFrame) -> dict[str, str]:
    """Sheet → the reader (or "recipe:<name>") that read it, in sheet order."""
    if raw.empty:
        return {}
    pairs = raw[["sheet", "shape"]].drop_duplicates()
    return {str(sheet): str(shape) for sheet, shape in zip(pairs["sheet"], pairs["shape"])}


def read_files(
    paths: Iterable[Path],
    catalog: Catalog,
    registry: Registry,
    progress: Progress = _quiet,
    region: str | None = None,
    *,
    recipes: Sequence[Recipe] = (),
    recipe: str | None = None,
    base: Path | None = None,
    hashes: Mapping[Path, str | None] | None = None,
    pending: list[Callable[[], None]] | None = None,
    on_file: Callable[[FileRead], None] | None = None,
) -> tuple[list[pd.DataFrame], IssueList, list[dict]]:
    """Read and resolve each file on its own (a file's errors never depend on other files).

    `region`: the code of the place the user said these files are about (for tables that name
    none, and same-name places); a file in raw/ keeps the one chosen when it was loaded.
    `recipes` (and `recipe`, the name of one the user forced on these files) go to `read_source`.
    With `base`, each file's result is fetched from the data dir's fact cache when an entry
    for it (its bytes, name, region, recipe, and the catalog, registry, recipes and code it
    was read with: `fact_cache`) is there, and kept there when it is not — at once, or, with
    `pending`, by the caller (`_keep`) once it knows its outcome has no error (a refused load
    writes nothing). `hashes`: the sha256 of files the caller has just hashed
    (`_served_inputs`), not hashed again for the look-up. `on_file` hears of each file as soon
    as it is read. Each `inputs` entry names how each sheet was read (`sheets`: the reader, or
    the import recipe), which the version's manifest keeps as lineage."""
    paths = list(paths)
    frames, issues, inputs = [], IssueList(), []
    seen: set[str] = set()
    scope = default_cities()
    cache = FactCache(base, catalog, registry, recipes) if base is not None else None
    for n, path in enumerate(paths):
        progress("读取文件", n, len(paths))
        name = _display_name(path)
        chosen = region or _chosen_region(path)
        known = hashes.get(path) if hashes else None
        hit = cache.fetch(path, safe_upload_name(name), chosen, recipe, sha256=known) if cache else None
        if hit is not None:
            sha256, entry = hit
            if sha256 in seen:
                continue  # the same file twice adds nothing
            seen.add(sha256)
            issues.extend(entry.issues)
            frames.append(entry.facts)
            inputs.append(entry.input)
            if on_file:
                on_file(
                    FileRead(
                        name,
                        n + 1,
                        len(paths),
                        entry.input.get("sheets", {}),
                        len(entry.facts),
                        entry.issues,
                        True,
                    )
                )
            continue
        source, problems = load_source(path, display_name=name)
        issues.extend(problems)
        if source is None:
            if on_file:
                on_file(FileRead(name, n + 1, len(paths), {}, 0, problems))
            continue
        if source.sha256 in seen:
            continue  # the same file twice adds nothing
        seen.add(source.sha256)
        for grid in source.grids:
            grid.region = chosen
        raw, problems = read_source(source, recipes, forced=recipe)
        facts, found = resolve(raw, catalog, registry, default_scope=scope, region=chosen)
        found = problems + found
        if facts.empty and not any(i.severity == "error" for i in found):
            found.append(_no_data(source.name, bool(len(raw))))
        issues.extend(found)
        frames.append(facts)
        sheets = _sheets(raw)
        inputs.append(
            {"name": source.name, "sha256": source.sha256, "facts": int(len(facts))}
            | ({"region": chosen} if chosen else {})
            | ({"sheets": sheets} if sheets else {})
        )
        if on_file:
            on_file(FileRead(source.name, n + 1, len(paths), sheets, len(facts), found))
        if cache is not None:
            store = functools.partial(
                cache.store, source.sha256, source.name, chosen, recipe, Entry(facts, found, inputs[-1])
            )
            store() if pending is None else pending.append(store)
    progress("读取文件", len(paths), len(paths))
    return frames, issues, inputs


def _no_data(name: str, had_rows: bool) -> Issue:
    """A file that passed every check but gives not one fact: nothing to publish."""
    why = "数据行的数值都是空的，或所填指标都不在指标目录中" if had_rows else "只有表头，没有数据行"
    return error(
        "empty",
        f"文件中没有任何数据：{why}。本次未发布。",
        file=name,
        suggestion="请确认上传的是填好数据的文件（每行一个地区、年份、指标和数值）。",
    )


def conflicts(frames: list[pd.DataFrame], catalog: Catalog, registry: Registry) -> list[Issue]:
    """Files of one load that give one fact (region, year, indicator) different values.

    Within a file resolve.py already refuses that; across the files of one load neither may
    silently win (later loads do win: a correction). The same value twice is fine."""
    frames = [f for f in frames if len(f)]
    if len(frames) < 2:
        return []
    both = concat_facts([f.assign(_order=n) for n, f in enumerate(frames)])
    both = both[both.duplicated(FACT_KEY, keep=False)]
    if both.empty:
        return []
    first = both.groupby(FACT_KEY, sort=False)["value"].transform("first")
    differs = ~np.isclose(both["value"].astype("float64"), first.astype("float64"), rtol=1e-9, atol=0)
    keys = both.loc[differs, FACT_KEY].drop_duplicates()
    issues: list[Issue] = []
    clashing = both.merge(keys, on=FACT_KEY).sort_values("_order", kind="stable")
    for n, (key, group) in enumerate(clashing.groupby(FACT_KEY, sort=False)):
        if n == MAX_CONFLICTS:
            issues.append(
                error(
                    "duplicate",
                    f"另有 {len(keys) - MAX_CONFLICTS:,} 项数据在本次导入的文件之间数值不同，未逐条列出。",
                    file=fact_location(group.iloc[0])["file"],
                )
            )
            break
        a = group.iloc[0]
        b = group[~np.isclose(group["value"].astype("float64"), float(a["value"]), rtol=1e-9, atol=0)].iloc[0]
        ind = catalog.get(key[2])
        issues.append(
            error(
                "duplicate",
                f"{registry.name(key[0])}{key[1]}年“{ind.name_zh}”在本次导入的两个文件中数值不同："
                f"{location_text(**fact_location(a))}为 {a['value']:g}，"
                f"{location_text(**fact_location(b))}为 {b['value']:g}。",
                value=f"{b['value']:g}",
                suggestion="同一次导入的文件不能对同一数据给出不同数值：请核对后删除错误的一项；"
                "若后一个文件是更正，请分两次导入（后导入的为准）。",
                **fact_location(b),
            )
        )
    return issues


def _display_name(path: Path) -> str:
    """Files in raw/ carry a '<time>_<sha8>_' prefix (`_stored_name`); messages show the clerk's own
    file name."""
    m = _STORED.match(path.name)
    return m.group("name") if m else path.name


def _stored_name(item: dict, region: str | None) -> str:
    """'<time>_<sha8>[@<region>]_<name>': load order by time, and the region the user chose for the
    file (`load(region=…)`) kept with it, so every later build reads it the same way."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{stamp}_{item['sha256'][:8]}{'@' + region if region else ''}_{Path(item['name']).name}"


def _chosen_region(path: Path) -> str | None:
    m = _STORED.match(path.name)
    return m.group("region") if m else None


_STORED = re.compile(r"^\d{8}T\d+_[0-9a-f]{8}(?:@(?P<region>\d{6}))?_(?P<name>.+)$")


def assemble(
    frames: list[pd.DataFrame], catalog: Catalog, registry: Registry, *, is_sample: bool
) -> tuple[dict[str, pd.DataFrame], IssueList]:
    """Combine resolved files (later wins), check, derive, and lay out the warehouse tables."""
    issues = IssueList()
    if len(frames) == 1:
        # One file: `resolve` already keeps each fact of a file once (`resolve._drop_duplicates`),
        # so there is nothing for a later file to win over.
        reported = frames[0].reset_index(drop=True)
    else:
        reported = (
            concat_facts(frames) if frames else pd.DataFrame(columns=FACT_KEY + ["value"] + LINEAGE_COLUMNS)
        )
        reported = _later_wins(reported)
    if not (reported["year"].dtype == "int32" and reported["value"].dtype == "float64"):
        reported = reported.astype({"year": "int32", "value": "float64"})
    grid = FactGrid(reported, catalog, registry)
    issues.extend(check(grid, catalog, registry))
    facts, found = derive(grid, catalog, registry)
    issues.extend(found)
    facts = facts.assign(is_sample=is_sample)
    lineage_files, lineage_texts, lineage_cells = _lineage(reported)
    issue_rows = pd.DataFrame(
        [vars(i) for i in issues.items],
        columns=["severity", "code", "message", "file", "sheet", "row", "column", "value", "suggestion"],
    ).astype({"row": "Int64"})
    tables = {
        "regions": with_nation(registry.frame()),
        "region_aliases": registry.aliases_frame(),
        "categories": catalog.categories_frame(),
        "indicators": catalog.frame(),
        "targets": catalog.targets_frame(),
        "facts": facts[FACT_KEY + ["value", "origin", "is_sample"]],
        # Read through the `lineage` view (warehouse.LINEAGE_VIEW), made of these three.
        "lineage_files": lineage_files,
        "lineage_texts": lineage_texts,
        "lineage_cells": lineage_cells,
        "issues": issue_rows,
        "published": load_published(catalog, registry),
        "meta": pd.DataFrame(
            {
                "key": ["is_sample", "default_cities"],
                "value": ["true" if is_sample else "false", ",".join(default_cities())],
            }
        ),
    }
    return tables, issues


def _later_wins(reported: pd.DataFrame) -> pd.DataFrame:
    """`reported.drop_duplicates(FACT_KEY, keep="last").reset_index(drop=True)`, worked out on one
    integer per fact: region codes and indicator ids are numbered on their runs (`_factorize`)
    rather than hashed row by row as texts (0.7 → 0.1 s for a load into the national warehouse,
    where the served ~900,000 facts meet the new file's). A missing key part (never in resolved
    facts) takes pandas' own way."""
    if reported.empty:
        return reported.reset_index(drop=True)
    region, regions = _factorize(reported["region_code"])
    indicator, indicators = _factorize(reported["indicator_id"])
    years = reported["year"]
    if (region < 0).any() or (indicator < 0).any() or years.isna().any():
        return reported.drop_duplicates(FACT_KEY, keep="last").reset_index(drop=True)
    years = years.to_numpy().astype(np.int64)
    low = int(years.min())
    span = int(years.max()) - low + 1
    key = (region.astype(np.int64) * span + (years - low)) * len(indicators) + indicator
    later = pd.Series(key).duplicated(keep="last").to_numpy()
    return reported[~later].reset_index(drop=True) if later.any() else reported.reset_index(drop=True)


def _lineage(reported: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Where each reported fact came from, stored compactly as integers (the warehouse's
    `lineage` view turns them back into one row of texts per fact, `warehouse.LINEAGE_VIEW`):

    - `lineage_files`: each distinct (file_name, file_sha256) once, `file_id` 0, 1, … in order
      of first appearance;
    - `lineage_texts`: the distinct region codes, indicator ids, sheets and column letters, one
      after the other, `text_id` 0, 1, …;
    - `lineage_cells`: per fact, in the order of `reported`, `region_text`, `indicator_text`,
      `sheet_text` and `column_text` (ids into `lineage_texts`, NULL for a missing text), `year`,
      `file_id` and `row`."""
    file_columns = reported[["file_name", "file_sha256"]]
    starts, lengths = _runs(file_columns)
    runs = file_columns.iloc[starts]
    by_file = Distinct(runs["file_name"], runs["file_sha256"])  # file ids in order of first appearance
    run_file = by_file.inverse
    files = runs.iloc[by_file.first].reset_index(drop=True).astype("str")  # texts, not Categoricals
    files.insert(0, "file_id", np.arange(len(files), dtype="int32"))
    texts, ids = [], {}
    offset = 0
    for name in ["region_code", "indicator_id", "sheet", "column"]:
        code, uniques = _factorize(reported[name])  # a missing text: -1, stored as NULL
        ids[name] = (code + offset).astype("int32")
        if (code < 0).any():
            ids[name] = pd.arrays.IntegerArray(ids[name], code < 0)
        texts.append(pd.Series(uniques))
        offset += len(uniques)
    text = pd.concat(texts, ignore_index=True)
    lineage_texts = pd.DataFrame({"text_id": np.arange(len(text), dtype="int32"), "text": text})
    cells = pd.DataFrame(
        {
            "region_text": ids["region_code"],
            "year": reported["year"],
            "indicator_text": ids["indicator_id"],
            "file_id": np.repeat(run_file.astype("int32"), lengths),
            "sheet_text": ids["sheet"],
            "row": reported["row"],
            "column_text": ids["column"],
        }
    )
    return files, lineage_texts, cells


def _runs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of the runs of rows over which no column of `frame` (Arrow-backed texts,
    integers, Categoricals) changes value: a lineage column repeats one value over many consecutive facts (a
    file, a county, a sheet), and derived facts come grouped by region and year. Comparing
    neighbours is several times cheaper than hashing every row's text. A run may start where
    nothing changed (a missing value; every row when a column has another dtype), which only
    makes more, shorter runs: callers get the same result, slower."""
    n = len(frame)
    if n < 2:
        return np.arange(n), np.ones(n, dtype=np.int64)
    change = pa.array(np.zeros(n - 1, dtype=bool))  # per row after the first: a run starts there
    for name in frame.columns:
        values = frame[name].array
        if isinstance(values, pd.arrays.ArrowStringArray):
            column = pa.chunked_array(values.__arrow_array__())  # no copy
            differs = pc.not_equal(column.slice(1), column.slice(0, n - 1)).fill_null(True)
        elif isinstance(frame[name].dtype, pd.CategoricalDtype):
            codes = frame[name].cat.codes.to_numpy()
            differs = pa.array(codes[1:] != codes[:-1])
        elif frame[name].dtype.kind in "iub":
            numbers = frame[name].to_numpy()
            differs = pa.array(numbers[1:] != numbers[:-1])
        else:
            return np.arange(n), np.ones(n, dtype=np.int64)
        change = pc.or_(change, differs)
    starts = np.concatenate([[0], pc.indices_nonzero(change).to_numpy().astype(np.int64) + 1])
    return starts, np.diff(np.append(starts, n))


def _factorize(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """`pd.factorize(column)` (codes in order of first appearance, -1 for missing), worked out
    on the runs of equal neighbours (`_runs`); the distinct values of a Categorical as texts."""
    starts, lengths = _runs(column.to_frame())
    codes, uniques = pd.factorize(column.iloc[starts])
    if isinstance(uniques, pd.Categorical):
        uniques = pd.Index(np.asarray(uniques, dtype=object), dtype="str")
    return np.repeat(codes, lengths), uniques


def _publish_if_changed(
    base: Path, tables: dict[str, pd.DataFrame], outcome: Outcome, command: str, **details
) -> bool:
    """Publish unless the served version has this very content. True when it published."""
    tables = warehouse.prepare(tables)  # once, for the hash and the write
    digest = warehouse.content_hash(tables)
    current = warehouse.current_version(base)
    if (
        current
        and warehouse.read_manifest(base, current).get("content_hash") == digest
        and warehouse.is_current_schema(base, current)
    ):
        outcome.version, outcome.changed = current, False
        return False
    manifest = {
        "command": command,
        "inputs": outcome.inputs,
        "is_sample": outcome.is_sample,
        "content_hash": digest,
        "warnings": len(outcome.issues.warnings),
        **details,
    }
    outcome.version = warehouse.publish(base, tables, manifest)
    outcome.changed = True
    return True


def _waiting(progress: Progress) -> Callable[[], None]:
    return lambda: progress(WAITING, 0, 1)


def write_failed_message(exc: BaseException, what: str = "发布") -> str:
    """The clerk's sentence for a failed write (OSError or DuckDB's IOException) of a publish
    (or of what `what` names, e.g. "回滚")."""
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc):
        why = "磁盘空间不足，无法写入数据仓库"
    elif code in (errno.EACCES, errno.EPERM):
        why = "没有写入数据目录的权限，无法写入数据仓库"
    elif code == errno.EROFS:
        why = "数据目录所在的磁盘是只读的，无法写入数据仓库"
    else:
        why = f"写入数据仓库时出错（{type(exc).__name__}{f'，错误号 {code}' if code else ''}）"
    return f"{why}，本次未{what}，当前版本保持不变。"


def _write_failed(base: Path, exc: BaseException, names: list[str]) -> Issue:
    log.warning("write to %s failed: %r", base, exc)
    return error(
        "write_failed",
        write_failed_message(exc),
        file="、".join(names),
        value=str(warehouse_dir(base)),
        suggestion="请清理数据目录所在磁盘的空间（或请系统管理员检查数据目录的权限）后重新操作。",
    )


def _busy(exc: warehouse.Busy, names: list[str]) -> Issue:
    return error(
        "busy",
        str(exc),
        file="、".join(names),
        suggestion=(
            "请等当前的发布完成后重试"
            f"（最长等待时间可用环境变量 {warehouse.ENV_PUBLISH_WAIT} 设置，单位秒）。"
        ),
    )


@gc_paused()
def build(base: Path, progress: Progress = _quiet) -> Outcome:
    """Rebuild from everything in raw/ (or the sample files while raw/ is empty) and publish.

    Holds the publish lock throughout: raw/ is read while no load can add to it."""
    catalog, registry = load_catalog(), load_registry()
    recipes, recipe_issues = load_recipes(base)
    outcome = Outcome()
    pending: list[Callable[[], None]] = []
    try:
        with warehouse.publish_lock(base, on_wait=_waiting(progress)):
            _recover_staging(base)
            files = input_files(raw_dir(base))
            is_sample = not files
            if is_sample:
                files = input_files(sample_dir(base))
                if not files:
                    from .sample import generate

                    progress("生成示例数据", 0, 1)
                    generate(sample_dir(base))
                    files = input_files(sample_dir(base))
            frames, issues, inputs = read_files(
                files, catalog, registry, progress, recipes=recipes, base=base, pending=pending
            )
            outcome = Outcome(
                issues=IssueList(recipe_issues + issues.items), inputs=inputs, is_sample=is_sample
            )
            if not outcome.ok:
                return outcome
            progress("汇总与计算", 0, 1)
            tables, found = assemble(frames, catalog, registry, is_sample=is_sample)
            outcome.issues.extend(found.items)
            outcome.fact_count = len(tables["facts"])
            if not outcome.ok:  # e.g. a derived ratio out of range: nothing is published
                return outcome
            progress("发布", 0, 1)
            published = _publish_if_changed(base, tables, outcome, "build")
            _keep(pending)
            if published:
                _prune_cache(base, catalog, registry, recipes)
    except warehouse.Busy as exc:
        outcome.issues.add(_busy(exc, []))
    except WRITE_ERRORS as exc:
        outcome.version, outcome.changed = None, False
        outcome.issues.add(_write_failed(base, exc, []))
    return outcome


def _read_new(
    base: Path,
    files: list[Path],
    catalog: Catalog,
    registry: Registry,
    progress: Progress,
    region: str | None,
    recipes: Sequence[Recipe],
    recipe: str | None,
    recipe_issues: list[Issue],
    pending: list[Callable[[], None]],
    on_file: Callable[[FileRead], None] | None = None,
) -> tuple[list[pd.DataFrame], IssueList, list[dict]]:
    """The files of one load, each on its own and then against each other (after the
    problems of the recipe files, `recipe_issues`)."""
    frames, issues, inputs = read_files(
        files,
        catalog,
        registry,
        progress,
        region,
        recipes=recipes,
        recipe=recipe,
        base=base,
        pending=pending,
        on_file=on_file,
    )
    issues = IssueList(recipe_issues + issues.items)
    if issues.ok:
        issues.extend(conflicts(frames, catalog, registry))
    return frames, issues, inputs


def _combine(
    base: Path,
    outcome: Outcome,
    new_frames: list[pd.DataFrame],
    catalog: Catalog,
    registry: Registry,
    recipes: Sequence[Recipe],
    pending: list[Callable[[], None]],
) -> tuple[list[dict], dict | None]:
    """The served version's inputs plus the new files (later wins), assembled into `outcome`.

    The served inputs come from the fact cache (`read_files(base=…)`): only a file never read
    with this catalog, registry, recipes and code is read again.
    Returns the new inputs not already served, and the tables to publish (None on errors)."""
    new_inputs = outcome.inputs
    served = _served_inputs(base)
    old_frames, old_issues, old_inputs = read_files(
        list(served), catalog, registry, recipes=recipes, base=base, hashes=served, pending=pending
    )
    known = {i["sha256"] for i in old_inputs}
    fresh = [(f, i) for f, i in zip(new_frames, new_inputs) if i["sha256"] not in known]
    outcome.inputs = old_inputs + [i for _, i in fresh]
    tables, found = assemble(old_frames + [f for f, _ in fresh], catalog, registry, is_sample=False)
    outcome.issues.extend(old_issues.warnings)
    outcome.issues.extend(found.items)
    outcome.fact_count = len(tables["facts"])
    return [i for _, i in fresh], (tables if outcome.ok else None)


@gc_paused()
def check_files(
    base: Path,
    files: list[Path],
    progress: Progress = _quiet,
    region: str | None = None,
    *,
    recipe: str | None = None,
    on_file: Callable[[FileRead], None] | None = None,
) -> tuple[Outcome, list, dict | None]:
    """Validate new files against the current data without writing to the warehouse or raw/
    (and without the lock: `load` checks again under it). What reading the files gave is kept
    in the fact cache (`fact_cache`, written atomically), so the load that follows finds it.
    `on_file` hears of each new file as soon as it is read (its sheets and issues).
    Returns the outcome, the new inputs not already served, and the tables that publishing
    would write (None when there are errors)."""
    catalog, registry = load_catalog(), load_registry()
    recipes, recipe_issues = load_recipes(base)
    pending: list[Callable[[], None]] = []
    new_frames, issues, new_inputs = _read_new(
        base,
        [Path(f) for f in files],
        catalog,
        registry,
        progress,
        region,
        recipes,
        recipe,
        recipe_issues,
        pending,
        on_file,
    )
    outcome = Outcome(issues=issues, inputs=new_inputs)
    if not issues.ok:
        return outcome, [], None
    fresh, tables = _combine(base, outcome, new_frames, catalog, registry, recipes, pending)
    if outcome.ok:
        _keep(pending)
    return outcome, fresh, tables


def published_inputs(base: Path) -> list[Path]:
    """The raw files behind the current version, in load order.

    Not simply everything in raw/: after a rollback, raw/ still holds the files of the newer
    versions, and a following load must build on what is being served, not bring them back.
    Files still in raw/.staging/ (a load that crashed after its publish) count too.
    A sample version has no raw inputs: the first real load replaces the sample data."""
    return list(_served_inputs(base))


def _served_inputs(base: Path) -> dict[Path, str | None]:
    """`published_inputs` with the sha256 each was found by (None where none was needed), so
    `read_files` need not hash them again."""
    current = warehouse.current_version(base)
    if current is None:
        return dict.fromkeys(input_files(raw_dir(base)))
    manifest = warehouse.read_manifest(base, current)
    if manifest.get("is_sample"):
        return {}
    wanted = {i["sha256"] for i in manifest.get("inputs", [])}
    candidates = input_files(raw_dir(base)) + input_files(raw_dir(base) / STAGING)
    hashed = {p: sha256_file(p) for p in candidates}
    return {p: hashed[p] for p in sorted(candidates, key=load_order) if hashed[p] in wanted}


def validate(
    base: Path,
    files: list[Path],
    progress: Progress = _quiet,
    region: str | None = None,
    *,
    recipe: str | None = None,
) -> Outcome:
    return check_files(base, files, progress, region, recipe=recipe)[0]


@gc_paused()
def load(
    base: Path,
    files: list[Path],
    progress: Progress = _quiet,
    *,
    user: str | None = None,
    changes: dict | None = None,
    base_version=ANY,
    region: str | None = None,
    recipe: str | None = None,
) -> Outcome:
    """Validate, then publish the current version's inputs plus these files; keep them in raw/.

    The files are checked on their own first, without the lock; then, holding it, the served
    version's inputs are read, combined with them, published, and the files moved into raw/.
    `base_version` (the version a preview was computed against, 数据管理) refuses the publish
    when another one came in between. While the warehouse still shows sample data, the first
    real load replaces it: sample and real figures are never mixed. `user` and the `changes`
    summary (from the 数据管理 preview) are kept in the version's manifest for the history;
    `region` (the place the user said the files are about) is kept with the files in raw/;
    `recipe` (the name of a saved recipe the user chose) is how these files are read."""
    files = [Path(f) for f in files]
    catalog, registry = load_catalog(), load_registry()
    recipes, recipe_issues = load_recipes(base)
    pending: list[Callable[[], None]] = []
    new_frames, issues, new_inputs = _read_new(
        base, files, catalog, registry, progress, region, recipes, recipe, recipe_issues, pending
    )
    outcome = Outcome(issues=issues, inputs=new_inputs)
    if not issues.ok:
        return outcome
    names = [i["name"] for i in new_inputs]
    try:
        with warehouse.publish_lock(base, on_wait=_waiting(progress)):
            _recover_staging(base)
            served = warehouse.current_version(base)
            if base_version is not ANY and served != base_version:
                outcome.issues.add(
                    error(
                        "busy",
                        f"校验之后数据已被他人更新（当前版本 {served or '无'}），本次未发布。",
                        file="、".join(names),
                        suggestion="请重新上传校验，核对变化后再发布。",
                    )
                )
                return outcome
            fresh, tables = _combine(base, outcome, new_frames, catalog, registry, recipes, pending)
            if tables is None:
                return outcome
            progress("发布", 0, 1)
            details = {"user": user} if user else {}
            if changes is not None:
                details["changes"] = changes
            published = _publish_with_inputs(base, tables, outcome, files, fresh, details)
            if outcome.ok:
                _keep(pending)
            if published:
                _prune_cache(base, catalog, registry, recipes)
    except warehouse.Busy as exc:
        outcome.issues.add(_busy(exc, names))
    except WRITE_ERRORS as exc:
        outcome.version, outcome.changed = None, False
        outcome.issues.add(_write_failed(base, exc, names))
    return outcome


def _publish_with_inputs(
    base: Path,
    tables: dict[str, pd.DataFrame],
    outcome: Outcome,
    files: list[Path],
    fresh: list[dict],
    details: dict,
) -> bool:
    """Stage the new files (fsynced) in raw/.staging/, publish, then move them into raw/.
    True when a new version was published.

    Called with the publish lock held. A failure before the pointer moved removes the staged
    copies (and publish removes its folder); once it moved, the files are kept, in raw/ or —
    should the process die right then — in staging, where the next writer finds them."""
    before = warehouse.current_version(base)
    staging = raw_dir(base) / STAGING
    staged: list[Path] = []
    try:
        by_sha = {}
        for f in files if fresh else []:
            with contextlib.suppress(OSError):  # gone since the check: reported just below
                by_sha[sha256_file(f)] = f
        for item in fresh:
            if item["sha256"] not in by_sha:
                outcome.issues.add(
                    error(
                        "file_unreadable",
                        "文件在导入过程中被修改，本次未发布。",
                        file=item["name"],
                        suggestion="请在文件保存完毕后重新导入。",
                    )
                )
                return False
        staging.mkdir(parents=True, exist_ok=True)
        for item in fresh:
            target = staging / _stored_name(item, item.get("region"))
            staged.append(target)
            shutil.copyfile(by_sha[item["sha256"]], target)
            warehouse.fsync_file(target)
        if staged:
            warehouse.fsync_dir(staging)
        if not _publish_if_changed(base, tables, outcome, "load", **details):
            _unlink(staged)  # nothing new is served: nothing to keep
            return False
    except BaseException:
        if warehouse.current_version(base) == before:
            _unlink(staged)
        raise
    try:
        for path in staged:
            path.replace(raw_dir(base) / path.name)
        if staged:
            warehouse.fsync_dir(raw_dir(base))
    except OSError as exc:  # published; the next writer moves them (_recover_staging)
        log.warning("published %s; moving its inputs into raw/ failed: %s", outcome.version, exc)
    return True


def _keep(pending: list[Callable[[], None]]) -> None:
    """Store the fact-cache entries of what a build, load or check read (`read_files(pending=…)`),
    called once its outcome has no error: a refused one leaves the data dir as it was."""
    for store in pending:
        store()
    pending.clear()


def _prune_cache(base: Path, catalog: Catalog, registry: Registry, recipes: Sequence[Recipe]) -> None:
    """After a publish (lock held): drop the fact cache's entries of files that no kept version
    lists and that are not in raw/ (or sample/), and those of another catalog, registry,
    recipes or code (`fact_cache.FactCache.prune`). Bookkeeping: a failure is only logged."""
    try:
        referenced = {i["sha256"] for m in warehouse.list_versions(base) for i in m.get("inputs", [])}
        files = (
            input_files(raw_dir(base)) + input_files(raw_dir(base) / STAGING) + input_files(sample_dir(base))
        )
        FactCache(base, catalog, registry, recipes).prune(referenced, files)
    except Exception as exc:  # noqa: BLE001 — published already; the cache is only a cache
        log.warning("could not prune the fact cache of %s: %r", base, exc)


def rollback(base: Path, version: str, user: str | None = None, progress: Progress = _quiet) -> str | None:
    """Point CURRENT at an earlier version, as a writer: waits for a build or load in progress
    (so neither undoes it) and first keeps any input a crashed load left in staging.

    Returns the version served before. Raises ValueError (no such version), warehouse.Busy,
    or one of WRITE_ERRORS (see write_failed_message)."""
    with warehouse.publish_lock(base, on_wait=_waiting(progress)):
        _recover_staging(base)
        return warehouse.rollback(base, version, user=user)


def _recover_staging(base: Path) -> None:
    """Finish a load that crashed between its publish and moving its files into raw/.

    Runs with the publish lock held, at the start of every writer. A staged file that some
    complete version lists was published and moves into raw/ (not only the current one: a
    later rollback may have moved CURRENT away from it); any other was never published."""
    staging = raw_dir(base) / STAGING
    if not staging.is_dir():
        return
    leftovers = [p for p in staging.iterdir() if p.is_file()]
    if not leftovers:
        return
    published = {i["sha256"] for m in warehouse.list_versions(base) for i in m.get("inputs", [])}
    for path in leftovers:
        if sha256_file(path) in published:
            path.replace(raw_dir(base) / path.name)
        else:
            path.unlink()
    warehouse.fsync_dir(raw_dir(base))


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
