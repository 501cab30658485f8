"""The ``[notify]`` table of ``cockpit.toml``: channels (Slack incoming webhook, email over SMTP,
PagerDuty Events API v2, a generic JSON webhook), routes by severity and by what happened, and the
outbox's retry policy. Secrets never sit in the file: a Slack webhook URL, an SMTP password, a
PagerDuty routing key or a webhook token come from environment variables the file names
(``*_env``). What a channel needs for its kind is checked by :func:`check_notify`. Only msgspec
here; sending is :mod:`cockpit.notify`'s job.
"""

# No `from __future__ import annotations`: msgspec reads these types at the first decode,
# and string annotations cost it ~3 ms of every start to evaluate.

from typing import Annotated, Literal

import msgspec

from cockpit.config.locate import where
from cockpit.errors import ConfigError, Phrase
from cockpit.plan.runs import Strict as _Strict

NAME_RE = r"^[a-z][a-z0-9_-]{0,31}$"
ChannelName = Annotated[str, msgspec.Meta(pattern=NAME_RE)]
ChannelKind = Literal["slack", "email", "pagerduty", "webhook"]
# The seeds' severities (002: critical -> Slack and PagerDuty within 15 minutes, warning -> Slack
# within an hour) and one for news nobody has to act on.
Severity = Literal["critical", "warning", "info"]
# What happened, as a notice names it (docs/notifications.md).
NoticeKind = Literal[
    "release_created",
    "phase_complete",
    "t0_start",
    "step_failed",
    "trigger_fired",
    "rollback_started",
    "rollback_finished",
    "go",
    "no_go",
    "release_closed",
    "lease_taken_over",
    "stakeholder",
    "test",
]
Lang = Literal["ja", "en"]
VarName = Annotated[str, msgspec.Meta(pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$")]

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"


class ChannelConfig(_Strict, frozen=True):
    """One place notices go. ``kind`` says which of the other keys apply."""

    kind: ChannelKind
    # Languages of the text, in order (a mail carries both by default).
    langs: list[Lang] = msgspec.field(default_factory=lambda: ["ja", "en"])
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    # slack, webhook: the variable holding the URL (a Slack webhook URL is itself a secret);
    # webhook, pagerduty: ``url`` when the address holds no secret (PagerDuty's is the default).
    url_env: VarName = ""
    url: str = ""
    # webhook: a bearer token's variable (optional).
    token_env: VarName = ""
    # pagerduty: the integration's routing key's variable.
    routing_key_env: VarName = ""
    # email: the SMTP server, STARTTLS (on by default), credentials' variables, sender, recipients.
    host: str = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    starttls: bool = True
    # A CA bundle to trust for STARTTLS besides the system's (an in-house mail relay).
    ca_file: str = ""
    username_env: VarName = ""
    password_env: VarName = ""
    sender: str = ""
    to: list[str] = msgspec.field(default_factory=list)


class RouteConfig(_Strict, frozen=True):
    """Notices that match go to ``channels``. An empty list matches anything."""

    channels: list[ChannelName]
    severities: list[Severity] = msgspec.field(default_factory=list)
    events: list[NoticeKind] = msgspec.field(default_factory=list)
    environments: list[ChannelName] = msgspec.field(default_factory=list)


class NotifyConfig(_Strict, frozen=True):
    """Channels, routes, severities and the outbox's retries."""

    channels: dict[ChannelName, ChannelConfig] = msgspec.field(default_factory=dict)
    routes: list[RouteConfig] = msgspec.field(default_factory=list)
    # What happened -> its severity, replacing the default (docs/notifications.md).
    severity: dict[NoticeKind, Severity] = msgspec.field(default_factory=dict)
    # Attempts per notice in all, and the first wait between them (doubling, at most max_backoff).
    attempts: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5
    backoff_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 2.0
    max_backoff_seconds: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 300.0


# What each kind needs: the settings that must be there (the catalog's ``notify.need.<key>``
# says what each one is, when it is missing).
_NEEDS: dict[str, tuple[str, ...]] = {
    "slack": ("url_env",),
    "email": ("host", "sender", "to"),
    "pagerduty": ("routing_key_env",),
    "webhook": (),
}


def _bad(
    source: str, text: str, path: tuple[str, ...], setting: str, problem: Phrase
) -> ConfigError:
    at = where(source, text, path)
    return ConfigError.of(
        Phrase("schema.line", {"where": at, "setting": setting, "problem": problem})
    )


def check_notify(notify: NotifyConfig, text: str, source: str) -> None:
    """Each channel has what its kind needs; routes name known channels; no URL in the file
    carries a credential (a Slack URL never sits in the file)."""
    path: tuple[str, ...]
    for name, channel in notify.channels.items():
        here, setting = ("notify", "channels", name), f"notify.channels.{name}"
        for key in _NEEDS[channel.kind]:
            if not getattr(channel, key):
                what = Phrase(f"notify.need.{key}")
                kind = Phrase(
                    "notify.an" if channel.kind[0] in "aeiou" else "notify.a",
                    {"kind": channel.kind},
                )
                need = Phrase("notify.needs", {"kind": kind, "what": what})
                raise _bad(source, text, here, f"{setting}.{key}", need)
        if channel.kind == "webhook" and not (channel.url or channel.url_env):
            raise _bad(source, text, here, f"{setting}.url", Phrase("notify.webhook_url"))
        if channel.kind == "slack" and channel.url:
            path = (*here, "url")
            raise _bad(source, text, path, f"{setting}.url", Phrase("notify.slack_secret"))
        if bool(channel.username_env) != bool(channel.password_env):
            raise _bad(source, text, here, setting, Phrase("notify.both"))
        if not channel.langs:
            path = (*here, "langs")
            raise _bad(source, text, path, f"{setting}.langs", Phrase("notify.langs"))
    for index, route in enumerate(notify.routes):
        for channel_name in route.channels:
            if channel_name not in notify.channels:
                path = ("notify", "routes")
                known = ", ".join(sorted(notify.channels)) or Phrase("err.none")
                problem = Phrase("notify.no_channel", {"name": channel_name, "known": known})
                raise _bad(source, text, path, f"notify.routes[{index}].channels", problem)


def notify_urls(notify: NotifyConfig) -> list[tuple[tuple[str, ...], str]]:
    """The URLs the file holds, with their keys, for the credential check."""
    return [
        (("notify", "channels", name, "url"), channel.url)
        for name, channel in notify.channels.items()
        if channel.url
    ]
