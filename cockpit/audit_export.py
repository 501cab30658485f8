"""Export events as JSON Lines, CSV or a Markdown table (for a change record or a report).

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


def export(events: Sequence[Event], fmt: str, out: TextIO, signers: Signers | None = None) -> None:
    """Write ``events`` to ``out`` as ``jsonl``, ``csv`` or ``md``, identities checked against
    ``signers``. Details were redacted when they were recorded, so no secret can appear here."""
    if fmt == "jsonl":
        for ev in events:
            row = ev.as_dict() | {"verified": identity_verified(ev, signers)}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for ev in events:
            shown = {
                "actor": shown_actor(ev, signers),
                "verified": str(identity_verified(ev, signers)).lower(),
                "rehearsal": str(ev.rehearsal).lower(),
            }
            writer.writerow(
                [
                    shown[name]
                    if name in shown
                    else ("" if getattr(ev, name) is None else getattr(ev, name))
                    for name in CSV_COLUMNS
                ]
            )
    elif fmt == "md":
        out.write("| seq | recorded (UTC) | actor | action | release | subject | reason |\n")
        out.write("|---:|---|---|---|---|---|---|\n")
        for ev in events:
            cells = [
                str(ev.seq),
                ev.recorded_at,
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


def format_event_line(ev: Event, signers: Signers | None = None, lang: str = "en") -> str:
    """``#12  11-23 09:40:24Z alice@bastion-1  note  r-1a2b3c4d "text" [R]`` (time in UTC;
    ``alice@bastion-1 (claimed)`` unless signed by a key of alice)."""
    when = ev.recorded_at[5:19].replace("T", " ") + "Z"
    actor = shown_actor(ev, signers, lang)
    parts = [f"#{ev.seq:<4}", when, f"{actor:<15}", f"{ev.action:<15}"]
    if ev.release_id:
        parts.append(ev.release_id)
    if ev.subject:
        parts.append(ev.subject)
    if ev.reason:
        parts.append(f'"{ev.reason}"')
    if ev.rehearsal:
        parts.append("[R]")
    return " ".join(parts)
