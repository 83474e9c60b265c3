"""Every query the pages issue, timed on the national warehouse, beside a pandas baseline.

The queries are not listed by hand: each page runs once under AppTest with `store.query` and
`store.column` wrapped, which records the SQL, its parameters and the store function that
asked. Each recorded query then runs uncached on a cursor of the store's own connection setup,
fetched as the store fetches it (a DataFrame, or a column of Python values) — p50/p95 of `runs`
executions. The
baseline answers the same question with pandas from the whole facts and regions tables held
in memory — what the dashboard would do without a database; answers are checked equal.
"""

from __future__ import annotations

import inspect
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from etl import warehouse

from .sessions import BAOJI, open_page

PAGES = [
    "overview",
    "social_relief",
    "elderly_care",
    "charity",
    "social_work",
    "compare",
    "query",
    "catalog",
    "present",
]


def record_queries(data_dir: Path, pages: list[str] = PAGES) -> list[dict]:
    """Run every page once (宝鸡市, default filters) and collect its distinct queries."""
    from dashboard import store

    seen: dict[tuple, dict] = {}
    page_now = {"name": ""}

    def recorded(run, fetch: str):
        """`run` (store.query or store.column), noting each question and who asked it."""

        def call(sql: str, params: tuple = ()):
            frame = sys._getframe(1)
            function = getattr(store, frame.f_code.co_name, None)
            # the store function's own arguments (`_facts` for `facts`): what the baseline answers
            args = (
                {name: frame.f_locals[name] for name in inspect.signature(function).parameters}
                if callable(function)
                else {}
            )
            entry = seen.setdefault(
                (sql, tuple(params)),
                {
                    "sql": sql,
                    "params": tuple(params),
                    "fetch": fetch,
                    "caller": frame.f_code.co_name.lstrip("_"),
                    "args": args,
                    "pages": set(),
                },
            )
            entry["pages"].add(page_now["name"])
            return run(sql, params)

        return call

    originals = store.query, store.column
    store.query, store.column = recorded(store.query, "frame"), recorded(store.column, "column")

    def switch_to(page: str) -> None:
        store.clear_caches()  # answers are cached: so each page asks its own questions
        page_now["name"] = page

    try:
        for page in pages:
            switch_to("overview")  # every session opens on 总览
            open_page(data_dir, page, {"city": BAOJI}, on_overview=lambda page=page: switch_to(page))
    finally:
        store.query, store.column = originals
    return list(seen.values())


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def time_queries(data_dir: Path, queries: list[dict], runs: int = 30) -> list[dict]:
    """p50/p95 in ms of each query on an uncached read-only cursor; and the pandas baseline."""
    from dashboard import store

    con = store.connect(str(warehouse.current_db(data_dir)))  # as the pages query
    tables = {
        name: con.execute(f"SELECT * FROM {name}").df()
        for name in ("facts", "regions", "meta", "targets", "categories")
    }
    baseline = Baseline(tables)
    out = []
    for q in queries:
        times = []
        for _ in range(runs):
            cursor = con.cursor()
            start = time.perf_counter()
            result = cursor.execute(q["sql"], list(q["params"]))
            answer = result.df() if q["fetch"] == "frame" else [row[0] for row in result.fetchall()]
            times.append((time.perf_counter() - start) * 1000)
            if q["fetch"] == "column":  # as a frame, to check it against the baseline
                answer = pd.DataFrame({cursor.description[0][0]: answer})
            cursor.close()
        row = {**q, "rows": len(answer), "p50": statistics.median(times), "p95": _percentile(times, 95)}
        method = getattr(baseline, q["caller"], None)
        if method is not None:
            btimes = []
            for _ in range(max(3, runs // 5)):
                start = time.perf_counter()
                expected = method(**q["args"])
                btimes.append((time.perf_counter() - start) * 1000)
            assert same_answer(answer, expected), f"pandas baseline disagrees for {q['caller']}"
            row["pandas_p50"] = statistics.median(btimes)
        out.append(row)
    con.close()
    return out


def same_answer(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    cols = list(a.columns)
    if list(b.columns) != cols or len(a) != len(b):
        return False
    left = a.sort_values(cols, ignore_index=True).astype(str)
    right = b[cols].sort_values(cols, ignore_index=True).astype(str)
    return left.equals(right)


class Baseline:
    """The store's questions answered with pandas over full in-memory tables."""

    def __init__(self, tables: dict[str, pd.DataFrame]):
        self.all_facts, self.regions = tables["facts"], tables["regions"]
        self.meta, self.targets_table = tables["meta"], tables["targets"]

    def _with_children(self, code: str) -> list[str]:
        return [code, *self.regions.loc[self.regions["parent_code"] == code, "code"]]

    def facts(self, region_codes, indicator_ids, year_from=None, year_to=None) -> pd.DataFrame:
        f = self.all_facts
        rows = f[
            f["region_code"].isin(region_codes)
            & f["indicator_id"].isin(indicator_ids)
            & f["year"].between(year_from or 0, year_to or 9999)
        ]
        return rows[["region_code", "year", "indicator_id", "value", "origin"]].sort_values(
            ["region_code", "indicator_id", "year"], ignore_index=True
        )

    def children_values(self, parent_code, year, indicator_ids):
        codes = self._with_children(parent_code)[1:]
        f = self.all_facts
        rows = f[f["region_code"].isin(codes) & (f["year"] == year) & f["indicator_id"].isin(indicator_ids)]
        return rows[["region_code", "indicator_id", "value"]].sort_values("region_code", ignore_index=True)

    def years(self, region_code):
        f = self.all_facts
        years = f.loc[f["region_code"].isin(self._with_children(region_code)), "year"].drop_duplicates()
        return pd.DataFrame({"year": years.sort_values(ignore_index=True)})

    def counties_of(self, city):
        r = self.regions
        with_data = set(self.all_facts["region_code"].unique())
        rows = r[
            (r["parent_code"] == city)
            & (r["level"] == "county")
            & ((r["kind"] != "zone") | r["code"].isin(with_data))
        ]
        return rows[["code"]].sort_values("code", ignore_index=True)

    def cities_with_data(self):
        cities = self.regions.loc[self.regions["level"] == "city", "code"]
        found = pd.Series(self.all_facts["region_code"].unique())
        return pd.DataFrame({"region_code": found[found.isin(cities)].sort_values(ignore_index=True)})

    def coverage(self):
        g = self.all_facts.groupby("indicator_id")
        return pd.DataFrame(
            {
                "regions": g["region_code"].nunique(),
                "first_year": g["year"].min(),
                "last_year": g["year"].max(),
            }
        ).reset_index()

    def regions_with_data(self):
        r = self.regions[self.regions["code"].isin(self.all_facts["region_code"].unique())]
        return r[["code", "name", "level", "parent_code"]].sort_values("code", ignore_index=True)
