"""The local step kinds: shell, HTTP checks and Alembic (the demo application's migrations on a
real PostgreSQL and on SQLite), and the demo application's HTTP service."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit import demoapp
from cockpit.config import AlembicConfig, Config, EnvironmentConfig, LoadedConfig
from cockpit.demoapp import server as demo_server
from cockpit.plan.runs import AlembicRun, HttpCheck, HttpChecksRun, ShellRun
from cockpit.steps.alembic import AlembicStep
from cockpit.steps.base import Cancelled, StepContext, StepFailed, StepTimeout, kind_for
from cockpit.steps.http import HttpChecksStep
from cockpit.steps.shell import ShellStep
from tests.dripserver import DripServer
from tests.services import HttpService, create_database, free_port

PY = sys.executable
URL_ENV = demoapp.DATABASE_URL_ENV
_databases = itertools.count(1)


@dataclass
class Harness:
    """A step context over a config in ``tmp_path`` and the lines the step printed."""

    ctx: StepContext
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def make_harness(
    tmp_path: Path,
    alembic: AlembicConfig | None = None,
    on_line: Callable[[str], None] | None = None,
) -> Harness:
    env = EnvironmentConfig(alembic=alembic or AlembicConfig())
    loaded = LoadedConfig(Config(environments={"staging": env}), tmp_path / "cockpit.toml")
    harness = Harness(
        StepContext(
            loaded=loaded,
            env_name="staging",
            env=env,
            release_id="r-2026-06",
            item_id="T-0.deploy",
            version="1.4.0",
            operator="alice@bastion-1",
        )
    )

    def output(line: str) -> None:
        harness.lines.append(line)
        if on_line is not None:
            on_line(line)

    harness.ctx.output = output
    return harness


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_for_file(path: Path, seconds: float = 10.0) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.02)
    raise AssertionError(f"{path} never written")


# -- shell ---------------------------------------------------------------------------------


def py(code: str) -> list[str]:
    return [PY, "-c", code]


def test_shell_success_streams_output_and_records_the_outcome(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    spec = ShellRun(argv=py("print('deploying {version} of {release} to {env}')"), timeout=30)
    step = kind_for("shell")
    assert isinstance(step, ShellStep)

    preview = step.preview(spec, h.ctx)
    argv = [PY, "-c", "print('deploying 1.4.0 of r-2026-06 to staging')"]
    assert preview.calls == [shlex.join(argv)]
    assert preview.lines[0] == f"$ {shlex.join(argv)}"
    assert f"cwd: {tmp_path}" in preview.lines
    assert "timeout: 30 s (the process group is killed)" in preview.said("en")
    assert "タイムアウト: 30 秒 (プロセスグループごと終了)" in preview.said("ja")

    outcome: dict[str, Any] = {}
    step.run(spec, h.ctx, outcome)
    assert h.lines == ["deploying 1.4.0 of r-2026-06 to staging"]
    assert outcome["exit_code"] == 0
    assert outcome["output_tail"] == h.lines
    assert 0 <= outcome["elapsed_s"] < 10
    assert outcome["argv"] == argv
    assert not step.can_undo(spec)


def test_shell_nonzero_exit_is_one_line_with_the_last_output(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    code = "import sys; print('migrating'); print('error: disk full', file=sys.stderr); sys.exit(3)"
    spec = ShellRun(argv=py(code), timeout=30)
    outcome: dict[str, Any] = {}
    with pytest.raises(StepFailed) as exc:
        ShellStep().run(spec, h.ctx, outcome)
    assert one_line(exc) == f"{PY} exited 3: error: disk full"
    assert outcome["exit_code"] == 3
    assert outcome["output_tail"] == ["migrating", "error: disk full"]


def test_shell_timeout_kills_the_process_group(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    pidfile = tmp_path / "child.pid"
    # The child is in the step's process group: killing only the parent would leave it running.
    code = (
        "import subprocess, sys, time;"
        f"c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(pidfile)!r}, 'w').write(str(c.pid));"
        "print('started', flush=True); time.sleep(60)"
    )
    spec = ShellRun(argv=py(code), timeout=1.0)
    outcome: dict[str, Any] = {}
    started = time.monotonic()
    with pytest.raises(StepTimeout) as exc:
        ShellStep().run(spec, h.ctx, outcome)
    elapsed = time.monotonic() - started
    assert one_line(exc) == f"{PY}: timed out after 1 s (process group killed)"
    assert 0.9 < elapsed < 5
    assert outcome["exit_code"] == -9
    assert h.lines == ["started", "timed out after 1 s"]
    child = int(pidfile.read_text())
    end = time.monotonic() + 2
    while alive(child) and time.monotonic() < end:
        time.sleep(0.02)
    assert not alive(child)


def test_shell_cancel_kills_the_process_group_within_a_second(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    pidfile = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time;"
        f"c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(pidfile)!r}, 'w').write(str(c.pid));"
        "time.sleep(60)"
    )
    spec = ShellRun(argv=py(code), timeout=120)
    caught: list[BaseException] = []
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            ShellStep().run(spec, h.ctx, outcome)
        except BaseException as exc:
            caught.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    child = int(wait_for_file(pidfile))
    cancelled_at = time.monotonic()
    h.ctx.cancel.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 1.0
    assert len(caught) == 1 and isinstance(caught[0], Cancelled)
    assert str(caught[0]) == f"{PY}: cancelled by the operator (process group killed)"
    end = time.monotonic() + 2
    while alive(child) and time.monotonic() < end:
        time.sleep(0.02)
    assert not alive(child)


def test_shell_env_over_the_cockpits_and_cwd_from_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app").mkdir()
    monkeypatch.setenv("COCKPIT_TEST_INHERITED", "from-the-cockpit")
    monkeypatch.setenv("COCKPIT_TEST_OVERRIDDEN", "old")
    h = make_harness(tmp_path)
    code = (
        "import os; print(os.getcwd());"
        "print(os.environ['COCKPIT_TEST_INHERITED'], os.environ['COCKPIT_TEST_OVERRIDDEN']);"
        "print(os.environ['GREETING']); print('token is', os.environ['DEPLOY_API_TOKEN'])"
    )
    spec = ShellRun(
        argv=py(code),
        timeout=30,
        cwd="app",
        env={
            "COCKPIT_TEST_OVERRIDDEN": "new",
            "GREETING": "hello {version}",
            "DEPLOY_API_TOKEN": "tok-very-secret",
        },
    )
    preview = ShellStep().preview(spec, h.ctx)
    assert f"cwd: {tmp_path / 'app'}" in preview.lines
    assert "env: GREETING=hello 1.4.0" in preview.lines
    assert "env: DEPLOY_API_TOKEN=***" in preview.lines
    assert "env: COCKPIT_TEST_OVERRIDDEN=new" in preview.lines
    outcome: dict[str, Any] = {}
    ShellStep().run(spec, h.ctx, outcome)
    assert h.lines == [
        str(tmp_path / "app"),
        "from-the-cockpit new",
        "hello 1.4.0",
        "token is ***",
    ]
    everything = json.dumps([preview.said("en"), preview.calls, preview.state, outcome, h.lines])
    assert "tok-very-secret" not in everything

    missing = ShellRun(argv=py("print(1)"), timeout=30, cwd="nowhere")
    with pytest.raises(StepFailed) as exc:
        ShellStep().run(missing, h.ctx, {})
    assert (
        one_line(exc)
        == f"{PY}: working directory {tmp_path / 'nowhere'} does not exist (cwd of the step)"
    )


def test_shell_value_with_shell_syntax_stays_one_argument(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    canary.write_text("still here")
    h = make_harness(tmp_path)
    spec = ShellRun(
        argv=[
            PY,
            "-c",
            "import json, sys; print(json.dumps(sys.argv[1:]))",
            "x; rm -rf canary {version}",
            "$(touch pwned)",
        ],
        timeout=30,
    )
    preview = ShellStep().preview(spec, h.ctx)
    assert "'x; rm -rf canary 1.4.0'" in preview.calls[0]
    ShellStep().run(spec, h.ctx, {})
    assert json.loads(h.lines[0]) == ["x; rm -rf canary 1.4.0", "$(touch pwned)"]
    assert canary.read_text() == "still here"
    assert not (tmp_path / "pwned").exists()


def test_shell_recheck_runs_check_argv(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    check = py("import os, sys; sys.exit(0 if os.path.exists('marker-{version}') else 4)")
    spec = ShellRun(argv=py("open('marker-{version}', 'w').close()"), timeout=30, check_argv=check)
    before = ShellStep().recheck(spec, h.ctx, {})
    assert not before.done
    assert before.text.endswith("exited 4: no output")
    ShellStep().run(spec, h.ctx, {})
    after = ShellStep().recheck(spec, h.ctx, {})
    assert after.done
    assert after.details["exit_code"] == 0

    bare = ShellRun(argv=py("print(1)"), timeout=30)
    nothing = ShellStep().recheck(bare, h.ctx, {})
    assert not nothing.done
    assert nothing.text.startswith("no check_argv: ")


def test_shell_undo_runs_undo_argv(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    marker = tmp_path / "marker"
    spec = ShellRun(
        argv=py("open('marker', 'w').write('{version}')"),
        timeout=30,
        undo_argv=py("import os; os.remove('marker'); print('removed')"),
    )
    step = ShellStep()
    assert step.can_undo(spec)
    done: dict[str, Any] = {}
    step.run(spec, h.ctx, done)
    assert marker.read_text() == "1.4.0"
    assert step.undo_summary(spec, h.ctx, done).startswith(f"run {shlex.quote(PY)} -c ")
    outcome: dict[str, Any] = {}
    step.undo(spec, h.ctx, done, outcome)
    assert not marker.exists()
    assert outcome["exit_code"] == 0 and outcome["output_tail"] == ["removed"]
    with pytest.raises(StepFailed) as exc:
        step.undo(spec, h.ctx, done, {})
    assert one_line(exc).startswith(f"undo {PY} exited 1: FileNotFoundError")

    no_undo = ShellRun(argv=py("print(1)"), timeout=30)
    assert not step.can_undo(no_undo)
    with pytest.raises(StepFailed):
        step.undo(no_undo, h.ctx, {}, {})


# -- HTTP checks ---------------------------------------------------------------------------


@pytest.fixture
def service(http_service: HttpService) -> str:
    """/slow answers in 0.4 s, /very-slow in 5 s, /broken with a 500."""
    http_service.route("/slow", delay=0.4).route("/very-slow", delay=5).route("/broken", 500)
    return http_service.url


def test_http_checks_all_pass(tmp_path: Path, service: str) -> None:
    h = make_harness(tmp_path)
    spec = HttpChecksRun(
        base_url=service,
        checks=[HttpCheck(url="/health"), HttpCheck(url=f"{service}/api/v1/datasets")],
        attempts=1,
    )
    step = kind_for("http_checks")
    assert isinstance(step, HttpChecksStep)
    assert not step.can_undo(spec)
    preview = step.preview(spec, h.ctx)
    assert preview.calls == [f"GET {service}/health", f"GET {service}/api/v1/datasets"]
    assert preview.lines[0] == f"GET {service}/health -> 200 within 1000 ms"
    outcome: dict[str, Any] = {}
    step.run(spec, h.ctx, outcome)
    assert len(h.lines) == 3
    assert h.lines[0].startswith("GET /health 200 ") and h.lines[0].endswith(" ms ok")
    assert h.lines[1].startswith(f"GET {service}/api/v1/datasets 200 ")
    assert h.lines[2] == "attempt 1/1: all 2 checks passed"
    assert outcome["attempts"] == 1
    assert [c["ok"] for c in outcome["checks"]] == [True, True]
    assert outcome["checks"][0]["url"] == f"{service}/health"
    assert outcome["checks"][0]["status"] == 200
    assert step.recheck(spec, h.ctx, {}).done


def test_http_checks_wrong_status_fails_after_the_attempts(tmp_path: Path, service: str) -> None:
    h = make_harness(tmp_path)
    spec = HttpChecksRun(
        base_url=service,
        checks=[HttpCheck(url="/health"), HttpCheck(url="/broken")],
        attempts=2,
        interval=0.05,
    )
    outcome: dict[str, Any] = {}
    with pytest.raises(StepFailed) as exc:
        HttpChecksStep().run(spec, h.ctx, outcome)
    assert (
        one_line(exc) == "1 of 2 checks failed after 2 attempt(s): GET /broken 500 (expected 200)"
    )
    assert h.lines.count("GET /broken 500 (expected 200)") == 2
    assert "attempt 1/2: 1 of 2 checks failed; next in 0.05 s" in h.lines
    assert outcome["attempts"] == 2
    assert outcome["checks"][1] | {"elapsed_ms": None} == {
        "url": f"{service}/broken",
        "expected": 200,
        "status": 500,
        "elapsed_ms": None,
        "max_latency_ms": 1000.0,
        "ok": False,
        "error": "",
    }
    recheck = HttpChecksStep().recheck(spec, h.ctx, {})
    assert not recheck.done
    assert recheck.text == "1 of 2 failing: GET /broken 500 (expected 200)"


def test_http_checks_too_slow(tmp_path: Path, service: str) -> None:
    h = make_harness(tmp_path)
    spec = HttpChecksRun(
        base_url=service, checks=[HttpCheck(url="/slow", max_latency_ms=150)], attempts=1
    )
    outcome: dict[str, Any] = {}
    with pytest.raises(StepFailed) as exc:
        HttpChecksStep().run(spec, h.ctx, outcome)
    assert one_line(exc).endswith(" ms (max 150 ms)")
    assert h.lines[0].startswith("GET /slow 200 ")
    assert outcome["checks"][0]["elapsed_ms"] >= 400
    assert not outcome["checks"][0]["ok"]


def test_http_checks_service_up_on_the_second_attempt(tmp_path: Path) -> None:
    port = free_port()
    started: list[HttpService] = []

    def on_line(line: str) -> None:
        # The service comes up between the first and the second round.
        if line.startswith("attempt 1/3:"):
            started.append(HttpService(port))

    h = make_harness(tmp_path, on_line=on_line)
    spec = HttpChecksRun(
        base_url=f"http://127.0.0.1:{port}",
        checks=[HttpCheck(url="/health"), HttpCheck(url="/api/v1/datasets")],
        attempts=3,
        interval=0.2,
    )
    outcome: dict[str, Any] = {}
    try:
        HttpChecksStep().run(spec, h.ctx, outcome)
    finally:
        for server in started:
            server.stop()
    assert h.lines[0].startswith("GET /health ConnectError: ")
    assert h.lines[2] == "attempt 1/3: 2 of 2 checks failed; next in 0.2 s"
    assert h.lines[3].startswith("GET /health 200 ")
    assert h.lines[-1] == "attempt 2/3: all 2 checks passed"
    assert outcome["attempts"] == 2


def test_http_checks_cancel_during_a_slow_request(tmp_path: Path, service: str) -> None:
    h = make_harness(tmp_path)
    spec = HttpChecksRun(
        base_url=service, checks=[HttpCheck(url="/very-slow", max_latency_ms=10_000)], attempts=1
    )
    threading.Timer(0.3, h.ctx.cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        HttpChecksStep().run(spec, h.ctx, {})
    assert time.monotonic() - started < 1.3


def test_http_checks_a_dripping_answer_fails_within_its_deadline(tmp_path: Path) -> None:
    # One byte a second: every read is quick, so only a deadline on the whole answer ends it.
    h = make_harness(tmp_path)
    outcome: dict[str, Any] = {}
    with DripServer("drip", lifetime=20) as drip:
        spec = HttpChecksRun(
            base_url=drip.url, checks=[HttpCheck(url="/health", max_latency_ms=300)], attempts=1
        )
        started = time.monotonic()
        with pytest.raises(StepFailed) as exc:
            HttpChecksStep().run(spec, h.ctx, outcome)
        took = time.monotonic() - started
    assert drip.connections == 1
    assert took < 0.3 + 1.0 + 0.5, took  # max latency + GRACE_S, then a margin
    assert one_line(exc) == (
        "1 of 1 checks failed after 1 attempt(s): GET /health no answer within 1300 ms (max 300 ms)"
    )
    assert outcome["checks"][0]["status"] is None and not outcome["checks"][0]["ok"]


# -- the demo application and Alembic ------------------------------------------------------


def alembic_harness(tmp_path: Path, env_name: str = URL_ENV) -> Harness:
    config = AlembicConfig(
        command=demoapp.alembic_command(), cwd=str(tmp_path), database_url_env=env_name
    )
    return make_harness(tmp_path, alembic=config)


def db_revision(url: str) -> str | None:
    """The database's Alembic revision read directly (None: never migrated or back to base)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def migrate_in_process(target: str) -> None:
    """Bring the demo database (``$DEMOAPP_DATABASE_URL``) to ``target`` without a subprocess:
    the starting point of a test, not what is tested."""
    from alembic import command
    from alembic.config import Config as AlembicIni

    ini = AlembicIni()  # no file: the migrations leave the test's logging alone
    ini.set_main_option("script_location", str(demoapp.HERE / "migrations"))
    command.upgrade(ini, target)


def get(base: str, path: str) -> tuple[int, Any]:
    response = httpx.get(base + path, timeout=10)
    return response.status_code, response.json()


@pytest.fixture
def pg_app_url(pg_admin_url: str) -> str:
    """A fresh database for the demo application, its URL carrying a password (the server
    trusts local connections, so it is never checked) that must never be shown."""
    url = create_database(pg_admin_url, f"demoapp{os.getpid()}_{next(_databases)}")
    return url.replace("://app@", "://app:pw-s3cret-42@")


def test_alembic_on_postgresql_preview_upgrade_verify_recheck_downgrade(
    tmp_path: Path, pg_app_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_ENV, pg_app_url)
    h = alembic_harness(tmp_path)
    step = kind_for("alembic")
    assert isinstance(step, AlembicStep)
    spec = AlembicRun()
    app = demo_server.start(pg_app_url)
    try:
        # Before the migration: healthy, no revision, the datasets endpoint fails in one line.
        assert get(app.url, "/health") == (200, {"status": "ok", "revision": None})
        status, body = get(app.url, "/api/v1/datasets")
        assert status == 500
        assert body["error"].startswith("table datasets is missing: run the migrations (")
        assert "\n" not in body["error"]

        assert step.current(spec, h.ctx) == []
        preview = step.preview(spec, h.ctx)
        assert preview.calls == ["alembic upgrade head"]
        assert preview.state["revision_before"] == ""
        assert preview.state["heads"] == [demoapp.HEAD]
        assert [p.split(":")[0] for p in preview.state["pending"]] == list(demoapp.REVISIONS)
        assert "pending: 3 revision(s)" in preview.lines
        assert "CREATE TABLE datasets (" in preview.lines
        assert "ALTER TABLE datasets ADD COLUMN owner VARCHAR(100);" in preview.lines
        assert "SQL (alembic upgrade head --sql):" in preview.lines
        assert not any(line.startswith("INFO") for line in preview.lines)
        assert db_revision(pg_app_url) is None  # the preview changed nothing
        assert not step.recheck(spec, h.ctx, preview.state).done

        done: dict[str, Any] = {}
        step.run(spec, h.ctx, done)
        step.verify(spec, h.ctx, done)
        assert done["revision_before"] == ""
        assert done["revision_after"] == demoapp.HEAD
        assert any("Running upgrade 0002_owner -> 0003_seed" in line for line in h.lines)
        recheck = step.recheck(spec, h.ctx, preview.state)
        assert recheck.done and recheck.text == "alembic: current is 0003_seed, the target head"

        assert get(app.url, "/health") == (200, {"status": "ok", "revision": demoapp.HEAD})
        status, body = get(app.url, "/api/v1/datasets")
        assert status == 200 and body["count"] == 3
        assert {row["name"]: row["owner"] for row in body["datasets"]}["sales-eu"] == "finance"

        # A second run does nothing twice.
        again: dict[str, Any] = {}
        step.run(spec, h.ctx, again)
        assert again["revision_before"] == again["revision_after"] == demoapp.HEAD
        assert (
            step.preview(spec, h.ctx).summary == "alembic: already at 0003_seed, nothing to upgrade"
        )

        assert step.undo_summary(spec, h.ctx, done) == "alembic downgrade base (from 0003_seed)"
        undone: dict[str, Any] = {}
        step.undo(spec, h.ctx, done, undone)
        assert undone["downgrade_to"] == "base"
        assert undone["revision_after_undo"] == ""
        assert db_revision(pg_app_url) is None
        assert get(app.url, "/api/v1/datasets")[0] == 500
        assert get(app.url, "/health") == (200, {"status": "ok", "revision": None})
    finally:
        app.stop()
    everything = json.dumps([preview.lines, preview.calls, preview.state, done, undone, h.lines])
    assert "pw-s3cret-42" not in everything


def test_alembic_from_a_recorded_revision_and_back(
    tmp_path: Path, pg_app_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_ENV, pg_app_url)
    h = alembic_harness(tmp_path)
    step = AlembicStep()
    migrate_in_process("0001_datasets")
    assert db_revision(pg_app_url) == "0001_datasets"

    spec = AlembicRun()
    with pytest.raises(StepFailed) as exc:
        step.verify(spec, h.ctx, {})
    assert one_line(exc) == "alembic: current is 0001_datasets, expected 0003_seed"

    preview = step.preview(spec, h.ctx)
    assert preview.state["revision_before"] == "0001_datasets"
    assert [p.split(":")[0] for p in preview.state["pending"]] == ["0002_owner", "0003_seed"]
    assert "SQL (alembic upgrade 0001_datasets:head --sql):" in preview.lines
    assert "ALTER TABLE datasets ADD COLUMN owner VARCHAR(100);" in preview.lines
    assert "CREATE TABLE datasets (" not in preview.lines
    assert any(line.startswith("CREATE UNIQUE INDEX ix_datasets_name") for line in preview.lines)

    done: dict[str, Any] = {}
    step.run(spec, h.ctx, done)
    step.verify(spec, h.ctx, done)
    assert (done["revision_before"], done["revision_after"]) == ("0001_datasets", "0003_seed")

    # Nothing recorded (the success event lost its details): one revision back.
    step.undo(spec, h.ctx, {}, outcome := {})
    assert outcome["downgrade_to"] == "-1"
    assert db_revision(pg_app_url) == "0002_owner"

    undone: dict[str, Any] = {}
    step.undo(spec, h.ctx, done, undone)
    assert undone["downgrade_to"] == "0001_datasets"
    assert db_revision(pg_app_url) == "0001_datasets"
    # Undo again: already there, nothing run.
    skipped: dict[str, Any] = {}
    step.undo(spec, h.ctx, done, skipped)
    assert skipped["skipped"] == "already at 0001_datasets"


def test_alembic_needs_the_database_url_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    h = alembic_harness(tmp_path)
    with pytest.raises(StepFailed) as exc:
        AlembicStep().preview(AlembicRun(), h.ctx)
    assert one_line(exc) == (
        f"{URL_ENV} is not set: export the database URL for environment staging "
        "(alembic.database_url_env in cockpit.toml), or set alembic.database_url"
    )
    unnamed = alembic_harness(tmp_path, env_name="")
    with pytest.raises(StepFailed) as exc:
        AlembicStep().run(AlembicRun(), unnamed.ctx, {})
    assert one_line(exc).startswith("environment staging: alembic.database_url_env is not set")


def test_alembic_unreachable_database_is_one_line_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+psycopg://app:pw-s3cret-42@127.0.0.1:{free_port()}/nothing"
    monkeypatch.setenv(URL_ENV, url)
    h = alembic_harness(tmp_path)
    with pytest.raises(StepFailed) as exc:
        AlembicStep().run(AlembicRun(), h.ctx, {})
    text = one_line(exc)
    assert text.startswith("alembic current exited 1: sqlalchemy.exc.OperationalError: ")
    assert "pw-s3cret-42" not in text

    app = demo_server.start(url)
    try:
        status, body = get(app.url, "/health")
    finally:
        app.stop()
    assert status == 503 and body["status"] == "unavailable"
    assert "pw-s3cret-42" not in body["error"]


def test_alembic_on_sqlite_with_the_demo_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'demoapp.db'}"
    monkeypatch.setenv(URL_ENV, url)
    h = alembic_harness(tmp_path)
    step = AlembicStep()
    spec = AlembicRun()
    preview = step.preview(spec, h.ctx)
    assert "CREATE TABLE datasets (" in preview.lines
    done: dict[str, Any] = {}
    step.run(spec, h.ctx, done)
    step.verify(spec, h.ctx, done)
    assert done["revision_after"] == demoapp.HEAD
    app = demo_server.start(url)
    try:
        assert get(app.url, "/health") == (200, {"status": "ok", "revision": demoapp.HEAD})
        status, body = get(app.url, "/api/v1/datasets")
        assert status == 200
        assert sorted(row["name"] for row in body["datasets"]) == [
            "census-2020",
            "sales-eu",
            "weather-hourly",
        ]
        # The HTTP checks step against the demo service, as the demo's staging runbook does.
        checks = HttpChecksRun(
            base_url=app.url,
            checks=[HttpCheck(url="/health"), HttpCheck(url="/api/v1/datasets")],
            attempts=1,
        )
        HttpChecksStep().run(checks, h.ctx, {})
        step.undo(spec, h.ctx, done, {})
        assert get(app.url, "/api/v1/datasets")[0] == 500
        with pytest.raises(StepFailed) as exc:
            HttpChecksStep().run(checks, h.ctx, {})
        assert one_line(exc).endswith("GET /api/v1/datasets 500 (expected 200)")
    finally:
        app.stop()
    assert db_revision(url) is None
