"""Decisions: the one entry for every action on an item (manual, check, gate, step, tag).

:func:`decide` folds the release once, asks the checklist's rules whether the action is allowed
now, and dispatches by the item's kind: a manual tick, a skip or an approval is one event; a
check runs its probe and a step its runner under write-ahead (intent first, outcome after); the
tag step goes to :mod:`cockpit.tagging`. T-0 steps outside the change window need an override
with a reason (in production, from a second operator). Gate approvals and rejections are signed
with the operator's SSH key when ``[identity] allowed_signers`` is set, and every decision
recorded here when the release's environment has ``sign_all`` (:func:`must_sign`). It sits
above the checklist's fold, :mod:`cockpit.deploy` and :mod:`cockpit.tagging`, so none of them
imports it back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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
from cockpit.errors import UsageError
from cockpit.events import Event, NewEvent
from cockpit.lease import require_driver
from cockpit.plan import CheckItem, Item, ManualItem, StepItem, TagRun
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
from cockpit.window import window_state

# Decisions that are other people's roles, not driving: allowed while someone else drives.
GUARDLESS = frozenset({"approve", "reject"})


def must_sign(session: Session, checklist: Checklist, action: str) -> bool:
    """Is the decision ``action`` on this release signed? Approvals and rejections whenever
    there is an allowed-signers file; every decision in a ``sign_all`` environment."""
    signers = session.signers
    if signers is None:
        return False
    return action in {"approve", "reject"} or checklist.release.environment in signers.sign_all


def _window_override(
    session: Session,
    checklist: Checklist,
    item: Item,
    now: datetime,
    override: str | None,
    signed: bool = False,
) -> NewEvent | None:
    """T-0 steps run inside the change window; outside it they need an override with a reason.
    In production the override needs a second operator: the first one's request is recorded
    (``override.requested``) and refused; another operator giving the same command seconds it.
    In a rehearsal the window is advisory."""
    store, loaded, operator = session.store, session.loaded, session.operator
    if not isinstance(item, StepItem) or checklist.release.rehearsal:
        return None
    if checklist.phase_of(item.id).offset_days != 0:
        return None
    state = window_state(loaded.config.change_window, now)
    if state.open:
        return None
    if not (override and override.strip()):
        raise Refused(f"outside the change window: {state.text}; override with a reason")
    release = checklist.release
    details: dict[str, Any] = {"rule": "change_window", "window": state.text}
    if loaded.environment(release.environment).production:
        requests = [
            ev
            for ev in store.events(release_id=release.id)
            if ev.action == OVERRIDE_REQUESTED and ev.subject == item.id
        ]
        others = [ev for ev in requests if actor_name(ev.actor) != operator.name]
        if not others:
            store.append(
                NewEvent(
                    action=OVERRIDE_REQUESTED,
                    release_id=release.id,
                    subject=item.id,
                    reason=override,
                    rehearsal=release.rehearsal,
                    details=details,
                    signed=signed,
                ),
                operator,
            )
            raise Refused(
                f"outside the change window: {state.text}; override requested by "
                f"{operator.name}: production needs a second operator to give the same command"
            )
        details |= {"requested_by": actor_name(others[-1].actor), "request_seq": others[-1].seq}
    return NewEvent(
        action=OVERRIDE,
        release_id=release.id,
        subject=item.id,
        reason=override,
        rehearsal=release.rehearsal,
        details=details,
        signed=signed,
    )


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
) -> Event:
    """Do ``action`` (done, skip, approve, reject) on an item and return its recorded event.

    ``done`` on a check item runs its probe, on a step item runs the step under its supervisor
    (:mod:`cockpit.steprun`): the intent is recorded first, then the outcome. A step is followed
    to its outcome (``output`` gets its lines; setting ``cancel`` asks it to stop) unless
    ``detach`` (return once it started) or ``leave`` is set (stop following; it goes on).
    Raises :class:`Refused` with the reason when the action
    is not allowed now.
    """
    store, loaded, operator = session.store, session.loaded, session.operator
    if action not in DECISIONS:
        raise UsageError(f"action {action!r}: use one of {', '.join(DECISIONS)}")
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
    if isinstance(item, ManualItem):
        return store.append(
            NewEvent(action=ITEM_DONE, reason=reason, details=details, outcome="ok", **base),
            operator,
        )
    moment = now or session.now()
    extra = _window_override(session, checklist, item, moment, override, signed)
    if extra is not None:
        store.append(extra, operator)
    env = loaded.environment(release.environment)
    if isinstance(item, CheckItem):
        probe, source = probes.effective_probe(env, item)
        if probe is None:
            # Nothing to look at in this environment: confirmed by hand, never passed unchecked.
            unchecked = f"no check configured for environment {release.environment}"
            if not (reason and reason.strip()):
                raise Refused(
                    f'{item_id}: {unchecked} (checks."{item_id}" in cockpit.toml); confirm it by '
                    "hand with a reason (the evidence)"
                )
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
