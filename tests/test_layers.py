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
