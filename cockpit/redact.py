"""What an event's free text and details may hold: values JSON can carry, and no secrets.

:func:`check_details` refuses, naming the key, what RFC 8785 cannot represent (before anything is
written). :func:`redact` and :func:`redact_text` mask secrets (values under secret-looking keys,
URL passwords, ``--password=...`` flags) before they are hashed, so no secret reaches the log;
steps, metrics and git output use :func:`redact_text` for what they show and store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cockpit.chain import MAX_SAFE_INT
from cockpit.errors import EventRejected

_SECRET_KEY_RE = re.compile(
    r"(passw(or)?d|passphrase|secret|token|api[_-]?key|private[_-]?key|credential|"
    r"^auth$|authorization|cookie|session[_-]?key)",
    re.I,
)
# Keys that name where a secret is kept (an environment variable), not the secret itself.
_SECRET_REFERENCE_RE = re.compile(r"(_env|_file|_path)$", re.I)
# --password=x, --token x-style arguments inside argv lists and command lines.
_SECRET_FLAG_RE = re.compile(
    r"(?P<flag>--?[A-Za-z0-9_-]*(?:passw(?:or)?d|secret|token|api[_-]?key)[A-Za-z0-9_-]*)"
    r"(?P<sep>[= ])(?P<value>[^\s]+)",
    re.I,
)
# Query parameters that carry a credential, in any case: passwords, tokens and API keys, and the
# signature and credential of a presigned S3 URL (cockpit.urls refuses them in configured URLs).
CREDENTIAL_PARAMS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "token",
        "access_token",
        "api_key",
        "apikey",
        "key",
        "secret",
        "sig",
        "signature",
        "x-amz-signature",
        "x-amz-credential",
        "auth",
    }
)
_QUERY_CREDENTIAL_RE = re.compile(
    r"(?P<name>[?&](?:" + "|".join(re.escape(p) for p in sorted(CREDENTIAL_PARAMS)) + r")=)"
    r"[^&#\s]*",
    re.IGNORECASE,
)
_URL_CREDENTIALS_RE = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@")
REDACTED = "[redacted]"


def check_details(value: Any, path: str = "details") -> None:
    """Refuse what RFC 8785 cannot represent, naming the key: NaN, infinities, integers past
    2^53, non-string keys, lone surrogates, and types JSON does not have."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        if isinstance(value, str) and re.search("[\ud800-\udfff]", value):
            raise EventRejected(f"{path}: text holds a lone surrogate; record valid Unicode")
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise EventRejected(f"{path}: integer {value} is outside ±2^53; record it as a string")
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise EventRejected(f"{path}: {value} is not a number that can be recorded")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EventRejected(f"{path}: key {key!r} must be a string")
            check_details(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_details(item, f"{path}[{index}]")
        return
    raise EventRejected(f"{path}: a {type(value).__name__} cannot be recorded as JSON")


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets removed: values under secret-looking keys, and passwords
    inside URLs. Applied to details before they are hashed, so secrets never reach the log."""
    if isinstance(value, Mapping):
        return {k: (REDACTED if _secret_key(str(k), v) else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        out = [redact(v) for v in value]
        # argv: ["--password", "x"] -> the value after a secret flag goes too.
        for index in range(len(out) - 1):
            item = out[index]
            if isinstance(item, str) and "=" not in item and _SECRET_FLAG_RE.fullmatch(item + "=x"):
                out[index + 1] = REDACTED
        return out
    if isinstance(value, str):
        return redact_text(value)
    return value


def _secret_key(key: str, value: Any) -> bool:
    if value in (None, "") or _SECRET_REFERENCE_RE.search(key):
        return False
    return _SECRET_KEY_RE.search(key) is not None


def redact_text(text: str) -> str:
    """Free text (a reason, a note, one argv string) with URL passwords and the values of
    ``--password=...``-style flags replaced."""
    if "://" in text:
        text = _URL_CREDENTIALS_RE.sub(r"\g<scheme>\g<user>:***@", text)
        text = _QUERY_CREDENTIAL_RE.sub(r"\g<name>***", text)
    if "-" in text:
        text = _SECRET_FLAG_RE.sub(lambda m: f"{m['flag']}{m['sep']}{REDACTED}", text)
    return text
