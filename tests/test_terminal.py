"""What the cockpit sends to a real terminal: the bytes of a run in a pseudo-terminal, read as
they come. ``--ascii`` draws no character a CJK terminal could draw double-wide (box drawing,
blocks, arrows, the ellipsis): every byte above 0x7F belongs to text data (the plan's Japanese
titles). ``NO_COLOR`` sends no colour at all (it does not turn the screen grey either)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import unicodedata
from pathlib import Path

import pytest

from tests.test_e2e_tmux import COCKPIT, clean_env

# Keys pressed once the dashboard is up: the runbook (its separator, the ellipsis of cut
# names), back, the command palette, back, the metrics screen (its panels), back, quit.
WALK = (b"d", b"\x1b", b":", b"\x1b", b"m", b"\x1b", b"q")
# SGR parameters that set a colour: 30-38 and 40-48 (foreground, background, 38/48 extended),
# 90-97 and 100-107 (bright). 39 and 49 (the terminal's own colours) are not colours.
COLOUR = re.compile(r"\x1b\[([0-9;:]*)m")
COLOUR_CODES = {*range(30, 39), *range(40, 49), *range(90, 98), *range(100, 108)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    """A demo workspace (its config in the environment) and its release id."""
    root = tmp_path_factory.mktemp("term") / "demo"
    env = clean_env()
    made = subprocess.run(
        [*COCKPIT, "demo", "--dir", str(root), "--no-tui"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    env["COCKPIT_CONFIG"] = str(root / "cockpit.toml")
    listed = subprocess.run(
        [*COCKPIT, "release", "list", "--json"], capture_output=True, text=True, env=env
    )
    release_id = re.search(r'"id": "([^"]+)"', listed.stdout)
    assert release_id is not None, listed.stdout
    return env, release_id.group(1)


def run_in_pty(args: list[str], env: dict[str, str], size: tuple[int, int] = (24, 80)) -> bytes:
    """Run the cockpit in a pseudo-terminal of ``size`` (rows, columns), press :data:`WALK`
    (a key every 1.5 s once it has drawn), and return every byte it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the cockpit, on the terminal
        os.execve(sys.executable, [*COCKPIT, *args], {**env, "TERM": "xterm-256color"})
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    out, keys = bytearray(), list(WALK)
    started, next_key = time.monotonic(), 0.0
    try:
        while time.monotonic() - started < 60:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the cockpit exited: its side of the terminal is gone
                    break
                if not chunk:
                    break
                out += chunk
                if not next_key and b"Release Cockpit" in out:
                    next_key = time.monotonic() + 3.0  # the dashboard drawn: walk
            if keys and next_key and time.monotonic() >= next_key:
                os.write(fd, keys.pop(0))
                next_key = time.monotonic() + 1.5
    finally:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert not keys, f"the cockpit ended before the walk: {bytes(out[-2000:])!r}"
    return bytes(out)


def not_text_data(char: str) -> bool:
    """A character outside ASCII that is not part of a word (a letter or a wide CJK
    character): a line, a block, an arrow, an ellipsis, a dot."""
    if ord(char) < 0x80:
        return False
    wide = unicodedata.east_asian_width(char) in {"W", "F"}
    return not (wide or unicodedata.category(char).startswith("L"))


def test_ascii_draws_no_unicode_outside_text_data(demo: tuple[dict[str, str], str]) -> None:
    env, release_id = demo
    out = run_in_pty(["--lang", "en", "--ascii", "open", "--release", release_id], env).decode()
    drawn = sorted({c for c in out if not_text_data(c)})
    assert drawn == [], [f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in drawn]
    # It drew the runbook, the palette (its ellipsis made ASCII) and the metrics panels.
    assert "Take a backup" in out and "Search for commands~" in out and "NO DATA" in out


def test_no_color_sends_no_colour(demo: tuple[dict[str, str], str]) -> None:
    env, release_id = demo
    out = run_in_pty(["--lang", "en", "open", "--release", release_id], {**env, "NO_COLOR": "1"})
    codes = {
        int(code)
        for params in COLOUR.findall(out.decode())
        for code in re.split(r"[;:]", params)
        if code.isdigit()
    }
    assert codes & COLOUR_CODES == set(), sorted(codes)
    assert codes & {1, 7}  # bold and reverse stay


def test_colour_without_no_color(demo: tuple[dict[str, str], str]) -> None:
    """The check above can fail: the same walk without NO_COLOR sends colours."""
    env, release_id = demo
    out = run_in_pty(["--lang", "en", "open", "--release", release_id], env).decode()
    assert "\x1b[38;2;" in out or "\x1b[38;5;" in out


def test_unicode_without_ascii(demo: tuple[dict[str, str], str]) -> None:
    """And without --ascii the same walk draws box lines: the test above can fail."""
    env, release_id = demo
    out = run_in_pty(["--lang", "en", "open", "--release", release_id], env).decode()
    assert any(not_text_data(c) for c in out)


def test_a_wrong_config_ends_the_app_with_one_line(tmp_path: Path) -> None:
    """The app's first frame comes before a worker reads cockpit.toml: a wrong one ends the
    app, and the cockpit says it in one line (exit 2), as every command does; no traceback."""
    config = tmp_path / "cockpit.toml"
    config.write_text("[database]\nurl = 5\n")
    env = {**clean_env(), "COCKPIT_CONFIG": str(config), "TERM": "xterm-256color"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the cockpit, on the terminal
        os.chdir(tmp_path)
        os.execve(sys.executable, [*COCKPIT, "--lang", "en", "open"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    out, started = bytearray(), time.monotonic()
    try:
        while time.monotonic() - started < 60:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the cockpit exited
                    break
                if not chunk:
                    break
                out += chunk
    finally:
        _pid, status = os.waitpid(pid, 0)
        os.close(fd)
    said = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 2, said[-2000:]
    assert "cockpit: cockpit.toml:2: database.url: expected a string" in said
    assert "Traceback" not in said and "ConfigError" not in said
