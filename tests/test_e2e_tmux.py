"""End to end, as a release manager would: `cockpit demo` in a real tmux at 80x24 and at 160x48,
keys sent with `tmux send-keys`, the screen read back with `tmux capture-pane`.

The walk covers the whole `release` plan, T-14 to T-0: every manual item is marked done with
enter, one item is skipped with a reason, the check items run, and the T-3 gate, which the
preparer may not approve (four-eyes), is approved by a claimed stand-in colleague through the CLI
(`COCKPIT_AS=bob`). Afterwards the audit log must verify and hold one decision per item.

Everything is polled with a deadline: no fixed sleeps. Toasts (bottom right, 5 s each) may cover
the right half of the screen, so per-item waits read the left columns (marker, title, detail) and
only the per-phase progress waits for the right half to show.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit.plan import CheckItem, GateItem, Item, ManualItem, StepItem, TagRun, read_plan

COCKPIT = [sys.executable, "-m", "cockpit"]
SKIPPED_ITEM = "t14.dependencies"
SKIP_REASON = "pip-audit ran in CI"
GATE_ITEM = "t3.approval"
GATE_REASON = "reviewed the release notes"
STAND_IN = "bob"
DECISIONS = {"item.done", "item.skipped", "gate.approved", "step.succeeded"}
EXITED = re.compile(r"\[cockpit exited (\d+)\]")


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that would steer the cockpit or tmux."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COCKPIT_", "TMUX", "LC_")) and k not in {"LANG", "LANGUAGE"}
    }
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8")
    return env


@dataclass
class Tmux:
    """One private tmux server (its own -L socket) with one detached session, 80x24 unless
    the test says otherwise."""

    socket: str
    session: str
    env: dict[str, str]
    size: tuple[int, int] = (80, 24)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-u", "-f", "/dev/null", "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=check,
        )

    def start(self, command: str) -> None:
        width, height = (str(n) for n in self.size)
        self.run("new-session", "-d", "-x", width, "-y", height, "-s", self.session, command)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.session, "-l", text)

    def wait(self, ok: Callable[[str], bool], what: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if ok(screen):
                return screen
            if EXITED.search(screen):
                break
            time.sleep(0.1)
        pytest.fail(f"waited {timeout:g}s for {what}; the screen shows:\n{screen}")

    def wait_text(self, *texts: str, timeout: float = 10.0) -> str:
        return self.wait(lambda s: all(t in s for t in texts), " and ".join(texts), timeout)

    def press_until(self, key: str, *texts: str, timeout: float = 8.0, tries: int = 3) -> str:
        """Press ``key`` until ``texts`` show: a key sent while a loaded machine draws may come
        too early and be dropped."""
        for _ in range(tries - 1):
            self.keys(key)
            with contextlib.suppress(pytest.fail.Exception):  # (what wait says when it times out)
                return self.wait_text(*texts, timeout=timeout)
        self.keys(key)
        return self.wait_text(*texts, timeout=timeout)

    def kill(self) -> None:
        """Stop this server and remove its socket (tmux 3.3 leaves it behind)."""
        found = self.run("display-message", "-p", "#{socket_path}", check=False)
        self.run("kill-server", check=False)
        path = Path(found.stdout.strip())
        if found.returncode == 0 and path.name == self.socket:
            path.unlink(missing_ok=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    # A missing tmux is a broken test machine (.ci/install installs it): fail, never skip.
    assert shutil.which("tmux"), "tmux is not installed: run bash .ci/install"
    tag = uuid.uuid4().hex[:10]
    server = Tmux(socket=f"cockpit-e2e-{tag}", session=f"e2e-{tag}", env=clean_env())
    try:
        yield server
    finally:
        server.kill()


def start_demo(tmux: Tmux, demo: Path, lang: str) -> None:
    cockpit = shlex.join([*COCKPIT, "--lang", lang, "demo", "--dir", str(demo)])
    # The shell stays after the cockpit exits so the exit code (or a traceback) stays readable.
    tmux.start(
        f"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 {cockpit}; "
        'echo "[cockpit exited $?]"; exec sleep 600'
    )


def cli(config: Path, *args: str, key: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI on the demo's config; ``key``: sign as the colleague holding that key."""
    env = clean_env()
    env["COCKPIT_CONFIG"] = str(config)
    if key is not None:
        env["COCKPIT_SIGNING_KEY"] = str(key)
    return subprocess.run(
        [*COCKPIT, *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def lines(screen: str) -> list[str]:
    return screen.splitlines()


def row_of(screen: str, marker: str, title: str) -> bool:
    """The item's row in the checklist shows ``marker`` (titles are cut to 25 cells)."""
    return any(line.startswith(f" {marker} {title[:20]}") for line in lines(screen))


def cursor_on(screen: str, title: str) -> bool:
    """The detail pane (under the rule) describes ``title``: the cursor is on that item."""
    rows = lines(screen)
    for index, line in enumerate(rows[:-1]):
        if line.startswith("-" * 30):
            return rows[index + 1].startswith(f" {title}  ")
    return False


def phase_line(screen: str, phase_id: str) -> str:
    for line in lines(screen):
        if line.startswith(f" {phase_id.upper()} "):
            return line
    return ""


def exit_code(tmux: Tmux) -> str:
    screen = tmux.wait(lambda s: EXITED.search(s) is not None, "the cockpit to exit")
    found = EXITED.search(screen)
    assert found is not None
    return found.group(1)


def past_triggers(tmux: Tmux, key: str, expected: str, timeout: float = 20.0) -> None:
    """Press ``key`` (none: only wait) until ``expected`` shows. The demo's panels are this
    host's: a busy test machine can hold its CPU critical and fire the CPU trigger, whose
    dialog then takes the keys. The release manager's answer: continue, recorded with the
    reason (go still waits until no panel is critical); then the key again."""
    deadline = time.monotonic() + timeout
    if key:
        tmux.keys(key)
    while expected not in (screen := tmux.screen()):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g}s for {expected}; the screen shows:\n{screen}")
        if "Rollback trigger fired" in screen and "Reason (required)" in screen:
            tmux.keys("C-u")  # a key meant for the screen may have landed in the reason
            tmux.type("the test machine is busy, not the release")
            time.sleep(0.35)  # the dialog ignores keys in its first 300 ms
            tmux.keys("C-o")
            tmux.wait(lambda s: "Rollback trigger fired" not in s, "the trigger settled")
            if key:
                tmux.keys(key)
        time.sleep(0.2)


def kind_of(item: Item) -> str:
    if isinstance(item, GateItem):
        return "gate"
    if isinstance(item, CheckItem):
        return "check"
    if isinstance(item, ManualItem):
        return "manual"
    if isinstance(item, StepItem) and isinstance(item.run, TagRun):
        return "step"
    if isinstance(item, StepItem):
        return "run"
    pytest.fail(f"{item.id}: the walk knows manual, check, gate and step items, not {type(item)}")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_walk_the_whole_plan_in_tmux(tmp_path: Path, tmux: Tmux, size: tuple[int, int]) -> None:
    tmux.size = size
    plan = read_plan("release").plan
    all_items = [item for phase in plan.phases for item in phase.items]
    assert SKIPPED_ITEM in {i.id for i in all_items} and GATE_ITEM in {i.id for i in all_items}
    demo = tmp_path / "demo"
    config = demo / "cockpit.toml"

    start_demo(tmux, demo, "en")
    tmux.wait_text("Release Cockpit", "T-14", "Next", timeout=20)

    def every_phase_drawn(screen: str) -> bool:
        # A frame may be caught half-written on a loaded machine: wait for every row.
        return all(
            re.search(rf"{phase.id.upper()}\s.*\[-+\]\s+0/{len(phase.items)}\b", screen)
            for phase in plan.phases
        )

    screen = tmux.wait(every_phase_drawn, "every phase's row at 0", timeout=20)
    assert "REHEARSAL" in screen
    first = plan.phases[0]

    listed = cli(config, "release", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (release,) = json.loads(listed.stdout)
    release_id, preparer = release["id"], release["created_by"]
    assert release["rehearsal"] is True

    tmux.keys("Enter")  # the dashboard opens the phase of the next item
    tmux.wait(lambda s: phase_line(s, first.id).startswith(f" T-14 {first.title_en}"), "T-14")

    for number, phase in enumerate(plan.phases):
        total = len(phase.items)
        tmux.wait(
            lambda s, p=phase: phase_line(s, p.id).startswith(f" {p.id.upper()} {p.title_en}"),
            f"the {phase.id} checklist",
        )
        for item in phase.items:
            title = item.title_en
            tmux.wait(lambda s, t=title: cursor_on(s, t), f"the cursor on {item.id}")
            kind = kind_of(item)
            if item.id == SKIPPED_ITEM:
                tmux.keys("s")
                tmux.wait_text(f"Skip {title}", "Reason (required)")
                tmux.type(SKIP_REASON)
                tmux.wait_text(SKIP_REASON)
                tmux.keys("Enter")
                tmux.wait(lambda s, t=title: row_of(s, "[-]", t), f"{item.id} skipped")
                tmux.wait_text(f'skip: "{SKIP_REASON[:12]}')
            elif kind == "gate":
                # Four-eyes: the preparer's own approval is refused on screen, nothing recorded.
                tmux.keys("a")
                tmux.wait_text("refused: four-eyes")
                assert row_of(tmux.screen(), "[ ]", title)
                # The gate says how to approve as the colleague, with their own key.
                hint = tmux.wait_text("approve as bob from a second terminal")
                assert "COCKPIT_SIGNING_KEY=" in hint.replace("\n", "")
                approved = cli(
                    config,
                    "item",
                    "approve",
                    release_id,
                    item.id,
                    "--reason",
                    GATE_REASON,
                    key=demo / "keys" / STAND_IN,
                )
                assert approved.returncode == 0, approved.stderr
                assert "gate.approved" in approved.stdout
                # The TUI picks the colleague's approval up on its 2 s refresh.
                tmux.wait(
                    lambda s, t=title: any(
                        line.startswith(f" [x] {t[:20]}") and f" {STAND_IN} " in line
                        for line in lines(s)
                    ),
                    f"the approval by {STAND_IN} on screen",
                    timeout=12,
                )
                # The settled gate hands the cursor on to the next item by itself.
                tmux.wait_text("Stakeholders notified  関係者への通知  manual")
            elif kind == "step" and item.id == "t1.tag":
                # The tagging screen: preflight against the demo's bare remote, the tag
                # message, a question naming the tag, then the tag and the atomic push.
                tmux.keys("Enter")
                tmux.wait_text("[x] tag free", "Tag message (v1.4.0)", "enter tag")
                tmux.keys("Enter")
                tmux.wait_text("Create tag v1.4.0 on", "push it with main to origin?", "y yes")
                time.sleep(0.35)  # a key sooner is a held key: the dialog ignores it
                tmux.keys("y")
                tmux.wait_text("step.succeeded", timeout=20)
                tmux.keys("Escape")
                tmux.wait(lambda s, t=title: row_of(s, "[x]", t), f"{item.id} done")
                published = subprocess.run(
                    ["git", "ls-remote", "--tags", str(demo / "remote.git"), "v1.4.0"],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                assert "refs/tags/v1.4.0" in published.stdout
            elif kind == "run":
                # A deployment step opens the runbook on it: its preview (what it runs, read
                # from the demo's local stand-ins), a question naming it, then its live output.
                tmux.keys("Enter")
                tmux.wait_text("T-0 Release", "R rollback")
                tmux.wait(
                    lambda s: "reading the preview" not in s and "$ " in s,
                    f"the preview of {item.id}",
                    timeout=20,
                )
                tmux.keys("Enter")
                tmux.wait_text(f"Run {title[:30]}", "enter run")
                time.sleep(0.35)
                tmux.keys("Enter")
                tmux.wait(
                    lambda s, t=title: any(
                        line.startswith("[x]") and t[:12] in line for line in lines(s)
                    ),
                    f"{item.id} done in the runbook",
                    timeout=30,
                )
                tmux.keys("Escape")
                tmux.wait(lambda s, t=title: row_of(s, "[x]", t), f"{item.id} done")
            elif kind == "check":
                tmux.keys("Enter")  # a check previews what it runs and asks first
                tmux.wait_text(f"Mark {title} done", "Reason (optional)")
                tmux.keys("Enter")
                tmux.wait(lambda s, t=title: row_of(s, "[x]", t), f"{item.id} done", 15)
            else:
                tmux.keys("Enter")
                tmux.wait(lambda s, t=title: row_of(s, "[x]", t), f"{item.id} done")

        # The phase is settled: its line says so.
        screen = tmux.wait(
            lambda s, p=phase, n=total: f"  {n}/{n}  " in phase_line(s, p.id),
            f"{phase.id} at {total}/{total}",
        )
        rows = [line for line in lines(screen) if line.startswith((" [x] ", " [-] ", " [ ] "))]
        assert not [r for r in rows if r.startswith(" [ ] ")], screen

        if number == 0:
            # Back to the dashboard once: it shows the phase full and what is next.
            tmux.keys("Escape")
            following = plan.phases[1]
            screen = tmux.wait_text(f"Next    {following.id.upper()} {following.items[0].title_en}")
            tmux.wait(
                lambda s, p=phase, n=total: bool(re.search(rf" {p.id.upper()} .*\] +{n}/{n} ", s)),
                "the dashboard's T-14 row full",
            )
            tmux.keys("Enter")
        elif number < len(plan.phases) - 1:
            tmux.keys("]")

    tmux.keys("Escape")
    screen = tmux.wait_text("all items settled")
    for phase in plan.phases:
        n = len(phase.items)
        tmux.wait(
            lambda s, p=phase, n=n: bool(re.search(rf" {p.id.upper()} .*\[#+\] +{n}/{n} ", s)),
            f"the dashboard's {phase.id} row full",
        )

    # The post-release watch on the demo's fast clock (marked as such) ends in go.
    tmux.keys("m")
    # The screen has read the release (in a worker) once it says why go is blocked.
    tmux.wait_text("go blocked: the post-release watch has not started", timeout=20)
    past_triggers(tmux, "w", "watch.started")
    # The watch runs on the demo's marked fast clock (FAST DEMO CLOCK x2880 while time is left,
    # unless a panel is critical meanwhile: asserted on the recorded event below).
    past_triggers(tmux, "", "go possible", timeout=120)
    past_triggers(tmux, "g", "watch.go")
    tmux.keys("Escape")
    tmux.wait_text("all items settled")

    tmux.keys("q")
    assert exit_code(tmux) == "0"
    # The summary printed on quitting names the tag made meanwhile.
    unwrapped = tmux.screen().replace("\n", "")  # the line is longer than 80 columns
    assert re.search(r"\(tags: v[^)]*, v1\.4\.0\)", unwrapped), tmux.screen()

    verified = cli(config, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain ok" in verified.stdout
    assert "signatures ok" in verified.stdout

    exported = cli(config, "audit", "export", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    events = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
    decisions: dict[str, list[dict[str, object]]] = {}
    for event in events:
        if event["action"] in DECISIONS and event["release_id"] == release_id:
            decisions.setdefault(str(event["subject"]), []).append(event)
    for item in all_items:
        got = decisions.get(item.id, [])
        assert len(got) == 1, f"{item.id}: expected one decision, got {got}"
        (event,) = got
        assert event["rehearsal"] is True
        if item.id == SKIPPED_ITEM:
            assert (event["action"], event["actor"], event["reason"]) == (
                "item.skipped",
                preparer,
                SKIP_REASON,
            )
        elif item.id == GATE_ITEM:
            assert event["action"] == "gate.approved"
            assert str(event["actor"]).split("@")[0] == STAND_IN
            assert event["reason"] == GATE_REASON
            # Signed with bob's own key: proven, not claimed.
            assert event["signature"] and event["verified"] is True
        elif kind_of(item) == "step":
            assert (event["action"], event["actor"]) == ("step.succeeded", preparer), event
            assert event["details"]["published"] is True
        elif kind_of(item) == "run":
            assert (event["action"], event["actor"]) == ("step.succeeded", preparer), event
        else:
            assert (event["action"], event["actor"]) == ("item.done", preparer), event
    assert set(decisions) == {item.id for item in all_items}
    watch = [e for e in events if e["action"] in {"watch.started", "watch.go"}]
    assert [e["action"] for e in watch] == ["watch.started", "watch.go"]
    assert watch[0]["details"]["speed"] == 2880 and watch[1]["rehearsal"] is True


def test_japanese_titles_in_tmux(tmp_path: Path, tmux: Tmux) -> None:
    start_demo(tmux, tmp_path / "demo", "ja")
    # At 80 columns the dashboard cuts phase titles to 14 cells; these fit whole.
    tmux.wait_text("T-14", "テスト完了", "リリース承認", "最終確認", "リリース実施", timeout=20)
    tmux.keys("Enter")
    screen = tmux.wait_text("リリース内容確定", "要件の充足確認")
    assert "手動確認" in screen and "スキップ" in screen
    tmux.wait(lambda s: cursor_on(s, "要件の充足確認"), "the cursor on the first item")
    tmux.keys("Enter")
    tmux.wait(lambda s: row_of(s, "[x]", "要件の充足確認"), "the first item done")
    tmux.keys("q")
    assert exit_code(tmux) == "0"
