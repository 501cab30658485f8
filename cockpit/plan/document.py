"""A plan file being read: its YAML (one pass of the safe loader, keeping the node tree for line
numbers), the guards against duplicate keys and alias bombs, and the one-line :class:`PlanError`
that names the file, the line and the item (by id, or by its position when it has no usable id).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cockpit.errors import CockpitError, Phrase
from cockpit.plan.model import ITEM_ID_RE, PHASE_ID_RE
from cockpit.schema_errors import KeyPath

# Plans are small hand-written files; anything bigger is a mistake (or a YAML alias bomb).
MAX_PLAN_NODES = 200_000


class PlanError(CockpitError):
    """A plan file is missing, unreadable, not YAML, or does not match the schema."""

    exit_code = 2


if TYPE_CHECKING:
    import yaml


def parse_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """One pass of the safe loader: the node tree (for line numbers) and the data. PyYAML is
    imported here: a shipped plan is read from its frozen data (:mod:`cockpit.plan.frozen`)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
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
        raise PlanError.said("err.yaml", where=f"{source}{line}", cause=problem) from None
    except yaml.YAMLError as exc:
        raise PlanError.said("err.yaml", where=source, cause=str(exc).splitlines()[0]) from None
    finally:
        loader.dispose()


def _check_nodes(root: yaml.Node, source: str) -> None:
    """Two equal keys in one mapping are an error (PyYAML silently keeps the last, which hides a
    mistake), and aliases may not expand the plan past :data:`MAX_PLAN_NODES` values (a small
    file of nested aliases can stand for billions)."""
    import yaml

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
                        raise PlanError.said(
                            "plan.twice", where=f"{source}:{line}", name=key.value, first=first
                        )
                total += size(key) + size(value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        if total > MAX_PLAN_NODES:
            where = f"{source}:{node.start_mark.line + 1}"
            raise PlanError.said("plan.too_many", where=where, most=MAX_PLAN_NODES)
        sizes[id(node)] = total
        return total

    size(root)


class Doc:
    """A plan file being checked: its name, YAML node tree and data, for one-line errors."""

    def __init__(self, source: str, node: yaml.Node | None, raw: Any) -> None:
        self.source = source
        self.node = node
        self.raw = raw

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``: the key's line for a mapping entry, the entry's for a list."""
        node = self.node
        if node is None:
            return None
        import yaml

        mark = node.start_mark
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
            item_id = value_at(raw, (*path[:4], "id"))
            if isinstance(item_id, str) and re.match(ITEM_ID_RE, item_id):
                return _join_subject(f"item {item_id}", path[4:])
        if len(path) >= 2 and path[0] == "phases" and not (len(path) >= 4 and path[2] == "items"):
            phase_id = value_at(raw, (*path[:2], "id"))
            if isinstance(phase_id, str) and re.match(PHASE_ID_RE, phase_id):
                return _join_subject(f"phase {phase_id}", path[2:])
        return _dotted(path) or "(top level)"

    def message(
        self, path: KeyPath, problem: Phrase | str, line_path: KeyPath | None = None
    ) -> Phrase:
        """``FILE:LINE: SUBJECT: PROBLEM``, the line at ``line_path`` when given, else ``path``."""
        where = self.where(path if line_path is None else line_path)
        return Phrase(
            "schema.line", {"where": where, "setting": self.subject(path), "problem": problem}
        )

    def error(
        self, path: KeyPath, problem: Phrase | str, line_path: KeyPath | None = None
    ) -> PlanError:
        return PlanError.of(self.message(path, problem, line_path))


def _join_subject(head: str, rest: KeyPath) -> str:
    tail = _dotted(rest)
    return f"{head}: {tail}" if tail else head


def _dotted(path: KeyPath) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else seg)
    return out


def value_at(raw: Any, path: KeyPath) -> Any:
    """The data at ``path``, or ``None`` when the data has no such place."""
    for seg in path:
        if isinstance(seg, int) and isinstance(raw, list) and 0 <= seg < len(raw):
            raw = raw[seg]
        elif isinstance(seg, str) and isinstance(raw, dict):
            raw = raw.get(seg)
        else:
            return None
    return raw


def value_word(value: Any) -> str:
    """What ``value`` is, in words: ``a string``, ``a list``, ``nothing``."""
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
