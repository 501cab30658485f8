"""One registry of event actions: every action the engine spells is in cockpit.vocabulary.

The engine's source (cockpit/, screens/, widgets/) is read, not run. An action is found where
it is recorded or asked about:

- the ``action=`` argument of any call (``NewEvent(action=...)``; argparse's ``add_argument``
  is not an event);
- an argument that a function passes on as ``action=`` (``write_ahead(done=, failed=)``, a
  local ``record("tag.created", ...)``);
- the ``actions=`` argument of any call (``store.events(actions=...)``);
- a comparison with ``<x>.action`` (``ev.action == ...``, ``ev.action in {...}``), except a
  step run's own ``action`` (``spec.action``, ``run.action``: set_image, restart, apply).

Each argument is followed through string literals, ``a if c else b``, tuples, sets, lists,
dicts (keys after ``in``, values when subscripted), names assigned in the same module, and the
constants of cockpit.vocabulary itself, so the test keeps working once the engine uses them.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit import events, vocabulary
from cockpit.errors import EventRejected
from cockpit.vocabulary import ALL_ACTIONS, REASON_REQUIRED

REPO = Path(__file__).resolve().parent.parent
ENGINE = ("cockpit", "screens", "widgets")
VOCABULARY = "cockpit.vocabulary"
# Calls whose action= is not an event's.
NOT_EVENT_CALLS = {"add_argument"}
# Objects whose .action is not an event's: a step run's (set_image, restart, apply).
NOT_EVENT_OBJECTS = {"spec", "run"}


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


class Module:
    """One source file: its assignments (any scope) and its names for cockpit.vocabulary."""

    def __init__(self, path: Path, vocabulary: Module | None) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.vocabulary = vocabulary  # cockpit/vocabulary.py, to resolve its constants in
        self.assigned: dict[str, list[ast.expr]] = defaultdict(list)
        self.vocabulary_aliases: set[str] = set()
        self.from_vocabulary: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._assign(target, node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self._assign(node.target, node.value)
            elif isinstance(node, ast.ImportFrom) and node.module == VOCABULARY:
                for alias in node.names:
                    self.from_vocabulary[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module == "cockpit":
                for alias in node.names:
                    if alias.name == "vocabulary":
                        self.vocabulary_aliases.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == VOCABULARY and alias.asname:
                        self.vocabulary_aliases.add(alias.asname)

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.assigned[target.id].append(value)
        elif isinstance(target, ast.Tuple):  # a, b = (..) if c else (..): each gets all
            for element in target.elts:
                self._assign(element, value)

    def strings(
        self, node: ast.expr, *, keys: bool = False, seen: frozenset[str] = frozenset()
    ) -> set[str]:
        """The strings ``node`` can evaluate to (``keys``: a dict stands for its keys)."""
        if isinstance(node, ast.Constant):
            return {node.value} if isinstance(node.value, str) else set()
        if isinstance(node, ast.IfExp):
            return self.strings(node.body, keys=keys, seen=seen) | self.strings(
                node.orelse, keys=keys, seen=seen
            )
        if isinstance(node, ast.BoolOp):
            return set().union(*(self.strings(v, keys=keys, seen=seen) for v in node.values))
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return set().union(set(), *(self.strings(e, keys=keys, seen=seen) for e in node.elts))
        if isinstance(node, ast.Dict):
            parts = node.keys if keys else node.values
            return set().union(set(), *(self.strings(p, seen=seen) for p in parts if p is not None))
        if isinstance(node, ast.Call) and _name(node) in {"frozenset", "set", "tuple", "list"}:
            return set().union(set(), *(self.strings(a, keys=keys, seen=seen) for a in node.args))
        if isinstance(node, ast.Subscript):
            return self.strings(node.value, keys=False, seen=seen)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in self.vocabulary_aliases:
                return self._registered(node.attr, keys=keys)
            return set()
        if isinstance(node, ast.Name) and node.id not in seen:
            if node.id in self.from_vocabulary:
                return self._registered(self.from_vocabulary[node.id], keys=keys)
            inner = seen | {node.id}
            return set().union(
                set(), *(self.strings(v, keys=keys, seen=inner) for v in self.assigned[node.id])
            )
        return set()

    def _registered(self, name: str, *, keys: bool) -> set[str]:
        """The strings of a constant of cockpit.vocabulary, resolved in that module."""
        if self.vocabulary is None:
            return set()
        return self.vocabulary.strings(ast.Name(id=name), keys=keys)

    def functions(self) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield node


def _modules() -> list[Module]:
    registry = Module(REPO / "cockpit" / "vocabulary.py", None)
    paths = sorted(p for root in ENGINE for p in (REPO / root).rglob("*.py"))
    return [Module(p, registry) for p in paths]


def _wrappers(modules: list[Module]) -> dict[str, set[tuple[int, str]]]:
    """Functions that pass one of their parameters on as ``action=``: name -> {(index, name)}
    (the index counts ``self`` out, as a call through an object passes it)."""
    found: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for module in modules:
        for fn in module.functions():
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            if params and params[0] in {"self", "cls"}:
                params = params[1:]
            every = params + [a.arg for a in fn.args.kwonlyargs]
            for call in ast.walk(fn):
                if not isinstance(call, ast.Call) or _name(call) in NOT_EVENT_CALLS:
                    continue
                for kw in call.keywords:
                    value = kw.value
                    if kw.arg == "action" and isinstance(value, ast.Name) and value.id in every:
                        index = params.index(value.id) if value.id in params else -1
                        found[fn.name].add((index, value.id))
    return found


def spelled_actions() -> dict[str, list[str]]:
    """Every action string the engine records or asks about -> where (file:line)."""
    modules = _modules()
    wrappers = _wrappers(modules)
    found: dict[str, list[str]] = defaultdict(list)
    for module in modules:
        where = str(module.path.relative_to(REPO))

        def add(strings: set[str], node: ast.AST, where: str = where) -> None:
            for text in strings:
                found[text].append(f"{where}:{getattr(node, 'lineno', 0)}")

        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call):
                name = _name(node)
                for kw in node.keywords:
                    if (kw.arg == "action" and name not in NOT_EVENT_CALLS) or kw.arg == "actions":
                        add(module.strings(kw.value), node)
                for index, param in wrappers.get(name or "", ()):
                    if 0 <= index < len(node.args):
                        add(module.strings(node.args[index]), node)
                    for kw in node.keywords:
                        if kw.arg == param:
                            add(module.strings(kw.value), node)
            elif isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if not any(_is_event_action(side) for side in sides):
                    continue
                for op, side in zip(node.ops, node.comparators, strict=True):
                    member = isinstance(op, (ast.In, ast.NotIn))
                    if not _is_event_action(side):
                        add(module.strings(side, keys=member), node)
                if not _is_event_action(node.left):
                    add(module.strings(node.left), node)
    return dict(found)


def _is_event_action(node: ast.expr) -> bool:
    if not (isinstance(node, ast.Attribute) and node.attr == "action"):
        return False
    return not (isinstance(node.value, ast.Name) and node.value.id in NOT_EVENT_OBJECTS)


def test_every_action_spelled_in_the_engine_is_registered() -> None:
    unregistered = {a: w for a, w in spelled_actions().items() if a not in ALL_ACTIONS}
    assert not unregistered, f"add these to cockpit/vocabulary.py: {unregistered}"


def test_every_registered_action_is_spelled_in_the_engine() -> None:
    # No dead entries; also proves the scan still finds actions in the ways they are written
    # (no_go only where validate_new asks for its reason).
    assert ALL_ACTIONS - set(spelled_actions()) == set()


def test_every_constant_is_in_the_registry() -> None:
    constants = {
        value
        for name, value in vars(vocabulary).items()
        if name.isupper() and isinstance(value, str)
    }
    assert constants == ALL_ACTIONS
    assert REASON_REQUIRED <= ALL_ACTIONS
    assert events.REASON_REQUIRED is REASON_REQUIRED


@pytest.mark.parametrize("action", sorted(ALL_ACTIONS))
def test_every_action_can_be_recorded(action: str) -> None:
    events.validate_new(events.NewEvent(action=action, reason="why"))
    if action in REASON_REQUIRED:
        with pytest.raises(EventRejected, match="a reason is required"):
            events.validate_new(events.NewEvent(action=action))
