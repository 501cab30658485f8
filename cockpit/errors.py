"""Errors the operator sees. Each carries the one line that is printed, and an exit code."""

from __future__ import annotations


class CockpitError(Exception):
    """Base class: ``str(err)`` is the whole message the operator sees (one line)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def text(self, lang: str) -> str:
        """The message in ``lang`` where it comes from the catalog (a refusal's reason), else
        as it is (``str``)."""
        return self.message


class ConfigError(CockpitError):
    """The configuration file is missing, unreadable or does not match the schema."""

    exit_code = 2


class UsageError(CockpitError):
    """A command-line value is wrong (unknown release, bad version, bad time)."""

    exit_code = 2


class EventRejected(CockpitError):
    """An event cannot be recorded as given (NaN, integers past 2^53, bad text)."""

    exit_code = 2


class AppendFailed(CockpitError):
    """The event log could not be written (disk full, database gone); nothing was run."""

    exit_code = 1


class StoreError(CockpitError):
    """The database cannot be opened or migrated."""

    exit_code = 1
