"""What the audit viewer's detail pane shows, as text: one event in full (its time as the cockpit
shows moments and as logged, the release, subject and outcome, who, what the signature proves,
the whole reason, the database's own stamp, the details and the evidence).
A pure function of what the screen's worker read (:mod:`cockpit.eventdetail`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.text import Text

from cockpit.identity import actor_name

if TYPE_CHECKING:
    from cockpit.eventdetail import EventDetail
    from cockpit.session import Session


def _value(value: Any) -> str:
    """A field's value: text as it is, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    shown = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return shown.replace("\n", "\n    ")


def _fields(text: Text, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        text.append(f"  {name}: ", style="dim")
        text.append(_value(value) + "\n")


def _evidence(
    session: Session, text: Text, evidence: dict[str, Any], proven: dict[str, str]
) -> None:
    """``login: alice  (claimed, given)``: each part of who acted, and whether it is proven.
    ``proven``: what the event's verified signature proves now (its key's fingerprint and the
    principal the allowed signers give it): the key and principal the process claimed when it
    wrote the event are shown verified when they are those."""
    for name, part in evidence.items():
        if not (isinstance(part, dict) and "value" in part):
            _fields(text, {name: part})
            continue
        source = part.get("source", "-")
        if proven.get(name) == part["value"]:
            verified, source = True, session.t("audit.detail.by_signature")
        else:
            verified = bool(part.get("verified"))
        mark = "audit.detail.verified" if verified else "audit.detail.claimed"
        text.append(f"  {name}: ", style="dim")
        text.append(_value(part["value"]))
        text.append("  " + session.t(mark, source=source) + "\n", style="dim")


def signature_text(session: Session, detail: EventDetail) -> str:
    """``verified: alice, key SHA256:...``; otherwise why the actor stays a claim."""
    values = {
        "name": detail.principal or actor_name(detail.event.actor),
        "fingerprint": detail.key or "-",
    }
    return session.t("audit.sig." + (detail.signature or "NONE"), **values)


def detail_text(session: Session, detail: EventDetail | None) -> Text:
    """The pane for ``detail`` (``None``: no event under the cursor)."""
    t = session.t
    if detail is None:
        return Text(t("audit.detail.none"), style="dim")
    ev, times = detail.event, session.times
    text = Text(f"#{ev.seq} {ev.action}", style="bold")
    if ev.rehearsal:
        text.append("  ")
        text.append("REHEARSAL", style="reverse")
    text.append("\n")

    def row(label: str, value: str, style: str = "") -> None:
        text.append(f"{t(label)}: ", style="dim")
        text.append(value + "\n", style=style)

    row("audit.detail.when", f"{times.show(ev.recorded_at, 'full')}  ({ev.recorded_at})")
    if ev.release_id:
        row("audit.detail.release", ev.release_id)
    if ev.subject:
        row("audit.detail.subject", ev.subject)
    if ev.outcome:
        row("audit.detail.outcome", ev.outcome)
    row("audit.detail.actor", ev.actor)
    verified = detail.principal is not None
    row("audit.detail.signature", signature_text(session, detail), "bold" if verified else "")
    if ev.reason:
        row("audit.detail.reason", ev.reason)
    if detail.db_user or detail.db_time:
        when = times.show(detail.db_time, "full") if detail.db_time else "-"
        row("audit.detail.db", t("audit.detail.db_stamp", user=detail.db_user or "-", when=when))
    details = ev.details_obj
    if details:
        text.append(t("audit.detail.details") + ":\n", style="dim")
        _fields(text, details)
    text.append(t("audit.detail.evidence") + ":\n", style="dim")
    proven = {"key": detail.key, "principal": detail.principal} if verified else {}
    _evidence(session, text, ev.evidence_obj, {k: v for k, v in proven.items() if v})
    return text
