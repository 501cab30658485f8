"""The import contracts in pyproject.toml hold, and they do catch a broken rule.

`lint-imports` runs in CI (.ci/run); here it also runs on a copy of the tree with a deliberate
violation, so a contract that could never fail (a typo in a module name, a rule that matches
nothing) shows up as a failing test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the three root packages and the contracts."""
    for package in ("cockpit", "screens", "widgets"):
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("path", "code", "contract"),
    [
        ("cockpit/violation.py", "import textual\n", "The engine works without the TUI"),
        ("cockpit/violation.py", "import screens.dashboard\n", "The engine works without"),
        ("widgets/violation.py", "import cockpit.store\n", "Widgets are dumb"),
        ("screens/violation.py", "", "No screen imports another"),
        # The plan model reaching up into the config it sits below.
        ("cockpit/plan/violation.py", "import cockpit.config\n", "The engine's layers"),
        # The fold reaching up into the step runner (the cycle the house removed).
        ("cockpit/liveness.py", "import cockpit.deploy\n", "The engine's layers"),
    ],
)
def test_a_violation_breaks_the_build(tree: Path, path: str, code: str, contract: str) -> None:
    if path.startswith("screens/"):
        # The dashboard opening the runbook by import instead of through the app.
        target = tree / "screens" / "dashboard.py"
        target.write_text(target.read_text() + "\nimport screens.runbook  # noqa\n")
    elif (tree / path).exists():
        (tree / path).write_text((tree / path).read_text() + code)
    else:
        (tree / path).write_text(code)
    result = lint(tree)
    assert result.returncode == 1, result.stdout[-2000:]
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert broken and any(contract in line for line in broken), result.stdout[-2000:]
