"""Item facts: what a release's events say about each checklist item, before any reader judges it.

The checklist's fold has two halves. :class:`ItemFactsFold` folds the *facts* of each (release,
item): its status as the events left it, who decided it last, when, the seq of that decision and
whether it carries a signature, the open intent, a failed check's ``seen``/``expected``, and each
approval of a gate (its seq, who, the plan it approved, whether it is signed, the release's
creation before it) and each void by a reopened item, in order. Nothing here depends on who reads:
the reader's allowed signers decide which approvals count (:func:`cockpit.itemstate.judge`, which
fetches the few signed events by seq and verifies them).

The facts are also a projection: the ``item_states`` table (migration 0004), one row per (release,
item), written by :func:`apply` in each append's transaction, rebuilt from the log by
:func:`rebuild_with` (``cockpit db rebuild``) and compared with the fold by ``cockpit audit
verify`` (:func:`first_difference`: ``PROJECTION_MISMATCH`` naming the release, the item and the
first field that differs). Functions take a DB-API cursor and its parameter mark.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, astuple, dataclass, field
from typing import Any

from cockpit.events import Event
from cockpit.identity import actor_name
from cockpit.verify import Finding
from cockpit.vocabulary import (
    CHECK_FAILED,
    CHECK_STARTED,
    GATE_APPROVED,
    GATE_REJECTED,
    ITEM_DONE,
    ITEM_REOPENED,
    ITEM_SKIPPED,
    RELEASE_CREATED,
    STEP_CANCELLED,
    STEP_FAILED,
    STEP_STARTED,
    STEP_SUCCEEDED,
    STEP_UNDO_FAILED,
    STEP_UNDO_SKIPPED,
    STEP_UNDO_STARTED,
    STEP_UNDONE,
)


class Status(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    AWAITING = "awaiting"  # a gate with some, not enough, approvals
    APPROVED = "approved"
    REJECTED = "rejected"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # started, no outcome recorded (a crash, a kill -9)
    RUNNING = "running"  # started, no outcome yet, and the process doing it is alive
    UNDONE = "undone"  # a step reversed by a rollback
    CANCELLED = "cancelled"  # a step stopped on an operator's request
    UNDOING = "undoing"  # its undo started, and the process doing it is alive
    UNDO_INTERRUPTED = "undo_interrupted"  # its undo started, no outcome, the process gone
    UNDO_FAILED = "undo_failed"  # its undo failed: retry (roll back again) or skip it


# The decisions that set an item's status, and the status each leaves.
_OUTCOMES = {
    ITEM_DONE: Status.DONE,
    STEP_SUCCEEDED: Status.DONE,
    CHECK_FAILED: Status.FAILED,
    STEP_FAILED: Status.FAILED,
    STEP_CANCELLED: Status.CANCELLED,
    ITEM_SKIPPED: Status.SKIPPED,
    ITEM_REOPENED: Status.PENDING,
    GATE_APPROVED: Status.AWAITING,
    GATE_REJECTED: Status.REJECTED,
    STEP_UNDONE: Status.UNDONE,
    STEP_UNDO_SKIPPED: Status.DONE,  # left as it is: the step's effect stays
}
_KINDS = frozenset({"item", "gate", "check", "step"})


@dataclass
class Vote:
    """An approval of a gate (``by``, the plan's ``sha``, ``signed``, ``prep``: the seq of the
    release's creation before it, whose actor is the preparer), or, with ``void``, the reopening
    of the item ``void`` that voided the approvals before it."""

    seq: int
    by: str = ""
    sha: str = ""
    signed: bool = False
    prep: int = 0
    void: str = ""


@dataclass
class ItemFacts:
    """One (release, item) as its events leave it; ``seq``: the last decision (``signed``: it
    carries a signature); ``intent_seq``: the event whose details are the running intent."""

    release_id: str
    item_id: str
    status: str = Status.PENDING.value
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None
    seq: int = 0
    signed: bool = False
    open_intent: int | None = None
    intent_seq: int | None = None
    seen: str | None = None
    expected: str | None = None
    votes: list[Vote] = field(default_factory=list)

    def row(self) -> tuple[Any, ...]:
        """The table's row (:data:`FIELDS` order); the votes as canonical JSON."""
        values = astuple(self)[:-1]
        return (*values, json.dumps([_vote_obj(v) for v in self.votes], separators=(",", ":")))

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> ItemFacts:
        values = dict(zip(FIELDS, row, strict=True))
        values["signed"] = bool(values["signed"])
        values["votes"] = [Vote(**v) for v in json.loads(values["votes"])]
        return cls(**values)


def _vote_obj(vote: Vote) -> dict[str, Any]:
    """A vote as the table keeps it: only the fields it has."""
    return {k: v for k, v in asdict(vote).items() if v or k == "seq"}


def step(facts_of: Callable[[str], ItemFacts], ev: Event, prep: int) -> None:
    """Carry one event of a release into the facts of its items (``facts_of(item_id)`` gives
    an item's facts, new when it has none); ``prep``: the seq of the release's creation."""
    if not ev.subject or ev.action.split(".")[0] not in _KINDS:
        return
    facts = facts_of(ev.subject)
    who, when = actor_name(ev.actor), ev.recorded_at
    if ev.action in {CHECK_STARTED, STEP_STARTED}:
        facts.open_intent, facts.status = ev.seq, Status.INTERRUPTED.value
        facts.decided_by, facts.decided_at = who, when
        facts.intent_seq = ev.seq if ev.action == STEP_STARTED else None
        return
    if ev.action == STEP_UNDO_STARTED:
        # Like a step's intent: interrupted until an outcome, running while its process is.
        facts.status, facts.intent_seq = Status.UNDO_INTERRUPTED.value, ev.seq
        facts.decided_by, facts.decided_at = who, when
        return
    if ev.action == STEP_UNDO_FAILED:
        facts.status = Status.UNDO_FAILED.value
        facts.reason = str(ev.details_obj.get("error") or "")
        facts.open_intent, facts.intent_seq, facts.decided_by, facts.decided_at = (
            None,
            None,
            who,
            when,
        )
        return
    status = _OUTCOMES.get(ev.action)
    if status is None:
        return
    facts.status = status.value
    if ev.action == ITEM_REOPENED:
        for gate in ev.details_obj.get("voids", []):  # they approved it done: void
            voided = facts_of(gate)
            voided.votes.append(Vote(ev.seq, void=ev.subject))
            if voided.status in {Status.AWAITING, Status.APPROVED}:
                voided.status = Status.PENDING.value
    elif ev.action == GATE_APPROVED:
        sha = str(ev.details_obj.get("plan_sha256", ""))
        facts.votes.append(Vote(ev.seq, who, sha, ev.signature is not None, prep))
    facts.open_intent, facts.intent_seq = None, None
    facts.decided_by, facts.decided_at, facts.reason, facts.seq = who, when, ev.reason, ev.seq
    facts.signed = ev.signature is not None
    found = ev.details_obj if ev.action == CHECK_FAILED else {}
    facts.seen, facts.expected = (
        (str(found["seen"]), str(found["expected"])) if "seen" in found else (None, None)
    )


class ItemFactsFold:
    """The facts of every (release, item), folded one event at a time (verify feeds it the rows
    it streams, to compare with the projection)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], ItemFacts] = {}
        self.preparers: dict[str, int] = {}  # release -> the seq of its latest creation

    def add(self, ev: Event) -> None:
        release_id = ev.release_id
        if release_id is None:
            return
        if ev.action == RELEASE_CREATED:
            self.preparers[release_id] = ev.seq
            return

        def facts_of(item_id: str, release_id: str = release_id) -> ItemFacts:
            key = (release_id, item_id)
            if key not in self.items:
                self.items[key] = ItemFacts(release_id, item_id)
            return self.items[key]

        step(facts_of, ev, self.preparers.get(release_id, 0))

    def add_row(self, row: Sequence[Any]) -> None:
        """:meth:`add` from a stored row (COLUMNS order), making an :class:`Event` only for the
        rows that may change facts."""
        release_id, action, subject = row[4], row[5], row[6]
        if release_id is None or not (action == RELEASE_CREATED or subject):
            return
        if action == RELEASE_CREATED or action.split(".")[0] in _KINDS:
            self.add(Event.from_row(row))


def fold_facts(events: Iterable[Event]) -> dict[str, ItemFacts]:
    """The facts of each item of one release, from its events (the reference the projection
    must equal), keyed by item id in the order items first appear."""
    folder = ItemFactsFold()
    for ev in events:
        folder.add(ev)
    return {item_id: facts for (_, item_id), facts in folder.items.items()}


TABLE = "item_states"
FIELDS = (
    "release_id",
    "item_id",
    "status",
    "decided_by",
    "decided_at",
    "reason",
    "seq",
    "signed",
    "open_intent",
    "intent_seq",
    "seen",
    "expected",
    "votes",
)
_COLUMNS = ", ".join(FIELDS)
_KEY = ("release_id", "item_id")
PROJECTION_MISMATCH = "PROJECTION_MISMATCH"


def apply(cursor: Any, mark: str, events: Iterable[Event]) -> None:
    """Carry ``events`` (just inserted, ascending seq) into ``item_states``: each item they
    touch read once, folded, written once. Runs before the release summaries move, so the
    creation a release's summary names is the one before these events."""
    preparers: dict[str, int] = {}
    loaded: dict[tuple[str, str], tuple[tuple[Any, ...] | None, ItemFacts]] = {}
    for ev in events:
        release_id = ev.release_id
        if release_id is None:
            continue
        if ev.action == RELEASE_CREATED:
            preparers[release_id] = ev.seq
            continue
        if not ev.subject or ev.action.split(".")[0] not in _KINDS:
            continue
        if release_id not in preparers:
            cursor.execute(
                f"SELECT created_seq FROM release_summaries WHERE release_id = {mark}",
                (release_id,),
            )
            found = cursor.fetchone()
            preparers[release_id] = 0 if found is None else int(found[0])

        def facts_of(item_id: str, release_id: str = release_id) -> ItemFacts:
            key = (release_id, item_id)
            if key not in loaded:
                where = f"release_id = {mark} AND item_id = {mark}"
                cursor.execute(f"SELECT {_COLUMNS} FROM {TABLE} WHERE {where}", key)
                row = cursor.fetchone()
                facts = ItemFacts(*key) if row is None else ItemFacts.from_row(tuple(row))
                loaded[key] = (None if row is None else facts.row(), facts)
            return loaded[key][1]

        step(facts_of, ev, preparers[release_id])
    changed = [facts.row() for before, facts in loaded.values() if facts.row() != before]
    if changed:
        updates = ", ".join(f"{f} = excluded.{f}" for f in FIELDS if f not in _KEY)
        cursor.executemany(
            f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({', '.join([mark] * len(FIELDS))}) "
            f"ON CONFLICT (release_id, item_id) DO UPDATE SET {updates}",
            changed,
        )


def write_all(cursor: Any, mark: str, folder: ItemFactsFold) -> None:
    """Replace ``item_states`` with a fold of the whole log (``cockpit db rebuild``), in the
    caller's transaction."""
    cursor.execute(f"DELETE FROM {TABLE}")
    rows = [facts.row() for facts in folder.items.values()]
    if rows:
        marks = ", ".join([mark] * len(FIELDS))
        cursor.executemany(f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({marks})", rows)


def read(cursor: Any, mark: str, release_id: str | None = None) -> list[ItemFacts]:
    """The projected facts (of one release when ``release_id`` is given)."""
    where = "" if release_id is None else f"WHERE release_id = {mark}"
    params = () if release_id is None else (release_id,)
    cursor.execute(f"SELECT {_COLUMNS} FROM {TABLE} {where} ORDER BY release_id, item_id", params)
    return [ItemFacts.from_row(tuple(row)) for row in cursor.fetchall()]


def first_difference(
    projected: list[ItemFacts], folded: dict[tuple[str, str], ItemFacts]
) -> Finding | None:
    """The first (release, item), in the order the log first touched them, whose projected row
    differs from the fold, naming the field and both values; ``None`` when they are equal."""
    rows = {(f.release_id, f.item_id): f for f in projected}
    for key, want in folded.items():
        have = rows.pop(key, None)
        where = f"release {key[0]} item {key[1]}"
        if have is None:
            return Finding(
                PROJECTION_MISMATCH, _seq(want), f"{where} is missing from {TABLE}: {_REBUILD}"
            )
        for name, mine, theirs in zip(FIELDS, have.row(), want.row(), strict=True):
            if mine != theirs:
                return Finding(
                    PROJECTION_MISMATCH,
                    _seq(want),
                    f"{TABLE} says {where} has {name}={mine!r}, the log says {theirs!r}: "
                    + _REBUILD,
                )
    for extra in rows.values():
        return Finding(
            PROJECTION_MISMATCH,
            _seq(extra),
            f"{TABLE} lists release {extra.release_id} item {extra.item_id}, which the log "
            f"never touched: {_REBUILD}",
        )
    return None


_REBUILD = "run `cockpit db rebuild`"


def _seq(facts: ItemFacts) -> int:
    """The seq a finding names: the item's last decision, else its intent."""
    return facts.seq or facts.open_intent or facts.intent_seq or 0
