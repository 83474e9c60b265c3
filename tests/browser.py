"""Shared pieces of the browser tests and the server benchmark: a real `streamlit run` on a
free port with its own data dir, the replicas-behind-nginx launcher, and waiting until a page
has finished its script run. Debian's chromium only."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from dashboard.meeting_pack import CHROMIUM_FLAGS
from etl import settings

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = settings.BROWSER_PATH
ARGS = list(CHROMIUM_FLAGS)
READY = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
# 演示 (pages/present.py): a chart slide's chart element (key "slide-<id>"), there from the slide's
# first delta on, while the plotly chart inside it comes once plotly's code has loaded (a skeleton
# stands in until then); and the out-of-sight chart that loads that code while the cover is up.
SLIDE_CHART = '.st-key-canvas [class*="st-key-slide-"]'
WARMUP = ".st-key-warmup"


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
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(script),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "MZ_DATA_DIR": str(base), **env},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                if healthy(f"{url}/_stcore/health"):
                    break
                time.sleep(0.2)
            yield Server(url, port, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def free_ports(n: int, start: int | None = None) -> int:
    """The first port from `start` on with n free ports in a row (the launcher numbers
    replicas consecutively). By default each process starts in its own block of 20 ports
    (from its pid): a port found free is only bound later by nginx or a replica, so two
    processes scanning from the same port (parallel test workers, the bench) would race."""
    if start is None:
        start = 20000 + os.getpid() % 400 * 20
    for first in range(start, start + 5000, n + 1):
        if all(_is_free(port) for port in range(first, first + n)):
            return first
    raise RuntimeError("no free ports")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclass(frozen=True)
class Cluster:
    port: int  # nginx
    replicas: list[int]  # the replicas' own ports
    launcher: subprocess.Popen


@contextlib.contextmanager
def serve_cluster(base: Path, replicas: int, log_path: Path | None = None, **env: str):
    """`deploy/serve.py` (what `make serve` runs) with `replicas` replicas on the data dir `base`;
    yields once nginx answers /healthz, stops it with Ctrl-C (SIGINT) afterwards."""
    port = free_ports(1)
    first = free_ports(replicas, port + 1)
    with open(log_path or os.devnull, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "deploy/serve.py",
                "--replicas",
                str(replicas),
                "--port",
                str(port),
                "--replica-port",
                str(first),
                "--address",
                "127.0.0.1",
                "--data-dir",
                str(base),
            ],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **env},
        )
        try:
            deadline = time.time() + 120
            while not healthy(f"http://127.0.0.1:{port}/healthz"):
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"deploy/serve.py did not come up (exit {proc.poll()})")
                time.sleep(0.3)
            yield Cluster(port, list(range(first, first + replicas)), proc)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=1).read() == b"ok"
    except OSError:
        return False


def wait_ready(page: Page, chart: bool = False) -> None:
    page.wait_for_selector(READY, state="attached", timeout=60_000)
    if chart:
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    page.wait_for_selector(READY, state="attached", timeout=60_000)
