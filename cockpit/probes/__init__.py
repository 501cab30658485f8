"""Probes: what a ``check`` item looks at in the world, one module per kind (or pair of kinds),
registered by name in :data:`cockpit.probes.base.KINDS` like the step kinds. See
:mod:`cockpit.probes.base` for the contract and docs/checks.md for every kind."""

from cockpit.probes.base import (
    KINDS,
    CannotLook,
    ProbeContext,
    ProbeKind,
    Result,
    effective_probe,
    kind_for,
    look,
    preview,
    run_check,
    run_probe,
)

__all__ = [
    "KINDS",
    "CannotLook",
    "ProbeContext",
    "ProbeKind",
    "Result",
    "effective_probe",
    "kind_for",
    "look",
    "preview",
    "run_check",
    "run_probe",
]
