"""The demo's deployment, done on local files: what the staging rehearsal's shell steps run.

``python -m cockpit.demosteps COMMAND ...`` in the demo workspace (the directory of its
cockpit.toml). Each command does one real, small thing to the demo application's files under
``appdata/`` and says what it did; ``check-*`` commands exit 0 when the effect is already there
(how an interrupted step is re-checked); ``--undo`` puts back what was there before.

    backup RELEASE         copy the application's SQLite database to backups/app-RELEASE.db
    maintenance on|off     create or remove appdata/maintenance.flag
    deploy VERSION         roll the "code" (appdata/version) out to 3 workers, one by one
    publish VERSION        write the frontend build (appdata/www/index.html)
    purge                  empty the cache directory (appdata/cache)
    config VERSION         write appdata/config.json
    restart                restart the workers (appdata/restarted_at)
    check-version VERSION  exit 0 when VERSION is deployed
    check-backup RELEASE   exit 0 when the release's backup exists
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

DATA = Path("appdata")
WORKERS = 3


def _swap(path: Path, new: str, undo: bool) -> str:
    """Write ``new`` to ``path`` keeping the old text in ``path.previous``; with ``undo`` put the
    previous text back. Returns the text now in force."""
    previous = path.with_name(path.name + ".previous")
    if undo:
        if not previous.exists():
            raise SystemExit(f"{path}: nothing to undo (no {previous.name})")
        text = previous.read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        previous.unlink()
        return text
    if path.exists() and path.read_text(encoding="utf-8") != new:
        shutil.copyfile(path, previous)
    path.write_text(new, encoding="utf-8")
    return new


def backup(release: str) -> None:
    source = DATA / "app.db"
    if not source.exists():
        raise SystemExit(f"{source}: no database to back up")
    target = Path("backups") / f"app-{release}.db"
    target.parent.mkdir(exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    print(f"backup {source} -> {target} ({target.stat().st_size} bytes)")


def maintenance(state: str) -> None:
    flag = DATA / "maintenance.flag"
    if state == "on":
        flag.write_text(datetime.now(UTC).isoformat(timespec="seconds"), encoding="utf-8")
    else:
        flag.unlink(missing_ok=True)
    print(f"maintenance mode {state}")


def deploy(version: str, undo: bool, pause: float) -> None:
    path = DATA / "version"
    before = path.read_text(encoding="utf-8").strip() if path.exists() else "none"
    now = _swap(path, version, undo).strip()
    for worker in range(1, WORKERS + 1):
        time.sleep(pause)
        print(f"worker {worker}/{WORKERS}: {before} -> {now}  ready", flush=True)
    print(f"rollout complete: {WORKERS}/{WORKERS} workers on {now}")


def publish(version: str) -> None:
    www = DATA / "www"
    www.mkdir(exist_ok=True)
    (www / "index.html").write_text(f"<h1>datasets {version}</h1>\n", encoding="utf-8")
    print(f"published {www / 'index.html'} ({version})")


def purge() -> None:
    cache = DATA / "cache"
    count = sum(1 for _ in cache.iterdir()) if cache.exists() else 0
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()
    print(f"cache purged ({count} entries)")


def config(version: str, undo: bool) -> None:
    text = json.dumps({"version": version, "page_size": 50}, indent=2) + "\n"
    now = _swap(DATA / "config.json", text, undo)
    print(f"config.json: version {json.loads(now)['version']}")


def restart() -> None:
    (DATA / "restarted_at").write_text(datetime.now(UTC).isoformat(), encoding="utf-8")
    print(f"restarted {WORKERS} workers")


def check_backup(release: str) -> None:
    target = Path("backups") / f"app-{release}.db"
    print(f"{target}: {'present' if target.exists() else 'missing'}")
    raise SystemExit(0 if target.exists() else 1)


def check_version(version: str) -> None:
    path = DATA / "version"
    found = path.read_text(encoding="utf-8").strip() if path.exists() else "none"
    print(f"appdata/version: {found}")
    raise SystemExit(0 if found == version else 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cockpit.demosteps", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("backup").add_argument("release")
    sub.add_parser("maintenance").add_argument("state", choices=["on", "off"])
    p = sub.add_parser("deploy")
    p.add_argument("version")
    p.add_argument("--undo", action="store_true")
    p.add_argument("--pause", type=float, default=0.4, help="seconds per worker")
    sub.add_parser("publish").add_argument("version")
    sub.add_parser("purge")
    p = sub.add_parser("config")
    p.add_argument("version")
    p.add_argument("--undo", action="store_true")
    sub.add_parser("restart")
    sub.add_parser("check-version").add_argument("version")
    sub.add_parser("check-backup").add_argument("release")
    args = parser.parse_args(argv)
    DATA.mkdir(exist_ok=True)
    if args.command == "backup":
        backup(args.release)
    elif args.command == "maintenance":
        maintenance(args.state)
    elif args.command == "deploy":
        deploy(args.version, args.undo, args.pause)
    elif args.command == "publish":
        publish(args.version)
    elif args.command == "purge":
        purge()
    elif args.command == "config":
        config(args.version, args.undo)
    elif args.command == "restart":
        restart()
    elif args.command == "check-backup":
        check_backup(args.release)
    elif args.command == "check-version":
        check_version(args.version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
