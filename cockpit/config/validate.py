"""``cockpit.toml``'s data against the schema, each failure one line: numbers that are no
setting (NaN, infinities), each environment's step replacements on their own (so the line names
the item), then msgspec's strict conversion, its complaints worded by
:func:`cockpit.schema_errors.explain` in TOML's terms (the dotted key, the keys a table allows, the
choices of a setting, the form of a time or a name).
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

from cockpit.config.locate import where
from cockpit.errors import ConfigError, Phrase
from cockpit.plan.model import ITEM_ID_RE
from cockpit.plan.runs import STEP_KINDS
from cockpit.schema_errors import KeyPath, Wording, explain, lower_first, split_location


def check_steps(raw: dict[str, Any], text: str, source: str) -> None:
    """``environments.NAME.steps."ITEM"`` and ``environments.NAME.checks."ITEM"``: each entry on
    its own, so an error names the item (and, for a wrong tag, the kinds there are)."""
    from cockpit.plan.probes import PROBES

    _check_entries(raw, text, source, "steps", "kind", STEP_KINDS, Phrase("cfg.what_step"))
    _check_entries(raw, text, source, "checks", "probe", PROBES, Phrase("cfg.what_probe"))


def _check_entries(
    raw: dict[str, Any],
    text: str,
    source: str,
    table: str,
    tag: str,
    kinds: dict[str, type[msgspec.Struct]],
    what: Phrase,
) -> None:
    envs = raw.get("environments")
    for name, env in (envs or {}).items() if isinstance(envs, dict) else ():
        entries = env.get(table) if isinstance(env, dict) else None
        if not isinstance(entries, dict):
            continue
        for item_id, value in entries.items():
            here = where(source, text, ("environments", name, table, *item_id.split(".")))
            key = f'environments.{name}.{table}."{item_id}"'
            if not re.match(ITEM_ID_RE, item_id):
                raise ConfigError.said("cfg.item_id", where=here, setting=key)
            kind = value.get(tag) if isinstance(value, dict) else None
            if kind not in kinds:
                raise ConfigError.said(
                    "cfg.kind",
                    where=here,
                    setting=f"{key}.{tag}",
                    kind=kind,
                    what=what,
                    choices=", ".join(kinds),
                )
            try:
                msgspec.convert(value, kinds[kind], strict=True)
            except msgspec.ValidationError as exc:
                # msgspec's own sentence, after the item's key (not worded as the rest are).
                at = split_location(exc, keys=False)
                field = at.at.lstrip(".")
                raise ConfigError(
                    f"{here}: {key}{'.' + field if field else ''}: {lower_first(at.message)}"
                ) from None


def check_numbers(value: Any, path: tuple[str, ...], text: str, source: str) -> None:
    """NaN and infinities are valid TOML but never a valid setting."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError.said(
            "err.nan", where=where(source, text, path), setting=".".join(path), value=value
        )
    if isinstance(value, dict):
        for key, item in value.items():
            check_numbers(item, (*path, str(key)), text, source)
    elif isinstance(value, list):
        for item in value:
            check_numbers(item, path, text, source)


def convert(value: Any, kind: Any, prefix: tuple[str, ...], text: str, source: str) -> Any:
    """``value`` as ``kind`` (found at ``prefix`` in the file), or the one-line ConfigError."""
    try:
        return msgspec.convert(value, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError.of(explain(exc, _TomlWording(kind, prefix, text, source))) from None


class _TomlWording(Wording):
    """cockpit.toml's words: the dotted key, the fields of a table, the choices of a setting."""

    mapping = "a table"
    # msgspec's own sentences are kept for these, as cockpit.toml has always said them.
    names_missing_key = False
    trims_float_zero = False
    places_keys = False

    def __init__(self, kind: Any, prefix: tuple[str, ...], text: str, source: str) -> None:
        self.kind = kind
        self.prefix = prefix
        self.text = text
        self.source = source

    def line(
        self, path: KeyPath, problem: Phrase | str, line_path: KeyPath | None = None
    ) -> Phrase:
        parts = (*self.prefix, *(str(seg) for seg in path))
        key = ".".join(parts) or "(top level)"
        return Phrase(
            "schema.line",
            {"where": where(self.source, self.text, parts), "setting": key, "problem": problem},
        )

    def allowed_keys(self, path: KeyPath) -> list[str]:
        return _allowed_keys(self.kind, [str(seg) for seg in path])

    def wrong_form(self, path: KeyPath, message: str) -> Phrase:
        return Phrase("schema.wrong_form", {"hint": _form_hint(message)})

    def not_allowed(self, path: KeyPath, value: str) -> Phrase:
        choices = _literal_choices(self.kind, [str(seg) for seg in path])
        hint = Phrase("schema.use_one", {"choices": ", ".join(choices)}) if choices else ""
        return Phrase("schema.not_allowed", {"value": value, "hint": hint})


def _form_hint(message: str) -> str:
    if "[01][0-9]" in message:
        return " (use HH:MM, 24-hour)"
    if "[a-z]" in message:
        return " (lowercase letters, digits, '-' and '_')"
    return ""


def _literal_choices(kind: Any, path: list[str]) -> list[str]:
    """The allowed values of the ``Literal`` field at ``path``, for a helpful error."""
    current = _type_at(kind, path)
    return [str(v) for v in getattr(current, "__args__", ())]


def _type_at(kind: Any, path: list[str]) -> Any:
    current = kind
    for part in path:
        if isinstance(current, type) and issubclass(current, msgspec.Struct):
            match = next((f for f in msgspec.structs.fields(current) if f.name == part), None)
            if match is None:
                return None
            current = match.type
        elif getattr(current, "__origin__", None) is dict:
            current = current.__args__[1]
        else:
            return None
    return current


def _allowed_keys(kind: Any, path: list[str]) -> list[str]:
    """The field names of the struct at ``path`` inside ``kind``, for a helpful error."""
    current = _type_at(kind, path)
    if isinstance(current, type) and issubclass(current, msgspec.Struct):
        return [f.name for f in msgspec.structs.fields(current)]
    return []
