"""A full verify of a long SQLite log walks it in two processes (cockpit.logsplit): the same
report as one process on an intact log (count, head, warnings, signature findings, the
projection against the fold), and on a tampered one the same first bad seq and reason, whether
the row is in the first half, at the seam, just after it or at the end. The threshold is
lowered so that a log of a few dozen events is split."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from cockpit.chain import COLUMNS
from cockpit.checkpoint import read_checkpoint
from cockpit.events import NewEvent
from cockpit.identity import UNSIGNED, Signers
from cockpit.logsplit import HalfFold
from cockpit.operator import Operator
from cockpit.projections import ReleaseFold
from cockpit.store import Store
from cockpit.verify import (
    ANCHOR_MISMATCH,
    GAP,
    HASH_MISMATCH,
    LINK_BROKEN,
    SEQ_MISMATCH,
    TRUNCATED,
    Checkpoint,
    VerifyReport,
)
from cockpit.vocabulary import GATE_APPROVED, NOTE
from tests import tamper
from tests.test_projections import IDS, created, decision, decisions

alice = Operator.fixed("alice", "bastion-1")
N = 40  # events: the seam is at seq 20


@pytest.fixture
def sqlite_store(tmp_path: Path, checkpoint_file: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'cockpit.db'}", checkpoint_file=checkpoint_file).open()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def split_small_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cockpit.logsplit.SPLIT_AT", 2)
    # The CLI verifies from a process of one thread; threads earlier tests of this session
    # left behind (idle samplers, watchers) would keep the log from being split here.
    monkeypatch.setattr("cockpit.logsplit.alone", lambda: True)


def test_a_process_with_other_threads_walks_the_log_alone(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TUI verifies with threads running: no fork there, one process walks the log."""
    import threading

    import cockpit.logsplit

    monkeypatch.undo()
    monkeypatch.setattr("cockpit.logsplit.SPLIT_AT", 2)
    a_log(sqlite_store)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not cockpit.logsplit.alone()
        report = sqlite_store.verify()
    finally:
        stop.set()
        other.join()
    assert report.ok and report.processes == 1


def test_a_child_that_never_answers_leaves_the_walk_to_one_process(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stuck child (here: it sleeps instead of walking) costs the patience, never a hang:
    the log is walked again in one process and the report is the same."""
    import time

    a_log(sqlite_store)
    monkeypatch.setattr("cockpit.logsplit.CHILD_PATIENCE_S", 0.5)
    monkeypatch.setattr("cockpit.logsplit._walk_after", lambda *_args: time.sleep(60))
    began = time.monotonic()
    report = sqlite_store.verify()
    assert time.monotonic() - began < 10
    same(report, one_process(sqlite_store))


def one_process(store: Store, checkpoint: Checkpoint | None = None) -> VerifyReport:
    import cockpit.logsplit

    saved, cockpit.logsplit.SPLIT_AT = cockpit.logsplit.SPLIT_AT, 10**12
    try:
        return store.verify(checkpoint)
    finally:
        cockpit.logsplit.SPLIT_AT = saved


def same(split: VerifyReport, one: VerifyReport) -> None:
    assert one.processes == 1
    for name in ("count", "head_seq", "head_hash", "problem", "warnings", "identity"):
        assert getattr(split, name) == getattr(one, name), name


def a_log(store: Store) -> None:
    """Releases created in the first half and used in the second, one created again across the
    seam, notes, versions and closures on both sides."""
    store.append(created(IDS[0]), alice)
    store.append(created(IDS[1]), alice)
    for n in range(3, N + 1):
        kind = {7: "version", 15: "closed", 24: "version", 30: "cancelled", 33: "done"}.get(n)
        if n == 26:
            store.append(created(IDS[1], "9.9.9"), alice)  # created again after the seam
        elif n == 12:
            store.append(created(IDS[2]), alice)
        else:
            target = IDS[n % 3]
            store.append(decision(kind or "note", target, n), alice)


def test_an_intact_log_gives_the_same_report_in_two_processes(
    sqlite_store: Store, checkpoint_file: Path
) -> None:
    a_log(sqlite_store)
    checkpoint = read_checkpoint(checkpoint_file)
    split = sqlite_store.verify(checkpoint)
    assert split.processes == 2 and split.ok, split.findings
    assert split.count == N and split.head_seq == N
    same(split, one_process(sqlite_store, checkpoint))


def test_signature_findings_of_both_halves_in_order(sqlite_store: Store, tmp_path: Path) -> None:
    # Every decision of a staging release must be signed: the second half knows the release's
    # environment from a creation in the first.
    a_log(sqlite_store)
    sqlite_store.signers = Signers(tmp_path / "allowed_signers", [], sign_all=["staging"])
    sqlite_store.append(NewEvent(action=GATE_APPROVED, release_id=IDS[0], subject="g"), alice)
    split = sqlite_store.verify()
    assert split.processes == 2
    unsigned = [f.seq for f in split.identity if f.code == UNSIGNED]
    assert unsigned[0] < N // 2 < unsigned[-1] == N + 1
    same(split, one_process(sqlite_store))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=decisions)
def test_the_fold_of_two_halves_equals_the_fold_of_the_whole(
    sqlite_store: Store, batches: list[list[tuple[str, str | None, int]]]
) -> None:
    for batch in batches:
        sqlite_store.append_many([decision(*d) for d in batch], alice)
    rows = sqlite_store.rows()
    whole = ReleaseFold(notes=False)
    for row in rows:
        whole.add_row(row)
    for seam in range(len(rows) + 1):
        first, second = ReleaseFold(notes=False), HalfFold()
        for row in rows[:seam]:
            first.add_row(row)
        for row in rows[seam:]:
            second.add_row(row)
        second.merge_into(first)
        assert list(first.releases.items()) == list(whole.releases.items()), seam
    if len(rows) >= 2:  # and verify, split, compares the projection with that fold
        report = sqlite_store.verify()
        assert report.ok and report.processes == 2, report.findings


def _delete(store: Store, seq: int) -> None:
    tamper.run(store, f"DELETE FROM events WHERE seq = {seq}")


def _swap(store: Store, seq: int) -> None:
    one, two = tamper.row(store, seq), tamper.row(store, seq + 1)
    first = dict(zip(COLUMNS, two, strict=True)) | {"seq": seq, "event_id": "x1"}
    second = dict(zip(COLUMNS, one, strict=True)) | {"seq": seq + 1, "event_id": "x2"}
    sets = ", ".join(f"{c} = :{c}" for c in COLUMNS if c != "seq")
    sql = f"UPDATE events SET {sets} WHERE seq = :seq"
    tamper.run(store, (sql, first), (sql, second))


TAMPER: dict[str, tuple[Any, str]] = {
    "edited": (lambda s, q: tamper.rewrite(s, q, rehash=False, reason="edited"), HASH_MISMATCH),
    "rehashed": (lambda s, q: tamper.rewrite(s, q, rehash=True, reason="edited"), LINK_BROKEN),
    "deleted": (_delete, GAP),
    "swapped": (_swap, SEQ_MISMATCH),
}


@pytest.mark.parametrize("where", [5, N // 2, N // 2 + 1, N - 1])
@pytest.mark.parametrize("how", sorted(TAMPER))
def test_a_tampered_row_is_named_by_seq_as_one_process_names_it(
    sqlite_store: Store, how: str, where: int
) -> None:
    a_log(sqlite_store)
    assert sqlite_store.verify().processes == 2
    change, code = TAMPER[how]
    change(sqlite_store, where)
    report = sqlite_store.verify()
    assert report.problem is not None
    assert (report.problem.code, report.problem.seq) == (code, where)
    # The halves found something or did not meet: one process walked it again.
    assert report.processes == 1
    same(report, one_process(sqlite_store))


def test_the_last_row_edited_is_named(sqlite_store: Store) -> None:
    a_log(sqlite_store)
    tamper.rewrite(sqlite_store, N, rehash=False, reason="edited")
    report = sqlite_store.verify()
    assert report.problem is not None
    assert (report.problem.code, report.problem.seq) == (HASH_MISMATCH, N)


@pytest.mark.parametrize("keep", [N // 2 - 3, N // 2, N - 2])
def test_a_cut_or_rewritten_end_is_caught_by_the_checkpoint_in_two_processes(
    sqlite_store: Store, checkpoint_file: Path, keep: int
) -> None:
    a_log(sqlite_store)
    checkpoint = read_checkpoint(checkpoint_file)
    tamper.cut_tail(sqlite_store, keep=keep)
    report = sqlite_store.verify(checkpoint)
    assert report.problem is not None
    assert (report.problem.code, report.problem.seq) == (TRUNCATED, keep + 1)
    same(report, one_process(sqlite_store, checkpoint))
    forger = Store(sqlite_store.url)  # the end written again, consistently
    for n in range(N - keep):
        forger.append(NewEvent(action=NOTE, reason=f"forged {n}"), Operator.fixed("mallory"))
    forger.close()
    report = sqlite_store.verify(checkpoint)
    assert report.processes == 2 and report.problem is not None
    assert (report.problem.code, report.problem.seq) == (ANCHOR_MISMATCH, N)
    same(report, one_process(sqlite_store, checkpoint))


def test_a_log_whose_path_has_uri_characters_is_split_too(tmp_path: Path) -> None:
    # The child opens the file by URI (read-only): its path is quoted.
    where = tmp_path / "b#c %41"
    where.mkdir()
    store = Store(f"sqlite:///{where / 'cockpit.db'}", checkpoint_file=where / "cp.json").open()
    try:
        a_log(store)
        assert (where / "cockpit.db").stat().st_size > 0
        report = store.verify()
        assert report.ok and report.processes == 2 and report.count == N
    finally:
        store.close()
