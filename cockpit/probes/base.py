"""The probe model every probe kind follows: ``preview`` (what it will look at) and ``run`` (look,
and say what was seen against what was expected), under a total deadline.

A kind is a :class:`ProbeKind` subclass in its own module (``cockpit.probes.tls``, ...), found by
:func:`kind_for` from the ``probe:`` of the check (:mod:`cockpit.plan.probes`). The engine
(:mod:`cockpit.actions`) records ``check.started`` before :func:`run_check` and the outcome
after; the kinds never touch the event log and never import Textual.

The contract:

``preview(spec, ctx)``
    Pure, no I/O: one line naming what the probe will look at and what it expects
    (``GET https://app/health -> 200 within 10 s``).
``run(spec, ctx)``
    Look, within ``ctx.deadline`` (pass :meth:`ProbeContext.remaining` to every client as its
    timeout), and return a :class:`Result`: passed or not, what was seen and what was expected
    (one line each), and the figures recorded in the event (``details``). Raise
    :class:`CannotLook` with one line when the probe cannot look at all (no URL configured, the
    server does not answer, a report that is not a coverage report).

:func:`run_check` runs the kind in a worker thread and gives up at the deadline (``timeout`` plus
a second's grace, so a kind's own timeout message wins): a server that accepts and never answers
fails the check, it never holds the operator.
"""

from __future__ import annotations

import importlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cockpit.events import redact_text
from cockpit.runner import CheckFailed

if TYPE_CHECKING:
    from cockpit.config import EnvironmentConfig, LoadedConfig
    from cockpit.plan.model import CheckItem
    from cockpit.plan.probes import Probe
    from cockpit.steps.base import StepContext

# The deadline's grace past a probe's ``timeout``: the kind's own timeout (a read timeout, a
# killed process) says more than "no answer", so it is given the chance to speak first.
GRACE_S = 1.0


class CannotLook(CheckFailed):
    """The probe could not look (nothing configured, no answer, unreadable): one line."""


@dataclass
class ProbeContext:
    """What a probe kind may use: the environment and its deadline."""

    loaded: LoadedConfig
    env_name: str
    env: EnvironmentConfig
    # time.monotonic() past which the probe has run out of time; None: no deadline.
    deadline: float | None = None

    def remaining(self, cap: float | None = None) -> float:
        """Seconds left before the deadline (at most ``cap``), never below 0.1."""
        left = float("inf") if self.deadline is None else self.deadline - time.monotonic()
        if cap is not None:
            left = min(left, cap)
        return max(0.1, left)

    def resolve(self, value: str) -> Path:
        """A path from the plan or the config, relative to the config file's directory."""
        return self.loaded.resolve(value)

    def step_context(self) -> StepContext:
        """A step context on the same environment and deadline, for the clients the step kinds
        build (AWS, Kubernetes, Alembic)."""
        from cockpit.steps.base import StepContext

        return StepContext(
            loaded=self.loaded,
            env_name=self.env_name,
            env=self.env,
            release_id="",
            item_id="probe",
            version="",
            operator="",
            deadline=self.deadline,
        )


@dataclass
class Result:
    """What a probe saw: ``ok``, ``seen`` and ``expected`` (one line each, shown side by side
    when it fails), ``details`` (the figures, recorded in the event) and ``line`` (the failure's
    one line; default ``SEEN, expected EXPECTED``)."""

    ok: bool
    seen: str
    expected: str
    details: dict[str, Any] = field(default_factory=dict)
    line: str = ""

    def failure(self) -> str:
        return self.line or f"{self.seen}, expected {self.expected}"


class ProbeKind:
    """Base of every probe kind; subclasses set ``name`` (the spec's tag)."""

    name: ClassVar[str] = ""

    def preview(self, spec: Any, ctx: ProbeContext) -> str:
        return self.name

    def run(self, spec: Any, ctx: ProbeContext) -> Result:
        raise CannotLook(f"{self.name}: cannot run")


# name -> "module:Class", imported on first use so boto3 / kubernetes load only when needed.
KINDS: dict[str, str] = {
    "git_clean": "cockpit.probes.git:GitCleanProbeKind",
    "git_branch": "cockpit.probes.git:GitBranchProbeKind",
    "command": "cockpit.probes.command:CommandProbeKind",
    "http": "cockpit.probes.http:HttpProbeKind",
    "file_exists": "cockpit.probes.files:FileExistsProbeKind",
    "file_younger_than": "cockpit.probes.files:FileYoungerThanProbeKind",
    "metric": "cockpit.probes.metric:MetricProbeKind",
    "alarms": "cockpit.probes.alarms:AlarmsProbeKind",
    "tls": "cockpit.probes.tls:TlsProbeKind",
    "sql": "cockpit.probes.sql:SqlProbeKind",
    "coverage": "cockpit.probes.coverage:CoverageProbeKind",
    "kubernetes": "cockpit.probes.kubernetes:KubernetesProbeKind",
    "alembic": "cockpit.probes.alembic:AlembicProbeKind",
    "backup": "cockpit.probes.backup:BackupProbeKind",
    "credentials": "cockpit.probes.credentials:CredentialsProbeKind",
}

_loaded: dict[str, ProbeKind] = {}
_loaded_lock = threading.Lock()


def kind_for(name: str) -> ProbeKind:
    """The runner of a probe kind."""
    with _loaded_lock:
        if name not in _loaded:
            try:
                target = KINDS[name]
            except KeyError:
                raise CheckFailed(f"probe {name!r} has no runner") from None
            module, _, attr = target.partition(":")
            _loaded[name] = getattr(importlib.import_module(module), attr)()
        return _loaded[name]


def effective_probe(env: EnvironmentConfig, item: CheckItem) -> tuple[Probe | None, str]:
    """What ``item`` probes in ``env``: the environment's ``checks."ITEM"`` from cockpit.toml
    (``"config"``), else the plan's ``check`` (``"plan"``), else nothing (``""``: the item is
    then confirmed by hand, with a reason)."""
    bound = env.checks.get(item.id)
    if bound is not None:
        return bound, "config"
    return item.check, "plan" if item.check is not None else ""


def preview(probe: Probe, env_name: str, env: EnvironmentConfig, loaded: LoadedConfig) -> str:
    """One line: what ``probe`` will look at in ``env`` and what it expects. No I/O."""
    return kind_for(probe.name).preview(probe, ProbeContext(loaded, env_name, env))


def look(probe: Probe, env_name: str, env: EnvironmentConfig, loaded: LoadedConfig) -> Result:
    """Run ``probe`` against ``env`` within its ``timeout``: the :class:`Result`, or
    :class:`CannotLook` (one line) when it could not look or ran out of time."""
    kind = kind_for(probe.name)
    timeout = float(probe.timeout)
    ctx = ProbeContext(loaded, env_name, env, deadline=time.monotonic() + timeout)
    answer: list[Result | BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            answer.append(kind.run(probe, ctx))
        except BaseException as exc:  # handed to the caller, raised there
            answer.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, name=f"probe-{probe.name}", daemon=True).start()
    if not done.wait(timeout + GRACE_S) or not answer:
        raise CannotLook(f"{probe.name}: no answer within {timeout:g} s (the probe's timeout)")
    got = answer[0]
    if isinstance(got, CheckFailed):
        raise got
    if isinstance(got, BaseException):
        text = redact_text(" ".join(str(got).split()))[:300] or type(got).__name__
        raise CannotLook(f"{probe.name}: {type(got).__name__}: {text}") from None
    return got


def run_check(
    probe: Probe,
    env_name: str,
    env: EnvironmentConfig,
    loaded: LoadedConfig,
    outcome: dict[str, Any],
) -> None:
    """Look, and put the figures into ``outcome`` (the details of the outcome event); when the
    check does not pass, ``seen`` and ``expected`` too, and raise :class:`CheckFailed` with one
    line. A probe that cannot look records ``seen`` as that line."""
    try:
        result = look(probe, env_name, env, loaded)
    except CheckFailed as exc:
        outcome.update({"seen": str(exc), "expected": preview(probe, env_name, env, loaded)})
        raise
    outcome.update(result.details)
    if not result.ok:
        outcome.update({"seen": result.seen, "expected": result.expected})
        raise CheckFailed(result.failure())


def run_probe(probe: Probe, env_name: str, loaded: LoadedConfig) -> dict[str, Any]:
    """The figures ``probe`` saw in environment ``env_name``, or :class:`CheckFailed` (one
    line) when the check does not pass: :func:`run_check` outside an event."""
    outcome: dict[str, Any] = {}
    run_check(probe, env_name, loaded.environment(env_name), loaded, outcome)
    return outcome
