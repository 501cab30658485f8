"""``cockpit demo``: a throwaway workspace to try the cockpit on, with nothing to install.

It holds a real git repository with some history and release tags, a SQLite event log, and a
``cockpit.toml`` with a ``staging`` rehearsal environment and a ``production`` one. A demo
release of the next minor version is created with T-0 fourteen days ahead at 01:00 JST.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

DEMO_CONFIG = """\
# Demo workspace made by `cockpit demo`. Safe to delete.
[database]
url = "sqlite:///cockpit.db"

[audit]
checkpoint = "audit-checkpoint.json"

[change_window]
timezone = "Asia/Tokyo"
weekday = "wednesday"
week = 3
start = "01:00"
end = "05:00"

[roles]
release_manager = ["{operator}"]
approver = ["bob", "carol"]
release_committee = ["carol"]

[environments.staging]
description = "Staging: rehearsal of the production plan"
rehearsal = true

[environments.staging.git]
repo = "app"
branches = ["main", "staging", "release/*"]

[environments.production]
description = "Production"
production = true

[environments.production.git]
repo = "app"
branches = ["main", "hotfix/*"]
"""

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

        raise UsageError(f"{root}: not empty; give --dir a new or empty directory")
    operator = current_operator()
    repo_dir = root / "app"
    tags = _make_repo(repo_dir)
    config_file = root / "cockpit.toml"
    config_file.write_text(DEMO_CONFIG.format(operator=operator.name), encoding="utf-8")
    loaded = LoadedConfig(parse_config_file(config_file), config_file)
    url = database_url(loaded)
    store = Store(url, checkpoint_file=checkpoint_path(loaded, url)).open()
    try:
        tz = ZoneInfo(loaded.config.change_window.timezone)
        # The first 01:00 at least 14 days ahead, so the T-14 phase is still open today.
        later = datetime.now(tz) + timedelta(days=14)
        t0 = later.replace(hour=1, minute=0, second=0, microsecond=0)
        if t0 < later:
            t0 += timedelta(days=1)
        release = create_release(
            store,
            loaded,
            operator,
            plan="release",
            environment="staging",
            version="1.4.0",
            t0=t0.isoformat(),
        )
        store.append(
            NewEvent(
                action="note",
                release_id=release.id,
                rehearsal=True,
                reason="demo workspace created: walk the plan from T-14 to T-0 as a rehearsal",
            ),
            operator,
        )
    finally:
        store.close()
    return DemoWorkspace(root, repo_dir, config_file, release.id, tags)


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
