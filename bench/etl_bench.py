"""ETL benchmarks: the national build, and reading a yearbook-shaped workbook.

Each measurement runs in a fresh Python process (so import costs and peak memory are those
of a real `python -m etl build`), repeated; reports give the median with min–max.
"""
from __future__ import annotations

import json
import resource
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
from etl.regions import load_registry

REPO = Path(__file__).resolve().parents[1]
YEARS = range(2016, 2026)


def national_csv(path: Path, province: str | None = None) -> int:
    """Every county in the registry (or of one province, for the quick mode) × every reported
    indicator of the catalog × 10 years."""
    catalog, registry = load_catalog(), load_registry()
    regions = registry.frame()
    counties = regions[(regions["level"] == "county") & (regions["kind"] == "county")]
    if province:
        counties = counties[counties["code"].str.startswith(province[:2])]
    indicators = [i for i in catalog.indicators.values() if not i.is_ratio]
    rng = np.random.default_rng(1)
    codes = np.repeat(counties["code"].to_numpy(), len(indicators) * len(YEARS))
    ids = np.tile(np.repeat([i.name_zh for i in indicators], len(YEARS)), len(counties))
    units = np.tile(np.repeat([i.unit for i in indicators], len(YEARS)), len(counties))
    years = np.tile(np.array(YEARS), len(counties) * len(indicators))
    values = rng.integers(10, 5000, size=len(codes))
    names = np.repeat(counties["name"].to_numpy(), len(indicators) * len(YEARS))
    pd.DataFrame({"地区": names, "区划代码": codes, "年份": years, "指标": ids, "数值": values, "单位": units}
                 ).to_csv(path, index=False)
    return len(codes)


def _child(code: str) -> dict:
    """Run `code` in a fresh interpreter; it prints JSON. Adds the peak RSS (MiB) of the largest
    child so far: each run is the same work, so that is the build's peak."""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def national_build(base: Path, runs: int = 3, province: str | None = None) -> dict:
    """Build the national warehouse in `base` `runs` times (fresh process each); it stays there
    for the page benchmarks."""
    (base / "raw").mkdir(parents=True, exist_ok=True)
    rows = national_csv(base / "raw" / "national.csv", province)
    times, rss = [], []
    for _ in range(runs):
        subprocess.run(["rm", "-rf", str(base / "warehouse")], check=True)
        r = _child(
            "import json,time\n"
            "t=time.perf_counter()\n"
            "from etl import pipeline\n"
            f"o=pipeline.build(__import__('pathlib').Path({str(base)!r}))\n"
            "print(json.dumps({'s': time.perf_counter()-t, 'ok': o.ok, 'facts': o.fact_count}))")
        assert r["ok"], "national build failed"
        times.append(r["s"])
        rss.append(r["peak_rss_mib"])
        facts = r["facts"]
    return {"rows": rows, "facts": facts, "seconds": times, "peak_rss_mib": max(rss),
            "rows_per_s": rows / statistics.median(times)}


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
    return {"read_source_s": full, "calamine_s": cal, "openpyxl_s": opx,
            "ratio": statistics.median(opx) / statistics.median(cal)}
