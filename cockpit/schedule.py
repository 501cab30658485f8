"""The calendar: each plan's windows (its own schedule or ``change_window``), one-off extra
windows and blackouts (a blackout overrides any window it touches), all in named zones.

Pure engine code on top of :mod:`cockpit.window`; like it, nothing here reads the clock: every
function takes ``now`` (or the moment it judges). A plan is named by its ``name`` (the file's
``name:``, ``migration``); ``[windows.<name>]`` gives its schedule, else ``change_window``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cockpit.window import Window, WindowState, resolve_local, windows_from

if TYPE_CHECKING:
    from cockpit.config import ChangeWindowConfig, Config
    from cockpit.config.model import BlackoutConfig, OneOffWindowConfig
    from cockpit.plan import Stage

# How far ahead the calendar looks for a window before it gives up (a long freeze, a fifth
# weekday that seldom comes).
HORIZON = timedelta(days=3 * 366)


def _u(moment: datetime) -> datetime:
    """The instant in UTC: aware datetimes sharing a zone compare by wall clock, not instant."""
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Blackout:
    """A freeze: no window counts from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: datetime
    end: datetime
    reason: str

    def overlaps(self, window: Window) -> bool:
        return _u(self.start) < _u(window.end) and _u(window.start) < _u(self.end)


@dataclass(frozen=True)
class Slot:
    """One window of a plan's calendar: ``regular`` (its schedule) or ``extra`` (one-off, with
    its reason), and the blackout that cancels it, if any."""

    window: Window
    kind: str
    reason: str = ""
    blackout: Blackout | None = None

    @property
    def usable(self) -> bool:
        return self.blackout is None


def schedule_for(config: Config, plan: str) -> ChangeWindowConfig:
    """The schedule of ``plan``: ``[windows.<plan>]`` when there is one, else ``change_window``."""
    return config.windows.get(plan, config.change_window)


def _moment(text: str, zone: ZoneInfo) -> datetime:
    """A one-off entry's moment (``2026-12-27T01:00`` or a whole day ``2026-12-28``) in ``zone``."""
    if "T" in text:
        wall = datetime.fromisoformat(text)
    else:
        wall = datetime.combine(date.fromisoformat(text), time(0))
    return resolve_local(wall, zone)


def _zone(config: Config, plan: str, name: str) -> ZoneInfo:
    return ZoneInfo(name or schedule_for(config, plan).timezone)


def _spans(
    config: Config, plan: str, entries: Sequence[OneOffWindowConfig | BlackoutConfig]
) -> list[tuple[datetime, datetime, str]]:
    """The one-off entries that apply to ``plan``: start, end and reason, in file order."""
    found = []
    for entry in entries:
        if entry.plans and plan not in entry.plans:
            continue
        zone = _zone(config, plan, entry.timezone)
        found.append((_moment(entry.start, zone), _moment(entry.end, zone), entry.reason))
    return found


def blackouts(config: Config, plan: str) -> list[Blackout]:
    """The blackouts that apply to ``plan``, in the order of the file."""
    return [Blackout(*span) for span in _spans(config, plan, config.blackouts)]


def _extras(config: Config, plan: str) -> list[Slot]:
    slots = [
        Slot(Window(start, end), "extra", reason)
        for start, end, reason in _spans(config, plan, config.extra_windows)
    ]
    return sorted(slots, key=lambda s: _u(s.window.start))


def slots(config: Config, plan: str, now: datetime) -> Iterator[Slot]:
    """Every window of ``plan`` still open at or after ``now``, regular and extra merged in
    time order, each marked with the blackout that cancels it; up to :data:`HORIZON` ahead."""
    freezes = blackouts(config, plan)
    extras = [s for s in _extras(config, plan) if _u(s.window.end) > _u(now)]
    limit = _u(now) + HORIZON
    regular = windows_from(schedule_for(config, plan), now)

    def marked(slot: Slot) -> Slot:
        hit = next((b for b in freezes if b.overlaps(slot.window)), None)
        return slot if hit is None else Slot(slot.window, slot.kind, slot.reason, hit)

    upcoming = next(regular, None)
    while upcoming is not None or extras:
        if upcoming is not None and (
            not extras or _u(upcoming.start) <= _u(extras[0].window.start)
        ):
            if _u(upcoming.start) > limit:
                upcoming = None
                continue
            yield marked(Slot(upcoming, "regular"))
            upcoming = next(regular, None)
        else:
            yield marked(extras.pop(0))


def slot_at(config: Config, plan: str, moment: datetime) -> Slot | None:
    """The usable window of ``plan`` open at ``moment``, or ``None``."""
    for slot in slots(config, plan, moment):
        if _u(slot.window.start) > _u(moment):
            return None
        if slot.usable and slot.window.contains(moment):
            return slot
    return None


def blackout_at(config: Config, plan: str, moment: datetime) -> Blackout | None:
    """The blackout of ``plan`` in force at ``moment``, or ``None``."""
    at = _u(moment)
    return next((b for b in blackouts(config, plan) if _u(b.start) <= at < _u(b.end)), None)


def calendar_state(config: Config, plan: str, now: datetime) -> WindowState:
    """Like :func:`cockpit.window.window_state`, on ``plan``'s calendar: blacked-out windows are
    passed over, extra windows count."""
    for slot in slots(config, plan, now):
        if not slot.usable:
            continue
        window = slot.window
        closes_in = _u(window.end) - _u(now)
        if window.contains(now):
            return WindowState(True, window, timedelta(0), closes_in)
        return WindowState(False, window, _u(window.start) - _u(now), closes_in)
    raise ValueError(f"no change window for {plan} within {HORIZON.days} days")


def stage_times(window: Window, stages: list[Stage]) -> list[tuple[Stage, datetime, datetime]]:
    """Each stage of a T-0 phase as instants on the window's day (hours from its midnight)."""
    tz = window.start.tzinfo
    assert tz is not None
    midnight = datetime.combine(window.start.date(), time(0))
    return [
        (
            stage,
            resolve_local(midnight + timedelta(hours=stage.start_hour), tz),
            resolve_local(midnight + timedelta(hours=stage.end_hour), tz),
        )
        for stage in stages
    ]
