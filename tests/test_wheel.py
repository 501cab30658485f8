"""The wheel installs: built from the tracked files, installed non-editable into a fresh venv,
every module imports from there, `cockpit --help` runs, and a headless demo opens every screen.

The tests' own install is editable (`pip install -e`), which would hide a package missing from
the wheel (it once left out `cockpit/metrics/`: pressing `m` failed after `pipx install`). The
fresh venv reaches the dependencies through a path file to this venv's site-packages, so the
test needs no network; the project itself comes only from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("cockpit", "screens", "widgets", "checklists")

SMOKE = r"""
import asyncio, importlib, pkgutil, sys
from pathlib import Path

import cockpit, screens, widgets, checklists
for pkg in (cockpit, screens, widgets, checklists):
    assert "site-packages" in pkg.__file__, pkg.__file__  # from the wheel, not the checkout
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if ".migrations.versions." in info.name or info.name.endswith((".env", "__main__")):
            continue  # Alembic runs its scripts; __main__ runs the command
        importlib.import_module(info.name)

from cockpit.demo import create_demo
from cockpit.session import Session
from screens.app import CockpitApp

workspace = create_demo(Path(sys.argv[1]))
session = Session(config_path=workspace.config, lang="en")

async def walk() -> list[str]:
    app = CockpitApp(session, release_id=workspace.release_id, refresh_seconds=3600, drive=False)
    seen = []
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("m", "escape", "d", "escape", "l", "escape", "question_mark", "escape"):
            await pilot.pause()
            await app.workers.wait_for_complete()
            seen.append(type(app.screen).__name__)
            await pilot.press(key)
        await pilot.pause()
    return seen

print(" ".join(asyncio.run(walk())))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the tracked files (a stray file cannot sneak in)."""
    src = tmp_path_factory.mktemp("src")
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        path = Path(os.fsdecode(name))
        if not (REPO / path).is_file():
            continue  # deleted in the working tree, not yet committed
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_bytes((REPO / path).read_bytes())
    out = tmp_path_factory.mktemp("dist")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-w", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("release_cockpit-*.whl")
    return built


def test_the_wheel_holds_every_package_and_its_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in PACKAGES:
        for path in (REPO / package).rglob("*"):
            if "__pycache__" in path.parts or path.is_dir():
                continue
            tracked = subprocess.run(
                ["git", "ls-files", "--error-unmatch", str(path)], cwd=REPO, capture_output=True
            )
            if tracked.returncode == 0:
                rel = path.relative_to(REPO).as_posix()
                assert rel in names, f"{rel} is not in the wheel"


def test_installed_non_editable_it_imports_everything_and_opens_every_screen(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies come from the test venv; its editable hook for this project does not
    # (only site directories run .pth files, and this one is added as a plain path).
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip_install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run(
        [*pip_install, "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COCKPIT_", "PYTHON"))}
    clean["HOME"] = str(tmp_path)
    helped = subprocess.run(
        [str(env_dir / "bin" / "cockpit"), "--help"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert helped.returncode == 0, helped.stderr
    assert "usage: cockpit" in helped.stdout
    smoke = subprocess.run(
        [str(python), "-c", SMOKE, str(tmp_path / "demo")],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert smoke.returncode == 0, smoke.stderr[-3000:]
    assert smoke.stdout.split() == [
        "DashboardScreen",
        "MetricsScreen",
        "DashboardScreen",
        "RunbookScreen",
        "DashboardScreen",
        "AuditScreen",
        "DashboardScreen",
        "HelpScreen",
    ]
