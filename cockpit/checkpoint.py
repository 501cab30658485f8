"""The checkpoint file: the chain head written outside the database after each append batch.

A store keeps its file open (:class:`CheckpointFile`): it reads the head back before appending (a
log that no longer holds it was rewritten) and moves it forward after, never backwards when
several processes append at once. :func:`read_checkpoint` reads a checkpoint named by the
operator for ``cockpit audit verify``, where a damaged file is an error, not a warning.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
from pathlib import Path

from cockpit.dbsetup import first_line
from cockpit.errors import Phrase, UsageError
from cockpit.urls import redact_url
from cockpit.verify import Checkpoint

log = logging.getLogger("cockpit")

CHECKPOINT_SIZE = 256
_HASH_RE = re.compile("[0-9a-f]{64}")


class CheckpointFile:
    """The checkpoint file of the store behind ``url``, opened on first use."""

    def __init__(self, path: Path, url: str) -> None:
        self.path = path
        self.url = url
        self._fd: int | None = None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self) -> Checkpoint | None:
        """The head last written, ``None`` when there is none or it cannot be read."""
        try:
            fd = self._descriptor()
            # Shared, against a writer's exclusive lock: a record read half-overwritten by
            # another process would name one head's seq with another's hash.
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                return _parse_checkpoint(os.pread(fd, CHECKPOINT_SIZE, 0))
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A damaged checkpoint must not stop the release: the next write repairs it.
            log.warning(
                "checkpoint %s unreadable (%s); it will be rewritten",
                self.path,
                first_line(exc),
            )
            return None

    def _descriptor(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    def write(self, head: Checkpoint, *, force: bool = False) -> None:
        """Write the head to the checkpoint file, never moving it backwards when several
        processes append at once (unless ``force``: an acknowledged break moves the checkpoint
        onto the chain as it now is, see :mod:`cockpit.tailcheck`).

        The file is one fixed-size 256-byte record overwritten in place: a single sector write.
        It is not fsynced. The events themselves are durable before this runs (the commit synced
        them), and other processes see the write at once; what a power cut can do is leave the
        file one or more heads behind, which only weakens the check until the next append
        rewrites it, and can never make an intact log look broken. Syncing it too would cost
        a second disk flush per append (measured: about a third of the append rate). A torn
        record reads back as unreadable (a warning) and is rewritten with the true head.
        """
        try:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            self._not_written(exc)
            return
        try:
            try:
                current = _parse_checkpoint(os.pread(fd, CHECKPOINT_SIZE, 0))
            except (ValueError, KeyError, TypeError):
                current = None  # torn or damaged: overwrite it with the true head
            if current is not None and current.seq >= head.seq and not force:
                return
            data = json.dumps(
                {"seq": head.seq, "hash": head.hash, "database": redact_url(self.url)}
            )
            record = data.encode("utf-8")[: CHECKPOINT_SIZE - 1].ljust(CHECKPOINT_SIZE - 1) + b"\n"
            os.pwrite(fd, record, 0)
        except OSError as exc:
            self._not_written(exc)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _not_written(self, exc: OSError) -> None:
        # The events are committed; only the outside anchor lags. Say so, loudly.
        log.warning(
            "checkpoint %s not written (%s): the log is intact but a cut-off end "
            "cannot be detected until it is",
            self.path,
            exc.strerror,
        )


def _parse_checkpoint(raw: bytes) -> Checkpoint | None:
    """The checkpoint in ``raw``; ``ValueError`` saying what is wrong when it is not one: the
    seq must be a positive integer (not a float, a string or a boolean) and the hash 64
    lowercase hex digits, so a damaged file is never read as another head."""
    if not raw.strip():
        return None
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(Phrase("err.checkpoint_object"))
    seq, digest = data.get("seq"), data.get("hash")
    if type(seq) is not int or seq < 1:
        raise ValueError(Phrase("err.checkpoint_seq", {"seq": json.dumps(seq)}))
    if not isinstance(digest, str) or not _HASH_RE.fullmatch(digest):
        raise ValueError(Phrase("err.checkpoint_hash", {"hash": json.dumps(digest)}))
    return Checkpoint(seq, digest)


def read_checkpoint(path: Path, *, missing_ok: bool = False) -> Checkpoint | None:
    """Read a checkpoint file; a damaged one is an error naming the file."""
    try:
        found = _parse_checkpoint(path.read_bytes())
    except FileNotFoundError:
        if missing_ok:
            return None
        raise UsageError.said("err.no_checkpoint", path=path) from None
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError, RecursionError) as exc:
        if exc.args and isinstance(exc.args[0], Phrase):  # what _parse_checkpoint found wrong
            raise UsageError.said("err.checkpoint_says", path=path, why=exc.args[0]) from None
        raise UsageError.said("err.bad_checkpoint", path=path, cause=first_line(exc)) from None
    if found is None and not missing_ok:
        raise UsageError.said("err.checkpoint_empty", path=path)
    return found


def verified_path(checkpoint: Path) -> Path:
    """Where the head last verified is remembered: beside the checkpoint."""
    return checkpoint.with_name(checkpoint.name + ".verified")


def read_verified(checkpoint: Path) -> Checkpoint | None:
    """The (seq, hash) a verify last found intact, ``None`` when none is remembered or the file
    is unreadable (then the next verify is a full one: nothing is trusted that cannot be
    read)."""
    try:
        return _parse_checkpoint(verified_path(checkpoint).read_bytes())
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError, RecursionError):
        return None


def write_verified(checkpoint: Path, head: Checkpoint, url: str) -> None:
    """Remember that the chain up to ``head`` verified (written whole, then renamed into place).
    A verify that starts from it re-reads only the rows after it and checks the row at its seq
    still has its hash; ``cockpit audit verify`` never starts from it: it walks everything."""
    path = verified_path(checkpoint)
    data = json.dumps({"seq": head.seq, "hash": head.hash, "database": redact_url(url)})
    temporary = path.with_name(path.name + f".{os.getpid()}")
    try:
        temporary.write_text(data + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("%s not written (%s): the next verify reads the whole log", path, exc.strerror)
