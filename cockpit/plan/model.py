"""The plan's data model: the strict msgspec schema of a checklist file (phases, stages, the five
item kinds and the probes a ``check`` item names), with the registries the loader and the engine
key on. The file format is described in :mod:`cockpit.plan`; what a ``step`` item runs is in
:mod:`cockpit.plan.runs`, what a ``check`` looks at in :mod:`cockpit.plan.probes`. Only msgspec
here: reading and checking a file is :mod:`.loader`'s job.
"""

# No `from __future__ import annotations`: msgspec reads these types at the first decode,
# and string annotations cost it ~3 ms of every start to evaluate.

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from cockpit.plan.probes import Probe
from cockpit.plan.runs import StepRun, registry
from cockpit.plan.runs import Strict as _Strict

SCHEMA_VERSION = 1

# --- the schema ------------------------------------------------------------------------------

PLAN_NAME_RE = r"^[a-z][a-z0-9_-]{0,31}$"
PHASE_ID_RE = r"^[a-z][a-z0-9_-]{0,31}$"
ITEM_ID_RE = r"^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$"
ROLE_RE = r"^[a-z][a-z0-9_-]{0,31}$"  # the same rule as names in cockpit.toml

PlanName = Annotated[str, msgspec.Meta(pattern=PLAN_NAME_RE)]
PhaseId = Annotated[str, msgspec.Meta(pattern=PHASE_ID_RE)]
ItemId = Annotated[str, msgspec.Meta(pattern=ITEM_ID_RE, max_length=64)]
RoleName = Annotated[str, msgspec.Meta(pattern=ROLE_RE)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]


# The registries: name -> argument schema. The loader accepts exactly these names; the code that
# runs probes and steps keys its runners on the same names. Probes (what a ``check`` item looks
# at) are in cockpit.plan.probes; step runs (what a ``step`` item executes) in cockpit.plan.runs,
# both shared with the config's per-environment replacements.


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
    """The engine probes it: ``check``, or what the release's environment binds to the item
    (``[environments.NAME.checks."ITEM_ID"]`` in cockpit.toml, which replaces the plan's). With
    neither, the item is confirmed by hand with a reason: it never passes unchecked."""

    check: Probe | None = None


class GateItem(_Item, frozen=True, kw_only=True, tag="gate"):
    """An approval by ``approvals`` distinct holders of ``role``, none of them the preparer."""

    role: RoleName
    approvals: Annotated[int, msgspec.Meta(ge=1, le=20)] = 1


class StepItem(_Item, frozen=True, kw_only=True, tag="step"):
    """A deployment action the engine runs."""

    run: StepRun


ChannelRef = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


class NotifyItem(_Item, frozen=True, kw_only=True, tag="notify"):
    """A notice to stakeholders or users (cockpit.notify): drafted from the release (version,
    window, changes, expected impact), edited by the operator, sent on confirm with the text
    recorded. ``channels`` names channels of cockpit.toml's ``[notify]``; empty: the channels
    its routes give stakeholder notices. ``impact_*``: the expected impact the draft states."""

    channels: list[ChannelRef] = msgspec.field(default_factory=list)
    impact_ja: Text = ""
    impact_en: Text = ""


Item = ManualItem | CheckItem | GateItem | StepItem | NotifyItem
ITEM_KINDS: tuple[str, ...] = tuple(registry(Item))


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
