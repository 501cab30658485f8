"""What a notice says and where it goes: the events that make a notice (:func:`kinds_of`), their
severity (the seeds' critical / warning, and info), the routes that pick channels
(:func:`route`), and the text from the ja and en templates of :mod:`cockpit.i18n`
(:func:`render`): the release, its version and environment, the window, what happened and what to
do. Pure: no database, no network.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cockpit.config.notify import NotifyConfig
from cockpit.events import Event
from cockpit.i18n import tr
from cockpit.vocabulary import (
    LEASE_TAKEN_OVER,
    NO_GO,
    RELEASE_CANCELLED,
    RELEASE_CLOSED,
    RELEASE_CREATED,
    ROLLBACK_FINISHED,
    ROLLBACK_STARTED,
    STEP_FAILED,
    TRIGGER_FIRED,
    WATCH_GO,
    WATCH_NO_GO,
)

# Default severities: the seeds' critical (page: respond within 15 minutes) for what stops a
# release, warning (within the hour) for what changes its course, info for news.
SEVERITY = {
    "release_created": "info",
    "phase_complete": "info",
    "t0_start": "info",
    "step_failed": "critical",
    "trigger_fired": "critical",
    "rollback_started": "critical",
    "rollback_finished": "warning",
    "go": "info",
    "no_go": "warning",
    "release_closed": "info",
    "lease_taken_over": "warning",
    "stakeholder": "info",
    "test": "info",
}

# One event, one notice kind; the kinds drawn from the checklist (phase complete, T-0 start)
# are found by the outbox, which folds the release.
_BY_ACTION = {
    RELEASE_CREATED: "release_created",
    STEP_FAILED: "step_failed",
    TRIGGER_FIRED: "trigger_fired",
    ROLLBACK_STARTED: "rollback_started",
    ROLLBACK_FINISHED: "rollback_finished",
    WATCH_GO: "go",
    WATCH_NO_GO: "no_go",
    NO_GO: "no_go",
    RELEASE_CLOSED: "release_closed",
    RELEASE_CANCELLED: "release_closed",
    LEASE_TAKEN_OVER: "lease_taken_over",
}
# Kinds whose what-to-do is their own, not their severity's.
_OWN_TODO = {"step_failed", "trigger_fired", "rollback_started"}


def kind_of(event: Event) -> str | None:
    """The notice kind an event makes by itself, if any."""
    return _BY_ACTION.get(event.action)


def severity_of(notify: NotifyConfig, kind: str) -> str:
    chosen: dict[str, str] = {str(k): str(v) for k, v in notify.severity.items()}
    return chosen.get(kind, SEVERITY[kind])


def route(notify: NotifyConfig, kind: str, severity: str, environment: str) -> list[str]:
    """The channels a notice goes to: every route it matches, each channel once, in order."""
    chosen: list[str] = []
    for r in notify.routes:
        if r.severities and severity not in r.severities:
            continue
        if r.events and kind not in r.events:
            continue
        if r.environments and environment not in r.environments:
            continue
        chosen += [name for name in r.channels if name not in chosen]
    return chosen


def notice_key(*parts: object) -> str:
    """The idempotency key of a notice: the same notice to the same channel, the same key, so a
    retry (or a second sender) never posts it twice (PagerDuty's dedup_key, a mail's
    Message-ID, the webhook's Idempotency-Key)."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Context:
    """What a notice says about its release (``-`` where there is none)."""

    release: str = "-"
    version: str = "-"
    environment: str = "-"
    t0: str = "-"
    rehearsal: bool = False


def detail_of(event: Event) -> str:
    """The one line an event adds to its notice: what failed and why, the reason given."""
    d = event.details_obj
    parts = [event.subject or ""]
    if event.action == RELEASE_CREATED:
        parts = [str(d.get("plan", ""))]
    for key in ("rule", "summary", "error"):
        if d.get(key):
            parts.append(str(d[key]))
    if event.action == ROLLBACK_FINISHED:
        parts.append("undone: " + (", ".join(d.get("undone") or []) or "none"))
    if event.reason:
        parts.append(event.reason)
    if event.action in (RELEASE_CLOSED, RELEASE_CANCELLED):
        parts.append(event.action.split(".")[1])
    return " - ".join(p for p in parts if p)[:500]


def render(
    kind: str,
    severity: str,
    langs: Sequence[str],
    context: Context,
    detail: str,
    seq: int,
    actor: str,
) -> tuple[str, str]:
    """The title (in the first language) and the text (each language in turn) of a notice."""
    titles, bodies = [], []
    for lang in langs:
        what = tr(f"notify.what.{kind}", lang, detail=detail).strip()
        todo = tr(f"notify.todo.{kind}" if kind in _OWN_TODO else f"notify.todo.{severity}", lang)
        values: dict[str, Any] = {
            "severity": tr(f"notify.sev.{severity}", lang),
            "release": context.release,
            "version": context.version,
            "environment": context.environment,
            "t0": context.t0,
            "rehearsal": tr("notify.rehearsal", lang) if context.rehearsal else "",
            "what": what,
            "todo": todo,
            "seq": seq,
            "actor": actor,
        }
        titles.append(tr("notify.title", lang, **values).splitlines()[0][:200])
        bodies.append(tr("notify.body", lang, **values))
    return titles[0], "\n\n".join(bodies)
