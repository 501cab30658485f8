"""A release's checklist: the state of every item, and the decisions.

Nothing here is stored apart from the event log and what is derived from it: :func:`load_checklist`
reads the release's item facts (the ``item_states`` projection, :mod:`cockpit.itemfacts`) and
judges them against the reader's signers (:mod:`cockpit.itemstate`) over its plan each time, and
:meth:`Checklist.why_not` says whether an action is allowed now
(order, gates, four-eyes, roles, reasons). With an allowed-signers file (the store's
``signers``), an approval counts only when its signature verifies to its actor, who is not the
preparer and did not sign with the preparer's key; one that does not count says why. Reading
never changes anything: the decisions themselves are made by :func:`cockpit.actions.decide`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from cockpit.errors import CockpitError, UsageError
from cockpit.identity import Signers
from cockpit.identity import actor_name as actor_name  # where the screens and actions take it
from cockpit.itemstate import ItemState as ItemState
from cockpit.itemstate import Status as Status
from cockpit.itemstate import Why as Why
from cockpit.itemstate import fold_items as fold_items
from cockpit.itemstate import read_states
from cockpit.liveness import intent_alive
from cockpit.operator import Operator
from cockpit.plan import (
    CheckItem,
    GateItem,
    Item,
    LoadedPlan,
    ManualItem,
    Phase,
    StepItem,
    read_plan,
)
from cockpit.release import Release, find_release_id
from cockpit.vocabulary import STEP_DECISIONS

if TYPE_CHECKING:
    from cockpit.store import Store  # the SQLAlchemy import waits until a store is opened


class Refused(CockpitError):
    """The action is not allowed now; the message says why (shown greyed in the app). With a
    ``why`` (the checklist's rules), :meth:`text` says it in the operator's language."""

    exit_code = 1

    def __init__(self, message: str, *, why: Why | None = None, subject: str = "") -> None:
        super().__init__(message)
        self.why, self.subject = why, subject

    def text(self, lang: str) -> str:
        if self.why is None:
            return super().text(lang)
        return f"{self.subject}: {self.why.text(lang)}" if self.subject else self.why.text(lang)


# ASCII markers, as the seeds' own Markdown checklists write them (UX.md).
MARKERS = {
    Status.PENDING: "[ ]",
    Status.DONE: "[x]",
    Status.SKIPPED: "[-]",
    Status.AWAITING: "[?]",
    Status.APPROVED: "[x]",
    Status.REJECTED: "[!]",
    Status.FAILED: "[!]",
    Status.INTERRUPTED: "[#]",
    Status.RUNNING: "[~]",
    Status.UNDONE: "[<]",
    Status.CANCELLED: "[c]",
    Status.UNDOING: "[~u]",
    Status.UNDO_INTERRUPTED: "[#u]",
    Status.UNDO_FAILED: "[!u]",
}
SETTLED = frozenset({Status.DONE, Status.SKIPPED, Status.APPROVED})
# resume: an interrupted step, re-checked first; redo: run a step again from the start.


@dataclass
class Checklist:
    """A release, its plan, and the state of each item."""

    release: Release
    plan: LoadedPlan
    states: dict[str, ItemState]
    # The allowed signers (the store's): who must sign what, and whose signature proves them.
    signers: Signers | None = None
    _items: dict[str, Item] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._items = {item.id: item for _, item in self.plan.plan.items()}

    def state(self, item_id: str) -> ItemState:
        """The item's state now. A read: the folded states are never changed by asking."""
        state = self.states.get(item_id) or ItemState(item_id)
        item = self._items[item_id]
        status = state.status
        if isinstance(item, GateItem) and status in {Status.AWAITING, Status.PENDING}:
            approvers = state.valid_approvers(self.plan.sha256)
            if len(approvers) >= item.approvals:
                status = Status.APPROVED
            elif approvers:
                status = Status.AWAITING
            else:
                status = Status.PENDING
        waiting = status in {Status.INTERRUPTED, Status.UNDO_INTERRUPTED}
        if waiting and state.intent is not None and intent_alive(*state.intent):
            status = Status.RUNNING if status is Status.INTERRUPTED else Status.UNDOING
        return state if status is state.status else replace(state, status=status)

    def progress(self, phase: Phase) -> tuple[int, int]:
        """(settled items, all items) of a phase."""
        settled = sum(1 for item in phase.items if self.state(item.id).status in SETTLED)
        return settled, len(phase.items)

    def next_item(self) -> tuple[Phase, Item] | None:
        """The first item, in plan order, that is not settled."""
        for phase, item in self.plan.plan.items():
            if self.state(item.id).status not in SETTLED:
                return phase, item
        return None

    def phase_of(self, item_id: str) -> Phase:
        for phase, item in self.plan.plan.items():
            if item.id == item_id:
                return phase
        raise UsageError.of(Why("unknown", {"item": item_id, "plan": self.plan.plan.name}))

    def why_not(
        self,
        item_id: str,
        action: str,
        operator: Operator,
        roles: dict[str, list[str]],
        reason: str | None = None,
    ) -> Why | None:
        """Why ``action`` on ``item_id`` is not allowed now, or ``None`` when it is."""
        try:
            item = self.plan.plan.item(item_id)
        except KeyError:
            return Why("unknown", {"item": item_id, "plan": self.plan.plan.name})
        state = self.state(item_id)
        if self.release.status != "open":
            return Why("closed", {"release": self.release.id, "status": self.release.status})
        if action == "reopen":
            return self._why_not_reopen(item, state, operator, reason)
        if action == "skip" and not (reason and reason.strip()):
            return Why("skip_reason")
        if action == "reject" and not (reason and reason.strip()):
            return Why("reject_reason")
        redo_done = action == "redo" and state.status is Status.DONE
        if redo_done and not (reason and reason.strip()):
            return Why("redo_reason", {"by": state.by})
        if state.status in SETTLED and not (redo_done and isinstance(item, StepItem)):
            return Why("already", {"status": state.status.value, "by": state.by})
        if state.status is Status.REJECTED:
            return Why("rejected", {"by": state.by, "reason": state.reason})
        if state.status is Status.RUNNING:
            return Why("running", {"by": state.by, "at": state.at})
        if action in STEP_DECISIONS and not isinstance(item, StepItem):
            return Why("not_step", {"item": item_id, "kind": item.kind})
        if action == "resume" and state.status is not Status.INTERRUPTED:
            return Why("not_interrupted", {"status": state.status.value})
        if action == "done" and state.status is Status.INTERRUPTED and isinstance(item, StepItem):
            return Why("interrupted", {"by": state.by, "at": state.at})
        is_gate = isinstance(item, GateItem)
        if action in {"approve", "reject"} and not is_gate:
            return Why("not_gate", {"item": item_id, "kind": item.kind})
        if action == "done" and is_gate:
            return Why("is_gate", {"item": item_id})
        blocker = self._earlier_gate_open(item_id)
        if blocker:
            return blocker
        if action == "done" and item.requires_reason and not (reason and reason.strip()):
            return Why("evidence")
        if isinstance(item, GateItem) and action in {"approve", "reject"}:
            return self._why_not_signed(item, action, operator) or self._why_not_approver(
                item, operator, roles
            )
        return self._why_not_signed(item, action, operator)

    def _why_not_reopen(
        self, item: Item, state: ItemState, operator: Operator, reason: str | None
    ) -> Why | None:
        """A mis-tick is taken back: a done or skipped manual or check item, with a reason."""
        if not isinstance(item, (ManualItem, CheckItem)):
            return Why("reopen_kind", {"item": item.id, "kind": item.kind})
        if state.status not in {Status.DONE, Status.SKIPPED}:
            return Why("reopen_open", {"status": state.status.value})
        if not (reason and reason.strip()):
            return Why("reopen_reason")
        return self._why_not_signed(item, "reopen", operator)

    def voided_by_reopening(self, item_id: str) -> list[str]:
        """The gates whose approvals reopening ``item_id`` voids: those after it in its phase
        (a gate waits for the items before it), with approvals."""
        items = self.phase_of(item_id).items
        after = items[[i.id for i in items].index(item_id) + 1 :]
        gates = [i.id for i in after if isinstance(i, GateItem)]
        return [g for g in gates if g in self.states and self.states[g].approvals]

    def _why_not_signed(self, item: Item, action: str, operator: Operator) -> Why | None:
        """Why the decision cannot be signed when it must be: an approval or rejection with
        allowed signers, and every decision recorded by the cockpit itself (a step's are its
        supervisor's) in a ``sign_all`` environment. On a gate it is said first: on a shared
        login the name without a key says nothing."""
        signers = self.signers
        if signers is None:
            return None
        vote = isinstance(item, GateItem) and action in {"approve", "reject"}
        here = action in {"skip", "reopen"}
        recorded_here = here or (action == "done" and not isinstance(item, StepItem))
        if not (vote or (recorded_here and self.release.environment in signers.sign_all)):
            return None
        problem = operator.signing_problem(signers)
        return None if problem is None else Why(problem[0], problem[1] | {"action": action})

    def _earlier_gate_open(self, item_id: str) -> Why | None:
        """Items wait for every gate of the earlier phases, and a gate waits for the items
        before it in its own phase."""
        for phase in self.plan.plan.phases:
            ids = [item.id for item in phase.items]
            if item_id in ids:
                item = phase.items[ids.index(item_id)]
                if isinstance(item, GateItem):
                    for before in phase.items[: ids.index(item_id)]:
                        if self.state(before.id).status not in SETTLED:
                            return Why("before", {"item": before.id, "title": before.title_en})
                return None
            for item in phase.items:
                state = self.state(item.id)
                if isinstance(item, GateItem) and state.status not in SETTLED:
                    values: dict[str, Any] = {"item": item.id, "title": item.title_en}
                    if state.uncounted:
                        return Why("gate_uncounted", values | {"why": state.uncounted[-1]})
                    return Why("gate_open", values)
        return None

    def _why_not_approver(
        self, gate: GateItem, operator: Operator, roles: dict[str, list[str]]
    ) -> Why | None:
        name = actor_name(self.release.created_by)
        if operator.name == name:
            return Why("four_eyes", {"name": name})
        members = roles.get(gate.role, [])
        if not members:
            return Why("role_empty", {"role": gate.role})
        if operator.name not in members:
            return Why(
                "role_missing",
                {"name": operator.name, "role": gate.role, "members": ", ".join(members)},
            )
        if operator.name in self.state(gate.id).valid_approvers(self.plan.sha256):
            return Why("approved_twice", {"name": operator.name})
        return None


def load_checklist(store: Store, release_text: str) -> Checklist:
    """The checklist of a release (by id or unique prefix): its summary and its items' facts
    from the projections, judged against the store's signers (:mod:`cockpit.itemstate`: the
    few events that takes are fetched by seq, not the release's whole history)."""
    release_id = find_release_id(store, release_text)
    signers = getattr(store, "signers", None)
    release, states = store.read_with(
        lambda cursor, mark: read_states(cursor, mark, release_id, signers)
    )
    return Checklist(release, read_plan(release.plan), states, signers)
