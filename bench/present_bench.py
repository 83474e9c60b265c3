"""Presentation-mode benchmark (演示, pages/present.py): in Debian chromium at 1920×1080, a key
press → the next slide drawn (its footer number current, nothing stale left, its chart's SVG in
place), through the whole deck. The first pass builds each slide for the first time (the server's
per-version caches are cold for this city), a second pass after Home shows the steady state."""

from __future__ import annotations

import time
from pathlib import Path

from tests.browser import SLIDE_CHART, WARMUP, serve_app

CITY = "610300"
# The slide n is drawn: its footer number shows, no element of the previous slide is left (stale),
# and every chart on the canvas has drawn its SVG.
DRAWN = f"""label => {{
  const canvas = document.querySelector('.st-key-canvas');
  if (!canvas || canvas.querySelector('[data-stale="true"]')) return false;
  const number = canvas.querySelector('[data-stale="false"] .mz-number');
  if (!number || number.textContent.trim() !== label) return false;
  return [...document.querySelectorAll('{SLIDE_CHART}')].every(c => c.querySelector('.main-svg'));
}}"""


def _step(page, key: str, n: int, total: int) -> float:
    start = time.perf_counter()
    page.keyboard.press(key)
    page.wait_for_function(DRAWN, arg=f"{n} / {total}", polling="raf", timeout=30_000)
    return time.perf_counter() - start


def slide_steps(data_dir: Path, slides: tuple[str, ...] | None = None) -> dict:
    """Seconds per key press → slide drawn through the deck (`slides`: these slides only; None:
    every slide): first pass (`cold`, with the slides that hold a chart marked) and a second pass
    (`warm`); `open` is the page load to the cover drawn."""
    from playwright.sync_api import sync_playwright

    from dashboard import deck
    from tests.browser import ARGS, CHROMIUM

    total = len(slides or deck.slide_ids())
    chosen = f"&slides={','.join(slides)}" if slides else ""
    out: dict = {"cold": [], "chart": [], "warm": [], "slides": total}
    with serve_app(data_dir) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        start = time.perf_counter()
        page.goto(f"{app.url}/present?city={CITY}{chosen}")
        page.wait_for_function(DRAWN, arg=f"1 / {total}", polling="raf", timeout=60_000)
        out["open"] = time.perf_counter() - start
        # the cover stays up until the page is idle, as while a presenter opens: its keys bound
        # (after the first draw) and plotly's code loaded by the warm-up chart (pages/present.py)
        page.wait_for_function("() => !!window.__mzPresent", timeout=30_000)
        page.wait_for_selector(f"{WARMUP} .main-svg", state="attached", timeout=30_000)
        for n in range(2, total + 1):
            out["cold"].append(_step(page, "ArrowRight", n, total))
            out["chart"].append(page.locator(SLIDE_CHART).count() > 0)
        out["home"] = _step(page, "Home", 1, total)
        for n in range(2, total + 1):
            out["warm"].append(_step(page, "ArrowRight", n, total))
        browser.close()
    return out
