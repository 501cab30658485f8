"""Export events as JSON Lines, CSV or a Markdown table (for a change record or a report).

Times are data in JSON Lines (``recorded_at``, RFC 3339 UTC, as logged); CSV keeps that column
and adds the moment as people read it, in the change window's zone named in the column's title
(``recorded (Asia/Tokyo)``); Markdown shows only that (:mod:`cockpit.timefmt`).

An actor whose identity is not verified by a signature (:mod:`cockpit.identity`) is shown as
claimed in CSV, Markdown and the tail's lines; JSON Lines keeps the raw fields and adds
``verified``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import TextIO

from cockpit.events import Event
from cockpit.identity import Signers, identity_verified, shown_actor
from cockpit.timefmt import TimeFormat

CSV_COLUMNS = (
    "seq",
    "recorded_at",
    "release_id",
    "action",
    "subject",
    "outcome",
    "reason",
    "rehearsal",
    "actor",
    "details",
    "actor_evidence",
    "event_id",
    "prev_hash",
    "hash",
    "signature",
    "verified",
)


def export(
    events: Sequence[Event],
    fmt: str,
    out: TextIO,
    signers: Signers | None = None,
    *,
    times: TimeFormat,
) -> None:
    """Write ``events`` to ``out`` as ``jsonl``, ``csv`` or ``md``, identities checked against
    ``signers``, moments shown as ``times`` writes them. Details were redacted when they were
    recorded, so no secret can appear here."""
    if fmt == "jsonl":
        for ev in events:
            row = ev.as_dict() | {"verified": identity_verified(ev, signers)}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        shown_at = f"recorded ({times.name})"
        columns = (*CSV_COLUMNS[:2], shown_at, *CSV_COLUMNS[2:])
        writer.writerow(columns)
        for ev in events:
            shown = {
                shown_at: times.show(ev.recorded_at, "full"),
                "actor": shown_actor(ev, signers),
                "verified": str(identity_verified(ev, signers)).lower(),
                "rehearsal": str(ev.rehearsal).lower(),
            }
            writer.writerow(
                [
                    shown[name]
                    if name in shown
                    else ("" if getattr(ev, name) is None else getattr(ev, name))
                    for name in columns
                ]
            )
    elif fmt == "md":
        head = f"| seq | recorded ({times.name}) | actor | action | release | subject | reason |\n"
        out.write(head)
        out.write("|---:|---|---|---|---|---|---|\n")
        for ev in events:
            cells = [
                str(ev.seq),
                times.show(ev.recorded_at, "full"),
                shown_actor(ev, signers),
                ev.action + (" (rehearsal)" if ev.rehearsal else ""),
                ev.release_id or "",
                ev.subject or "",
                ev.reason or "",
            ]
            out.write("| " + " | ".join(_md_cell(c) for c in cells) + " |\n")
        if events:
            out.write(f"\nLast event exported: #{events[-1].seq} `{events[-1].hash}`\n")
    else:
        raise ValueError(f"unknown export format {fmt!r}")


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def format_event_line(
    ev: Event, signers: Signers | None = None, lang: str = "en", *, times: TimeFormat
) -> str:
    """``#12   11-23 18:40:24 JST alice@bastion-1  note  r-1a2b3c4d "text" [R]`` (the time as
    ``times`` shows it; ``alice@bastion-1 (claimed)`` unless signed by a key of alice)."""
    return event_line(
        ev.seq, times.show(ev.recorded_at, "stamp"), event_line_rest(ev, signers, lang)
    )


def event_line(seq: int, when: str, rest: str) -> str:
    """The line of :func:`format_event_line` from its parts: the time can change (UTC on a
    key) while the rest, whose signature was checked, stays."""
    return f"#{seq:<4} {when} {rest}"


def event_line_rest(ev: Event, signers: Signers | None = None, lang: str = "en") -> str:
    """What follows the time in an event's line: who (claimed unless signed), the action, the
    release, the subject, the reason, ``[R]`` in a rehearsal."""
    actor = shown_actor(ev, signers, lang)
    parts = [f"{actor:<15}", f"{ev.action:<15}"]
    if ev.release_id:
        parts.append(ev.release_id)
    if ev.subject:
        parts.append(ev.subject)
    if ev.reason:
        parts.append(f'"{ev.reason}"')
    if ev.rehearsal:
        parts.append("[R]")
    return " ".join(parts)
