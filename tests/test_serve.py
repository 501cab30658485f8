"""`cockpit serve`: the cockpit in headless Chromium (Debian's chromium, driven by Playwright):
the release's screen is on the page, keys pressed in the page change nothing in the log, and a
wrong token is refused (docs/serve.md)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cockpit.config import LoadedConfig, parse_config_text
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store
from tests.browser import browser_page
from tests.services import free_port

CONFIG = """
[database]
url = "sqlite:///{root}/cockpit.db"
[audit]
checkpoint = "{root}/checkpoint.json"
[roles]
approver = ["bob"]
[environments.staging]
rehearsal = true
"""

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")


class Served:
    def __init__(self, root: Path) -> None:
        self.root = root
        text = CONFIG.format(root=root)
        (root / "cockpit.toml").write_text(text)
        loaded = LoadedConfig(parse_config_text(text), root / "cockpit.toml")
        self.store = Store(f"sqlite:///{root}/cockpit.db", root / "checkpoint.json").open()
        self.rid = create_release(
            Session(store=self.store, loaded=loaded, operator=Operator.fixed("alice")),
            plan="release",
            environment="staging",
            version="1.4.0",
            t0="2026-12-16T01:00",
        ).id
        self.port = free_port()
        env = {**os.environ, "COCKPIT_CONFIG": str(root / "cockpit.toml"), "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cockpit",
                "--lang",
                "en",
                "serve",
                self.rid,
                "--port",
                str(self.port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.match(r"cockpit serve: open (http://127\.0\.0\.1:\d+/\?token=(\S+))$", line)
        assert found, (line, self.proc.stderr.read() if self.proc.poll() is not None else "")
        self.url, self.token = found[1], found[2]
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.store.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = Served(tmp_path)
    yield s
    s.stop()


def test_a_wrong_or_missing_token_is_refused(served: Served) -> None:
    with httpx.Client(timeout=10) as client:
        for path in (
            "/",
            "/?token=wrong",
            f"/?token={served.token[:-1]}",
            "/ws",
            "/static/js/textual.js",
        ):
            refused = client.get(served.base + path)
            assert refused.status_code == 403, path
            assert "wrong or missing token" in refused.text
        ok = client.get(served.url)
        assert ok.status_code == 200 and "textual-terminal" in ok.text
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # The cookie the page got lets its own requests through (script, websocket).
        assert client.get(served.base + "/static/js/textual.js").status_code == 200
    with httpx.Client(timeout=10, cookies={"cockpit_serve": "forged"}) as other:
        assert other.get(served.base + "/static/js/textual.js").status_code == 403


def test_the_release_is_on_the_page_and_keys_pressed_change_nothing(
    served: Served, tmp_path: Path
) -> None:
    frames: list[str] = []

    def on_socket(ws: object) -> None:
        def got(payload: object) -> None:
            data = payload if isinstance(payload, bytes) else str(payload).encode()
            frames.append(data.decode("utf-8", "replace"))

        ws.on("framereceived", got)  # type: ignore[attr-defined]

    def screen() -> str:
        return _ANSI.sub("", "".join(frames))

    def wait_for_text(text: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while text not in screen():
            assert time.monotonic() < deadline, f"{text!r} never shown: {screen()[-800:]!r}"
            page.wait_for_timeout(100)

    before = served.store.head()
    with browser_page(tmp_path, 1100, 700) as page:
        page.on("websocket", on_socket)
        page.goto(served.url, wait_until="domcontentloaded")
        wait_for_text("Releases")  # the dashboard: releases, timeline, window, audit, next
        wait_for_text("1.4.0")
        wait_for_text("chain ok")
        wait_for_text("READ-ONLY")
        page.wait_for_timeout(500)
        page.screenshot(path=str(tmp_path / "served.png"))
        assert (tmp_path / "served.png").stat().st_size > 5_000
        page.locator(".textual-terminal").click()
        seen = len(frames)
        # Everything that would record or drive when driving: do, skip, approve, reject, note.
        for key in ("Enter", " ", "s", "a", "x", "n", "h", "i", "Enter", "Escape", "Enter"):
            page.keyboard.press(key)
            page.wait_for_timeout(150)
        # The keys reach the cockpit (the help screen opens on ?) ...
        page.keyboard.press("?")
        deadline = time.monotonic() + 20
        while "Keys" not in _ANSI.sub("", "".join(frames[seen:])):
            assert time.monotonic() < deadline, screen()[-800:]
            page.wait_for_timeout(100)
        page.wait_for_timeout(1000)
    # ... and nothing was written: not a decision, not a note, not a lease.
    assert served.store.head() == before
    assert [ev.action for ev in served.store.events(release_id=served.rid)] == ["release.created"]
