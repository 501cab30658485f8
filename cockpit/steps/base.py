"""The step model every step kind follows: ``preview``, ``run``, ``verify``, ``recheck``, ``undo``.

A kind is a :class:`StepKind` subclass in its own module (``cockpit.steps.kubernetes``, ...),
found by :func:`kind_for` from the ``kind:`` of the step's run (:mod:`cockpit.plan.runs`). The
engine (:mod:`cockpit.deploy`) wraps every call that changes anything in a write-ahead event;
the kinds themselves never touch the event log and never import Textual.

The contract:

``preview(spec, ctx)``
    Read-only. What will happen, exactly: the commands or API calls (``calls``), what the operator
    reads (``lines``: a diff, the SQL, the upload plan) and the state read now (``state``: current
    images, current revision, ...). Recorded in the intent event.
``run(spec, ctx, outcome)``
    Do it, streaming progress to ``ctx.output``; stop within a second when ``ctx.cancel`` is set
    (raise :class:`Cancelled`) and fail at ``spec.timeout``. Put what ``undo`` and ``recheck``
    need into ``outcome`` as it becomes known (previous image, snapshot id, revision before): the
    engine records ``outcome`` with the result, even on failure. Raise :class:`StepFailed` with
    one line saying what was found. Running again after an interruption must not do anything
    twice: look first, then do only what is left (idempotent by design).
``verify(spec, ctx, outcome)``
    After ``run``: check the effect is really there (rollout complete, current == head, objects
    present); raise :class:`StepFailed` when not. May add details to ``outcome``.
``recheck(spec, ctx, started)``
    After a crash or ``kill -9`` between the intent and its outcome: look at the real state and say
    whether the step's effect is already there. ``started`` is the intent's details (the preview's
    ``state``; ``outcome`` keys recorded before the crash are not available).
``undo(spec, ctx, done, outcome)``
    Reverse a step that succeeded, from ``done`` (the details of its success event). Put
    ``outcome["skipped"] = "why"`` when there is nothing to undo (already equal). Kinds without an
    undo set ``undoable = False`` (or answer ``can_undo(spec)`` per action);
    ``undo_summary(spec, ctx, done)`` names what undo will do, for the rollback confirmation.
``env_defaults(run, env)``
    What the step runs in an environment: the run with the settings it leaves empty taken from
    the environment's config (an HTTP check's ``base_url`` from ``app_url``). Pure, no I/O.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cockpit.errors import CockpitError, Phrase

if TYPE_CHECKING:
    from cockpit.config import EnvironmentConfig, LoadedConfig
    from cockpit.plan.runs import StepRun


class StepFailed(CockpitError):
    """A step (or its verify or undo) ran and did not succeed; the message is one line."""

    exit_code = 1


class Cancelled(StepFailed):
    """The operator cancelled the step."""

    outcome = "cancelled"  # recorded as step.cancelled, not step.failed


class StepTimeout(StepFailed):
    """The step ran past its timeout."""


@dataclass
class StepContext:
    """Everything a step kind may use: the environment, the release, and the channels back."""

    loaded: LoadedConfig
    env_name: str
    env: EnvironmentConfig
    release_id: str
    item_id: str
    version: str
    # "alice@bastion-1": the change cause written into Kubernetes history and AWS tags.
    operator: str
    rehearsal: bool = False
    output: Callable[[str], None] = field(default=lambda _line: None)
    cancel: threading.Event = field(default_factory=threading.Event)
    # time.monotonic() after which the step has run out of time (set by the engine from the
    # spec's timeout); None: no deadline.
    deadline: float | None = None

    def render(self, template: str) -> str:
        """``{version}``, ``{release}`` and ``{env}`` filled in; other braces stay as they are."""
        return (
            template.replace("{version}", self.version)
            .replace("{release}", self.release_id)
            .replace("{env}", self.env_name)
        )

    def resolve(self, value: str) -> Path:
        """A path from the config or the plan, relative to the config file's directory."""
        return self.loaded.resolve(self.render(value))

    def check(self) -> None:
        """Raise :class:`Cancelled` or :class:`StepTimeout` when it is time to stop. Call it
        between units of work and while waiting."""
        if self.cancel.is_set():
            raise Cancelled("cancelled by the operator")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise StepTimeout("timed out")

    def remaining(self, cap: float | None = None) -> float:
        """Seconds left before the deadline (at most ``cap``), never below 0.1."""
        left = float("inf") if self.deadline is None else self.deadline - time.monotonic()
        if cap is not None:
            left = min(left, cap)
        return max(0.1, left)

    def sleep(self, seconds: float) -> None:
        """Wait, but wake at once on cancel; raise when cancelled or out of time."""
        self.check()
        self.cancel.wait(min(seconds, self.remaining()))
        self.check()


@dataclass
class Preview:
    """What a step will do. ``summary`` is one line for lists; ``calls`` the exact commands or API
    calls (recorded in the intent event); ``lines`` what the operator reads before confirming."""

    summary: str
    calls: list[str] = field(default_factory=list)
    lines: Sequence[str | Phrase] = field(default_factory=list)  # (a phrase: said in a language)
    state: dict[str, Any] = field(default_factory=dict)

    def said(self, lang: str) -> list[str]:
        """``lines`` in ``lang``."""
        return [line if isinstance(line, str) else line.text(lang) for line in self.lines]


@dataclass
class Recheck:
    """What a re-check after an interruption found: is the step's effect already there?"""

    done: bool
    text: str
    details: dict[str, Any] = field(default_factory=dict)


class StepKind:
    """Base of every step kind. Subclasses set ``kind`` (the spec's tag) and ``undoable``."""

    kind: ClassVar[str] = ""
    undoable: ClassVar[bool] = True
    # One line saying what undo does, for the rollback confirmation ("set the previous image").
    undo_text: ClassVar[str] = ""

    def env_defaults(self, run: StepRun, env: EnvironmentConfig) -> StepRun:
        """``run`` as it runs in ``env``: the settings the plan (or the environment's replacement)
        leaves empty, filled in from the environment's config, so one plan serves staging and
        production. Called by :func:`cockpit.deploy.effective_run` before anything is shown or
        run. Default: the run as it is."""
        return run

    def preview(self, spec: Any, ctx: StepContext) -> Preview:
        raise StepFailed(f"{self.kind}: no preview")

    def run(self, spec: Any, ctx: StepContext, outcome: dict[str, Any]) -> None:
        raise StepFailed(f"{self.kind}: cannot run")

    def verify(self, spec: Any, ctx: StepContext, outcome: dict[str, Any]) -> None:
        """Default: ``run`` already verified what it did."""

    def recheck(self, spec: Any, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        return Recheck(False, f"{self.kind}: the state cannot be re-checked; redo or skip")

    def can_undo(self, spec: Any) -> bool:
        """Whether this step (this action of the kind) has an undo."""
        return self.undoable

    def undo_summary(self, spec: Any, ctx: StepContext, done: dict[str, Any]) -> str:
        """One line naming what undo will do, from the success event's details, for the rollback
        confirmation: ``deployment/api back to registry/api:1.3.2 (revision 4)``."""
        return self.undo_text or f"undo {self.kind}"

    def undo(
        self, spec: Any, ctx: StepContext, done: dict[str, Any], outcome: dict[str, Any]
    ) -> None:
        raise StepFailed(f"{self.kind}: has no undo")


# kind -> "module:Class", imported on first use so boto3 / kubernetes load only when needed.
KINDS: dict[str, str] = {
    "shell": "cockpit.steps.shell:ShellStep",
    "http_checks": "cockpit.steps.http:HttpChecksStep",
    "kubernetes": "cockpit.steps.kubernetes.step:KubernetesStep",
    "alembic": "cockpit.steps.alembic:AlembicStep",
    "rds_snapshot": "cockpit.steps.aws.rds:RdsSnapshotStep",
    "s3_sync": "cockpit.steps.aws.s3:S3SyncStep",
    "cloudfront_invalidation": "cockpit.steps.aws.cloudfront:CloudFrontInvalidationStep",
    "ecs_update": "cockpit.steps.aws.ecs:EcsUpdateStep",
}

# The kinds whose runner fills in from the environment what a run leaves empty (they override
# StepKind.env_defaults); the others' runs are as written, and cockpit.deploy.effective_run
# does not import their runners (Alembic's, the AWS ones) to learn that: the dashboard's first
# load asks it of every T-0 step. tests/test_plan.py keeps this equal to the classes.
ENV_DEFAULTS = frozenset({"http_checks", "kubernetes"})

_loaded: dict[str, StepKind] = {}


def kind_for(kind: str) -> StepKind:
    """The runner of a step kind (``tag`` is run by :mod:`cockpit.tagging`, not here)."""
    if kind not in _loaded:
        try:
            target = KINDS[kind]
        except KeyError:
            raise StepFailed(f"step kind {kind!r} has no runner") from None
        module, _, name = target.partition(":")
        _loaded[kind] = getattr(importlib.import_module(module), name)()
    return _loaded[kind]
