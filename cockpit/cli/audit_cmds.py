"""``cockpit audit verify|export|tail``: check the hash chain (exit 1 if broken), export the events,
or follow the newest ones.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from cockpit.cli.base import Command, add, count, output_path
from cockpit.errors import UsageError
from cockpit.vocabulary import EXPORT_FORMATS


def cmd_audit_verify(cmd: Command) -> int:
    from cockpit.store import read_checkpoint

    if cmd.args.checkpoint:
        checkpoint = read_checkpoint(Path(cmd.args.checkpoint))
        source = cmd.args.checkpoint
    else:
        checkpoint = read_checkpoint(cmd.session.checkpoint_file, missing_ok=True)
        source = str(cmd.session.checkpoint_file)
    started = time.perf_counter()
    report = cmd.session.store.verify(checkpoint)
    elapsed = time.perf_counter() - started
    if cmd.args.json:
        cmd.print(
            json.dumps(
                {
                    "ok": report.ok,
                    "events": report.count,
                    "head": {"seq": report.head_seq, "hash": report.head_hash},
                    "checkpoint": None
                    if checkpoint is None
                    else {"seq": checkpoint.seq, "hash": checkpoint.hash, "file": source},
                    "finding": None
                    if report.problem is None
                    else {
                        "code": report.problem.code,
                        "seq": report.problem.seq,
                        "message": report.problem.message,
                    },
                    "warnings": [
                        {"code": w.code, "seq": w.seq, "message": w.message}
                        for w in report.warnings
                    ],
                },
                indent=2,
            )
        )
        return 0 if report.ok else 1
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.problem is not None:
        cmd.print(f"audit chain BROKEN: {report.problem}")
        return 1
    anchor = (
        f"matches checkpoint seq {checkpoint.seq}"
        if checkpoint and checkpoint.seq
        else "no checkpoint: a cut-off or rewritten end cannot be detected"
    )
    cmd.print(
        f"audit chain ok: {report.count} events, head #{report.head_seq} "
        f"{report.head_hash[:12]}, {anchor} ({elapsed:.2f}s)"
    )
    return 0


def _release_filter(cmd: Command) -> str | None:
    if not getattr(cmd.args, "release", None):
        return None
    from cockpit.release import find_release_id

    return find_release_id(cmd.session.store, cmd.args.release)


def cmd_audit_export(cmd: Command) -> int:
    from cockpit.audit_export import export

    target = output_path(cmd.args.output, "--output") if cmd.args.output else None
    events = cmd.session.store.events(release_id=_release_filter(cmd))
    out: TextIO = cmd.out
    handle = None
    if target is not None:
        try:
            handle = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(
                f"--output {target}: cannot write it ({exc.strerror or exc})"
            ) from None
        out = handle
    try:
        export(events, cmd.args.format, out)
    finally:
        if handle:
            handle.close()
    return 0


def cmd_audit_tail(cmd: Command) -> int:
    from cockpit.audit_export import format_event_line

    release_id = _release_filter(cmd)
    events = cmd.session.store.events(release_id=release_id, last=cmd.args.lines)
    for ev in events:
        cmd.print_line(format_event_line(ev))
    if not cmd.args.follow:
        return 0
    last = events[-1].seq if events else 0
    try:
        while True:
            time.sleep(1.0)
            for ev in cmd.session.store.events(release_id=release_id, after_seq=last):
                cmd.print_line(format_event_line(ev))
                last = ev.seq
            cmd.out.flush()
    except KeyboardInterrupt:
        return 0


def register(sub: Any) -> None:
    """``audit verify|export|tail``."""
    audit = sub.add_parser("audit", help="verify, export or follow the audit log")
    audit_sub = audit.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(audit_sub, "verify", cmd_audit_verify, "check the hash chain (exit 1 if broken)")
    p.add_argument("--checkpoint", metavar="FILE", help="checkpoint file to check the head against")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p = add(audit_sub, "export", cmd_audit_export, "export events")
    p.add_argument("--format", choices=EXPORT_FORMATS, default=EXPORT_FORMATS[0])
    p.add_argument("--release", metavar="ID", help="only this release")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    p = add(audit_sub, "tail", cmd_audit_tail, "show the newest events")
    p.add_argument("-n", "--lines", type=count, default=20, help="how many (default 20)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    p.add_argument("--release", metavar="ID", help="only this release")
