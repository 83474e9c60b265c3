"""Two replicas behind nginx (`deploy/serve.py`, as `make serve REPLICAS=2` runs it), on
127.0.0.1 only: a browser works through the proxy, 40 websocket sessions spread over both
replicas without errors, a killed replica's sessions reconnect to the other and get their
view back from the URL, and a publish during the load reaches both replicas whole."""

import asyncio
import concurrent.futures
import os
import re
import signal
import time
import urllib.request

import psutil
import pytest
import websockets
from playwright.sync_api import Page, expect

from bench.server_bench import Session
from etl import pipeline, warehouse
from tests.browser import healthy, serve_cluster, wait_ready
from tests.util import baoji_rows, write_long_csv

# make test installs Debian's nginx and chromium; one worker runs the whole file (one cluster).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nginx")]
QUERY = "city=610300&county=610302&county=610326"
PAGE = "social_relief"  # the data here is 低保 only: its charts are drawn on 社会救助
COUNTY = ("区县", ["渭滨区", "眉县"])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("deploy-data")
    rows = baoji_rows("城市低保人数", 300) + baoji_rows("农村低保人数", 100)
    assert pipeline.load(base, [write_long_csv(base.parent / "base.csv", rows)]).ok
    with serve_cluster(base, 2, base.parent / "serve.log") as cluster:
        children = psutil.Process(cluster.launcher.pid).children(recursive=True)  # replicas, nginx, workers
        yield {"port": cluster.port, "replicas": cluster.replicas, "base": base}
    # Ctrl-C stopped every child: no replica or nginx of this run is left
    assert len(children) >= 4
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, alive


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def run_async(coro):
    """asyncio.run in a thread of its own: the Playwright fixtures keep an event loop running
    in the test thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def active_sessions(port: int) -> int:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/metrics", timeout=5).read().decode()
    return int(float(re.search(r"^active_sessions (\S+)", text, re.M).group(1)))


def replica_pid(port: int) -> int:
    return next(
        p.pid
        for p in psutil.process_iter()
        if "streamlit" in " ".join(_cmdline(p)) and str(port) in _cmdline(p)
    )


def test_browser_works_through_nginx(page: Page, cluster):
    page.goto(f"http://127.0.0.1:{cluster['port']}/social_relief?{QUERY}")
    wait_ready(page, chart=True)
    expect(page.get_by_test_id("stMain").get_by_role("heading", name="社会救助")).to_be_visible()
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first.locator("input")
    box.click()
    page.keyboard.type("凤县")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_ready(page, chart=True)
    expect(page).to_have_url(re.compile(r"county=610330"))
    assert page.locator('[data-testid="stException"]').count() == 0


async def _open(port: int, n: int, page: str = PAGE) -> list[Session]:
    sessions = []
    for _ in range(n):
        session = await Session.open(port)
        await session.rerun(page, QUERY)
        sessions.append(session)
    return sessions


def test_forty_sessions_spread_over_both_replicas(cluster):
    async def run():
        sessions = await _open(cluster["port"], 40)
        for session in sessions:  # a filter change in every session
            await session.rerun(PAGE, QUERY, COUNTY)
        counts = [active_sessions(p) for p in cluster["replicas"]]
        errors = sum(s.errors for s in sessions)
        charts = [s.charts for s in sessions]
        for session in sessions:
            await session.close()
        return counts, errors, charts

    counts, errors, charts = run_async(run())
    assert sum(counts) == 40 and min(counts) >= 5, counts  # both replicas carry sessions
    assert errors == 0 and min(charts) >= 1


def test_sessions_of_a_killed_replica_reconnect_to_the_other(cluster):
    victim, survivor = cluster["replicas"]

    async def run():
        sessions = await _open(cluster["port"], 20)
        on_victim = active_sessions(victim)
        os.kill(replica_pid(victim), signal.SIGKILL)
        reconnected = broken = 0
        for n, session in enumerate(sessions):
            try:
                await session.rerun(PAGE, QUERY, COUNTY)
                ok = session.errors == 0
            except websockets.ConnectionClosed:
                # what the browser does: reconnect through nginx and rerun from its URL
                reconnected += 1
                session = sessions[n] = await Session.open(cluster["port"])
                await session.rerun(PAGE, QUERY)
                ok = session.errors == 0 and session.charts >= 1 and any("宝鸡市" in t for t in session.texts)
            broken += not ok
        for session in sessions:
            await session.close()
        return on_victim, reconnected, broken

    on_victim, reconnected, broken = run_async(run())
    assert on_victim >= 1 and reconnected == on_victim, (on_victim, reconnected)
    assert broken == 0
    deadline = time.time() + 60  # the launcher restarts the replica
    while not healthy(f"http://127.0.0.1:{victim}/_stcore/health"):
        assert time.time() < deadline
        time.sleep(0.5)


def test_publish_during_load_reaches_both_replicas(cluster, tmp_path):
    base = cluster["base"]
    before = warehouse.current_version(base)

    async def load(stop: asyncio.Event) -> list[str]:
        sessions = await _open(cluster["port"], 10, page="")  # 总览 shows the data version
        seen = []
        step = 0
        while not stop.is_set():
            for session in sessions:
                await session.rerun("", QUERY, (COUNTY[0], COUNTY[1][: 1 + step % 2]))
                assert session.errors == 0
                seen += [v for t in session.texts for v in re.findall(r"数据版本：(\S+?)　", t)]
            step += 1
        for session in sessions:
            await session.close()
        return seen

    async def run():
        stop = asyncio.Event()
        task = asyncio.create_task(load(stop))
        await asyncio.sleep(1)
        update = write_long_csv(tmp_path / "update.csv", "眉县,610326,2023,城市低保人数,320,人\n")
        outcome = await asyncio.to_thread(pipeline.load, base, [update])
        await asyncio.sleep(2)
        stop.set()
        return outcome, await task

    outcome, seen = run_async(run())
    assert outcome.ok and outcome.changed
    assert set(seen) <= {before, outcome.version} and outcome.version in seen
    for port in cluster["replicas"]:  # each replica directly

        async def version_on(port=port):
            session = await Session.open(port)
            await session.rerun("", QUERY)
            await session.close()
            return [v for t in session.texts for v in re.findall(r"数据版本：(\S+?)　", t)]

        assert run_async(version_on()) == [outcome.version]
