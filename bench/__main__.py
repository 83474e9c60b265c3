"""`python -m bench`: run the benchmarks and rewrite docs/PERFORMANCE.md."""
from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
from importlib.metadata import version
from pathlib import Path

import tempfile

from . import etl_bench, export_bench, query_bench, server_bench

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


def page_rows(pages: dict) -> str:
    rows = []
    for page, m in pages.items():
        ratio = statistics.median(m["wall"]) / statistics.median(m["floor"]["wall"])
        rows.append(f"| {page or 'overview'} | {m['charts']} | {spread([w * 1000 for w in m['wall']], 'ms', 0)} | "
                    f"{statistics.median(m['cpu']) * 1000:.0f} ms | {spread([w * 1000 for w in m['floor']['wall']], 'ms', 0)} | "
                    f"{ratio:.2f} | {'yes' if ratio <= 1.3 else '**no**'} |")
    return "\n".join(rows)


def query_rows(queries: list[dict]) -> str:
    rows = []
    for q in sorted(queries, key=lambda q: -q["p95"]):
        pandas_ms = q.get("pandas_p50")
        speedup = pandas_ms / q["p50"] if pandas_ms else None
        met = q["p95"] <= 20 and (speedup is None or speedup >= 10)
        rows.append(f"| `{q['caller']}` | {', '.join(sorted(q['pages']))} | {q['rows']:,} | {q['p50']:.1f} ms | "
                    f"{q['p95']:.1f} ms | {f'{pandas_ms:.1f} ms' if pandas_ms else '—'} | "
                    f"{f'{speedup:.0f} ×' if speedup else '—'} | {'yes' if met else '**no**'} |")
    return "\n".join(rows)


def chromium_version() -> str:
    import subprocess
    out = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout
    return out.split()[1] if len(out.split()) > 1 else "?"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        print("national build …", flush=True)
        national = etl_bench.national_build(base)
        print("page queries …", flush=True)
        queries = query_bench.time_queries(base, query_bench.record_queries(base))
        print("yearbook read …", flush=True)
        yb = etl_bench.yearbook_read()
        print("page reruns in the real server …", flush=True)
        pages = server_bench.server_reruns(base)
        print("browser timings …", flush=True)
        browser = server_bench.browser_timings(base)
        print("meeting pack …", flush=True)
        pack = export_bench.deck_exports(base)
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

## Queries (national warehouse)

Every distinct query the pages issued when each page was opened for 宝鸡市 (recorded under
AppTest), run 30 times uncached on a read-only cursor. Baseline: the same answer computed with
pandas from the whole `facts` and `regions` tables held in memory (answers checked equal).
Goals: p95 ≤ 20 ms and ≥ 10 × faster than pandas. `<module>` = a query written in the page itself
(reference tables; no pandas baseline).

| store function | pages | rows | p50 | p95 | pandas p50 | speed-up | met |
| --- | --- | --- | --- | --- | --- | --- | --- |
{query_rows(queries)}

## Pages (national warehouse: every county in the registry)

Real Streamlit server, one browserless websocket session per page, the 区县 filter of 宝鸡市 changed
{len(next(iter(pages.values()))['wall'])} times (two alternating selections, caches warm). Floor: a bare Streamlit page with one
multiselect and the same number of plotly charts from constant data, in the same run. Goal: page ≤ 1.3 × floor.

| page | charts | rerun wall time | server CPU per rerun | floor wall time | ratio | met |
| --- | --- | --- | --- | --- | --- | --- |
{page_rows(pages)}

Browser (Debian chromium {chromium_version()}, Playwright, 社会救助-style page 慈善事业, 宝鸡市):
| measure | result | goal |
| --- | --- | --- |
| cold load (new context) → first chart drawn | {spread(browser['cold'])} | |
| county filter change → chart updated | {spread(browser['change'])} | ≤ 0.6 s |

## Meeting pack

12-slide deck for 宝鸡市 2024 (`python -m dashboard deck`, fresh process each run, {pack['images']} chart images
rendered by kaleido through Debian chromium in one session):
| measure | result | goal | met |
| --- | --- | --- | --- |
| PPTX | {spread(pack['pptx'])} | ≤ 20 s | {'yes' if statistics.median(pack['pptx']) <= 20 else '**no**'} |
| PDF | {spread(pack['pdf'])} | ≤ 20 s | {'yes' if statistics.median(pack['pdf']) <= 20 else '**no**'} |
| time per chart image (1920 × 1080 px, browser start included) | {spread(pack['per_image'])} | | |
"""
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
