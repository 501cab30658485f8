"""The layers stay apart: the engine never loads Textual or the heavy clients by itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENGINE = sorted(
    "cockpit." + ".".join(p.relative_to(REPO / "cockpit").with_suffix("").parts)
    for p in (REPO / "cockpit").rglob("*.py")
    if p.name not in {"__main__.py", "env.py"}
    and "versions" not in p.parts
    and p.name != "__init__.py"
)


def imported_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    return {name.split(".")[0] for name in result.stdout.split()}


def test_engine_modules_do_not_import_textual_or_heavy_clients() -> None:
    assert "cockpit.events" in ENGINE and "cockpit.store" in ENGINE
    loaded = imported_after("\n".join(f"import {m}" for m in ENGINE))
    assert not loaded & {"textual", "boto3", "botocore", "kubernetes", "alembic", "git"}


def test_events_module_is_light() -> None:
    loaded = imported_after("import cockpit.events")
    assert not loaded & {"textual", "sqlalchemy", "boto3", "kubernetes", "alembic", "git", "rich"}


def test_cli_help_is_light() -> None:
    loaded = imported_after("import cockpit.cli; cockpit.cli.build_parser()")
    assert not loaded & {"textual", "sqlalchemy", "boto3", "kubernetes", "alembic", "git"}


def test_widgets_do_not_reach_into_the_engine() -> None:
    for path in (REPO / "widgets").rglob("*.py"):
        text = path.read_text()
        for banned in (
            "from cockpit.store",
            "from cockpit.release",
            "import sqlalchemy",
            "import boto3",
            "import kubernetes",
            "import git",
        ):
            assert banned not in text, f"{path}: {banned}"


def test_no_engine_module_imports_textual() -> None:
    # textual_serve too: `cockpit serve` serves the TUI, so it lives in screens/.
    textual = re.compile(r"^\s*(from|import) textual", re.MULTILINE)
    for path in (REPO / "cockpit").rglob("*.py"):
        assert not textual.search(path.read_text()), path


def test_open_imports_no_plan_parser_or_database_before_the_first_frame() -> None:
    # `cockpit open` imports cockpit.launch (start_zygote) and the app before its first frame;
    # the checklist, the plans (PyYAML) and SQLAlchemy load in the dashboard's worker after it.
    loaded = imported_after(
        "import cockpit.cli; cockpit.cli.build_parser()\n"
        "import cockpit.session, cockpit.launch, screens.app, screens.dashboard"
    )
    assert "textual" in loaded
    assert not loaded & {"yaml", "sqlalchemy", "alembic", "git"}


# Run as `cockpit --lang en open` on a terminal: the modules first imported by the UI thread
# (the main one) before the first frame is written, then exit.
FIRST_FRAME = """\
import os, sys, threading
imported, written = [], sys.argv[1]

class Seen:
    def find_spec(self, name, path=None, target=None):
        if threading.current_thread() is threading.main_thread():
            imported.append(name)
        return None

sys.meta_path.insert(0, Seen())
import textual.app

display = textual.app.App._display

def first_frame(app, screen, renderable):
    display(app, screen, renderable)
    if renderable is not None and app._running and not app._batch_count:
        with open(written, "w") as out:
            out.write(type(screen).__name__ + "\\n" + "\\n".join(imported))
        os._exit(0)

textual.app.App._display = first_frame
from cockpit.cli import main
sys.argv = ["cockpit", "--lang", "en", "open"]
main()
"""


def test_the_first_frame_is_drawn_before_the_engine_is_imported(tmp_path: Path) -> None:
    """The dashboard's first frame (its chrome, no data) is the first screen drawn, and the UI
    thread draws it without the config, the operator (identity, signing), the calendar or the
    metrics: the load worker reads and imports them once the frame is out (issue 16)."""
    import os

    from tests.ptyrun import run_on_pty

    config = tmp_path / "cockpit.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "log.db"}"\n')
    out = tmp_path / "imported.txt"
    env = {**os.environ, "COCKPIT_CONFIG": str(config), "TERM": "xterm-256color"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    said = run_on_pty([sys.executable, "-c", FIRST_FRAME, str(out)], env)
    assert out.exists(), said[-2000:]
    screen, *imported = out.read_text().split("\n")
    assert screen == "DashboardScreen"  # not Textual's empty default screen first
    assert "screens.dashboard" in imported  # what it records is the UI thread's imports
    late = {
        "cockpit.config",
        "cockpit.operator",
        "cockpit.identity",
        "cockpit.signing",
        "cockpit.schedule",
        "cockpit.timefmt",
        "cockpit.metrics",
        "cockpit.follow",
        "cockpit.store",
        "cockpit.checklist",
        "sqlalchemy",
        "yaml",
    }
    assert not late & set(imported)
