"""Finding and reading plans: a shipped plan by name or a file by path, its bytes kept with their
SHA-256 (what approvals bind to), parsed (:mod:`.document`), checked against the schema
(:mod:`.schema`) and the rules a type cannot express (:mod:`.rules`); and the gates' roles checked
against cockpit.toml's ``[roles]``. Any problem is one :class:`~.document.PlanError` line.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

from cockpit.errors import Phrase
from cockpit.paths import display_path
from cockpit.plan.document import Doc, PlanError, parse_yaml, value_word
from cockpit.plan.model import PLAN_NAME_RE, GateItem, LoadedPlan, Plan
from cockpit.plan.rules import check_semantics
from cockpit.plan.schema import check_tags, convert

PLAN_SUFFIXES = (".yaml", ".yml")
_TOP_KEYS = "schema_version, name, title_ja, title_en, phases"
# Plans are small hand-written files; anything bigger is a mistake.
MAX_PLAN_BYTES = 1_000_000


def plan_sha256(data: bytes) -> str:
    """The hex SHA-256 of a plan file's bytes: approvals are bound to it."""
    return hashlib.sha256(data).hexdigest()


def list_plans() -> list[str]:
    """The names of the plans shipped in the ``checklists`` package, sorted."""
    from checklists import available_plans

    return available_plans()


def is_plan_name(value: str) -> bool:
    """``release`` names a shipped plan; ``./release.yaml`` or ``plans/x.yaml`` is a path."""
    return re.match(PLAN_NAME_RE, value) is not None


def read_plan(name_or_path: str | Path) -> LoadedPlan:
    """Load and validate a shipped plan by name, or a plan file by path, keeping its bytes."""
    if isinstance(name_or_path, str) and is_plan_name(name_or_path):
        return _read_shipped(name_or_path)
    return read_plan_file(Path(name_or_path))


def load_plan(name_or_path: str | Path) -> Plan:
    """The validated plan named ``name_or_path`` (a shipped name such as ``release``, or a path to
    a ``.yaml`` file). Raises :class:`PlanError` with one line on any problem."""
    return read_plan(name_or_path).plan


def validate_plan_file(path: str | Path) -> Plan:
    """Validate the plan file at ``path``; the plan when it is good, else :class:`PlanError`."""
    return read_plan_file(Path(path)).plan


def read_plan_file(path: Path) -> LoadedPlan:
    """Load and validate the plan file at ``path``, keeping its bytes and their SHA-256."""
    shown = display_path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise PlanError.said("err.no_plan_file", file=shown) from None
    except IsADirectoryError:
        raise PlanError.said("err.plan_is_dir", file=shown) from None
    except PermissionError:
        raise PlanError.said("err.read_denied", file=shown) from None
    except OSError as exc:
        raise PlanError.said("err.read_failed", file=shown, cause=exc.strerror) from None
    return parse_plan_bytes(data, shown, expected_name=_stem(path))


def _read_shipped(name: str) -> LoadedPlan:
    resource = resources.files("checklists").joinpath(f"{name}.yaml")
    if not resource.is_file():
        shipped = ", ".join(list_plans()) or Phrase("err.none")
        raise PlanError.said("err.no_plan", name=name, shipped=shipped)
    return _parse_plan_cached(resource.read_bytes(), f"checklists/{name}.yaml", name, shipped=True)


def _stem(path: Path) -> str:
    for suffix in PLAN_SUFFIXES:
        if path.name.endswith(suffix):
            return path.name.removesuffix(suffix)
    return path.name


def parse_plan_bytes(data: bytes, source: str, expected_name: str | None = None) -> LoadedPlan:
    """Validate a plan file's bytes (cached by content: the app re-reads the plan on every
    refresh, and only a change of bytes needs a new parse)."""
    return _parse_plan_cached(data, source, expected_name)


@functools.lru_cache(maxsize=32)
def _parse_plan_cached(
    data: bytes, source: str, expected_name: str | None, *, shipped: bool = False
) -> LoadedPlan:
    """Validate a plan file's bytes. ``source`` names the file in errors; ``expected_name`` (the
    file's stem) must equal the plan's ``name`` when given. A ``shipped`` plan's data comes from
    its frozen form when that was made from these bytes (:mod:`cockpit.plan.frozen`), checked
    the same way; anything it finds wrong is said again from the YAML, with its line."""
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError.said("err.plan_too_large", file=source, most=MAX_PLAN_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError.said("err.not_utf8", file=source, byte=exc.start) from None
    text = text.removeprefix("\ufeff")
    if shipped and expected_name is not None:
        from cockpit.plan.frozen import read_frozen

        frozen = read_frozen(expected_name, data)
        if frozen is not None:
            with contextlib.suppress(PlanError):
                return _checked(Doc(source, None, frozen), data, source, expected_name)
    node, raw = parse_yaml(text, source)
    return _checked(Doc(source, node, raw), data, source, expected_name)


def _checked(doc: Doc, data: bytes, source: str, expected_name: str | None) -> LoadedPlan:
    """The plan in ``doc``, checked against the schema and the rules."""
    raw = doc.raw
    if raw is None:
        raise PlanError.said("err.plan_empty", file=source, keys=_TOP_KEYS)
    if not isinstance(raw, dict):
        raise PlanError.said(
            "err.plan_top", where=doc.where(()), keys=_TOP_KEYS, got=value_word(raw)
        )
    check_tags(doc)
    plan = convert(doc)
    check_semantics(doc, plan, expected_name)
    return LoadedPlan(plan=plan, source=source, data=data, sha256=plan_sha256(data))


def check_roles(loaded: LoadedPlan, roles: Iterable[str]) -> None:
    """Every gate's role is one of ``roles`` (the keys of ``[roles]`` in cockpit.toml)."""
    known = sorted(set(roles))
    node, raw = parse_yaml(loaded.data.decode("utf-8").removeprefix("\ufeff"), loaded.source)
    doc = Doc(loaded.source, node, raw)
    for (p, i), (_, item) in zip(_positions(loaded.plan), loaded.plan.items(), strict=True):
        if isinstance(item, GateItem) and item.role not in known:
            raise doc.error(
                ("phases", p, "items", i, "role"),
                f"role {item.role!r} is not in [roles] of cockpit.toml "
                f"(known: {', '.join(known) or 'none'})",
            )


def _positions(plan: Plan) -> Iterator[tuple[int, int]]:
    for p, phase in enumerate(plan.phases):
        for i in range(len(phase.items)):
            yield p, i
