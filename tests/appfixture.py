"""A deterministic cockpit app for Pilot and snapshot tests.

Everything that would change from run to run is frozen: the release id, the time recorded in each
event, the clock the screens read, the operator and host, the colour settings taken from the
environment. :func:`make_app` builds a SQLite store in ``tmp_path`` with one rehearsal release of
the shipped ``release`` plan and a few T-14 decisions already recorded.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import Input

import cockpit.release
import cockpit.store
from cockpit.actions import decide
from cockpit.checklist import load_checklist
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.events import Event
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store
from screens.app import CockpitApp

CONFIG = """
[roles]
approver = ["bob", "carol"]
release_committee = ["carol"]
[environments.staging]
rehearsal = true
[environments.production]
production = true
"""

RELEASE_ID = "r-1a2b3c4d"
HOST = "bastion-1"
ALICE = Operator.fixed("alice", HOST)
BOB = Operator.fixed("bob", "bastion-2")
# The clock the screens read: 23 days before T-0 (2026-12-16 01:00 JST), outside the window.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# The time recorded in the first event; each later event is one second after the previous one.
FIRST_EVENT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)

# T-14 already walked in part: two items done, one skipped with a reason, one open.
SEEDED = (
    ("t14.requirements", "done", None),
    ("t14.dependencies", "done", None),
    ("t14.database_changes", "skip", "no migrations in 1.4.0"),
)
# The T-3 items that come before its approval gate (a gate waits for them).
T3_BEFORE_GATE = ("t3.docs_updated", "t3.release_notes", "t3.changelog", "t3.technical_docs")


def _t0_steps() -> str:
    """Staging's T-0 steps for the runbook tests: local shell steps in ``/`` (a fixed cwd, so
    previews are the same everywhere); the deploy step is re-checkable and undoable."""
    lines = []
    for item in (
        "t0.backup",
        "t0.maintenance",
        "t0.deploy",
        "t0.frontend",
        "t0.cdn",
        "t0.database",
        "t0.config",
        "t0.restart",
        "t0.verify_functions",
        "t0.maintenance_off",
    ):
        word = item.removeprefix("t0.")
        lines += [
            f'[environments.staging.steps."{item}"]',
            'kind = "shell"',
            f'argv = ["sh", "-c", "echo {word} {{version}}: ok"]',
            'cwd = "/"',
            "timeout = 30",
        ]
        if item in {"t0.deploy", "t0.config"}:
            lines.append(f'undo_argv = ["sh", "-c", "echo {word} undone"]')
    return "\n".join(lines) + "\n"


T0_STEPS = _t0_steps()


class RecordingApp(CockpitApp):
    """The cockpit, keeping every notification it showed (``notified``), in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notified: list[str] = []

    def notify(self, message: str, **options: Any) -> None:
        self.notified.append(message)
        super().notify(message, **options)


def _freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()

    def now_utc() -> str:
        moment = FIRST_EVENT + timedelta(seconds=next(ticks))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    monkeypatch.setattr(cockpit.store, "now_utc", now_utc)
    monkeypatch.setattr(
        cockpit.release, "secrets", SimpleNamespace(token_hex=lambda _n=None: "1a2b3c4d")
    )
    # Textual reads NO_COLOR when the app is built: the same pixels with or without it.
    monkeypatch.delenv("NO_COLOR", raising=False)


def record(
    app: CockpitApp,
    item_id: str,
    action: str = "done",
    operator: Operator = ALICE,
    reason: str | None = None,
) -> Event:
    """Record a decision straight through the engine (setting the scene for a test)."""
    session = app.session
    return decide(
        Session(store=session.store, loaded=session.loaded, operator=operator),
        RELEASE_ID,
        item_id,
        action,
        reason=reason,
        now=NOW,
    )


# The application repository of the tagging tests: fixed names and dates, so fixed SHAs.
APP_HISTORY = (
    ("feat: dataset search", "v1.2.0"),
    ("fix: empty result page", "v1.3.0"),
    ("fix(api): paginate /api/v1/datasets", "v1.3.2"),
    ("feat: dataset versioning", None),
    ("perf: cache dataset metadata", None),
)


def git(*args: str, cwd: Path, when: int = 0) -> str:
    """Run git with a fixed identity and clock (``when`` days after 2026-11-01)."""
    import subprocess

    stamp = f"2026-11-{1 + when:02d}T09:00:00+0900"
    env = {
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.invalid",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.invalid",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(cwd),
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_app_repo(root: Path) -> Path:
    """``root/app`` with :data:`APP_HISTORY` and ``root/remote.git`` (bare) as its origin."""
    app, remote = root / "app", root / "remote.git"
    app.mkdir(parents=True)
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=root)
    git("init", "-q", "-b", "main", cwd=app)
    for day, (message, tag) in enumerate(APP_HISTORY):
        with (app / "CHANGES.txt").open("a", encoding="utf-8") as fh:
            fh.write(message + "\n")
        git("add", "CHANGES.txt", cwd=app)
        git("commit", "-q", "-m", message, cwd=app, when=day)
        if tag:
            git("tag", "-a", "-m", f"Release {tag[1:]}", tag, cwd=app, when=day)
    git("config", "user.name", "Dev", cwd=app)
    git("config", "user.email", "dev@example.invalid", cwd=app)
    git("remote", "add", "origin", str(remote), cwd=app)
    git("push", "-q", "origin", "main", "--tags", cwd=app)
    return app


def make_app(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    lang: str = "en",
    *,
    ascii: bool = False,
    t3_ready: bool = False,
    tag_ready: bool = False,
    t0_ready: bool = False,
    keymap: dict[str, str] | None = None,
    drive: bool = False,
) -> RecordingApp:
    """The cockpit on a fresh store in ``tmp_path``: release 1.4.0 to staging (a rehearsal)
    prepared by alice, T-14 partly done. ``t3_ready`` also settles the T-3 items before its
    approval gate, so the gate can be decided on. ``tag_ready`` makes a real repository with a
    bare remote for staging and settles every item before the T-1 tag step (bob approves the
    T-3 gate). ``t0_ready`` settles every item before T-0 (the tag step skipped) and gives
    staging local shell steps for T-0 (:data:`T0_STEPS`). ``drive``: the app takes the release's
    lease when it opens it (tests/test_lease.py; off elsewhere, so the other tests' logs hold
    only what they are about). Close ``app.session.store`` when done."""
    _freeze(monkeypatch)
    store = Store(
        f"sqlite:///{tmp_path / 'cockpit.db'}", checkpoint_file=tmp_path / "checkpoint.json"
    ).open()
    text = CONFIG
    if tag_ready:
        import cockpit.tagging

        repo = make_app_repo(tmp_path)
        text += f'[environments.staging.git]\nrepo = "{repo}"\n'
        monkeypatch.setattr(cockpit.tagging, "today", lambda _zone: "2026-11-23")
    if t0_ready:
        text += T0_STEPS
    loaded = LoadedConfig(parse_config_text(text), None)
    release = create_release(
        Session(store=store, loaded=loaded, operator=ALICE),
        plan="release",
        environment="staging",
        version="1.4.0",
        t0="2026-12-16T01:00",
    )
    assert release.id == RELEASE_ID
    decisions = list(SEEDED)
    if t3_ready or tag_ready or t0_ready:
        decisions += [(item, "done", None) for item in T3_BEFORE_GATE]
    for item_id, action, reason in decisions:
        decide(
            Session(store=store, loaded=loaded, operator=ALICE),
            release.id,
            item_id,
            action,
            reason=reason,
            now=NOW,
        )
    if t0_ready:
        plan = load_checklist(store, release.id).plan.plan
        for phase in plan.phases[:-1]:
            for item in phase.items:
                if load_checklist(store, release.id).state(item.id).status.value != "pending":
                    continue
                who, action = (BOB, "approve") if item.kind == "gate" else (ALICE, "done")
                reason = None
                if item.id == "t1.tag":
                    action, reason = "skip", "tagged by the CI pipeline"
                elif item.kind == "check":
                    action, reason = "skip", "checked by the CI pipeline"
                decide(
                    Session(store=store, loaded=loaded, operator=who),
                    release.id,
                    item.id,
                    action,
                    reason=reason,
                    now=NOW,
                )
    if tag_ready:
        plan = load_checklist(store, release.id).plan.plan
        for phase in plan.phases:
            for item in phase.items:
                if item.id == "t1.tag":
                    break
                state = load_checklist(store, release.id).state(item.id)
                if state.status.value != "pending":
                    continue
                who, action = (BOB, "approve") if item.kind == "gate" else (ALICE, "done")
                # A check no environment binds is confirmed by hand, with a reason.
                reason = "seen in the CI pipeline" if item.kind == "check" else None
                decide(
                    Session(store=store, loaded=loaded, operator=who),
                    release.id,
                    item.id,
                    action,
                    reason=reason,
                    now=NOW,
                )
            else:
                continue
            break
    session = Session(store=store, loaded=loaded, operator=ALICE, lang=lang, now=lambda: NOW)
    app = RecordingApp(
        session,
        ascii=ascii,
        release_id=release.id,
        refresh_seconds=3600,  # no periodic redraw during a test
        keymap=keymap,
        drive=drive,
    )
    app.theme = "textual-dark"  # not whatever TEXTUAL_THEME says
    return app


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the app is idle: workers (verify, decisions) done and their redraws shown.
    The lease's heartbeat runs as long as the app drives a release: it is not waited for."""
    app = pilot.app
    for _ in range(50):
        finite = [worker for worker in app.workers if worker.group != "heartbeat"]
        if finite:  # (none: wait_for_complete would wait for every worker)
            await asyncio.wait_for(app.workers.wait_for_complete(finite), timeout=10)
        await pilot.pause()
        if not any(worker.is_running for worker in finite):
            break
    else:
        raise AssertionError(f"workers still running: {list(app.workers)}")
    await pilot.pause()


def steady_inputs(app: CockpitApp) -> None:
    """Stop every input cursor blinking (a snapshot must not catch it half-way)."""
    for screen in app.screen_stack:
        for box in screen.query(Input):
            box.cursor_blink = False


# One run of text in Rich's SVG export: its column (x = column * 12.2), its row, the text.
SVG_TEXT = re.compile(
    r'<text [^>]*?x="([0-9.]+)"[^>]*?clip-path="url\(#[^)]*-line-(\d+)\)">([^<]*)</text>'
)
SVG_CELL = 12.2  # Rich's export: 20 px font, 0.61 aspect ratio


def screen_text(app: CockpitApp) -> str:
    """What the top screen shows, as plain text (one line per terminal row), read from the
    app's own screenshot (``App.export_screenshot``, an SVG)."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, row, run in SVG_TEXT.findall(app.export_screenshot()):
        cells, column = rows[int(row)], round(float(x) / SVG_CELL)
        for char in html.unescape(run).replace("\xa0", " ").rstrip("\n"):
            cells[column] = char
            if cell_len(char) == 2:
                cells[column + 1] = ""  # the right half of a double-wide character
            column += cell_len(char)
    return "\n".join("".join(cells) for cells in rows)
