"""Release plans: the checklist files in ``checklists/*.yaml``, their strict schema, and the loader.

A plan is phases (T-14 ... T-0, or T-30 ... T-0 for a migration), each a list of items. An item
is one of four kinds:

``manual``
    The operator confirms it by hand.
``check``
    The engine probes it: ``check: {probe: NAME, ...arguments}``. ``NAME`` is a key of
    :data:`PROBES`; each probe has its own strict arguments (``http`` takes ``url`` and
    ``status``, ``file_younger_than`` takes ``path`` and ``hours``, ...). Running probes is not
    this module's job: it only checks that the plan names one that exists, with valid arguments.
``gate``
    An approval: ``approvals`` (at least 1) by holders of ``role`` (a role in ``cockpit.toml``'s
    ``[roles]``, e.g. ``approver`` or ``release_committee``). Four-eyes (the approver is not the
    preparer) is enforced by the release engine, not here.
``step``
    A deployment action: ``run: {kind: shell, argv: [...], timeout: SECONDS}`` or
    ``run: {kind: tag}`` (tag the release in git, see cockpit.versioning). ``kind`` is a key
    of :data:`STEP_KINDS` (only ``shell`` for now; Kubernetes, Alembic, S3 come later).

The shape of a file (``?`` marks optional keys)::

    schema_version: 1
    name: release                 # the file's own name, without .yaml
    title_ja / title_en, help_ja? / help_en?
    phases:                       # earliest first; offsets never go down; the last is 0 (T-0)
      - id: t-14
        offset_days: -14          # days relative to T-0: -14 is T-14
        title_ja / title_en
        stages?: [{id, title_ja, title_en, start_hour, end_hour}]
        items:
          - id: t14.requirements  # unique in the plan; events refer to it
            kind: manual | check | gate | step
            title_ja / title_en, help_ja? / help_en?
            requires_reason?: false   # marking it done asks for a reason (evidence, decision)
            stage?: prep              # one of the phase's stages, in stage order
            check: {probe: http, url: ..., status: 200}        # kind: check
            role: approver, approvals: 1                        # kind: gate
            run: {kind: shell, argv: [...], timeout: 600}       # kind: step

Every phase, stage and item carries ``title_ja`` (the wording of the Japanese operations
documents) and ``title_en`` beside it. Item ids are lowercase, unique within the plan, and stable:
events refer to items by id. A phase may split its day into ``stages`` with clock hours (the
migration's 01:00-09:00 window in four stages); its items name their stage with ``stage``.

``load_plan("release")`` reads the shipped ``checklists/release.yaml``; anything that is not a bare
plan name (``./release.yaml``, ``plans/x.yaml``, a :class:`~pathlib.Path`) is read as a path.

Any problem is a :class:`PlanError` with one line naming the file, the line, the item (by id, or
by its position when it has no usable id) and what is wrong::

    checklists/release.yaml:41: item t14.deps: check.probe: unknown check 'pip_audit' (known: ...)
    myplan.yaml:12: phases[0].items[3].kind: expected one of manual, check, gate, step (got 'task')

An approval is bound to the SHA-256 of the plan file's bytes (:func:`plan_sha256`): change one
byte of the plan and the approvals given for it no longer count.
"""

from __future__ import annotations

import functools
import hashlib
import re
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

from cockpit.config import display_path
from cockpit.errors import CockpitError
from cockpit.schema_errors import ENUM_RE, EXPECTED_RE, MISSING_RE, UNKNOWN_RE, type_word
from cockpit.steps.spec import STEP_KINDS as STEP_KINDS  # the registry of step kinds
from cockpit.steps.spec import ShellRun as ShellRun
from cockpit.steps.spec import StepRun as StepRun
from cockpit.steps.spec import TagRun as TagRun

SCHEMA_VERSION = 1
PLAN_SUFFIXES = (".yaml", ".yml")
_TOP_KEYS = "schema_version, name, title_ja, title_en, phases"
# Plans are small hand-written files; anything bigger is a mistake (or a YAML alias bomb).
MAX_PLAN_BYTES = 1_000_000
MAX_PLAN_NODES = 200_000


class PlanError(CockpitError):
    """A plan file is missing, unreadable, not YAML, or does not match the schema."""

    exit_code = 2


# --- the schema ------------------------------------------------------------------------------

_PLAN_NAME_RE = r"^[a-z][a-z0-9_-]{0,31}$"
_PHASE_ID_RE = r"^[a-z][a-z0-9_-]{0,31}$"
_ITEM_ID_RE = r"^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$"
_ROLE_RE = r"^[a-z][a-z0-9_-]{0,31}$"  # the same rule as names in cockpit.toml

PlanName = Annotated[str, msgspec.Meta(pattern=_PLAN_NAME_RE)]
PhaseId = Annotated[str, msgspec.Meta(pattern=_PHASE_ID_RE)]
ItemId = Annotated[str, msgspec.Meta(pattern=_ITEM_ID_RE, max_length=64)]
RoleName = Annotated[str, msgspec.Meta(pattern=_ROLE_RE)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Arg = Annotated[str, msgspec.Meta(min_length=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=86_400)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/]+")]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


# Probes: what a ``check`` item asks the engine to look at. The tag (``probe:``) is the name.


class _Probe(_Strict, frozen=True, tag_field="probe"):
    @property
    def name(self) -> str:
        return str(type(self).__struct_config__.tag)


class GitCleanProbe(_Probe, frozen=True, tag="git_clean"):
    """The working tree of the environment's repository has no uncommitted changes."""


class GitBranchProbe(_Probe, frozen=True, tag="git_branch"):
    """HEAD is on a branch the environment may release from (``git.branches`` in cockpit.toml),
    or on one of ``branches`` when the plan lists them."""

    branches: list[Arg] = msgspec.field(default_factory=list)


class CommandProbe(_Probe, frozen=True, tag="command"):
    """A program exits 0. ``argv`` is a list, never a shell string."""

    argv: list[Arg]
    timeout: Seconds = 60.0


class HttpProbe(_Probe, frozen=True, tag="http"):
    """A GET on ``url`` answers ``status``."""

    url: Url
    status: Annotated[int, msgspec.Meta(ge=100, le=599)] = 200
    timeout: Seconds = 10.0


class FileExistsProbe(_Probe, frozen=True, tag="file_exists"):
    path: Arg


class FileYoungerThanProbe(_Probe, frozen=True, tag="file_younger_than"):
    """``path`` exists and was modified less than ``hours`` ago (e.g. a fresh backup)."""

    path: Arg
    hours: Annotated[float, msgspec.Meta(gt=0, le=24 * 366)]


Probe = (
    GitCleanProbe
    | GitBranchProbe
    | CommandProbe
    | HttpProbe
    | FileExistsProbe
    | FileYoungerThanProbe
)

# Step runs (what a ``step`` item executes) are in cockpit.steps.spec, shared with the config's
# per-environment replacements.


def _registry(union: Any) -> dict[str, type[msgspec.Struct]]:
    members = typing.get_args(union) or (union,)
    return {str(cls.__struct_config__.tag): cls for cls in members}


# The registries: name -> argument schema. The loader accepts exactly these names; the code that
# runs probes and steps keys its runners on the same names. To add one, define its Struct above,
# add it to ``Probe`` / ``StepRun``, and the registry follows.
PROBES: dict[str, type[msgspec.Struct]] = _registry(Probe)


class _Item(_Strict, frozen=True, tag_field="kind"):
    """Fields every item has."""

    id: ItemId
    title_ja: Title
    title_en: Title
    help_ja: Text = ""
    help_en: Text = ""
    # Marking the item done asks for a reason (the evidence, or the decision taken), recorded in
    # the event. Skipping any item always needs a reason.
    requires_reason: bool = False
    # The id of one of the phase's ``stages``; empty when the phase has none.
    stage: str = ""

    @property
    def kind(self) -> str:
        return str(type(self).__struct_config__.tag)


class ManualItem(_Item, frozen=True, tag="manual"):
    """The operator confirms it."""


class CheckItem(_Item, frozen=True, kw_only=True, tag="check"):
    """The engine probes it."""

    check: Probe


class GateItem(_Item, frozen=True, kw_only=True, tag="gate"):
    """An approval by ``approvals`` distinct holders of ``role``, none of them the preparer."""

    role: RoleName
    approvals: Annotated[int, msgspec.Meta(ge=1, le=20)] = 1


class StepItem(_Item, frozen=True, kw_only=True, tag="step"):
    """A deployment action the engine runs."""

    run: StepRun


Item = ManualItem | CheckItem | GateItem | StepItem
ITEM_KINDS: tuple[str, ...] = tuple(_registry(Item))


class Stage(_Strict, frozen=True):
    """A part of a phase's day, by clock hours in the change window's time zone, counted from
    midnight of the phase's day (``end_hour`` past 24 runs into the next day)."""

    id: PhaseId
    title_ja: Title
    title_en: Title
    start_hour: Annotated[int, msgspec.Meta(ge=0, le=47)]
    end_hour: Annotated[int, msgspec.Meta(ge=1, le=48)]


class Phase(_Strict, frozen=True):
    """One day of the plan: ``offset_days`` before T-0 (``-14`` for T-14, ``0`` for T-0)."""

    id: PhaseId
    offset_days: Annotated[int, msgspec.Meta(ge=-366, le=0)]
    title_ja: Title
    title_en: Title
    stages: list[Stage] = msgspec.field(default_factory=list)
    items: list[Item] = msgspec.field(default_factory=list)


class Plan(_Strict, frozen=True):
    """A whole plan file."""

    schema_version: Literal[1]
    name: PlanName
    title_ja: Title
    title_en: Title
    help_ja: Text = ""
    help_en: Text = ""
    phases: list[Phase] = msgspec.field(default_factory=list)

    def items(self) -> Iterator[tuple[Phase, Item]]:
        """Every item with its phase, in plan order."""
        for phase in self.phases:
            for item in phase.items:
                yield phase, item

    def item(self, item_id: str) -> Item:
        for _, item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def phase(self, phase_id: str) -> Phase:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)


@dataclass(frozen=True)
class LoadedPlan:
    """A validated plan, the bytes it was read from, and their SHA-256 (what approvals bind to)."""

    plan: Plan
    source: str
    data: bytes
    sha256: str


# --- loading ---------------------------------------------------------------------------------


def plan_sha256(data: bytes) -> str:
    """The hex SHA-256 of a plan file's bytes: approvals are bound to it."""
    return hashlib.sha256(data).hexdigest()


def list_plans() -> list[str]:
    """The names of the plans shipped in the ``checklists`` package, sorted."""
    from checklists import available_plans

    return available_plans()


def is_plan_name(value: str) -> bool:
    """``release`` names a shipped plan; ``./release.yaml`` or ``plans/x.yaml`` is a path."""
    return re.match(_PLAN_NAME_RE, value) is not None


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
        raise PlanError(f"{shown}: no such plan file") from None
    except IsADirectoryError:
        raise PlanError(f"{shown}: is a directory, not a plan file") from None
    except PermissionError:
        raise PlanError(f"{shown}: cannot read the file (permission denied)") from None
    except OSError as exc:
        raise PlanError(f"{shown}: cannot read the file ({exc.strerror})") from None
    return parse_plan_bytes(data, shown, expected_name=_stem(path))


def _read_shipped(name: str) -> LoadedPlan:
    resource = resources.files("checklists").joinpath(f"{name}.yaml")
    if not resource.is_file():
        shipped = ", ".join(list_plans()) or "none"
        raise PlanError(
            f"plan {name!r}: no such plan (shipped: {shipped}); or give the path of a .yaml file"
        )
    return parse_plan_bytes(resource.read_bytes(), f"checklists/{name}.yaml", expected_name=name)


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
def _parse_plan_cached(data: bytes, source: str, expected_name: str | None) -> LoadedPlan:
    """Validate a plan file's bytes. ``source`` names the file in errors; ``expected_name`` (the
    file's stem) must equal the plan's ``name`` when given."""
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(f"{source}: too large for a plan file (over {MAX_PLAN_BYTES} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    node, raw = _parse_yaml(text, source)
    doc = _Doc(source, node, raw)
    if raw is None:
        raise PlanError(f"{source}: the file is empty (expected a mapping: {_TOP_KEYS})")
    if not isinstance(raw, dict):
        raise PlanError(
            f"{doc.where(())}: expected a mapping at the top level ({_TOP_KEYS}), "
            f"got {_type_word(raw)}"
        )
    _check_tags(doc)
    plan = _convert(doc)
    _check_semantics(doc, plan, expected_name)
    return LoadedPlan(plan=plan, source=source, data=data, sha256=plan_sha256(data))


def check_roles(loaded: LoadedPlan, roles: Iterable[str]) -> None:
    """Every gate's role is one of ``roles`` (the keys of ``[roles]`` in cockpit.toml)."""
    known = sorted(set(roles))
    node, raw = _parse_yaml(loaded.data.decode("utf-8").removeprefix("\ufeff"), loaded.source)
    doc = _Doc(loaded.source, node, raw)
    for (p, i), (_, item) in zip(_positions(loaded.plan), loaded.plan.items(), strict=True):
        if isinstance(item, GateItem) and item.role not in known:
            raise doc.error(
                ("phases", p, "items", i, "role"),
                f"role {item.role!r} is not in [roles] of cockpit.toml "
                f"(known: {', '.join(known) or 'none'})",
            )


# --- YAML and positions ----------------------------------------------------------------------

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Segment = str | int
KeyPath = tuple[Segment, ...]


def _parse_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """One pass of the safe loader: the node tree (for line numbers) and the data."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_nodes(node, source)
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "cannot parse"
        if exc.problem and exc.context and exc.context_mark and exc.context_mark != mark:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise PlanError(f"{source}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise PlanError(f"{source}: not valid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()


def _check_nodes(root: yaml.Node, source: str) -> None:
    """Two equal keys in one mapping are an error (PyYAML silently keeps the last, which hides a
    mistake), and aliases may not expand the plan past :data:`MAX_PLAN_NODES` values (a small
    file of nested aliases can stand for billions)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        sizes[id(node)] = 1  # a recursive alias counts once instead of looping
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    line = key.start_mark.line + 1
                    first = seen.setdefault((key.tag, key.value), line)
                    if first != line:
                        raise PlanError(
                            f"{source}:{line}: key {key.value!r} appears twice in the same "
                            f"mapping (first at line {first})"
                        )
                total += size(key) + size(value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        if total > MAX_PLAN_NODES:
            raise PlanError(
                f"{source}:{node.start_mark.line + 1}: too many values for a plan (aliases expand "
                f"to over {MAX_PLAN_NODES})"
            )
        sizes[id(node)] = total
        return total

    size(root)


class _Doc:
    """A plan file being checked: its name, YAML node tree and data, for one-line errors."""

    def __init__(self, source: str, node: yaml.Node | None, raw: Any) -> None:
        self.source = source
        self.node = node
        self.raw = raw

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``: the key's line for a mapping entry, the entry's for a list."""
        node = self.node
        mark = node.start_mark if node is not None else None
        for seg in path:
            if isinstance(node, yaml.MappingNode) and isinstance(seg, str):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == seg:
                        node, mark = value, key.start_mark
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(seg, int):
                if not 0 <= seg < len(node.value):
                    break
                node = node.value[seg]
                mark = node.start_mark
            else:
                break
        return mark.line + 1 if mark is not None else None

    def where(self, path: KeyPath) -> str:
        line = self.line(path)
        return f"{self.source}:{line}" if line else self.source

    def subject(self, path: KeyPath) -> str:
        """``item t14.deps: check.url`` when the item has a usable id, else ``phases[0].items[3]
        .check.url``; likewise ``phase t-14: offset_days``."""
        raw = self.raw
        if len(path) >= 4 and path[0] == "phases" and path[2] == "items":
            item_id = _get(raw, (*path[:4], "id"))
            if isinstance(item_id, str) and re.match(_ITEM_ID_RE, item_id):
                return _join_subject(f"item {item_id}", path[4:])
        if len(path) >= 2 and path[0] == "phases" and not (len(path) >= 4 and path[2] == "items"):
            phase_id = _get(raw, (*path[:2], "id"))
            if isinstance(phase_id, str) and re.match(_PHASE_ID_RE, phase_id):
                return _join_subject(f"phase {phase_id}", path[2:])
        return _dotted(path) or "(top level)"

    def error(self, path: KeyPath, problem: str, line_path: KeyPath | None = None) -> PlanError:
        where = self.where(path if line_path is None else line_path)
        return PlanError(f"{where}: {self.subject(path)}: {problem}")


def _join_subject(head: str, rest: KeyPath) -> str:
    tail = _dotted(rest)
    return f"{head}: {tail}" if tail else head


def _dotted(path: KeyPath) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else seg)
    return out


def _get(raw: Any, path: KeyPath) -> Any:
    for seg in path:
        if isinstance(seg, int) and isinstance(raw, list) and 0 <= seg < len(raw):
            raw = raw[seg]
        elif isinstance(seg, str) and isinstance(raw, dict):
            raw = raw.get(seg)
        else:
            return None
    return raw


def _positions(plan: Plan) -> Iterator[tuple[int, int]]:
    for p, phase in enumerate(plan.phases):
        for i in range(len(phase.items)):
            yield p, i


# --- schema errors ---------------------------------------------------------------------------


def _check_tags(doc: _Doc) -> None:
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
            if kind == "check":
                _check_sub_tag(doc, at, item, "check", "probe", PROBES, "check")
            elif kind == "step":
                _check_sub_tag(doc, at, item, "run", "kind", STEP_KINDS, "step kind")


def _check_sub_tag(
    doc: _Doc,
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
    doc: _Doc, path: KeyPath, value: Any, known: tuple[str, ...], what: str, parent: dict[str, Any]
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
    return repr(value) if isinstance(value, str) else f"{_type_word(value)} {value!r}"


_AT_RE = re.compile(r" - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`$")
_SEG_RE = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_FORM_HINTS = {
    "name": "lowercase letters, digits, '-' and '_', starting with a letter, as the file name",
    "id": "lowercase letters, digits, '-' and '_', starting with a letter, e.g. t-14",
    "item_id": "lowercase letters, digits, '-' and '_', words joined by dots, starting with a "
    "letter, e.g. t14.requirements",
    "role": "a role name from [roles] in cockpit.toml, e.g. approver",
    "url": "an http:// or https:// URL",
}


def _type_word(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true or false"
    for kind, word in ((str, "a string"), (int, "an integer"), (float, "a number")):
        if isinstance(value, kind):
            return word
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _convert(doc: _Doc) -> Plan:
    try:
        plan: Plan = msgspec.convert(doc.raw, Plan, strict=True)
        return plan
    except msgspec.ValidationError as exc:
        message = str(exc)
        at = _AT_RE.search(message)
        message = message[: at.start()] if at else message
        path: KeyPath = tuple(
            int(m[2]) if m[2] is not None else m[1]
            for m in _SEG_RE.finditer(at["path"] if at else "")
        )
        if at and at["key"]:
            raise doc.error(path, "every key must be a string (quote the key)") from None
        raise _schema_error(doc, path, message) from None


def _schema_error(doc: _Doc, path: KeyPath, message: str) -> PlanError:
    if unknown := UNKNOWN_RE.match(message):
        allowed = _allowed_keys(doc.raw, path)
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return doc.error((*path, unknown["field"]), f"unknown key{hint}")
    if missing := MISSING_RE.match(message):
        return doc.error((*path, missing["field"]), "missing (required)", line_path=path)
    if expected := EXPECTED_RE.match(message):
        field = next((seg for seg in reversed(path) if isinstance(seg, str)), "")
        rest = expected["rest"].split(", got")[0]
        if "matching regex" in rest:
            if field == "id" and len(path) == 5 and path[2] == "items":
                field = "item_id"
            hint = _FORM_HINTS.get(field, "")
            value = _get(doc.raw, path)
            return doc.error(path, f"{value!r} has the wrong form" + (f" ({hint})" if hint else ""))
        rest = rest.replace(".0", "") if expected["want"] == "float" else rest
        return doc.error(path, f"expected {type_word(expected['want'], 'a mapping')}{rest}")
    if enum := ENUM_RE.match(message):
        if path == ("schema_version",):
            return doc.error(
                path, f"{enum['value']} is not supported (this cockpit reads {SCHEMA_VERSION})"
            )
        return doc.error(path, f"{enum['value']} is not allowed")
    return doc.error(path, message[:1].lower() + message[1:])


def _allowed_keys(raw: Any, path: KeyPath) -> list[str]:
    """The keys the mapping at ``path`` may have, following the data through tagged unions."""
    kind: Any = Plan
    value = raw
    for seg in path:
        kind = _pick(kind, value)
        if isinstance(seg, int):
            args = typing.get_args(kind)
            kind = args[0] if args else None
            value = _get(value, (seg,))
        elif isinstance(kind, type) and issubclass(kind, msgspec.Struct):
            field = next((f for f in msgspec.structs.fields(kind) if f.name == seg), None)
            kind = field.type if field else None
            value = _get(value, (seg,))
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


# --- rules a type cannot express -------------------------------------------------------------


def _check_semantics(doc: _Doc, plan: Plan, expected_name: str | None) -> None:
    if expected_name is not None and plan.name != expected_name:
        raise doc.error(
            ("name",),
            f"{plan.name!r} does not match the file name (name the file {plan.name}.yaml, or "
            f"set name: {expected_name})",
        )
    _check_title(doc, (), plan.title_ja, plan.title_en)
    if not plan.phases:
        raise doc.error(("phases",), "a plan needs at least one phase", line_path=())
    phase_ids: dict[str, int] = {}
    item_ids: dict[str, tuple[int, int]] = {}
    previous: Phase | None = None
    for p, phase in enumerate(plan.phases):
        at: KeyPath = ("phases", p)
        if phase.id in phase_ids:
            first = phase_ids[phase.id]
            raise doc.error(
                (*at, "id"),
                f"duplicate phase id {phase.id!r} (also phases[{first}], "
                f"line {doc.line(('phases', first, 'id'))})",
            )
        phase_ids[phase.id] = p
        _check_title(doc, at, phase.title_ja, phase.title_en)
        if previous is not None and phase.offset_days < previous.offset_days:
            raise doc.error(
                (*at, "offset_days"),
                f"{phase.offset_days} comes after {previous.offset_days} (phase {previous.id}); "
                "list the phases from the earliest to T-0",
            )
        previous = phase
        if not phase.items:
            raise doc.error(at, "a phase needs at least one item")
        stage_order = _check_stages(doc, at, phase)
        last_stage = -1
        for i, item in enumerate(phase.items):
            ip: KeyPath = (*at, "items", i)
            if item.id in item_ids:
                fp, fi = item_ids[item.id]
                raise doc.error(
                    (*ip, "id"),
                    f"duplicate item id {item.id!r} (also phases[{fp}].items[{fi}], "
                    f"line {doc.line(('phases', fp, 'items', fi, 'id'))})",
                )
            item_ids[item.id] = (p, i)
            _check_title(doc, ip, item.title_ja, item.title_en)
            if item.stage:
                if item.stage not in stage_order:
                    known = ", ".join(stage_order) or "the phase has no stages"
                    raise doc.error(
                        (*ip, "stage"), f"unknown stage {item.stage!r} (known: {known})"
                    )
                if stage_order[item.stage] < last_stage:
                    raise doc.error(
                        (*ip, "stage"),
                        f"stage {item.stage!r} comes after a later stage; keep each stage's "
                        "items together, in the order of the stages",
                    )
                last_stage = stage_order[item.stage]
            if isinstance(item, StepItem) and isinstance(item.run, ShellRun):
                _check_argv(doc, (*ip, "run", "argv"), item.run.argv)
            elif isinstance(item, CheckItem) and isinstance(item.check, CommandProbe):
                _check_argv(doc, (*ip, "check", "argv"), item.check.argv)
    last = plan.phases[-1]
    if last.offset_days != 0:
        raise doc.error(
            ("phases", len(plan.phases) - 1, "offset_days"),
            f"the last phase must be T-0 (offset_days: 0), got {last.offset_days}",
        )


def _check_title(doc: _Doc, at: KeyPath, *titles: str) -> None:
    for field, title in zip(("title_ja", "title_en"), titles, strict=True):
        if not title.strip():
            raise doc.error((*at, field), "must not be blank")
        if "\n" in title.strip():
            raise doc.error((*at, field), "must be one line (put details in help_ja / help_en)")


def _check_stages(doc: _Doc, at: KeyPath, phase: Phase) -> dict[str, int]:
    order: dict[str, int] = {}
    previous: Stage | None = None
    for s, stage in enumerate(phase.stages):
        sp: KeyPath = (*at, "stages", s)
        if stage.id in order:
            raise doc.error((*sp, "id"), f"duplicate stage id {stage.id!r}")
        order[stage.id] = s
        _check_title(doc, sp, stage.title_ja, stage.title_en)
        if stage.end_hour <= stage.start_hour:
            raise doc.error(
                (*sp, "end_hour"),
                f"{stage.end_hour} is not after start_hour {stage.start_hour} "
                "(a stage past midnight ends at 24 + the hour)",
            )
        if previous is not None and stage.start_hour < previous.end_hour:
            raise doc.error(
                (*sp, "start_hour"),
                f"{stage.start_hour} is before the end of stage {previous.id!r} "
                f"({previous.end_hour}); list the stages in time order without overlap",
            )
        previous = stage
    return order


def _check_argv(doc: _Doc, path: KeyPath, argv: list[str]) -> None:
    if not argv:
        raise doc.error(path, "needs at least the program name (an argv list)")
    if len(argv) == 1 and len(argv[0].split()) > 1:
        words = ", ".join(argv[0].split())
        raise doc.error(
            path,
            f"{argv[0]!r} looks like a whole command line; write each word as its own list "
            f"entry: [{words}]",
        )
