"""A plan's ``notify`` item: the stakeholder notice drafted from the release (version, window,
changes since the last release tag, expected impact) in the languages of its channels, and sent
on confirm: queued in the outbox for each channel (the text the operator confirmed, in the log),
tried once at once, then retried by the sender like any notice; the item's ``item.done`` names
the notices and holds the text.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from cockpit.checklist import Checklist, Refused
from cockpit.errors import Phrase
from cockpit.events import Event, NewEvent
from cockpit.i18n import tr
from cockpit.notify.messages import notice_key, route, severity_of
from cockpit.notify.outbox import Duplicate, Outbox
from cockpit.notify.state import NOTICE_ACTIONS, fold_notices
from cockpit.vocabulary import ITEM_DONE, NOTICE_QUEUED

if TYPE_CHECKING:
    from cockpit.plan import NotifyItem
    from cockpit.session import Session


def channels_for(session: Session, checklist: Checklist, item: NotifyItem) -> list[str]:
    """The channels the item's notice goes to; refused when there is none or one is unknown."""
    notify = session.loaded.config.notify
    names = list(item.channels) or route(
        notify, "stakeholder", severity_of(notify, "stakeholder"), checklist.release.environment
    )
    unknown = [n for n in names if n not in notify.channels]
    if unknown:
        known = ", ".join(sorted(notify.channels)) or Phrase("err.none")
        raise Refused.said("draft.unknown", item=item.id, name=unknown[0], known=known)
    if not names:
        raise Refused.said("draft.nowhere", item=item.id)
    return names


def changes(session: Session, checklist: Checklist, lang: str) -> str:
    """The release's changes: the conventional commits since the last release tag of its
    environment's repository; a line saying there are none when git cannot tell."""
    from cockpit.versioning.git import Git
    from cockpit.versioning.notes import ORDER, grouped

    cfg = session.loaded.environment(checklist.release.environment).git
    try:
        git = Git(session.loaded.resolve(cfg.repo), timeout=cfg.timeout_seconds)
        since = git.last_release(git.version_tags(cfg.tag_format))
        groups = grouped(git.commits(since))
    except Exception:  # no repository here, or git cannot answer: the draft says so
        groups = {}
    lines = [f"- {c.text}" for heading in ORDER for c in groups.get(heading, [])]
    return "\n".join(lines[:30]) or tr("notify.no_changes", lang)


def draft(session: Session, checklist: Checklist, item: NotifyItem) -> str:
    """The notice's text as drafted, each language of its channels in turn."""
    notify = session.loaded.config.notify
    langs: list[str] = []
    for name in channels_for(session, checklist, item):
        langs += [lang for lang in notify.channels[name].langs if lang not in langs]
    outbox = Outbox(session.store, session.loaded, session.operator)
    context = outbox.context(checklist.release.id)
    parts = []
    for lang in langs:
        impact = getattr(item, f"impact_{lang}") or tr("notify.impact", lang)
        parts.append(
            tr(
                "notify.draft",
                lang,
                version=context.version,
                environment=context.environment,
                t0=context.t0,
                changes=changes(session, checklist, lang),
                impact=impact,
                actor=session.operator.name,
            )
        )
    return "\n\n---\n\n".join(parts)


def send(
    session: Session,
    checklist: Checklist,
    item: NotifyItem,
    text: str | None,
    base: dict[str, Any],
    details: dict[str, Any],
) -> Event:
    """Queue the notice (``text``, or the draft) for each channel, try each once now, and record
    the item done with the text and what each channel said."""
    text = draft(session, checklist, item) if text is None else text
    if not text.strip():
        raise Refused.said("draft.empty", item=item.id)
    store, operator = session.store, session.operator
    release = checklist.release
    outbox = Outbox(store, session.loaded, operator)
    keys: dict[str, str] = {}
    for name in channels_for(session, checklist, item):
        key = notice_key(release.id, "stakeholder", item.id, name, text)
        new = outbox.queued_event(
            name,
            "stakeholder",
            severity_of(session.loaded.config.notify, "stakeholder"),
            key,
            release.id,
            f"{item.title_ja} / {item.title_en}",
            0,
            operator.actor,
            text=text,
            extra={"item": item.id},
        )
        # The same text to the same channel is queued once, never twice.
        with contextlib.suppress(Duplicate):
            outbox.append_unique(new, NOTICE_QUEUED, key, 1)
        keys[name] = key
        outbox.deliver(only=key)
    states = fold_notices(store.events(release_id=release.id, actions=NOTICE_ACTIONS))
    delivered = {name: _said(states.get(key)) for name, key in keys.items()}
    return store.append(
        NewEvent(
            action=ITEM_DONE,
            outcome="ok",
            details={**details, "notices": keys, "delivered": delivered, "text": text},
            **base,
        ),
        operator,
    )


def _said(state: Any) -> str:
    if state is None:
        return "queued"
    if state.sent is not None:
        return "sent"
    if state.failures:
        return "retrying: " + str(state.failures[-1].details_obj.get("error", ""))
    return "queued"
