"""The benchmark harness in its quick mode (one province, a few iterations), so it cannot rot:
every step runs against the real server, browser and CLI and the report has every section.
The numbers are not checked here — `make bench` measures them."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="make test installs Debian chromium")
def test_quick_benchmark_writes_a_complete_report(tmp_path):
    out = tmp_path / "PERFORMANCE.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    for heading in ("## ETL", "## Queries", "## Pages", "## Replicas behind nginx", "## Meeting pack", "Quick mode"):
        assert heading in text
    assert "`facts`" in text and "`years`" in text                    # queries recorded from the pages
    assert re.search(r"latency\s+[\d.]+ s \(goal ≤ 1\.5 s: (yes|\*\*no\*\*)\), errors 0 \(goal 0: yes\)\.", text)
    # each page row ends with its first-view reruns (selections the server had not drawn)
    assert len(re.findall(r"^\| \w+ \| \d \| .* \| \d+ ms \(min \d+ – max \d+, n=2\) \|$", text, re.M)) == 6
    assert re.search(r"errors 0 \(goal 0: yes\) with 3 sessions", text)  # and through nginx, no exception
    for page in ("overview", "elderly_care", "compare", "floor"):      # browser rows
        assert re.search(rf"^\| {page} \| [\d.]+ s", text, re.M)
    assert re.search(r"one session drew 6 county selections.*?RSS \d+ → \d+ MiB", text, re.S)   # cache soak
    assert not re.search(r"\bnan\b", text, re.I)
