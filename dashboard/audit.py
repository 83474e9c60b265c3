"""The audit log: who logged in (or failed to), uploaded, published or rolled back, and when.

One JSON line per event in `<data-dir>/audit/audit.jsonl`, beside the data it is about, so it
survives app restarts and travels with a deployment's data dir.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

from etl.paths import data_dir

_LOCK = threading.Lock()  # sessions run in threads of one process


def _path():
    return data_dir() / "audit" / "audit.jsonl"


def record(event: str, user: str, **details) -> None:
    entry = {
        "time": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "event": event,
        "user": user,
        **details,
    }
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def entries(limit: int = 500) -> list[dict]:
    """Newest first."""
    path = _path()
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-limit:]
    return [json.loads(line) for line in reversed(lines) if line.strip()]
