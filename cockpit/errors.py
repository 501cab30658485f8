"""Errors the operator sees. Each carries the one line that is printed, and an exit code; one made
with :meth:`CockpitError.said` carries its catalog key and values too, and is said in the
operator's language (:meth:`CockpitError.text`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Self


class Said(Protocol):
    """Words said in a language when they are read: a :class:`Phrase`, a refusal's reason."""

    def text(self, lang: str) -> str: ...


@dataclass(frozen=True)
class Phrase:
    """Words from the catalog said later, in the reader's language: a key and its values (which
    may be phrases themselves). ``str()`` is the English."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        from cockpit.i18n import tr

        return tr(self.key, lang, **self.values)

    def __str__(self) -> str:
        return self.text("en")


class CockpitError(Exception):
    """Base class: ``str(err)`` is the whole message the operator sees (one line), in English."""

    exit_code = 1
    phrase: Said | None = None  # the message as catalog words (:meth:`said`), if it is

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def said(cls, key: str, **values: Any) -> Self:
        """The error whose message is the catalog's ``key`` with ``values`` (which may be said
        in a language themselves: another error, a phrase, a duration)."""
        return cls.of(Phrase(key, values))

    @classmethod
    def of(cls, phrase: Said) -> Self:
        """The error whose message is ``phrase``."""
        err = cls(str(phrase))
        err.phrase = phrase
        return err

    def __str__(self) -> str:
        return self.message

    def text(self, lang: str) -> str:
        """The message in ``lang`` where it comes from the catalog, else as it is (``str``)."""
        return self.message if self.phrase is None else self.phrase.text(lang)


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
