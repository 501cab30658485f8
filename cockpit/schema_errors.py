"""Reading msgspec's validation messages, for the one-line errors of cockpit.toml and plans."""

from __future__ import annotations

import re

EXPECTED_RE = re.compile(r"^Expected `(?P<want>[^`]+)`(?P<rest>.*)$")
UNKNOWN_RE = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`")
MISSING_RE = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
ENUM_RE = re.compile(r"^Invalid enum value (?P<value>.+)$")

_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "array": "a list",
    "null": "nothing",
}


def type_word(msgspec_type: str, mapping: str) -> str:
    """``str`` -> ``a string``; ``object`` -> ``mapping`` (TOML says table, YAML mapping)."""
    if msgspec_type == "object":
        return mapping
    return _TYPE_WORDS.get(msgspec_type, msgspec_type)
