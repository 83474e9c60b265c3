"""Uploads only from administrators (dashboard/upload_guard.py), and memory after refused uploads.

Fast: the guard on a real MemoryUploadedFileManager (administrator kept, viewer, expired
administrator and ended sessions refused, the sweep), and the Streamlit internals it wraps — the
upload route and the URL request — driven directly, so a Streamlit upgrade that moves them fails
here. Slow: a real server, a viewer session speaking Streamlit's protocol (bench/server_bench.py's
`Session`) PUTs 40 MB files and a 60 MB one; all refused, and the server's memory comes back.
"""

from __future__ import annotations

import asyncio
import os
import time
from types import SimpleNamespace

import psutil
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.state.session_state import SessionState
from streamlit.runtime.uploaded_file_manager import UploadedFileRec
from streamlit.web.server.starlette.starlette_routes import create_upload_routes

from bench.server_bench import Session, upload_request
from dashboard import auth, upload_guard
from etl.settings import ADMIN_IDLE_SECONDS, UPLOAD_LIMIT_MB
from tests.browser import serve_app
from tests.util import run_async

MB = 1024 * 1024
ENDPOINT = "/_stcore/upload_file"


def admin_state(seen: float | None = None) -> SessionState:
    state = SessionState()
    state["admin_user"] = "admin"
    state["admin_seen"] = time.time() if seen is None else seen
    return state


def rec(file_id: str, size: int = 10) -> UploadedFileRec:
    return UploadedFileRec(file_id=file_id, name=f"{file_id}.csv", type="text/csv", data=b"x" * size)


@pytest.fixture
def guarded():
    """A manager guarded against these sessions: admin, viewer, expired (admin idle too long)."""
    states = {"admin": admin_state(), "viewer": SessionState(), "expired": admin_state(0.0)}
    manager = MemoryUploadedFileManager(ENDPOINT)
    guard = upload_guard.wrap(manager, states.get)
    return manager, guard, states


def test_admin_session_keeps_its_files(guarded):
    manager, _, _ = guarded
    urls = manager.get_upload_urls("admin", ["a.csv", "b.csv"])
    assert [u.upload_url.rsplit("/", 2)[1] for u in urls] == ["admin", "admin"]
    manager.add_file("admin", rec("f1"))
    assert [f.file_id for f in manager.get_files("admin", ["f1"])] == ["f1"]


@pytest.mark.parametrize("session", ["viewer", "expired", "gone"])
def test_other_sessions_get_no_urls_and_their_files_are_dropped(guarded, session, caplog):
    manager, _, _ = guarded
    assert manager.get_upload_urls(session, ["a.csv"]) == []
    with pytest.raises(HTTPException) as refused:
        manager.add_file(session, rec("secret-name", 1000))
    assert refused.value.status_code == 403
    assert manager.get_files(session, ["secret-name"]) == [] and session not in manager.file_storage
    assert manager.get_stats() == {}  # nothing counted as kept
    lines = [r.getMessage() for r in caplog.records if r.name == "dashboard.upload_guard"]
    assert any(session in line and "1000 bytes" in line for line in lines), lines
    assert not any("secret-name" in line for line in lines)  # the session and size, never the file


def test_the_idle_limit_is_auth_s():
    now = time.time()
    assert upload_guard.is_admin_state(admin_state(now - ADMIN_IDLE_SECONDS + 5), now)
    assert not upload_guard.is_admin_state(admin_state(now - ADMIN_IDLE_SECONDS - 5), now)
    assert not upload_guard.is_admin_state({"admin_user": None, "admin_seen": now}, now)
    assert not upload_guard.is_admin_state(None, now)


def test_an_oidc_administrator_noted_on_a_run_may_upload(guarded):
    manager, guard, states = guarded
    states["oidc"] = SessionState()
    assert manager.get_upload_urls("oidc", ["a.csv"]) == []
    guard.note_oidc("oidc", True)
    manager.add_file("oidc", rec("f1"))
    assert manager.get_files("oidc", ["f1"])
    guard.note_oidc("oidc", False)
    assert guard.sweep() == ["oidc"] and not manager.get_files("oidc", ["f1"])


def test_sweep_drops_files_of_live_sessions_without_an_administrator(guarded):
    manager, guard, states = guarded
    manager.add_file("admin", rec("kept"))
    states["logged_out"] = admin_state()
    manager.add_file("logged_out", rec("left"))
    del states["logged_out"]["admin_user"]
    MemoryUploadedFileManager.add_file(manager, "ended", rec("streamlit's"))  # e.g. before the wrap
    assert guard.sweep() == ["logged_out"]
    assert set(manager.file_storage) == {"admin", "ended"}  # an ended session: Streamlit's to drop
    assert manager.get_stats()["cache_memory_bytes"][0].byte_length == 20


def test_wrapping_is_once_per_manager_and_needs_the_methods_it_wraps(guarded):
    manager, guard, _ = guarded
    assert upload_guard.wrap(manager, dict().get) is guard
    assert manager.add_file == guard.add_file
    with pytest.raises(RuntimeError, match="upload_guard"):
        upload_guard.wrap(SimpleNamespace(get_files=None), dict().get)


def test_install_without_a_server_does_nothing():
    assert upload_guard.install() is None  # no script run here (AppTest runs have no server either)


def test_install_notes_oidc_administrators(monkeypatch):
    """install() asks auth who the OIDC administrator is (a rename in auth.py fails here)."""
    manager = MemoryUploadedFileManager(ENDPOINT)
    ctx = SimpleNamespace(session_id="s1", uploaded_file_mgr=manager)
    states = {"s1": SessionState()}
    fake_runtime = SimpleNamespace(uploaded_file_mgr=manager, get_app_session=lambda s: None)
    monkeypatch.setattr(upload_guard, "get_script_run_ctx", lambda suppress_warning=False: ctx)
    monkeypatch.setattr(upload_guard.runtime, "exists", lambda: True)
    monkeypatch.setattr(upload_guard.runtime, "get_instance", lambda: fake_runtime)
    monkeypatch.setattr(upload_guard, "_live_state", states.get)
    monkeypatch.setattr(auth, "_oidc_admin", lambda: "clerk@example.org")
    guard = upload_guard.install()
    assert guard is not None and guard.allowed("s1") and manager.add_file == guard.add_file
    monkeypatch.setattr(auth, "_oidc_admin", lambda: None)
    assert not upload_guard.install().allowed("s1")


# ---- the Streamlit internals the guard relies on -------------------------------------------


def test_streamlit_hands_the_url_request_to_the_manager():
    """AppSession answers a file_urls_request BackMsg with the manager's get_upload_urls."""
    calls, sent = [], []
    manager = SimpleNamespace(get_upload_urls=lambda sid, names: calls.append((sid, list(names))) or [])
    session = SimpleNamespace(id="s1", _uploaded_file_mgr=manager, _enqueue_forward_msg=sent.append)
    msg = BackMsg()
    msg.file_urls_request.request_id = "r1"
    msg.file_urls_request.file_names.append("a.csv")
    AppSession._handle_file_urls_request(session, msg.file_urls_request)
    assert calls == [("s1", ["a.csv"])]
    assert sent[0].file_urls_response.response_id == "r1" and not sent[0].file_urls_response.file_urls
    # what _live_state reads: the live session's state, from any thread
    assert callable(Runtime.get_app_session) and isinstance(AppSession.session_state, property)


def _put(app, session_id: str, file_id: str, data: bytes) -> int:
    headers, body = upload_request("a.csv", data)
    path = f"{ENDPOINT}/{session_id}/{file_id}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    chunks = [{"type": "http.request", "body": body, "more_body": False}]
    status = []

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    run_async(app(scope, receive, send))
    return status[0]


def test_streamlit_s_upload_route_stores_through_the_guard(guarded):
    """The PUT route calls add_file on the manager object it was built with (the guard replaces
    the method on that object), and a refusal from add_file is the client's 403."""
    manager, _, states = guarded
    live = SimpleNamespace(is_active_session=lambda sid: sid in states)
    app = Starlette(routes=create_upload_routes(live, manager, ""))
    assert _put(app, "admin", "f1", b"1,2\n") == 204
    assert [f.data for f in manager.get_files("admin", ["f1"])] == [b"1,2\n"]
    assert _put(app, "viewer", "f2", b"1,2\n") == 403
    assert "viewer" not in manager.file_storage
    assert _put(app, "gone", "f3", b"1,2\n") == 400  # Streamlit's own check: no such session


# ---- a real server -------------------------------------------------------------------------


def _rss(process: psutil.Process) -> float:
    return process.memory_info().rss / MB


@pytest.mark.slow
def test_a_viewer_cannot_park_files_in_server_memory(served, tmp_path):
    log_path = tmp_path / "streamlit.log"
    data = os.urandom(40 * MB)

    async def viewer(port: int, process: psutil.Process) -> dict:
        session = await Session.open(port)
        await session.rerun()  # 总览, as a browser opens it: the first run wraps the manager
        assert session.session_id and not session.errors
        await asyncio.sleep(1)
        numbers = {"baseline": _rss(process), "after": [], "statuses": []}
        numbers["urls"] = await session.upload_urls(["a.csv", "b.csv"])
        for n in range(5):  # 200 MB in all: kept, they would be far beyond the bound below
            url = f"{ENDPOINT}/{session.session_id}/made-up-{n}"
            numbers["statuses"].append(await session.put_file(url, "secret-name.csv", data))
            numbers["after"].append(_rss(process))
        deadline = time.monotonic() + 5
        while _rss(process) - numbers["baseline"] > 100 and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        numbers["settled"] = _rss(process)
        big = (UPLOAD_LIMIT_MB + 10) * MB
        url = f"{ENDPOINT}/{session.session_id}/too-big"
        numbers["oversize"] = await session.put_file(url, "big.csv", os.urandom(big))
        numbers["id"] = session.session_id
        await session.close()
        return numbers

    with serve_app(served, log_path) as server:
        numbers = run_async(viewer(server.port, psutil.Process(server.pid)))
    base = numbers["baseline"]
    print(
        f"\nRSS baseline {base:.0f} MB; after each 40 MB PUT "
        + ", ".join(f"{rss:.0f}" for rss in numbers["after"])
        + f" MB; settled {numbers['settled']:.0f} MB (+{numbers['settled'] - base:.0f})"
    )
    assert numbers["urls"] == []
    assert numbers["statuses"] == [403] * 5
    assert numbers["oversize"] == 413  # server.maxUploadSize = UPLOAD_LIMIT_MB
    assert numbers["settled"] - base < 100, numbers
    log = log_path.read_text()
    assert log.count(f"upload refused: session {numbers['id']}") == 5
    assert f"upload URLs refused: session {numbers['id']}" in log
    assert "secret-name" not in log
