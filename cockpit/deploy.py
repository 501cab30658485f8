"""Deployment steps tied to a release, its plan and the event log: preview, run, resume, rollback.

The step kinds (:mod:`cockpit.steps`) do the work; this module decides what runs, records the
intent before anything changes and the outcome after, and turns the done steps into a rollback.

Events (all with the release and the item as subject):

``step.started``
    The intent: the kind, where its definition came from (the plan, or the environment's
    ``steps`` in cockpit.toml), the exact calls or commands, the state read by the preview, the
    mode (``run``, ``resume``, ``redo``), and the process (host, pid) doing it.
``step.succeeded`` / ``step.failed``
    The outcome with what undo needs (previous image, revision before, snapshot id ...).
``step.rechecked``
    After an interruption: what the real state showed before resuming.
``step.undo_started`` / ``step.undone`` / ``step.undo_failed``
    One step's undo in a rollback.
``rollback.started`` / ``rollback.finished``
    The decision (with its reason and what will be undone) and the result: undone, failed, what
    is left, and the seconds from the decision to healthy.

A step whose intent has no outcome is *interrupted* when the process that wrote it is gone (same
host, pid not alive) or its timeout has passed; until then it is *running*.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from cockpit.checklist import Refused, Status, load_checklist
from cockpit.config import LoadedConfig
from cockpit.errors import Phrase, UsageError
from cockpit.events import Event, NewEvent, redact_text
from cockpit.liveness import process_id
from cockpit.operator import Operator
from cockpit.plan import StepItem, StepRun, TagRun
from cockpit.secrets import known_secrets
from cockpit.session import Session
from cockpit.steps.base import (
    ENV_DEFAULTS,
    Preview,
    Recheck,
    StepContext,
    StepFailed,
    StepKind,
    kind_for,
)
from cockpit.vocabulary import (
    STEP_BLOCKED,
    STEP_CANCELLED,
    STEP_FAILED,
    STEP_RECHECKED,
    STEP_STARTED,
    STEP_SUCCEEDED,
)

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.release import Release
    from cockpit.store import Store

Output = Callable[[str], None]
MODES = ("run", "resume", "redo")


def quiet(_line: str) -> None:
    return None


@dataclass
class StepInfo:
    """A step item of the release: the run in force for its environment, and its runner."""

    item: StepItem
    run: StepRun
    source: str  # "plan" or "config"
    status: Status
    kind: StepKind | None  # None for the tag kind (cockpit.tagging runs it)

    @property
    def id(self) -> str:
        return self.item.id


def effective_run(loaded: LoadedConfig, release: Release, item: StepItem) -> tuple[StepRun, str]:
    """What ``item`` runs in the release's environment: the environment's replacement from
    cockpit.toml (``steps."ITEM"``) when there is one, else the plan's ``run``."""
    env = loaded.environment(release.environment)
    override = env.steps.get(item.id)
    run, source = (override, "config") if override is not None else (item.run, "plan")
    if not isinstance(run, TagRun) and run.kind in ENV_DEFAULTS:
        # The kind fills in what the run leaves to the environment (base_url, image, ...).
        run = kind_for(run.kind).env_defaults(run, env)
    return run, source


def step_info(loaded: LoadedConfig, checklist: Checklist, item_id: str) -> StepInfo:
    item = checklist.plan.plan.item(item_id)
    if not isinstance(item, StepItem):
        raise Refused.said("run.not_step", item=item_id, kind=item.kind)
    run, source = effective_run(loaded, checklist.release, item)
    kind = None if isinstance(run, TagRun) else kind_for(run.kind)
    return StepInfo(item, run, source, checklist.state(item_id).status, kind)


def steps_of(
    loaded: LoadedConfig, checklist: Checklist, phase_id: str | None = None
) -> list[StepInfo]:
    """The step items of the plan (of one phase when given), in plan order."""
    return [
        step_info(loaded, checklist, item.id)
        for phase, item in checklist.plan.plan.items()
        if isinstance(item, StepItem) and (phase_id is None or phase.id == phase_id)
    ]


def context(
    loaded: LoadedConfig,
    release: Release,
    item_id: str,
    operator: Operator,
    *,
    output: Output | None = None,
    cancel: threading.Event | None = None,
) -> StepContext:
    """The step's context; every line it prints reaches ``output`` with the cockpit's known
    secret values masked (:mod:`cockpit.secrets`), before it is spooled, shown or stored."""
    return StepContext(
        loaded=loaded,
        env_name=release.environment,
        env=loaded.environment(release.environment),
        release_id=release.id,
        item_id=item_id,
        version=release.version,
        operator=operator.actor,
        rehearsal=release.rehearsal,
        output=known_secrets(loaded.config).wrap(output) if output else quiet,
        cancel=cancel or threading.Event(),
    )


def preview(session: Session, release_text: str, item_id: str) -> tuple[StepInfo, Preview]:
    """What the step will do, exactly; reads, changes nothing, records nothing."""
    store, loaded, operator = session.store, session.loaded, session.operator
    checklist = load_checklist(store, release_text)
    require_item(checklist, item_id)
    info = step_info(loaded, checklist, item_id)
    if info.kind is None:
        raise Refused.said("run.tag_step", item=item_id)
    ctx = context(loaded, checklist.release, item_id, operator)
    ctx.deadline = time.monotonic() + min(60.0, info.run.timeout)  # type: ignore[union-attr]
    return info, info.kind.preview(info.run, ctx)


def require_item(checklist: Checklist, item_id: str) -> None:
    """Refuse (bad input) an item id that is not in the release's plan."""
    if not any(item.id == item_id for _, item in checklist.plan.plan.items()):
        plan = checklist.release.plan
        raise UsageError.of(Phrase("why.unknown", {"item": item_id, "plan": plan}))


def _base(checklist: Checklist, item_id: str) -> dict[str, Any]:
    release = checklist.release
    return {"release_id": release.id, "subject": item_id, "rehearsal": release.rehearsal}


def t0_runs(loaded: LoadedConfig, checklist: Checklist) -> dict[str, Any]:
    """What each T-0 step runs in the release's environment (the environment's replacement and
    defaults applied), as JSON values with secrets removed: item id -> run."""
    from cockpit.redact import redact

    runs: dict[str, Any] = {}
    for phase, item in checklist.plan.plan.items():
        if phase.offset_days == 0 and isinstance(item, StepItem):
            run, _source = effective_run(loaded, checklist.release, item)
            runs[item.id] = redact(msgspec.to_builtins(run))
    return runs


def fingerprint(
    loaded: LoadedConfig, checklist: Checklist, runs: dict[str, Any] | None = None
) -> str:
    """The rehearsal fingerprint of a release: SHA-256 of the plan's SHA-256 and every T-0
    step's run (:func:`t0_runs`, or ``runs`` when the caller has them), canonical JSON. The same
    in staging and in production means production runs exactly what was rehearsed."""
    import hashlib
    import json

    steps = t0_runs(loaded, checklist) if runs is None else runs
    whole = {"plan_sha256": checklist.plan.sha256, "steps": steps}
    text = json.dumps(whole, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _details(checklist: Checklist, info: StepInfo, loaded: LoadedConfig) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if checklist.phase_of(info.id).offset_days == 0:  # what a rehearsal proves (rehearsal.py)
        extra = {"fingerprint": fingerprint(loaded, checklist)}
    return {
        **extra,
        "plan": checklist.release.plan,
        "plan_sha256": checklist.plan.sha256,
        "phase": checklist.phase_of(info.id).id,
        "kind": info.run.kind,
        "source": info.source,
        "run": msgspec.to_builtins(info.run),
    }


def execute(
    session: Session,
    checklist: Checklist,
    item_id: str,
    *,
    mode: str = "run",
    output: Output | None = None,
    cancel: threading.Event | None = None,
    spool: str | None = None,
    on_intent: Callable[[], None] | None = None,
    reason: str | None = None,
) -> Event:
    """Run a step item (the checks of :func:`cockpit.actions.decide` already passed), in this
    process: :mod:`cockpit.supervisor` calls it, apart from the operator's terminal.

    ``resume`` (an interrupted step) re-checks the real state first and records what it found:
    when the step's effect is there it is recorded as done without running again; otherwise the
    step runs again, and the kinds do only what is left. ``redo`` runs it again as new.
    """
    store, loaded, operator = session.store, session.loaded, session.operator
    if mode not in MODES:
        raise Refused.said("run.mode", mode=mode, choices=", ".join(MODES))
    info = step_info(loaded, checklist, item_id)
    assert info.kind is not None
    kind, run = info.kind, info.run
    # What the step prints and what the engine says of it (the summary, a re-check), masked.
    out = known_secrets(loaded.config).wrap(output) if output else quiet
    ctx = context(loaded, checklist.release, item_id, operator, output=out, cancel=cancel)
    timeout = float(run.timeout)  # type: ignore[union-attr]
    base, details = _base(checklist, item_id), _details(checklist, info, loaded)
    if mode == "resume":
        started = _open_intent(store, checklist, item_id)
        ctx.deadline = time.monotonic() + min(120.0, timeout)
        found = _recheck(kind, run, ctx, started)
        store.append(
            NewEvent(
                action=STEP_RECHECKED,
                details={
                    **details,
                    "intent_seq": started.seq if started else None,
                    "done": found.done,
                    "found": redact_text(found.text),
                    "state": found.details,
                },
                **base,
            ),
            operator,
        )
        out(("already done: " if found.done else "not done: ") + found.text)
        if found.done:
            return store.append(
                NewEvent(
                    action=STEP_SUCCEEDED,
                    outcome="ok",
                    details={
                        "intent_seq": started.seq if started else None,
                        "resumed": True,
                        "rechecked": found.details,
                        **_outcome_of_intent(started),
                    },
                    **base,
                ),
                operator,
            )
    ctx.deadline = time.monotonic() + min(120.0, timeout)
    try:
        shown = kind.preview(run, ctx)
    except StepFailed as exc:
        store.append(
            NewEvent(
                action=STEP_BLOCKED,
                reason=None,
                outcome="failed",
                details={**details, "error": redact_text(str(exc))},
                **base,
            ),
            operator,
        )
        raise
    intent = {
        **details,
        "mode": mode,
        "summary": shown.summary,
        "calls": shown.calls,
        "state": shown.state,
        "timeout": timeout,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **process_id(),
        **({"spool": spool} if spool else {}),
    }
    out(shown.summary)
    ctx.deadline = time.monotonic() + timeout
    with store.write_ahead(
        NewEvent(action=STEP_STARTED, details=intent, reason=reason, **base),
        operator,
        done=STEP_SUCCEEDED,
        failed=STEP_FAILED,
        cancelled=STEP_CANCELLED,
    ) as outcome:
        if on_intent is not None:
            on_intent()
        started_clock = time.monotonic()
        try:
            kind.run(run, ctx, outcome)
            kind.verify(run, ctx, outcome)
        finally:
            outcome["elapsed_s"] = round(time.monotonic() - started_clock, 3)
    return store.events(release_id=checklist.release.id, last=1)[0]


def _recheck(kind: StepKind, run: StepRun, ctx: StepContext, started: Event | None) -> Recheck:
    try:
        return kind.recheck(run, ctx, started.details_obj if started else {})
    except StepFailed as exc:
        return Recheck(False, f"the re-check could not tell: {exc}")


def _open_intent(store: Store, checklist: Checklist, item_id: str) -> Event | None:
    """The step's last ``step.started`` when nothing followed it (an interrupted run)."""
    state = checklist.state(item_id)
    if state.open_intent is None:
        return None
    for ev in store.events(release_id=checklist.release.id):
        if ev.seq == state.open_intent:
            return ev
    return None


def _outcome_of_intent(started: Event | None) -> dict[str, Any]:
    """What a resumed-as-done step can pass to undo: the state before it ran."""
    if started is None:
        return {}
    return {"state_before": started.details_obj.get("state", {})}
