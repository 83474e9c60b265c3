"""Page benchmarks against the real Streamlit server, each beside its floor in the same run.

Server: a websocket client speaking Streamlit's own protocol (no browser) opens one session
per page, then changes the page's main filter N times; we time each rerun (send → script
finished) and read the server's CPU time with psutil. The floor is a bare Streamlit page that
draws the same number of plotly charts from constant data and has one multiselect to change.

Browser: Debian chromium via Playwright — cold load → first chart drawn, and a county filter
change → charts redrawn, per page and for the bare floor page.

Memory per session and 20 concurrent sessions use the same websocket client.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import time
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.browser import Server, serve_app

from .sessions import BAOJI, baoji_counties, open_page

BARE_APP = Path(__file__).with_name("bare_app.py")
REPLAY_APP = Path(__file__).with_name("replay_app.py")
# page url path → (label of the widget to change, two values to alternate between)
PAGES = {
    "": ("区县", (["渭滨区", "金台区"], ["渭滨区", "金台区", "眉县"])),
    "social_relief": ("区县", (["渭滨区", "金台区"], ["渭滨区", "金台区", "眉县"])),
    "elderly_care": ("区县", (["渭滨区", "金台区"], ["渭滨区", "金台区", "眉县"])),
    "charity": ("区县", (["渭滨区", "金台区"], ["渭滨区", "金台区", "眉县"])),
    "social_work": ("区县", (["渭滨区", "金台区"], ["渭滨区", "金台区", "眉县"])),
    "compare": ("区县", (["渭滨区", "金台区"], ["渭滨区", "金台区", "眉县"])),
}


class Session:
    """One browserless Streamlit session."""

    def __init__(self, ws, port: int | None = None):
        self.ws = ws
        self.port = port
        self.session_id = ""  # the server's id for this session (from its first run)
        self.widgets: dict[str, str] = {}  # label → widget id
        self.charts = 0
        self.errors = 0  # exceptions the app showed
        self.texts: list[str] = []  # markdown and captions of the last run

    @classmethod
    async def open(cls, port: int) -> Session:
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], max_size=None
        )
        return cls(ws, port)

    async def rerun(
        self, page: str = "", query: str = "", widget: tuple[str, list[str]] | None = None
    ) -> float:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        if widget:
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = self.widgets[widget[0]]
            state.string_array_value.data.extend(widget[1])
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        self.charts = 0
        self.texts = []
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await self.ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                element = fm.delta.new_element
                which = element.WhichOneof("type")
                if which == "plotly_chart":
                    self.charts += 1
                elif which == "exception":
                    self.errors += 1
                elif which == "markdown":
                    self.texts.append(element.markdown.body)
                elif which == "multiselect":
                    self.widgets[element.multiselect.label] = element.multiselect.id
            elif kind == "script_finished" and fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return time.perf_counter() - start

    async def upload_urls(self, names: list[str]) -> list[str]:
        """Ask for upload URLs as st.file_uploader does (a `file_urls_request` BackMsg); the
        upload URLs the server granted, one per name, or none. Call after a run."""
        msg = BackMsg()
        request = msg.file_urls_request
        request.request_id = f"urls-{time.monotonic_ns()}"
        request.session_id = self.session_id
        request.file_names.extend(names)
        await self.ws.send(msg.SerializeToString())
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await self.ws.recv())
            if fm.WhichOneof("type") == "file_urls_response":
                if fm.file_urls_response.response_id == request.request_id:
                    return [urls.upload_url for urls in fm.file_urls_response.file_urls]

    async def put_file(self, upload_url: str, name: str, data: bytes) -> int:
        """PUT one file, multipart, to an upload URL (`/_stcore/upload_file/<session>/<file id>`)
        as the browser does; the HTTP status, 0 when the server closed without an answer."""
        return await asyncio.to_thread(put_file, self.port, upload_url, name, data)

    async def close(self) -> None:
        await self.ws.close()

    async def exchange(self, msg: BackMsg, timeout: float = 30) -> list[ForwardMsg]:
        """Send a BackMsg as given (a rerun a test has forged: any widget states, query string,
        page name or hash) and return every ForwardMsg up to the end of the script run it
        started — or what came within `timeout` s if none ended."""
        await self.ws.send(msg.SerializeToString())
        got: list[ForwardMsg] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                break
            fm = ForwardMsg()
            fm.ParseFromString(data)
            got.append(fm)
            if fm.WhichOneof("type") == "script_finished" and (
                fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            ):
                break
        return got


def upload_request(name: str, data: bytes) -> tuple[dict[str, str], bytes]:
    """Headers and multipart body of the browser's upload PUT. The XSRF check wants the same
    token in the cookie and the header, and the token is no secret to the client: we make one
    (version 2, mask 0)."""
    token = f"2|00000000|{os.urandom(16).hex()}|{int(time.time())}"
    boundary = f"----mz{os.urandom(8).hex()}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="UploadedFile"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "X-Xsrftoken": token,
        "Cookie": f"_streamlit_xsrf={token}",
    }
    return headers, head + data + f"\r\n--{boundary}--\r\n".encode()


def put_file(port: int, upload_url: str, name: str, data: bytes) -> int:
    """The upload PUT of `Session.put_file`."""
    headers, body = upload_request(name, data)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        try:
            connection.request("PUT", upload_url, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the body was all sent: the answer may still be there to read
        try:
            return connection.getresponse().status
        except (ConnectionError, http.client.HTTPException):
            return 0
    finally:
        connection.close()


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


class Probe:
    """A session on one server, changing one widget to the next of its values on each rerun.
    `warm`: show every value once before measuring (caches warm), else each rerun is a value
    the server has not seen."""

    def __init__(
        self,
        port: int,
        process: psutil.Process,
        page: str,
        query: str,
        label: str,
        values: tuple[list[str], ...],
        warm: bool = True,
    ):
        self.port, self.process, self.page, self.query = port, process, page, query
        self.label, self.values, self.warm = label, values, warm
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.session: Session | None = None
        self.charts = 0

    async def start(self) -> None:
        self.session = await Session.open(self.port)
        await self.session.rerun(self.page, self.query)
        self.charts = self.session.charts
        for value in self.values if self.warm else ():
            await self.session.rerun(self.page, self.query, (self.label, value))

    async def step(self, n: int) -> None:
        before = _cpu(self.process)
        value = self.values[n % len(self.values)]
        self.walls.append(await self.session.rerun(self.page, self.query, (self.label, value)))
        self.cpus.append(_cpu(self.process) - before)

    def result(self) -> dict:
        return {"wall": self.walls, "cpu": self.cpus, "charts": self.charts}


async def _compare(
    app: Server, floors: dict[str, Server], same: Server, page: str, label: str, values, runs: int
) -> dict:
    """Page and floor reruns interleaved, so all see the same machine conditions."""
    probe = Probe(app.port, psutil.Process(app.pid), page, "city=610300", label, values)
    await probe.start()
    bare = {
        name: Probe(
            floor.port,
            psutil.Process(floor.pid),
            "",
            f"charts={probe.charts}",
            "区县",
            (["A", "B"], ["A", "B", "C"]),
        )
        for name, floor in floors.items()
    }
    bare["same"] = Probe(same.port, psutil.Process(same.pid), "", f"page={page or 'overview'}", label, values)
    for b in bare.values():
        await b.start()
    for n in range(runs):
        await probe.step(n)
        for b in bare.values():
            await b.step(n)
    # then selections this server has never drawn: the first view of a state builds everything
    first = Probe(
        app.port,
        psutil.Process(app.pid),
        page,
        "city=610300",
        label,
        _fresh_selections(page, runs),
        warm=False,
    )
    await first.start()
    for n in range(runs):
        await first.step(n)
    for p in (probe, first, *bare.values()):
        await p.session.close()
    return {**probe.result(), "first_view": first.result(), **{name: b.result() for name, b in bare.items()}}


def _fresh_selections(page: str, n: int) -> tuple[list[str], ...]:
    """n county selections of 宝鸡市 that no probe uses (and different per page): 3–11 of its
    counties, in registry order."""
    names = list(baoji_counties())
    used = {tuple(v) for _, values in PAGES.values() for v in values}
    picks, mask = [], 1 + 97 * (list(PAGES).index(page) + 1)
    while len(picks) < n:
        mask = (mask * 1103515245 + 12345) % (1 << 12)
        chosen = [name for i, name in enumerate(names) if mask >> i & 1]
        if 3 <= len(chosen) <= 11 and tuple(chosen) not in used:
            used.add(tuple(chosen))
            picks.append(chosen)
    return tuple(picks)


def record_page(data_dir: Path, page: str, counties: list[str]) -> dict:
    """The element tree a page draws for 宝鸡市 with these counties (names) selected, as
    {"sidebar": [...], "main": [...]}: each node its type, its proto's fields and its children
    (what `replay_app.py` draws back)."""
    codes = baoji_counties()
    return tree_of(open_page(data_dir, page, {"city": BAOJI, "county": [codes[name] for name in counties]}))


def tree_of(at) -> dict:
    """What an AppTest run drew: {"sidebar": [...], "main": [...]}, each node its type, its
    proto's fields and its children."""
    from google.protobuf.json_format import MessageToDict

    def nodes(block) -> list[dict]:
        return [
            {
                "type": child.type,
                "proto": MessageToDict(child.proto, preserving_proto_field_name=True) if child.proto else {},
                "children": nodes(child),
            }
            for child in getattr(block, "children", {}).values()
        ]

    return {"sidebar": nodes(at.sidebar), "main": nodes(at.main)}


def server_reruns(data_dir: Path, runs: int = 30, pages: tuple[str, ...] = tuple(PAGES)) -> dict:
    """Per page of `pages` (keys of `PAGES`): rerun wall/CPU after a filter change, beside three
    floors in the same run: the bare page with as many charts, with app.py's process settings
    ("floor") and with Streamlit's defaults ("defaults"), and the page's own elements replayed
    from constant data ("same")."""
    trees = data_dir / "replay-trees.json"
    trees.write_text(
        json.dumps(
            {page or "overview": record_page(data_dir, page, PAGES[page][1][0]) for page in pages},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    with (
        serve_app(data_dir) as app,
        serve_app(data_dir, script=BARE_APP) as floor,
        serve_app(
            data_dir, script=BARE_APP, MZ_BARE_DEFAULTS="1", STREAMLIT_RUNNER_POST_SCRIPT_GC="true"
        ) as defaults,
        serve_app(data_dir, script=REPLAY_APP, MZ_REPLAY_TREES=str(trees)) as same,
    ):
        floors = {"floor": floor, "defaults": defaults}
        return {page: asyncio.run(_compare(app, floors, same, page, *PAGES[page], runs)) for page in pages}


# Browser targets: url path and query, the county to add, on the app; the floor page adds "C".
BROWSER_PAGES = {
    "overview": ("/?city=610300&county=610302&county=610303", "眉县"),
    "elderly_care": ("/elderly_care?city=610300&county=610302&county=610303", "眉县"),
    "compare": ("/compare?city=610300&county=610302&county=610303", "眉县"),
}
# What every chart of the page draws (lines, bars, map areas and colours): changes with the counties.
_DRAWN = (
    "() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => JSON.stringify("
    "(p.data || []).map(t => [t.x, t.y, t.z, t.locations]))).join('|')"
)
_READY = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'


def _browser_page(browser, url: str, option: str, changes: int, cold_loads: int) -> dict:
    """Cold loads (new context → first chart drawn), then county filter changes → charts redrawn."""
    out = {"cold": [], "change": []}
    for _ in range(cold_loads):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        out["cold"].append(time.perf_counter() - start)
        context.close()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    page.wait_for_selector(_READY, state="attached")
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first.locator("input")
    for n in range(changes):
        before = page.evaluate(_DRAWN)
        box.click()
        start = time.perf_counter()
        if n % 2 == 0:
            page.keyboard.type(option)
            page.keyboard.press("Enter")
        else:
            page.keyboard.press("Backspace")
        page.wait_for_function(
            f"before => ({_DRAWN})() !== before", arg=before, polling="raf", timeout=30_000
        )
        out["change"].append(time.perf_counter() - start)
        page.keyboard.press("Escape")
        page.wait_for_selector(_READY, state="attached")
    context.close()
    return out


def browser_timings(
    data_dir: Path, changes: int = 10, cold_loads: int = 3, pages: dict = BROWSER_PAGES
) -> dict:
    """Per page, and for the bare floor page with as many charts: cold load and filter change."""
    from playwright.sync_api import sync_playwright

    from tests.browser import ARGS, CHROMIUM

    out = {}
    with serve_app(data_dir) as app, serve_app(data_dir, script=BARE_APP) as floor, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, (path, option) in pages.items():
            out[name] = _browser_page(browser, app.url + path, option, changes, cold_loads)
        out["floor"] = _browser_page(browser, floor.url + "/?charts=2", "C", changes, cold_loads)
        browser.close()
    return out


def _rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def session_memory(data_dir: Path, sessions: int = 20) -> dict:
    """Server RSS: idle, after a first session opened 总览 and changed the filter, and the
    growth per additional session kept open (each does the same)."""
    label, values = PAGES[""]

    async def run(server: Server) -> dict:
        idle = _rss_mib(server.pid)
        opened = []
        for n in range(sessions):
            session = await Session.open(server.port)
            await session.rerun("", "city=610300")
            await session.rerun("", "city=610300", (label, values[1]))
            opened.append(session)
            if n == 0:
                first = _rss_mib(server.pid)
        last = _rss_mib(server.pid)
        for session in opened:
            await session.close()
        return {
            "idle_mib": idle,
            "first_mib": first,
            "last_mib": last,
            "sessions": sessions,
            "per_session_mib": (last - first) / max(sessions - 1, 1),
        }

    with serve_app(data_dir) as server:
        return asyncio.run(run(server))


def view_cache_soak(data_dir: Path, views: int = 300, page: str = "elderly_care") -> dict:
    """One session drawing `views` county selections the server has not seen: the shared view
    caches fill (bounded by their max_entries). Server RSS before and after, and the rerun wall
    time of the first and the last third — a rerun must not get slower as the caches grow."""
    label, _ = PAGES[page]

    async def run(server: Server) -> dict:
        probe = Probe(
            server.port,
            psutil.Process(server.pid),
            page,
            "city=610300",
            label,
            _fresh_selections(page, views),
            warm=False,
        )
        await probe.start()
        before = _rss_mib(server.pid)
        for n in range(views):
            await probe.step(n)
        await probe.session.close()
        third = max(views // 3, 1)
        return {
            "views": views,
            "rss_before_mib": before,
            "rss_after_mib": _rss_mib(server.pid),
            "first_third": probe.walls[:third],
            "last_third": probe.walls[-third:],
        }

    with serve_app(data_dir) as server:
        return asyncio.run(run(server))


def replica_scaling(data_dir: Path, replicas=(1, 2), counts=(10, 20, 30), seconds: float = 15) -> list[dict]:
    """Back-to-back sessions through nginx (`deploy/serve.py`) in front of 1 and 2 replicas:
    reruns/s and p95 latency per session count — how many sessions a replica carries."""
    from tests.browser import serve_cluster

    out = []
    for n in replicas:
        with serve_cluster(data_dir, n) as cluster:
            out += [{"replicas": n, **load(cluster.port, sessions, seconds)} for sessions in counts]
    return out


def load(port: int, sessions: int, seconds: float) -> dict:
    """`sessions` websocket sessions on the topic and overview pages, each changing its county
    filter as fast as the server on `port` answers (a replica, or nginx in front of several),
    for `seconds` (loopback only)."""
    pages = list(PAGES)

    async def worker(n: int, deadline: float, latencies: list[float]) -> int:
        page = pages[n % len(pages)]
        label, values = PAGES[page]
        session = await Session.open(port)
        await session.rerun(page, "city=610300")
        step = 0
        # At least one measured rerun each, however long opening took on a loaded machine.
        while step == 0 or time.perf_counter() < deadline:
            latencies.append(await session.rerun(page, "city=610300", (label, values[step % 2])))
            step += 1
        await session.close()
        return session.errors

    async def run() -> dict:
        latencies: list[float] = []
        start = time.perf_counter()
        errors = await asyncio.gather(
            *(worker(n, start + seconds, latencies) for n in range(sessions)), return_exceptions=True
        )
        elapsed = time.perf_counter() - start
        failed = sum(e if isinstance(e, int) else 1 for e in errors)
        return {
            "sessions": sessions,
            "seconds": elapsed,
            "reruns": len(latencies),
            "per_s": len(latencies) / elapsed,
            "latency": latencies,
            "errors": failed,
        }

    return asyncio.run(run())


def concurrent_reruns(data_dir: Path, sessions: int = 20, seconds: float = 30) -> dict:
    """The load above against one fresh server."""
    with serve_app(data_dir) as server:
        return load(server.port, sessions, seconds)


def median(values: list[float]) -> float:
    return statistics.median(values)
