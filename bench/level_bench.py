"""Level and map benchmarks (issue 20) on the national warehouse, in Debian chromium and over
Streamlit's websocket.

A map is *drawn* when one plotly map on the page has exactly the expected region shapes in its
SVG: the set of locations bound to its choropleth paths (`path.__data__.loc`) equals the
region's boundary features plus the outline it sits in (`dashboard/geo.py`). That is how a map
of another level (the page before a click) is told from the one asked for — never a sleep.

- map opened: `page.goto` of the page's URL → drawn, in a browser context that has opened the
  app before (static files cached) and a server whose view caches are warm; the very first load
  (new context, the server's first view of that map) is kept apart;
- breadcrumb: a click on the level above in the breadcrumb → that level's map drawn (a map
  asked for in an open page: what the goals for the national and a province's map time; a page
  load also pays Streamlit's page start, 2.2 s cold for a bare page, `server_bench`);
- 全部区县: a click on the map's switch → every county drawn (the national county map's goal);
- drill-down: a click inside a child's shape (a point well inside its fill, found with
  `isPointInFill`) → the child's map drawn;
- the national county map: 总览's map switched to 全部区县 at national level
  (`?region=100000&overview-map_unit=counties`; in quick mode the one province's counties); the
  bytes it sends are its chart's websocket message (and every frame chromium received);
- reruns: `server_bench.Probe` sessions changing the children filter of the same page at city,
  province and national level, interleaved.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path

import psutil
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.server_bench import PAGES, Probe
from tests.browser import READY, serve_app

NATION, PROVINCE, CITY = "100000", "610000", "610300"
COUNTIES = "counties"  # 总览's 全部区县 map (of the nation; in quick mode of the one province)
MAP_INDICATOR = "beds_per_1000_elderly"  # 总览's first map indicator
# Children filter values (names, as the multiselect sends them) per level: two selections to alternate.
LEVEL_VALUES = {
    CITY: PAGES[""][1],
    PROVINCE: (["西安市", "宝鸡市"], ["西安市", "宝鸡市", "咸阳市"]),
    NATION: (["陕西省", "甘肃省"], ["陕西省", "甘肃省", "宁夏回族自治区"]),
}
LEVEL_LABELS = {CITY: "区县", PROVINCE: "市", NATION: "省份"}
VIEWPORT = {"width": 1400, "height": 900}

# Per plotly map on the page: the locations of its choropleth paths, sorted, joined by ",".
_MAP_LOCS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd =>
  [...gd.querySelectorAll('.choroplethlayer path')]
    .map(p => p.__data__ && p.__data__.loc).sort().join(','))"""
_DRAWN = f"want => ({_MAP_LOCS})().includes(want)"
# A point well inside a child's fill, in viewport pixels: of a grid over the shape's box, the
# point in the fill farthest from any grid point outside it.
_INSIDE = """code => {
  const path = [...document.querySelectorAll('.js-plotly-plot .choroplethlayer path')]
    .filter(p => p.__data__ && p.__data__.loc === code && p.__data__.tx !== undefined).pop();
  path.scrollIntoView({block: 'center'});
  const box = path.getBoundingClientRect(), back = path.getScreenCTM().inverse(), n = 24;
  const inside = [], outside = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const x = box.left + (i + 0.5) * box.width / n, y = box.top + (j + 0.5) * box.height / n;
    (path.isPointInFill(new DOMPoint(x, y).matrixTransform(back)) ? inside : outside).push([x, y]);
  }
  let best = inside[0], room = -1;
  for (const [x, y] of inside) {
    const d = Math.min(...outside.map(([u, v]) => (u - x) ** 2 + (v - y) ** 2), Infinity);
    if (d > room) { best = [x, y]; room = d; }
  }
  return best;
}"""


def boundaries(region: str, counties_of: str = NATION) -> dict:
    """What a drawn map of `region` shows: its children's shapes, or for `COUNTIES` every county
    under `counties_of` (`geo.counties_geojson`)."""
    from dashboard import geo

    return geo.counties_geojson(counties_of) if region == COUNTIES else geo.children_geojson(region)


def shapes(region: str, counties_of: str = NATION) -> str:
    """The locations a drawn map of `region`'s children has (outline too): the `_MAP_LOCS` string."""
    found = boundaries(region, counties_of)
    codes = [f["id"] for f in (found.get("outline") or {}).get("features", [])]
    return ",".join(sorted(codes + [f["id"] for f in found["features"]]))


def wait_drawn(page, region: str, timeout: float = 60_000, counties_of: str = NATION) -> None:
    page.wait_for_function(_DRAWN, arg=shapes(region, counties_of), polling="raf", timeout=timeout)


def _settle(page) -> None:
    """Wait until the script run is over (the page is idle between measures)."""
    page.wait_for_selector(READY, state="attached", timeout=60_000)


def _query(region: str, counties_of: str = NATION) -> str:
    if region == COUNTIES:
        return f"region={counties_of}&map={MAP_INDICATOR}&overview-map_unit=counties"
    return f"region={region}&map={MAP_INDICATOR}"


def _url(server, region: str, counties_of: str = NATION) -> str:
    return f"{server.url}/?{_query(region, counties_of)}"


def _open(browser, url: str, region: str, runs: int, counties_of: str = NATION) -> dict:
    """First load (new context), then `runs` loads in a context that has opened the page."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    frames: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(len(data))))
    start = time.perf_counter()
    page.goto(url)
    wait_drawn(page, region, counties_of=counties_of)
    first = time.perf_counter() - start
    _settle(page)
    first_frames = list(frames)
    loads, sent = [], []
    for _ in range(runs):
        frames.clear()
        start = time.perf_counter()
        page.goto(url)
        wait_drawn(page, region, counties_of=counties_of)
        loads.append(time.perf_counter() - start)
        _settle(page)
        sent.append(sum(frames))
    context.close()
    return {
        "first": first,
        "loads": loads,
        "ws_bytes": sent,  # every websocket frame received per load
        "largest_frame": max(first_frames),  # the map's delta (the largest message of the first load)
        "shapes": len(boundaries(region, counties_of)["features"]),
    }


def _open_drawn(page, url: str, region: str, counties_of: str = NATION) -> None:
    page.goto(url)
    wait_drawn(page, region, counties_of=counties_of)
    _settle(page)


def _timed_clicks(page, server, region: str, target: str, runs: int, aim) -> list[float]:
    """On `region`'s page, freshly loaded before each run: the click `aim(page)` returns →
    `target`'s map drawn."""
    out = []
    for _ in range(runs):
        _open_drawn(page, _url(server, region), region)
        click = aim(page)  # where to click is found before the clock starts
        start = time.perf_counter()
        click()
        wait_drawn(page, target)
        out.append(time.perf_counter() - start)
        _settle(page)
    return out


def _drill(page, server, region: str, child: str, runs: int) -> list[float]:
    """A click inside `child`'s shape on `region`'s map → `child`'s map drawn."""

    def aim(page):
        x, y = page.evaluate(_INSIDE, child)
        return lambda: page.mouse.click(x, y)

    return _timed_clicks(page, server, region, child, runs, aim)


def _up(page, server, region: str, parent: str, name: str, runs: int) -> list[float]:
    """A click on `parent` in the breadcrumb of `region`'s page → `parent`'s map drawn."""
    return _timed_clicks(
        page,
        server,
        region,
        parent,
        runs,
        lambda page: page.locator(".st-key-breadcrumb").get_by_role("button", name=name).click,
    )


def _switch(page, server, counties_of: str, runs: int) -> list[float]:
    """On `counties_of`'s 总览 map, a click on 全部区县 → every county under it drawn (then back
    to its children's map), `runs` times."""
    _open_drawn(page, _url(server, counties_of), counties_of)
    unit = page.locator(".st-key-overview-map_unit")
    out = []
    for n in range(runs):
        start = time.perf_counter()
        unit.get_by_text("全部区县").click()
        wait_drawn(page, COUNTIES, counties_of=counties_of)
        out.append(time.perf_counter() - start)
        _settle(page)
        if n < runs - 1:
            unit.get_by_text("各", exact=False).first.click()
            wait_drawn(page, counties_of)
            _settle(page)
    return out


PAGE_LOADS = (NATION, PROVINCE, CITY, COUNTIES)


def map_timings(
    app, runs: int = 5, counties_of: str | None = None, page_loads: tuple[str, ...] = PAGE_LOADS
) -> dict:
    """Every map measure of issue 20 in chromium against the app server `app` (`counties_of`: the
    全部区县 map of that province instead of the nation's, for quick mode), and the page loads
    of the maps in `page_loads`. The clicks are timed in one tab: each starts from a full page
    load, and a new tab would only add chromium's script compilation to the set-up."""
    from playwright.sync_api import sync_playwright

    from dashboard import geo
    from tests.browser import ARGS, CHROMIUM

    counties_of = counties_of or NATION
    province_name = next(
        f["properties"]["name"] for f in geo.children_geojson(NATION)["features"] if f["id"] == PROVINCE
    )
    out: dict = {}
    # first, over the websocket: the server's first view builds the county figure
    out["counties_payload"] = asyncio.run(county_payload(app.port, _query(COUNTIES, counties_of)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        out["counties_shapes"] = len(boundaries(COUNTIES, counties_of)["features"])
        for region in page_loads:
            out[region] = _open(browser, _url(app, region, counties_of), region, runs, counties_of)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        out["drill_nation"] = _drill(page, app, NATION, PROVINCE, runs)
        out["drill_province"] = _drill(page, app, PROVINCE, CITY, runs)
        out["up_nation"] = _up(page, app, PROVINCE, NATION, "全国", runs)
        out["up_province"] = _up(page, app, CITY, PROVINCE, province_name, runs)
        out["switch_counties"] = _switch(page, app, counties_of, runs)
        browser.close()
    return out


async def county_payload(port: int, query_string: str) -> dict:
    """The 全部区县 page's first run in the server (the figure built: `first_view_s`), and what
    it sends: the websocket message with the map (the page's largest plotly chart), the
    figure's JSON spec in it, and the GeoJSON inside that spec (the choropleth traces'
    `geojson` re-serialised compactly: the outline and the fills)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    from bench.server_bench import Session

    session = await Session.open(port)
    msg = BackMsg()
    msg.rerun_script.query_string = query_string
    msg.rerun_script.page_name = ""
    start = time.perf_counter()
    got = await session.exchange(msg, timeout=1800)
    first = time.perf_counter() - start
    await session.close()
    return {"first_view_s": first, **_payload(got)}


def _payload(messages: list[ForwardMsg]) -> dict:
    chart = max(
        (
            fm
            for fm in messages
            if fm.WhichOneof("type") == "delta"
            and fm.delta.WhichOneof("type") == "new_element"
            and fm.delta.new_element.WhichOneof("type") == "plotly_chart"
        ),
        key=lambda fm: fm.ByteSize(),
    )
    spec = chart.delta.new_element.plotly_chart.spec
    figure = json.loads(spec)
    traces = [t for t in figure["data"] if t.get("type") == "choropleth"]
    geojson = sum(
        len(json.dumps(t["geojson"], ensure_ascii=False, separators=(",", ":")).encode()) for t in traces
    )
    return {
        "message_bytes": chart.ByteSize(),
        "spec_bytes": len(spec.encode()),
        "geojson_bytes": geojson,
        "all_messages_bytes": sum(fm.ByteSize() for fm in messages),
        "traces": len(figure["data"]),
    }


def level_reruns(app, runs: int = 30, pages: tuple[str, ...] = tuple(PAGES)) -> dict:
    """Per page (of `server_bench.PAGES`): the rerun after a change of the children filter at
    city (宝鸡市), province (陕西省) and national level, one warm websocket session per level,
    reruns interleaved so all levels see the same machine."""

    async def run(port: int, pid: int) -> dict:
        process = psutil.Process(pid)
        out = {}
        for page in pages:
            probes = {
                region: Probe(port, process, page, f"region={region}", LEVEL_LABELS[region], values)
                for region, values in LEVEL_VALUES.items()
            }
            for probe in probes.values():
                await probe.start()
            for n in range(runs):
                for probe in probes.values():
                    await probe.step(n)
            for probe in probes.values():
                await probe.session.close()
            out[page or "overview"] = {region: probe.walls for region, probe in probes.items()}
        return out

    return asyncio.run(run(app.port, app.pid))


def measure(
    data_dir: Path,
    runs: int,
    reruns: int,
    counties_of: str | None = None,
    pages: tuple[str, ...] = tuple(PAGES),
    page_loads: tuple[str, ...] = PAGE_LOADS,
) -> dict:
    """The map measures, then the reruns by level, against one app server."""
    with serve_app(data_dir) as app:
        return {
            "maps": map_timings(app, runs, counties_of, page_loads),
            "reruns": level_reruns(app, reruns, pages),
        }


def ratio(walls: dict, region: str) -> float:
    return statistics.median(walls[region]) / statistics.median(walls[CITY])
