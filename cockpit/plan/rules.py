"""The rules of a plan that a type cannot express: the name matches the file, titles are one
line, phase and item ids are unique, phases run from the earliest to T-0, stages are in time order
without overlap and their items together, an ``argv`` is a list of words, not a command line,
and no URL carries a credential.
"""

from __future__ import annotations

from cockpit.plan.document import Doc
from cockpit.plan.model import (
    CheckItem,
    Item,
    Phase,
    Plan,
    Stage,
    StepItem,
)
from cockpit.plan.probes import CommandProbe, HttpProbe
from cockpit.plan.runs import CHECK_URL_ADVICE, ShellRun, run_urls
from cockpit.schema_errors import KeyPath
from cockpit.urls import refusal, url_credentials


def check_semantics(doc: Doc, plan: Plan, expected_name: str | None) -> None:
    """Raise the :class:`~cockpit.plan.document.PlanError` of the first rule ``plan`` breaks."""
    if expected_name is not None and plan.name != expected_name:
        raise doc.error(
            ("name",),
            f"{plan.name!r} does not match the file name (name the file {plan.name}.yaml, or "
            f"set name: {expected_name})",
        )
    _check_title(doc, (), plan.title_ja, plan.title_en)
    if not plan.phases:
        raise doc.error(("phases",), "a plan needs at least one phase", line_path=())
    phase_ids: dict[str, int] = {}
    item_ids: dict[str, tuple[int, int]] = {}
    previous: Phase | None = None
    for p, phase in enumerate(plan.phases):
        at: KeyPath = ("phases", p)
        if phase.id in phase_ids:
            first = phase_ids[phase.id]
            raise doc.error(
                (*at, "id"),
                f"duplicate phase id {phase.id!r} (also phases[{first}], "
                f"line {doc.line(('phases', first, 'id'))})",
            )
        phase_ids[phase.id] = p
        _check_title(doc, at, phase.title_ja, phase.title_en)
        if previous is not None and phase.offset_days < previous.offset_days:
            raise doc.error(
                (*at, "offset_days"),
                f"{phase.offset_days} comes after {previous.offset_days} (phase {previous.id}); "
                "list the phases from the earliest to T-0",
            )
        previous = phase
        if not phase.items:
            raise doc.error(at, "a phase needs at least one item")
        stage_order = _check_stages(doc, at, phase)
        last_stage = -1
        for i, item in enumerate(phase.items):
            ip: KeyPath = (*at, "items", i)
            if item.id in item_ids:
                fp, fi = item_ids[item.id]
                raise doc.error(
                    (*ip, "id"),
                    f"duplicate item id {item.id!r} (also phases[{fp}].items[{fi}], "
                    f"line {doc.line(('phases', fp, 'items', fi, 'id'))})",
                )
            item_ids[item.id] = (p, i)
            _check_title(doc, ip, item.title_ja, item.title_en)
            if item.stage:
                if item.stage not in stage_order:
                    known = ", ".join(stage_order) or "the phase has no stages"
                    raise doc.error(
                        (*ip, "stage"), f"unknown stage {item.stage!r} (known: {known})"
                    )
                if stage_order[item.stage] < last_stage:
                    raise doc.error(
                        (*ip, "stage"),
                        f"stage {item.stage!r} comes after a later stage; keep each stage's "
                        "items together, in the order of the stages",
                    )
                last_stage = stage_order[item.stage]
            if isinstance(item, StepItem) and isinstance(item.run, ShellRun):
                _check_argv(doc, (*ip, "run", "argv"), item.run.argv)
            elif isinstance(item, CheckItem) and isinstance(item.check, CommandProbe):
                _check_argv(doc, (*ip, "check", "argv"), item.check.argv)
            _check_urls(doc, ip, item)
    last = plan.phases[-1]
    if last.offset_days != 0:
        raise doc.error(
            ("phases", len(plan.phases) - 1, "offset_days"),
            f"the last phase must be T-0 (offset_days: 0), got {last.offset_days}",
        )


def _check_title(doc: Doc, at: KeyPath, *titles: str) -> None:
    for field, title in zip(("title_ja", "title_en"), titles, strict=True):
        if not title.strip():
            raise doc.error((*at, field), "must not be blank")
        if "\n" in title.strip():
            raise doc.error((*at, field), "must be one line (put details in help_ja / help_en)")


def _check_stages(doc: Doc, at: KeyPath, phase: Phase) -> dict[str, int]:
    order: dict[str, int] = {}
    previous: Stage | None = None
    for s, stage in enumerate(phase.stages):
        sp: KeyPath = (*at, "stages", s)
        if stage.id in order:
            raise doc.error((*sp, "id"), f"duplicate stage id {stage.id!r}")
        order[stage.id] = s
        _check_title(doc, sp, stage.title_ja, stage.title_en)
        if stage.end_hour <= stage.start_hour:
            raise doc.error(
                (*sp, "end_hour"),
                f"{stage.end_hour} is not after start_hour {stage.start_hour} "
                "(a stage past midnight ends at 24 + the hour)",
            )
        if previous is not None and stage.start_hour < previous.end_hour:
            raise doc.error(
                (*sp, "start_hour"),
                f"{stage.start_hour} is before the end of stage {previous.id!r} "
                f"({previous.end_hour}); list the stages in time order without overlap",
            )
        previous = stage
    return order


def _check_urls(doc: Doc, at: KeyPath, item: Item) -> None:
    """No credential in a URL the item holds: an http probe's ``url``, an ``http_checks`` step's
    ``base_url`` and check ``url`` s."""
    urls: list[tuple[KeyPath, str]] = []
    if isinstance(item, CheckItem) and isinstance(item.check, HttpProbe):
        urls.append(((*at, "check", "url"), item.check.url))
    elif isinstance(item, StepItem):
        urls += [((*at, "run", *sub), url) for sub, url in run_urls(item.run)]
    for path, url in urls:
        found = url_credentials(url) if url else None
        if found:
            raise doc.error(path, refusal(found, CHECK_URL_ADVICE))


def _check_argv(doc: Doc, path: KeyPath, argv: list[str]) -> None:
    if not argv:
        raise doc.error(path, "needs at least the program name (an argv list)")
    if len(argv) == 1 and len(argv[0].split()) > 1:
        words = ", ".join(argv[0].split())
        raise doc.error(
            path,
            f"{argv[0]!r} looks like a whole command line; write each word as its own list "
            f"entry: [{words}]",
        )
