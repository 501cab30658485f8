"""URLs that may hold a credential (a database URL, an endpoint, a git remote): naming the
credential a URL carries (the config and the plan refuse it), reading the password, and writing
the URL without it, for the screen, a log, or a name that must not change with the password.
Below the store, the config and the plan, so all of them can use it."""

from __future__ import annotations

import re

from cockpit.errors import Phrase

# Query parameters that carry a credential, kept with the redaction of free text.
from cockpit.redact import CREDENTIAL_PARAMS

# What :func:`url_credentials` says of a password in ``user:password@``.
USER_PASSWORD = "a password in the user part"
# A URL urlsplit cannot read (a bad IPv6 host) may still hold ``user:password@``.
_USERINFO_PASSWORD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s]*:[^/?#@\s]*@")
_MASK = "***"
_PARAM = "the query parameter "


def url_credentials(url: str) -> str | None:
    """What credential ``url`` carries (:data:`USER_PASSWORD`, or ``the query parameter
    'token'``); ``None`` when it carries none (or is not a URL at all, as a git remote's name)."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return USER_PASSWORD if _USERINFO_PASSWORD_RE.match(url) else None
    if parts.password is not None:
        return USER_PASSWORD
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in CREDENTIAL_PARAMS:
            return f"{_PARAM}{name!r}"
    return None


def refusal(found: str, advice: str) -> Phrase:
    """``holds a password; remove it and ADVICE``: the words of every refused URL (after its
    key), in the catalog (``str()`` is the English), where ``found`` is what
    :func:`url_credentials` said and ``advice`` the catalog key of where the credential goes
    instead (``url.put_*``), or of why it goes nowhere (``url.remove_*``: ``remove it (...)``)."""
    what = (
        Phrase("url.a_password")
        if found == USER_PASSWORD
        else Phrase("url.a_param", {"name": found.removeprefix(_PARAM)})
    )
    key = "url.holds_remove" if advice.startswith("url.remove_") else "url.holds"
    return Phrase(key, {"what": what, "advice": Phrase(advice)})


def url_password(url: str) -> str | None:
    """The password in ``url``; ``None`` when it has none (or is not a URL at all)."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def url_secrets(url: str) -> list[str]:
    """Every credential value ``url`` carries: the password, each credential query parameter's
    value (as written and decoded), for a masker that knows the URL."""
    from urllib.parse import unquote_plus, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    for name, value in _query_pairs(parts.query):
        if value and unquote_plus(name).lower() in CREDENTIAL_PARAMS:
            found += [value, unquote_plus(value)]
    return list(dict.fromkeys(found))


def without_password(url: str) -> str:
    """``url`` with its password left out (``postgresql://app@db/x``)."""
    return _replace_password(url, "")


def redact_url(url: str) -> str:
    """A URL fit for the screen, a log, a file or an error: the password in the user part and the
    value of every credential query parameter (:data:`CREDENTIAL_PARAMS`) replaced by ``***``."""
    from urllib.parse import unquote_plus

    redacted = _replace_password(url, ":" + _MASK)
    head, mark, rest = redacted.partition("?")
    if not mark:
        return redacted
    query, hash_, fragment = rest.partition("#")
    pairs = []
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        if eq and value and unquote_plus(name).lower() in CREDENTIAL_PARAMS:
            pair = name + "=" + _MASK
        pairs.append(pair)
    return head + mark + "&".join(pairs) + hash_ + fragment


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` as written (not decoded): the values a log may hold verbatim."""
    return [(n, v) for n, _, v in (p.partition("=") for p in query.split("&") if p)]


def _replace_password(url: str, replacement: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO_PASSWORD_RE.sub(
            lambda m: m.group(0).rsplit(":", 1)[0] + replacement + "@", url, count=1
        )
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", replacement + "@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
