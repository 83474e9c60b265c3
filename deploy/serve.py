"""`make serve REPLICAS=N`: N Streamlit replicas on loopback and nginx in front of them.

    python deploy/serve.py --replicas 2 --port 8501 [--replica-port 8601] [--data-dir DIR]

Everything runs as a child of this command: the replicas (`streamlit run app.py` on
127.0.0.1, ports --replica-port …+N-1), then nginx (config from deploy/nginx.conf.template,
in a private run folder) once every replica answers /_stcore/health. A replica that exits is
started again. Ctrl-C (or SIGTERM) stops nginx and every replica and waits for them.

All replicas share one `server.cookieSecret` (STREAMLIT_SERVER_COOKIE_SECRET if set, else a new
random one per start) so Streamlit's XSRF cookie is valid on each, and all read the same data
dir, so they show the same published version.

The replicas trust the `X-Real-IP` of their only client, this nginx on loopback
(MZ_TRUSTED_PROXIES=127.0.0.1,::1 unless set), and run with uvicorn's own `X-Forwarded-For`
handling off (FORWARDED_ALLOW_IPS empty): the address the app sees is the connection's own.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`python deploy/serve.py`): the repository's packages
from etl.settings import (  # noqa: E402
    ENV_COOKIE_SECRET,
    ENV_DATA_DIR,
    ENV_TRUSTED_PROXIES,
    UPLOAD_BURST,
    UPLOAD_LIMIT_MB,
    UPLOAD_REQUESTS_PER_MINUTE,
    cookie_secret,
    trusted_proxies,
)

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LOOPBACK = "127.0.0.1,::1"  # where this nginx connects to the replicas from


def inline_script_hashes() -> str:
    """CSP sources for the inline scripts of the installed Streamlit's index.html ('sha256-…'),
    so the policy needs no 'unsafe-inline' for scripts and follows Streamlit upgrades."""
    package = Path(importlib.util.find_spec("streamlit").origin).parent  # found, not imported
    html = (package / "static" / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts
    )


def nginx_config(listen: str, replica_ports: list[int], run_dir: Path) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in replica_ports)
    text = TEMPLATE.read_text(encoding="utf-8")
    values = {
        "RUN_DIR": str(run_dir),
        "LISTEN": listen,
        "UPSTREAM_SERVERS": servers,
        "UPLOAD_BODY_MB": str(UPLOAD_LIMIT_MB + 1),  # + the multipart framing, as Streamlit allows
        "UPLOAD_RATE": str(UPLOAD_REQUESTS_PER_MINUTE),
        "UPLOAD_BURST": str(UPLOAD_BURST),
        "CSP_SCRIPT_HASHES": inline_script_hashes(),
    }
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)  # nginx's own $variables stay as they are
    return text


def healthy(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok"
    except OSError:
        return False


class Replicas:
    """The Streamlit processes, one per port, restarted when one exits."""

    def __init__(self, ports: list[int], env: dict[str, str]):
        self.ports, self.env = ports, env
        self.procs: dict[int, subprocess.Popen] = {}

    def start(self, port: int) -> None:
        self.procs[port] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=REPO,
            env=self.env,
            start_new_session=True,
        )

    def start_all(self) -> None:
        for port in self.ports:
            self.start(port)

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while not all(healthy(p) for p in self.ports):
            if time.time() > deadline:
                raise SystemExit("副本启动超时：" + ", ".join(str(p) for p in self.ports if not healthy(p)))
            time.sleep(0.3)

    def restart_exited(self) -> None:
        for port, proc in self.procs.items():
            if proc.poll() is not None:
                print(f"副本 {port} 已退出（代码 {proc.returncode}），正在重启。", flush=True)
                self.start(port)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="deploy/serve.py", description="多副本运行民政数据看板（nginx 负载均衡）"
    )
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8501, help="nginx 监听端口")
    parser.add_argument("--address", default="0.0.0.0", help="nginx 监听地址")
    parser.add_argument(
        "--replica-port", type=int, default=None, help="第一个副本的端口（默认 nginx 端口 + 100）"
    )
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    if not Path(NGINX).exists():
        print("未找到 nginx：请先运行 make serve（会从 Debian 软件源安装）。", file=sys.stderr)
        return 1
    first = args.replica_port or args.port + 100
    ports = list(range(first, first + args.replicas))
    env = {
        **os.environ,
        ENV_COOKIE_SECRET: cookie_secret() or secrets.token_hex(32),
        # the replicas' only client is this nginx: believe its X-Real-IP (unless told otherwise) …
        ENV_TRUSTED_PROXIES: ",".join(trusted_proxies()) or LOOPBACK,
        # … and see the connection's own address: uvicorn's X-Forwarded-For handling off
        "FORWARDED_ALLOW_IPS": "",
    }
    if args.data_dir:
        env[ENV_DATA_DIR] = str(Path(args.data_dir).resolve())

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    replicas = Replicas(ports, env)
    run_dir = Path(tempfile.mkdtemp(prefix="mz-nginx-"))
    nginx = None
    try:
        # One build before the replicas start, so they do not all build the first warehouse at once.
        if subprocess.run(
            [sys.executable, "-m", "etl", "where"], cwd=REPO, env=env, capture_output=True
        ).returncode:
            subprocess.run([sys.executable, "-m", "etl", "build"], cwd=REPO, env=env, check=True)
        replicas.start_all()
        replicas.wait_healthy()
        conf = run_dir / "nginx.conf"
        conf.write_text(nginx_config(f"{args.address}:{args.port}", ports, run_dir), encoding="utf-8")
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(run_dir)], start_new_session=True)
        print(
            f"民政数据看板：http://{args.address}:{args.port}"
            f"（{args.replicas} 个副本，端口 {ports[0]}–{ports[-1]}）",
            flush=True,
        )
        while not stopping:
            time.sleep(0.5)
            if nginx.poll() is not None:
                print("nginx 已退出，正在停止。", file=sys.stderr)
                return 1
            replicas.restart_exited()
        return 0
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)  # graceful: finish open requests
            try:
                nginx.wait(10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        replicas.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
