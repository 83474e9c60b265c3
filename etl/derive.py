"""Aggregation to cities and provinces, and ratios from summed parts, driven by the catalog.

Rules (DESIGN §3): a parent row exists only where every child (county, city, or province for
the national total 100000 全国) has a value, so a city total never silently omits a county; a
reported total wins over the aggregate, and a difference above 1 % is a warning; ratios are
always computed from the summed parts at each level — never as a mean of the children's ratios.

The work runs on integer codes (`FactGrid`): a national build has a million facts, and joins
on three text keys cost seconds where array look-ups on a dense (region, year, indicator) grid
cost milliseconds. Sums use pandas' grouped (compensated) sum over the children in the facts'
order, as grouping by the text keys did, so every value is bit-for-bit the same; only the
rows a message names are turned back into texts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .catalog import Catalog
from .issues import Issue, error, fact_location, warning
from .regions import NATION, NATION_NAME, Registry, with_nation

TOLERANCE = 0.01
# children summed into their parents: counties → cities → provinces → the nation (100000 全国)
_LEVEL_STEPS = ("county", "city", "province")
_LEVELS = {"county": 0, "city": 1, "province": 2, "nation": 3}
ORIGINS = ("reported", "aggregated", "derived")
_ABSENT = -1


class Cells(NamedTuple):
    """Facts as parallel arrays of grid positions (region, year, indicator) and values, in an
    order that matters (the facts' order, or the order computed rows are produced in)."""

    r: np.ndarray
    y: np.ndarray
    i: np.ndarray
    value: np.ndarray

    def pick(self, mask: np.ndarray) -> Cells:
        """The selected rows, in their order."""
        return Cells(*(a[mask] for a in self))


class FactGrid:
    """Facts on a dense grid over (region, year, indicator), with each axis in sort order.

    Axes: the registry's codes plus any other code in the facts, sorted as text; the distinct
    years, ascending; the catalog's ids plus any other id in the facts, sorted as text. A cell's
    position therefore orders facts exactly as sorting by the texts does, so the final frame
    needs no sort, and "is this fact there" is an array look-up instead of a join on text keys.
    `rows` keeps the facts in their order (the reported frame's, then computed rows as added):
    sums run over children in that order. `source` is the reported row of a cell (−1 for computed
    ones), for the file/sheet/row/column of a message. Size: regions × years × indicators
    (3,350 × 10 × 37 cells, ~25 MB, for ten years of every county).
    """

    def __init__(self, reported: pd.DataFrame, catalog: Catalog, registry: Registry):
        self.reported = reported
        regions = with_nation(registry.frame())
        r_codes, r_found = pd.factorize(reported["region_code"])
        i_codes, i_found = pd.factorize(reported["indicator_id"])
        self.codes = np.array(sorted(set(regions["code"]) | set(r_found)), dtype=object)
        self.ids = np.array(sorted(set(catalog.indicators) | set(i_found)), dtype=object)
        year = reported["year"].to_numpy(dtype=np.int64)
        self.years = np.unique(year)
        nr, ny, ni = len(self.codes), len(self.years), len(self.ids)

        at = pd.Index(self.codes)
        placed = at.get_indexer(regions["code"])
        self.level = np.full(nr, _ABSENT, np.int8)
        self.level[placed] = regions["level"].map(_LEVELS).fillna(_ABSENT).to_numpy(np.int8)
        self.parent = np.full(nr, _ABSENT, np.int64)
        self.parent[placed] = at.get_indexer(regions["parent_code"].fillna(""))
        self.core = np.zeros(nr, bool)  # in the registry and not a zone (开发区 etc.)
        self.core[placed] = (regions["kind"] != "zone").to_numpy()

        r = at.get_indexer(r_found)[r_codes] if len(r_found) else np.zeros(0, np.int64)
        i = pd.Index(self.ids).get_indexer(i_found)[i_codes] if len(i_found) else np.zeros(0, np.int64)
        y = np.searchsorted(self.years, year)
        self._chunks = [Cells(r, y, i, reported["value"].to_numpy(dtype=np.float64))]
        self.value = np.full((nr, ny, ni), np.nan)
        self.origin = np.full((nr, ny, ni), _ABSENT, np.int8)
        self.source = np.full((nr, ny, ni), _ABSENT, np.int64)
        self.value[r, y, i] = self._chunks[0].value
        self.origin[r, y, i] = 0
        self.source[r, y, i] = np.arange(len(reported))
        if np.count_nonzero(self.origin >= 0) != len(reported):
            raise ValueError("facts must have one row per (region_code, year, indicator_id)")

    def index(self, ids) -> np.ndarray:
        """Positions of indicator ids on the indicator axis (ids known to the grid)."""
        return np.searchsorted(self.ids, np.array(list(ids), dtype=object)).astype(np.int64)

    def present(self, cells: Cells) -> np.ndarray:
        """Which cells hold a fact (reported or computed so far)."""
        return self.origin[cells.r, cells.y, cells.i] >= 0

    @property
    def rows(self) -> Cells:
        """Every fact, in the facts' order."""
        if len(self._chunks) > 1:
            self._chunks = [Cells(*(np.concatenate(a) for a in zip(*self._chunks)))]
        return self._chunks[0]

    def add(self, cells: Cells, origin: str) -> None:
        """Append computed facts (after the existing ones, in their order)."""
        self.value[cells.r, cells.y, cells.i] = cells.value
        self.origin[cells.r, cells.y, cells.i] = ORIGINS.index(origin)
        self._chunks.append(cells)

    def locations(self, r: np.ndarray, y: np.ndarray, i: np.ndarray) -> list[dict]:
        """Where each fact was read (blanks for a computed one); the reported rows are fetched in
        one go, since a message list can name hundreds."""
        source = self.source[r, y, i]
        read = iter(self.reported.iloc[source[source >= 0]].itertuples())
        return [fact_location(next(read) if k >= 0 else None) for k in source]

    def frame(self) -> pd.DataFrame:
        """All facts sorted by region_code, indicator_id, year — the order the warehouse stores
        them in (`warehouse._storage_order` then has nothing to move): the key, value, origin;
        the texts as Categoricals of the grid's own labels (a code per fact, which the warehouse
        writes as Arrow dictionaries as they are, instead of a million texts made here and
        numbered again there)."""
        ny, ni = self.origin.shape[1:]
        by_indicator = self.origin.transpose(0, 2, 1).ravel()  # (region, indicator, year)
        flat = np.flatnonzero(by_indicator >= 0)
        r, rest = np.divmod(flat, ni * ny)
        i, y = np.divmod(rest, ny)
        return pd.DataFrame(
            {
                "region_code": _labels(self.codes, r),
                "year": self.years[y].astype(np.int32),
                "indicator_id": _labels(self.ids, i),
                "value": self.value[r, y, i],
                "origin": _labels(ORIGINS, by_indicator[flat]),
            }
        )


def _labels(labels, codes: np.ndarray) -> pd.Categorical:
    """labels[codes] (distinct labels) as a Categorical of texts."""
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(list(labels), dtype="str")))


def derive(
    reported: pd.DataFrame | FactGrid, catalog: Catalog, registry: Registry
) -> tuple[pd.DataFrame, list[Issue]]:
    """`reported` has region_code, year, indicator_id, value (+ lineage columns), one row per
    (region_code, year, indicator_id); returns all facts (those columns but lineage, and `origin`)
    sorted by region_code, year, indicator_id, and the issues found. `reported` may be the
    facts' grid already, once validation has read it (a build lays out ~900,000 facts once, not
    twice); derive adds to it."""
    grid = reported if isinstance(reported, FactGrid) else FactGrid(reported, catalog, registry)
    issues: list[Issue] = []
    sums = grid.index(i.id for i in catalog.indicators.values() if i.agg == "sum")
    means = [i for i in catalog.indicators.values() if i.agg == "weighted_mean"]
    for child_level in _LEVEL_STEPS:
        rows = grid.rows
        children = rows.pick(grid.level[rows.r] == _LEVELS[child_level])
        expected = _expected_children(grid, child_level)
        parts = [_aggregate_sums(grid, children, sums, expected)]
        parts += [_aggregate_weighted(grid, children, ind.id, ind.weight, expected) for ind in means]
        computed = Cells(*(np.concatenate(a) for a in zip(*parts)))
        issues += _merge_parent(grid, computed, "aggregated", catalog, registry)
    for ind in catalog.indicators.values():
        if ind.agg == "ratio":
            issues += _merge_parent(grid, _ratio(grid, ind), "derived", catalog, registry)
    return grid.frame(), issues


def _expected_children(grid: FactGrid, level: str) -> np.ndarray:
    """Children a parent must have values for: every non-zone child (zones count when present).
    Per region of the grid; 0 where a region has no such child (it then never gets a total)."""
    core = (grid.level == _LEVELS[level]) & grid.core
    return np.bincount(grid.parent[core], minlength=len(grid.codes))


def _complete(parent: np.ndarray, n: np.ndarray, expected: np.ndarray) -> np.ndarray:
    need = expected[parent]
    return (n == need) & (need > 0)


def _grouped_sums(key: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per distinct key (ascending): the sum of each column over its rows. pandas' grouped sum
    (compensated, in row order) — the same values the text-keyed group-by gave."""
    return pd.DataFrame(columns).groupby(key, sort=True).sum()


def _aggregate_sums(grid: FactGrid, children: Cells, sums: np.ndarray, expected: np.ndarray) -> Cells:
    rows = children.pick(np.isin(children.i, sums))
    ny, ni = len(grid.years), len(grid.ids)
    grouped = _grouped_sums(
        (grid.parent[rows.r] * ny + rows.y) * ni + rows.i,
        {"value": rows.value, "n": grid.core[rows.r].astype(np.int64)},
    )
    parent, rest = np.divmod(grouped.index.to_numpy(), ny * ni)
    done = _complete(parent, grouped["n"].to_numpy(), expected)
    year, ind = np.divmod(rest[done], ni)
    return Cells(parent[done], year, ind, grouped["value"].to_numpy()[done])


def _aggregate_weighted(
    grid: FactGrid, children: Cells, ind_id: str, weight_id: str, expected: np.ndarray
) -> Cells:
    """Mean of a rate (e.g. 低保标准) weighted by its base (recipients), over complete parents."""
    ind, weight = grid.index([ind_id, weight_id])
    rows = children.pick(children.i == ind)
    rows = rows.pick(grid.origin[rows.r, rows.y, weight] >= 0)  # the rows that have a weight
    w = grid.value[rows.r, rows.y, weight]
    ny = len(grid.years)
    grouped = _grouped_sums(
        grid.parent[rows.r] * ny + rows.y,
        {"vw": rows.value * w, "w": w, "n": grid.core[rows.r].astype(np.int64)},
    )
    parent, year = np.divmod(grouped.index.to_numpy(), ny)
    total = grouped["w"].to_numpy()
    done = _complete(parent, grouped["n"].to_numpy(), expected) & (total > 0)
    with np.errstate(over="ignore", under="ignore"):  # absurd parts: refused by `_out_of_range`
        value = grouped["vw"].to_numpy()[done] / total[done]
    return Cells(parent[done], year[done], np.full(np.count_nonzero(done), ind), value)


def _ratio(grid: FactGrid, ind) -> Cells:
    """sum(numerator parts) / sum(denominator parts) × scale wherever every part has a value."""
    parts = grid.index(dict.fromkeys(ind.numerator + ind.denominator))
    complete = ~np.isnan(grid.value[:, :, parts]).any(axis=2)
    r, y = np.nonzero(complete)
    num = _sum_of(grid, r, y, grid.index(ind.numerator))
    den = _sum_of(grid, r, y, grid.index(ind.denominator))
    ok = den > 0
    with np.errstate(over="ignore", under="ignore"):  # absurd parts: refused by `_out_of_range`
        value = num[ok] / den[ok] * ind.scale
    return Cells(r[ok], y[ok], np.full(np.count_nonzero(ok), grid.index([ind.id])[0]), value)


def _sum_of(grid: FactGrid, r: np.ndarray, y: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """The parts' values added left to right, as the formula lists them."""
    total = grid.value[r, y, parts[0]]
    for part in parts[1:]:
        total = total + grid.value[r, y, part]
    return total


def _name(registry: Registry, code: str) -> str:
    return NATION_NAME if code == NATION else registry.name(code)


def _merge_parent(
    grid: FactGrid, computed: Cells, origin: str, catalog: Catalog, registry: Registry
) -> list[Issue]:
    """Add computed rows where nothing is reported; where a reported value exists it wins,
    and a difference above 1 % becomes a warning pointing at the reported cell. A computed value
    beyond the catalog's range is an error, as a reported one would be (`_out_of_range`)."""
    computed, refused = _out_of_range(grid, computed, origin, catalog, registry)
    have = grid.present(computed)
    clash = computed.pick(have)
    have_value = grid.value[clash.r, clash.y, clash.i]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(have_value - clash.value) / np.where(clash.value != 0, np.abs(clash.value), np.nan)
    issues = []
    code = "ratio_mismatch" if origin == "derived" else "total_mismatch"
    what = "按分项计算" if origin == "derived" else "各区县合计"
    listed = np.flatnonzero(rel > TOLERANCE)[:500]
    where = grid.locations(clash.r[listed], clash.y[listed], clash.i[listed])
    for k, at in zip(listed, where):
        r, y, i, value, reported = clash.r[k], clash.y[k], clash.i[k], clash.value[k], have_value[k]
        ind = catalog.get(grid.ids[i])
        issues.append(
            warning(
                code,
                f"{_name(registry, grid.codes[r])}{grid.years[y]}年“{ind.name_zh}”上报值 {reported:,.6g} 与"
                f"{what} {value:,.6g} 相差 {abs(reported - value) / abs(value):.1%}，采用上报值。",
                value=f"{reported:g}",
                suggestion="请核对上报总数或区县数据。",
                **at,
            )
        )
    grid.add(computed.pick(~have), origin)
    return refused + issues


def _out_of_range(
    grid: FactGrid, computed: Cells, origin: str, catalog: Catalog, registry: Registry
) -> tuple[Cells, list[Issue]]:
    """Computed rows that are negative, not finite or above the indicator's ceiling are errors
    naming the parts they came from (absurd parts — a 60+ population of 1e-300 — make an absurd
    ratio, 1e305 beds per 1,000 elderly, that must not be stored); the rest are returned."""
    ceilings = np.array(
        [
            np.inf
            if (ind := catalog.indicators.get(i)) is None or ind.max_value is None
            else float(ind.max_value)
            for i in grid.ids
        ]
    )
    values = computed.value
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values > ceilings[computed.i])
    listed, shown, first = np.flatnonzero(bad)[:200], [], []
    for k in listed:
        r, y, i = computed.r[k], computed.y[k], computed.i[k]
        ind = catalog.get(grid.ids[i])
        parts = (
            list(dict.fromkeys(ind.numerator + ind.denominator))
            if origin == "derived"
            else [c for c in grid.codes[grid.parent == r]]
        )
        texts, cells = [], []
        for part in parts:
            cell = (
                (r, y, grid.index([part])[0])
                if origin == "derived"
                else (int(np.searchsorted(grid.codes, part)), y, i)
            )
            if grid.origin[cell] < 0:
                continue
            label = catalog.get(part).name_zh if origin == "derived" else registry.name(part)
            part_unit = catalog.get(part).unit if origin == "derived" else ind.unit
            texts.append(f"{label} {grid.value[cell]:g}{part_unit}")
            cells.append(cell)
        shown.append(texts)
        first.append(cells[0] if cells else None)  # the message points at the first part found
    found = [c for c in first if c is not None]
    where = iter(grid.locations(*(np.array(a, dtype=np.int64) for a in zip(*found))) if found else [])
    issues = []
    for k, texts, cell in zip(listed, shown, first):
        r, y, value = computed.r[k], computed.y[k], computed.value[k]
        ind = catalog.get(grid.ids[computed.i[k]])
        how = "由" + "、".join(texts[:6]) + "算得" if texts else "算得"
        unit = ind.display_unit or ind.unit
        issues.append(
            error(
                "out_of_range",
                f"{_name(registry, grid.codes[r])}{grid.years[y]}年“{ind.name_zh}”{how} {value:g}{unit}，"
                f"超出合理范围（0～{ind.max_value:g}{unit}）。",
                value=f"{value:g}",
                suggestion="请核对这些分项的数值和单位（例如人口是否误填为万人、是否多填或少填了位数）。",
                **(next(where) if cell is not None else {}),
            )
        )
    return computed.pick(~bad), issues
