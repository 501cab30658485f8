"""Decisions: the one entry for every action on an item (manual, check, gate, step, tag).

:func:`decide` folds the release once, asks the checklist's rules whether the action is allowed
now, and dispatches by the item's kind: a manual tick, a skip or an approval is one event; a
check runs its probe and a step its runner under write-ahead (intent first, outcome after); the
tag step goes to :mod:`cockpit.tagging`. T-0 steps outside the plan's windows need an override
with a reason (in production, from a second operator). Gate approvals and rejections are signed
with the operator's SSH key when ``[identity] allowed_signers`` is set, and every decision
recorded here when the release's environment has ``sign_all`` (:func:`must_sign`). It sits
above the checklist's fold, :mod:`cockpit.deploy` and :mod:`cockpit.tagging`, so none of them
imports it back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit import probes, steprun
from cockpit.checklist import (
    SETTLED,
    Checklist,
    Refused,
    actor_name,
    load_checklist,
)
from cockpit.deploy import effective_run
from cockpit.errors import Phrase, Said, UsageError
from cockpit.events import Event, NewEvent
from cockpit.i18n import said
from cockpit.lease import require_driver
from cockpit.plan import CheckItem, Item, ManualItem, NotifyItem, StepItem, TagRun
from cockpit.schedule import calendar_state, schedule_for
from cockpit.session import Session
from cockpit.vocabulary import (
    CHECK_FAILED,
    CHECK_STARTED,
    DECISIONS,
    GATE_APPROVED,
    GATE_REJECTED,
    ITEM_DONE,
    ITEM_REOPENED,
    ITEM_SKIPPED,
    OVERRIDE,
    OVERRIDE_REQUESTED,
    STEP_DECISIONS,
)

# Decisions that are other people's roles, not driving: allowed while someone else drives.
GUARDLESS = frozenset({"approve", "reject"})


def must_sign(session: Session, checklist: Checklist, action: str) -> bool:
    """Is the decision ``action`` on this release signed? Approvals and rejections whenever
    there is an allowed-signers file; every decision in a ``sign_all`` environment."""
    signers = session.signers
    if signers is None:
        return False
    return action in {"approve", "reject"} or checklist.release.environment in signers.sign_all


def _require_committee(session: Session, checklist: Checklist) -> None:
    """An emergency release's T-0 steps wait for a release committee member's approval (not
    the creator's own): :func:`cockpit.release.approve_emergency`."""
    release = checklist.release
    committee = set(session.loaded.config.roles.get("release_committee", []))
    committee.discard(actor_name(release.created_by))
    if not any(actor_name(actor) in committee for actor in release.emergency_approved_by):
        raise Refused.said("need.committee", release=release.id)


@dataclass(frozen=True)
class _Need:
    """A rule a T-0 step breaks that an override with a reason may set aside: its ``problem``
    (one line) and the details its ``override`` event records. ``second``: in production the
    override needs a second operator."""

    problem: str | Said
    details: dict[str, Any]
    second: bool = True


@dataclass(frozen=True)
class _Problems:
    """The problems of rules a step breaks, one line, said when read (``a; b``)."""

    needs: tuple[_Need, ...]

    def text(self, lang: str) -> str:
        return "; ".join(str(said(need.problem, lang)) for need in self.needs)


def _window_need(session: Session, checklist: Checklist, item: Item, now: datetime) -> _Need | None:
    """T-0 steps run inside the plan's windows (its calendar: blackouts, extra windows). An
    emergency release needs the release committee's approval instead. In a rehearsal the window
    is advisory."""
    if not isinstance(item, StepItem) or checklist.phase_of(item.id).offset_days != 0:
        return None
    if checklist.release.emergency is not None:
        _require_committee(session, checklist)
        return None  # the emergency, approved, is why it runs outside the windows
    if checklist.release.rehearsal:
        return None
    state = calendar_state(session.loaded.config, checklist.plan.plan.name, now)
    if state.open:
        return None
    details = {"rule": "change_window", "window": state.text}
    return _Need(Phrase("need.window", {"window": state.phrase}), details)


def _rehearsal_need(session: Session, checklist: Checklist, item: Item) -> _Need | None:
    """Production T-0 steps run what passed a staging rehearsal (the same fingerprint, every
    T-0 step done and the rollback rehearsed) (:mod:`cockpit.rehearsal`)."""
    from cockpit.rehearsal import verdict

    release = checklist.release
    if not isinstance(item, StepItem) or checklist.phase_of(item.id).offset_days != 0:
        return None
    if not session.loaded.environment(release.environment).production:
        return None
    found = verdict(session.store, session.loaded, checklist)
    if found.passed is not None:
        return None
    details: dict[str, Any] = {
        "rule": "rehearsal",
        "fingerprint": found.fingerprint,
        "differences": found.differences,
        "rehearsal": found.latest.release_id if found.latest else None,
    }
    return _Need(found.problem(), details)


def _no_return_need(
    session: Session, checklist: Checklist, item: Item, now: datetime, mode: str
) -> _Need | None:
    """After the point of no return (a rollback started now would not finish inside the
    window, by the rehearsal's measured time), a forward T-0 step needs a reason."""
    from cockpit.rehearsal import no_return

    if not isinstance(item, StepItem) or checklist.phase_of(item.id).offset_days != 0:
        return None
    try:
        found = no_return(session.store, session.loaded, checklist, now)
    except ValueError:  # no window at all
        return None
    if found.at is None or found.status(now) != "past":
        return None
    details = {
        "rule": "point_of_no_return",
        "at": found.at.isoformat(),
        "rollback_s": found.rollback_s,
        "rehearsal": found.rehearsal,
        "mode": mode,
    }
    at = f"{found.at:%H:%M %Z}"
    return _Need(Phrase("need.no_return", {"at": at}), details, second=False)


def _phase_need(session: Session, checklist: Checklist, item: Item) -> _Need | None:
    """A T-0 step while an earlier phase is unfinished needs a reason (recorded); a plan whose
    schedule says ``phase_order = "strict"`` refuses it until they are settled."""
    if not isinstance(item, StepItem) or checklist.phase_of(item.id).offset_days != 0:
        return None
    plan = checklist.plan.plan
    open_phases = []
    for phase in plan.phases:
        done, total = checklist.progress(phase)
        if phase.offset_days < 0 and done < total:
            open_phases.append(f"{phase.id.upper()} {done}/{total}")
    if not open_phases:
        return None
    unfinished = ", ".join(open_phases)
    if schedule_for(session.loaded.config, plan.name).phase_order == "strict":
        raise Refused.said("need.phases_strict", unfinished=unfinished, plan=plan.name)
    details = {"rule": "phase_order", "unfinished": open_phases}
    return _Need(Phrase("need.phases", {"unfinished": unfinished}), details, second=False)


def _overrides(
    session: Session,
    checklist: Checklist,
    item: Item,
    needs: list[_Need],
    override: str | None,
    signed: bool,
) -> list[NewEvent]:
    """The ``override`` events that set ``needs`` aside, with the operator's reason. In
    production a rule marked ``second`` needs a second operator: the first one's requests are
    recorded (``override.requested``, one per rule) and refused; another operator giving the
    same command seconds them."""
    if not needs:
        return []
    if not (override and override.strip()):
        raise Refused.said("need.override", problems=_Problems(tuple(needs)))
    store, operator, release = session.store, session.operator, checklist.release
    production = session.loaded.environment(release.environment).production
    requests = [
        ev
        for ev in store.events(release_id=release.id, actions=(OVERRIDE_REQUESTED,))
        if ev.subject == item.id and actor_name(ev.actor) != operator.name
    ]

    def event(action: str, details: dict[str, Any]) -> NewEvent:
        return NewEvent(
            action=action,
            release_id=release.id,
            subject=item.id,
            reason=override,
            rehearsal=release.rehearsal,
            details=details,
            signed=signed,
        )

    granted, missing = [], []
    for need in needs:
        details = need.details
        if need.second and production:
            rule = details["rule"]
            # Requests recorded before rules were named are the change window's.
            others = [r for r in requests if r.details_obj.get("rule", "change_window") == rule]
            if not others:
                missing.append(need)
                continue
            seconded = {"requested_by": actor_name(others[-1].actor), "request_seq": others[-1].seq}
            details = details | seconded
        granted.append(event(OVERRIDE, details))
    if missing:
        for need in missing:
            store.append(event(OVERRIDE_REQUESTED, need.details), operator)
        raise Refused.said("need.second", problems=_Problems(tuple(missing)), name=operator.name)
    return granted


def decide(
    session: Session,
    release_text: str,
    item_id: str,
    action: str,
    *,
    reason: str | None = None,
    override: str | None = None,
    now: datetime | None = None,
    output: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    detach: bool = False,
    leave: threading.Event | None = None,
    message: str | None = None,
) -> Event:
    """Do ``action`` (done, skip, approve, reject) on an item and return its recorded event.

    ``done`` on a check item runs its probe, on a step item runs the step under its supervisor
    (:mod:`cockpit.steprun`): the intent is recorded first, then the outcome. A step is followed
    to its outcome (``output`` gets its lines; setting ``cancel`` asks it to stop) unless
    ``detach`` (return once it started) or ``leave`` is set (stop following; it goes on).
    ``done`` on a notify item sends ``message`` (default: its draft) to its channels.
    Raises :class:`Refused` with the reason when the action
    is not allowed now.
    """
    store, loaded, operator = session.store, session.loaded, session.operator
    if action not in DECISIONS:
        raise UsageError.said("err.action", action=action, choices=", ".join(DECISIONS))
    checklist = load_checklist(store, release_text)
    checklist.phase_of(item_id)  # an unknown item is a typing mistake (exit 2), not a refusal
    if action not in GUARDLESS:
        require_driver(session, checklist.release.id)  # another operator drives: refused
    settled = checklist.state(item_id).status in SETTLED
    if isinstance(checklist.plan.plan.item(item_id), StepItem) and not settled:
        # A step under its supervisor (on any host): refused naming who runs it and where. A
        # step already done says so first, even while its supervisor is still closing down.
        steprun.refuse_if_running(session, checklist.release.id, item_id)
    # Also refused when the decision must be signed and the operator's signature could not
    # prove them (Checklist.why_not says what to do).
    why = checklist.why_not(item_id, action, operator, loaded.config.roles, reason)
    if why:
        raise Refused(f"{item_id}: {why}", why=why, subject=item_id)
    item = checklist.plan.plan.item(item_id)
    release = checklist.release
    signed = must_sign(session, checklist, action)
    base: dict[str, Any] = {
        "release_id": release.id,
        "subject": item_id,
        "rehearsal": release.rehearsal,
        "signed": signed,
    }
    details = {
        "plan": release.plan,
        "plan_sha256": checklist.plan.sha256,
        "phase": checklist.phase_of(item_id).id,
    }
    if action == "reopen":
        voids = checklist.voided_by_reopening(item_id)
        was = checklist.state(item_id).status.value
        return store.append(
            NewEvent(
                action=ITEM_REOPENED,
                reason=reason,
                details={**details, "was": was, "voids": voids},
                outcome="reopened",
                **base,
            ),
            operator,
        )
    if action == "skip":
        return store.append(
            NewEvent(
                action=ITEM_SKIPPED, reason=reason, details=details, outcome="skipped", **base
            ),
            operator,
        )
    if action in {"approve", "reject"}:
        verb = GATE_APPROVED if action == "approve" else GATE_REJECTED
        return store.append(
            NewEvent(action=verb, reason=reason, details=details, outcome=action + "d", **base),
            operator,
        )
    if isinstance(item, NotifyItem):
        from cockpit.notify.drafts import send

        return send(session, checklist, item, message, base, details)
    if isinstance(item, ManualItem):
        return store.append(
            NewEvent(action=ITEM_DONE, reason=reason, details=details, outcome="ok", **base),
            operator,
        )
    moment = now or session.now()
    needs = [
        _phase_need(session, checklist, item),
        _window_need(session, checklist, item, moment),
        _rehearsal_need(session, checklist, item),
        _no_return_need(session, checklist, item, moment, action),
    ]
    found = [need for need in needs if need is not None]
    for granted in _overrides(session, checklist, item, found, override, signed):
        store.append(granted, operator)
    env = loaded.environment(release.environment)
    if isinstance(item, CheckItem):
        probe, source = probes.effective_probe(env, item)
        if probe is None:
            # Nothing to look at in this environment: confirmed by hand, never passed unchecked.
            unchecked = f"no check configured for environment {release.environment}"
            if not (reason and reason.strip()):
                raise Refused.said("need.by_hand", item=item_id, env=release.environment)
            return store.append(
                NewEvent(
                    action=ITEM_DONE,
                    reason=reason,
                    details={**details, "unchecked": unchecked},
                    outcome="ok",
                    **base,
                ),
                operator,
            )
        started = {**details, "probe": probe.name}
        if source == "config":
            started["probe_from"] = "config"
        with store.write_ahead(
            NewEvent(action=CHECK_STARTED, details=started, **base),
            operator,
            done=ITEM_DONE,
            failed=CHECK_FAILED,
        ) as outcome:
            probes.run_check(probe, release.environment, env, loaded, outcome)
        return store.events(release_id=release.id, last=1)[0]
    assert isinstance(item, StepItem)
    run, _source = effective_run(loaded, release, item)
    if isinstance(run, TagRun):
        from cockpit import tagging
        from cockpit.versioning import TagRequest

        prep = tagging.prepare(session, TagRequest(push=run.push), checklist=checklist)
        return tagging.execute(session, prep, progress=output)
    mode = action if action in STEP_DECISIONS else "run"
    return steprun.start(
        session,
        checklist,
        item_id,
        mode=mode,
        output=output,
        cancel=cancel,
        detach=detach,
        leave=leave,
        reason=reason if mode == "redo" else None,
    )
