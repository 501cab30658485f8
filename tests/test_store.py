"""Schema and migrations: shipped head, model parity, applied once, operator evidence."""

from __future__ import annotations

from pathlib import Path

from cockpit.events import NewEvent
from cockpit.migrations import script_head
from cockpit.models import Base
from cockpit.operator import current_operator
from cockpit.store import SCHEMA_HEAD, Store


def test_shipped_migration_head_matches_the_code() -> None:
    assert script_head() == SCHEMA_HEAD


def test_models_match_the_migrations(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store(db_url).open()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert [d for d in diff if d[0] != "remove_table" or d[1].name != "alembic_version"] == []


def test_open_is_idempotent_and_keeps_events(db_url: str) -> None:
    from cockpit.operator import Operator

    store = Store(db_url).open()
    store.append(NewEvent(action="note", reason="kept"), Operator.fixed("alice"))
    store.close()
    again = Store(db_url).open()
    assert again.current_revision() == SCHEMA_HEAD
    assert [e.reason for e in again.events()] == ["kept"]
    again.close()


def test_operator_evidence_marks_claims() -> None:
    op = current_operator({"SUDO_USER": "bob", "SSH_CONNECTION": "10.0.0.7 51234 10.0.0.1 22"})
    evidence = op.evidence()
    assert evidence["login"]["verified"] is True and evidence["login"]["source"] == "uid"
    assert evidence["sudo_user"] == {"value": "bob", "verified": False, "source": "SUDO_USER"}
    assert evidence["ssh_origin"] == {
        "value": "10.0.0.7:51234",
        "verified": False,
        "source": "SSH_CONNECTION",
    }
    # An unverified SUDO_USER is a claim only: it never decides who acted (four-eyes).
    assert op.name == op.login.value and not op.actor.startswith("bob@")
    plain = current_operator({})
    assert plain.sudo_user is None and plain.ssh_origin is None
    assert plain.name == plain.login.value


def test_sqlite_is_durable_and_waits(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}", busy_timeout_ms=1234).open()
    with store.engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout")
        }
    store.close()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 1234}


def test_a_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    import pytest
    from sqlalchemy import text

    from cockpit.errors import StoreError

    url = f"sqlite:///{tmp_path / 'c.db'}"
    Store(url).open().close()
    store = Store(url)
    with store.engine.connect() as conn, conn.begin():
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(StoreError, match="revision 0099, newer than this cockpit knows"):
        store.open()
    store.close()


def test_cockpit_as_is_a_claimed_stand_in_for_rehearsals_only(tmp_path: Path) -> None:
    import pytest

    from cockpit.errors import AppendFailed

    op = current_operator({"COCKPIT_AS": "bob"})
    assert op.name == "bob" and op.evidence()["acting_as"]["verified"] is False
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    ev = store.append(NewEvent(action="gate.approved", subject="g", rehearsal=True), op)
    assert ev.actor.startswith("bob@")
    with pytest.raises(AppendFailed, match="COCKPIT_AS=bob is for rehearsals only"):
        store.append(NewEvent(action="gate.approved", subject="g"), op)
    store.close()


def test_a_plain_postgresql_url_uses_the_shipped_driver(pg_url: str) -> None:
    """``postgresql://`` (as psql takes it) opens with psycopg, the driver the cockpit ships;
    SQLAlchemy alone would ask for psycopg2, which is not installed."""
    from cockpit.operator import Operator

    assert pg_url.startswith("postgresql+psycopg://")
    for plain in ("postgresql://", "postgres://"):
        store = Store(plain + pg_url.removeprefix("postgresql+psycopg://")).open()
        assert store.url == pg_url and not store.is_sqlite  # the follower's waker reads it too
        store.append(NewEvent(action="note", reason=plain), Operator.fixed("alice"))
        assert store.events()[-1].reason == plain
        store.close()
