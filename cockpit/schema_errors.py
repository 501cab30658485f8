"""The one translator of schema errors, for cockpit.toml and plans alike.

msgspec says what is wrong in its own words and where: ``Expected `int`, got `str` - at
`$.phases[0].items[3].approvals```. :func:`explain` reads that sentence and the place it points
to and gives back the one line the user sees: the file and line, the key, what is wrong, what to
do. What differs between the two files is a :class:`Wording` each loader supplies: TOML says
*table* where YAML says *mapping*, each names a place its own way (``item t14.deps: check.url``,
``environments.production.git.branches``), and each knows which keys a place allows and what
form a value must have.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from typing import ClassVar

import msgspec

from cockpit.errors import Phrase

EXPECTED_RE = re.compile(r"^Expected `(?P<want>[^`]+)`(?P<rest>.*)$")
UNKNOWN_RE = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`")
MISSING_RE = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
ENUM_RE = re.compile(r"^Invalid enum value (?P<value>.+)$")
# Where msgspec points: `` - at `$.phases[0].id` ``, or `` - at `key` in `$.phases[0]` `` when a
# mapping's key (not its value) has the wrong type.
_AT_RE = re.compile(r" - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`$")
_SEG_RE = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")

Segment = str | int
KeyPath = tuple[Segment, ...]

_TYPE_WORDS = ("str", "int", "float", "bool", "array", "null")


def type_word(msgspec_type: str, mapping: str) -> Phrase | str:
    """``str`` -> ``a string``; ``object`` -> ``mapping`` (TOML says table, YAML mapping): the
    catalog's ``schema.type.*`` words."""
    if msgspec_type == "object":
        return Phrase("schema.type.table" if mapping == "a table" else "schema.type.mapping")
    return Phrase(f"schema.type.{msgspec_type}") if msgspec_type in _TYPE_WORDS else msgspec_type


def lower_first(message: str) -> str:
    """msgspec's sentence as the tail of a line: ``Expected ...`` -> ``expected ...``."""
    return message[:1].lower() + message[1:]


@dataclass(frozen=True)
class Located:
    """A msgspec validation message, split from the place it points to."""

    message: str  # the sentence without the place
    at: str  # the place as msgspec writes it, after the ``$``: ``.checks[0].url``
    # The same place as keys and list positions: ("checks", 0, "url"). A mapping's free keys,
    # which msgspec does not name (``[...]``), are left out.
    path: KeyPath
    key: bool  # a mapping's key, not its value, has the wrong type


def split_location(exc: msgspec.ValidationError, keys: bool = True) -> Located:
    """What msgspec says is wrong, and where. With ``keys`` false a complaint about a mapping's
    key is left whole and unplaced, as cockpit.toml has always reported it."""
    message = str(exc)
    at = _AT_RE.search(message)
    if at and at["key"] and not keys:
        at = None
    text = at["path"] if at else ""
    path: KeyPath = tuple(int(m[2]) if m[2] is not None else m[1] for m in _SEG_RE.finditer(text))
    return Located(
        message=message[: at.start()] if at else message,
        at=text,
        path=path,
        key=bool(at and at["key"]),
    )


class Wording(abc.ABC):
    """How one kind of file words a schema error: subclasses say how a line names its place
    (:meth:`line`) and may know more about a place (the keys it allows, the form of its values)."""

    # What a mapping is called: "a mapping" (YAML) or "a table" (TOML).
    mapping: ClassVar[str] = "a mapping"
    # A missing required key: "KEY: missing (required)", or (False) msgspec's own sentence.
    names_missing_key: ClassVar[bool] = True
    # Float bounds without ".0": "<= 86400" (True) or "<= 86400.0" (False).
    trims_float_zero: ClassVar[bool] = True
    # A mapping's key of the wrong type or form: "every key must be a string (quote the key)" at
    # the mapping, or (False) msgspec's whole sentence at the top of what was checked.
    places_keys: ClassVar[bool] = True

    @abc.abstractmethod
    def line(
        self, path: KeyPath, problem: Phrase | str, line_path: KeyPath | None = None
    ) -> Phrase:
        """The whole line: the file and line of ``path`` (of ``line_path`` when given), the place
        ``path`` names, and ``problem``."""

    def allowed_keys(self, path: KeyPath) -> list[str]:
        """The keys the mapping at ``path`` may have; none known: the line gives no hint."""
        return []

    def wrong_form(self, path: KeyPath, message: str) -> Phrase | str:
        """What to say of a value at ``path`` that does not match its pattern (``message`` is
        msgspec's, which shows the pattern)."""
        return Phrase("schema.wrong_form", {"hint": ""})

    def not_allowed(self, path: KeyPath, value: str) -> Phrase | str:
        """What to say of ``value`` (as msgspec shows it), not one of the choices at ``path``."""
        return Phrase("schema.not_allowed", {"value": value, "hint": ""})


def explain(exc: msgspec.ValidationError, wording: Wording) -> Phrase:
    """The one line the user sees for ``exc``, worded by ``wording``."""
    at = split_location(exc, keys=wording.places_keys)
    path, message = at.path, at.message
    if at.key:
        return wording.line(path, Phrase("schema.key_str"))
    if unknown := UNKNOWN_RE.match(message):
        allowed = wording.allowed_keys(path)
        said = (
            Phrase("schema.unknown_allowed", {"allowed": ", ".join(allowed)})
            if allowed
            else Phrase("schema.unknown")
        )
        return wording.line((*path, unknown["field"]), said)
    if wording.names_missing_key and (missing := MISSING_RE.match(message)):
        return wording.line((*path, missing["field"]), Phrase("schema.missing"), line_path=path)
    if expected := EXPECTED_RE.match(message):
        want, rest = expected["want"], expected["rest"].split(", got")[0]
        if "matching regex" in rest:
            return wording.line(path, wording.wrong_form(path, message))
        if wording.trims_float_zero and want == "float":
            rest = rest.replace(".0", "")
        said = Phrase("schema.expected", {"want": type_word(want, wording.mapping), "rest": rest})
        return wording.line(path, said)
    if enum := ENUM_RE.match(message):
        return wording.line(path, wording.not_allowed(path, enum["value"]))
    return wording.line(path, lower_first(message))
