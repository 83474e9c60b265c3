"""ETL benchmarks: the national build against its floor (DuckDB alone doing the same essential
work on the same CSV), and reading a yearbook-shaped workbook.

Each build and floor run is a fresh Python process (so import costs and peak memory are those
of a real `python -m etl build`), repeated; reports give the median with min–max.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import python_calamine

from etl.catalog import load_catalog
from etl.paths import fact_cache_dir
from etl.regions import load_registry

REPO = Path(__file__).resolve().parents[1]
YEARS = range(2016, 2026)


# Value ranges (catalog units) where the default 10–5000 would make a derived ratio impossible
# (e.g. 低保覆盖率 over 100 %), which the build refuses as out_of_range: the population above the
# low-income and 60+ counts, 60+ above the beds, beds above the nursing beds, recipients large
# enough for the funds per recipient.
VALUE_RANGES = {
    "population": (100_000, 1_000_000),
    "pop_60plus": (20_000, 200_000),
    "dibao_urban_persons": (1_000, 5_000),
    "dibao_rural_persons": (1_000, 5_000),
    "elderly_beds": (5_000, 10_000),
}
DEFAULT_RANGE = (10, 5_000)


def _counties(province: str | None) -> pd.DataFrame:
    """The registry's counties (of one province, for the quick mode)."""
    regions = load_registry().frame()
    counties = regions[(regions["level"] == "county") & (regions["kind"] == "county")]
    return counties[counties["code"].str.startswith(province[:2])] if province else counties


def national_csv(path: Path, province: str | None = None) -> int:
    """Every county in the registry (or of one province, for the quick mode) × every reported
    indicator of the catalog × 10 years."""
    catalog = load_catalog()
    counties = _counties(province)
    indicators = reported_indicators(catalog)
    rng = np.random.default_rng(1)
    codes = np.repeat(counties["code"].to_numpy(), len(indicators) * len(YEARS))
    ids = np.tile(np.repeat([i.name_zh for i in indicators], len(YEARS)), len(counties))
    units = np.tile(np.repeat([i.unit for i in indicators], len(YEARS)), len(counties))
    years = np.tile(np.array(YEARS), len(counties) * len(indicators))
    low, high = (
        np.tile(
            np.repeat([VALUE_RANGES.get(i.id, DEFAULT_RANGE)[k] for i in indicators], len(YEARS)),
            len(counties),
        )
        for k in (0, 1)
    )
    values = rng.integers(low, high, size=len(codes))
    names = np.repeat(counties["name"].to_numpy(), len(indicators) * len(YEARS))
    pd.DataFrame(
        {"地区": names, "区划代码": codes, "年份": years, "指标": ids, "数值": values, "单位": units}
    ).to_csv(path, index=False)
    return len(codes)


def reported_indicators(catalog) -> list:
    """The indicators a county reports (ratios are derived, never reported)."""
    return [i for i in catalog.indicators.values() if not i.is_ratio]


# The floor: DuckDB alone doing the build's essential work on the same CSV, in one statement —
# read the CSV (typed), indicator names → ids (a join to the catalog's names), counties summed
# to cities and cities to provinces (joins to data/regions/regions.csv for the parent codes),
# the facts table written sorted as warehouse._write_tables writes it, then Parquet partitioned
# by year, a checkpoint and an fsync of every file written (as warehouse.publish does). No
# validation, lineage, ratios or weighted means, no other tables: what no build can go below.
FLOOR_SQL = """
CREATE TABLE facts AS
WITH reported AS (
    SELECT c.区划代码 AS region_code, c.年份 AS year, i.id AS indicator_id, c.数值 AS value
    FROM read_csv('{csv}', header = true, columns = {{'地区': 'VARCHAR', '区划代码': 'VARCHAR',
                  '年份': 'INTEGER', '指标': 'VARCHAR', '数值': 'DOUBLE', '单位': 'VARCHAR'}}) AS c
    JOIN (VALUES {indicators}) AS i(name_zh, id) ON c.指标 = i.name_zh),
parents AS (SELECT code, parent_code FROM read_csv('{regions}', header = true, all_varchar = true)),
city AS (
    SELECT p.parent_code AS region_code, f.year, f.indicator_id, sum(f.value) AS value
    FROM reported AS f JOIN parents AS p ON f.region_code = p.code GROUP BY ALL),
province AS (
    SELECT p.parent_code AS region_code, f.year, f.indicator_id, sum(f.value) AS value
    FROM city AS f JOIN parents AS p ON f.region_code = p.code GROUP BY ALL)
SELECT region_code, year, indicator_id, value, origin, false AS is_sample FROM (
    SELECT *, 'reported' AS origin FROM reported
    UNION ALL SELECT *, 'aggregated' FROM city
    UNION ALL SELECT *, 'aggregated' FROM province)
ORDER BY region_code, indicator_id, year;
COPY facts TO '{out}/facts' (FORMAT parquet, PARTITION_BY (year));
CHECKPOINT;
"""


def floor_sql(csv: Path, out: Path) -> str:
    names = ", ".join(f"('{i.name_zh}', '{i.id}')" for i in reported_indicators(load_catalog()))
    return FLOOR_SQL.format(
        csv=csv, out=out, indicators=names, regions=REPO / "data" / "regions" / "regions.csv"
    )


def _floor_code(csv: Path, out: Path) -> str:
    """The floor's child process (timed as the build is: from before the first import)."""
    return (
        "import json,os,time\n"
        "t=time.perf_counter()\n"
        "import duckdb\n"
        f"out={str(out)!r}\n"
        "os.makedirs(out)\n"
        "con=duckdb.connect(os.path.join(out,'warehouse.duckdb'))\n"
        f"con.execute({floor_sql(csv, out)!r})\n"
        "n=con.execute('SELECT count(*) FROM facts').fetchone()[0]\n"
        "con.close()\n"
        "for d,_,fs in os.walk(out):\n"
        "    for p in [os.path.join(d,f) for f in fs]+[d]:\n"
        "        fd=os.open(p,os.O_RDONLY); os.fsync(fd); os.close(fd)\n"
        "print(json.dumps({'s': time.perf_counter()-t, 'facts': n}))"
    )


def _child(code: str) -> dict:
    """Run `code` in a fresh interpreter; it prints JSON as its last line. Adds the child's own
    peak RSS (MiB): VmHWM of its address space (getrusage's maxrss would start from the
    parent's, which Linux carries over fork and exec)."""
    code += (
        "\nprint(json.dumps({'peak_rss_mib': int(next(l.split()[1] for l in open('/proc/self/status')\n"
        "                                            if l.startswith('VmHWM'))) / 1024}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    last, peak = out.stdout.strip().splitlines()[-2:]
    return {**json.loads(last), **json.loads(peak)}


def national_build(base: Path, runs: int = 3, province: str | None = None) -> dict:
    """Build the national warehouse in `base` `runs` times (fresh process each); it stays there
    for the page benchmarks. Each build is followed by a run of the floor (`FLOOR_SQL`, also a
    fresh process) on the same CSV, so both see the same machine load."""
    (base / "raw").mkdir(parents=True, exist_ok=True)
    csv = base / "raw" / "national.csv"
    rows = national_csv(csv, province)
    floor_out = base / "floor"
    times, rss, floor_times, floor_rss = [], [], [], []
    for _ in range(runs):
        # every run a full build: no warehouse and no fact cache (`etl/fact_cache.py`) before it; the
        # last run's cache stays for `incremental_load`
        subprocess.run(["rm", "-rf", str(base / "warehouse"), str(fact_cache_dir(base))], check=True)
        r = _child(
            "import json,time\n"
            "t=time.perf_counter()\n"
            "from etl import pipeline\n"
            f"o=pipeline.build(__import__('pathlib').Path({str(base)!r}))\n"
            "print(json.dumps({'s': time.perf_counter()-t, 'ok': o.ok, 'facts': o.fact_count,\n"
            "                  'errors': [i.message for i in o.issues.errors][:3]}))"
        )
        assert r["ok"], f"national build failed: {r['errors']}"
        times.append(r["s"])
        rss.append(r["peak_rss_mib"])
        facts = r["facts"]
        subprocess.run(["rm", "-rf", str(floor_out)], check=True)
        f = _child(_floor_code(csv, floor_out))
        floor_times.append(f["s"])
        floor_rss.append(f["peak_rss_mib"])
        floor_facts = f["facts"]
    subprocess.run(["rm", "-rf", str(floor_out)], check=True)
    return {
        "rows": rows,
        "facts": facts,
        "seconds": times,
        "peak_rss_mib": max(rss),
        "rows_per_s": rows / statistics.median(times),
        "floor_seconds": floor_times,
        "floor_facts": floor_facts,
        "floor_peak_rss_mib": max(floor_rss),
        "ratio": statistics.median(times) / statistics.median(floor_times),
    }


def county_csv(path: Path, seed: int, rows: int = 1_000, province: str | None = None) -> int:
    """A county-level return of `rows` rows: the first counties of the national file (of
    `province`, in quick mode) × every reported indicator × 10 years, with new values (a
    correction, so each load publishes) in the national file's ranges."""
    catalog = load_catalog()
    counties = _counties(province)
    indicators = reported_indicators(catalog)
    per_county = len(indicators) * len(YEARS)
    counties = counties.head(-(-rows // per_county))
    rng = np.random.default_rng(seed)
    records = [
        (county.name, county.code, year, ind.name_zh, ind.unit, VALUE_RANGES.get(ind.id, DEFAULT_RANGE))
        for county in counties.itertuples(index=False)
        for ind in indicators
        for year in YEARS
    ][:rows]
    pd.DataFrame(
        {
            "地区": [r[0] for r in records],
            "区划代码": [r[1] for r in records],
            "年份": [r[2] for r in records],
            "指标": [r[3] for r in records],
            "数值": [int(rng.integers(*r[5])) for r in records],
            "单位": [r[4] for r in records],
        }
    ).to_csv(path, index=False)
    return len(records)


def incremental_load(base: Path, runs: int = 3, province: str | None = None) -> dict:
    """On the national warehouse `national_build` left in `base` (its fact cache warm), each run
    a fresh process (timed from before its first import, as the build is):

    - `python -m etl load` of a new 1,000-row county file, start → published: the served inputs
      come from the fact cache, only the new file is read (goal ≤ 2 s);
    - `check_files` of another new county file (数据管理's 校验): the time until the issues of
      the new file are known (its own reading and checks, `_read_new`: the progress callback's
      last "读取文件" step), from the call and from process start, and the whole check with
      the served inputs combined (goal: the new file's issues ≤ 1 s).

    Each run loads a correction (new values), so each publishes; the warehouse keeps them."""
    if not any(fact_cache_dir(base).glob("*.arrow")):  # a warehouse from before the cache: fill it
        _child(
            "import json\nfrom etl import pipeline\n"
            f"pipeline.build(__import__('pathlib').Path({str(base)!r}))\nprint(json.dumps({{}}))"
        )
    uploads = base / "bench-uploads"
    uploads.mkdir(exist_ok=True)
    load_s, rss, check_issues_s, check_call_s, check_s = [], [], [], [], []
    rows = 0
    done = len(list(uploads.glob("county_*.csv")))  # files of earlier calls: each run's are new
    for run in range(done, done + runs):
        new = uploads / f"county_{run}.csv"
        rows = county_csv(new, seed=100 + run, province=province)
        r = _child(
            "import json,time\n"
            "t=time.perf_counter()\n"
            "from pathlib import Path\n"
            "from etl import pipeline\n"
            f"o=pipeline.load(Path({str(base)!r}), [Path({str(new)!r})])\n"
            "print(json.dumps({'s': time.perf_counter()-t, 'ok': o.ok, 'changed': o.changed,\n"
            "                  'errors': [i.message for i in o.issues.errors][:3]}))"
        )
        assert r["ok"] and r["changed"], f"incremental load failed: {r['errors']}"
        load_s.append(r["s"])
        rss.append(r["peak_rss_mib"])
        checked = uploads / f"check_{run}.csv"
        county_csv(checked, seed=200 + run, province=province)
        c = _child(
            "import json,time\n"
            "t=time.perf_counter()\n"
            "from pathlib import Path\n"
            "from etl import pipeline\n"
            "seen={}\n"
            "def progress(step, done, total):\n"
            "    if step == '读取文件' and done == total and 'issues' not in seen:\n"
            "        seen['issues'] = time.perf_counter()\n"
            "called=time.perf_counter()\n"
            f"o=pipeline.check_files(Path({str(base)!r}), [Path({str(checked)!r})], progress)[0]\n"
            "end=time.perf_counter()\n"
            "print(json.dumps({'issues_s': seen['issues']-t, 'issues_call_s': seen['issues']-called,\n"
            "                  's': end-called, 'ok': o.ok,\n"
            "                  'errors': [i.message for i in o.issues.errors][:3]}))"
        )
        assert c["ok"], f"incremental check failed: {c['errors']}"
        check_issues_s.append(c["issues_s"])
        check_call_s.append(c["issues_call_s"])
        check_s.append(c["s"])
    return {
        "rows": rows,
        "load_seconds": load_s,
        "load_peak_rss_mib": max(rss),
        "check_issues_seconds": check_issues_s,
        "check_issues_call_seconds": check_call_s,
        "check_seconds": check_s,
    }


def yearbook_xlsx(path: Path, n_rows: int = 200, n_cols: int = 20) -> None:
    catalog = load_catalog()
    indicators = [i for i in catalog.indicators.values() if not i.is_ratio][:n_cols]
    counties = load_registry().frame().query("level == 'county' and kind == 'county'").head(n_rows)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["表1 各县社会服务情况（2023年）"])
    sheet.append(["地  区\nRegion"] + [f"{i.name_zh}({i.unit})\n{i.name_en}" for i in indicators])
    rng = np.random.default_rng(2)
    for name in counties["name"]:
        sheet.append([name] + [int(v) for v in rng.integers(1, 10_000, size=len(indicators))])
    sheet.append(["注：基准测试数据。"])
    book.save(path)


def yearbook_read(runs: int = 7) -> dict:
    from etl.readers import read_source
    from etl.sources import load_source

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "yearbook.xlsx"
        yearbook_xlsx(path)
        full, cal, opx = [], [], []
        for _ in range(runs):
            t = time.perf_counter()
            source, issues = load_source(path)
            raw, found = read_source(source)
            full.append(time.perf_counter() - t)
            assert not issues and not found and len(raw) == 200 * 20
            t = time.perf_counter()
            python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
            cal.append(time.perf_counter() - t)
            t = time.perf_counter()
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            [[c for c in row] for row in book.active.iter_rows(values_only=True)]
            book.close()
            opx.append(time.perf_counter() - t)
    return {
        "read_source_s": full,
        "calamine_s": cal,
        "openpyxl_s": opx,
        "ratio": statistics.median(opx) / statistics.median(cal),
    }
