"""Sending one notice to one channel: a Slack incoming webhook, email over SMTP (STARTTLS,
credentials from variables), PagerDuty Events API v2 (routing key from a variable, the notice's
key as ``dedup_key``) and a generic JSON webhook (the key as ``Idempotency-Key``). Each send has
its deadline (the channel's ``timeout_seconds``) and raises :class:`SendFailed` with one line in
which no secret appears (the URL, key, token or password are masked). httpx and smtplib are
imported where used.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cockpit.config.notify import PAGERDUTY_URL, ChannelConfig
from cockpit.secrets import MASK


class SendFailed(Exception):
    """The channel did not take the notice (one line, secrets masked)."""


@dataclass(frozen=True)
class Outgoing:
    """A queued notice as a channel sends it."""

    key: str
    kind: str
    severity: str
    title: str
    text: str
    release_id: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


def _var(channel_name: str, key: str, name: str, environ: Mapping[str, str]) -> str:
    value = environ.get(name, "")
    if not value:
        raise SendFailed(f"{channel_name}: {key} names {name}, which is not set")
    return value


def send(
    name: str,
    channel: ChannelConfig,
    notice: Outgoing,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Send ``notice``; return what the channel answered (one short line)."""
    env = os.environ if environ is None else environ
    secrets: list[str] = []
    try:
        if channel.kind == "email":
            return _email(name, channel, notice, env, secrets)
        return _http(name, channel, notice, env, secrets)
    except SendFailed as exc:
        raise SendFailed(_mask(str(exc), secrets)) from None
    except Exception as exc:  # a network error's text may carry the URL: masked
        text = (str(exc).splitlines() or [""])[0]
        raise SendFailed(_mask(f"{name}: {type(exc).__name__}: {text}", secrets)) from None


def _mask(text: str, secrets: list[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        if value:
            text = text.replace(value, MASK)
    return text


def _http(
    name: str,
    channel: ChannelConfig,
    notice: Outgoing,
    env: Mapping[str, str],
    secrets: list[str],
) -> str:
    import httpx

    headers = {"Idempotency-Key": notice.key, "User-Agent": "release-cockpit"}
    url = _var(name, "url_env", channel.url_env, env) if channel.url_env else channel.url
    if channel.url_env:
        secrets.append(url)
    if channel.kind == "slack":
        body: dict[str, Any] = slack_payload(notice)
    elif channel.kind == "pagerduty":
        key = _var(name, "routing_key_env", channel.routing_key_env, env)
        secrets.append(key)
        url = url or PAGERDUTY_URL
        body = pagerduty_payload(notice, key)
    else:
        body = webhook_payload(notice)
        if channel.token_env:
            token = _var(name, "token_env", channel.token_env, env)
            secrets.append(token)
            headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(timeout=channel.timeout_seconds, follow_redirects=False) as client:
        response = client.post(url, json=body, headers=headers)
    answer = response.text.strip().splitlines()[0][:120] if response.text.strip() else ""
    if not response.is_success:
        raise SendFailed(f"{name}: HTTP {response.status_code} {answer}".rstrip())
    return f"HTTP {response.status_code} {answer}".rstrip()


def slack_payload(notice: Outgoing) -> dict[str, Any]:
    """Slack's incoming-webhook message: ``text`` (the fallback) and Block Kit blocks."""
    return {
        "text": notice.title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": notice.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": notice.text[:3000]}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"release-cockpit notice {notice.key}"}],
            },
        ],
    }


_PD_SEVERITY = {"critical": "critical", "warning": "warning", "info": "info"}


def pagerduty_payload(notice: Outgoing, routing_key: str) -> dict[str, Any]:
    """PagerDuty Events API v2 ``trigger``, the notice's key as ``dedup_key``: a retry of the
    same notice is one incident."""
    facts = dict(notice.facts)
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": notice.key,
        "payload": {
            "summary": notice.title[:1024],
            "source": facts.get("host") or socket.gethostname(),
            "severity": _PD_SEVERITY[notice.severity],
            "component": str(facts.get("environment") or ""),
            "group": str(notice.release_id or ""),
            "class": notice.kind,
            "custom_details": {"text": notice.text, **facts},
        },
        "client": "release-cockpit",
    }


def webhook_payload(notice: Outgoing) -> dict[str, Any]:
    return {
        "id": notice.key,
        "kind": notice.kind,
        "severity": notice.severity,
        "release_id": notice.release_id,
        "title": notice.title,
        "text": notice.text,
        "facts": dict(notice.facts),
    }


def _email(
    name: str,
    channel: ChannelConfig,
    notice: Outgoing,
    env: Mapping[str, str],
    secrets: list[str],
) -> str:
    import smtplib
    import ssl
    from email.message import EmailMessage
    from email.utils import formatdate

    message = EmailMessage()
    message["Subject"] = notice.title
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message["Date"] = formatdate(localtime=False)
    # The notice's key as the Message-ID: a mail sent twice is recognisably the same mail.
    message["Message-ID"] = f"<{notice.key}@release-cockpit>"
    message["X-Cockpit-Notice"] = notice.key
    message["X-Cockpit-Severity"] = notice.severity
    message.set_content(notice.text, charset="utf-8")
    with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_seconds) as smtp:
        smtp.ehlo()
        if channel.starttls:
            context = ssl.create_default_context(cafile=channel.ca_file or None)
            smtp.starttls(context=context)
            smtp.ehlo()
        if channel.username_env:
            user = _var(name, "username_env", channel.username_env, env)
            password = _var(name, "password_env", channel.password_env, env)
            secrets.append(password)
            smtp.login(user, password)
        refused = smtp.send_message(message)
    if refused:
        raise SendFailed(f"{name}: refused recipients: {', '.join(sorted(refused))}")
    return f"mail to {len(channel.to)} recipient(s)"
