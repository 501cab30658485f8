"""A running step's output in the database, for followers on other hosts.

A step's supervisor writes the step's output (already masked) to ``step_output`` with an
:class:`OutputRecorder`: in chunks of whole lines, batched (every :data:`FLUSH_S` seconds or
:data:`CHUNK_BYTES`, whichever comes first), capped per run (:data:`CAP_BYTES`, then one
"output truncated" line), in a thread of its own, so the step is never slowed or failed by it (a
database error is logged and the step goes on). Each chunk is filed under the seq of the step's
intent (``step.started``); the database NOTIFYs ``cockpit_output`` for each (migration 0002), which
wakes followers (:mod:`cockpit.follow`). A chunk with empty text marks the end of the run's output.
:class:`StoredOutput` reads it back, for a follower where the spool file does not exist.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cockpit.dbsetup import first_line
from cockpit.events import now_utc
from cockpit.vocabulary import ROLLBACK_FINISHED, ROLLBACK_STARTED, STEP_STARTED

if TYPE_CHECKING:
    from cockpit.store import Store

log = logging.getLogger("cockpit.stepoutput")

FLUSH_S = 0.3  # the longest a line waits before it is written
CHUNK_BYTES = 4096  # ... or this much output, whichever comes first
CAP_BYTES = 2 * 1024 * 1024  # the most output one run writes to the database
END_WAIT_S = 3.0  # a follower waits this long after the outcome for the last output


def intent_seq_of(store: Store, release_id: str, item_id: str, after: int) -> int | None:
    """The seq of the last ``step.started`` of ``item_id`` after seq ``after``."""
    found = [
        ev.seq
        for ev in store.events(release_id=release_id, after_seq=after, actions=(STEP_STARTED,))
        if ev.subject == item_id
    ]
    return found[-1] if found else None


ROLLBACK_OUTPUT = "rollback"  # the item name a rollback's output is filed under


def rollback_seq_of(store: Store, release_id: str) -> int | None:
    """The seq of the release's latest ``rollback.started`` (the rollback running or last run)."""
    found = store.events(release_id=release_id, actions=(ROLLBACK_STARTED,), last=1)
    return found[0].seq if found else None


def read_output(
    store: Store, release_id: str, intent_seq: int, after_chunk: int = -1
) -> list[tuple[int, str]]:
    """The chunks ``(chunk, text)`` of one step run's output after ``after_chunk``, in order."""

    def read(cursor: Any, mark: str) -> list[tuple[int, str]]:
        cursor.execute(
            f"SELECT chunk, text FROM step_output WHERE release_id = {mark} "
            f"AND intent_seq = {mark} AND chunk > {mark} ORDER BY chunk",
            (release_id, intent_seq, after_chunk),
        )
        return [(int(chunk), str(body)) for chunk, body in cursor.fetchall()]

    return store.read_with(read)


def last_run(store: Store, release_id: str, item_id: str) -> tuple[list[str], str]:
    """The output lines of ``item_id``'s last run (recorded under its latest ``step.started``)
    and the error its outcome recorded ("" when none): what a runbook opened later shows.
    ``item_id`` :data:`ROLLBACK_OUTPUT`: the last rollback's, and its failed undo's error."""
    if item_id == ROLLBACK_OUTPUT:
        return _last_rollback(store, release_id)
    events = [e for e in store.events(release_id=release_id) if e.subject == item_id]
    started = [e for e in events if e.action == STEP_STARTED]
    if not started:
        return [], ""
    intent = started[-1].seq
    lines = "".join(body for _chunk, body in read_output(store, release_id, intent)).splitlines()
    failed = [e for e in events if e.seq > intent and e.details_obj.get("error")]
    return lines, str(failed[-1].details_obj["error"]) if failed else ""


def _last_rollback(store: Store, release_id: str) -> tuple[list[str], str]:
    intent = rollback_seq_of(store, release_id)
    if intent is None:
        return [], ""
    lines = "".join(body for _chunk, body in read_output(store, release_id, intent)).splitlines()
    ends = store.events(release_id=release_id, after_seq=intent, actions=(ROLLBACK_FINISHED,))
    end = next((e.details_obj for e in ends if e.details_obj.get("rollback_seq") == intent), {})
    return lines, str(end.get("error") or "")


@dataclass
class LineFeed:
    """Text as it comes, in pieces; each whole line passed on once."""

    output: Callable[[str], None]
    partial: str = ""

    def feed(self, text: str) -> None:
        *whole, self.partial = (self.partial + text).split("\n")
        for line in whole:
            self.output(line)


class StoredOutput:
    """A step run's output read back from the database (a follower where the spool is not)."""

    def __init__(
        self, store: Store, release_id: str, intent_seq: int, output: Callable[[str], None]
    ) -> None:
        self.store, self.release_id, self.intent_seq = store, release_id, intent_seq
        self.lines = LineFeed(output)
        self.after = -1
        self.ended = False  # the end mark was read: nothing more will come

    def drain(self) -> None:
        try:
            chunks = read_output(self.store, self.release_id, self.intent_seq, self.after)
        except Exception as exc:  # the database hiccuped: read again when woken next
            log.info("follower: cannot read the step's output (%s)", first_line(exc))
            return
        for chunk, body in chunks:
            self.after = chunk
            if body:
                self.lines.feed(body)
            else:
                self.ended = True


@dataclass
class OutputRecorder:
    """A running step's output, line by line, to ``step_output`` (see the module's doc).

    :meth:`add` never blocks on the database and never raises. Lines are kept until the step's
    intent is recorded (:meth:`intent_recorded`; then ``find_intent`` gives its seq), since the
    output is filed under it; :meth:`close` writes what is left and the end mark."""

    store: Store
    release_id: str
    item_id: str
    find_intent: Callable[[], int | None]
    mask: Callable[[str], str] = lambda text: text
    truncated_line: str = "--- output truncated: the rest is in the spool on the step's host"
    cap_bytes: int = CAP_BYTES
    intent_seq: int | None = None
    chunks: int = 0
    _pending: list[str] = field(default_factory=list)
    _pending_bytes: int = 0
    _first_at: float = 0.0
    _accepted: int = 0
    _truncated: bool = False
    _started: bool = False
    _closing: bool = False
    _failing: bool = False
    _next_try: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _kick: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name="step-output", daemon=True)
        self._thread.start()

    def add(self, line: str) -> None:
        size = _size(line)
        with self._lock:
            if self._truncated:
                return
            if self._accepted + size > self.cap_bytes:
                self._truncated = True
                line, size = self.truncated_line, _size(self.truncated_line)
            self._accepted += size
            if not self._pending:
                self._first_at = time.monotonic()
            self._pending.append(line)
            self._pending_bytes += size
            kick = len(self._pending) == 1 or self._pending_bytes >= CHUNK_BYTES
        if kick:
            self._kick.set()

    def intent_recorded(self) -> None:
        """The step's intent is in the log: its output can be filed under it now."""
        self._started = True
        self._kick.set()

    def close(self, timeout: float = 2.0) -> None:
        """Write what is left and the end mark (within ``timeout`` seconds; the step's
        outcome is already recorded, nothing waits on this but the supervisor's exit)."""
        self._closing = True
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            wait = self._due()
            if wait is None or wait > 0:
                self._kick.wait(wait)
                self._kick.clear()
            if self._started and self.intent_seq is None and time.monotonic() >= self._next_try:
                self.intent_seq = self._safely(self._intent_and_chunk)
                if self.intent_seq is None:
                    self._next_try = time.monotonic() + 1.0
            if self.intent_seq is not None and (self._closing or self._due() == 0.0):
                self._flush()
            if self._closing:
                if self.intent_seq is not None:
                    self._flush()
                    self._write("")  # the end mark
                return

    def _due(self) -> float | None:
        """Seconds until there is something to do (0.0: now); ``None``: until kicked."""
        if self._closing:
            return 0.0
        now = time.monotonic()
        retry = max(0.0, self._next_try - now)
        if self.intent_seq is None:
            return retry if self._started else None  # the intent's seq is needed first
        with self._lock:
            if not self._pending:
                return None
            if self._pending_bytes >= CHUNK_BYTES:
                return retry
            return max(retry, self._first_at + FLUSH_S - now)

    def _flush(self) -> None:
        """Write what waits, in chunks of about :data:`CHUNK_BYTES` (lines kept whole); what
        could not be written waits for the next try (the cap bounds what is kept)."""
        with self._lock:
            lines, self._pending, self._pending_bytes = self._pending, [], 0
        while lines:
            size, count = 0, 0
            while count < len(lines) and (count == 0 or size + _size(lines[count]) <= CHUNK_BYTES):
                size += _size(lines[count])
                count += 1
            if not self._write("\n".join(lines[:count]) + "\n"):
                with self._lock:
                    self._pending[:0] = lines
                    self._pending_bytes += sum(_size(line) for line in lines)
                return
            lines = lines[count:]

    def _write(self, body: str) -> bool:
        from sqlalchemy import text

        assert self.intent_seq is not None
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO step_output (release_id, intent_seq, chunk, item_id, "
                        "written_at, text) VALUES (:r, :s, :c, :i, :w, :t)"
                    ),
                    {
                        "r": self.release_id,
                        "s": self.intent_seq,
                        "c": self.chunks,
                        "i": self.item_id,
                        "w": now_utc(),
                        "t": self.mask(body),
                    },
                )
        except Exception as exc:
            self._next_try = time.monotonic() + 1.0
            if not self._failing:
                log.warning(
                    "%s: step output not written to the database (%s); the step goes on",
                    self.item_id,
                    first_line(exc),
                )
            self._failing = True
            return False
        self._failing = False
        self.chunks += 1
        return True

    def _intent_and_chunk(self) -> int | None:
        """The intent's seq, and the chunks numbered on after what is filed under it already
        (a resumed rollback goes on under the intent it resumes)."""
        from sqlalchemy import text

        seq = self.find_intent()
        if seq is not None:
            with self.store.engine.connect() as conn:
                self.chunks = int(
                    conn.execute(
                        text(
                            "SELECT coalesce(max(chunk) + 1, 0) FROM step_output "
                            "WHERE release_id = :r AND intent_seq = :s"
                        ),
                        {"r": self.release_id, "s": seq},
                    ).scalar_one()
                )
        return seq

    def _safely(self, read: Callable[[], int | None]) -> int | None:
        try:
            return read()
        except Exception as exc:
            log.warning("%s: cannot find the step's intent (%s)", self.item_id, first_line(exc))
            return None


def _size(line: str) -> int:
    """Bytes a line takes in the output (its newline included)."""
    return len(line.encode("utf-8", "replace")) + 1
