"""The one table of key bindings, as data: every binding's id, default keys, action and labels.

Screens build their ``BINDINGS`` from it (:func:`bindings`), the help screen orders its rows by
it, each screen's footer line is laid out from :data:`FOOTERS`, and a ``[keys]`` table of
cockpit.toml rebinds keys by binding id (:func:`apply_keymap`, Textual's ``App.set_keymap``). A
binding's long label (the help screen) is the catalog entry ``key.<id>``; its short label (the
footer) is the catalog key in :attr:`Key.short`, and a binding without one stays out of the footer.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.actions import parse
from textual.binding import Binding, BindingType
from textual.keys import Keys, key_to_character

from cockpit.i18n import CATALOG

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class Key:
    id: str  # "checklist.do": what a [keys] table names
    keys: str  # Textual key names, comma-separated: "enter,space"
    action: str  # the action on the screen (or "app.<action>")
    short: str = ""  # catalog key of the footer label; "" keeps it out of the footer
    priority: bool = False  # before the focused list's own key (enter: a list's "select")
    # What the action changes: "log" records an event (refused with --readonly), "drive" drives
    # the release (also refused while another operator holds its lease), "" only looks.
    writes: str = ""
    # The screen it opens (screens.app.SCREENS), so the palette does not offer it twice.
    opens: str = ""

    @property
    def label(self) -> str:
        """Catalog key of the long label (the help screen)."""
        return "key." + self.id


# Scope -> its bindings. "nav" and "screen" are on every screen (CockpitScreen), "app" on the
# app; the order of this table is the order of the help screen's rows (navigation first, then
# the screen's own keys, then the shared ones).
TABLE: dict[str, tuple[Key, ...]] = {
    "nav": (
        Key("nav.down", "j", "down"),
        Key("nav.up", "k", "up"),
    ),
    "dashboard": (
        # A priority binding: the release list's own enter ("select") would hide it.
        Key("dashboard.open", "enter", "open", "act.open", priority=True, opens="checklist"),
        Key("dashboard.tag", "t", "tag", "tag.act_tag", opens="tagging"),
        Key("dashboard.deploy", "d", "deploy", "dash.deploy", opens="runbook"),
        Key("dashboard.metrics", "m", "metrics", "dash.metrics", opens="metrics"),
        Key("dashboard.note", "n", "note", "act.note", writes="log"),
    ),
    "checklist": (
        Key("checklist.do", "enter,space", "do", "act.do", priority=True, writes="drive"),
        Key("checklist.skip", "s", "decide('skip')", "act.skip", writes="drive"),
        Key("checklist.approve", "a", "decide('approve')", "act.approve", writes="log"),
        Key("checklist.reject", "x", "decide('reject')", "act.reject", writes="log"),
        Key("checklist.note", "n", "note", "act.note", writes="log"),
        # A mis-tick taken back (with a reason); in help and the palette, not the footer.
        Key("checklist.reopen", "u", "decide('reopen')", writes="drive"),
        Key("checklist.prev_phase", "left_square_bracket", "phase(-1)", "act.phase"),
        Key("checklist.next_phase", "right_square_bracket", "phase(1)", "act.phase"),
        Key("checklist.filter", "slash", "filter", "act.filter"),
    ),
    "runbook": (
        Key("runbook.run", "enter", "run", "run.act_run", priority=True, writes="drive"),
        Key("runbook.cancel", "c", "cancel", "run.act_cancel", writes="drive"),
        Key("runbook.preview", "p", "preview", "run.act_view"),
        Key("runbook.output", "o", "show_log"),
        Key("runbook.resume", "r", "step('resume')", "run.act_resume", writes="drive"),
        Key("runbook.redo", "e", "step('redo')", writes="drive"),
        Key("runbook.skip", "s", "skip", writes="drive"),
        Key("runbook.rollback", "R", "rollback", "run.act_rollback", writes="drive"),
        Key("runbook.metrics", "m", "metrics", opens="metrics"),
        Key("runbook.filter", "slash", "filter", "act.filter"),
    ),
    "audit": (
        Key("audit.filter", "slash", "filter", "act.filter"),
        Key("audit.verify", "v", "verify", "act.verify"),
        Key("audit.detail", "enter", "detail", "act.detail"),
    ),
    "tagging": (
        Key("tagging.tag", "enter", "tag", "tag.act_tag", writes="drive"),
        Key("tagging.major", "M", "choose('major', None)", "tag.act_bump"),
        Key("tagging.minor", "m", "choose('minor', None)", "tag.act_bump"),
        Key("tagging.patch", "p", "choose('patch', None)", "tag.act_bump"),
        Key("tagging.rc", "r", "choose(None, 'rc')", "tag.act_pre"),
        Key("tagging.beta", "b", "choose(None, 'beta')", "tag.act_pre"),
        Key("tagging.planned", "0", "choose(None, None)", "tag.act_planned"),
    ),
    "metrics": (
        Key("metrics.pause", "space", "pause", "met.act_pause"),
        Key("metrics.baseline", "b", "baseline", "met.act_baseline", writes="log"),
        Key("metrics.watch", "w", "watch", "met.act_watch", writes="log"),
        Key("metrics.go", "g", "go", "met.act_go", writes="log"),
        Key("metrics.no_go", "n", "no_go", "met.act_no_go", writes="log"),
        Key("metrics.override", "o", "override", "met.act_override", writes="log"),
        Key("metrics.rollback", "R", "rollback", "run.act_rollback", writes="drive"),
        Key("metrics.settle", "s", "settle", "met.act_settle", writes="log"),
    ),
    "screen": (
        Key("app.audit", "l", "audit", "act.audit", opens="audit"),
        Key("app.back", "escape", "back", "act.back"),
        Key("app.help", "question_mark", "app.help", "act.help", opens="help"),
        # Shown in help, not in the footer: it applies only while someone else drives.
        Key("app.takeover", "T", "takeover", writes="log"),
    ),
    "app": (
        Key("app.commands", "colon", "command_palette"),
        Key("app.quit", "q", "quit_app", "act.quit"),
        # Every time shown in UTC, or back in the window's zone (cockpit.timefmt).
        Key("app.utc", "Z", "toggle_utc", "act.utc"),
    ),
    # Dialogs: their own keys only (a modal screen hides the keys beneath it).
    "decision": (Key("dialog.cancel", "escape", "cancel"),),
    "confirm": (
        Key("confirm.yes", "y", "answer(True)"),
        Key("confirm.no", "n,escape,enter", "answer(False)"),  # enter: the default, cancel
    ),
    "quit": (
        Key("quit.stay", "escape,enter,s", "answer('stay')"),
        Key("quit.detach", "d", "answer('detach')"),
        Key("quit.cancel", "c", "answer('cancel')"),
    ),
    "help": (Key("help.close", "escape,question_mark", "close"),),
    # ctrl+: the reason's input has the focus (priority: before its own keys).
    "trigger": (
        Key("trigger.rollback", "ctrl+r", "choose('rollback')", priority=True),
        Key("trigger.continue", "ctrl+o", "choose('continue')", priority=True),
        Key("trigger.later", "escape", "dismiss_none"),
    ),
    # A notify item's notice, drafted from the release: edit it, then send (or cancel).
    "notice": (
        Key("notice.send", "ctrl+s", "send", writes="drive"),
        Key("notice.cancel", "escape", "cancel"),
    ),
}

BY_ID: dict[str, Key] = {key.id: key for scope in TABLE.values() for key in scope}
# Scope -> (action, parameters) -> what it writes ("log", "drive"): for read-only mode.
WRITES: dict[str, dict[tuple[str, tuple[object, ...]], str]] = {
    scope: {parse(key.action)[1:]: key.writes for key in keys if key.writes}
    for scope, keys in TABLE.items()
}


def write_kind(scope: str, action: str, parameters: tuple[object, ...] = ()) -> str:
    """What a screen's action writes: "log", "drive", or "" (it only looks)."""
    return WRITES.get(scope, {}).get((action, tuple(parameters)), "")


# The help screen's row order: a binding's place in the table.
RANK: dict[str, int] = {key_id: rank for rank, key_id in enumerate(BY_ID)}
SCREENS = ("dashboard", "checklist", "runbook", "audit", "tagging", "metrics")
# Where the palette goes from any screen (catalog "nav.<name>"), unless a key of the screen
# already opens it (Key.opens) or it is the screen itself.
NAVIGATION = ("checklist", "runbook", "metrics", "tagging", "audit", "help")
DIALOGS = ("decision", "confirm", "quit", "help", "trigger", "notice")


@dataclass(frozen=True)
class Hint:
    """One hint of a footer: the keys of ``ids`` joined by ``sep`` (``M/m/p bump``) with the
    first one's short label; or ``fixed`` (keys, label) for a widget's own keys."""

    ids: tuple[str, ...] = ()
    sep: str = "/"
    fixed: tuple[str, str] | None = None


def _hints(*entries: str | Hint) -> tuple[Hint, ...]:
    return tuple(Hint((entry,)) if isinstance(entry, str) else entry for entry in entries)


# Each screen's footer: which shown bindings, in which order (it fits 80 columns).
FOOTERS: dict[str, tuple[Hint, ...]] = {
    "dashboard": _hints(
        "app.help",
        "dashboard.open",
        "dashboard.tag",
        "dashboard.deploy",
        "dashboard.metrics",
        "dashboard.note",
        "app.audit",
        "app.quit",
    ),
    "checklist": _hints(
        "app.help",
        "checklist.do",
        "checklist.skip",
        "checklist.approve",
        "checklist.reject",
        "checklist.note",
        Hint(("checklist.prev_phase", "checklist.next_phase"), sep=" "),
        # "/ filter" would push "esc back" off 80 columns in Japanese (here and on the
        # runbook): it is in help and the palette, and its box says the count while it filters.
        "app.back",
    ),
    "runbook": _hints(
        "app.help",
        "runbook.run",
        "runbook.cancel",
        "runbook.resume",
        "runbook.preview",
        "runbook.rollback",
        "app.back",
    ),
    # The log view's own keys scroll (a widget's keys, not the screen's).
    "audit": _hints(
        "app.help",
        "audit.detail",
        "audit.filter",
        "audit.verify",
        Hint(fixed=("j/k g/G", "scroll")),
        "app.utc",
        "app.back",
    ),
    "tagging": _hints(
        "app.help",
        "tagging.tag",
        Hint(("tagging.major", "tagging.minor", "tagging.patch")),
        Hint(("tagging.rc", "tagging.beta")),
        "tagging.planned",
        "app.back",
    ),
    # space pause is left to help and the palette: the title says PAUSED while it is.
    "metrics": _hints(
        "metrics.baseline",
        "metrics.watch",
        "metrics.go",
        "metrics.no_go",
        "metrics.override",
        "metrics.rollback",
        "metrics.settle",
        "app.back",
    ),
}


def bindings(scope: str) -> list[BindingType]:
    """The Textual bindings of ``scope`` (a screen's name, "nav", "screen", "app" or a dialog's),
    each with its id, so a keymap can move it."""
    return [
        Binding(
            key.keys,
            key.action,
            CATALOG[key.label]["en"],  # Textual's own panels only: ours take the UI language
            show=bool(key.short),
            priority=key.priority,
            id=key.id,
        )
        for key in TABLE[scope]
    ]


# How a key is written on screen where its name is not the character.
KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "colon": ":",
    "escape": "esc",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_display(key: str) -> str:
    """``?`` for ``question_mark``, ``esc`` for ``escape``; ``enter``, ``space``, ``R`` as is."""
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    char = key_to_character(key) if len(key) > 1 else None
    return char if char and char.isprintable() and not char.isspace() else key


# ------------------------------------------------------------------------------- keymap

MODIFIERS = frozenset({"ctrl", "alt", "shift", "meta", "super", "hyper"})
KEY_NAMES_TEXTUAL = frozenset(k.value for k in Keys)


def unknown_binding_ids(mapping: Mapping[str, str]) -> list[str]:
    """The ids of ``mapping`` that name no binding, in the mapping's order."""
    return [key_id for key_id in mapping if key_id not in BY_ID]


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a key Textual knows ("ctrl+n", "?", "question_mark", "f2"), or None."""
    if not key:
        return "an empty key"
    *modifiers, base = key.split("+") if len(key) > 1 else [key]
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        return f'unknown modifier "{unknown[0]}" (use {", ".join(sorted(MODIFIERS))})'
    if len(base) == 1 or base in KEY_NAMES_TEXTUAL or key_to_character(base) is not None:
        return None
    return f'unknown key "{base}"'


def _canonical(key: str) -> str:
    """One spelling per key, to find two bindings on the same key (``?`` = ``question_mark``)."""
    char = key_to_character(key) if len(key) > 1 else key
    return char if char is not None else key


def keymap_problems(mapping: Mapping[str, str]) -> list[str]:
    """One line per problem of a ``[keys]`` table: an unknown binding id, a key Textual does not
    know, two bindings of one screen on the same key. An empty list: the table can be applied."""
    problems = []
    for key_id in unknown_binding_ids(mapping):
        near = difflib.get_close_matches(key_id, BY_ID, n=1)
        hint = f' (did you mean "{near[0]}"?)' if near else ""
        problems.append(f'[keys] "{key_id}": no binding has this id{hint}')
    for key_id, keys in mapping.items():
        for key in [k.strip() for k in keys.split(",")]:
            problem = key_problem(key)
            if problem:
                problems.append(f'[keys] "{key_id}" = "{keys}": {problem}')
    if problems:
        return problems
    for scope in (*SCREENS, *DIALOGS):
        scopes = ("nav", scope, "screen", "app") if scope in SCREENS else (scope,)
        taken: dict[str, str] = {}
        for name in scopes:
            for binding in TABLE[name]:
                for key in mapping.get(binding.id, binding.keys).split(","):
                    other = taken.setdefault(_canonical(key.strip()), binding.id)
                    if other != binding.id and (other in mapping or binding.id in mapping):
                        problems.append(
                            f'[keys] "{other}" and "{binding.id}" both use "{key.strip()}" '
                            f"on the {scope} screen"
                        )
    return problems


def apply_keymap(app: App[Any], mapping: Mapping[str, str]) -> None:
    """Rebind keys by binding id (``{"nav.down": "z"}``), on every screen, now and later.

    Raises ``ValueError`` with one line per problem (see :func:`keymap_problems`) and changes
    nothing then."""
    problems = keymap_problems(mapping)
    if problems:
        raise ValueError("\n".join(problems))
    app.set_keymap(dict(mapping))
