"""The benchmark harness in its quick mode (one province, a few iterations), so it cannot rot:
every step runs against the real server, browser and CLI and the report has every section.
The numbers are not checked here — `make bench` measures them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.browser
@pytest.mark.slow
def test_quick_benchmark_writes_a_complete_report(tmp_path):
    out = tmp_path / "PERFORMANCE.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    for heading in (
        "## ETL",
        "## Queries",
        "## Pages",
        "## Replicas behind nginx",
        "## Meeting pack",
        "## Presentation mode (演示)",
        "## Levels and maps (issue 20)",
        "Quick mode",
    ):
        assert heading in text
    assert "`facts`" in text and "`years`" in text  # queries recorded from the pages
    # incremental load (fact cache) and the check of a new county file, each with its goal
    assert re.search(r"^\| Incremental load: .* \| ≤ 2 s \| (yes|\*\*no\*\*) \|$", text, re.M)
    assert re.search(r"^\| Check of a new .* \| ≤ 1 s \| (yes|\*\*no\*\*) \|$", text, re.M)
    assert re.search(
        r"latency\s+[\d.]+ s\s+\(goal ≤ 1\.5 s: (yes|\*\*no\*\*)\), errors 0 \(goal 0: yes\)\.", text
    )
    # the page row ends with its first-view reruns (selections the server had not drawn); quick
    # mode: 下级地区对比 only
    page_row = r"^\| (\w+) \| \d \| .* \| \d+ ms \(min \d+ – max \d+, n=2\) \|$"
    assert re.findall(page_row, text, re.M) == ["compare"]
    assert re.search(r"^4-slide deck for 宝鸡市", text, re.M)  # quick mode: the meeting pack of 4 slides
    assert re.search(r"errors 0 \(goal 0: yes\) with 3 sessions", text)  # and through nginx, no exception
    for page in ("compare", "floor"):  # browser rows (quick mode: one page and its floor)
        assert re.search(rf"^\| {page} \| [\d.]+ s", text, re.M)
    assert re.search(r"one session drew 6 county selections.*?RSS \d+ → \d+ MiB", text, re.S)  # cache soak
    # 演示: every key press through the deck timed, twice round (quick mode: 4 slides, 3 steps each)
    assert re.search(r"^\| slide step, first pass \| [\d.]+ s \(min [\d.]+ – max [\d.]+, n=3\)", text, re.M)
    assert re.search(r"^\| first chart slide, first pass \| [\d.]+ s \|", text, re.M)
    # levels and maps (issue 20): each map asked for in an open page, its bytes, drill-downs,
    # each with its goal; page loads beside them
    for row, goal in (
        ("national map (provinces): breadcrumb 全国", "≤ 0.5 s"),
        ("province map (cities): breadcrumb 陕西省", "≤ 0.5 s"),
        ("national county map (107 counties): 全部区县", "≤ 1.5 s"),  # quick: 陕西's counties
        ("national county map: bytes", "≤ 2 MB"),
        ("drill-down: click 610000 on the national map", "≤ 0.8 s"),
        ("drill-down: click 610300 on the province map", "≤ 0.8 s"),
    ):
        assert re.search(rf"^\| {re.escape(row)}.* \| {goal} \| (yes|\*\*no\*\*) \|$", text, re.M), row
    assert len(re.findall(r"^\| .* map.*: page load → drawn, warm .* \| [\d.]+ s \(min", text, re.M)) == 1
    # reruns of every page at province and national level against the city level
    levels = (
        r"^\| \w+ rerun at (province|national) level / city level \| .* \|"
        r" ≤ 1\.2 × \| (yes|\*\*no\*\*) \|$"
    )
    assert len(re.findall(levels, text, re.M)) == 2  # quick mode: 下级地区对比 only
    assert not re.search(r"\bnan\b", text, re.I)


def test_a_load_step_nobody_answered_reports_missed_instead_of_crashing():
    """On a loaded machine every session of a short load step may fail to open in time: the
    report says the goal was missed rather than the whole bench dying on an empty percentile."""
    from bench.__main__ import replica_rows

    row = {"replicas": 2, "sessions": 3, "per_s": 0.0, "latency": [], "errors": 3}
    assert replica_rows([row]) == "| 2 | 3 | 0.0 | nan s | 3 | **no** |"


def shape(nodes: list[dict]) -> list:
    """Element types, nested, with each text and label, and each chart's traces."""

    def content(node: dict):
        p = node["proto"]
        return (
            [t.get("type") for t in json.loads(p["spec"])["data"]]
            if node["type"] == "plotly_chart"
            else p.get("body") or p.get("label") or p.get("options")
        )

    return [(n["type"], content(n), shape(n["children"])) for n in nodes]


def test_the_same_elements_floor_draws_exactly_the_page_it_recorded(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from bench import server_bench
    from etl import pipeline

    assert pipeline.build(tmp_path).ok
    monkeypatch.setenv("MZ_DATA_DIR", str(tmp_path))
    trees = {
        name: server_bench.record_page(tmp_path, page, ["渭滨区", "金台区"])
        for name, page in (("overview", ""), ("elderly_care", "elderly_care"), ("compare", "compare"))
    }
    path = tmp_path / "trees.json"
    path.write_text(json.dumps(trees, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("MZ_REPLAY_TREES", str(path))
    for name, tree in trees.items():
        at = AppTest.from_file(str(server_bench.REPLAY_APP), default_timeout=60)
        at.query_params["page"] = name
        at.run()
        assert not at.exception, name
        replayed = server_bench.tree_of(at)
        assert shape(replayed["sidebar"]) == shape(tree["sidebar"]) and shape(replayed["main"]) == shape(
            tree["main"]
        )
        assert (
            str(shape(tree["main"])).count("plotly_chart")
            == {"overview": 1, "elderly_care": 2, "compare": 1}[name]
        )
