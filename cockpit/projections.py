"""Projections: tables derived from the events, in the same transaction as each append.

``release_summaries`` holds one row per release (what :func:`cockpit.release.fold` gives, less
the notes): written by :func:`apply` inside :meth:`cockpit.store.Store.append_many`'s
transaction, so it can never lag the log; rebuilt from the log by :func:`rebuild_with`
(``cockpit db rebuild``, migration 0003); compared with the fold by ``cockpit audit verify``
(:func:`first_difference`), which names the first release and field that differ. The fold stays
the reference: the projection is a cache of it that reads come from (``release list``, the
dashboard, the lookup of a release id). Functions take a DB-API cursor and its parameter mark.

``item_states`` (:mod:`cockpit.itemfacts`, migration 0004) moves with it: :func:`apply` and
:func:`rebuild_with` carry both, and :func:`items_difference` compares it with the fold of the
items' facts. :func:`read_detail` and :func:`events_at` serve the checklist's reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cockpit import itemfacts
from cockpit.chain import COLUMNS
from cockpit.events import Event
from cockpit.itemfacts import PROJECTION_MISMATCH as PROJECTION_MISMATCH
from cockpit.itemfacts import ItemFactsFold
from cockpit.verify import Finding
from cockpit.vocabulary import (
    EMERGENCY_APPROVED,
    NOTE,
    RELEASE_CANCELLED,
    RELEASE_CLOSED,
    RELEASE_CREATED,
    VERSION_CHOSEN,
)


@dataclass
class Release:
    """The state of one release, as folded from its events."""

    id: str
    plan: str
    environment: str
    version: str
    t0: str
    rehearsal: bool
    created_by: str
    created_at: str
    created_seq: int
    zone: str = ""
    status: str = "open"
    last_seq: int = 0
    last_action: str = ""
    event_count: int = 0
    notes: list[dict[str, Any]] = field(default_factory=list)
    # An emergency release: its criterion and reason; the committee members who approved it
    # (the fold's, like the notes: the projection's table leaves them out).
    emergency: dict[str, Any] | None = None
    emergency_approved_by: list[str] = field(default_factory=list)

    def t0_at(self) -> datetime:
        """T-0 in its named zone (so due dates across a DST change keep their wall-clock time)."""
        when = datetime.fromisoformat(self.t0)
        return when.astimezone(ZoneInfo(self.zone)) if self.zone else when

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "plan": self.plan,
            "environment": self.environment,
            "version": self.version,
            "t0": self.t0,
            "rehearsal": self.rehearsal,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "created_seq": self.created_seq,
            "last_seq": self.last_seq,
            "last_action": self.last_action,
            "event_count": self.event_count,
            "notes": self.notes,
            "emergency": self.emergency,
            "emergency_approved_by": self.emergency_approved_by,
        }


# Actions that end a release, and the status they leave it in.
_TERMINAL = {RELEASE_CLOSED: "closed", RELEASE_CANCELLED: "cancelled"}


class ReleaseFold:
    """The fold, one event at a time (:func:`fold` over a whole list; ``cockpit audit verify``
    feeds it the rows it streams, to compare with the projection)."""

    def __init__(self, *, notes: bool = True, items: bool = False) -> None:
        self.releases: dict[str, Release] = {}
        self.notes = notes  # keep each release's notes (verify leaves them: bounded memory)
        # The facts of each release's items too (verify compares them with item_states).
        self.items = ItemFactsFold() if items else None

    def add(self, ev: Event) -> None:
        if ev.release_id is None:
            return
        if ev.action == RELEASE_CREATED:
            d = ev.details_obj
            # An id created again starts again, in its new place (creation order is by seq).
            self.releases.pop(ev.release_id, None)
            self.releases[ev.release_id] = Release(
                id=ev.release_id,
                plan=d["plan"],
                environment=d["environment"],
                version=d["version"],
                t0=d["t0"],
                rehearsal=ev.rehearsal,
                created_by=ev.actor,
                created_at=ev.recorded_at,
                created_seq=ev.seq,
                zone=d.get("zone", ""),
                emergency=d.get("emergency"),
            )
        release = self.releases.get(ev.release_id)
        if release is None:
            return
        release.last_seq, release.last_action = ev.seq, ev.action
        release.event_count += 1
        if ev.action == VERSION_CHOSEN:
            release.version = ev.details_obj["version"]
        if ev.action == NOTE and self.notes:
            release.notes.append(_note(ev))
        if ev.action == EMERGENCY_APPROVED:
            release.emergency_approved_by.append(ev.actor)
        if ev.action in _TERMINAL:
            release.status = _TERMINAL[ev.action]

    def add_row(self, row: Sequence[Any]) -> None:
        """:meth:`add` (and the items' facts, when kept) from a stored row (:data:`COLUMNS`
        order), making an :class:`Event` only for the rows that change more than the counts
        (verify streams every row)."""
        release_id, action = row[4], row[5]
        if release_id is None:
            return
        if self.items is not None:
            self.items.add_row(row)
        if action in _CHANGING or (action == NOTE and self.notes):
            self.add(Event.from_row(row))
            return
        release = self.releases.get(release_id)
        if release is not None:
            release.last_seq, release.last_action = row[0], action
            release.event_count += 1


def _note(ev: Event) -> dict[str, Any]:
    return {"seq": ev.seq, "at": ev.recorded_at, "by": ev.actor, "text": ev.reason}


# The actions that change a release beyond its last event and count.
_CHANGING = frozenset({RELEASE_CREATED, VERSION_CHOSEN, EMERGENCY_APPROVED, *_TERMINAL})


def fold(events: Iterable[Event]) -> dict[str, Release]:
    """Every release in ``events``, keyed by id, in creation order: the reference the
    projection (:mod:`cockpit.projections`) must equal."""
    folder = ReleaseFold()
    for ev in events:
        folder.add(ev)
    return folder.releases


TABLE = "release_summaries"
# The table's columns, in order; each a field of Release (release_id is Release.id).
FIELDS = (
    "id",
    "plan",
    "environment",
    "version",
    "t0",
    "zone",
    "rehearsal",
    "status",
    "created_by",
    "created_at",
    "created_seq",
    "last_seq",
    "last_action",
    "event_count",
)
_COLUMNS = ", ".join("release_id" if f == "id" else f for f in FIELDS)
_BATCH = 5_000


def apply(cursor: Any, mark: str, events: Sequence[Event]) -> None:
    """Carry ``events`` (just inserted, ascending seq) into the projections: the items first
    (an approval names the release's creation before it, which a creation in the same batch
    replaces in release_summaries)."""
    itemfacts.apply(cursor, mark, events)
    for ev in events:
        if ev.release_id is None:
            continue
        if ev.action == RELEASE_CREATED:
            # A second creation under the same id starts the release again, as the fold does.
            cursor.execute(f"DELETE FROM {TABLE} WHERE release_id = {mark}", (ev.release_id,))
            release = ReleaseFold(notes=False)
            release.add(ev)
            _insert(cursor, mark, release.releases.values())
            continue
        version = ev.details_obj["version"] if ev.action == VERSION_CHOSEN else None
        cursor.execute(
            f"UPDATE {TABLE} SET last_seq = {mark}, last_action = {mark}, "
            f"event_count = event_count + 1, version = COALESCE({mark}, version), "
            f"status = COALESCE({mark}, status) WHERE release_id = {mark}",
            (ev.seq, ev.action, version, _TERMINAL.get(ev.action), ev.release_id),
        )


def _insert(cursor: Any, mark: str, releases: Iterable[Release]) -> None:
    marks = ", ".join([mark] * len(FIELDS))
    rows = [tuple(getattr(r, f) for f in FIELDS) for r in releases]
    if rows:
        cursor.executemany(f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({marks})", rows)


def stream_events(cursor: Any, where: str = "", params: Sequence[Any] = ()) -> Iterable[Event]:
    """Events in seq order, fetched in batches (bounded memory)."""
    cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM events {where} ORDER BY seq", params)
    while batch := cursor.fetchmany(_BATCH):
        for row in batch:
            yield Event.from_row(tuple(row))


def rebuild_with(cursor: Any, mark: str, *, summaries: bool = True, items: bool = True) -> int:
    """Derive the projections again from the log (in the caller's transaction): the release
    summaries and the item states, or one of them (the migration that made it); the number of
    releases."""
    releases, facts = ReleaseFold(notes=False), ItemFactsFold()
    for ev in stream_events(cursor, "WHERE release_id IS NOT NULL"):
        releases.add(ev)
        if items:
            facts.add(ev)
    if summaries:
        cursor.execute(f"DELETE FROM {TABLE}")
        _insert(cursor, mark, releases.releases.values())
    if items:
        itemfacts.write_all(cursor, mark, facts)
    return len(releases.releases)


def events_at(cursor: Any, mark: str, seqs: Iterable[int]) -> dict[int, Event]:
    """The events at these seqs, by seq (the few a reader verifies)."""
    wanted = sorted(set(seqs))
    found: dict[int, Event] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join([mark] * len(chunk))
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM events WHERE seq IN ({marks})", chunk)
        found |= {int(row[0]): Event.from_row(tuple(row)) for row in cursor.fetchall()}
    return found


def read_detail(cursor: Any, mark: str, release_id: str, *, notes: bool = False) -> Release:
    """One release as :func:`fold` gives it, from its projected row and only the events its
    row leaves out: its creation (an emergency's criterion), the committee's approvals and,
    with ``notes``, its notes; never its whole history. ``KeyError`` when it is not there."""
    rows = read(cursor, mark, release_id)
    if not rows:
        raise KeyError(release_id)
    release = rows[0]
    actions = (EMERGENCY_APPROVED, NOTE) if notes else (EMERGENCY_APPROVED,)
    marks = ", ".join([mark] * len(actions))
    found = events_at(cursor, mark, [release.created_seq])
    created = found.get(release.created_seq)
    release.emergency = None if created is None else created.details_obj.get("emergency")
    for ev in stream_events(
        cursor,
        f"WHERE release_id = {mark} AND seq > {mark} AND action IN ({marks})",
        (release_id, release.created_seq, *actions),
    ):
        if ev.action == NOTE:
            release.notes.append(_note(ev))
        else:
            release.emergency_approved_by.append(ev.actor)
    return release


def read(cursor: Any, mark: str, release_id: str | None = None) -> list[Release]:
    """Releases from the projection, in creation order (one when ``release_id`` is given)."""
    where = "" if release_id is None else f"WHERE release_id = {mark}"
    params = () if release_id is None else (release_id,)
    cursor.execute(f"SELECT {_COLUMNS} FROM {TABLE} {where} ORDER BY created_seq", params)
    return [_release(row) for row in cursor.fetchall()]


def _release(row: Sequence[Any]) -> Release:
    values = dict(zip(FIELDS, row, strict=True))
    values["rehearsal"] = bool(values["rehearsal"])
    return Release(**values)


def items_difference(cursor: Any, mark: str, folded: ReleaseFold) -> Finding | None:
    """The first item whose ``item_states`` row differs from the fold of its facts (verify, in
    its snapshot, after a full walk with ``ReleaseFold(items=True)``)."""
    assert folded.items is not None
    return itemfacts.first_difference(itemfacts.read(cursor, mark), folded.items.items)


def first_difference(projected: list[Release], folded: dict[str, Release]) -> Finding | None:
    """The first release (in creation order) whose projected row differs from the fold, naming
    the field and both values; ``None`` when they are equal."""
    rows = {r.id: r for r in projected}
    for release_id, want in folded.items():
        have = rows.pop(release_id, None)
        if have is None:
            return Finding(
                PROJECTION_MISMATCH,
                want.created_seq,
                f"release {release_id} is missing from {TABLE}: run `cockpit db rebuild`",
            )
        for name in FIELDS:
            if getattr(have, name) != getattr(want, name):
                return Finding(
                    PROJECTION_MISMATCH,
                    want.created_seq,
                    f"{TABLE} says release {release_id} has {name}={getattr(have, name)!r}, "
                    f"the log says {getattr(want, name)!r}: run `cockpit db rebuild`",
                )
    for extra in rows.values():
        return Finding(
            PROJECTION_MISMATCH,
            extra.created_seq,
            f"{TABLE} lists release {extra.id}, which the log never created: "
            "run `cockpit db rebuild`",
        )
    return None
