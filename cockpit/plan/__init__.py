"""Release plans: the checklist files in ``checklists/*.yaml``, their strict schema, and the loader.

A plan is phases (T-14 ... T-0, or T-30 ... T-0 for a migration), each a list of items. An item
is one of five kinds:

``manual``
    The operator confirms it by hand.
``check``
    The engine probes it: ``check: {probe: NAME, ...arguments}``. ``NAME`` is a key of
    :data:`PROBES` (the schemas are in :mod:`cockpit.plan.probes`); each probe has its own strict
    arguments (``http`` takes ``url`` and ``status``, ``file_younger_than`` takes ``path`` and
    ``hours``, ...). An environment may bind its own probe to the item in cockpit.toml
    (``checks."ITEM_ID"``), and a check item may leave ``check`` out to be bound per environment
    only: where none is bound it is confirmed by hand with a reason. Running probes is not this
    module's job (:mod:`cockpit.probes`): it only checks that the plan names one that exists,
    with valid arguments.
``gate``
    An approval: ``approvals`` (at least 1) by holders of ``role`` (a role in ``cockpit.toml``'s
    ``[roles]``, e.g. ``approver`` or ``release_committee``). Four-eyes (the approver is not the
    preparer) is enforced by the release engine, not here.
``step``
    A deployment action: ``run: {kind: shell, argv: [...], timeout: SECONDS}`` or
    ``run: {kind: tag}`` (tag the release in git, see cockpit.versioning). ``kind`` is a key
    of :data:`STEP_KINDS` (the run schemas are in :mod:`cockpit.plan.runs`).
``notify``
    A notice to stakeholders or users (``channels``: names in ``[notify.channels]``;
    ``impact_ja`` / ``impact_en``: the expected impact): the engine drafts it from the release,
    the operator edits it, and it is sent on confirm with its text in the log (cockpit.notify).

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

The package, one job per module: :mod:`.runs` (what a step runs), :mod:`.probes` (what a check
looks at), :mod:`.model` (the schema), :mod:`.document` (the YAML with its lines, and
:class:`PlanError`), :mod:`.schema` (the schema check and its wording), :mod:`.rules` (what a
type cannot express), :mod:`.loader` (finding and reading plans). It imports neither
cockpit.config nor cockpit.steps: both build on it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.plan.document import MAX_PLAN_NODES, PlanError
    from cockpit.plan.loader import (
        MAX_PLAN_BYTES,
        PLAN_SUFFIXES,
        check_roles,
        is_plan_name,
        list_plans,
        load_plan,
        parse_plan_bytes,
        plan_sha256,
        read_plan,
        read_plan_file,
        validate_plan_file,
    )
    from cockpit.plan.model import (
        ITEM_KINDS,
        SCHEMA_VERSION,
        CheckItem,
        GateItem,
        Item,
        ItemId,
        LoadedPlan,
        ManualItem,
        NotifyItem,
        Phase,
        PhaseId,
        Plan,
        PlanName,
        RoleName,
        Stage,
        StepItem,
        Text,
        Title,
    )
    from cockpit.plan.probes import (
        PROBES,
        AlarmsProbe,
        AlembicProbe,
        BackupProbe,
        CommandProbe,
        CoverageProbe,
        CredentialsProbe,
        FileExistsProbe,
        FileYoungerThanProbe,
        GitBranchProbe,
        GitCleanProbe,
        HttpProbe,
        KubernetesProbe,
        MetricProbe,
        Probe,
        SqlProbe,
        TlsProbe,
    )
    from cockpit.plan.runs import STEP_KINDS, Arg, Seconds, ShellRun, StepRun, TagRun, Url

# The package's names, imported on first use: reading a plan needs YAML and the models need
# msgspec, while `cockpit.config` (every command) needs only the run schema (`plan.runs`), which
# would otherwise pay for all of it through this file.
_HOME = {
    "ITEM_KINDS": "model",
    "PROBES": "probes",
    "SCHEMA_VERSION": "model",
    "CheckItem": "model",
    "CommandProbe": "probes",
    "FileExistsProbe": "probes",
    "FileYoungerThanProbe": "probes",
    "GateItem": "model",
    "GitBranchProbe": "probes",
    "GitCleanProbe": "probes",
    "HttpProbe": "probes",
    "Item": "model",
    "ItemId": "model",
    "LoadedPlan": "model",
    "ManualItem": "model",
    "NotifyItem": "model",
    "Phase": "model",
    "PhaseId": "model",
    "Plan": "model",
    "PlanName": "model",
    "Probe": "probes",
    "RoleName": "model",
    "Stage": "model",
    "StepItem": "model",
    "Text": "model",
    "Title": "model",
    "STEP_KINDS": "runs",
    "Arg": "runs",
    "Seconds": "runs",
    "ShellRun": "runs",
    "StepRun": "runs",
    "TagRun": "runs",
    "Url": "runs",
    "AlarmsProbe": "probes",
    "AlembicProbe": "probes",
    "BackupProbe": "probes",
    "CoverageProbe": "probes",
    "CredentialsProbe": "probes",
    "KubernetesProbe": "probes",
    "MetricProbe": "probes",
    "SqlProbe": "probes",
    "TlsProbe": "probes",
    "MAX_PLAN_NODES": "document",
    "PlanError": "document",
    "MAX_PLAN_BYTES": "loader",
    "PLAN_SUFFIXES": "loader",
    "check_roles": "loader",
    "is_plan_name": "loader",
    "list_plans": "loader",
    "load_plan": "loader",
    "parse_plan_bytes": "loader",
    "plan_sha256": "loader",
    "read_plan": "loader",
    "read_plan_file": "loader",
    "validate_plan_file": "loader",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ITEM_KINDS",
    "MAX_PLAN_BYTES",
    "MAX_PLAN_NODES",
    "PLAN_SUFFIXES",
    "PROBES",
    "SCHEMA_VERSION",
    "STEP_KINDS",
    "AlarmsProbe",
    "AlembicProbe",
    "Arg",
    "BackupProbe",
    "CheckItem",
    "CommandProbe",
    "CoverageProbe",
    "CredentialsProbe",
    "FileExistsProbe",
    "FileYoungerThanProbe",
    "GateItem",
    "GitBranchProbe",
    "GitCleanProbe",
    "HttpProbe",
    "Item",
    "ItemId",
    "KubernetesProbe",
    "LoadedPlan",
    "ManualItem",
    "MetricProbe",
    "NotifyItem",
    "Phase",
    "PhaseId",
    "Plan",
    "PlanError",
    "PlanName",
    "Probe",
    "RoleName",
    "Seconds",
    "ShellRun",
    "SqlProbe",
    "Stage",
    "StepItem",
    "StepRun",
    "TagRun",
    "Text",
    "Title",
    "TlsProbe",
    "Url",
    "check_roles",
    "is_plan_name",
    "list_plans",
    "load_plan",
    "parse_plan_bytes",
    "plan_sha256",
    "read_plan",
    "read_plan_file",
    "validate_plan_file",
]
