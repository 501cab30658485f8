"""Releases: created by a ``release.created`` event; their state is a fold over their events.

:func:`fold` (in :mod:`cockpit.projections`, below the store) is the reference; the
``release_summaries`` projection the store keeps from it in each append's transaction is what
listing and looking up releases read (``cockpit audit verify`` checks the two agree).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cockpit.config import LoadedConfig
from cockpit.errors import CockpitError, Phrase, UsageError
from cockpit.events import Event, NewEvent
from cockpit.identity import actor_name
from cockpit.operator import Operator
from cockpit.projections import Release, ReleaseFold, fold, read_detail
from cockpit.session import Session
from cockpit.vocabulary import (
    EMERGENCY_APPROVED,
    EMERGENCY_CRITERIA,
    LEASE_TAKEN,
    LEASE_TAKEN_OVER,
    NOTE,
    OVERRIDE_REQUESTED,
    RELEASE_CANCELLED,
    RELEASE_CLOSED,
    RELEASE_CREATED,
    VERSION_CHOSEN,
)

if TYPE_CHECKING:
    from cockpit.store import Store  # the SQLAlchemy import waits until a store is opened


# The release and its fold live below the store, which keeps the projection in each append.
__all__ = ["Release", "ReleaseFold", "fold"]


def parse_version(text: str) -> str:
    """A semantic version without a leading ``v``, normalised; a clear error otherwise."""
    import semver

    candidate = text.strip().removeprefix("v")
    try:
        return str(semver.Version.parse(candidate))
    except ValueError:
        raise UsageError.said("err.version", text=text) from None


def parse_t0(text: str, tz_name: str) -> datetime:
    """T-0 from ISO 8601, in the change window's time zone (a time without an offset is taken
    as wall-clock time there)."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError.said("err.t0", text=text) from None
    from cockpit.window import resolve_local

    zone = ZoneInfo(tz_name)
    if when.tzinfo is None:
        # Wall-clock time in the window's zone; a time in a DST gap or repeated hour is settled
        # the way the change window settles it.
        return resolve_local(when, zone)
    # Keep the named zone, not a fixed offset, so phase due dates follow daylight saving.
    return when.astimezone(zone)


def new_release_event(
    loaded: LoadedConfig, *, plan: str, environment: str, version: str, t0: str
) -> NewEvent:
    """The ``release.created`` event for what the operator asked, or a one-line error."""
    from cockpit.plan import is_plan_name, read_plan

    plan_file = read_plan(plan)  # a shipped name or a .yaml path; a clear error otherwise
    if not is_plan_name(plan):
        plan = str(Path(plan).resolve())
    env = loaded.environment(environment)
    normalised = parse_version(version)
    when = parse_t0(t0, loaded.config.change_window.timezone)
    return NewEvent(
        action=RELEASE_CREATED,
        release_id="r-" + secrets.token_hex(4),
        subject=f"{normalised} {plan} {environment}",
        outcome="ok",
        rehearsal=env.rehearsal,
        details={
            "plan": plan,
            "plan_sha256": plan_file.sha256,
            "environment": environment,
            "version": normalised,
            "t0": when.isoformat(),
            "zone": loaded.config.change_window.timezone,
            "production": env.production,
        },
    )


def t0_problem(loaded: LoadedConfig, plan: str, when: datetime, now: datetime) -> Phrase | None:
    """Why T-0 ``when`` cannot be planned for ``plan`` (by its name) at ``now``: in the past,
    in a blackout, or outside every window of the plan's calendar; ``None`` when it is fine."""
    from cockpit.schedule import blackout_at, calendar_state, slot_at
    from cockpit.window import moment_label

    shown = moment_label(when, now)
    if when.astimezone(UTC) < now.astimezone(UTC):
        return Phrase("t0.past", {"when": shown})
    config = loaded.config
    if slot_at(config, plan, when) is not None:
        return None
    blackout = blackout_at(config, plan, when)
    if blackout is not None:
        return Phrase("t0.blackout", {"when": shown, "reason": blackout.reason})
    try:
        start = calendar_state(config, plan, when).window.start
        upcoming: Phrase | str = Phrase("t0.next", {"when": moment_label(start, now)})
    except ValueError:
        upcoming = ""
    return Phrase("t0.outside", {"when": shown, "plan": plan, "next": upcoming})


def t0_clock(session: Session) -> datetime:
    """What "now" is when a new T-0 is judged: the session's clock (the tests pin this one)."""
    return session.now()


def create_release(
    session: Session,
    *,
    plan: str,
    environment: str,
    version: str,
    t0: str,
    emergency: str | None = None,
    reason: str | None = None,
    override: str | None = None,
    now: datetime | None = None,
) -> Release:
    """Validate and record a new release; return its folded state. It is signed when the
    operator has a key the allowed signers know (so the preparer's principal is verified), and
    must be in a ``sign_all`` environment.

    T-0 must lie in one of the plan's windows and not in the past (:func:`t0_problem`), unless
    the release is an ``emergency`` (one of :data:`EMERGENCY_CRITERIA`, with a ``reason``; its
    T-0 steps then wait for the release committee, :func:`approve_emergency`) or the rule is
    overridden with a reason: in production by two operators, the first one's request recorded
    (``override.requested``) and refused, another's same command creating the release."""
    from cockpit.plan import read_plan

    store, loaded, operator = session.store, session.loaded, session.operator
    event = new_release_event(loaded, plan=plan, environment=environment, version=version, t0=t0)
    details = dict(event.details or {})
    moment = now or t0_clock(session)
    plan_name = read_plan(plan).plan.name
    when = datetime.fromisoformat(details["t0"]).astimezone(ZoneInfo(details["zone"]))
    problem = t0_problem(loaded, plan_name, when, moment)
    if emergency is not None:
        if emergency not in EMERGENCY_CRITERIA:
            choices = ", ".join(EMERGENCY_CRITERIA)
            raise UsageError.said("err.emergency", value=emergency, choices=choices)
        if not (reason and reason.strip()):
            raise UsageError.said("err.emergency_reason")
        details["emergency"] = {"criterion": emergency, "reason": reason.strip()}
    elif problem is not None and not (override and override.strip()):
        raise CockpitError.said("t0.choose", problem=problem, plan=plan_name)
    elif problem is not None:
        assert override is not None
        request = f"release.new {plan} {environment} {details['version']} {details['t0']}"
        granted: dict[str, Any] = {"rule": "t0_window", "problem": str(problem), "reason": override}
        if details["production"]:
            others = [
                ev
                for ev in store.events(actions=(OVERRIDE_REQUESTED,))
                if ev.subject == request and actor_name(ev.actor) != operator.name
            ]
            if not others:
                store.append(
                    NewEvent(
                        action=OVERRIDE_REQUESTED,
                        subject=request,
                        reason=override,
                        details={"rule": "t0_window", "problem": str(problem)},
                    ),
                    operator,
                )
                raise CockpitError.said("need.second", problems=problem, name=operator.name)
            granted |= {"requested_by": actor_name(others[-1].actor), "request_seq": others[-1].seq}
        details["override"] = granted
    event = replace(event, details=details)
    signers = session.signers
    if signers is not None:
        unsigned = operator.why_cannot_sign(signers, event.action)
        cannot = operator.signing_problem(signers)
        if unsigned and cannot is not None and environment in signers.sign_all:
            why = Phrase("why." + cannot[0], {"action": event.action, **cannot[1]})
            raise CockpitError.said("err.signs_all", env=environment, why=why)
        event = replace(event, signed=unsigned is None)
    store.append(event, operator)
    assert event.release_id is not None
    return get_release(store, event.release_id)


def approve_emergency(session: Session, release_text: str, reason: str | None = None) -> Release:
    """The release committee lets an emergency release run its T-0 steps: one approval from an
    operator in the ``release_committee`` role who did not create the release."""
    store, operator = session.store, session.operator
    release = get_release(store, release_text)
    if release.emergency is None:
        raise CockpitError.said("err.not_emergency", release=release.id)
    committee = session.loaded.config.roles.get("release_committee", [])
    if operator.name not in committee:
        raise CockpitError(
            f"{operator.name} is not in the release_committee role "
            f"({', '.join(committee) or 'no one: set [roles] release_committee'})"
        )
    if operator.name == actor_name(release.created_by):
        raise CockpitError.said("err.own_emergency")
    signers = session.signers
    signed = signers is not None and operator.why_cannot_sign(signers, EMERGENCY_APPROVED) is None
    store.append(
        NewEvent(
            action=EMERGENCY_APPROVED,
            release_id=release.id,
            subject=f"{release.version} {release.environment}",
            outcome="approved",
            reason=reason,
            rehearsal=release.rehearsal,
            details=release.emergency,
            signed=signed,
        ),
        operator,
    )
    return get_release(store, release.id)


# The events that make and end a release.
LIFECYCLE = (RELEASE_CREATED, VERSION_CHOSEN, RELEASE_CLOSED, RELEASE_CANCELLED)


def all_releases(store: Store, *, summary: bool = False) -> list[Release]:
    """Every release, in creation order. ``summary`` reads the projection (one row a release,
    whatever the log's length; notes left out); otherwise every release is folded from the
    log, notes and all."""
    if summary:
        return store.releases()
    return list(fold(store.events(actions=())).values())


def last_driven(store: Store, name: str, among: Sequence[str]) -> str | None:
    """Of the releases ``among``, the one ``name`` last took the lease of (drove), from any
    host: where a cockpit opened again after a dropped connection goes back to; ``None`` when
    ``name`` drove none of them. Reads the lease events only (the index on the action)."""
    wanted = set(among)
    like = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "@%"

    def read(cursor: Any, mark: str) -> str | None:
        cursor.execute(
            f"SELECT release_id, actor FROM events WHERE action IN ({mark}, {mark}) "
            f"AND actor LIKE {mark} ESCAPE '\\' ORDER BY seq DESC",
            (LEASE_TAKEN, LEASE_TAKEN_OVER, like),
        )
        for release_id, actor in cursor.fetchall():
            if release_id in wanted and actor_name(actor) == name:
                return str(release_id)
        return None

    return store.read_with(read)


def find_release_id(store: Store, text: str) -> str:
    """A release id from what the operator typed: the whole id or a unique prefix."""
    ids = [r.id for r in all_releases(store, summary=True)]
    if text in ids:
        return text
    matches = [i for i in ids if i.startswith(text) or i.removeprefix("r-").startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError.said("err.no_release", release=text)
    raise UsageError.said("err.ambiguous_release", release=text, matches=", ".join(matches))


def get_release(store: Store, text: str) -> Release:
    """A release with its notes, from its projected summary and only the events the summary
    leaves out (:func:`cockpit.projections.read_detail`), not its whole history."""
    release_id = find_release_id(store, text)
    return store.read_with(lambda cursor, mark: read_detail(cursor, mark, release_id, notes=True))


def close_release(
    store: Store, operator: Operator, release_text: str, *, cancel: bool, reason: str | None
) -> Release:
    """Close a release (its work is over) or cancel it; a reason is required to cancel."""
    release = get_release(store, release_text)
    if release.status != "open":
        raise UsageError.said("err.release_over", release=release.id, status=release.status)
    if cancel and not (reason and reason.strip()):
        raise UsageError.said("err.cancel_release_reason")
    store.append(
        NewEvent(
            action=RELEASE_CANCELLED if cancel else RELEASE_CLOSED,
            release_id=release.id,
            subject=f"{release.version} {release.environment}",
            outcome="cancelled" if cancel else "closed",
            reason=reason,
            rehearsal=release.rehearsal,
        ),
        operator,
    )
    return get_release(store, release.id)


def record_note(
    store: Store, operator: Operator, text: str, release: Release | None = None
) -> Event:
    """Append an operator's logbook entry: a ``note`` event, of ``release`` when there is one
    (a rehearsal's note is marked as one). ``text`` is what the operator typed, already
    stripped; the CLI and the note dialog refuse an empty one before they get here."""
    return store.append(
        NewEvent(
            action=NOTE,
            release_id=release.id if release else None,
            reason=text,
            rehearsal=release.rehearsal if release else False,
        ),
        operator,
    )
