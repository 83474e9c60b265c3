"""Uploads only from administrators: the server's uploaded-file manager refuses every other session.

How Streamlit 1.67 takes an upload: the browser asks for upload URLs with a `file_urls_request`
BackMsg on the session's websocket (`AppSession._handle_file_urls_request` →
`uploaded_file_mgr.get_upload_urls`), then PUTs each file, multipart, to
`/_stcore/upload_file/<session id>/<file id>` (starlette route `_upload_put` in
`web/server/starlette/starlette_routes.py`). That route checks only that the session is live, the
XSRF cookie/header pair and `server.maxUploadSize`; it reads the whole file into memory and hands
it to `MemoryUploadedFileManager.add_file`, which keeps the bytes until the browser DELETEs the
file or the session ends. Any file id under one's own session id is accepted, asked for or not.
So a viewer — who never sees an uploader — could park files of up to `maxUploadSize` MB in the
server's memory, as many as it liked, for as long as its session lived.

`install()` (app.py, at the top of every run) wraps that one manager object in place, once per
process: its `get_upload_urls` grants URLs and its `add_file` keeps a file only for a live
session with an administrator — `admin_user` in its session state and not idle longer than
`ADMIN_IDLE_SECONDS` (auth.py's rule), or an OIDC administrator noted on a run of the session.
Any other upload is dropped at once: a warning names the session and the size (never the name or
the content) and the PUT is answered 403. Every run also drops the files of live sessions that
are no longer administrators (logged out, expired).

Why an internal: Streamlit has no public hook on the upload path. The route and each AppSession
hold the manager object made at server start, so it cannot be replaced — only its methods, on
that instance. It is done here and nowhere else; `wrap` refuses a manager without the methods it
wraps, and tests/test_uploads.py fails if the route, the URL request or the manager change.

Left to Streamlit: the route reads a file (up to `maxUploadSize`) before `add_file` sees it, so
a refused upload still costs its size in memory for the length of the request. And the manager
is wrapped by the first run of app.py in the process: a client learns its session id only when
a run starts, but one that stops that run before app.py's first line, on a server no session
has yet run the app on, is served by the unwrapped manager until some run wraps it (whose sweep
then drops its files). A warm-up run at start (e.g. `server.scriptHealthCheckEnabled` and one
request to `/_stcore/script-health-check`) closes that window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from etl.settings import ADMIN_IDLE_SECONDS

from . import auth

log = logging.getLogger(__name__)

# the manager methods the guard replaces, and the ones it calls
WRAPPED = ("get_upload_urls", "add_file")
USED = ("remove_session_files", "file_storage")
_MARK = "_mz_upload_guard"
_wrap_lock = threading.Lock()


def _value(state: Any, key: str) -> Any:
    try:
        return state[key]
    except KeyError:
        return None


def is_admin_state(state: Any, now: float | None = None) -> bool:
    """A session state with a logged-in administrator who has not been idle too long (auth.py)."""
    if state is None or not _value(state, "admin_user"):
        return False
    seen = _value(state, "admin_seen") or 0
    return (time.time() if now is None else now) - seen <= ADMIN_IDLE_SECONDS


class UploadGuard:
    """Replaces `get_upload_urls` and `add_file` on one uploaded-file manager instance.

    `state_of(session_id)` is the live session's session state, or None when no such session
    is live; it is called from the server's event loop while the session's script may run."""

    def __init__(self, manager: Any, state_of: Callable[[str], Any]):
        missing = [name for name in (*WRAPPED, *USED) if not hasattr(manager, name)]
        if missing:
            raise RuntimeError(
                f"Streamlit's uploaded-file manager {type(manager).__name__} has no {', '.join(missing)}: "
                "dashboard/upload_guard.py cannot refuse uploads from viewers; update it for this Streamlit"
            )
        self.manager = manager
        self.state_of = state_of
        self._urls = manager.get_upload_urls
        self._add = manager.add_file
        self._oidc: set[str] = set()  # sessions an OIDC administrator is logged in to
        self._lock = threading.Lock()

    def allowed(self, session_id: str) -> bool:
        state = self.state_of(session_id)
        if state is None:
            return False
        with self._lock:
            oidc = session_id in self._oidc
        return oidc or is_admin_state(state)

    def get_upload_urls(self, session_id: str, file_names: Sequence[str]) -> list:
        if not self.allowed(session_id):
            log.warning("upload URLs refused: session %s has no administrator", session_id)
            return []
        return self._urls(session_id, file_names)

    def add_file(self, session_id: str, file: Any) -> None:
        if not self.allowed(session_id):
            size = len(file.data)
            log.warning("upload refused: session %s has no administrator (%d bytes)", session_id, size)
            raise HTTPException(status_code=403, detail="Uploads need an administrator session")
        self._add(session_id, file)

    def note_oidc(self, session_id: str, is_admin: bool) -> None:
        with self._lock:
            (self._oidc.add if is_admin else self._oidc.discard)(session_id)

    def sweep(self) -> list[str]:
        """Drop the files of live sessions that are not administrators; returns their ids.
        Sessions that are not live are left to Streamlit, which drops their files when they end."""
        dropped = []
        for session_id in list(self.manager.file_storage):
            if self.state_of(session_id) is not None and not self.allowed(session_id):
                self.manager.remove_session_files(session_id)
                log.warning("uploaded files dropped: session %s has no administrator", session_id)
                dropped.append(session_id)
        with self._lock:
            self._oidc = {s for s in self._oidc if self.state_of(s) is not None}
        return dropped


def wrap(manager: Any, state_of: Callable[[str], Any]) -> UploadGuard:
    """The guard of `manager`, made and put in place on the first call."""
    with _wrap_lock:
        guard = getattr(manager, _MARK, None)
        if guard is None:
            guard = UploadGuard(manager, state_of)
            manager.get_upload_urls = guard.get_upload_urls
            manager.add_file = guard.add_file
            setattr(manager, _MARK, guard)
        return guard


def _live_state(session_id: str) -> Any:
    app_session = runtime.get_instance().get_app_session(session_id)
    return None if app_session is None else app_session.session_state


def install() -> UploadGuard | None:
    """From app.py on every run: wrap the server's manager (first run in the process), note
    whether an OIDC administrator is logged in to this session, drop non-administrators' files.
    Does nothing without a server (AppTest: its files arrive straight in its own manager)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return None
    manager = runtime.get_instance().uploaded_file_mgr
    if ctx.uploaded_file_mgr is not manager:
        return None
    guard = wrap(manager, _live_state)
    guard.note_oidc(ctx.session_id, auth._oidc_admin() is not None)
    guard.sweep()
    return guard
