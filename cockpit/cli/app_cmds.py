"""``cockpit open`` and ``cockpit demo``: open the Textual cockpit on this terminal (Textual is
imported only then), and create a throwaway demo workspace with its demo application, then open
it or print what to try.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.cli.base import Command, add
from cockpit.errors import UsageError

if TYPE_CHECKING:
    from cockpit.session import Session


def open_app(cmd: Command, release_id: str | None = None, ahead: Any = None) -> int:
    """Open the Textual cockpit on this terminal (``ahead``: its first view, being read)."""
    ahead = ahead or read_dashboard_ahead(cmd.session, release_id)
    from cockpit.launch import start_zygote
    from screens.app import run_app

    start_zygote()  # the process the app's steps start as forks of
    run_app(
        cmd.session,
        ascii=cmd.args.ascii,
        release_id=release_id,
        readonly=cmd.readonly,
        read_ahead=ahead,
    )
    return 0


def read_dashboard_ahead(session: Session, release_id: str | None) -> Any:
    """The dashboard's first view with data, read in a process forked now
    (:mod:`cockpit.readahead`) while this one imports Textual and draws the first frame: on
    the other core, the data is there when the frame is. Not once the store is open here (a
    copy of an open connection is not the child's to use)."""
    import shutil

    from cockpit.readahead import read_ahead

    if session.opened_store is not None:
        return None
    width, height = shutil.get_terminal_size()  # what Textual's driver asks, the same way

    def first() -> object:
        from cockpit.errors import ConfigError
        from screens.dashboard_view import first_view

        try:
            return first_view(session, release_id, width, height)
        except ConfigError as exc:  # the app ends with its line before drawing anything
            return exc

    return read_ahead(first)


def cmd_open(cmd: Command) -> int:
    release_id = None
    if getattr(cmd.args, "release", None):
        from cockpit.release import find_release_id

        release_id = find_release_id(cmd.session.store, cmd.args.release)
    return open_app(cmd, release_id)


def serve_demo_app(root: Path) -> Any:
    """Serve the demo application (its HTTP checks' target) while the cockpit runs; the demo's
    rehearsal steps run Alembic against its database through DEMOAPP_DATABASE_URL."""
    from urllib.parse import urlsplit

    from cockpit.config import parse_config_file
    from cockpit.demo import app_db_url
    from cockpit.demoapp import DATABASE_URL_ENV
    from cockpit.demoapp.server import start

    os.environ.setdefault(DATABASE_URL_ENV, app_db_url(root))
    config = parse_config_file(root / "cockpit.toml")
    staging = config.environments.get("staging")
    port = urlsplit(staging.app_url).port if staging and staging.app_url else None
    try:
        return start(os.environ[DATABASE_URL_ENV], port=port or 0)
    except OSError as exc:
        print(f"cockpit: warning: the demo application cannot listen: {exc}", file=sys.stderr)
        return None


def _make_dir(value: str) -> None:
    """The ``--dir`` directory (relative to the working directory), made if it is not there."""
    if Path(value).exists() and not Path(value).is_dir():
        raise UsageError.said("err.dir_is_file", value=value)
    try:
        Path(value).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        cause = exc.strerror or exc
        raise UsageError.said(
            "err.cannot_create", option="--dir", value=value, cause=cause
        ) from None


def _print_repo(cmd: Command, repo: Path) -> None:
    """The demo's repository and its tags as they are now (read from git, not remembered)."""
    from cockpit.versioning.git import Git

    tags = Git(repo).out("tag", "--list", "--sort=v:refname").split()
    cmd.print(f"  git repository  {repo} (tags: {', '.join(tags)})")


def cmd_demo(cmd: Command) -> int:
    from cockpit.demo import create_demo

    if cmd.args.dir:
        _make_dir(cmd.args.dir)
    workspace = create_demo(Path(cmd.args.dir) if cmd.args.dir else None)
    os.environ["COCKPIT_CONFIG"] = str(workspace.config)
    cmd.args.config = str(workspace.config)
    cmd.print(f"demo workspace: {workspace.root}")
    _print_repo(cmd, workspace.repo)
    cmd.print(f"  git remote      {workspace.repo.parent / 'remote.git'} (origin, bare)")
    cmd.print(f"  config          {workspace.config}")
    cmd.print(f"  application     {workspace.app_url} (database {workspace.db_url})")
    cmd.print("")
    if sys.stdout.isatty() and sys.stdin.isatty() and not cmd.args.no_tui:
        from cockpit.launch import start_zygote

        # Forked before the demo application's server thread starts (a fork copies one).
        ahead = read_dashboard_ahead(cmd.session, workspace.release_id)
        start_zygote()
        server = serve_demo_app(workspace.root)
        try:
            return open_app(cmd, workspace.release_id, ahead)
        finally:
            if server is not None:
                server.stop()
            _print_repo(cmd, workspace.repo)  # what quitting leaves: the tags made meanwhile
    from cockpit.cli.audit_cmds import cmd_audit_verify
    from cockpit.cli.release_cmds import cmd_release_show

    cmd.args.release = workspace.release_id
    cmd.args.json = False
    cmd_release_show(cmd)
    cmd.print("")
    cmd.args.checkpoint = None
    cmd_audit_verify(cmd)
    cmd.print("")
    rid = workspace.release_id
    cmd.print("try it:")
    cmd.print(f"  export COCKPIT_CONFIG={workspace.config}")
    cmd.print(f"  cockpit release show {rid} --items")
    cmd.print(f"  cockpit item done {rid} t14.requirements")
    cmd.print(f"  cockpit item skip {rid} t14.dependencies --reason 'pip-audit ran in CI'")
    cmd.print(f"  cockpit note --release {rid} 'walked through T-14'")
    cmd.print("  cockpit audit tail; cockpit audit verify")
    return 0


def cmd_serve(cmd: Command) -> int:
    from screens.serve import ServeOptions, make_server, new_token

    loaded = cmd.session.loaded  # a bad config is refused here, not in each browser
    release = None
    if cmd.args.release:
        from cockpit.release import find_release_id

        release = find_release_id(cmd.session.store, cmd.args.release)
    options = ServeOptions(
        host=cmd.args.host,
        port=cmd.args.port,
        config=str(loaded.path.resolve()) if loaded.path else None,
        release=release,
        lang=cmd.args.lang,
        drive=cmd.args.drive,
        token=new_token(),
    )
    make_server(options).serve()
    return 0


def register(sub: Any) -> None:
    """``demo``, ``open`` and ``serve``."""
    p = add(sub, "demo", cmd_demo, "create a throwaway demo workspace and open it")
    p.add_argument("--dir", help="where to create it (default: a new temporary directory)")
    p.add_argument("--no-tui", action="store_true", help="print the workspace, do not open it")

    p = add(sub, "open", cmd_open, "open the cockpit (the default without a command)")
    p.add_argument("--release", metavar="ID", help="start on this release")

    p = add(sub, "serve", cmd_serve, "the cockpit in a browser for observers (read-only)")
    p.add_argument("release", nargs="?", metavar="ID", help="follow this release")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--drive", action="store_true", help="let the browser act (default: read-only follow)"
    )
