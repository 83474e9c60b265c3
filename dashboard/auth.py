"""Administrator login for 数据管理: a salted scrypt hash from secrets, never a default password.

The hash lives in `.streamlit/secrets.toml` (`[admin] password_hash = "…"`, optional
`user = "…"`) or the environment variable `MZ_ADMIN_PASSWORD_HASH`; `python -m dashboard
hash-password` makes one. Failed logins are logged and slow down, per session, per client
address and — after many failures from anybody — for everybody (`Throttle`); an admin session
ends after 30 minutes without interaction.

The client address is the connection's own (TCP peer) address, unless that peer is a trusted
proxy (`MZ_TRUSTED_PROXIES`; deploy/serve.py trusts its own nginx on loopback), whose `X-Real-IP`
then names the client (`client_address`). A client's own `X-Forwarded-For` / `X-Real-IP` are never
believed: nginx overwrites both. Streamlit's server (uvicorn) would itself replace the peer by
`X-Forwarded-For` when the peer is in uvicorn's `FORWARDED_ALLOW_IPS` (loopback by default), so
`make run` and deploy/serve.py start it with that list empty.

Where the intranet has an OIDC provider, an `[auth]` section in secrets (Streamlit's own
`st.login` settings) plus `[admin] oidc_emails = ["…"]` lets those accounts in as well.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import streamlit as st

from etl.paths import data_dir
from etl.settings import (
    ADMIN_IDLE_SECONDS,
    FAILED_LOGIN_WINDOW,
    GLOBAL_FAILED_LOGINS,
    admin_password_hash,
    trusted_proxies,
)
from etl.settings import ENV_ADMIN_PASSWORD_HASH as ENV_HASH  # noqa: F401  (pages/admin.py names it)

from . import audit

log = logging.getLogger(__name__)

_N, _R, _P = 2**14, 8, 1
MAX_DELAY = 30.0  # seconds, the longest wait before one login attempt is checked


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(
        [
            "scrypt",
            str(_N),
            str(_R),
            str(_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _secret(section: str, key: str):
    try:
        return st.secrets[section][key]
    except (KeyError, FileNotFoundError, AttributeError):
        return None
    except Exception:  # no secrets file at all: Streamlit raises its own error type
        return None


def configured_hash() -> str | None:
    return admin_password_hash() or _secret("admin", "password_hash")


def admin_user() -> str:
    return _secret("admin", "user") or "admin"


def oidc_configured() -> bool:
    """An OIDC provider in secrets and at least one administrator account named for it."""
    return bool(_secret("auth", "redirect_uri") and _secret("admin", "oidc_emails"))


def _oidc_admin() -> str | None:
    if not oidc_configured():
        return None
    try:
        if st.user.is_logged_in and st.user.get("email") in _secret("admin", "oidc_emails"):
            return str(st.user.get("email"))
    except Exception:  # provider settings incomplete: fall back to the password
        log.exception("OIDC user check failed")
    return None


# ---------------------------------------------------------------- who is logging in
def _ip(text: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(str(text).strip()) if text else None
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped  # ::ffff:10.0.0.5 is 10.0.0.5
    return ip


def client_address(
    peer: str | None, headers: Iterable[tuple[str, str]], trusted: Iterable[str]
) -> str | None:
    """The client's address as far as it can be known: the connection's own address `peer`, or —
    only when `peer` is in one of the `trusted` proxy networks — the one `X-Real-IP` that proxy
    set. None when unknown (no peer, or a trusted proxy that named no valid client)."""
    ip = _ip(peer)
    if ip is None:
        return None
    if not any(ip in ipaddress.ip_network(net, strict=False) for net in trusted):
        return str(ip)  # a direct client: whatever headers it sends are its own words
    named = [value for name, value in headers if name.lower() == "x-real-ip"]
    real = _ip(named[0]) if len(named) == 1 else None
    return str(real) if real else None


def _connection() -> tuple[str | None, list[tuple[str, str]]]:
    """This session's TCP peer and the headers of its websocket handshake. Not
    `st.context.ip_address`: it hides loopback peers (our nginx) as None."""
    try:
        from streamlit import runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        client = runtime.get_instance().get_client(ctx.session_id) if ctx and runtime.exists() else None
        context = client.client_context if client is not None else None
        peer, headers = context.remote_ip, list(context.headers)
    except Exception:  # no runtime or no connection (bare mode): nothing is known
        return None, []
    if not isinstance(peer, str):  # AppTest's stand-in client
        return None, []
    return peer, [(k, v) for k, v in headers if isinstance(k, str) and isinstance(v, str)]


# ---------------------------------------------------------------- slowing down failed logins
def login_delay(failures: int) -> float:
    """The wait before an attempt after `failures` recent failures of one address or session:
    0, 0.5, 1, 2, 4 … seconds, at most MAX_DELAY."""
    return 0.0 if failures <= 0 else min(0.5 * 2 ** (failures - 1), MAX_DELAY)


def global_delay(failures: int) -> float:
    """The wait for everybody after `failures` recent failures from all clients together: none
    below GLOBAL_FAILED_LOGINS, then 1 s, doubling every 5 more, at most MAX_DELAY."""
    if failures < GLOBAL_FAILED_LOGINS:
        return 0.0
    return min(2.0 ** ((failures - GLOBAL_FAILED_LOGINS) // 5), MAX_DELAY)


class Throttle:
    """Recent failed logins of one data dir, shared by every process serving it (the replicas
    behind nginx each get some of a client's fresh sessions): `<data-dir>/audit/failed_logins.json`,
    read and rewritten under an exclusive flock; in this process's memory when it cannot be written.

    An attempt reserves its start: the address's own slow-down counts its recent failures and the
    attempts still waiting, and starts after the last of those, so attempts sent at the same time
    from one address are checked one after another, not side by side. The session's and the global
    slow-down only add a wait (the global one queues nobody behind an attacker's attempts)."""

    _memory: dict[str, dict] = {}
    _lock = threading.Lock()

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time):
        self.path, self.clock = path, clock

    @contextlib.contextmanager
    def _state(self) -> Iterator[dict]:
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except (OSError, AttributeError):  # read-only data dir (or no path): this process only
                state = self._memory.setdefault(str(self.path), {})
                yield self._pruned(state)
                return
            with open(fd, "r+", encoding="utf-8") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                try:
                    state = json.loads(f.read() or "{}")
                except ValueError:
                    state = {}
                state = self._pruned(state if isinstance(state, dict) else {})
                yield state
                f.seek(0)
                f.truncate()
                f.write(json.dumps(state))

    def _pruned(self, state: dict) -> dict:
        """Only well-formed [time, address] entries; failures of the window (the newest 10,000),
        reservations up to 2 minutes past their start (an attempt is checked within seconds of it;
        older ones are of a process that died)."""
        now = self.clock()

        def entries(key: str, keep: Callable[[float], bool]) -> list:
            found = state.get(key)
            return [
                e
                for e in (found if isinstance(found, list) else [])
                if isinstance(e, list)
                and len(e) == 2
                and isinstance(e[0], int | float)
                and (e[1] is None or isinstance(e[1], str))
                and keep(e[0])
            ]

        state["failures"] = entries("failures", lambda t: now - t < FAILED_LOGIN_WINDOW)[-10_000:]
        state["pending"] = entries("pending", lambda t: now - t < 120)
        return state

    def reserve(self, address: str | None, session_failures: int) -> tuple[float, float]:
        """(seconds to wait, the reserved start) for an attempt from `address` (None: unknown) by a
        session with `session_failures` failures; hand the start to `finish` afterwards."""
        with self._state() as state:
            now = self.clock()
            start = now + max(login_delay(session_failures), global_delay(len(state["failures"])))
            if address is not None:
                failed = sum(1 for f in state["failures"] if f[1] == address)
                waiting = [p[0] for p in state["pending"] if p[1] == address]
                start = max(start, max([now, *waiting]) + login_delay(failed + len(waiting)))
                state["pending"].append([start, address])
            return start - now, start

    def finish(self, address: str | None, start: float, failed: bool) -> None:
        with self._state() as state:
            if [start, address] in state["pending"]:
                state["pending"].remove([start, address])
            if failed:
                state["failures"].append([self.clock(), address])

    def failures(self, address: str | None = None) -> int:
        """Recent failures of `address`, or of everybody."""
        with self._state() as state:
            return sum(1 for f in state["failures"] if address is None or f[1] == address)


def _throttle() -> Throttle:
    return Throttle(data_dir() / "audit" / "failed_logins.json")


def try_login(password: str) -> bool:
    stored = configured_hash()
    peer, headers = _connection()
    client = client_address(peer, headers, trusted_proxies())
    where = {"client": client or "unknown"}
    if peer and peer != client:
        where["peer"] = peer  # the proxy that named the client, or the connection of an unknown one
    throttle = _throttle()
    wait, start = throttle.reserve(client, st.session_state.get("login_failures", 0))
    ok = False
    try:
        time.sleep(wait)
        ok = bool(stored and verify_password(password, stored))
    finally:
        throttle.finish(client, start, failed=not ok)
    if ok:
        st.session_state.admin_user = admin_user()
        st.session_state.admin_seen = time.time()
        st.session_state.login_failures = 0
        audit.record("login", admin_user(), **where)
        return True
    st.session_state.login_failures = st.session_state.get("login_failures", 0) + 1
    log.warning("failed administrator login from %s", "; ".join(f"{k}={v}" for k, v in where.items()))
    audit.record("login_failed", "?", **where)
    return False


def current_admin() -> str | None:
    """The logged-in administrator, or None; an idle session expires (and is logged out)."""
    user = st.session_state.get("admin_user")
    if user is None:
        return _oidc_admin()
    if time.time() - st.session_state.get("admin_seen", 0) > ADMIN_IDLE_SECONDS:
        st.session_state.expired_notice = True
        logout(reason="expired")
        return None
    st.session_state.admin_seen = time.time()
    return user


def logout(reason: str = "logout") -> None:
    user = st.session_state.pop("admin_user", None)
    if user:
        audit.record(reason, user)
    elif reason == "logout" and _oidc_admin():
        audit.record(reason, _oidc_admin())
        st.logout()
