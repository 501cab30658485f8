"""Rehearsals: what a staging run proved, and whether production runs the same thing.

Each T-0 step run records the release's fingerprint (:func:`cockpit.deploy.fingerprint`: the
plan's SHA-256 and every T-0 step's resolved run, secrets removed). A rehearsal *passed* a
fingerprint when, in one rehearsal release of the plan, every T-0 step succeeded with that
fingerprint and a rollback then finished healthy. Production T-0 steps need a passed rehearsal
of their own fingerprint (:mod:`cockpit.actions` asks; a second operator may override). The
rehearsal's measured rollback time gives the point of no return (:func:`point_of_no_return`).
Read from the log only; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cockpit.checklist import Checklist
from cockpit.deploy import fingerprint, t0_runs
from cockpit.release import all_releases
from cockpit.vocabulary import ROLLBACK_FINISHED, STEP_STARTED, STEP_SUCCEEDED

if TYPE_CHECKING:
    from cockpit.config import LoadedConfig
    from cockpit.events import Event
    from cockpit.store import Store


@dataclass
class Rehearsal:
    """One rehearsal release's T-0 runs of one fingerprint: when they finished, how long the
    deployment took (first T-0 start to last T-0 success), how long its rollback took."""

    release_id: str
    fingerprint: str
    environment: str = ""
    plan_sha256: str = ""
    runs: dict[str, Any] = field(default_factory=dict)  # item -> the run it recorded
    done: set[str] = field(default_factory=set)  # T-0 steps that succeeded
    started_at: datetime | None = None
    done_at: datetime | None = None
    rollback_s: float | None = None

    @property
    def deploy_s(self) -> float:
        if self.started_at is None or self.done_at is None:
            return 0.0
        return (self.done_at - self.started_at).total_seconds()

    def complete(self, steps: set[str]) -> bool:
        return steps <= self.done

    def passed(self, steps: set[str]) -> bool:
        """Every T-0 step done, and the rollback rehearsed after them."""
        return self.complete(steps) and self.rollback_s is not None


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def rehearsals(store: Store, plan: str) -> list[Rehearsal]:
    """Every rehearsal of ``plan`` (the release's plan, a name or path), oldest first: one per
    rehearsal release and fingerprint its T-0 steps ran with."""
    found: list[Rehearsal] = []
    releases = [r for r in all_releases(store, summary=True) if r.rehearsal and r.plan == plan]
    # One read of the step events of every release (the action's index: as many rows as steps
    # ran, not one walk of each release's events, notes included), grouped here.
    of_release: dict[str, list[Event]] = {r.id: [] for r in releases}
    if releases:
        for ev in store.events(actions=(STEP_STARTED, STEP_SUCCEEDED, ROLLBACK_FINISHED)):
            if ev.release_id in of_release:
                of_release[ev.release_id].append(ev)
    for release in releases:
        events = of_release[release.id]
        by_print: dict[str, Rehearsal] = {}
        intents: dict[int, Rehearsal] = {}
        latest: Rehearsal | None = None
        for ev in events:
            d = ev.details_obj
            if ev.action == STEP_STARTED and d.get("fingerprint"):
                latest = by_print.setdefault(
                    d["fingerprint"],
                    Rehearsal(release.id, d["fingerprint"], release.environment),
                )
                latest.plan_sha256 = str(d.get("plan_sha256", ""))
                latest.runs[ev.subject or ""] = d.get("run")
                intents[ev.seq] = latest
                if latest.started_at is None:
                    latest.started_at = _when(ev.recorded_at)
            elif ev.action == STEP_SUCCEEDED and d.get("intent_seq") in intents:
                run = intents[d["intent_seq"]]
                run.done.add(ev.subject or "")
                run.done_at = _when(ev.recorded_at)
            elif ev.action == ROLLBACK_FINISHED and ev.outcome == "ok" and latest is not None:
                latest.rollback_s = float(d.get("elapsed_s", 0.0))
        found.extend(by_print.values())
    return found


@dataclass(frozen=True)
class Verdict:
    """Whether a release's T-0 steps were rehearsed: ``passed`` (the matching rehearsal),
    else ``latest`` (the last rehearsal of the plan, if any) and the ``differences``."""

    fingerprint: str
    passed: Rehearsal | None
    latest: Rehearsal | None
    differences: list[str]

    def problem(self) -> str:
        """One line for a refusal: why production's T-0 is not covered by a rehearsal."""
        if self.passed is not None:
            return ""
        if self.latest is None:
            return "never rehearsed in staging"
        return f"not as rehearsed in {self.latest.release_id}: " + "; ".join(self.differences)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def differences(rehearsed: Rehearsal, plan_sha256: str, runs: dict[str, Any]) -> list[str]:
    """What differs between a rehearsal and what is about to run, one phrase each."""
    found = []
    if rehearsed.plan_sha256 and rehearsed.plan_sha256 != plan_sha256:
        found.append(
            f"the plan changed (sha256 {rehearsed.plan_sha256[:12]} rehearsed, "
            f"{plan_sha256[:12]} now)"
        )
    for item, run in runs.items():
        before = rehearsed.runs.get(item)
        if before is None:
            found.append(f"{item} was not rehearsed")
        elif before != run:
            keys = sorted(set(before) | set(run), key=str)
            changed = [k for k in keys if before.get(k) != run.get(k)]
            found.append(
                f"{item}: "
                + ", ".join(f"{k} {_short(before.get(k))} -> {_short(run.get(k))}" for k in changed)
            )
    return found or ["a T-0 step was not done or the rollback not rehearsed"]


def verdict(store: Store, loaded: LoadedConfig, checklist: Checklist) -> Verdict:
    """Whether the release's T-0 steps, as they would run now, passed a rehearsal."""
    runs = t0_runs(loaded, checklist)
    printed = fingerprint(loaded, checklist, runs)
    steps = set(runs)
    candidates = rehearsals(store, checklist.release.plan)
    passed = [r for r in candidates if r.fingerprint == printed and r.passed(steps)]
    if passed:
        return Verdict(printed, passed[-1], passed[-1], [])
    latest = candidates[-1] if candidates else None
    if latest is None:
        return Verdict(printed, None, None, [])
    missing = sorted(steps - latest.done)
    if latest.fingerprint == printed:
        found = [f"T-0 steps not done: {', '.join(missing)}"] if missing else []
        if latest.rollback_s is None:
            found.append("the rollback was not rehearsed")
        return Verdict(printed, None, latest, found)
    return Verdict(printed, None, latest, differences(latest, checklist.plan.sha256, runs))


def point_of_no_return(window_end: datetime, rollback_s: float, margin_percent: float) -> datetime:
    """The last moment a rollback can start and still finish before the window closes: the
    rehearsed rollback time plus ``margin_percent`` of it, before the end."""
    need = timedelta(seconds=rollback_s * (1 + margin_percent / 100))
    return (window_end.astimezone(UTC) - need).astimezone(window_end.tzinfo)


@dataclass(frozen=True)
class NoReturn:
    """The point of no return of a release's T-0: ``at`` (``None`` when no rehearsal measured a
    rollback), from the rehearsal ``rehearsal``'s rollback time and the window's end."""

    at: datetime | None
    window_end: datetime
    rollback_s: float | None = None
    rehearsal: str | None = None
    warn_minutes: int = 15

    def status(self, now: datetime) -> str:
        """``none`` (not rehearsed), ``ok``, ``warn`` (within ``warn_minutes``) or ``past``."""
        if self.at is None:
            return "none"
        at, now = self.at.astimezone(UTC), now.astimezone(UTC)
        if now >= at:
            return "past"
        if now >= at - timedelta(minutes=self.warn_minutes):
            return "warn"
        return "ok"


def no_return(store: Store, loaded: LoadedConfig, checklist: Checklist, now: datetime) -> NoReturn:
    """Where the release's point of no return lies: its T-0 window (the one holding T-0, else
    the one open or next at ``now``) ends, less the rollback time the rehearsal measured plus
    ``[rehearsal] margin_percent``. Production counts only a rehearsal its fingerprint passed;
    a rehearsal release counts the plan's last rehearsed rollback."""
    from cockpit.schedule import calendar_state, slot_at

    config = loaded.config
    plan = checklist.plan.plan.name
    slot = slot_at(config, plan, checklist.release.t0_at())
    window = slot.window if slot is not None else calendar_state(config, plan, now).window
    end = window.end
    found = verdict(store, loaded, checklist)
    measured = found.passed
    if measured is None and checklist.release.rehearsal:
        timed = [r for r in rehearsals(store, checklist.release.plan) if r.rollback_s is not None]
        measured = timed[-1] if timed else None
    warn = config.rehearsal.warn_minutes
    if measured is None or measured.rollback_s is None:
        return NoReturn(None, end, warn_minutes=warn)
    at = point_of_no_return(end, measured.rollback_s, config.rehearsal.margin_percent)
    return NoReturn(at, end, measured.rollback_s, measured.release_id, warn)
