"""The plans shipped as data (YAML). Each ``NAME.yaml`` here is a plan that releases can follow."""

from __future__ import annotations

from importlib import resources


def available_plans() -> list[str]:
    """Names of the plan files shipped in this package, sorted."""
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".yaml")
    )
