"""Build, load and validate: the one path every input takes from files to a published version.

    read (sources + readers) → resolve → combine (later file wins) → validate → derive → publish

`load` checks the new files on their own first and writes nothing when any of them has an
error. New files are staged in `raw/.staging/` and moved into `raw/` only after the publish,
so the raw folder and the current version never disagree about what was loaded.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from . import warehouse
from .catalog import Catalog, load_catalog
from .derive import derive
from .issues import IssueList
from .paths import raw_dir, sample_dir
from .published import load_published
from .readers import read_source
from .regions import Registry, default_cities, load_registry
from .resolve import FACT_KEY, LINEAGE_COLUMNS, resolve
from .sources import load_source, sha256_file
from .validate import check

INPUT_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}
Progress = Callable[[str, int, int], None]


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
    """Input files of a folder in load order (file-name order; `load` names files by time)."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES and not p.name.startswith((".", "~$")))


def read_files(paths: Iterable[Path], catalog: Catalog, registry: Registry,
               progress: Progress = _quiet) -> tuple[list[pd.DataFrame], IssueList, list[dict]]:
    """Read and resolve each file on its own (a file's errors never depend on other files)."""
    paths = list(paths)
    frames, issues, inputs = [], IssueList(), []
    seen: set[str] = set()
    scope = default_cities()
    for n, path in enumerate(paths):
        progress("读取文件", n, len(paths))
        source, problems = load_source(path, display_name=_display_name(path))
        issues.extend(problems)
        if source is None:
            continue
        if source.sha256 in seen:
            continue  # the same file twice adds nothing
        seen.add(source.sha256)
        raw, problems = read_source(source)
        issues.extend(problems)
        facts, problems = resolve(raw, catalog, registry, default_scope=scope)
        issues.extend(problems)
        frames.append(facts)
        inputs.append({"name": source.name, "sha256": source.sha256, "facts": int(len(facts))})
    progress("读取文件", len(paths), len(paths))
    return frames, issues, inputs


def _display_name(path: Path) -> str:
    """Files in raw/ carry a '<time>_<sha8>_' prefix; messages show the clerk's own file name."""
    parts = path.name.split("_", 2)
    if len(parts) == 3 and len(parts[1]) == 8 and parts[0][:8].isdigit():
        return parts[2]
    return path.name


def assemble(frames: list[pd.DataFrame], catalog: Catalog, registry: Registry, *, is_sample: bool
             ) -> tuple[dict[str, pd.DataFrame], IssueList]:
    """Combine resolved files (later wins), check, derive, and lay out the warehouse tables."""
    issues = IssueList()
    reported = (pd.concat(frames, ignore_index=True) if frames
                else pd.DataFrame(columns=FACT_KEY + ["value"] + LINEAGE_COLUMNS))
    reported = reported.drop_duplicates(FACT_KEY, keep="last").reset_index(drop=True)
    reported = reported.astype({"year": "int32", "value": "float64"})
    issues.extend(check(reported, catalog, registry))
    facts, found = derive(reported, catalog, registry)
    issues.extend(found)
    facts = facts.assign(is_sample=is_sample)
    lineage = reported[FACT_KEY + LINEAGE_COLUMNS]
    issue_rows = pd.DataFrame([vars(i) for i in issues.items],
                              columns=["severity", "code", "message", "file", "sheet", "row", "column",
                                       "value", "suggestion"]).astype({"row": "Int64"})
    tables = {
        "regions": registry.frame(),
        "region_aliases": registry.aliases_frame(),
        "categories": catalog.categories_frame(),
        "indicators": catalog.frame(),
        "targets": catalog.targets_frame(),
        "facts": facts[FACT_KEY + ["value", "origin", "is_sample"]],
        "lineage": lineage,
        "issues": issue_rows,
        "published": load_published(catalog, registry),
        # Pre-aggregated for pages that list what has data (a scan of every fact otherwise).
        "region_coverage": _region_coverage(facts, registry),
        "region_years": _view_years(facts, registry),
        "indicator_coverage": facts.groupby("indicator_id", as_index=False).agg(
            regions=("region_code", "nunique"), first_year=("year", "min"), last_year=("year", "max")),
        "meta": pd.DataFrame({"key": ["is_sample", "default_cities"],
                              "value": ["true" if is_sample else "false", ",".join(default_cities())]}),
    }
    return tables, issues


def _view_years(facts: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Per region: the years with data of it or of any of its children (a city's view shows its
    counties too), sorted — the year choices of its filters, read with one point look-up."""
    own = facts[["region_code", "year"]].drop_duplicates()
    parents = registry.frame().set_index("code")["parent_code"]
    of_children = own.assign(region_code=own["region_code"].map(parents))
    of_children = of_children[of_children["region_code"].notna() & (of_children["region_code"] != "")]
    return (pd.concat([own, of_children]).drop_duplicates().sort_values(["region_code", "year"], ignore_index=True)
            .astype({"year": "int32"}))


def _region_coverage(facts: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Per region with data, in code order: its name, level and parent (so listing cities or
    regions with data needs no join), first and last year, and how many facts."""
    counts = facts.groupby("region_code", as_index=False).agg(
        first_year=("year", "min"), last_year=("year", "max"), facts=("value", "size"))
    names = registry.frame()[["code", "name", "level", "parent_code"]].rename(columns={"code": "region_code"})
    return counts.merge(names, on="region_code", how="left")[
        ["region_code", "name", "level", "parent_code", "first_year", "last_year", "facts"]]


def _publish_if_changed(base: Path, tables: dict[str, pd.DataFrame], outcome: Outcome, command: str,
                        **details) -> None:
    digest = warehouse.content_hash(tables)
    current = warehouse.current_version(base)
    if (current and warehouse.read_manifest(base, current).get("content_hash") == digest
            and warehouse.is_current_schema(base, current)):
        outcome.version, outcome.changed = current, False
        return
    manifest = {"command": command, "inputs": outcome.inputs, "is_sample": outcome.is_sample,
                "content_hash": digest, "warnings": len(outcome.issues.warnings), **details}
    outcome.version = warehouse.publish(base, tables, manifest)
    outcome.changed = True


@gc_paused()
def build(base: Path, progress: Progress = _quiet) -> Outcome:
    """Rebuild from everything in raw/ (or the sample files while raw/ is empty) and publish."""
    catalog, registry = load_catalog(), load_registry()
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
    frames, issues, inputs = read_files(files, catalog, registry, progress)
    outcome = Outcome(issues=issues, inputs=inputs, is_sample=is_sample)
    if not issues.ok:
        return outcome
    progress("汇总与计算", 0, 1)
    tables, found = assemble(frames, catalog, registry, is_sample=is_sample)
    outcome.issues.extend(found.items)
    outcome.fact_count = len(tables["facts"])
    progress("发布", 0, 1)
    _publish_if_changed(base, tables, outcome, "build")
    return outcome


@gc_paused()
def check_files(base: Path, files: list[Path], progress: Progress = _quiet) -> tuple[Outcome, list, dict | None]:
    """Validate new files against the current data without writing anything.

    Returns the outcome, the resolved frames of existing + new inputs, and the tables
    that publishing would write (None when there are errors)."""
    catalog, registry = load_catalog(), load_registry()
    new_frames, issues, new_inputs = read_files(files, catalog, registry, progress)
    outcome = Outcome(issues=issues, inputs=new_inputs)
    if not issues.ok:
        return outcome, [], None
    existing = published_inputs(base)
    old_frames, old_issues, old_inputs = read_files(existing, catalog, registry)
    known = {i["sha256"] for i in old_inputs}
    fresh = [(f, i) for f, i in zip(new_frames, new_inputs) if i["sha256"] not in known]
    frames = old_frames + [f for f, _ in fresh]
    outcome.inputs = old_inputs + [i for _, i in fresh]
    tables, found = assemble(frames, catalog, registry, is_sample=False)
    outcome.issues.extend(old_issues.warnings)
    outcome.issues.extend(found.items)
    outcome.fact_count = len(tables["facts"])
    return outcome, [i for _, i in fresh], tables


def published_inputs(base: Path) -> list[Path]:
    """The raw files behind the current version, in load order.

    Not simply everything in raw/: after a rollback, raw/ still holds the files of the newer
    versions, and a following load must build on what is being served, not bring them back.
    A sample version has no raw inputs: the first real load replaces the sample data."""
    current = warehouse.current_version(base)
    if current is None:
        return input_files(raw_dir(base))
    manifest = warehouse.read_manifest(base, current)
    if manifest.get("is_sample"):
        return []
    wanted = {i["sha256"] for i in manifest.get("inputs", [])}
    return [p for p in input_files(raw_dir(base)) if sha256_file(p) in wanted]


def validate(base: Path, files: list[Path], progress: Progress = _quiet) -> Outcome:
    return check_files(base, files, progress)[0]


def load(base: Path, files: list[Path], progress: Progress = _quiet, *, user: str | None = None,
         changes: dict | None = None) -> Outcome:
    """Validate, then publish the current version's inputs plus these files; copy them into raw/.

    While the warehouse still shows sample data, the first real load replaces it: sample
    and real figures are never mixed. `user` and the `changes` summary (from the 数据管理
    preview) are kept in the version's manifest for the history."""
    files = [Path(f) for f in files]
    outcome, fresh, tables = check_files(base, files, progress)
    if tables is None:
        return outcome
    staging = raw_dir(base) / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    by_sha = {sha256_file(f): f for f in files}
    staged = []
    for item in fresh:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        target = staging / f"{stamp}_{item['sha256'][:8]}_{Path(item['name']).name}"
        shutil.copyfile(by_sha[item["sha256"]], target)
        staged.append(target)
    progress("发布", 0, 1)
    details = {"user": user} if user else {}
    if changes is not None:
        details["changes"] = changes
    _publish_if_changed(base, tables, outcome, "load", **details)
    for path in staged:
        path.replace(raw_dir(base) / path.name)
    return outcome


def _recover_staging(base: Path) -> None:
    """Finish a load that crashed between publish and moving its files into raw/."""
    staging = raw_dir(base) / ".staging"
    if not staging.exists():
        return
    current = warehouse.current_version(base)
    published = {i["sha256"] for i in warehouse.read_manifest(base, current).get("inputs", [])} if current else set()
    for path in staging.iterdir():
        if sha256_file(path) in published:
            path.replace(raw_dir(base) / path.name)
        else:
            path.unlink()
