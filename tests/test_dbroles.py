"""Identity the database vouches for (PostgreSQL): per-operator roles made by `cockpit db grant`,
what each role may not do, and what `cockpit audit verify` names (a forged actor, a head moved
back, a skewed clock). Real PostgreSQL (tests/conftest.py), the real CLI in subprocesses.

The roles (an owner, a shared app role, alice and bob) are made once for the module on a
template database; each test works on its own copy of it (``CREATE DATABASE ... TEMPLATE``).
Roles belong to the whole server, so the owner and the app role have names of this module's.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from cockpit import dbroles
from cockpit.actions import decide
from cockpit.chain import GENESIS_HASH, chain_hash, record_bytes
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.errors import AppendFailed
from cockpit.events import Finding, NewEvent
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import SCHEMA_HEAD, Store
from cockpit.vocabulary import DB_ROLE_GRANTED, GATE_APPROVED, ITEM_DONE, NOTE

REPO = Path(__file__).resolve().parent.parent
_names = itertools.count(1)

CONFIG = """
[audit]
checkpoint = "checkpoint.json"
[roles]
approver = ["alice", "bob"]
[environments.production]
production = true
"""

PLAN = """\
schema_version: 1
name: teamplan
title_ja: 計画
title_en: Team plan
phases:
  - id: t-3
    offset_days: -3
    title_ja: 承認
    title_en: Approval
    items:
      - {id: t3.approval, kind: gate, role: approver, approvals: 1,
         title_ja: リリース承認, title_en: Release approved}
  - id: t-0
    offset_days: 0
    title_ja: リリース
    title_en: Release
    items:
      - {id: t0.done, kind: manual, title_ja: 完了, title_en: Done}
"""

alice = Operator.fixed("alice", "bastion-1")
bob = Operator.fixed("bob", "bastion-2")


def dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def as_role(url: str, role: str) -> str:
    """The same database, connected as ``role`` (the test server trusts 127.0.0.1)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


def execute(url: str, *statements: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run ``statements`` in one autocommit session; the last one's rows."""
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        rows: list[tuple[Any, ...]] = []
        for statement in statements:
            cur = conn.execute(statement, params if statement is statements[-1] else ())
            rows = cur.fetchall() if cur.description else []
        return rows


def refused(url: str, statement: str) -> str:
    """The error PostgreSQL gives ``statement`` (the test fails if it is accepted)."""
    with pytest.raises(psycopg.Error) as caught:
        execute(url, statement)
    return str(caught.value).splitlines()[0]


def cockpit(workdir: Path, url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real `cockpit` command, as the role in ``url``."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_") and k != "PYTHONPATH"
    }
    environ |= {
        "PYTHONPATH": str(REPO),
        "COCKPIT_CONFIG": str(workdir / "cockpit.toml"),
        "COCKPIT_DATABASE_URL": url,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class Team:
    admin: str  # the superuser
    url: str  # the owner's
    workdir: Path  # cockpit.toml and its checkpoint file

    def role(self, name: str) -> str:
        return as_role(self.url, name)

    def cli(
        self, *args: str, role: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return cockpit(self.workdir, self.role(role) if role else self.url, *args, **env)

    def store(self, name: str) -> Store:
        return Store(self.role(name)).open()


@pytest.fixture(scope="module")
def template(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """An owner with CREATEROLE owns a database; it migrates it with `cockpit db upgrade`, then
    grants the shared app role and alice's and bob's roles with `cockpit db grant`."""
    workdir = tmp_path_factory.mktemp("team")
    (workdir / "cockpit.toml").write_text(CONFIG)
    execute(
        pg_admin_url,
        "CREATE ROLE dbid_owner LOGIN CREATEROLE",
        "CREATE DATABASE dbid_template OWNER dbid_owner",
    )
    team = Team(pg_admin_url, as_role(pg_admin_url, "dbid_owner"), workdir)
    team.url = team.url.rsplit("/", 1)[0] + "/dbid_template"
    for args in (
        ("db", "upgrade"),
        ("db", "grant", "dbid_app", "--shared"),
        ("db", "grant", "alice"),
        ("db", "grant", "bob"),
    ):
        done = team.cli(*args)
        assert done.returncode == 0, done.stderr
    yield team


@pytest.fixture
def team(template: Team, tmp_path: Path) -> Team:
    """A copy of the template database (roles are the server's: alice is alice everywhere),
    with its own copy of the checkpoint file."""
    name = f"dbid_{next(_names)}"
    execute(template.admin, f"CREATE DATABASE {name} TEMPLATE dbid_template OWNER dbid_owner")
    (tmp_path / "cockpit.toml").write_text(CONFIG)
    (tmp_path / "checkpoint.json").write_bytes((template.workdir / "checkpoint.json").read_bytes())
    return Team(template.admin, template.url.rsplit("/", 1)[0] + f"/{name}", tmp_path)


# ------------------------------------------------------------------ grant


def held(url: str, role: str) -> set[tuple[str, str]]:
    """(table, right) that ``role`` holds on the cockpit's tables, column grants included."""
    out = set()
    with psycopg.connect(dsn(url)) as conn:
        for table, _ in dbroles.TABLE_PRIVILEGES:
            for right in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"):
                column_too = right in ("SELECT", "INSERT", "UPDATE")
                check = "has_any_column_privilege" if column_too else "has_table_privilege"
                row = conn.execute(f"SELECT {check}(%s, %s, %s)", (role, table, right)).fetchone()
                if row and row[0]:
                    out.add((table, right))
    return out


def test_grant_gives_exactly_the_cockpit_privileges_and_records_it(team: Team) -> None:
    url = team.url
    rows = execute(url, "SELECT role, operator, granted_by FROM operator_roles ORDER BY role")
    assert [r[:2] for r in rows] == [("alice", "alice"), ("bob", "bob")]
    assert all(r[2].endswith(f"@{os.uname().nodename}") for r in rows)
    granted = {(t, r.strip()) for t, rights in dbroles.TABLE_PRIVILEGES for r in rights.split(",")}
    assert held(url, "alice") == granted
    assert ("chain_head", "UPDATE") not in granted and ("events", "UPDATE") not in granted
    assert execute(
        url, "SELECT has_function_privilege('alice', 'cockpit_lock_head()', 'EXECUTE')"
    ) == [(True,)]
    # The grants are events, each recorded by the owner in the same transaction as the grant.
    events = execute(
        url,
        "SELECT subject, db_user, details FROM events WHERE action = %s ORDER BY seq",
        params=(DB_ROLE_GRANTED,),
    )
    assert [(s, u) for s, u, _ in events] == [
        ("dbid_app", "dbid_owner"),
        ("alice", "dbid_owner"),
        ("bob", "dbid_owner"),
    ]
    assert json.loads(events[1][2])["operator"] == "alice"
    # Granting again is fine, and repairs a privilege added by hand.
    execute(
        url, "GRANT UPDATE ON events TO alice", "GRANT UPDATE (seq, hash) ON chain_head TO alice"
    )
    assert ("chain_head", "UPDATE") in held(url, "alice")
    again = team.cli("db", "grant", "alice")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "role alice updated for operator alice: its events must name alice (event #4)",
        f"  connect as: {team.role('alice')}",
    ]
    assert held(url, "alice") == granted
    listed = team.cli("db", "roles", "--json", role="bob")  # any role may list
    assert listed.returncode == 0, listed.stderr
    kinds = {
        r["role"]: (r["kind"], r["operator"], r["can_append"]) for r in json.loads(listed.stdout)
    }
    assert kinds["alice"] == ("operator", "alice", True)
    assert kinds["dbid_app"] == ("shared", None, True)
    assert kinds["dbid_owner"][0] == "owner" and kinds["app"][0] == "superuser"
    table = team.cli("db", "roles")
    assert table.returncode == 0 and "alice" in table.stdout.splitlines()[1]
    assert team.cli("audit", "verify").returncode == 0


def test_a_role_is_never_handed_to_another_operator_or_to_the_owner(team: Team) -> None:
    for args, says in (
        (("grant", "carol", "--role", "alice"), "role alice belongs to operator alice"),
        (("grant", "alice", "--shared"), "role alice belongs to operator alice"),
        (("grant", "dbid_owner"), "can bypass the log's guards"),
        (("grant", "app"), "can bypass the log's guards"),
        (("grant", "x;drop"), "NAME 'x;drop': not a safe database role name"),
        (("grant", "carol", "--role", "pg_monitor"), "--role 'pg_monitor': not a safe"),
        (("grant", "carol", "--password-env", "NO_SUCH_VAR"), "--password-env NO_SUCH_VAR"),
        (("revoke", "nobody"), "role nobody: no such database role"),
    ):
        done = team.cli("db", *args)
        assert (done.returncode, done.stdout) == (2, ""), (args, done.stderr)
        assert says in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    # A role that appended as the shared role cannot become one operator's.
    app = Store(team.role("dbid_app")).open()
    app.append(NewEvent(action=NOTE, reason="from the shared role"), alice)
    app.close()
    done = team.cli("db", "grant", "alice", "--role", "dbid_app")
    assert done.returncode == 2 and "has appended as a shared role" in done.stderr
    # The database's own refusal is one line too (exit 1), and the event is rolled back with it.
    execute(
        team.admin,
        "DO $$ BEGIN CREATE ROLE replicator LOGIN REPLICATION; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    done = team.cli("db", "grant", "replicator")
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(
        "cockpit: cannot grant role replicator: the database refused (must be superuser"
    ), done.stderr
    execute(team.url, "GRANT SELECT ON alembic_version TO replicator")
    done = team.cli("db", "roles", role="replicator")
    assert done.returncode == 1 and done.stderr == (
        "cockpit: cannot list the roles: the database refused (permission denied for table "
        "operator_roles); nothing was done\n"
    )
    # Nothing was granted or recorded by a refused grant.
    assert execute(team.url, "SELECT count(*) FROM events") == [(4,)]  # 3 grants and the note
    assert execute(team.url, "SELECT count(*) FROM operator_roles") == [(2,)]
    assert execute(team.url, "SELECT count(*) FROM pg_roles WHERE rolname = 'carol'") == [(0,)]


def test_grant_needs_the_owner_with_createrole_and_postgresql(team: Team, tmp_path: Path) -> None:
    done = team.cli("db", "grant", "carol", role="alice")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "cockpit: cannot grant database roles as alice: the cockpit's tables belong to "
        "dbid_owner; run this with the owner's URL (COCKPIT_DATABASE_URL)\n"
    )
    # The owner without CREATEROLE (the role is the server's: put it back for the next test).
    execute(team.admin, "ALTER ROLE dbid_owner NOCREATEROLE")
    try:
        done = team.cli("db", "revoke", "bob")
    finally:
        execute(team.admin, "ALTER ROLE dbid_owner CREATEROLE")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "cockpit: cannot revoke database roles as dbid_owner: it owns the tables but may not "
        "create roles; a superuser can run `ALTER ROLE dbid_owner CREATEROLE`\n"
    )
    sqlite = cockpit(tmp_path, f"sqlite:///{tmp_path / 'c.db'}", "db", "grant", "alice")
    assert sqlite.returncode == 2 and len(sqlite.stderr.splitlines()) == 1
    assert "database roles need PostgreSQL" in sqlite.stderr
    for args in (("revoke", "alice"), ("roles",)):
        again = cockpit(tmp_path, f"sqlite:///{tmp_path / 'c.db'}", "db", *args)
        assert again.returncode == 2 and "database roles need PostgreSQL" in again.stderr


# ------------------------------------------------------------------ what a role may do


def test_an_operator_role_appends_and_the_server_stamps_who(team: Team) -> None:
    store = team.store("alice")
    ev = store.append(NewEvent(action=NOTE, reason="alice's note"), alice)
    stamped = execute(
        team.url, "SELECT db_user, db_time FROM events WHERE seq = %s", params=(ev.seq,)
    )
    assert stamped[0][0] == "alice" and stamped[0][1].endswith("Z")
    assert "permission denied to set role" in refused(team.role("alice"), "SET ROLE bob")
    # Followers need nothing more: an operator role hears each append (LISTEN needs no grant).
    with psycopg.connect(dsn(team.role("bob")), autocommit=True) as listener:
        listener.execute("LISTEN cockpit_events")
        heard = store.append(NewEvent(action=NOTE, reason="heard by bob"), alice)
        payloads = [n.payload for n in listener.notifies(timeout=10, stop_after=1)]
    assert payloads == [f"{heard.seq} "]
    # A client that sends its own db_user and db_time is overwritten by the trigger.
    head_seq, head_hash = store.head()
    execute(
        team.role("alice"),
        "INSERT INTO events (seq, event_id, schema, recorded_at, action, details, rehearsal, "
        "actor, actor_evidence, prev_hash, hash, db_user, db_time) VALUES (%s, 'e-as-bob', 1, "
        "'2026-01-01T00:00:00Z', 'note', '{}', false, 'bob@x', '{}', %s, %s, 'bob', "
        "'2000-01-01T00:00:00Z')",
        params=(head_seq + 1, head_hash, "1" * 64),
    )
    stamped = execute(
        team.url, "SELECT db_user, db_time FROM events WHERE seq = %s", params=(head_seq + 1,)
    )
    assert stamped[0][0] == "alice" and not stamped[0][1].startswith("2000")
    store.close()


def test_a_role_granted_before_the_item_states_goes_on_appending_after_the_upgrade(
    team: Team,
) -> None:
    # The database as revision 0003 left it (no item_states), alice's role granted then.
    execute(
        team.url,
        "DROP TABLE item_states",
        "DROP INDEX ix_events_release_action",
        "UPDATE alembic_version SET version_num = '0003'",
    )
    assert execute(team.url, "SELECT to_regclass('item_states')") == [(None,)]
    Store(team.url).open().close()  # the owner's cockpit upgrades it
    granted = {(t, r.strip()) for t, rights in dbroles.TABLE_PRIVILEGES for r in rights.split(",")}
    assert held(team.url, "alice") == granted
    store = team.store("alice")
    done = store.append(
        NewEvent(action=ITEM_DONE, release_id="r-00000001", subject="t1.check", outcome="ok"),
        alice,
    )
    assert execute(team.url, "SELECT seq FROM item_states") == [(done.seq,)]
    store.close()


def test_an_operator_role_cannot_rewrite_the_log_or_move_the_head(team: Team) -> None:
    url = team.role("alice")
    for statement in (
        "UPDATE events SET reason = 'x' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 1",
        "TRUNCATE events",
        "UPDATE chain_head SET seq = 1",
        "DELETE FROM chain_head",
        "INSERT INTO operator_roles VALUES ('mallory', 'bob', 'now', 'me')",
    ):
        assert "permission denied" in refused(url, statement), statement
    for statement in (
        "ALTER TABLE events DISABLE TRIGGER USER",
        "ALTER TABLE chain_head DISABLE TRIGGER chain_head_guard",
        "DROP TRIGGER events_append ON events",
    ):
        assert "must be owner of" in refused(url, statement), statement
    assert "permission denied to set parameter" in refused(
        url, "SET session_replication_role = replica"
    )
    # An event that does not follow the head is refused by the trigger, whatever it says.
    head_seq, head_hash = execute(url, "SELECT seq, hash FROM chain_head")[0]
    for seq, prev in ((head_seq + 2, head_hash), (head_seq + 1, GENESIS_HASH)):
        message = refused(
            url,
            "INSERT INTO events (seq, event_id, schema, recorded_at, action, details, rehearsal, "
            f"actor, actor_evidence, prev_hash, hash) VALUES ({seq}, 'e{seq}', 1, 'now', 'note', "
            f"'{{}}', false, 'alice@x', '{{}}', '{prev}', '{'1' * 64}')",
        )
        assert "does not follow the chain head" in message
    # Even the owner cannot move the head by hand: only an append does.
    for statement in ("UPDATE chain_head SET seq = seq - 1", "DELETE FROM chain_head"):
        assert "the cockpit chain head moves only when an event is appended" in refused(
            team.url, statement
        )
    assert execute(url, "SELECT seq, hash FROM chain_head") == [(head_seq, head_hash)]
    assert team.cli("audit", "verify").returncode == 0


# ------------------------------------------------------------------ what verify names


def test_a_forged_approval_is_named_by_verify(team: Team, tmp_path: Path) -> None:
    plan = tmp_path / "teamplan.yaml"
    plan.write_text(PLAN)
    loaded = LoadedConfig(parse_config_text(CONFIG), tmp_path / "cockpit.toml")
    as_alice, as_bob = team.store("alice"), team.store("bob")

    def prepared_by_alice(version: str) -> str:
        session = Session(store=as_alice, loaded=loaded, operator=alice)
        t0 = "2026-12-16T01:00"
        return create_release(
            session, plan=str(plan), environment="production", version=version, t0=t0
        ).id

    release = prepared_by_alice("1.4.0")
    # Bob approves from his own role: his role vouches for him.
    honest = decide(
        Session(store=as_bob, loaded=loaded, operator=bob), release, "t3.approval", "approve"
    )
    assert team.cli("audit", "verify").returncode == 0
    second = prepared_by_alice("1.4.1")
    # Alice approves her own release claiming to be bob: a correctly chained event the
    # four-eyes rule accepts (bob is not the preparer), recorded through alice's role.
    forged = decide(
        Session(store=as_alice, loaded=loaded, operator=bob), second, "t3.approval", "approve"
    )
    assert forged.action == GATE_APPROVED and forged.actor == "bob@bastion-2"
    assert execute(team.url, "SELECT db_user FROM events WHERE seq = %s", params=(forged.seq,)) == [
        ("alice",)
    ]
    done = team.cli("audit", "verify")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == (
        f"audit principal WRONG: ACTOR_MISMATCH at seq {forged.seq}: appended by database role "
        "alice, which belongs to alice, but the actor is bob@bastion-2: recorded in someone "
        "else's name"
    )
    assert f"seq {honest.seq}" not in done.stdout and "BROKEN" not in done.stdout
    assert done.stdout.splitlines()[1].startswith("audit chain ok: ")  # the chain is intact
    as_json = json.loads(team.cli("audit", "verify", "--json").stdout)
    assert as_json["ok"] is False and as_json["finding"] is None
    assert [(p["code"], p["seq"]) for p in as_json["principals"]] == [
        ("ACTOR_MISMATCH", forged.seq)
    ]
    as_alice.close()
    as_bob.close()


def test_a_head_moved_back_by_a_superuser_is_named(team: Team) -> None:
    store = team.store("bob")
    for note in ("one", "two"):
        store.append(NewEvent(action=NOTE, reason=note), bob)
    last = store.head()[0]
    execute(
        team.role("app"),  # the superuser
        "ALTER TABLE chain_head DISABLE TRIGGER chain_head_guard",
        "UPDATE chain_head SET seq = seq - 1, hash = (SELECT hash FROM events WHERE seq = "
        f"{last - 1})",
        "ALTER TABLE chain_head ENABLE ALWAYS TRIGGER chain_head_guard",
    )
    done = team.cli("audit", "verify")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        f"audit chain BROKEN: HEAD_MISMATCH at seq {last}: the chain head says seq {last - 1} but "
        f"the log goes on to {last}: the head was moved back (appends are refused until it is "
        "put right)"
    )
    with pytest.raises(AppendFailed, match=rf"broken at seq {last} \(HEAD_MISMATCH: "):
        store.append(NewEvent(action=NOTE, reason="three"), bob)
    store.close()


def test_head_moved_back_on_sqlite_too(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    for note in ("one", "two", "three"):
        store.append(NewEvent(action=NOTE, reason=note), alice)
    assert store.verify().ok
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE chain_head SET seq = 2, hash = (SELECT hash FROM events WHERE seq = 2)"
        )
    report = store.verify()
    assert report.problem is not None and (report.problem.code, report.problem.seq) == (
        "HEAD_MISMATCH",
        3,
    )
    with pytest.raises(AppendFailed, match=r"broken at seq 3 \(HEAD_MISMATCH: the chain head says"):
        store.append(NewEvent(action=NOTE, reason="four"), alice)
    store.close()


def test_a_host_clock_far_from_the_servers_is_a_warning(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = team.store("alice")
    monkeypatch.setattr("cockpit.store.now_utc", lambda: "2020-01-01T00:00:00.000000Z")
    skewed = store.append(NewEvent(action=NOTE, reason="slow clock"), alice)
    monkeypatch.undo()
    store.append(NewEvent(action=NOTE, reason="good clock"), alice)
    done = team.cli("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    warnings = [line for line in done.stderr.splitlines() if "CLOCK_SKEW" in line]
    assert len(warnings) == 1 and warnings[0].startswith(
        f"warning: CLOCK_SKEW at seq {skewed.seq}: recorded at 2020-01-01T00:00:00.000000Z "
        "by the host"
    )
    store.close()


def test_principal_findings_stay_bounded() -> None:
    rows = (
        (seq, "bob@x", "alice", "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z")
        for seq in range(1, 10_001)
    )
    problems, warnings = dbroles.principal_findings(rows, {"alice": "alice", "bob": "bob"})
    for found in (problems, warnings):
        assert len(found) == dbroles.MAX_FINDINGS + 1
        assert found[-1].seq == 10_000 and "and 9950 more events like it" in found[-1].message
    assert problems[0] == Finding(
        "ACTOR_MISMATCH",
        1,
        "appended by database role alice, which belongs to alice, but the "
        "actor is bob@x: recorded in someone else's name",
    )
    # A role that is no operator's (the shared one) is not checked; 119 s apart is no skew; a
    # time missing or unreadable is no verdict.
    fine = [
        (1, "carol@x", "dbid_app", "2026-01-01T00:00:00Z", "2026-01-01T00:01:59Z"),
        (2, "alice@bastion-1", "alice", None, "2026-01-01T00:00:00Z"),
        (3, "alice@x", "alice", "2026-01-01T00:00:00Z", "not a time"),
    ]
    assert dbroles.principal_findings(fine, {"alice": "alice"}) == ([], [])


# ------------------------------------------------------------------ revoke, passwords


def test_revoke_takes_login_and_rights_but_keeps_checking_the_past(team: Team) -> None:
    grant = team.cli("db", "grant", "carol")
    assert grant.returncode == 0, grant.stderr
    carol = Store(team.role("carol")).open()
    forged = carol.append(NewEvent(action=NOTE, reason="as dave"), Operator.fixed("dave", "h"))
    carol.close()
    still_open = psycopg.connect(dsn(team.role("carol")), autocommit=True)
    done = team.cli("db", "revoke", "carol")
    assert done.returncode == 0, done.stderr
    assert "role carol revoked" in done.stdout and "checked against carol" in done.stdout
    assert "is not permitted to log in" in refused(team.role("carol"), "SELECT 1")
    with still_open, pytest.raises(psycopg.errors.InsufficientPrivilege):
        still_open.execute("SELECT 1 FROM events")  # a session open before: no rights left
    roles = {r["role"]: r for r in json.loads(team.cli("db", "roles", "--json").stdout)}
    assert (roles["carol"]["can_login"], roles["carol"]["can_append"]) == (False, False)
    verdict = team.cli("audit", "verify")
    assert verdict.returncode == 1 and f"ACTOR_MISMATCH at seq {forged.seq}" in verdict.stdout
    # Granting again gives the login back (carol's own role: no surprise for the log).
    assert team.cli("db", "grant", "carol").returncode == 0
    assert execute(team.role("carol"), "SELECT count(*) > 0 FROM events") == [(True,)]


def test_a_hardened_database_lets_in_only_the_roles_granted(team: Team) -> None:
    database = team.url.rsplit("/", 1)[1]
    execute(team.admin, f"REVOKE ALL ON DATABASE {database} FROM PUBLIC")
    execute(
        team.admin,
        "DO $$ BEGIN CREATE ROLE mallory LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    assert "permission denied for database" in refused(team.role("mallory"), "SELECT 1")
    assert "permission denied for database" in refused(team.role("bob"), "SELECT 1")
    done = team.cli("db", "grant", "bob")
    assert done.returncode == 0, done.stderr
    store = team.store("bob")
    store.append(NewEvent(action=NOTE, reason="bob gets in"), bob)
    store.close()
    assert team.cli("db", "grant", "erin").returncode == 0
    assert team.cli("db", "revoke", "erin").returncode == 0
    execute(team.admin, "ALTER ROLE erin LOGIN")  # even with a login, no CONNECT any more
    assert "permission denied for database" in refused(team.role("erin"), "SELECT 1")


def test_the_password_is_set_as_a_verifier_and_never_shown(team: Team) -> None:
    secret = "correct horse battery staple"
    server = Path(execute(team.admin, "SHOW data_directory")[0][0])
    hba = Path(execute(team.admin, "SHOW hba_file")[0][0])
    original = hba.read_text()
    execute(team.admin, "ALTER ROLE dbid_owner SET log_statement = 'all'")
    try:
        hba.write_text(f"host all dave 127.0.0.1/32 scram-sha-256\n{original}")
        execute(team.admin, "SELECT pg_reload_conf()")
        done = team.cli("db", "grant", "dave", "--password-env", "DAVE_PW", DAVE_PW=secret)
        assert done.returncode == 0, done.stderr
        stored = execute(team.admin, "SELECT rolpassword FROM pg_authid WHERE rolname = 'dave'")
        assert stored[0][0].startswith("SCRAM-SHA-256$4096:")
        with_password = team.role("dave").replace("dave@", f"dave:{secret.replace(' ', '%20')}@")
        deadline = time.monotonic() + 10
        while True:  # the reload is asynchronous: wait until dave must give a password
            try:
                execute(team.role("dave"), "SELECT 1")
            except psycopg.OperationalError:
                break
            assert time.monotonic() < deadline, "pg_hba.conf was not reloaded"
            time.sleep(0.1)
        assert execute(with_password, "SELECT session_user") == [("dave",)]
        assert "password authentication failed" in refused(
            with_password.replace("staple", "stapler"), "SELECT 1"
        )
        log = (server.parent / "server.log").read_text(errors="replace")
        assert stored[0][0] in log  # the statement setting it was logged, with the verifier
        shown = done.stdout + done.stderr + json.dumps(execute(team.url, "SELECT * FROM events"))
        assert secret not in log and secret not in shown
    finally:
        hba.write_text(original)
        execute(team.admin, "SELECT pg_reload_conf()")
        execute(team.admin, "ALTER ROLE dbid_owner RESET log_statement")


# ------------------------------------------------------------------ upgrading an 0001 log


def test_a_0001_log_upgrades_to_the_head_and_keeps_verifying(
    db_url: str, checkpoint_file: Path
) -> None:
    old = Store(db_url)
    old.upgrade("0001")
    head = GENESIS_HASH
    with old.engine.begin() as conn:
        for seq in range(1, 4):
            values: dict[str, Any] = {
                "seq": seq,
                "event_id": f"00000000-0000-4000-8000-00000000000{seq}",
                "schema": 1,
                "recorded_at": f"2026-01-0{seq}T00:00:00.000000Z",
                "release_id": None,
                "action": NOTE,
                "subject": None,
                "outcome": None,
                "reason": f"note {seq}",
                "details": "{}",
                "rehearsal": False,
                "actor": "alice@bastion-1",
                "actor_evidence": "{}",
            }
            values["prev_hash"], values["hash"] = head, chain_hash(head, record_bytes(**values))
            head = values["hash"]
            marks = ", ".join(f":{c}" for c in values)
            conn.execute(text(f"INSERT INTO events ({', '.join(values)}) VALUES ({marks})"), values)
        conn.execute(text("UPDATE chain_head SET seq = 3, hash = :h"), {"h": head})
    with old.engine.connect() as conn:
        before = [
            tuple(r) for r in conn.exec_driver_sql("SELECT seq, hash FROM events ORDER BY seq")
        ]
    old.close()
    store = Store(db_url, checkpoint_file=checkpoint_file).open()
    assert store.current_revision() == SCHEMA_HEAD
    assert [(r[0], r[14]) for r in store.rows()] == before
    assert store.verify().ok and store.verify().count == 3
    ev = store.append(NewEvent(action=NOTE, reason="after the upgrade"), alice)
    assert ev.seq == 4 and ev.prev_hash == head
    report = store.verify()
    assert report.ok and report.count == 4 and report.principals == []
    store.close()
