"""Who is logging in, and how fast they may try again (dashboard/auth.py): the client address
from the connection or, only behind a trusted proxy, its X-Real-IP; the failed-login slow-down
per address, per session and for everybody, shared by every process of one data dir; the nginx
configuration deploy/serve.py renders, which sets that header; and the launchers that keep
Streamlit's own server from taking a client's X-Forwarded-For as its address."""

import base64
import hashlib
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import uvicorn
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dashboard import auth
from dashboard.auth import Throttle, client_address, global_delay, login_delay
from etl import settings
from tests.util import run_async

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy"))
import serve  # noqa: E402  (deploy/serve.py)

LOOPBACK = ("127.0.0.1/32", "::1/128")
FORGED = [("X-Forwarded-For", "10.66.0.1"), ("X-Real-IP", "10.66.0.2")]


# ---------------------------------------------------------------- the address
def test_a_direct_client_is_its_connection_whatever_it_claims():
    assert client_address("192.168.1.20", FORGED, LOOPBACK) == "192.168.1.20"
    assert client_address("192.168.1.20", [], LOOPBACK) == "192.168.1.20"
    # without a trusted proxy (the default), even a loopback peer names only itself
    assert client_address("127.0.0.1", FORGED, ()) == "127.0.0.1"


def test_behind_a_trusted_proxy_the_client_is_its_x_real_ip():
    assert client_address("127.0.0.1", [("X-Real-IP", "192.168.1.20")], LOOPBACK) == "192.168.1.20"
    assert client_address("::1", [("x-real-ip", "2001:db8::7")], LOOPBACK) == "2001:db8::7"
    # the proxy's X-Real-IP counts, a client's X-Forwarded-For never
    headers = [("X-Forwarded-For", "10.66.0.1"), ("X-Real-IP", "192.168.1.20")]
    assert client_address("127.0.0.1", headers, LOOPBACK) == "192.168.1.20"
    # a proxy on another host, trusted by network
    assert client_address("10.0.0.5", [("X-Real-IP", "192.168.1.20")], ("10.0.0.0/24",)) == "192.168.1.20"
    assert client_address("10.0.1.5", [("X-Real-IP", "192.168.1.20")], ("10.0.0.0/24",)) == "10.0.1.5"


def test_a_trusted_proxy_without_a_valid_header_leaves_the_client_unknown():
    assert client_address("127.0.0.1", [], LOOPBACK) is None
    assert client_address("127.0.0.1", [("X-Forwarded-For", "10.66.0.1")], LOOPBACK) is None
    for forged in ("evil", "", "10.0.0.1, 10.0.0.2", "999.1.1.1"):
        assert client_address("127.0.0.1", [("X-Real-IP", forged)], LOOPBACK) is None, forged
    two = [("X-Real-IP", "10.0.0.1"), ("X-Real-IP", "10.0.0.2")]  # the proxy sets one
    assert client_address("127.0.0.1", two, LOOPBACK) is None


def test_addresses_are_normalised_and_no_peer_is_unknown():
    assert client_address("::ffff:192.168.1.20", [], LOOPBACK) == "192.168.1.20"
    assert client_address("::ffff:127.0.0.1", [("X-Real-IP", "::ffff:10.1.2.3")], LOOPBACK) == "10.1.2.3"
    assert client_address(None, FORGED, LOOPBACK) is None
    assert client_address("not-an-address", [], LOOPBACK) is None


def test_trusted_proxies_from_the_environment(monkeypatch):
    monkeypatch.delenv(settings.ENV_TRUSTED_PROXIES, raising=False)
    assert settings.trusted_proxies() == ()  # nobody's header is believed unless configured
    monkeypatch.setenv(settings.ENV_TRUSTED_PROXIES, " 127.0.0.1, ::1 ,10.0.0.0/8,")
    assert settings.trusted_proxies() == ("127.0.0.1/32", "::1/128", "10.0.0.0/8")
    monkeypatch.setenv(settings.ENV_TRUSTED_PROXIES, "127.0.0.1, proxy.example")
    assert settings.trusted_proxies() == ()  # unreadable: the safe default


# ---------------------------------------------------------------- the slow-down
class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def attempt(throttle: Throttle, clock: Clock, address, session_failures=0, failed=True) -> float:
    """One attempt as try_login makes it: reserve, wait, finish; returns the wait."""
    wait, start = throttle.reserve(address, session_failures)
    clock.now += wait
    throttle.finish(address, start, failed)
    clock.now += 0.1  # checking the password
    return wait


def test_delays_double_and_stop_at_thirty_seconds():
    assert [login_delay(n) for n in range(8)] == [0, 0.5, 1, 2, 4, 8, 16, 30]
    g = settings.GLOBAL_FAILED_LOGINS
    assert global_delay(0) == global_delay(g - 1) == 0
    assert global_delay(g) == global_delay(g + 4) == 1 and global_delay(g + 5) == 2
    assert global_delay(g + 1000) == 30


def test_failures_of_one_address_slow_it_down_and_nobody_else(tmp_path):
    clock = Clock()
    throttle = Throttle(tmp_path / "failed_logins.json", clock)
    waits = [attempt(throttle, clock, "10.0.0.1") for _ in range(6)]
    assert waits == [0, 0.5, 1, 2, 4, 8]
    assert attempt(throttle, clock, "10.0.0.2") == 0  # another client
    assert attempt(throttle, clock, None) == 0  # an unknown client in a fresh session
    clock.now += settings.FAILED_LOGIN_WINDOW
    assert attempt(throttle, clock, "10.0.0.1") == 0  # the failures have aged out


def test_a_success_does_not_count(tmp_path):
    clock = Clock()
    throttle = Throttle(tmp_path / "failed_logins.json", clock)
    for _ in range(3):
        attempt(throttle, clock, "10.0.0.1", failed=False)
    assert throttle.failures() == 0 and attempt(throttle, clock, "10.0.0.1") == 0


def test_an_unknown_client_is_slowed_per_session_and_globally(tmp_path):
    clock = Clock()
    throttle = Throttle(tmp_path / "failed_logins.json", clock)
    assert [attempt(throttle, clock, None, session_failures=n) for n in range(4)] == [0, 0.5, 1, 2]
    # fresh sessions of unknown clients: free until many failures from anybody …
    g = settings.GLOBAL_FAILED_LOGINS
    waits = [attempt(throttle, clock, None) for _ in range(g - 4)]
    assert waits == [0] * (g - 4) and throttle.failures() == g
    # … then everybody waits, known or not, but not for long
    assert attempt(throttle, clock, None) == 1
    assert attempt(throttle, clock, "10.0.0.9", failed=False) == 1


def test_simultaneous_attempts_of_one_address_are_checked_one_after_another(tmp_path):
    clock = Clock()
    throttle = Throttle(tmp_path / "failed_logins.json", clock)
    for _ in range(3):
        attempt(throttle, clock, "10.0.0.1")
    # ten attempts sent at once: each starts after the one before, with the next longer wait
    starts = [throttle.reserve("10.0.0.1", 0)[1] - clock.now for _ in range(10)]
    assert starts[:4] == [2, 2 + 4, 2 + 4 + 8, 2 + 4 + 8 + 16]
    assert all(b - a == 30 for a, b in zip(starts[4:], starts[5:]))
    assert throttle.reserve("10.0.0.2", 0)[0] == 0  # another address is not queued behind them
    assert throttle.reserve(None, 0)[0] == 0


def test_processes_sharing_a_data_dir_share_the_count(tmp_path):
    """Two replicas behind nginx: a client's fresh sessions land on either."""
    clock = Clock()
    path = tmp_path / "audit" / "failed_logins.json"
    one, two = Throttle(path, clock), Throttle(path, clock)
    waits = [attempt(one if n % 2 else two, clock, "10.0.0.1") for n in range(5)]
    assert waits == [0, 0.5, 1, 2, 4]


def test_threads_sharing_the_file_lose_no_failure(tmp_path):
    path = tmp_path / "failed_logins.json"

    def fail(n: int) -> None:
        for _ in range(n):
            throttle = Throttle(path)
            _, start = throttle.reserve(None, 0)
            throttle.finish(None, start, failed=True)

    threads = [threading.Thread(target=fail, args=(10,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Throttle(path).failures() == 40


def test_an_unwritable_data_dir_keeps_the_count_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    clock = Clock()
    throttle = Throttle(blocker / "audit" / "failed_logins.json", clock)
    assert [attempt(throttle, clock, "10.0.0.1") for _ in range(3)] == [0, 0.5, 1]


def test_a_damaged_file_starts_afresh(tmp_path):
    path = tmp_path / "failed_logins.json"
    path.write_text("{not json")
    assert Throttle(path).failures() == 0
    path.write_text("[1, 2]")
    assert Throttle(path).failures() == 0
    path.write_text('{"failures": [1, [2], ["x", "10.0.0.1"], [1e18, 5]], "pending": 3}')
    assert Throttle(path).failures() == 0 and Throttle(path).reserve("10.0.0.1", 0)[0] == 0


class SessionState(dict):
    """st.session_state outside a running app: items and attributes alike."""

    __getattr__ = dict.__getitem__
    __setattr__ = dict.__setitem__


def test_try_login_uses_the_address_and_records_it(monkeypatch, tmp_path):
    """try_login on a connection from the trusted proxy: the proxy's X-Real-IP is slowed down and
    audited, the forged headers beside it are not."""
    import streamlit as st

    monkeypatch.setenv("MZ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(settings.ENV_TRUSTED_PROXIES, "127.0.0.1")
    monkeypatch.setenv(auth.ENV_HASH, auth.hash_password("correct horse battery"))
    headers = [*FORGED[:1], ("X-Real-IP", "192.168.7.7")]
    monkeypatch.setattr(auth, "_connection", lambda: ("127.0.0.1", headers))
    slept = []
    monkeypatch.setattr(auth.time, "sleep", slept.append)
    for _ in range(3):
        monkeypatch.setattr(st, "session_state", SessionState())  # a fresh session each time
        assert not auth.try_login("wrong password")
    assert slept == pytest.approx([0, 0.5, 1], abs=0.05)
    log = (tmp_path / "audit" / "audit.jsonl").read_text(encoding="utf-8")
    assert log.count('"client": "192.168.7.7", "peer": "127.0.0.1"') == 3 and "10.66.0" not in log


# ---------------------------------------------------------------- the launchers and the proxy
def test_uvicorn_takes_no_forwarded_address_with_an_empty_allow_list(monkeypatch):
    """What `make run` and deploy/serve.py rely on: FORWARDED_ALLOW_IPS="" trusts nobody's
    X-Forwarded-For, so the peer the app sees is the connection's own."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "")
    config = uvicorn.Config(app=None)
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    scope = {
        "type": "websocket",
        "client": ("127.0.0.1", 5000),
        "headers": [(b"x-forwarded-for", b"10.66.0.1")],
    }
    run_async(ProxyHeadersMiddleware(app, trusted_hosts=config.forwarded_allow_ips)(scope, None, None))
    assert seen["client"] == ("127.0.0.1", 5000)


def test_make_run_listens_on_loopback_unless_told():
    def recipe(*args: str) -> str:
        return subprocess.run(["make", "-n", "run", *args], cwd=REPO, capture_output=True, text=True).stdout

    assert re.search(r"FORWARDED_ALLOW_IPS= .*--server\.address 127\.0\.0\.1", recipe(), re.S)
    assert "--server.address 0.0.0.0" in recipe("HOST=0.0.0.0")


def test_nginx_config_names_the_client_and_limits_uploads(tmp_path):
    text = serve.nginx_config("127.0.0.1:8501", [8601, 8602], tmp_path)
    assert not re.search(r"\$\{[A-Z_]+\}", text)  # every placeholder filled in
    assert "proxy_set_header X-Real-IP $remote_addr;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # the client's own is dropped
    # a location with a proxy_set_header of its own would inherit none of the server's
    locations = re.findall(r"location [^{]+\{([^}]*)\}", text)
    assert len(locations) >= 4 and not any("proxy_set_header" in body for body in locations)
    assert f"client_max_body_size {settings.UPLOAD_LIMIT_MB + 1}m;" in text
    assert f"rate={settings.UPLOAD_REQUESTS_PER_MINUTE}r/m" in text
    assert f"burst={settings.UPLOAD_BURST} nodelay" in text
    upload = re.search(r"location /_stcore/upload_file/ \{([^}]*)\}", text).group(1)
    assert "limit_req zone=mz_upload" in upload


def test_csp_allows_streamlits_inline_script_by_its_hash(tmp_path):
    import streamlit

    text = serve.nginx_config("127.0.0.1:8501", [8601], tmp_path)
    csp = re.search(r'add_header Content-Security-Policy "([^"]+)" always;', text).group(1)
    html = (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert inline  # Streamlit still has one; its hash is in the policy
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "'unsafe-eval'" not in csp and "http:" not in csp and "https:" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp


def test_the_rendered_nginx_config_is_valid(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(serve.nginx_config("127.0.0.1:1", [2, 3], tmp_path), encoding="utf-8")
    done = subprocess.run(
        [serve.NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(autouse=True)
def _no_inherited_proxy_setting(monkeypatch):
    monkeypatch.delenv(settings.ENV_TRUSTED_PROXIES, raising=False)
