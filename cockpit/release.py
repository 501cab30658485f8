"""Releases: created by a ``release.created`` event; their state is a fold over their events.

There is no table of releases that could disagree with the log: :func:`fold` rebuilds every
release from the events each time it is asked.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cockpit.config import LoadedConfig
from cockpit.errors import CockpitError, UsageError
from cockpit.events import Event, NewEvent
from cockpit.identity import actor_name
from cockpit.operator import Operator
from cockpit.session import Session
from cockpit.vocabulary import (
    EMERGENCY_APPROVED,
    EMERGENCY_CRITERIA,
    NOTE,
    OVERRIDE_REQUESTED,
    RELEASE_CANCELLED,
    RELEASE_CLOSED,
    RELEASE_CREATED,
    VERSION_CHOSEN,
)

if TYPE_CHECKING:
    from cockpit.store import Store  # the SQLAlchemy import waits until a store is opened


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
    # An emergency release: its criterion and reason; the committee members who approved it.
    emergency: dict[str, Any] | None = None
    emergency_approved_by: list[str] = field(default_factory=list)
    status: str = "open"
    last_seq: int = 0
    last_action: str = ""
    event_count: int = 0
    notes: list[dict[str, Any]] = field(default_factory=list)

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


def fold(events: Iterable[Event]) -> dict[str, Release]:
    """Every release in ``events``, keyed by id, in creation order."""
    releases: dict[str, Release] = {}
    for ev in events:
        if ev.release_id is None:
            continue
        if ev.action == RELEASE_CREATED:
            d = ev.details_obj
            releases[ev.release_id] = Release(
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
        release = releases.get(ev.release_id)
        if release is None:
            continue
        release.last_seq, release.last_action = ev.seq, ev.action
        release.event_count += 1
        if ev.action == VERSION_CHOSEN:
            release.version = ev.details_obj["version"]
        if ev.action == NOTE:
            release.notes.append(
                {"seq": ev.seq, "at": ev.recorded_at, "by": ev.actor, "text": ev.reason}
            )
        if ev.action == EMERGENCY_APPROVED:
            release.emergency_approved_by.append(ev.actor)
        if ev.action in _TERMINAL:
            release.status = _TERMINAL[ev.action]
    return releases


def parse_version(text: str) -> str:
    """A semantic version without a leading ``v``, normalised; a clear error otherwise."""
    import semver

    candidate = text.strip().removeprefix("v")
    try:
        return str(semver.Version.parse(candidate))
    except ValueError:
        raise UsageError(
            f"version {text!r}: not a semantic version (like 1.4.0 or 1.4.0-rc.1)"
        ) from None


def parse_t0(text: str, tz_name: str) -> datetime:
    """T-0 from ISO 8601, in the change window's time zone (a time without an offset is taken
    as wall-clock time there)."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"T-0 {text!r}: use ISO 8601, like 2026-12-16T01:00 or 2026-12-16T01:00+09:00"
        ) from None
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


def t0_problem(loaded: LoadedConfig, plan: str, when: datetime, now: datetime) -> str | None:
    """Why T-0 ``when`` cannot be planned for ``plan`` (by its name) at ``now``: in the past,
    in a blackout, or outside every window of the plan's calendar; ``None`` when it is fine."""
    from cockpit.schedule import blackout_at, calendar_state, slot_at
    from cockpit.window import moment_label

    shown = moment_label(when, now)
    if when.astimezone(UTC) < now.astimezone(UTC):
        return f"T-0 {shown} is in the past"
    config = loaded.config
    if slot_at(config, plan, when) is not None:
        return None
    blackout = blackout_at(config, plan, when)
    if blackout is not None:
        return f"T-0 {shown} falls in a blackout ({blackout.reason})"
    try:
        upcoming = (
            f"; the next opens {moment_label(calendar_state(config, plan, when).window.start, now)}"
        )
    except ValueError:
        upcoming = ""
    return f"T-0 {shown} is outside every {plan} window{upcoming}"


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
            raise UsageError(
                f"--emergency {emergency!r}: use one of {', '.join(EMERGENCY_CRITERIA)}"
            )
        if not (reason and reason.strip()):
            raise UsageError("an emergency release needs --reason (what happened)")
        details["emergency"] = {"criterion": emergency, "reason": reason.strip()}
    elif problem is not None and not (override and override.strip()):
        raise CockpitError(
            f"{problem}: choose a T-0 in a window (cockpit window list --plan {plan_name}), "
            "or --emergency CRITERION --reason TEXT, or --override REASON"
        )
    elif problem is not None:
        assert override is not None
        request = f"release.new {plan} {environment} {details['version']} {details['t0']}"
        granted: dict[str, Any] = {"rule": "t0_window", "problem": problem, "reason": override}
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
                        details={"rule": "t0_window", "problem": problem},
                    ),
                    operator,
                )
                raise CockpitError(
                    f"{problem}; override requested by {operator.name}: production needs a "
                    "second operator to give the same command"
                )
            granted |= {"requested_by": actor_name(others[-1].actor), "request_seq": others[-1].seq}
        details["override"] = granted
    event = replace(event, details=details)
    signers = session.signers
    if signers is not None:
        problem = operator.why_cannot_sign(signers, event.action)
        if problem and environment in signers.sign_all:
            raise CockpitError(f"{environment} signs every decision: {problem}")
        event = replace(event, signed=problem is None)
    store.append(event, operator)
    assert event.release_id is not None
    return get_release(store, event.release_id)


def approve_emergency(session: Session, release_text: str, reason: str | None = None) -> Release:
    """The release committee lets an emergency release run its T-0 steps: one approval from an
    operator in the ``release_committee`` role who did not create the release."""
    store, operator = session.store, session.operator
    release = get_release(store, release_text)
    if release.emergency is None:
        raise CockpitError(f"release {release.id} is not an emergency release")
    committee = session.loaded.config.roles.get("release_committee", [])
    if operator.name not in committee:
        raise CockpitError(
            f"{operator.name} is not in the release_committee role "
            f"({', '.join(committee) or 'no one: set [roles] release_committee'})"
        )
    if operator.name == actor_name(release.created_by):
        raise CockpitError("the committee member who approves must not be the one who created it")
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


# The events that make and end a release: enough to list releases without reading every item.
LIFECYCLE = (RELEASE_CREATED, VERSION_CHOSEN, RELEASE_CLOSED, RELEASE_CANCELLED)


def all_releases(store: Store, *, summary: bool = False) -> list[Release]:
    """Every release, folded from the log. ``summary`` reads only the lifecycle events (fast
    on a long log; event counts and notes are then left out)."""
    return list(fold(store.events(actions=LIFECYCLE if summary else ())).values())


def find_release_id(store: Store, text: str) -> str:
    """A release id from what the operator typed: the whole id or a unique prefix."""
    ids = [r.id for r in all_releases(store, summary=True)]
    if text in ids:
        return text
    matches = [i for i in ids if i.startswith(text) or i.removeprefix("r-").startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError(f"release {text!r}: no such release (see `cockpit release list`)")
    raise UsageError(f"release {text!r}: ambiguous, matches {', '.join(matches)}")


def get_release(store: Store, text: str) -> Release:
    release_id = find_release_id(store, text)
    return fold(store.events(release_id=release_id))[release_id]


def close_release(
    store: Store, operator: Operator, release_text: str, *, cancel: bool, reason: str | None
) -> Release:
    """Close a release (its work is over) or cancel it; a reason is required to cancel."""
    release = get_release(store, release_text)
    if release.status != "open":
        raise UsageError(f"release {release.id} is already {release.status}")
    if cancel and not (reason and reason.strip()):
        raise UsageError("cancelling a release needs --reason")
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
