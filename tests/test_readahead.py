"""The dashboard's first view read ahead in a forked process (cockpit/readahead.py): what the
child sends comes back, a child that fails or hangs costs nothing but its timeout and is never
left behind, it never writes on the terminal; `cockpit open` draws the data in its first frame
from it; the dashboard draws the same thing from its own load, and refuses the keys until that
load is in."""

from __future__ import annotations

import json
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.readahead import ReadAhead
from cockpit.session import Session
from screens.dashboard_view import DashView, first_view, read_dashboard, recent_rows
from tests.test_cli import cli, new_release, workspace  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parent.parent

# read_ahead() in a fresh interpreter (single-threaded, as the CLI is when it forks): the
# work named by argv[1], waited for argv[2] seconds; what came back, as JSON, on stdout.
RUN = """
import json, os, sys, threading, time
from cockpit.readahead import read_ahead
mode, wait = sys.argv[1], float(sys.argv[2])

def work():
    if mode == "noisy":
        print("on the child's stdout"); print("on its stderr", file=sys.stderr)
        os.write(1, b"straight to fd 1"); os.write(2, b"straight to fd 2")
        return {"pid": os.getpid(), "rows": list(range(20000))}
    if mode == "raises":
        raise RuntimeError("the log cannot be read")
    if mode in ("hangs", "unwaited"):
        time.sleep(60)

if mode == "threads":
    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 10
ahead = read_ahead(work, limit_s=limit)
if ahead is None:
    print(json.dumps({"started": False}))
    sys.exit()
if mode == "unwaited":
    time.sleep(wait)
    with open(f"/proc/{ahead.pid}/stat") as stat:
        state = stat.read().rsplit(")", 1)[1].split()[0]
    ahead.cancel()
    gone = not os.path.exists(f"/proc/{ahead.pid}")
    print(json.dumps({"started": True, "state": state, "gone": gone}))
    sys.exit()
start = time.monotonic()
result = ahead.result(wait)
took = time.monotonic() - start
print(json.dumps({
    "started": True, "pid": ahead.pid, "me": os.getpid(), "took": took,
    "child_gone": not os.path.exists(f"/proc/{ahead.pid}"),
    "result": result if result is None else {"pid": result["pid"], "n": len(result["rows"])},
}))
"""


def run(*args: str) -> tuple[dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_what_the_child_returns_comes_back_and_it_never_writes_on_the_terminal() -> None:
    said, stderr = run("noisy", "10")
    assert said["started"] is True
    result = said["result"]
    assert isinstance(result, dict)
    assert result["n"] == 20000  # more than a pipe holds: read while the child writes
    assert result["pid"] == said["pid"] != said["me"]  # worked out in the child
    assert stderr == ""  # its stdout and stderr are /dev/null: json.loads read ours alone
    assert said["child_gone"] is True  # reaped


def test_a_child_that_fails_sends_nothing_and_is_reaped() -> None:
    said, stderr = run("raises", "10")
    assert said["result"] is None
    assert float(str(said["took"])) < 5
    assert said["child_gone"] is True
    assert "cannot be read" not in stderr  # its traceback is nobody's: the load says it


def test_a_child_that_hangs_is_killed_when_the_wait_ends() -> None:
    said, _ = run("hangs", "0.5")
    assert said["result"] is None
    assert 0.5 <= float(str(said["took"])) < 3
    assert said["child_gone"] is True


def test_a_child_nobody_waits_for_ends_by_itself() -> None:
    # No result() (the app ended first): the alarm ends it after limit_s, whatever it waits
    # for; it is a zombie until reaped (cancel()).
    said, _ = run("unwaited", "2", "1")
    assert said["started"] is True
    assert said["state"] == "Z"
    assert said["gone"] is True


def test_no_fork_from_a_process_with_threads() -> None:
    said, _ = run("threads", "1")
    assert said == {"started": False}


# ---------------------------------------------------------------------------- the dashboard


@pytest.fixture
def releases(request: pytest.FixtureRequest) -> tuple[Path, str]:
    """Two open releases, two T-14 items of the first done, in tests.test_cli's workspace."""
    root: Path = request.getfixturevalue("workspace")
    rid = new_release("1.4.0")
    new_release("1.5.0")
    for item in ("t14.requirements", "t14.dependencies"):
        code, _out, err = cli("item", "done", rid, item)
        assert code == 0, err
    return root, rid


# The first view of the dashboard, worked out in a process of its own and written to fd 1
# pickled, as the forked child sends it (argv: the language, the width, the height).
FIRST_VIEW = """
import os, pickle, sys
from cockpit.session import Session
from screens.dashboard_view import first_view
view = first_view(Session(lang=sys.argv[1]), None, int(sys.argv[2]), int(sys.argv[3]))
os.write(1, pickle.dumps(view))
"""


def spawned(root: Path, lang: str, size: tuple[int, int], code: str = FIRST_VIEW) -> ReadAhead:
    """A read-ahead whose child is a process of its own (the test process has threads: no
    fork of it), ready to be read."""
    read_fd, write_fd = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, "-c", code, lang, str(size[0]), str(size[1])],
        env,
        file_actions=[(os.POSIX_SPAWN_DUP2, write_fd, 1)],
    )
    os.close(write_fd)
    assert select.select([read_fd], [], [], 60)[0]  # it has come: the first frame takes it
    return ReadAhead(pid, read_fd)


def gated(root: Path, gate: threading.Event, lang: str = "en") -> Session:
    """The app's session, its store opened only once ``gate`` is set: a log slow to read."""
    from cockpit.store import Store

    def opener() -> Store:
        assert gate.wait(30)
        return Store(f"sqlite:///{root / 'cockpit.db'}").open()

    return Session(lang=lang, opener=opener)


# The lines a load draws differently from the view read ahead: the audit line vouches once
# verified, the window line gets the rehearsal's, the Health line its samples, the keys.
LATER = ("Audit", "監査", "Window", "作業枠", "Health", "健全性", "?")


def screen_lines(app: object) -> list[str]:
    from tests.appfixture import screen_text

    return screen_text(app).splitlines()  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_the_first_frame_shows_the_view_read_ahead_before_the_load(
    releases: tuple[Path, str], lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from screens.dashboard import DashboardScreen
    from tests.appfixture import RecordingApp, settle

    root, _rid = releases
    gate = threading.Event()
    ahead = spawned(root, lang, (100, 30))
    app = RecordingApp(gated(root, gate, lang), read_ahead=ahead, refresh_seconds=3600)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.1)
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            before = screen_lines(app)
            text = "\n".join(before)
            # The release, its phases and its decisions: from the process that read ahead,
            # while this one's load waits for its store.
            assert "1.4.0 release  staging" in before[0]
            assert "T-14" in text and "2/" in text, text
            assert screen.read_head is None and app.read_ahead is None
            # Enter as soon as the release is in sight: its checklist is not read here yet, so
            # it opens once the load is in (not refused, not lost).
            await pilot.press("enter")
            await pilot.pause(0.05)
            assert isinstance(app.screen, DashboardScreen) and not app.notified
            gate.set()
            await settle(pilot)
            assert screen.read_head is not None
            assert type(app.screen).__name__ == "ChecklistScreen"
            await pilot.press("escape")
            await settle(pilot)
            after = screen_lines(app)
            # The load draws what the view read ahead showed (the header, the releases, the
            # phases, the decisions; and since, the lease the checklist took).
            assert before[:8] == after[:8]
            shown = [
                line for line in before[8:] if line.strip() and not line.lstrip().startswith(LATER)
            ]
            assert shown and all(line in after for line in shown), (shown, after)
    finally:
        gate.set()


async def test_a_view_read_ahead_at_another_size_or_a_failed_one_is_not_drawn(
    releases: tuple[Path, str],
) -> None:
    from tests.appfixture import RecordingApp, settle

    root, _rid = releases
    for ahead in (
        spawned(root, "en", (80, 24)),  # the terminal was resized meanwhile
        spawned(root, "en", (100, 30), "import sys; sys.exit(1)"),  # it failed: nothing sent
    ):
        gate = threading.Event()
        app = RecordingApp(gated(root, gate), read_ahead=ahead, refresh_seconds=3600)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                await pilot.pause(0.1)
                assert "T-14" not in "\n".join(screen_lines(app))  # nothing read yet
                await pilot.press("d")  # nothing in sight to deploy: said
                await pilot.pause(0.05)
                assert any("still reading the log" in n for n in app.notified), app.notified
                gate.set()
                await settle(pilot)
                assert "T-14" in "\n".join(screen_lines(app))  # the load drew it
        finally:
            gate.set()


async def test_a_hung_read_ahead_costs_nothing_and_is_ended_once_the_load_is_drawn(
    releases: tuple[Path, str],
) -> None:
    from tests.appfixture import RecordingApp, settle

    read_fd, write_fd = os.pipe()  # a child that holds the pipe and never sends
    pid = os.posix_spawn(
        "/bin/sleep",
        ["sleep", "60"],
        dict(os.environ),
        file_actions=[(os.POSIX_SPAWN_DUP2, write_fd, 1)],
    )
    os.close(write_fd)
    ahead = ReadAhead(pid, read_fd)
    app = RecordingApp(Session(lang="en"), read_ahead=ahead, refresh_seconds=3600)
    started = time.monotonic()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "T-14" in "\n".join(screen_lines(app))  # the load did not wait for it
        assert time.monotonic() - started < 5
        for _ in range(100):
            if not os.path.exists(f"/proc/{pid}"):
                break
            await pilot.pause(0.05)
        assert not os.path.exists(f"/proc/{pid}")  # killed and reaped


def test_the_first_view_is_what_a_load_draws(releases: tuple[Path, str]) -> None:
    """The view read ahead is the dashboard's own view of what its load reads."""
    from screens.dashboard_view import dashboard_view

    _root, rid = releases
    now = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    view = first_view(Session(lang="ja", now=lambda: now), None, 120, 40)
    here = Session(lang="ja", now=lambda: now)
    _ = here.operator
    releases, loaded, _head, failing = read_dashboard(here, None, recent_rows(40))
    assert isinstance(view, DashView)
    assert view == dashboard_view(here, releases, loaded, failing, width=120, height=40)
    assert view.shown == rid and next(r for _label, r in view.releases or []) == rid
    assert view.open is not None  # from 30 rows: the items still open
    assert pickle.loads(pickle.dumps(view)) == view


# `cockpit --lang en open` on a terminal, until its first frame: the frame written, the
# process's children then (a machine busier than usual would leave the data to the next frame:
# the first frame waits for the read-ahead).
# The read-ahead waited for before the first frame, as a machine not too busy has it then.
WAIT_AHEAD = """\
import select
import screens.firstview

take = screens.firstview.FirstView.take

def take_when_come(first, ahead):
    if ahead is not None:
        select.select([ahead._fd], [], [], 30)
    return take(first, ahead)

screens.firstview.FirstView.take = take_when_come
"""

FIRST_FRAME = (
    WAIT_AHEAD
    + """\
import os, sys
import textual.app
written = sys.argv[1]
display = textual.app.App._display

def first_frame(app, screen, renderable):
    display(app, screen, renderable)
    if renderable is not None and app._running and not app._batch_count:
        children = []
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as fh:
                children += fh.read().split()
        cmdlines = []
        for pid in children:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdlines.append(fh.read().replace(b"\\0", b" ").decode())
        with open(written, "w") as out:
            out.write("\\n".join(cmdlines))
        os._exit(0)

textual.app.App._display = first_frame
from cockpit.cli import main
sys.argv = ["cockpit", "--lang", "en", "open"]
main()
"""
)


def test_cockpit_open_draws_the_data_in_its_first_frame(releases: tuple[Path, str]) -> None:
    from tests.ptyrun import run_on_pty

    root, _rid = releases
    out = root / "children.txt"
    env = {**os.environ, "COCKPIT_CONFIG": str(root / "cockpit.toml"), "TERM": "xterm-256color"}
    env["PYTHONPATH"] = str(REPO)
    said = run_on_pty([sys.executable, "-c", FIRST_FRAME, str(out)], env)
    assert out.exists(), said[-2000:]
    frame = said.decode(errors="replace")
    assert "Timeline" in frame and "T-14" in frame and "1.4.0" in frame, frame[-2000:]
    # What is left of it then: the zygote alone (the read-ahead was read and reaped).
    children = [c for c in out.read_text().splitlines() if c]
    assert len(children) <= 1 and all("--zygote" in c for c in children), children


def test_a_plan_of_ones_own_is_listed_by_its_file_name_on_one_line(
    releases: tuple[Path, str],
) -> None:
    root, _rid = releases
    plan = root / "a-very-long-plan-name.yaml"
    hotfix = (REPO / "checklists" / "hotfix.yaml").read_text(encoding="utf-8")
    plan.write_text(hotfix.replace("name: hotfix", "name: a-very-long-plan-name", 1))
    code, _out, err = cli(
        "release", "new", "--plan", str(plan), "--env", "staging", "--version", "2.0.0-rc.1",
        "--t0", "2026-12-16T01:00",
    )  # fmt: skip
    assert code == 0, err
    view = first_view(Session(lang="en"), None, 80, 24)
    labels = [label for label, _id in view.releases or []]
    assert labels[-1].startswith("2.0.0-r\u2026 a-very-l\u2026 staging")  # not the file's path
    assert all(len(label) <= 30 for label in labels), labels  # one line in the list


def test_the_dashboard_opens_on_the_release_its_operator_drove_last(
    releases: tuple[Path, str],
) -> None:
    """Back after a dropped connection: the release this operator drove last (from any host),
    not the first in the list; another operator's lease does not count; one asked for wins."""
    from cockpit.lease import take
    from cockpit.operator import Operator

    _root, first = releases
    view = first_view(Session(lang="en"), None, 80, 24)
    ids = [release_id for _label, release_id in view.releases or []]
    assert view.shown == first and len(ids) == 2
    second = ids[1]
    code, _out, err = cli("lease", "take", second)
    assert code == 0, err
    code, _out, err = cli("lease", "release", second)  # let go (q): still the last one driven
    assert code == 0, err
    bob = Session(lang="en", operator=Operator.fixed("bob", "bastion-2"))
    take(bob, first)
    assert first_view(Session(lang="en"), None, 80, 24).shown == second
    assert first_view(Session(lang="en"), first, 80, 24).shown == first


# `cockpit --lang en open` on a terminal, the read-ahead waited for before the first frame.
WAITED = (
    WAIT_AHEAD
    + """\
import sys
from cockpit.cli import main
sys.argv = ["cockpit", "--lang", "en", "open"]
sys.exit(main())
"""
)


def test_a_wrong_cockpit_toml_found_ahead_ends_the_app_before_anything_is_drawn(
    tmp_path: Path,
) -> None:
    from tests.ptyrun import run_on_pty_status

    config = tmp_path / "cockpit.toml"
    config.write_text("[database]\nurl = 42\n")
    env = {**os.environ, "COCKPIT_CONFIG": str(config), "TERM": "xterm-256color"}
    env["PYTHONPATH"] = str(REPO)
    said, code = run_on_pty_status([sys.executable, "-c", WAITED], env)
    text = said.decode(errors="replace")
    assert code == 2, text[-500:]
    assert "cockpit.toml:2: database.url: expected a string" in text
    assert "Timeline" not in text and "Release Cockpit" not in text  # no frame, not even empty
