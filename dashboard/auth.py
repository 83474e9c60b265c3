"""Administrator login for 数据管理: a salted scrypt hash from secrets, never a default password.

The hash lives in `.streamlit/secrets.toml` (`[admin] password_hash = "…"`, optional
`user = "…"`) or the environment variable `MZ_ADMIN_PASSWORD_HASH`; `python -m dashboard
hash-password` makes one. Failed logins are logged and slow down, per session and per client
address, and an admin session ends after 30 minutes without interaction.

Where the intranet has an OIDC provider, an `[auth]` section in secrets (Streamlit's own
`st.login` settings) plus `[admin] oidc_emails = ["…"]` lets those accounts in as well.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time

import streamlit as st

from etl.settings import ADMIN_IDLE_SECONDS, FAILED_LOGIN_WINDOW, admin_password_hash
from etl.settings import ENV_ADMIN_PASSWORD_HASH as ENV_HASH  # noqa: F401  (pages/admin.py names it)

from . import audit

log = logging.getLogger(__name__)

_N, _R, _P = 2**14, 8, 1
_failures: dict[str, list[float]] = {}  # client address → times of recent failures
_failures_lock = threading.Lock()


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


def _client() -> str:
    try:
        address = st.context.ip_address
    except Exception:
        return "unknown"
    return address if isinstance(address, str) and address else "unknown"


def _delay(client: str) -> float:
    """Seconds to wait before answering: doubles with each recent failure (session or client)."""
    now = time.time()
    with _failures_lock:
        recent = [t for t in _failures.get(client, []) if now - t < FAILED_LOGIN_WINDOW]
        _failures[client] = recent
    count = max(len(recent), st.session_state.get("login_failures", 0))
    return 0.0 if count == 0 else min(0.5 * 2 ** (count - 1), 30.0)


def try_login(password: str) -> bool:
    stored = configured_hash()
    client = _client()
    time.sleep(_delay(client))
    if stored and verify_password(password, stored):
        st.session_state.admin_user = admin_user()
        st.session_state.admin_seen = time.time()
        st.session_state.login_failures = 0
        audit.record("login", admin_user(), client=client)
        return True
    st.session_state.login_failures = st.session_state.get("login_failures", 0) + 1
    with _failures_lock:
        _failures.setdefault(client, []).append(time.time())
    log.warning("failed administrator login from %s", client)
    audit.record("login_failed", "?", client=client)
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
