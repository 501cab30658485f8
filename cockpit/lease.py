"""One driver per release: the lease (who drives, since when, until when), and audited takeover.

A lease is one row of ``leases`` (migration 0002) per release: the holder (the operator,
``name@host``), the process, a token, when it began, its last heartbeat and when it expires, in
seconds since the epoch on one clock: the database's on PostgreSQL (``clock_timestamp()``), this
host's on SQLite (the database is a file here). Every change except a heartbeat is also an event,
written in the same transaction as the row (``Store.append_many(also=...)``): the row changes
only if its events are recorded, and the events are recorded only if the row changed as they say.

- :func:`take`: a conditional upsert (the lease is free, expired, or already ours) whose row count
  says who won; a dead lease is recorded as ``lease.expired`` (heartbeat loss) first. Two
  operators taking at the same instant: appends are serialised on the chain head, and the loser's
  upsert finds the winner's live row, so nothing of the loser's is recorded.
- :func:`heartbeat` moves the expiry on (the row only, every ttl/3); ``False``: it is not ours any
  more (taken over).
- :func:`takeover` needs a reason; in production, a live lease also needs a second operator's
  ``lease.takeover_approved`` naming the taker (:func:`approve_takeover`), valid a few minutes,
  used once.
- :func:`require_driver` refuses a driving action (a step, a tick, a rollback, a tag) while
  another operator holds a live lease; the same operator from another process of theirs is the
  same driver.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cockpit.checklist import Refused, Why, actor_name
from cockpit.errors import AppendFailed, UsageError
from cockpit.events import Event, NewEvent
from cockpit.release import get_release
from cockpit.vocabulary import (
    LEASE_EXPIRED,
    LEASE_RELEASED,
    LEASE_TAKEN,
    LEASE_TAKEN_OVER,
    LEASE_TAKEOVER_APPROVED,
)

if TYPE_CHECKING:
    from cockpit.release import Release
    from cockpit.session import Session
    from cockpit.store import Store

DEFAULT_TTL = 30.0  # seconds a lease lives without a heartbeat
TTL_ENV = "COCKPIT_LEASE_TTL"
APPROVAL_VALID_S = 300.0  # how long a second operator's takeover approval stays usable

_COLUMNS = "release_id, holder, host, pid, token, since, heartbeat_at, expires_at"
_PG_NOW = "CAST(extract(epoch from clock_timestamp()) AS double precision)"
_SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"


@dataclass(frozen=True)
class Lease:
    release_id: str
    holder: str  # the operator, name@host
    host: str
    pid: int
    token: str  # this holder's proof for heartbeat and release (not in the events)
    since: str  # RFC 3339 UTC
    heartbeat_at: float  # epoch seconds on the lease clock
    expires_at: float

    @property
    def ttl(self) -> float:
        return self.expires_at - self.heartbeat_at

    def live(self, now: float) -> bool:
        return self.expires_at > now

    def as_dict(self) -> dict[str, Any]:
        """What the events say of a lease (never its token)."""
        return {
            "holder": self.holder,
            "host": self.host,
            "pid": self.pid,
            "since": self.since,
            "last_beat": _iso(self.heartbeat_at),
            "expires": _iso(self.expires_at),
        }


class LeaseChanged(AppendFailed):
    """The row was not as read when the write came (someone else was quicker): the append is
    refused, nothing recorded. The functions below turn it into a :class:`Refused`."""


def lease_ttl(environ: dict[str, str] | None = None) -> float:
    """The lease time-to-live: ``COCKPIT_LEASE_TTL`` seconds, default 30."""
    text = (os.environ if environ is None else environ).get(TTL_ENV, "")
    if not text:
        return DEFAULT_TTL
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1.0 <= value <= 3600.0:
        raise UsageError.said("lease.ttl", name=TTL_ENV, value=text)
    return value


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now_sql(store: Store) -> str:
    return _SQLITE_NOW if store.is_sqlite else _PG_NOW


def _mark(store: Store) -> str:
    """The driver's parameter mark."""
    return "?" if store.is_sqlite else "%s"


def current(store: Store, release_id: str) -> tuple[Lease | None, float]:
    """The release's lease row (live or not; ``None``: never taken, or released) and the lease
    clock's now, read together."""
    mark = _mark(store)
    sql = (
        f"SELECT n.now, {', '.join('l.' + c.strip() for c in _COLUMNS.split(','))} "
        f"FROM (SELECT {_now_sql(store)} AS now) n "
        f"LEFT JOIN leases l ON l.release_id = {mark}"
    )

    def read(cursor: Any, _mark: str) -> Any:
        cursor.execute(sql, (release_id,))
        return cursor.fetchone()

    row = store.read_with(read)
    assert row is not None
    now = float(row[0])
    if row[1] is None:
        return None, now
    rid, holder, host, pid, token, since, beat, expires = row[1:]
    return Lease(rid, holder, host, int(pid), token, since, float(beat), float(expires)), now


def since_text(session: Session, lease: Lease, now: float | None = None) -> str:
    """When the lease began, as the cockpit shows moments: ``01:02 JST``, with the date when it
    began on another day."""
    times = session.times
    began = times.at(lease.since)
    today = datetime.fromtimestamp(now, times.tz) if now is not None else datetime.now(times.tz)
    return times.show(began, "clock" if began.date() == today.date() else "short")


def driven_by(session: Session, lease: Lease, now: float | None = None) -> str:
    """``driven by alice@bastion-1 since 01:02 (JST)`` in the operator's language."""
    return session.t("lease.driven", holder=lease.holder, since=since_text(session, lease, now))


def other_driver(session: Session, release_id: str) -> tuple[Lease, float] | None:
    """Another operator's live lease on the release (and the clock's now), if there is one."""
    held, now = current(session.store, release_id)
    if held is None or not held.live(now) or held.holder == session.operator.actor:
        return None
    return held, now


def require_driver(session: Session, release_id: str) -> None:
    """Refused while another operator drives the release (a live lease not ours)."""
    found = other_driver(session, release_id)
    if found is not None:
        raise _driven(session, *found)


def _driven(session: Session, held: Lease, now: float) -> Refused:
    """``driven by alice@bastion-1 since 01:02 (JST); take it over with ...``"""
    values = {"holder": held.holder, "since": since_text(session, held, now)}
    return Refused(Why("driven", {**values, "release": held.release_id}).text(session.lang))


# ------------------------------------------------------------------------ writing


def _event(release: Release, action: str, **fields: Any) -> NewEvent:
    return NewEvent(action=action, release_id=release.id, rehearsal=release.rehearsal, **fields)


def _db_now(cursor: Any, store: Store) -> float:
    cursor.execute(f"SELECT {_now_sql(store)}")
    return float(cursor.fetchone()[0])


def _writer(
    session: Session, release_id: str, ttl: float, seen: Lease | None, *, dead_only: bool
) -> tuple[Callable[[Any], None], list[Lease]]:
    """The row change that goes with the events: our lease in place of ``seen`` (none, or the
    row as read), only if the row is still ``seen`` (and, ``dead_only``, still expired). The
    upsert's row count says whether we won; the lease written lands in the returned list."""
    store, operator = session.store, session.operator
    written: list[Lease] = []

    def write(cursor: Any) -> None:
        mark = _mark(store)
        now = _db_now(cursor, store)
        mine = Lease(
            release_id,
            operator.actor,
            operator.host.value,
            os.getpid(),
            str(uuid.uuid4()),
            _iso(now),
            now,
            now + ttl,
        )
        marks = ", ".join([mark] * 8)
        update = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
        sql = (
            f"INSERT INTO leases ({_COLUMNS}) VALUES ({marks}) ON CONFLICT (release_id) "
            f"DO UPDATE SET {update} WHERE leases.token = {mark}"
        )
        params: list[Any] = [*_row(mine), seen.token if seen else None]
        if dead_only:
            sql += f" AND leases.expires_at <= {mark}"
            params.append(now)
        cursor.execute(sql, tuple(params))
        if cursor.rowcount != 1:
            raise LeaseChanged(f"the lease of {release_id} changed meanwhile")
        written.append(mine)

    return write, written


def _row(lease: Lease) -> tuple[Any, ...]:
    return (
        lease.release_id,
        lease.holder,
        lease.host,
        lease.pid,
        lease.token,
        lease.since,
        lease.heartbeat_at,
        lease.expires_at,
    )


def _open_release(session: Session, release_text: str) -> Release:
    release = get_release(session.store, release_text)
    if release.status != "open":
        raise Refused.said("lease.closed", release=release.id, status=release.status)
    return release


def take(session: Session, release_text: str, *, ttl: float | None = None) -> tuple[Lease, bool]:
    """Drive the release: ``(lease, True)`` when this process took it now, ``(lease, False)``
    when this operator already holds it live (from another process: the same driver, nothing
    recorded). Refused, naming the driver, when another operator holds a live lease."""
    release = _open_release(session, release_text)
    life = lease_ttl() if ttl is None else ttl
    for _attempt in (1, 2):  # a second look when someone was quicker
        held, now = current(session.store, release.id)
        if held is not None and held.live(now):
            if held.holder == session.operator.actor:
                return held, False
            raise _driven(session, held, now)
        batch = []
        if held is not None:
            batch.append(_expired_event(release, held, now))
        details = {"holder": session.operator.actor, "pid": os.getpid(), "ttl_s": life}
        batch.append(_event(release, LEASE_TAKEN, subject=session.operator.actor, details=details))
        write, written = _writer(session, release.id, life, held, dead_only=True)
        if _recorded(session, batch, write):
            return written[0], True
    raise _changed(release.id)


def _recorded(session: Session, batch: list[NewEvent], write: Callable[[Any], None]) -> bool:
    """Append the events with the row change; ``False`` when the row had changed meanwhile
    (nothing recorded)."""
    try:
        session.store.append_many(batch, session.operator, also=write)
    except LeaseChanged:
        return False
    return True


def _changed(release_id: str) -> Refused:
    return Refused(f"the lease of {release_id} changed while it was taken: look again")


def _expired_event(release: Release, dead: Lease, now: float) -> NewEvent:
    """Heartbeat loss: the dead lease, its holder and its last beat, found by the next taker."""
    return _event(
        release,
        LEASE_EXPIRED,
        subject=dead.holder,
        outcome="expired",
        details={
            **dead.as_dict(),
            "cause": "heartbeat loss",
            "silent_s": round(now - dead.heartbeat_at, 1),
        },
    )


def heartbeat(store: Store, lease: Lease) -> bool:
    """Move the expiry on by the lease's ttl (the row only, no event). ``False``: the lease is
    not ours any more (taken over, or released)."""
    mark = _mark(store)
    now = _now_sql(store)
    sql = (
        f"UPDATE leases SET heartbeat_at = {now}, expires_at = {now} + {mark} "
        f"WHERE release_id = {mark} AND token = {mark}"
    )
    with store._connect(write=True) as conn, conn.begin():
        result = conn.exec_driver_sql(sql, (lease.ttl, lease.release_id, lease.token))
        return bool(result.rowcount == 1)


def release(session: Session, release_text: str, lease: Lease | None = None) -> Event:
    """Let go of the lease: this one (its token), or, without one, the lease this operator
    holds. Refused when it is not ours."""
    store, operator = session.store, session.operator
    rel = get_release(store, release_text)
    held, _now = current(store, rel.id)
    if held is None or (lease is not None and held.token != lease.token):
        raise Refused.said("lease.gone", release=rel.id)
    if held.holder != operator.actor:
        raise Refused.said("lease.not_yours", release=rel.id, holder=held.holder, me=operator.actor)

    def delete(cursor: Any) -> None:
        mark = _mark(store)
        cursor.execute(
            f"DELETE FROM leases WHERE release_id = {mark} AND token = {mark}",
            (rel.id, held.token),
        )
        if cursor.rowcount != 1:
            raise LeaseChanged(f"{rel.id}: this lease is not held here any more")

    event = _event(rel, LEASE_RELEASED, subject=held.holder, details=held.as_dict())
    try:
        return store.append_many([event], operator, also=delete)[0]
    except LeaseChanged as exc:
        raise Refused(str(exc)) from None


# ------------------------------------------------------------------------ takeover


def approve_takeover(
    session: Session, release_text: str, taker: str, reason: str | None = None
) -> Event:
    """A second operator approves ``taker`` (``bob`` or ``bob@bastion-2``) taking the release
    over; valid :data:`APPROVAL_VALID_S` seconds, for one takeover."""
    store, operator = session.store, session.operator
    taker = taker.strip()
    if not taker:
        raise UsageError.said("lease.for")
    if actor_name(taker) == operator.name:
        raise Refused.said("lease.own_takeover", name=operator.name)
    rel = _open_release(session, release_text)
    _held, now = current(store, rel.id)
    details = {"taker": taker, "valid_s": APPROVAL_VALID_S, "valid_until": now + APPROVAL_VALID_S}
    # With allowed signers, the approval must prove who gave it (as a gate approval must).
    event = _event(
        rel,
        LEASE_TAKEOVER_APPROVED,
        subject=taker,
        reason=reason or None,
        details=details,
        signed=store.signers is not None,
    )
    return store.append(event, operator)


def _approval(session: Session, release_id: str, now: float) -> Event | None:
    """A usable approval for this operator to take over: by someone else, naming them, not
    expired, not used by an earlier takeover."""
    from cockpit.identity import identity_verified

    me, signers = session.operator, session.store.signers
    found = session.store.events(
        release_id=release_id, actions=(LEASE_TAKEOVER_APPROVED, LEASE_TAKEN_OVER)
    )
    used = {ev.details_obj.get("approval_seq") for ev in found if ev.action == LEASE_TAKEN_OVER}
    for ev in reversed(found):
        if ev.action != LEASE_TAKEOVER_APPROVED or ev.seq in used:
            continue
        taker = str(ev.subject or "")
        named = taker == me.actor if "@" in taker else taker == me.name
        fresh = float(ev.details_obj.get("valid_until") or 0) > now
        proven = signers is None or identity_verified(ev, signers)  # not a forged row
        if named and fresh and proven and actor_name(ev.actor) != me.name:
            return ev
    return None


def takeover(
    session: Session, release_text: str, reason: str, *, ttl: float | None = None
) -> Lease:
    """Take the release over from its driver, saying why (``lease.taken_over``, the previous
    holder in its details). In production a live lease needs a second operator's approval
    (:func:`approve_takeover`); a dead one (heartbeat loss) does not. A free lease is simply
    taken."""
    if not (reason and reason.strip()):
        raise UsageError.said("lease.takeover_reason")
    release = _open_release(session, release_text)
    store, operator = session.store, session.operator
    life = lease_ttl() if ttl is None else ttl
    for _attempt in (1, 2):  # a second look when someone was quicker
        held, now = current(store, release.id)
        if held is None or held.holder == operator.actor:
            return take(session, release.id, ttl=life)[0]
        live = held.live(now)
        details: dict[str, Any] = {"previous": held.as_dict(), "expired": not live, "ttl_s": life}
        batch = [] if live else [_expired_event(release, held, now)]
        if live and session.loaded.environment(release.environment).production:
            approval = _approval(session, release.id, now)
            if approval is None:
                raise Refused(
                    Why(
                        "takeover_approval",
                        {"holder": held.holder, "release": release.id, "taker": operator.actor},
                    ).text(session.lang)
                )
            details |= {"approval_seq": approval.seq, "approved_by": approval.actor}
        batch.append(
            _event(
                release,
                LEASE_TAKEN_OVER,
                subject=operator.actor,
                reason=reason.strip(),
                details=details,
            )
        )
        write, written = _writer(session, release.id, life, held, dead_only=not live)
        if _recorded(session, batch, write):
            return written[0]
    raise _changed(release.id)
