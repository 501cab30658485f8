"""Item states as a reader sees them: the facts of each item (:mod:`cockpit.itemfacts`) judged
against this reader's allowed signers.

Which approvals count depends on who reads: an approval counts only when its signature verifies,
against the reader's allowed-signers file, to its actor, who is not the preparer and did not sign
with the preparer's key; a decision not signed by a key of its actor is *claimed*. So neither the
fold's facts nor the ``item_states`` projection hold a verdict: :func:`judge` decides here, one
code path whether the facts come from a full fold (:func:`fold_items`) or from the projection
(:func:`read_states`, which fetches only the few events it must verify, by seq).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cockpit.events import Event
from cockpit.identity import BAD_SIGNATURE, Signers, actor_name, identity_verified
from cockpit.itemfacts import ItemFacts, Vote, fold_facts
from cockpit.itemfacts import Status as Status
from cockpit.itemfacts import read as read_facts
from cockpit.projections import Release, events_at, read_detail


@dataclass(frozen=True)
class Why:
    """Why an action is not allowed now: a catalog key (``why.KEY``) and its values, so the app
    says it in the operator's language; ``str()`` is the English line the CLI prints."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        from cockpit.i18n import tr

        values = {k: v.text(lang) if isinstance(v, Why) else v for k, v in self.values.items()}
        return tr("why." + self.key, lang, **values)

    def __str__(self) -> str:
        return self.text("en")


@dataclass
class ItemState:
    item_id: str
    status: Status = Status.PENDING
    by: str | None = None
    at: str | None = None
    reason: str | None = None
    seq: int = 0
    # (operator name, plan sha256) of every approval that counts, valid for this plan or not.
    approvals: list[tuple[str, str]] = field(default_factory=list)
    # Why each approval that does not count (unsigned, not by a key of its actor, by the
    # preparer) does not, in order.
    uncounted: list[Why] = field(default_factory=list)
    open_intent: int | None = None
    # The open intent's details and time (tells running from interrupted).
    intent: tuple[dict[str, Any], str] | None = None
    # The last decision was made by a claimed identity: not signed by a key of its actor
    # (cockpit.identity.identity_verified).
    claimed: bool = False
    # A failed check: what its probe saw and what it expected (the event's ``seen``/``expected``).
    seen: tuple[str, str] | None = None

    def valid_approvers(self, plan_sha: str) -> list[str]:
        return [name for name, sha in self.approvals if sha == plan_sha]

    def void_approvers(self, plan_sha: str) -> list[str]:
        return [name for name, sha in self.approvals if sha != plan_sha]


def _began(ev: Event) -> str:
    """When the process behind an intent began: its own clock's word (``started_at``), which a
    liveness check compares with this host's clock, else when the log recorded it."""
    return str(ev.details_obj.get("started_at") or ev.recorded_at)


def _checked(vote: Vote, signers: Signers | None) -> bool:
    """Does the vote's signature decide whether it counts (past ``required_after_seq``)?"""
    return signers is not None and vote.seq > signers.required_after_seq


def approval_refused(
    vote: Vote, signers: Signers | None, preparer: tuple[str, str | None], event: Event | None
) -> Why | None:
    """Why an approval does not count, or None when it does. Without an allowed-signers file
    (or at or below ``required_after_seq``) every approval counts, as a claim. ``event``: the
    approval itself (needed only when it is signed and checked)."""
    if signers is None or not _checked(vote, signers):
        return None
    values = {"seq": vote.seq, "name": vote.by}
    if not vote.signed or event is None:
        return Why("approval_unsigned", values)
    found = signers.verdict(event)
    if not found.verified:
        bad = found.code == BAD_SIGNATURE
        return Why("approval_bad" if bad else "approval_not_theirs", values)
    if vote.by == preparer[0] or found.key == preparer[1]:
        return Why("approval_preparer", values | {"preparer": preparer[0]})
    return None


def wanted(facts: Iterable[ItemFacts], signers: Signers | None) -> set[int]:
    """The seqs of the events :func:`judge` reads: open intents (their details), and with
    allowed signers each signed decision and checked approval, and the release's creation
    before it (the preparer and their key)."""
    seqs: set[int] = set()
    for f in facts:
        if f.intent_seq:
            seqs.add(f.intent_seq)
        if signers is None:
            continue
        if f.signed and f.seq:
            seqs.add(f.seq)
        for vote in f.votes:
            if not vote.void and vote.signed and _checked(vote, signers):
                seqs.update(s for s in (vote.seq, vote.prep) if s)
    return seqs


def judge(
    facts: Iterable[ItemFacts], signers: Signers | None, event_at: Callable[[int], Event | None]
) -> dict[str, ItemState]:
    """Each item's state from its facts, with this reader's ``signers``; ``event_at(seq)``
    gives the events :func:`wanted` named."""
    preparers: dict[int, tuple[str, str | None]] = {0: ("", None)}

    def preparer(seq: int) -> tuple[str, str | None]:
        if seq not in preparers:
            created = event_at(seq)
            if created is None:
                preparers[seq] = ("", None)
            else:
                # The preparer, and the key they signed with when it verifies as theirs.
                key = None
                if identity_verified(created, signers):
                    assert signers is not None
                    key = signers.verdict(created).key
                preparers[seq] = (actor_name(created.actor), key)
        return preparers[seq]

    states = {}
    for f in facts:
        state = ItemState(f.item_id, Status(f.status), f.decided_by, f.decided_at, f.reason, f.seq)
        for vote in f.votes:
            if vote.void:  # they approved it done: void
                state.approvals.clear()
                state.uncounted.append(Why("approval_voided", {"seq": vote.seq, "item": vote.void}))
                continue
            checked = vote.signed and _checked(vote, signers)
            refused = approval_refused(
                vote,
                signers,
                preparer(vote.prep) if checked else ("", None),
                event_at(vote.seq) if checked else None,
            )
            if refused is None:
                state.approvals.append((vote.by, vote.sha))
            else:
                state.uncounted.append(refused)
        state.open_intent = f.open_intent
        if f.intent_seq:
            intent = event_at(f.intent_seq)
            if intent is not None:
                state.intent = (intent.details_obj, _began(intent))
        if f.seq:
            decided = event_at(f.seq) if f.signed and signers is not None else None
            state.claimed = decided is None or not identity_verified(decided, signers)
        if f.seen is not None:
            state.seen = (f.seen, str(f.expected))
        states[f.item_id] = state
    return states


def fold_items(events: Iterable[Event], signers: Signers | None = None) -> dict[str, ItemState]:
    """Item states from a release's events, folded in full (gates are settled later, against
    the plan). ``signers``: the allowed signers approvals are checked against."""
    events = list(events)
    by_seq = {ev.seq: ev for ev in events}
    return judge(fold_facts(events).values(), signers, by_seq.get)


def read_states(
    cursor: Any, mark: str, release_id: str, signers: Signers | None
) -> tuple[Release, dict[str, ItemState]]:
    """A release and its item states from the projections: its summary, its items' facts, and
    the few events judging them reads (by seq), not its whole history."""
    release = read_detail(cursor, mark, release_id)
    facts = read_facts(cursor, mark, release_id)
    found = events_at(cursor, mark, wanted(facts, signers))
    return release, judge(facts, signers, found.get)
