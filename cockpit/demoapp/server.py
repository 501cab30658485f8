"""The demo application's HTTP service: ``GET /health`` and ``GET /api/v1/datasets``.

``/health`` answers ``{"status": "ok", "revision": CURRENT}`` (the database's Alembic revision,
``null`` before the first migration) with 200, or 503 when the database cannot be reached.
``/api/v1/datasets`` answers the rows of the ``datasets`` table, or 500 with a one-line error
when the table is missing (before the migration). ``python -m cockpit.demoapp.server --db URL
--port N`` runs it in the foreground; :func:`start` runs it in a thread (tests, the demo).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cockpit.demoapp import DATABASE_URL_ENV


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    engine: Any
    verbose = False


class DemoServer:
    """A running demo service: ``.port``, ``.url``; ``.stop()`` shuts it down."""

    def __init__(self, httpd: _Server, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.host = str(httpd.server_address[0])
        self.port = int(httpd.server_address[1])
        self.url = f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd.engine.dispose()


def make_engine(db_url: str) -> Any:
    """A SQLAlchemy engine that fails fast when the database is unreachable."""
    from sqlalchemy import create_engine

    connect_args: dict[str, Any] = {}
    if db_url.startswith("postgresql"):
        connect_args["connect_timeout"] = 3
    elif db_url.startswith("sqlite"):
        connect_args["timeout"] = 5
        connect_args["check_same_thread"] = False
    return create_engine(db_url, pool_pre_ping=True, connect_args=connect_args)


def build(db_url: str, host: str = "127.0.0.1", port: int = 0) -> _Server:
    httpd = _Server((host, port), _Handler)
    httpd.engine = make_engine(db_url)
    return httpd


def start(db_url: str, host: str = "127.0.0.1", port: int = 0) -> DemoServer:
    """Serve in a background thread; ``port=0`` picks a free port."""
    httpd = build(db_url, host, port)
    thread = threading.Thread(target=httpd.serve_forever, name="demoapp", daemon=True)
    thread.start()
    return DemoServer(httpd, thread)


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else 'failed'}"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "demoapp/1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/health":
            self._health()
        elif path == "/api/v1/datasets":
            self._datasets()
        else:
            self._send(404, {"error": f"no such endpoint: {path}"})

    def _health(self) -> None:
        from sqlalchemy import exc, text

        engine = self.server.engine
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except exc.SQLAlchemyError as error:
            self._send(503, {"status": "unavailable", "error": _one_line(error)})
            return
        revision: str | None = None
        try:
            with engine.connect() as conn:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except exc.SQLAlchemyError:
            revision = None  # never migrated: no alembic_version table yet
        self._send(200, {"status": "ok", "revision": revision})

    def _datasets(self) -> None:
        from sqlalchemy import exc, text

        try:
            with self.server.engine.connect() as conn:
                rows = conn.execute(text("SELECT * FROM datasets ORDER BY id")).mappings().all()
        except exc.SQLAlchemyError as error:
            line = _one_line(error)
            if "no such table" in line or "does not exist" in line:
                line = f"table datasets is missing: run the migrations ({line})"
            self._send(500, {"error": line})
            return
        data = [{key: _json_value(value) for key, value in row.items()} for row in rows]
        self._send(200, {"datasets": data, "count": len(data)})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        if getattr(self.server, "verbose", False):
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cockpit.demoapp.server")
    parser.add_argument(
        "--db",
        default=os.environ.get(DATABASE_URL_ENV, ""),
        help=f"database URL (default: ${DATABASE_URL_ENV})",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if not args.db:
        parser.error(f"--db or {DATABASE_URL_ENV} is required")
    httpd = build(args.db, args.host, args.port)
    httpd.verbose = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown).start())
    host, port = httpd.server_address[:2]
    print(f"demoapp listening on http://{host!s}:{port}", flush=True)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            httpd.serve_forever()
    finally:
        httpd.server_close()
        httpd.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
