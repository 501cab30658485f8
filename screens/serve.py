"""``cockpit serve``: the cockpit in a browser, for observers (textual-serve).

Each browser that connects gets its own cockpit process, started as ``cockpit --readonly
follow``: the store is opened read-only and the screens refuse every action, so nothing an
observer presses changes anything. (``--drive`` starts ``cockpit open`` instead, for a driver
who wants a browser; it is never the default.) The server listens on 127.0.0.1 unless told
otherwise and is behind a token printed at start: the first page must carry ``?token=``; it then
sets an HttpOnly, SameSite=Strict cookie that the page's own requests (its script, its
websocket) carry. A wrong or missing token gets 403 and no cockpit is started. aiohttp and
textual-serve are imported when the command runs.
"""

from __future__ import annotations

import hmac
import secrets
import shlex
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

COOKIE = "cockpit_serve"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    config: str | None
    release: str | None
    lang: str | None
    drive: bool = False
    token: str = ""


def new_token() -> str:
    return secrets.token_urlsafe(24)


def cockpit_command(options: ServeOptions, python: str = sys.executable) -> str:
    """The command each browser's cockpit runs as (a shell line, as textual-serve wants it)."""
    argv: list[str] = [python, "-m", "cockpit"]
    if options.config:
        argv += ["--config", options.config]
    if options.lang:
        argv += ["--lang", options.lang]
    if options.drive:
        argv += ["open"] + (["--release", options.release] if options.release else [])
    else:
        argv += ["--readonly", "follow"] + ([options.release] if options.release else [])
    return shlex.join(argv)


def token_ok(given: str | None, token: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), token.encode())


def url_of(options: ServeOptions) -> str:
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{options.port}/?token={options.token}"


def make_server(options: ServeOptions) -> Any:
    """The textual-serve server with the token guard in front of every route."""
    from aiohttp import web
    from textual_serve import server as textual_serve

    # Any, whether textual-serve's types are installed or not: the subclass overrides its hooks.
    Server: Any = textual_serve.Server
    host = f"[{options.host}]" if ":" in options.host else options.host

    class GuardedServer(Server):  # type: ignore[misc]
        def initialize_logging(self) -> None:  # the cockpit's own lines only
            return None

        async def on_startup(self, app: web.Application) -> None:
            print(f"cockpit serve: open {url_of(options)}", flush=True)
            for line in warnings_for(options):
                print(f"cockpit: warning: {line}", flush=True)

        async def _make_app(self) -> web.Application:
            app: web.Application = await super()._make_app()
            app.middlewares.append(guard)
            return app

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        query = request.query.get("token")
        if token_ok(query, options.token):
            response = await handler(request)
            response.set_cookie(COOKIE, options.token, httponly=True, samesite="Strict", path="/")
            return response
        if query is None and token_ok(request.cookies.get(COOKIE), options.token):
            return await handler(request)
        return web.Response(
            status=403,
            text="cockpit serve: wrong or missing token (open the address printed at start)\n",
        )

    return GuardedServer(
        cockpit_command(options),
        host=options.host,
        port=options.port,
        title="Release Cockpit",
        public_url=f"http://{host}:{options.port}",
    )


def warnings_for(options: ServeOptions) -> Sequence[str]:
    out = []
    if options.host not in LOOPBACK:
        out.append(
            f"listening on {options.host}: anyone who can reach it and has the token can watch "
            "(put it behind TLS, e.g. an SSH tunnel or a reverse proxy)"
        )
    if options.drive:
        out.append("--drive: a browser with the token can take actions on the release")
    return out
