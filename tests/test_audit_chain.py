"""The event log on SQLite and a real PostgreSQL: chain, tamper detection, concurrency, crashes."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cockpit.checkpoint import read_checkpoint
from cockpit.errors import AppendFailed, EventRejected
from cockpit.events import NewEvent
from cockpit.operator import Operator
from cockpit.store import Store
from cockpit.verify import (
    ANCHOR_MISMATCH,
    CLOCK_BACKWARDS,
    GAP,
    HASH_MISMATCH,
    LINK_BROKEN,
    SEQ_MISMATCH,
    TRUNCATED,
    Checkpoint,
)
from tests import tamper

REPO = Path(__file__).resolve().parent.parent


def fill(store: Store, who: Operator, n: int = 10) -> None:
    for i in range(1, n + 1):
        store.append(
            NewEvent(
                action="note",
                release_id="r-1",
                reason=f"event {i}",
                details={"i": i, "argv": ["git", "tag", f"v1.{i}.0"]},
            ),
            who,
        )


def test_appends_chain_and_verify(store: Store, alice: Operator, checkpoint_file: Path) -> None:
    fill(store, alice, 10)
    report = store.verify(read_checkpoint(checkpoint_file))
    assert report.ok, report.problem
    assert report.count == 10 and report.head_seq == 10
    events = store.events()
    assert [e.seq for e in events] == list(range(1, 11))
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert read_checkpoint(checkpoint_file) == Checkpoint(10, events[-1].hash)
    assert events[3].actor == "alice@bastion-1"
    assert events[3].details_obj == {"i": 4, "argv": ["git", "tag", "v1.4.0"]}


def test_secrets_are_redacted_before_hashing(store: Store, alice: Operator) -> None:
    ev = store.append(
        NewEvent(
            action="step.started",
            details={
                "db_password": "hunter2",
                "url": "postgresql://app:hunter2@db/prod",
                "token": "t0k",
            },
        ),
        alice,
    )
    stored = store.events()[-1]
    assert "hunter2" not in stored.details and "t0k" not in stored.details
    assert stored.details_obj["url"] == "postgresql://app:***@db/prod"
    assert stored.hash == ev.hash and store.verify().ok


def test_free_text_is_redacted_too(store: Store, alice: Operator) -> None:
    store.append(
        NewEvent(
            action="note",
            reason="rotated, old dsn postgresql://app:hunter2@db/prod",
            subject="run with --password hunter2",
        ),
        alice,
    )
    stored = store.events()[-1]
    assert "hunter2" not in (stored.reason or "") + (stored.subject or "")
    assert store.verify().ok


def test_appending_on_a_rewritten_log_is_refused(
    store: Store, alice: Operator, checkpoint_file: Path
) -> None:
    fill(store, alice)
    tamper.cut_tail(store, keep=7)
    forger = Store(store.url)
    fill(forger, Operator.fixed("mallory"), 3)
    forger.close()
    # The honest cockpit must not move its checkpoint onto the forged chain.
    with pytest.raises(AppendFailed, match="seq 10 no longer has the hash in the checkpoint"):
        store.append(NewEvent(action="note", reason="next"), alice)
    problem = store.verify(read_checkpoint(checkpoint_file)).problem
    assert problem is not None and (problem.code, problem.seq) == (ANCHOR_MISMATCH, 10)


def test_a_damaged_checkpoint_is_repaired_not_fatal(
    store: Store, alice: Operator, checkpoint_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fill(store, alice, 2)
    store.close()
    checkpoint_file.write_bytes(b'{"seq": 2, "ha')  # torn
    fill(store, alice, 1)
    assert read_checkpoint(checkpoint_file) == Checkpoint(3, store.events()[-1].hash)
    assert "unreadable" in caplog.text


def test_an_unwritable_checkpoint_warns_and_keeps_the_event(
    tmp_path: Path, alice: Operator, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}", checkpoint_file=blocker / "cp.json").open()
    store.append(NewEvent(action="note", reason="still recorded"), alice)
    assert [e.reason for e in store.events()] == ["still recorded"]
    assert "not written" in caplog.text
    store.close()


def test_middle_row_deleted_is_a_gap(store: Store, alice: Operator) -> None:
    fill(store, alice)
    tamper.run(store, "DELETE FROM events WHERE seq = 5")
    problem = store.verify().problem
    assert problem is not None and (problem.code, problem.seq) == (GAP, 5)


def test_payload_edited_is_a_hash_mismatch(store: Store, alice: Operator) -> None:
    fill(store, alice)
    tamper.rewrite(store, 4, rehash=False, reason="nothing to see here")
    problem = store.verify().problem
    assert problem is not None and (problem.code, problem.seq) == (HASH_MISMATCH, 4)


def test_payload_edited_and_rehashed_breaks_the_link(store: Store, alice: Operator) -> None:
    fill(store, alice)
    tamper.rewrite(store, 6, rehash=True, details='{"i":600}')
    problem = store.verify().problem
    assert problem is not None and (problem.code, problem.seq) == (LINK_BROKEN, 6)


def test_rows_swapped_is_a_seq_mismatch(store: Store, alice: Operator) -> None:
    fill(store, alice)
    from cockpit.chain import COLUMNS

    r3, r4 = tamper.row(store, 3), tamper.row(store, 4)
    swap_3 = dict(zip(COLUMNS, r4, strict=True)) | {"seq": 3, "event_id": "x3"}
    swap_4 = dict(zip(COLUMNS, r3, strict=True)) | {"seq": 4, "event_id": "x4"}
    sets = ", ".join(f"{c} = :{c}" for c in COLUMNS if c != "seq")
    tamper.run(
        store,
        (f"UPDATE events SET {sets} WHERE seq = :seq", swap_3),
        (f"UPDATE events SET {sets} WHERE seq = :seq", swap_4),
    )
    problem = store.verify().problem
    assert problem is not None and (problem.code, problem.seq) == (SEQ_MISMATCH, 3)


def test_cut_tail_is_caught_only_with_the_checkpoint(
    store: Store, alice: Operator, checkpoint_file: Path
) -> None:
    fill(store, alice)
    tamper.cut_tail(store, keep=7)
    assert store.verify().ok  # the chain alone cannot see it
    problem = store.verify(read_checkpoint(checkpoint_file)).problem
    assert problem is not None and (problem.code, problem.seq) == (TRUNCATED, 8)


def test_cut_tail_with_the_chain_head_left_behind(store: Store, alice: Operator) -> None:
    fill(store, alice)
    tamper.run(store, "DELETE FROM events WHERE seq > 7")
    problem = store.verify().problem
    assert problem is not None and (problem.code, problem.seq) == (TRUNCATED, 8)
    with pytest.raises(AppendFailed, match="chain head says seq 10 but the log ends at 7"):
        store.append(NewEvent(action="note", reason="on top of a cut log"), alice)


def test_consistently_rewritten_end_is_caught_only_with_the_checkpoint(
    store: Store, alice: Operator, checkpoint_file: Path
) -> None:
    fill(store, alice)
    tamper.cut_tail(store, keep=7)
    forger = Store(store.url)  # no checkpoint file: the attacker does not touch it
    fill(forger, Operator.fixed("mallory"), 3)
    forger.close()
    assert store.verify().ok
    problem = store.verify(read_checkpoint(checkpoint_file)).problem
    assert problem is not None and (problem.code, problem.seq) == (ANCHOR_MISMATCH, 10)


def test_clock_going_backwards_is_a_warning(
    store: Store, alice: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, alice, 3)
    # Another bastion host with its clock behind appends the next event.
    monkeypatch.setattr("cockpit.store.now_utc", lambda: "2001-01-01T00:00:00.000000Z")
    store.append(NewEvent(action="note", reason="from a host with a slow clock"), alice)
    monkeypatch.undo()
    fill(store, alice, 1)
    report = store.verify()
    assert report.ok, report.problem
    # PostgreSQL stamps its own clock too, so it also names how far off the host was.
    skew = [] if store.is_sqlite else [("CLOCK_SKEW", 4)]
    assert [(w.code, w.seq) for w in report.warnings] == [(CLOCK_BACKWARDS, 4), *skew]


def test_database_refuses_update_and_delete(store: Store, alice: Operator) -> None:
    fill(store, alice, 3)
    for sql in ("UPDATE events SET reason = 'x' WHERE seq = 2", "DELETE FROM events WHERE seq = 2"):
        with (
            pytest.raises(DBAPIError, match="append-only"),
            store.engine.connect() as conn,
            conn.begin(),
        ):
            conn.execute(text(sql))
    assert store.verify().ok and store.verify().count == 3


def test_postgres_refuses_truncate_even_as_replica(pg_url: str, alice: Operator) -> None:
    store = Store(pg_url).open()
    fill(store, alice, 3)
    with (
        pytest.raises(DBAPIError, match="append-only"),
        store.engine.connect() as conn,
        conn.begin(),
    ):
        # ENABLE ALWAYS: not even replication mode switches the triggers off.
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("TRUNCATE events"))
    assert store.verify().count == 3
    store.close()


def test_rejected_event_writes_nothing(store: Store, alice: Operator) -> None:
    fill(store, alice, 2)
    for details in ({"n": float("nan")}, {"n": 2**60}, {"n": float("inf")}):
        with pytest.raises(EventRejected):
            store.append(NewEvent(action="note", details=details), alice)
    with pytest.raises(EventRejected, match="reason is required"):
        store.append(NewEvent(action="item.skipped"), alice)
    assert store.verify().count == 2


def test_write_ahead_records_intent_then_outcome(store: Store, alice: Operator) -> None:
    ran = []
    with store.write_ahead(
        NewEvent(action="step.started", subject="deploy"),
        alice,
        done="step.succeeded",
        failed="step.failed",
    ) as outcome:
        ran.append(store.events()[-1].action)  # the intent is already in the log
        outcome["exit_code"] = 0
    with (
        pytest.raises(RuntimeError),
        store.write_ahead(
            NewEvent(action="step.started", subject="migrate"),
            alice,
            done="step.succeeded",
            failed="step.failed",
        ),
    ):
        raise RuntimeError("alembic exited 1")
    events = store.events()
    assert ran == ["step.started"]
    assert [e.action for e in events] == [
        "step.started",
        "step.succeeded",
        "step.started",
        "step.failed",
    ]
    assert events[1].details_obj == {"intent_seq": 1, "exit_code": 0}
    assert events[3].details_obj == {"intent_seq": 3, "error": "alembic exited 1"}


def test_disk_full_refuses_the_action_and_keeps_the_chain(tmp_path: Path, alice: Operator) -> None:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    Store(url).open().close()
    import sqlite3

    pages = sqlite3.connect(tmp_path / "small.db").execute("PRAGMA page_count").fetchone()[0]
    store = Store(url, sqlite_pragmas={"max_page_count": pages + 8})
    ran = 0
    with pytest.raises(AppendFailed, match="full"):
        for i in range(1000):
            with store.write_ahead(
                NewEvent(action="step.started", details={"blob": "x" * 2000, "i": i}),
                alice,
                done="step.succeeded",
                failed="step.failed",
            ):
                ran += 1
    report = store.verify()
    assert report.ok, report.problem
    # Every action that ran has its intent; the refused one never ran.
    assert ran == len([e for e in store.events() if e.action == "step.started"])
    store.close()


_APPENDER = """
import sys
from pathlib import Path
from cockpit.events import NewEvent
from cockpit.operator import Operator
from cockpit.store import Store
url, who, count, cp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = Store(url, checkpoint_file=Path(cp)).open()
op = Operator.fixed(who)
i = 0
while count < 0 or i < count:
    i += 1
    store.append(NewEvent(action="note", reason=f"{who} {i}", details={"i": i}), op)
    if count < 0 and i % 50 == 0:
        print(i, flush=True)
"""


def _appender(url: str, who: str, count: int, checkpoint: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _APPENDER, url, who, str(count), str(checkpoint)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_two_processes_append_one_unbroken_chain(store: Store, checkpoint_file: Path) -> None:
    procs = [_appender(store.url, who, 1000, checkpoint_file) for who in ("alice", "bob")]
    for proc in procs:
        assert proc.wait(timeout=240) == 0
    report = store.verify(read_checkpoint(checkpoint_file))
    assert report.ok, report.problem
    events = store.events()
    assert [e.seq for e in events] == list(range(1, 2001))
    assert {e.actor.split("@")[0] for e in events} == {"alice", "bob"}
    assert read_checkpoint(checkpoint_file) == Checkpoint(2000, events[-1].hash)


def test_kill_9_mid_append_leaves_no_torn_record(
    store: Store, alice: Operator, checkpoint_file: Path
) -> None:
    proc = _appender(store.url, "crashy", -1, checkpoint_file)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line and int(line) >= 200:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    report = store.verify(read_checkpoint(checkpoint_file))
    assert report.ok, report.problem
    assert report.count >= 200
    store.append(NewEvent(action="note", reason="after the crash"), alice)
    assert store.verify().count == report.count + 1
