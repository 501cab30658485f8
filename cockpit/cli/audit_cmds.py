"""``cockpit audit verify|export|tail|acknowledge``: check the hash chain and every signature (exit
1 if either is wrong), export the events, follow the newest ones, or record an acknowledged break
so appends go on.

``verify`` and ``export`` open the log read-only (:attr:`cockpit.store.Store.read_only`): they
work on an auditor's read-only copy and never migrate it or write a checkpoint.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cockpit.cli.base import Command, add, count, output_path
from cockpit.errors import Phrase, UsageError
from cockpit.vocabulary import AUDIT_BREAK_ACKNOWLEDGED, EXPORT_FORMATS

if TYPE_CHECKING:
    from cockpit.events import Event
    from cockpit.store import Store


def _read_only_store(cmd: Command) -> Store:
    """The configured log, opened read-only (exit 2 with one line when there is none), with the
    allowed signers its signatures are checked against."""
    from cockpit.store import Store

    store = Store(
        cmd.session.db_url,
        busy_timeout_ms=cmd.session.loaded.config.database.busy_timeout_ms,
        read_only=True,
    ).open()
    store.signers = cmd.session.signers
    return store


def _acknowledgement(ev: Event) -> str:
    details = json.loads(ev.details)
    return (
        f"break at seq {details.get('seq')} ({details.get('code')}) acknowledged as #{ev.seq} "
        f"by {ev.actor} at {ev.recorded_at}: {ev.reason}"
    )


def cmd_audit_verify(cmd: Command) -> int:
    from cockpit.store import read_checkpoint

    if cmd.args.checkpoint:
        checkpoint = read_checkpoint(Path(cmd.args.checkpoint))
        source = cmd.args.checkpoint
    else:
        checkpoint = read_checkpoint(cmd.session.checkpoint_file, missing_ok=True)
        source = str(cmd.session.checkpoint_file)
    store = _read_only_store(cmd)
    started = time.perf_counter()
    report = store.verify(checkpoint)
    elapsed = time.perf_counter() - started
    acks = store.events(actions=(AUDIT_BREAK_ACKNOWLEDGED,))
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
                    "principals": [
                        {"code": p.code, "seq": p.seq, "message": p.message}
                        for p in report.principals
                    ],
                    "identity": [
                        {"code": f.code, "seq": f.seq, "message": f.message}
                        for f in report.identity
                    ],
                    "acknowledged": [
                        {"seq": ev.seq, "actor": ev.actor, "reason": ev.reason}
                        | {"break": json.loads(ev.details)}
                        for ev in acks
                    ],
                },
                indent=2,
            )
        )
        return 0 if report.ok else 1
    for warning in report.warnings:
        print(cmd.session.t("aud.warning", warning=warning), file=sys.stderr)
    if report.problem is not None:
        cmd.say("aud.broken", problem=report.problem)
    for finding in report.principals:
        cmd.say("aud.principal", finding=finding)
    for finding in report.identity:
        cmd.say("aud.identity", finding=finding)
    for ev in acks:
        cmd.print(_acknowledgement(ev))
    if report.problem is not None:
        return 1
    anchor = (
        Phrase("aud.anchor", {"seq": checkpoint.seq})
        if checkpoint and checkpoint.seq
        else Phrase("aud.no_anchor")
    )
    cmd.say(
        "aud.ok",
        count=report.count,
        seq=report.head_seq,
        hash=report.head_hash[:12],
        anchor=anchor,
        seconds=f"{elapsed:.2f}",
    )
    signers = store.signers
    if report.identity:
        cmd.say("aud.not_proven", count=len(report.identity))
    elif signers is not None:
        cmd.say("aud.sig_ok", path=signers.path)
    else:
        cmd.say("aud.sig_none")
    return 0 if report.ok else 1  # an intact chain, with events unproven or in another's name


def _release_filter(cmd: Command, store: Store | None = None) -> str | None:
    if not getattr(cmd.args, "release", None):
        return None
    from cockpit.release import find_release_id

    return find_release_id(store or cmd.session.store, cmd.args.release)


def cmd_audit_export(cmd: Command) -> int:
    from cockpit.audit_export import export

    target = output_path(cmd.args.output, "--output") if cmd.args.output else None
    store = _read_only_store(cmd)
    events = store.events(release_id=_release_filter(cmd, store))
    out: TextIO = cmd.out
    handle = None
    if target is not None:
        try:
            handle = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            cause = exc.strerror or exc
            raise UsageError.said(
                "err.cannot_write", option="--output", value=target, cause=cause
            ) from None
        out = handle
    try:
        export(events, cmd.args.format, out, store.signers, times=cmd.session.times)
    finally:
        if handle:
            handle.close()
    return 0


def cmd_audit_tail(cmd: Command) -> int:
    from cockpit.audit_export import format_event_line

    release_id = _release_filter(cmd)
    store = cmd.session.store
    events = store.events(release_id=release_id, last=cmd.args.lines)
    for ev in events:
        cmd.print_line(format_event_line(ev, store.signers, times=cmd.session.times))
    if not cmd.args.follow:
        return 0
    last = events[-1].seq if events else 0
    try:
        while True:
            time.sleep(1.0)
            for ev in store.events(release_id=release_id, after_seq=last):
                cmd.print_line(format_event_line(ev, store.signers, times=cmd.session.times))
                last = ev.seq
            cmd.out.flush()
    except KeyboardInterrupt:
        return 0


def cmd_audit_acknowledge(cmd: Command) -> int:
    """Record that a break found by ``audit verify`` (or refused by an append) was investigated,
    by whom and why: appends go on; ``audit verify`` still reports the break and names this."""
    from cockpit.errors import UsageError
    from cockpit.events import NewEvent
    from cockpit.store import read_checkpoint

    reason = cmd.args.reason.strip()
    if not reason:
        raise UsageError.said("err.ack_reason")
    store = cmd.session.store
    report = store.verify(read_checkpoint(cmd.session.checkpoint_file, missing_ok=True))
    findings = [f for f in (report.problem, store.tail_finding()) if f is not None]
    if not findings:
        raise UsageError.said("err.ack_intact")
    finding = next((f for f in findings if f.seq == cmd.args.seq), None)
    if finding is None:
        raise UsageError.said("err.ack_seq", seq=cmd.args.seq, finding=findings[0])
    ev = store.append(
        NewEvent(
            action=AUDIT_BREAK_ACKNOWLEDGED,
            reason=reason,
            outcome="acknowledged",
            details={"seq": finding.seq, "code": finding.code, "finding": finding.message},
        ),
        cmd.session.operator,
    )
    cmd.print(f"{_acknowledgement(ev)}; appends go on")
    return 0


def register(sub: Any) -> None:
    """``audit verify|export|tail|acknowledge``."""
    audit = sub.add_parser("audit", help="verify, export or follow the audit log")
    audit_sub = audit.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(
        audit_sub,
        "verify",
        cmd_audit_verify,
        "check the hash chain and every signature (exit 1 if broken or not proven)",
    )
    p.add_argument("--checkpoint", metavar="FILE", help="checkpoint file to check the head against")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p = add(audit_sub, "export", cmd_audit_export, "export events")
    p.add_argument("--format", choices=EXPORT_FORMATS, default=EXPORT_FORMATS[0])
    p.add_argument("--release", metavar="ID", help="only this release")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    p = add(
        audit_sub,
        "acknowledge",
        cmd_audit_acknowledge,
        "record an investigated break of the chain, so appends go on",
    )
    p.add_argument("--seq", type=int, required=True, help="the first bad seq (as verify names)")
    p.add_argument("--reason", required=True, help="what was found and why appends may go on")
    p = add(audit_sub, "tail", cmd_audit_tail, "show the newest events")
    p.add_argument("-n", "--lines", type=count, default=20, help="how many (default 20)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    p.add_argument("--release", metavar="ID", help="only this release")
