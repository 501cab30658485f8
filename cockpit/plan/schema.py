"""A plan document against the schema: the tags that choose a schema first (item ``kind``,
``check.probe``, ``run.kind``), so that an unknown one lists what is known, then msgspec's strict
conversion, its complaints worded as one line by :func:`cockpit.schema_errors.explain` in a plan's
terms (the item by id, the keys a place allows, the form an id must have).
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

import msgspec

from cockpit.errors import Phrase
from cockpit.plan.document import Doc, PlanError, value_at, value_word
from cockpit.plan.model import ITEM_KINDS, SCHEMA_VERSION, Plan
from cockpit.plan.probes import PROBES
from cockpit.plan.runs import STEP_KINDS
from cockpit.schema_errors import KeyPath, Wording, explain


def check_tags(doc: Doc) -> None:
    """The tags that choose a schema (item ``kind``, ``check.probe``, ``run.kind``), checked
    before the rest so that the message lists what is known rather than a bare 'invalid'."""
    phases = doc.raw.get("phases")
    if not isinstance(phases, list):
        return
    for p, phase in enumerate(phases):
        items = phase.get("items") if isinstance(phase, dict) else None
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            at: KeyPath = ("phases", p, "items", i)
            kind = item.get("kind")
            _check_tag(doc, (*at, "kind"), kind, ITEM_KINDS, "kind of item", item)
            if kind == "check" and "check" in item:  # without one: bound per environment
                _check_sub_tag(doc, at, item, "check", "probe", PROBES, "check")
            elif kind == "step":
                _check_sub_tag(doc, at, item, "run", "kind", STEP_KINDS, "step kind")


def _check_sub_tag(
    doc: Doc,
    at: KeyPath,
    item: dict[str, Any],
    field: str,
    tag: str,
    registry: dict[str, type[msgspec.Struct]],
    what: str,
) -> None:
    value = item.get(field)
    wanted = f"a mapping with {tag}: (one of {', '.join(sorted(registry))}) and its arguments"
    if field not in item:
        raise doc.error((*at, field), f"missing; expected {wanted}", line_path=at)
    if not isinstance(value, dict):
        raise doc.error((*at, field), f"expected {wanted}")
    _check_tag(doc, (*at, field, tag), value.get(tag), tuple(sorted(registry)), what, value)


def _check_tag(
    doc: Doc, path: KeyPath, value: Any, known: tuple[str, ...], what: str, parent: dict[str, Any]
) -> None:
    choices = ", ".join(known)
    if path[-1] not in parent:
        raise doc.error(path, f"missing; expected one of {choices}", line_path=path[:-1])
    if value in known:
        return
    if what == "kind of item":
        raise doc.error(path, f"expected one of {choices} (got {_show(value)})")
    raise doc.error(path, f"unknown {what} {_show(value)} (known: {choices})")


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value_word(value)} {value!r}"


def convert(doc: Doc) -> Plan:
    """The plan in ``doc``'s data, or the :class:`PlanError` msgspec's first complaint is."""
    try:
        plan: Plan = msgspec.convert(doc.raw, Plan, strict=True)
        return plan
    except msgspec.ValidationError as exc:
        raise PlanError.of(explain(exc, _PlanWording(doc))) from None


_FORM_HINTS = {
    "name": "lowercase letters, digits, '-' and '_', starting with a letter, as the file name",
    "id": "lowercase letters, digits, '-' and '_', starting with a letter, e.g. t-14",
    "item_id": "lowercase letters, digits, '-' and '_', words joined by dots, starting with a "
    "letter, e.g. t14.requirements",
    "role": "a role name from [roles] in cockpit.toml, e.g. approver",
    "url": "an http:// or https:// URL",
}


class _PlanWording(Wording):
    """A plan's words: the item by id, the keys a place allows (following the data through the
    tagged unions), the form an id must have, the schema version this cockpit reads."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc

    def line(
        self, path: KeyPath, problem: Phrase | str, line_path: KeyPath | None = None
    ) -> Phrase:
        return self.doc.message(path, problem, line_path)

    def allowed_keys(self, path: KeyPath) -> list[str]:
        return _allowed_keys(self.doc.raw, path)

    def wrong_form(self, path: KeyPath, message: str) -> str:
        field = next((seg for seg in reversed(path) if isinstance(seg, str)), "")
        if field == "id" and len(path) == 5 and path[2] == "items":
            field = "item_id"
        hint = _FORM_HINTS.get(field, "")
        value = value_at(self.doc.raw, path)
        return f"{value!r} has the wrong form" + (f" ({hint})" if hint else "")

    def not_allowed(self, path: KeyPath, value: str) -> Phrase | str:
        if path == ("schema_version",):
            return f"{value} is not supported (this cockpit reads {SCHEMA_VERSION})"
        return Phrase("schema.not_allowed", {"value": value, "hint": ""})


def _allowed_keys(raw: Any, path: KeyPath) -> list[str]:
    """The keys the mapping at ``path`` may have, following the data through tagged unions."""
    kind: Any = Plan
    value = raw
    for seg in path:
        kind = _pick(kind, value)
        if isinstance(seg, int):
            args = typing.get_args(kind)
            kind = args[0] if args else None
            value = value_at(value, (seg,))
        elif isinstance(kind, type) and issubclass(kind, msgspec.Struct):
            field = next((f for f in msgspec.structs.fields(kind) if f.name == seg), None)
            kind = field.type if field else None
            value = value_at(value, (seg,))
        else:
            return []
    kind = _pick(kind, value)
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        tag_field = kind.__struct_config__.tag_field
        names = [f.name for f in msgspec.structs.fields(kind)]
        return [tag_field, *names] if tag_field else names
    return []


def _pick(kind: Any, value: Any) -> Any:
    """Strip ``Annotated``; resolve a union of tagged structs by the tag in ``value``."""
    while typing.get_origin(kind) is Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        for member in typing.get_args(kind):
            config = getattr(member, "__struct_config__", None)
            if config and isinstance(value, dict) and value.get(config.tag_field) == config.tag:
                return member
        return None
    return kind
