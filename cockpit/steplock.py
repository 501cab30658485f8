"""One run of a step at a time: the lock a step's supervisor holds for the life of the step.

On the embedded default (SQLite, one host) it is a file lock (``flock``) in the step directory
beside the log; on PostgreSQL it is a session advisory lock, which every bastion host sharing the
database sees. Either way the operating system or the database server releases it when the
supervisor dies, however it dies, so a lock never outlives its holder. Who holds it is written
where a refused peer can read it: in the lock file, or in the holder's ``application_name``.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.store import Store


def step_dir(store: Store) -> Path:
    """Where the steps' locks and output spools live: beside the SQLite log, or in the user
    data directory for a database elsewhere."""
    if store.url.startswith("sqlite:///") and store.url != "sqlite:///:memory:":
        return Path(store.url.removeprefix("sqlite:///")).resolve().parent / "steps"
    from cockpit.config import user_data_dir

    return user_data_dir() / "steps"


@dataclass(frozen=True)
class Holder:
    """Who runs the step: shown to anyone refused while it runs."""

    actor: str
    host: str
    pid: int
    since: str

    def text(self) -> str:
        return f"{self.actor} on {self.host} (pid {self.pid}) since {self.since}"

    def as_dict(self) -> dict[str, Any]:
        return {"actor": self.actor, "host": self.host, "pid": self.pid, "since": self.since}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Holder:
        return cls(str(data["actor"]), str(data["host"]), int(data["pid"]), str(data["since"]))


UNKNOWN = Holder("another cockpit", "?", 0, "?")


class StepLock:
    """The lock of one (release, item). :meth:`acquire` takes it or says who has it;
    :meth:`holder` only looks."""

    def __init__(self, store: Store, release_id: str, item_id: str) -> None:
        self.store = store
        self.key = f"{release_id}/{item_id}"
        self._fd: int | None = None
        self._conn: Any = None

    # -- the file lock (SQLite) ------------------------------------------------------------

    def _path(self) -> Path:
        folder = step_dir(self.store) / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / (self.key.replace("/", ".") + ".lock")

    def _file_acquire(self, holder: Holder) -> Holder | None:
        import fcntl

        fd = os.open(self._path(), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            found = _read_holder(fd)
            os.close(fd)
            return found
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder.as_dict()).encode(), 0)
        self._fd = fd
        return None

    def _file_holder(self) -> Holder | None:
        import fcntl

        fd = os.open(self._path(), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        finally:
            os.close(fd)  # closing also drops the shared lock taken to look
        return None

    # -- the advisory lock (PostgreSQL) ------------------------------------------------------

    def _pg_acquire(self, holder: Holder) -> Holder | None:
        conn = self.store.engine.connect()
        name = _app_name(self.key, holder)
        conn.exec_driver_sql("SELECT set_config('application_name', %s, false)", (name,))
        got = conn.exec_driver_sql(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (self.key,)
        ).scalar()
        conn.commit()
        if got:
            self._conn = conn
            return None
        conn.close()
        return self._pg_holder() or UNKNOWN

    def _pg_holder(self) -> Holder | None:
        with self.store.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted"
                " AND ((l.classid::bigint << 32) | l.objid::bigint) ="
                " (hashtextextended(%s, 0) & x'ffffffffffffffff'::bigint)",
                (self.key,),
            ).first()
        if row is None:
            return None
        return _parse_app_name(str(row[0])) or UNKNOWN

    # -- both ------------------------------------------------------------------------------

    def acquire(self, holder: Holder) -> Holder | None:
        """Take the lock for ``holder``; ``None`` when taken, else who holds it."""
        if self.store.is_sqlite:
            return self._file_acquire(holder)
        return self._pg_acquire(holder)

    def holder(self) -> Holder | None:
        """Who holds the lock now, without taking it; ``None`` when it is free."""
        if self.store.is_sqlite:
            return self._file_holder()
        return self._pg_holder()

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # closing the session releases the advisory lock
            self._conn = None


def _read_holder(fd: int) -> Holder:
    try:
        return Holder.from_dict(json.loads(os.pread(fd, 4096, 0) or b"{}"))
    except (ValueError, KeyError, TypeError):
        return UNKNOWN


def _app_name(key: str, holder: Holder) -> str:
    """``cockpit-step`` and the holder, as PostgreSQL keeps it (63 bytes at most)."""
    text = json.dumps([holder.actor, holder.host, holder.pid, holder.since], separators=(",", ":"))
    return ("cs" + text).encode()[:63].decode(errors="ignore")


def _parse_app_name(name: str) -> Holder | None:
    if not name.startswith("cs["):
        return None
    try:
        actor, host, pid, since = json.loads(name[2:])
    except ValueError:
        return None  # cut at 63 bytes: fall back to "another cockpit"
    return Holder(str(actor), str(host), int(pid), str(since))
