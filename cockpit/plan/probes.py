"""What a ``check`` item asks the engine to look at: one strict struct per probe kind, tagged by
``probe:`` (the kind's name). The runners are in :mod:`cockpit.probes`, one module per kind.

Every probe has a ``timeout`` (seconds): the total deadline of the look, after which it fails
saying so (it never hangs). Targets a probe does not name come from the environment's config
(the Prometheus URL, the AWS profile and region, the Kubernetes context, the Alembic command),
so one plan checks staging and production.

Only msgspec here: the plan loader and the config loader (an environment's ``checks`` table)
both validate against these types. A new kind touches three files: its struct here (and in
``Probe``), its line in :data:`cockpit.probes.base.KINDS`, and its module in ``cockpit/probes/``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from cockpit.plan.runs import Arg, Seconds, Strict, Url, registry

Hours = Annotated[float, msgspec.Meta(gt=0, le=24 * 366)]


class _Probe(Strict, frozen=True, tag_field="probe"):
    @property
    def name(self) -> str:
        return str(type(self).__struct_config__.tag)


class GitCleanProbe(_Probe, frozen=True, tag="git_clean"):
    """The working tree of the environment's repository has no uncommitted changes."""

    timeout: Seconds = 30.0


class GitBranchProbe(_Probe, frozen=True, tag="git_branch"):
    """HEAD is on a branch the environment may release from (``git.branches`` in cockpit.toml),
    or on one of ``branches`` when the plan lists them."""

    branches: list[Arg] = msgspec.field(default_factory=list)
    timeout: Seconds = 30.0


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
    timeout: Seconds = 10.0


class FileYoungerThanProbe(_Probe, frozen=True, tag="file_younger_than"):
    """``path`` exists and was modified less than ``hours`` ago (e.g. a fresh backup)."""

    path: Arg
    hours: Hours
    timeout: Seconds = 10.0


Probe = (
    GitCleanProbe
    | GitBranchProbe
    | CommandProbe
    | HttpProbe
    | FileExistsProbe
    | FileYoungerThanProbe
)

# The loader accepts exactly these names; cockpit.probes keys its runners on the same names.
PROBES: dict[str, type[msgspec.Struct]] = registry(Probe)
