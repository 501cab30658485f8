"""The cockpit's own secrets: which environment variables hold them, and masking their values.

A variable holds one of the cockpit's secrets when the config names it (every environment's
``alembic.database_url_env`` and ``metrics.token_env``), when it is the cockpit's database URL or
password (``COCKPIT_DATABASE_URL``, ``COCKPIT_DATABASE_PASSWORD``) or one of AWS's credentials,
or when its name says so (:func:`secret_name`). A :class:`Masker` holds those names and their
values (and a URL's password or token among them): :meth:`Masker.mask` replaces every value in
text with :data:`MASK`, and :meth:`Masker.scrubbed_env` gives a program the cockpit's environment
without them, so a step never inherits the database password or the AWS keys by accident. Steps
and probes use :func:`known_secrets` of the loaded config; the store masks every event with
:func:`process_masker`. No heavy imports: the config is imported for its types only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cockpit.urls import url_secrets

if TYPE_CHECKING:
    from cockpit.config import Config

MASK = "***"
# Values shorter than this are never masked: masking "1" or "on" would garble every line.
MIN_LENGTH = 4
# Environment variable names whose values are never shown.
_SECRET_NAME_RE = re.compile(r"TOKEN|SECRET|PASSW(?:OR)?D|KEY|CREDENTIAL|DATABASE_URL", re.I)
# Names that say where a secret is kept (a file, a directory, another variable's name), not the
# secret itself: AWS_SHARED_CREDENTIALS_FILE holds a path.
_REFERENCE_RE = re.compile(r"_(?:FILE|PATH|DIR|ENV)$", re.I)
# Words a setting holds that are no secret, whatever the variable is called.
_PLAIN_VALUES = frozenset({"true", "false", "none", "null", "unset", "enabled", "disabled"})
# Always the cockpit's secrets when set, whatever the config says.
FIXED_NAMES = (
    "COCKPIT_DATABASE_URL",
    "COCKPIT_DATABASE_PASSWORD",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
# Names a loaded config said hold secrets, for the store's masker (which has no config).
_declared: set[str] = set()


def secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret (its value is masked)."""
    return bool(_SECRET_NAME_RE.search(name))


def config_secret_names(config: Config) -> set[str]:
    """The variables ``config`` names as holding secrets: every environment's Alembic database
    URL variable and metrics token variable, besides :data:`FIXED_NAMES`."""
    names = set(FIXED_NAMES)
    for env in config.environments.values():
        names.update(n for n in (env.alembic.database_url_env, env.metrics.token_env) if n)
    for channel in config.notify.channels.values():  # notice channels' secrets
        keys = (channel.url_env, channel.token_env, channel.routing_key_env, channel.password_env)
        names.update(n for n in keys if n)
    return names


class Masker:
    """Known secret variable names and values: masks the values in text, leaves the variables
    out of a program's environment."""

    def __init__(self, names: Iterable[str] = (), values: Iterable[str] = ()) -> None:
        self._state = (frozenset(names), _ordered(values))

    def _known(self) -> tuple[frozenset[str], tuple[str, ...]]:
        return self._state

    @property
    def names(self) -> frozenset[str]:
        return self._known()[0]

    @property
    def values(self) -> tuple[str, ...]:
        """The values masked, longest first (so a URL goes whole before its password)."""
        return self._known()[1]

    def secret(self, name: str) -> bool:
        """Whether the variable ``name`` holds one of the cockpit's secrets."""
        return name in self.names or (secret_name(name) and not _REFERENCE_RE.search(name))

    def mask(self, text: str) -> str:
        """``text`` with every known secret value replaced by :data:`MASK`."""
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def mask_value(self, value: Any) -> Any:
        """A copy of event details with every string masked (keys stay as they are)."""
        if not self.values:
            return value
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, Mapping):
            return {k: self.mask_value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.mask_value(v) for v in value]
        return value

    def wrap(self, output: Callable[[str], None]) -> Callable[[str], None]:
        """``output`` that is given each line masked."""
        return lambda line: output(self.mask(line))

    def with_values(self, values: Iterable[str]) -> Masker:
        """This masker with more values to mask (a step's own secret ``env`` values)."""
        names, known = self._known()
        return Masker(names, (*known, *values))

    def scrubbed_env(self, base: Mapping[str, str], keep: Iterable[str]) -> dict[str, str]:
        """``base`` (the cockpit's environment) without the variables holding secrets, except
        those named in ``keep`` (what a step asks for with ``inherit``)."""
        kept = set(keep)
        return {k: v for k, v in base.items() if k in kept or not self.secret(k)}


def known_secrets(config: Config | None = None, environ: Mapping[str, str] | None = None) -> Masker:
    """The cockpit's known secrets in ``environ`` (default: this process's environment): the
    variables ``config`` names, AWS's credentials, and every variable whose name says it holds a
    secret. The names ``config`` gives are remembered for :func:`process_masker`."""
    names = set(FIXED_NAMES)
    if config is not None:
        names = config_secret_names(config)
        _declared.update(names)
    return _from_environ(names | _declared, os.environ if environ is None else environ)


def process_masker() -> Masker:
    """This process's known secrets, for the store (which has no config): read from the
    environment once, and again only when a config names more variables (see
    :func:`known_secrets`), so every append pays one comparison."""
    return _ProcessMasker()


class _ProcessMasker(Masker):
    def __init__(self) -> None:
        super().__init__()
        self._seen = -1

    def _known(self) -> tuple[frozenset[str], tuple[str, ...]]:
        seen = len(_declared)  # only ever grows: its size says whether a config named more
        if self._seen != seen:
            fresh = _from_environ(set(FIXED_NAMES) | _declared, os.environ)
            self._state, self._seen = fresh._state, seen
        return self._state


def _from_environ(names: set[str], environ: Mapping[str, str]) -> Masker:
    masker = Masker(names)
    held = [value for name, value in environ.items() if value and masker.secret(name)]
    passwords = [p for value in held if "://" in value for p in url_secrets(value)]
    return Masker(names, (*held, *passwords))


def _ordered(values: Iterable[str]) -> tuple[str, ...]:
    found = {v for v in values if len(v) >= MIN_LENGTH and v.lower() not in _PLAIN_VALUES}
    return tuple(sorted(found, key=len, reverse=True))
