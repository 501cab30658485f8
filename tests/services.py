"""Real services for tests and benchmarks, started by hand on 127.0.0.1 (see shared/TESTING.md)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise RuntimeError(f"{name} not found: run `bash .ci/install` (installs PostgreSQL)")
    return found


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server; yields a SQLAlchemy URL for the superuser ``app``."""
    base = Path(tempfile.mkdtemp(prefix="cockpit-pg-"))
    port = free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root.
        shutil.chown(base, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    subprocess.run(
        [
            *as_postgres,
            _pg_bin("initdb"),
            "-D",
            str(data),
            "-U",
            "app",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_postgres,
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "server.log"),
            "-w",
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://app@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """A fresh database on the server behind ``admin_url``; returns its URL."""
    import psycopg

    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


@dataclass
class MotoServer:
    """A moto server on 127.0.0.1: ``url`` for boto3's ``endpoint_url``, and ``requests``, the
    request lines it has answered (``"PUT /bucket/key"``), from its own request log."""

    url: str
    requests: list[str] = field(default_factory=list)

    def count(self, method: str, path_prefix: str = "/") -> int:
        return sum(1 for line in list(self.requests) if line.startswith(f"{method} {path_prefix}"))


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    """moto in server mode (``moto[server]``, see TESTING.md) in a thread of this process."""
    import logging
    import re

    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise RuntimeError(f"moto[server] is missing ({exc}): run `bash .ci/install`") from None

    port = free_port()
    server = MotoServer(f"http://127.0.0.1:{port}")
    line_re = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/')

    class _Log(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found = line_re.search(record.getMessage())
            if found:
                server.requests.append(f"{found[1]} {found[2]}")

    # werkzeug writes one line per request to the "werkzeug" logger: keep them, print none.
    log = logging.getLogger("werkzeug")
    handler = _Log()
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        yield server
    finally:
        moto.stop()
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


@contextmanager
def prometheus_server(config_text: str, ready_timeout: float = 20.0) -> Iterator[str]:
    """A real Prometheus (Debian's ``prometheus``) on 127.0.0.1 with ``config_text`` as its
    prometheus.yml; yields its URL, stops it by its PID."""
    import time
    import urllib.request

    binary = shutil.which("prometheus")
    if not binary:
        raise RuntimeError("prometheus not found: run `bash .ci/install` (installs prometheus)")
    base = Path(tempfile.mkdtemp(prefix="cockpit-prom-"))
    config = base / "prometheus.yml"
    config.write_text(config_text, encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (base / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={base / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                tail = (base / "prometheus.log").read_text(errors="replace")[-800:]
                raise RuntimeError(f"prometheus exited ({proc.returncode}): {tail}")
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus not ready within {ready_timeout:g} s")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, 15)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, 9)
                proc.wait(5)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


class HttpService:
    """One small HTTP server on 127.0.0.1 for the tests that need a service to check: the
    application's health endpoint, a slow or broken page. Every path answers ``200`` with
    ``{"status": "ok"}`` unless :meth:`route` says otherwise; ``status`` answers every path with
    that status (a service going down); ``requests`` records the paths asked for."""

    def __init__(self, port: int = 0) -> None:
        import http.server
        import threading
        import time

        service = self
        self.status: int | None = None
        self.routes: dict[str, tuple[int, float]] = {}
        self.requests: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests.append(self.path)
                status, delay = service.routes.get(self.path, (200, 0.0))
                if delay:
                    time.sleep(delay)
                body = b'{"status": "ok"}'
                self.send_response(service.status or status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", port), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def route(self, path: str, status: int = 200, delay: float = 0.0) -> HttpService:
        self.routes[path] = (status, delay)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
