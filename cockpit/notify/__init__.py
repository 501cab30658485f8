"""Notices to people: channels (Slack, email, PagerDuty, a JSON webhook), routing by severity
and by what happened, ja/en templates, and an outbox driven by the log.

:mod:`.messages` (what a notice says and where it goes), :mod:`.channels` (sending one notice),
:mod:`.outbox` (queued as events, sent in the background with retries and idempotency keys),
:mod:`.state` (what became of each notice, each channel's health),
:mod:`.drafts` (a plan's ``notify`` item: the stakeholder notice drafted from the release).
See docs/notifications.md.
"""

from __future__ import annotations

from cockpit.notify.channels import Outgoing, SendFailed, send
from cockpit.notify.outbox import Outbox, Sender
from cockpit.notify.state import (
    NOTICE_ACTIONS,
    NoticeState,
    channel_health,
    failing_channels,
    fold_notices,
)

__all__ = [
    "NOTICE_ACTIONS",
    "NoticeState",
    "Outbox",
    "Outgoing",
    "SendFailed",
    "Sender",
    "channel_health",
    "failing_channels",
    "fold_notices",
    "send",
]
