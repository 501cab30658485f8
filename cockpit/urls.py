"""URLs that may hold a password (a database URL, an endpoint): reading the password, and writing
the URL without it, for the screen, a log, or a name that must not change with the password.
Standard library only, so the store and the config can both use it."""

from __future__ import annotations


def url_password(url: str) -> str | None:
    """The password in ``url``; ``None`` when it has none (or is not a URL at all)."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def without_password(url: str) -> str:
    """``url`` with its password left out (``postgresql://app@db/x``)."""
    return _replace_password(url, "")


def redact_url(url: str) -> str:
    """A database URL fit for the screen or a log: the password replaced by ``***``."""
    return _replace_password(url, ":***")


def _replace_password(url: str, replacement: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", replacement + "@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
