"""Projections equal the fold; verify names a projection edited behind the cockpit's back; `db
rebuild` restores it; incremental verify checks only what is new and the next full verify still
finds an old row tampered with; an upgrade from revision 0003 fills the item states. On SQLite
and PostgreSQL. The item states hold facts, never a verdict: judged with real signatures and
allowed signers, they give what the full fold gives."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cockpit import itemfacts
from cockpit.checklist import Status, load_checklist
from cockpit.events import NewEvent
from cockpit.identity import Signers, parse_allowed_signers
from cockpit.itemfacts import fold_facts
from cockpit.itemstate import fold_items, read_states
from cockpit.operator import Operator, with_key
from cockpit.projections import PROJECTION_MISMATCH
from cockpit.release import all_releases, fold
from cockpit.signing import key_from_file
from cockpit.store import Store
from cockpit.vocabulary import (
    CHECK_FAILED,
    GATE_APPROVED,
    GATE_REJECTED,
    ITEM_DONE,
    ITEM_REOPENED,
    ITEM_SKIPPED,
    NOTE,
    RELEASE_CANCELLED,
    RELEASE_CLOSED,
    RELEASE_CREATED,
    STEP_STARTED,
    STEP_SUCCEEDED,
    STEP_UNDO_FAILED,
    STEP_UNDO_STARTED,
    VERSION_CHOSEN,
)
from tests import tamper

alice = Operator.fixed("alice", "bastion-1")
bob = Operator.fixed("bob", "bastion-2")
IDS = ("r-aaaa0001", "r-aaaa0002", "r-aaaa0003")


def created(release_id: str, version: str = "1.0.0") -> NewEvent:
    return NewEvent(
        action=RELEASE_CREATED,
        release_id=release_id,
        subject=f"{version} standard staging",
        outcome="ok",
        details={
            "plan": "release",
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


# ---------------------------------------------------------------- item states

GATE, ITEMS = "t3.approval", ("t14.requirements", "t3.docs_updated", "t0.backup")
Who = tuple[str, bool]  # (person, signed)


@pytest.fixture(scope="module")
def team_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Signers, dict[str, Operator]]:
    """Real ed25519 keys: alice (prepares) and bob in the allowed signers, mallory not."""
    from tests.test_signing import keygen

    folder = tmp_path_factory.mktemp("keys")
    keys = {name: keygen(folder, name) for name in ("alice", "bob", "mallory")}
    lines = [f"{n} {Path(str(keys[n]) + '.pub').read_text().strip()}" for n in ("alice", "bob")]
    path = folder / "allowed_signers"
    path.write_text("\n".join(lines) + "\n")
    signers = Signers(path, parse_allowed_signers(path.read_text(), str(path)))
    people = {
        name: with_key(Operator.fixed(name, "bastion-1"), key_from_file(key, "test"), signers)
        for name, key in keys.items()
    }
    return signers, people


def item_decision(kind: str, release_id: str, item: str, n: int, signed: bool) -> NewEvent:
    """One decision of any kind on an item, recorded as it is (the checklist's rules are not
    the projection's business: it must equal the fold whatever the log holds)."""
    why = f"reason {n}"
    gate = {"release_id": release_id, "subject": GATE, "signed": signed, "reason": why}
    on = {"release_id": release_id, "subject": item, "signed": signed, "reason": why}
    intent = {"pid": 99999, "host": "elsewhere", "started_at": f"2026-11-23T00:0{n}:00Z"}
    made = {
        "done": NewEvent(action=ITEM_DONE, outcome="ok", **on),
        "skip": NewEvent(action=ITEM_SKIPPED, **on),
        "approve": NewEvent(action=GATE_APPROVED, details={"plan_sha256": "ab"[n % 2]}, **gate),
        "reject": NewEvent(action=GATE_REJECTED, **gate),
        "reopen": NewEvent(action=ITEM_REOPENED, details={"voids": [GATE]}, **on),
        "note": NewEvent(action=NOTE, release_id=release_id, reason=why, signed=signed),
        "failed": NewEvent(action=CHECK_FAILED, details={"seen": n, "expected": 0}, **on),
        "started": NewEvent(action=STEP_STARTED, details=intent, **on),
        "succeeded": NewEvent(action=STEP_SUCCEEDED, **on),
        "undo": NewEvent(action=STEP_UNDO_STARTED, details=intent, **on),
        "undo_failed": NewEvent(action=STEP_UNDO_FAILED, details={"error": why}, **on),
        "created": created(release_id, f"1.{n}.0"),
    }
    return replace(made[kind], signed=signed)


item_decisions = st.lists(
    st.tuples(
        st.sampled_from(
            [
                *("done", "skip", "approve", "approve", "reject", "reopen", "note", "failed"),
                *("started", "succeeded", "undo", "undo_failed", "created"),
            ]
        ),
        st.sampled_from(IDS[:2]),
        st.sampled_from(ITEMS),
        st.integers(0, 9),
        st.sampled_from(
            [
                *(("alice", False), ("alice", True), ("bob", True), ("bob", False)),
                *(("mallory", True), ("carol", False)),
            ]
        ),
    ),
    min_size=1,
    max_size=14,
)


def projected_items(store: Store, release_id: str | None = None) -> list[itemfacts.ItemFacts]:
    return store.read_with(lambda cursor, mark: itemfacts.read(cursor, mark, release_id))


def items_equal_the_fold(store: Store, signers: Signers) -> None:
    """The projected facts equal the fold of each release's events; judged, with the allowed
    signers and without, they give the full fold's item states; the release read for the
    checklist is the fold's (less its notes)."""
    for release_id in IDS[:2]:
        events = store.events(release_id=release_id)
        projected = projected_items(store, release_id)
        folded = fold_facts(events)
        assert {f.item_id: f.row() for f in projected} == {k: f.row() for k, f in folded.items()}
        if release_id not in fold(events):
            continue
        for judged_by in (signers, None):
            release, states = store.read_with(
                lambda c, m, r=release_id, s=judged_by: read_states(c, m, r, s)
            )
            assert states == fold_items(events, judged_by)
            assert release.as_dict() == fold(events)[release_id].as_dict() | {"notes": []}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=item_decisions)
def test_item_states_equal_the_fold_after_any_decisions(
    store: Store,
    team_keys: tuple[Signers, dict[str, Operator]],
    steps: list[tuple[str, str, str, int, Who]],
) -> None:
    # Decisions signed and unsigned, by the preparer, an approver, a signer the file does not
    # list and someone without a key; some in one transaction (a batch), some alone.
    signers, people = team_keys
    people = people | {"carol": Operator.fixed("carol", "bastion-2")}
    for release_id in IDS[:2]:
        if release_id not in {r.id for r in store.releases()}:
            store.append(created(release_id), people["alice"])
    for n, (kind, release_id, item, k, (who, signed)) in enumerate(steps):
        new = item_decision(kind, release_id, item, k, signed and who != "carol")
        if n % 3 == 2:  # with the next one, in one transaction
            store.append_many([new, item_decision("done", release_id, item, k, False)], people[who])
        else:
            store.append(new, people[who])
    items_equal_the_fold(store, signers)
    report = store.verify()
    assert report.problem is None or report.problem.code != PROJECTION_MISMATCH, report.problem


def test_an_edited_item_state_is_named_by_verify_and_rebuild_restores_it(store: Store) -> None:
    store.append(created(IDS[0]), alice)
    store.append(item_decision("done", IDS[0], ITEMS[0], 1, False), alice)
    store.append(item_decision("approve", IDS[0], ITEMS[0], 1, False), bob)
    before = projected_items(store)
    assert store.verify().ok
    # Behind the cockpit's back: the database's own client, not the cockpit's connection.
    if store.is_sqlite:
        path = store.url.removeprefix("sqlite:///")
        subprocess.run(
            [
                "sqlite3",
                path,
                "UPDATE item_states SET status = 'approved' WHERE item_id = 't3.approval'",
            ],
            check=True,
        )
    else:
        with store.engine.begin() as conn:
            conn.execute(
                text("UPDATE item_states SET status = 'approved' WHERE item_id = :i"), {"i": GATE}
            )
    report = store.verify()
    assert report.problem is not None and report.problem.code == PROJECTION_MISMATCH
    assert report.problem.seq == 3
    assert (
        f"item_states says release {IDS[0]} item {GATE} has status='approved', "
        "the log says 'awaiting'" in report.problem.message
    )
    # A row missing, and one the log never touched.
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM item_states WHERE item_id = 't14.requirements'"))
    assert f"release {IDS[0]} item t14.requirements is missing from item_states" in str(
        store.verify().problem
    )
    assert store.rebuild_projections() == 1
    assert projected_items(store) == before
    assert store.verify().ok
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO item_states (release_id, item_id, status, seq, signed, votes) "
                "VALUES (:r, 'ghost', 'done', 9, false, '[]')"
            ),
            {"r": IDS[0]},
        )
    assert f"lists release {IDS[0]} item ghost, which the log never touched" in str(
        store.verify().problem
    )


def test_the_checklist_reads_the_projection(store: Store) -> None:
    store.append(created(IDS[0]), alice)
    store.append(item_decision("done", IDS[0], ITEMS[0], 1, False), alice)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE item_states SET status = 'skipped'"))
    # The checklist (the app's, `release show`, `cockpit item`) reads the projection; verify
    # says it differs from the log.
    assert load_checklist(store, IDS[0]).state(ITEMS[0]).status is Status.SKIPPED
    assert fold_items(store.events(release_id=IDS[0]))[ITEMS[0]].status is Status.DONE
    assert store.verify().problem is not None


def test_an_upgrade_from_0003_fills_the_item_states(store: Store, db_url: str) -> None:
    store.append(created(IDS[0]), alice)
    store.append(item_decision("done", IDS[0], ITEMS[0], 1, False), alice)
    store.append(item_decision("approve", IDS[0], ITEMS[0], 2, False), bob)
    store.append(item_decision("started", IDS[0], ITEMS[2], 3, False), alice)
    want = projected_items(store)
    assert len(want) == 3
    # The database as revision 0003 left it: no item_states, events already in the log.
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE item_states"))
        conn.execute(text("DROP INDEX ix_events_release_action"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    store.close()
    again = Store(db_url).open()
    try:
        assert again.current_revision() == "0004"
        assert projected_items(again) == want
        assert again.verify().ok
        checklist = load_checklist(again, IDS[0])
        assert checklist.state(ITEMS[0]).status is Status.DONE
        assert checklist.state(GATE).approvals == [("bob", "a")]  # for another plan: void
    finally:
        again.close()
