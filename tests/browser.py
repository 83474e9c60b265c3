"""Shared pieces of the browser tests and the server benchmark: a real `streamlit run` on a
free port with its own data dir, and waiting until a page has finished its script run.
Debian's chromium only."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
READY = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    pid: int


@contextlib.contextmanager
def serve_app(base: Path, log_path: Path | None = None, script: Path = REPO / "app.py", **env: str):
    """`script` on 127.0.0.1 serving the data dir `base`; yields the `Server` once healthy."""
    port = free_port()
    with open(log_path or os.devnull, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MZ_DATA_DIR": str(base), **env})
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                with contextlib.suppress(OSError):
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                        break
                time.sleep(0.2)
            yield Server(url, port, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_ready(page: Page, chart: bool = False) -> None:
    page.wait_for_selector(READY, state="attached", timeout=60_000)
    if chart:
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    page.wait_for_selector(READY, state="attached", timeout=60_000)
