"""``cockpit demo``: a throwaway workspace to try the cockpit on, with nothing to install.

It holds a real git repository with some history and release tags, a SQLite event log, and a
``cockpit.toml`` with a ``staging`` rehearsal environment and a ``production`` one. A demo
release of the next minor version is created with T-0 at the opening of the first change window
at least fourteen days ahead (the third Wednesday, 01:00 JST).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cockpit.schedule import slots
from cockpit.session import Session
from cockpit.vocabulary import NOTE

if TYPE_CHECKING:
    from cockpit.config import LoadedConfig


# The demo's cockpit.toml, with @PLACEHOLDERS@ filled in by demo_config (a data file, shipped).
DEMO_CONFIG = resources.files("cockpit").joinpath("demo.toml")


def demo_config(operator: str, port: int = 0) -> str:
    """The demo's cockpit.toml for ``operator``, its application served on ``port``."""
    import json
    import sys

    from cockpit.demoapp import ALEMBIC_INI, alembic_command

    python = json.dumps(sys.executable)
    server = json.dumps(str(ALEMBIC_INI.parent / "server.py"))
    return (
        DEMO_CONFIG.read_text(encoding="utf-8")
        .replace("@OPERATOR@", operator)
        .replace("@SCAN@", _SCAN)
        .replace("@SYNTAX@", _SYNTAX)
        .replace("@SERVER@", server)
        .replace("@PORT@", str(port))
        .replace("@PYTHON@", python)
        .replace("@ALEMBIC@", json.dumps(alembic_command()))
    )


# The demo's security scan: no file of the repository holds a private key (exit 1 naming it).
_SCAN = (
    "import pathlib, sys; hits = [str(p) for p in pathlib.Path(sys.argv[1]).rglob('*') "
    "if p.is_file() and '.git' not in p.parts and b'PRIVATE KEY-----' in p.read_bytes()]; "
    "print('secrets scan: ' + (', '.join(hits) or 'no private keys')); sys.exit(1 if hits else 0)"
)
# The demo's static analysis: the application's source parses (exit 1 on a syntax error).
_SYNTAX = (
    "import ast, sys; [ast.parse(open(p, encoding='utf-8').read(), p) for p in sys.argv[1:]]; "
    "print('syntax: ok')"
)
# The demo application's coverage report, as `coverage json` writes it (its totals).
_COVERAGE = {
    "meta": {"format": 3, "version": "7.6.0", "branch_coverage": False},
    "totals": {
        "covered_lines": 452,
        "num_statements": 480,
        "percent_covered": 94.16666666666667,
        "percent_covered_display": "94",
        "missing_lines": 28,
        "excluded_lines": 0,
    },
}

# (message, tag) in order; dates are spread over the past weeks.
_HISTORY = [
    ("feat: dataset upload API", None),
    ("fix: validate CSV headers", None),
    ("chore: release 1.2.0", "v1.2.0"),
    ("feat(search): full-text search over datasets", None),
    ("docs: deployment guide", None),
    ("chore: release 1.3.0", "v1.3.0"),
    ("fix: timeout on large exports", None),
    ("chore: release 1.3.2", "v1.3.2"),
    ("feat: dataset versioning", None),
    ("fix(api): paginate /api/v1/datasets", None),
    ("perf: cache dataset metadata", None),
]


@dataclass(frozen=True)
class DemoWorkspace:
    root: Path
    repo: Path
    config: Path
    release_id: str
    tags: list[str]
    app_url: str = ""

    @property
    def db_url(self) -> str:
        return app_db_url(self.root)


def app_db_url(root: Path) -> str:
    """The demo application's own database (SQLite in the workspace)."""
    return "sqlite:///" + str(root / "appdata" / "app.db")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The revision the demo application's database is at before the release (1.4.0 brings the next).
DEMO_DB_REVISION = "0002_owner"


def _make_appdata(root: Path) -> None:
    """The application as it runs before the release: its database migrated to the revision
    before the release's, version 1.3.2 deployed, its config written."""
    import json
    import os

    from cockpit.demoapp import ALEMBIC_INI, DATABASE_URL_ENV

    data = root / "appdata"
    data.mkdir()
    (data / "version").write_text("1.3.2", encoding="utf-8")
    (data / "config.json").write_text(json.dumps({"version": "1.3.2"}) + "\n", encoding="utf-8")
    (data / "coverage.json").write_text(json.dumps(_COVERAGE) + "\n", encoding="utf-8")
    from alembic import command
    from alembic.config import Config

    saved = os.environ.get(DATABASE_URL_ENV)
    os.environ[DATABASE_URL_ENV] = app_db_url(root)
    try:
        # Without the ini file's name its logging section is not applied (quiet, and the
        # cockpit's own loggers keep their settings).
        quiet = Config()
        quiet.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
        command.upgrade(quiet, DEMO_DB_REVISION)
    finally:
        if saved is None:
            os.environ.pop(DATABASE_URL_ENV, None)
        else:
            os.environ[DATABASE_URL_ENV] = saved


def create_demo(root: Path | None = None) -> DemoWorkspace:
    """Build the demo workspace under ``root`` (a new temporary directory by default)."""
    from cockpit.config import LoadedConfig, checkpoint_path, database_url, parse_config_file
    from cockpit.events import NewEvent
    from cockpit.operator import current_operator
    from cockpit.release import create_release
    from cockpit.store import Store

    if root is None:
        root = Path(tempfile.mkdtemp(prefix="cockpit-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        from cockpit.errors import UsageError

        raise UsageError.said("err.dir_not_empty", root=root)
    operator = current_operator()
    repo_dir = root / "app"
    tags = _make_repo(repo_dir)
    _make_keys(root / "keys", [operator.name, *COLLEAGUES])
    config_file = root / "cockpit.toml"
    port = _free_port()
    config_file.write_text(demo_config(operator.name, port), encoding="utf-8")
    _make_appdata(root)
    loaded = LoadedConfig(parse_config_file(config_file), config_file)
    url = database_url(loaded)
    store = Store(url, checkpoint_file=checkpoint_path(loaded, url)).open()
    try:
        # The first window of the release plan opening at least 14 days ahead, so the T-14
        # phase is still open today: a real T-0 (cockpit window list).
        later = datetime.now(ZoneInfo("UTC")) + timedelta(days=14)
        t0 = next(
            slot.window.start
            for slot in slots(loaded.config, "release", later)
            if slot.usable and slot.window.start >= later
        )
        # The operator signs with their demo key from the start: the preparer is proven.
        session = Session(store=store, loaded=loaded)
        release = create_release(
            session,
            plan="release",
            environment="staging",
            version="1.4.0",
            t0=t0.isoformat(),
        )
        store.append(
            NewEvent(
                action=NOTE,
                release_id=release.id,
                rehearsal=True,
                reason="demo workspace created: walk the plan from T-14 to T-0 as a rehearsal",
            ),
            session.operator,
        )
    finally:
        store.close()
    return DemoWorkspace(
        root, repo_dir, config_file, release.id, tags, app_url=f"http://127.0.0.1:{port}"
    )


# The demo's colleagues, each with a key of their own (the approvers of cockpit.toml's roles).
COLLEAGUES = ("bob", "carol")


def _make_keys(keys: Path, names: list[str]) -> None:
    """An ed25519 key per person (``keys/NAME``, no passphrase) and the allowed-signers file
    naming each one's principal, as a team would keep it in a repository."""
    import subprocess

    from cockpit.signing import NAMESPACE

    keys.mkdir(mode=0o700)
    lines = []
    for name in dict.fromkeys(names):  # the operator may be called bob too
        key = keys / name
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@demo", "-f", str(key)],
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
        kind, body = Path(f"{key}.pub").read_text(encoding="utf-8").split()[:2]
        lines.append(f'{name} namespaces="{NAMESPACE}" {kind} {body}')
    (keys / "allowed_signers").write_text("\n".join(lines) + "\n", encoding="utf-8")


def colleague_key(loaded: LoadedConfig, name: str) -> Path | None:
    """The demo's key of colleague ``name`` (``keys/NAME`` beside the config), to say how to
    approve as them from a second terminal; ``None`` outside a demo workspace."""
    if loaded.path is None or not loaded.config.identity.allowed_signers:
        return None
    key = loaded.path.parent / "keys" / name
    return key if key.is_file() and Path(f"{key}.pub").is_file() else None


def _make_repo(path: Path) -> list[str]:
    import git

    repo = git.Repo.init(path, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Demo Developer")
        cw.set_value("user", "email", "dev@example.invalid")
        cw.set_value("commit", "gpgsign", "false")
        cw.set_value("tag", "gpgsign", "false")
    start = datetime.now(ZoneInfo("UTC")) - timedelta(days=len(_HISTORY) * 3)
    tags = []
    for number, (message, tag) in enumerate(_HISTORY):
        when = (start + timedelta(days=number * 3)).strftime("%Y-%m-%dT%H:%M:%S+0000")
        notes = path / "CHANGES.txt"
        with notes.open("a", encoding="utf-8") as handle:
            handle.write(message + "\n")
        repo.index.add([str(notes)])
        repo.index.commit(message, author_date=when, commit_date=when)
        if tag:
            repo.create_tag(tag, message=f"Release {tag.removeprefix('v')}")
            tags.append(tag)
    # The remote the release is published to: a bare repository beside it, holding the history.
    remote = path.parent / "remote.git"
    git.Repo.init(remote, bare=True, initial_branch="main").close()
    repo.create_remote("origin", str(remote))
    repo.git.push("origin", "main", "--tags", "--set-upstream")
    repo.close()
    return tags
