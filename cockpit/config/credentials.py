"""No credential in any URL of ``cockpit.toml``: the database URL, each environment's ``app_url``,
git remote, Alembic database URL, Prometheus URL and AWS endpoints, and the URLs of its
``http_checks`` step replacements and ``http`` probes in ``checks``. A password in the user part
or a credential query parameter (:func:`cockpit.urls.url_credentials`) is refused with one line
that names the key, what was found, and where the credential goes instead (a variable the file
names, ``~/.pgpass``, the AWS profile, git's credential helper). The file is shared and
committed; the environment and those stores are not. ``COCKPIT_DATABASE_URL`` is checked as it
is read: its password may stay in the user part (the documented way), never in the query string.
"""

from __future__ import annotations

from cockpit.config.locate import where
from cockpit.config.model import Config
from cockpit.config.notify import notify_urls
from cockpit.errors import ConfigError
from cockpit.plan.probes import HttpProbe
from cockpit.plan.runs import CHECK_URL_ADVICE, run_urls
from cockpit.urls import USER_PASSWORD, refusal, url_credentials

_DATABASE_ADVICE = "url.put_database_password"
# Per environment: the key under environments.NAME and where its credential goes instead.
_ADVICE = {
    "app_url": CHECK_URL_ADVICE,
    "git.remote": "url.remove_git",
    "alembic.database_url": "url.put_alembic",
    "metrics.prometheus_url": "url.remove_prometheus",
    "aws": "url.remove_aws",
}


# COCKPIT_DATABASE_URL may carry its password in the user part (it lives in the environment, not
# the file: docs/configuration.md#secrets); a credential in its query string is refused.
_VARIABLE_ADVICE = "url.put_variable"


def check_database_url_variable() -> str:
    """``COCKPIT_DATABASE_URL`` (``""`` when unset), refused with one line when its query string
    carries a credential."""
    import os

    url = os.environ.get("COCKPIT_DATABASE_URL", "")
    found = url_credentials(url) if url else None
    if found and found != USER_PASSWORD:
        raise ConfigError.said(
            "url.refused", where="COCKPIT_DATABASE_URL", why=refusal(found, _VARIABLE_ADVICE)
        )
    return url


def check_urls(config: Config, text: str, source: str) -> None:
    """Raise the one-line :class:`ConfigError` of the first URL that carries a credential."""
    _check(config.database.url, ("database", "url"), _DATABASE_ADVICE, text, source)
    for at, url in notify_urls(config.notify):
        _check(url, at, "url.put_url_env", text, source)
    for name, env in config.environments.items():
        for field, value in (
            ("metrics.prometheus_url", env.metrics.prometheus_url),
            ("aws.endpoint_url", env.aws.endpoint_url),
            *((f"aws.endpoints.{svc}", url) for svc, url in env.aws.endpoints.items()),
            ("app_url", env.app_url),
            ("alembic.database_url", env.alembic.database_url),
            ("git.remote", env.git.remote),
        ):
            advice = _ADVICE.get(field) or _ADVICE["aws"]
            _check(value, ("environments", name, *field.split(".")), advice, text, source)
        for item_id, run in env.steps.items():
            at = ("environments", name, "steps", *item_id.split("."))
            key = f'environments.{name}.steps."{item_id}"'
            for sub, url in run_urls(run):
                shown = key + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in sub)
                _check(url, at, CHECK_URL_ADVICE, text, source, shown)
        for item_id, probe in env.checks.items():
            if isinstance(probe, HttpProbe):  # an http probe sends no credentials either
                at = ("environments", name, "checks", *item_id.split("."))
                shown = f'environments.{name}.checks."{item_id}".url'
                _check(probe.url, at, CHECK_URL_ADVICE, text, source, shown)


def _check(
    url: str,
    path: tuple[str, ...],
    advice: str,
    text: str,
    source: str,
    key: str | None = None,
) -> None:
    found = url_credentials(url) if url else None
    if found:
        key = key or ".".join(path)
        raise ConfigError.said(
            "url.refused", where=f"{where(source, text, path)}: {key}", why=refusal(found, advice)
        )
