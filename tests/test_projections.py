"""Projections equal the fold; verify names a projection edited behind the cockpit's back; `db
rebuild` restores it; incremental verify checks only what is new and the next full verify still
finds an old row tampered with. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cockpit.events import NewEvent
from cockpit.operator import Operator
from cockpit.projections import PROJECTION_MISMATCH
from cockpit.release import all_releases, fold
from cockpit.store import Store
from cockpit.vocabulary import (
    ITEM_DONE,
    NOTE,
    RELEASE_CANCELLED,
    RELEASE_CLOSED,
    RELEASE_CREATED,
    VERSION_CHOSEN,
)
from tests import tamper

alice = Operator.fixed("alice", "bastion-1")
IDS = ("r-aaaa0001", "r-aaaa0002", "r-aaaa0003")


def created(release_id: str, version: str = "1.0.0") -> NewEvent:
    return NewEvent(
        action=RELEASE_CREATED,
        release_id=release_id,
        subject=f"{version} standard staging",
        outcome="ok",
        details={
            "plan": "standard",
            "environment": "staging",
            "version": version,
            "t0": "2026-12-16T01:00:00+09:00",
            "zone": "Asia/Tokyo",
        },
    )


def decision(kind: str, release_id: str | None, n: int) -> NewEvent:
    if kind == "created" and release_id is not None:
        return created(release_id, f"1.{n}.0")
    if kind == "version":
        return NewEvent(
            action=VERSION_CHOSEN, release_id=release_id, details={"version": f"2.{n}.0"}
        )
    if kind == "closed":
        return NewEvent(action=RELEASE_CLOSED, release_id=release_id, outcome="closed")
    if kind == "cancelled":
        return NewEvent(action=RELEASE_CANCELLED, release_id=release_id, reason="called off")
    if kind == "done":
        return NewEvent(action=ITEM_DONE, release_id=release_id, subject="t1.check", outcome="ok")
    return NewEvent(action=NOTE, release_id=release_id, reason=f"note {n}")


decisions = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(["created", "version", "closed", "cancelled", "done", "note"]),
            st.sampled_from((*IDS, None)),
            st.integers(0, 9),
        ),
        min_size=1,
        max_size=4,
    ),
    min_size=1,
    max_size=8,
)


def projected_equals_fold(store: Store) -> None:
    folded = [r.as_dict() | {"notes": []} for r in fold(store.events()).values()]
    assert [r.as_dict() for r in store.releases()] == folded


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=decisions)
def test_the_projection_equals_the_fold_after_any_decisions(
    store: Store, batches: list[list[tuple[str, str | None, int]]]
) -> None:
    # Batches (one transaction each) of decisions on a few releases, created or not yet, and
    # on none; a release created twice starts again, as the fold says.
    for batch in batches:
        store.append_many([decision(*d) for d in batch], alice)
    projected_equals_fold(store)
    report = store.verify()
    assert report.ok, report.findings


def test_an_edited_projection_is_named_by_verify_and_rebuild_restores_it(store: Store) -> None:
    store.append(created(IDS[0]), alice)
    store.append(created(IDS[1]), alice)
    store.append(NewEvent(action=RELEASE_CLOSED, release_id=IDS[1], outcome="closed"), alice)
    before = [r.as_dict() for r in store.releases()]
    assert store.verify().ok
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE release_summaries SET status = 'open' WHERE release_id = :r"),
            {"r": IDS[1]},
        )
    report = store.verify()
    assert not report.ok and report.problem is not None
    assert report.problem.code == PROJECTION_MISMATCH and report.problem.seq == 2
    assert f"release {IDS[1]} has status='open', the log says 'closed'" in report.problem.message
    assert "cockpit db rebuild" in report.problem.message
    # A row of a release the log never created, and one missing.
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM release_summaries WHERE release_id = :r"), {"r": IDS[0]})
    assert f"release {IDS[0]} is missing" in str(store.verify().problem)
    assert store.rebuild_projections() == 2
    assert [r.as_dict() for r in store.releases()] == before
    assert store.verify().ok


def test_reads_come_from_the_projection(store: Store) -> None:
    store.append(created(IDS[0]), alice)
    store.append(NewEvent(action=NOTE, release_id=IDS[0], reason="paged the DBA"), alice)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE release_summaries SET version = '9.9.9'"))
    # The summary (release list, the dashboard, a release id's lookup) reads the projection;
    # the full fold (release show) reads the log.
    assert [r.version for r in all_releases(store, summary=True)] == ["9.9.9"]
    assert [r.version for r in all_releases(store)] == ["1.0.0"]


def test_incremental_verify_checks_only_what_is_new_and_a_full_one_finds_old_tampering(
    store: Store,
) -> None:
    store.append(created(IDS[0]), alice)
    for n in range(5):
        store.append(NewEvent(action=NOTE, release_id=IDS[0], reason=f"note {n}"), alice)
    full = store.verify()
    assert full.ok and full.count == 6
    since = (full.head_seq, full.head_hash)
    store.append(NewEvent(action=NOTE, release_id=IDS[0], reason="after"), alice)
    again = store.verify(since=since)
    assert again.ok and again.count == 1 and again.head_seq == 7
    # An old row edited (its hash recomputed): what is new still verifies incrementally ...
    tamper.rewrite(store, 3, rehash=True, reason="edited")
    since = (again.head_seq, again.head_hash)
    store.append_many([NewEvent(action=NOTE, reason="later")], alice)
    newest = store.verify(since=since)
    assert newest.ok and newest.count == 1
    # ... and the next full verify names it.
    report = store.verify()
    assert report.problem is not None and (report.problem.code, report.problem.seq) == (
        "LINK_BROKEN",
        3,
    )
    # A new row that does not follow the verified head is caught incrementally.
    tamper.rewrite(store, 8, rehash=False, reason="edited")
    caught = store.verify(since=(again.head_seq, again.head_hash))
    assert caught.problem is not None and caught.problem.seq == 8


def test_a_full_verify_streams_in_bounded_batches(store: Store, tmp_path: Path) -> None:
    # More rows than one batch: the walk goes on across batches without a gap.
    import cockpit.logcheck as store_module

    store_module._BATCH, saved = 3, store_module._BATCH
    try:
        store.append_many([NewEvent(action=NOTE, reason=f"n{n}") for n in range(10)], alice)
        report = store.verify()
        assert report.ok and report.count == 10 and report.head_seq == 10
    finally:
        store_module._BATCH = saved


def test_the_head_last_verified_is_remembered_and_a_rewritten_one_is_named(
    store: Store, checkpoint_file: Path
) -> None:
    store.append(created(IDS[0]), alice)
    store.append(NewEvent(action=NOTE, release_id=IDS[0], reason="one"), alice)
    assert store.last_verified() is None  # nothing verified yet: the first run is a full one
    full = store.verify()
    assert store.last_verified() == (full.head_seq, full.head_hash) == (2, full.head_hash)
    # Another process (the dashboard started again) continues from it.
    again = Store(store.url, checkpoint_file=checkpoint_file).open()
    try:
        since = again.last_verified()
        store.append(NewEvent(action=NOTE, reason="two"), alice)
        report = again.verify(since=since)
        assert report.ok and report.count == 1 and again.last_verified() == (3, report.head_hash)
        # The row it starts from rewritten (hash recomputed): named, and not remembered.
        store.append(NewEvent(action=NOTE, reason="four"), alice)
        tamper.rewrite(store, 3, rehash=True, reason="edited")
        report = again.verify(since=again.last_verified())
        assert report.problem is not None and (report.problem.code, report.problem.seq) == (
            "ANCHOR_MISMATCH",
            3,
        )
        assert again.last_verified()[0] == 3
    finally:
        again.close()
