"""Export events as JSON Lines, CSV or a Markdown table (for a change record or a report)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import TextIO

from cockpit.events import Event

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
)


def export(events: Sequence[Event], fmt: str, out: TextIO) -> None:
    """Write ``events`` to ``out`` as ``jsonl``, ``csv`` or ``md``. Details were redacted when
    they were recorded, so no secret can appear here."""
    if fmt == "jsonl":
        for ev in events:
            out.write(json.dumps(ev.as_dict(), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for ev in events:
            writer.writerow(
                [
                    str(getattr(ev, name)).lower()
                    if name == "rehearsal"
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
                ev.actor,
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


def format_event_line(ev: Event) -> str:
    """``#12  11-23 09:40:24Z alice@bastion-1  note  r-1a2b3c4d "text" [R]`` (time in UTC)."""
    when = ev.recorded_at[5:19].replace("T", " ") + "Z"
    parts = [f"#{ev.seq:<4}", when, f"{ev.actor:<15}", f"{ev.action:<15}"]
    if ev.release_id:
        parts.append(ev.release_id)
    if ev.subject:
        parts.append(ev.subject)
    if ev.reason:
        parts.append(f'"{ev.reason}"')
    if ev.rehearsal:
        parts.append("[R]")
    return " ".join(parts)
