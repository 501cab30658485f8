"""Tagging a release: the versioning engine tied to the release, its plan and the event log.

:func:`prepare` looks and changes nothing (version, preflight, tag message). :func:`execute`
records the intent first (``step.started`` on the plan's tag step, or ``tag.started`` without a
release), then makes the tag (``tag.created``: tag and commit SHAs, key fingerprint, the audit
checkpoint written into the tag), then pushes (``tag.published``, or ``tag.push_failed`` with
git's own words). Every git command run is in the events with its exit code.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.config import EnvironmentConfig
from cockpit.errors import Phrase, Said, UsageError
from cockpit.session import Session
from cockpit.versioning import (
    Check,
    Git,
    GitFailed,
    TagPlan,
    TagRequest,
    changelog_section,
    commit_changelog,
    create_tag,
    plan_tag,
    publish,
    signing_check_for,
    tag_message,
    today,
)
from cockpit.vocabulary import (
    STEP_FAILED,
    STEP_STARTED,
    STEP_SUCCEEDED,
    TAG_CREATED,
    TAG_DONE,
    TAG_FAILED,
    TAG_PUBLISHED,
    TAG_PUSH_FAILED,
    TAG_STARTED,
    VERSION_CHOSEN,
)

if TYPE_CHECKING:
    # A look at the next version (``cockpit tag --env X --dry-run``) needs none of these: the
    # checklist, its plans (PyYAML) and the event record are imported where a release is used.
    from cockpit.checklist import Checklist
    from cockpit.events import Event
    from cockpit.plan import StepItem
    from cockpit.release import Release
    from cockpit.store import Store


@dataclass
class Prepared:
    """A tag plan with what it belongs to; shown as the preview, then executed."""

    plan: TagPlan
    git: Git
    env_name: str
    env: EnvironmentConfig
    release: Release | None
    item_id: str | None
    request: TagRequest
    day: str
    refusal: str | None = None  # the plan refuses the step now (an earlier gate, closed)
    deciding: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.refusal is None and self.plan.ok

    @property
    def rehearsal(self) -> bool:
        return self.release.rehearsal if self.release else self.env.rehearsal

    def message(self, checkpoint: tuple[int, str] | None) -> str:
        return tag_message(self.plan, self.day, checkpoint)

    def as_dict(self) -> dict[str, Any]:
        p = self.plan
        return {
            "repo": str(p.repo),
            "environment": self.env_name,
            "release": self.release.id if self.release else None,
            "item": self.item_id,
            "version": p.version,
            "tag": p.tag,
            "suggested": p.suggested,
            "why": p.why,
            "commits": p.suggestion.describe() if p.suggestion else None,
            "deciding": self.deciding,
            "commit": p.commit,
            "branch": p.branch,
            "remote": p.remote,
            "todo": p.todo,
            "ok": self.ok,
            "refusal": self.refusal,
            "checks": [c.as_dict() for c in p.checks],
            "notes": p.notes,
        }


def tag_item(checklist: Checklist) -> StepItem | None:
    """The plan's tag step, if it has one."""
    from cockpit.plan import StepItem, TagRun

    for phase in checklist.plan.plan.phases:
        for item in phase.items:
            if isinstance(item, StepItem) and isinstance(item.run, TagRun):
                return item
    return None


def unpublished_tags(store: Store) -> frozenset[str]:
    """Tags the log says were made here and never published (safe to make again)."""
    events = store.events(actions=(TAG_CREATED, TAG_PUBLISHED))
    return _unpublished((ev.action, ev.details) for ev in events)


def _unpublished(rows: Iterable[tuple[str, str]]) -> frozenset[str]:
    state: dict[str, bool] = {}
    for action, details in rows:
        tag = json.loads(details).get("tag")
        if isinstance(tag, str):
            state[tag] = action == TAG_PUBLISHED
    return frozenset(t for t, published in state.items() if not published)


def log_unpublished(session: Session) -> frozenset[str]:
    """:func:`unpublished_tags` without opening the store when the log is a SQLite file: read
    through the standard library, read-only (no SQLAlchemy, no migration), so a look at the
    next version (``cockpit tag --env X --dry-run``) costs the interpreter and git only. No
    file or no log yet: nothing was tagged. A store already open, or PostgreSQL, is asked."""
    url = session.db_url
    if session.opened_store is not None or not url.startswith("sqlite:///") or "?" in url:
        return unpublished_tags(session.store)
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        return frozenset()
    import sqlite3

    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        try:
            rows = conn.execute(
                "SELECT action, details FROM events WHERE action IN (?, ?) ORDER BY seq",
                (TAG_CREATED, TAG_PUBLISHED),
            ).fetchall()
        except sqlite3.OperationalError:  # an empty database: no log yet
            return frozenset()
    return _unpublished(rows)


def prepare(
    session: Session,
    request: TagRequest,
    *,
    release_text: str | None = None,
    checklist: Checklist | None = None,
    env_name: str | None = None,
    repo: str | None = None,
    unshallow: bool = False,
) -> Prepared:
    """Plan the tag: the release's tag step (by ``release_text``, or the ``checklist`` a caller
    has already folded) or an environment's repository, and the preflight checks."""
    loaded = session.loaded
    release = None
    item_id = None
    refusal = None
    release_version = None
    settled = False
    if checklist is None and release_text:
        from cockpit.checklist import load_checklist

        checklist = load_checklist(session.store, release_text)
    if checklist is not None:
        release = checklist.release
        release_version = release.version
        if env_name and env_name != release.environment:
            raise UsageError.said(
                "tag.other_env", env=env_name, release=release.id, its=release.environment
            )
        env_name = release.environment
        item = tag_item(checklist)
        if item is not None:
            item_id = item.id
            why = checklist.why_not(item.id, "done", session.operator, loaded.config.roles)
            if why is not None:
                refusal = f"{item.id}: {why}"
            settled = why is not None and why.key == "already"
    if env_name is None:
        names = sorted(loaded.config.environments)
        if len(names) != 1:
            envs = ", ".join(names) or Phrase("err.none")
            raise UsageError.said("err.which_env", envs=envs)
        env_name = names[0]
    env = loaded.environment(env_name)
    # A --repo from the command line is relative to the working directory; the environment's
    # repository in cockpit.toml is relative to the config file.
    path = Path(repo).expanduser().absolute() if repo else loaded.resolve(env.git.repo)
    git = Git(path, env.git.timeout_seconds)
    if unshallow and git.is_shallow():
        git.run("fetch", "--unshallow", env.git.remote)
    unpublished = log_unpublished(session)  # with --env alone, the store stays closed
    plan = plan_tag(
        git,
        env.git,
        TagRequest(
            bump=request.bump,
            pre=request.pre,
            version=request.version,
            allow_dirty=request.allow_dirty,
            push=request.push,
            unpublished=unpublished,
        ),
        release_version=release_version,
        signing_check=signing_check_for(loaded.base_dir),
    )
    if refusal:
        # A step already done is not a failure to show: the plan simply has nothing left here.
        said = Phrase("pre.refused", {"item": item_id, "why": why})
        plan.checks.insert(0, Check("plan", settled, said, settled, moot=settled))
    deciding = [
        {"sha": c.sha[:12], "subject": c.subject}
        for c in (plan.suggestion.deciding if plan.suggestion else [])
    ][:50]
    return Prepared(
        plan=plan,
        git=git,
        env_name=env_name,
        env=env,
        release=release,
        item_id=item_id,
        request=request,
        day=today(loaded.config.change_window.timezone),
        refusal=refusal,
        deciding=deciding,
    )


def execute(
    session: Session,
    prep: Prepared,
    *,
    notes: str | None = None,
    changelog: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Event:
    """Do what ``prep`` planned; the last event recorded. Refuses when a preflight check failed.
    Raises :class:`GitFailed` (after recording it) when git fails."""
    from cockpit.checklist import Refused
    from cockpit.events import NewEvent
    from cockpit.lease import require_driver

    store, loaded, operator = session.store, session.loaded, session.operator
    say = progress or (lambda _line: None)
    plan = prep.plan
    if not prep.ok:
        first: Said | str
        if prep.refusal:  # the plan's own check, first: "t1.tag: <why>"
            first = plan.checks[0].phrase or prep.refusal
        else:
            check = plan.failed[0]
            first = Phrase("pre.refused", {"item": check.name, "why": check.phrase or check.detail})
        raise Refused.said("tag.preflight_failed", first=first)
    if prep.release is not None:
        require_driver(session, prep.release.id)  # another operator drives it: refused
    if notes is not None:
        plan.notes = notes.strip("\n")
    cfg = prep.env.git
    release_id = prep.release.id if prep.release else None
    base: dict[str, Any] = {"release_id": release_id, "rehearsal": prep.rehearsal}

    def record(action: str, details: dict[str, Any], **kw: Any) -> Event:
        return store.append(
            NewEvent(action=action, subject=plan.tag, details=details, **base, **kw), operator
        )

    # A version other than the release's or the suggestion is a decision of its own.
    planned = prep.release.version if prep.release else plan.suggested
    if planned != plan.version:
        record(
            VERSION_CHOSEN,
            {
                "version": plan.version,
                "suggested": plan.suggested,
                "planned": planned,
                "why": plan.why,
                "deciding_commits": prep.deciding,
            },
        )
    runs_from = len(prep.git.runs)
    details: dict[str, Any] = {
        "kind": "tag",
        "tag": plan.tag,
        "version": plan.version,
        "commit": plan.commit,
        "branch": plan.branch,
        "remote": plan.remote,
        "todo": plan.todo,
        "push": prep.request.push,
        "preflight": [c.as_dict() for c in plan.checks],
    }
    intent = NewEvent(
        action=STEP_STARTED if prep.item_id else TAG_STARTED,
        subject=prep.item_id or plan.tag,
        reason=prep.request.allow_dirty,
        details=details,
        **base,
    )
    done, failed = (STEP_SUCCEEDED, STEP_FAILED) if prep.item_id else (TAG_DONE, TAG_FAILED)
    with store.write_ahead(intent, operator, done=done, failed=failed) as outcome:
        outcome.update({"tag": plan.tag, "version": plan.version})
        if plan.todo in {"create", "remake"}:
            if (
                changelog
                and cfg.changelog
                and not _has_section(prep.git.path, cfg.changelog, plan.version)
            ):
                say(f"committing {cfg.changelog}")
                commit_changelog(prep.git, cfg, plan, changelog_section(plan, prep.day))
            seq, head_hash = store.head()
            message = prep.message((seq, head_hash))
            say(f"creating {plan.tag} on {plan.commit[:12]}")
            tag_sha, fingerprint, verified = create_tag(
                prep.git, cfg, plan, message, loaded.base_dir
            )
            record(
                TAG_CREATED,
                {
                    "tag": plan.tag,
                    "tag_sha": tag_sha,
                    "commit": plan.commit,
                    "signed": cfg.signing,
                    "key_fingerprint": fingerprint,
                    "verified": verified,
                    "checkpoint": {"seq": seq, "hash": head_hash},
                    "remade": plan.todo == "remake",
                    "git": [r.as_detail() for r in prep.git.runs[runs_from:]],
                },
            )
            runs_from = len(prep.git.runs)
            outcome.update({"tag_sha": tag_sha, "commit": plan.commit})
        if prep.request.push and plan.todo != "nothing":
            say(f"pushing {plan.branch or ''} and {plan.tag} to {plan.remote}".replace("  ", " "))
            try:
                atomic = publish(prep.git, plan)
            except GitFailed as exc:
                record(
                    TAG_PUSH_FAILED,
                    {
                        "tag": plan.tag,
                        "remote": plan.remote,
                        "error": str(exc),
                        "git": [r.as_detail() for r in prep.git.runs[runs_from:]],
                    },
                    outcome="failed",
                )
                outcome["published"] = False
                raise
            record(
                TAG_PUBLISHED,
                {
                    "tag": plan.tag,
                    "remote": plan.remote,
                    "branch": plan.branch,
                    "commit": plan.commit,
                    "atomic": atomic,
                    "note": None if atomic else "the remote refused --atomic: branch, then tag",
                    "git": [r.as_detail() for r in prep.git.runs[runs_from:]],
                },
            )
            outcome.update({"published": True, "atomic": atomic})
        elif plan.todo == "nothing":
            outcome["published"] = True
    return store.events(last=1)[0]


def _has_section(repo: Path, name: str, version: str) -> bool:
    path = repo / name
    try:
        return f"## [{version}]" in path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
