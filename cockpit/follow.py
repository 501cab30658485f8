"""Followers are woken when the log changes: LISTEN/NOTIFY on PostgreSQL, a cheap poll on SQLite.

A :class:`Waker` says what changed in the log since the last :meth:`Waker.wait`: which releases
have new events, which step runs have new output. On PostgreSQL it is a dedicated connection
``LISTEN``ing on the channels the database's triggers ``NOTIFY`` (migration 0002:
``cockpit_events`` with ``'<seq> <release_id>'`` on every append, ``cockpit_output`` with
``'<release_id> <intent_seq>'`` on every chunk of step output): nothing is polled. When the server
goes away it reconnects with a growing pause (never spinning) and then says ``everything`` (what
was sent meanwhile is lost). On SQLite (one host) it reads ``PRAGMA data_version`` every
:data:`POLL_S` seconds and, when another connection committed, the events and output added since.
:meth:`Waker.close` may be called from any thread; a waiting :meth:`Waker.wait` returns at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from dataclasses import dataclass
from typing import Any

from cockpit.dbsetup import first_line

log = logging.getLogger("cockpit.follow")

EVENTS_CHANNEL = "cockpit_events"
OUTPUT_CHANNEL = "cockpit_output"
POLL_S = 0.25  # SQLite: how often the waker looks for another connection's commits
RECONNECT_S = (0.5, 8.0)  # PostgreSQL: the first pause before reconnecting, and the longest


@dataclass(frozen=True)
class Changes:
    """What changed in the log: releases with new events (``""`` for events of no release),
    step runs ``(release_id, intent_seq)`` with new output; ``everything`` when the waker cannot
    say (it reconnected and may have missed notifications): read everything again."""

    releases: frozenset[str] = frozenset()
    outputs: frozenset[tuple[str, int]] = frozenset()
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or bool(self.releases) or bool(self.outputs)

    def events_of(self, release_id: str | None) -> bool:
        """New events for ``release_id`` (for any release when ``None``)."""
        if self.everything:
            return True
        return bool(self.releases) if release_id is None else release_id in self.releases

    def output_of(self, release_id: str, intent_seq: int) -> bool:
        return self.everything or (release_id, intent_seq) in self.outputs

    def merged(self, other: Changes) -> Changes:
        return Changes(
            self.releases | other.releases,
            self.outputs | other.outputs,
            self.everything or other.everything,
        )


NOTHING = Changes()


def changes_of(notifications: list[tuple[str, str]]) -> Changes:
    """:class:`Changes` from ``(channel, payload)`` notifications."""
    releases: set[str] = set()
    outputs: set[tuple[str, int]] = set()
    for channel, payload in notifications:
        first, _, rest = payload.partition(" ")
        if channel == EVENTS_CHANNEL:
            releases.add(rest)
        elif channel == OUTPUT_CHANNEL and rest.isdigit():
            outputs.add((first, int(rest)))
    return Changes(frozenset(releases), frozenset(outputs))


class Waker:
    """Waits for the log to change. This base never wakes (a log no other process can write,
    such as SQLite in memory): :meth:`wait` only waits."""

    def __init__(self) -> None:
        self._closed = threading.Event()
        self._read_fd, self._write_fd = os.pipe()  # wakes a poll() when closed
        self._guard = threading.Lock()  # held while waiting; the waiter tears down after close
        self._torn_down = False

    def __enter__(self) -> Waker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def wait(self, timeout: float) -> Changes:
        """What changed, as soon as something does, within ``timeout`` seconds (else nothing).
        Returns nothing at once when the waker is closed."""
        with self._guard:
            if self._closed.is_set():
                self._tear_down()
                return NOTHING
            try:
                return self._wait(timeout)
            finally:
                if self._closed.is_set():
                    self._tear_down()

    def _wait(self, timeout: float) -> Changes:
        self._pause(timeout)
        return NOTHING

    def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; ``True`` when closed meanwhile."""
        return self._closed.wait(max(0.0, seconds))

    def close(self) -> None:
        """Stop waiting, from any thread; a :meth:`wait` running now returns at once."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            os.write(self._write_fd, b"x")
        if self._guard.acquire(blocking=False):  # nobody waits: tear down here
            try:
                self._tear_down()
            finally:
                self._guard.release()

    def _tear_down(self) -> None:
        if self._torn_down:
            return
        self._torn_down = True
        self._release()
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _release(self) -> None:
        """Close what the waker holds (a connection). Runs once, in the thread that waits."""


def libpq_url(url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://`` URL as libpq reads it."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresWaker(Waker):
    """``LISTEN`` on a dedicated connection; reconnects with a growing pause when it is lost."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._conninfo = libpq_url(url)
        self._conn: Any = None
        self._pause_s = RECONNECT_S[0]
        self._retry_at = 0.0
        self._lost = False
        self.attempts = 0  # connections tried (the first included)
        self.reconnects = 0  # connections made again after one was lost
        # LISTEN before the caller reads the state it will follow, so nothing falls between.
        self._connect()

    def _connect(self) -> bool:
        import psycopg

        self.attempts += 1
        try:
            conn = psycopg.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=5,
                application_name="cockpit follower",
                # A server that vanished without closing the connection is noticed within ~30 s.
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
            )
            try:
                for channel in (EVENTS_CHANNEL, OUTPUT_CHANNEL):
                    conn.execute(f"LISTEN {channel}")
            except BaseException:
                conn.close()
                raise
        except psycopg.Error as exc:
            if not self._lost:
                log.info("follower: cannot listen to the database (%s)", first_line(exc))
            self._lost = True
            self._retry_at = time.monotonic() + self._pause_s
            self._pause_s = min(self._pause_s * 2, RECONNECT_S[1])
            return False
        self._conn = conn
        self._pause_s = RECONNECT_S[0]
        return True

    def _drop(self, exc: BaseException) -> None:
        log.info("follower: lost the database connection (%s); reconnecting", first_line(exc))
        with contextlib.suppress(Exception):
            self._conn.close()
        self._conn = None
        self._lost = True
        self._retry_at = time.monotonic() + self._pause_s

    def _wait(self, timeout: float) -> Changes:
        import psycopg

        deadline = time.monotonic() + timeout
        while not self._closed.is_set():
            now = time.monotonic()
            if self._conn is None:
                if now >= self._retry_at and self._connect():
                    self._lost = False
                    self.reconnects += 1
                    return Changes(everything=True)  # what was sent meanwhile is lost
                if self._pause(min(deadline, self._retry_at) - now) or now >= deadline:
                    return NOTHING
                continue
            try:
                poller = select.poll()  # not select(): a descriptor past 1023 is fine
                poller.register(self._conn.fileno(), select.POLLIN)
                poller.register(self._read_fd, select.POLLIN)
                ready = [fd for fd, _ in poller.poll(max(0.0, deadline - now) * 1000)]
            except (OSError, ValueError, psycopg.Error) as exc:
                self._drop(exc)
                continue
            if self._read_fd in ready or not ready:
                return NOTHING  # closed, or the time is up
            try:
                got = [(n.channel, n.payload) for n in self._conn.notifies(timeout=0.0)]
                if self._conn.broken or self._conn.closed:
                    raise psycopg.OperationalError("the server closed the connection")
            except psycopg.Error as exc:
                self._drop(exc)
                continue
            if got:
                return changes_of(got)
            if time.monotonic() >= deadline:
                return NOTHING
        return NOTHING

    def _release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class SqliteWaker(Waker):
    """Reads ``PRAGMA data_version`` every :data:`POLL_S` seconds (it changes when another
    connection commits), then the events and output added since."""

    def __init__(self, path: str) -> None:
        import sqlite3
        from urllib.parse import quote

        super().__init__()
        self._db = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, timeout=1.0, check_same_thread=False
        )
        self._version, self._seq, self._rowid = self._read(self._db)

    @staticmethod
    def _read(db: Any) -> tuple[int, int, int]:
        version = db.execute("PRAGMA data_version").fetchone()[0]
        seq = db.execute("SELECT seq FROM chain_head WHERE id = 1").fetchone()
        rowid = db.execute("SELECT coalesce(max(rowid), 0) FROM step_output").fetchone()[0]
        return int(version), int(seq[0]) if seq else 0, int(rowid)

    def _look(self) -> Changes:
        import sqlite3

        try:
            version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
            if version == self._version:
                return NOTHING
            _, seq, rowid = self._read(self._db)
            releases = self._db.execute(
                "SELECT DISTINCT coalesce(release_id, '') FROM events WHERE seq > ?", (self._seq,)
            ).fetchall()
            outputs = self._db.execute(
                "SELECT DISTINCT release_id, intent_seq FROM step_output WHERE rowid > ?",
                (self._rowid,),
            ).fetchall()
        except sqlite3.Error:
            return NOTHING  # busy or locked: look again next time
        self._version, self._seq, self._rowid = version, seq, rowid
        return Changes(
            frozenset(str(r[0]) for r in releases),
            frozenset((str(r), int(s)) for r, s in outputs),
        )

    def _wait(self, timeout: float) -> Changes:
        deadline = time.monotonic() + timeout
        while True:
            found = self._look()
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0 or self._pause(min(POLL_S, left)):
                return NOTHING

    def _release(self) -> None:
        self._db.close()


def waker_for(url: str) -> Waker:
    """The waker for the log at ``url`` (a store's URL)."""
    if url.startswith("postgresql"):
        return PostgresWaker(url)
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ""
    if not path or path == ":memory:" or not os.path.exists(path):
        return Waker()
    return SqliteWaker(path)
