"""Meeting-pack benchmark: a 12-slide deck for one city as PPTX and PDF, from the command line
(a fresh process, as a user runs it), and the kaleido time per chart image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def deck_exports(data_dir: Path, runs: int = 3, slides: tuple[str, ...] | None = None) -> dict:
    """PPTX and PDF of the deck (`slides`: these slides only; None: the whole deck), then the
    kaleido time per chart picture of the same slides."""
    from dashboard import deck

    slides = slides or tuple(deck.slide_ids())
    out: dict = {"pptx": [], "pdf": [], "per_image": [], "slides": len(slides)}
    env = {**os.environ, "MZ_DATA_DIR": str(data_dir)}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            for suffix in ("pptx", "pdf"):
                start = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "dashboard",
                        "deck",
                        "--city",
                        "610300",
                        "--year",
                        "2024",
                        "--slides",
                        ",".join(slides),
                        "--out",
                        f"{tmp}/deck.{suffix}",
                    ],
                    cwd=REPO,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                out[suffix].append(time.perf_counter() - start)
        probe = (
            "import json,time,logging; logging.getLogger('streamlit').setLevel(logging.ERROR)\n"
            "from pathlib import Path\nfrom dashboard import deck, meeting_pack, store\n"
            "s = deck.build(deck.Scope('610300', 2024, store.counties_of('610300'), 2016), "
            f"{list(slides)!r})\n"
            "n = sum(x.figure is not None for x in s)\nt = time.perf_counter()\n"
            f"meeting_pack.render_images(s, Path({tmp!r}))\n"
            "print(json.dumps({'n': n, 's': time.perf_counter() - t}))"
        )
        for _ in range(runs):
            result = subprocess.run(
                [sys.executable, "-c", probe], cwd=REPO, env=env, check=True, capture_output=True, text=True
            )
            data = json.loads(result.stdout.strip().splitlines()[-1])
            out["per_image"].append(data["s"] / data["n"])
            out["images"] = data["n"]
    return out
