"""Each input file's resolved facts and issues, kept so a load re-reads only new or changed files.

`pipeline.read_files` reads and resolves every input on its own; what comes out for a file — the
resolved facts (with lineage), the file's issues and its `inputs` entry — depends only on the
file's bytes and on what the reading code is given. So it is stored under a key made of all of
that and fetched instead of read the next time (a one-county load into a national warehouse
re-reads the one new file, not the ~900,000 rows already served):

- the file's sha256, the name shown for it (lineage and messages carry it), the region chosen
  for it (`pipeline._chosen_region`, may be None) and the recipe forced on it (may be None);
- the context every file is read in (`context`): the catalog's and the registry's fingerprints
  (`Catalog.fingerprint`, `Registry.fingerprint`), the default cities (`settings.default_cities`:
  they order suggestions), the recipes' fingerprint (`recipes.fingerprint`), the input limits of
  `sources.py`, the versions of the libraries that parse the files, and `CODE_VERSION`.

**Bump `CODE_VERSION` whenever the reading code changes what it makes of a file** (sources,
readers, resolve, units, text, the messages of their issues): entries written by older code are
then never fetched again (and pruned at the next publish).

An entry is one file `<data-dir>/cache/facts/<sha256>.<context>.<file key>.arrow`: an Arrow IPC
file (a fact's texts are Categoricals, stored as Arrow dictionaries: ~27 bytes a fact, 25 MB for
the national file; pandas' metadata, so the frame comes back with the very dtypes it had —
Categoricals, Arrow-backed `str`, int32 year, float64 value), the issues, the `inputs` entry and
the full key in its schema metadata, followed
by the sha256 of those bytes. It is written to a temporary file and moved into place with
`os.replace` (`pipeline.check_files` runs without the publish lock, so two processes may write
one entry at once: each writes the same bytes); the pipeline stores a run's entries only when
it found no error, so a refused load leaves the data dir as it was. An entry that cannot be
read, whose checksum or key does not match, or whose content is not what was stored is ignored
and recomputed — never trusted, never an error for the user; a failure to write one only costs
the next load a read.

Disk use stays bounded: after every publish (`pipeline`, holding the publish lock) `prune`
removes the entries of files no kept version's manifest lists and no file in raw/ (or sample/)
is, and the entries written in another context (an older catalog, registry, recipes or code).
The whole folder may be deleted at any time; the next load only reads everything again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import sources
from .catalog import Catalog
from .issues import Issue
from .paths import fact_cache_dir
from .recipes import Recipe, fingerprint
from .regions import Registry
from .settings import default_cities
from .sources import sha256_file

# Bump whenever sources/readers/resolve (or what they say in their issues) change what a file
# reads as: entries of an older version are then ignored, and pruned at the next publish.
CODE_VERSION = 4
SUFFIX = ".arrow"
MAGIC = b"MZFACTS1"  # closes every entry, after the sha256 of the Arrow bytes before it
_META = b"fact_cache"
_TMP = ".tmp-"
STALE_TEMP_SECONDS = 3600  # a temporary file this old was left by a writer that died
# What parses a file: a new version may read it differently.
_LIBRARIES = ("pandas", "pyarrow", "numpy", "python-calamine")
# The input limits load_source checks (read from `sources` when a key is made, so a test that
# lowers one sees its files read again).
_LIMITS = (
    "MAX_CELL_CHARS",
    "MAX_COLS",
    "MAX_COMPRESSION_RATIO",
    "MAX_FILE_BYTES",
    "MAX_LISTED_CELLS",
    "MAX_NAME_BYTES",
    "MAX_NAME_CHARS",
    "MAX_ROWS",
    "MAX_SHOWN_CHARS",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_ZIP_MEMBERS",
)

log = logging.getLogger(__name__)


@dataclass
class Entry:
    """What reading one file gave: its resolved facts, its issues (in order) and its `inputs` entry."""

    facts: pd.DataFrame
    issues: list[Issue]
    input: dict


def context(catalog: Catalog, registry: Registry, recipes: Sequence[Recipe] = ()) -> dict:
    """Everything besides the file itself that decides what reading it gives."""
    return {
        "code_version": CODE_VERSION,
        "catalog": catalog.fingerprint(),
        "registry": registry.fingerprint(),
        "default_cities": list(default_cities()),
        "recipes": fingerprint(recipes),
        "limits": {name: getattr(sources, name) for name in _LIMITS},
        "libraries": {name: _version(name) for name in _LIBRARIES},
    }


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


class FactCache:
    """The entries of one data dir, for the files read in one context (`context`)."""

    def __init__(self, base: Path, catalog: Catalog, registry: Registry, recipes: Sequence[Recipe] = ()):
        self.folder = fact_cache_dir(base)
        self.context = context(catalog, registry, recipes)
        self.context_digest = _digest(self.context)[:16]

    # ------------------------------------------------------------------ keys
    def _key(self, sha256: str, name: str, region: str | None, forced: str | None) -> dict:
        return {"sha256": sha256, "name": name, "region": region, "forced": forced, "context": self.context}

    def path(self, sha256: str, name: str, region: str | None, forced: str | None) -> Path:
        own = _digest({"name": name, "region": region, "forced": forced})[:16]
        return self.folder / f"{sha256}.{self.context_digest}.{own}{SUFFIX}"

    # ------------------------------------------------------------------ fetch
    def fetch(
        self, path: Path, name: str, region: str | None, forced: str | None = None, sha256: str | None = None
    ) -> tuple[str, Entry] | None:
        """The stored entry for the input file at `path` as it is now (hashed here, unless the
        caller has just hashed it: `sha256`), or None.

        Returns (the file's sha256, the entry). Never raises for a missing, unreadable,
        corrupt or foreign entry (None: the caller reads the file); an unreadable input file
        is None too (the caller's `load_source` reports it)."""
        if not self.folder.is_dir():
            return None
        try:
            sha256 = sha256 or sha256_file(path)
        except OSError:
            return None
        entry_path = self.path(sha256, name, region, forced)
        try:
            data = entry_path.read_bytes()
        except OSError:
            return None
        try:
            entry = _decode(data, self._key(sha256, name, region, forced))
        except Exception as exc:  # anything wrong with an entry means: read the file instead
            log.warning("ignoring unreadable fact cache entry %s: %r", entry_path.name, exc)
            return None
        return sha256, entry

    # ------------------------------------------------------------------ store
    def store(self, sha256: str, name: str, region: str | None, forced: str | None, entry: Entry) -> None:
        """Keep `entry` for the file `sha256` read as `name` with `region` and `forced`.

        Atomic (temporary file, then os.replace); a failure is logged, never raised."""
        target = self.path(sha256, name, region, forced)
        tmp = None
        try:
            data = _encode(entry, self._key(sha256, name, region, forced))
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TMP, dir=self.folder)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
            tmp = None
        except Exception as exc:  # a cache that cannot be written only costs a later read
            log.warning("could not keep the resolved facts of %s in the cache: %r", name, exc)
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    # ------------------------------------------------------------------ prune
    def prune(self, referenced: set[str], inputs: Iterable[Path] = ()) -> int:
        """Remove the entries of files not in `referenced` (the sha256s that kept versions'
        manifests list) nor among `inputs` (the files in raw/ and sample/, hashed only when
        an entry would otherwise go), the entries of another context, and temporary files
        left by writers that died. Returns how many entries were removed.

        Called after a publish with the publish lock held; a concurrent `check_files` may
        still write an entry meanwhile (it is found or pruned the next time)."""
        if not self.folder.is_dir():
            return 0
        now = time.time()
        doomed: list[Path] = []
        unreferenced: dict[str, list[Path]] = {}
        for path in self.folder.iterdir():
            if path.name.startswith(_TMP):
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                        path.unlink()
                continue
            parts = path.name.split(".")
            if len(parts) != 4 or "." + parts[3] != SUFFIX:
                continue  # not ours
            sha256, context_digest = parts[0], parts[1]
            if context_digest != self.context_digest:
                doomed.append(path)
            elif sha256 not in referenced:
                unreferenced.setdefault(sha256, []).append(path)
        if unreferenced:
            for path in inputs:
                with contextlib.suppress(OSError):
                    unreferenced.pop(sha256_file(path), None)
                if not unreferenced:
                    break
        doomed += [p for paths in unreferenced.values() for p in paths]
        removed = 0
        for path in doomed:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed


# ---------------------------------------------------------------------- the entry's bytes
def _encode(entry: Entry, key: dict) -> bytes:
    """Arrow IPC bytes of the facts (a Categorical as an Arrow dictionary, as it is) with the
    key, issues and inputs entry in the schema metadata, then their sha256 and MAGIC."""
    table = pa.Table.from_pandas(entry.facts, preserve_index=None)
    metadata = dict(table.schema.metadata or {})  # pandas' own: the dtypes to come back as
    meta = {
        "key": key,
        "issues": [dataclasses.asdict(i) for i in entry.issues],
        "input": entry.input,
        # Arrow gives a Categorical's texts back as `str` categories: these had object ones
        "object_categories": [
            str(name)
            for name, dtype in entry.facts.dtypes.items()
            if isinstance(dtype, pd.CategoricalDtype) and dtype.categories.dtype == object
        ],
        "rows": len(entry.facts),
    }
    metadata[_META] = json.dumps(meta, ensure_ascii=False, default=_plain).encode("utf-8")
    table = table.replace_schema_metadata(metadata)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes()
    return data + hashlib.sha256(data).digest() + MAGIC


def _plain(value):
    """JSON for numpy scalars an issue or inputs entry may carry."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _decode(data: bytes, key: dict) -> Entry:
    """The entry in `data`; raises ValueError (or Arrow's errors) unless it is intact and is
    the entry of exactly `key`."""
    trailer = 32 + len(MAGIC)
    if len(data) < trailer or not data.endswith(MAGIC):
        raise ValueError("truncated")
    view = memoryview(data)
    body, digest = view[:-trailer], view[-trailer : -len(MAGIC)]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError("checksum")
    table = pa.ipc.open_file(pa.py_buffer(body)).read_all()
    metadata = table.schema.metadata
    meta = json.loads(metadata[_META])
    if meta["key"] != json.loads(json.dumps(key, ensure_ascii=False)):
        raise ValueError("another key")
    facts = table.to_pandas()
    for name in meta["object_categories"]:
        column = facts[name]
        categories = pd.Index(np.asarray(column.cat.categories, dtype=object), dtype=object)
        facts[name] = pd.Categorical.from_codes(
            column.cat.codes.to_numpy(), dtype=pd.CategoricalDtype(categories, column.cat.ordered)
        )
    if len(facts) != meta["rows"]:
        raise ValueError("rows")
    issues = [Issue(**fields) for fields in meta["issues"]]
    entry_input = meta["input"]
    if entry_input.get("sha256") != key["sha256"]:
        raise ValueError("inputs entry")
    return Entry(facts, issues, entry_input)
