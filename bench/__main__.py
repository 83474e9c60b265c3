"""`python -m bench`: run the benchmarks and rewrite docs/PERFORMANCE.md."""
from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
from importlib.metadata import version
from pathlib import Path

from . import etl_bench

OUT = Path(__file__).resolve().parents[1] / "docs" / "PERFORMANCE.md"
PACKAGES = ("pandas", "duckdb", "pyarrow", "python-calamine", "openpyxl", "streamlit", "plotly")


def spread(values: list[float], unit: str = "s", digits: int = 2) -> str:
    return (f"{statistics.median(values):.{digits}f} {unit} "
            f"(min {min(values):.{digits}f} – max {max(values):.{digits}f}, n={len(values)})")


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next((int(ln.split()[1]) // 1024 // 1024 for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0)
    versions = ", ".join(f"{p} {version(p)}" for p in PACKAGES)
    return (f"- Date: {dt.date.today().isoformat()}\n- Machine: {cpu}, {os.cpu_count()} cores, {mem} GiB RAM, "
            f"{platform.system()} {platform.release()}\n- Python {platform.python_version()}; {versions}")


def main() -> None:
    print("national build …", flush=True)
    national = etl_bench.national_build()
    print("yearbook read …", flush=True)
    yb = etl_bench.yearbook_read()
    goal_build = statistics.median(national["seconds"]) <= 15
    goal_read = statistics.median(yb["read_source_s"]) <= 0.5
    text = f"""# Performance

Written by `make bench` (`python -m bench`); every figure is the median with min–max of
repeated runs on this machine. Goals from the issues are checked in the same run.

{machine()}

## ETL

| measure | result | goal | met |
| --- | --- | --- | --- |
| National build: {national['rows']:,} input rows (every county in the registry × 30 indicators × 10 years) → read, resolve, validate, derive city/province/ratios ({national['facts']:,} facts), publish DuckDB + Parquet; fresh process each run | {spread(national['seconds'])} · {national['rows_per_s']:,.0f} rows/s · peak RSS {national['peak_rss_mib']:,.0f} MiB | ≤ 15 s | {'yes' if goal_build else '**no**'} |
| Yearbook-shaped xlsx, 200 rows × 20 columns: load_source + read_source (python-calamine) | {spread([s * 1000 for s in yb['read_source_s']], 'ms', 1)} | ≤ 0.5 s | {'yes' if goal_read else '**no**'} |
| Same file, raw sheet read: python-calamine | {spread([s * 1000 for s in yb['calamine_s']], 'ms', 1)} | | |
| Same file, raw sheet read: openpyxl (read_only, values_only) | {spread([s * 1000 for s in yb['openpyxl_s']], 'ms', 1)} | | |
| openpyxl / calamine | {yb['ratio']:.1f} × | | |
"""
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
