"""The session: what every command and screen holds.

One object carries the loaded ``cockpit.toml``, the event store, the operator at the keyboard,
the clock and the language. The CLI builds one per command and the cockpit app one per run; the
engine's entry points take the pieces they need from it. Each piece is made on first use, so
``cockpit --help`` reads no config and the first frame of the app is drawn before SQLAlchemy is
imported or the log is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.i18n import tr

if TYPE_CHECKING:
    from cockpit.config import LoadedConfig
    from cockpit.identity import Signers
    from cockpit.operator import Operator
    from cockpit.store import Store
    from cockpit.timefmt import TimeFormat


def utc_now() -> datetime:
    return datetime.now(UTC)


class Session:
    """The config, the store, the operator, the clock and the language of one run.

    Give what you already have (tests give all of it); what is left out is made on first use:
    the config read from ``config_path`` (or found the usual way), the store opened from the
    config (or by ``opener``), the operator from the login and the SSH key it signs with, the
    allowed signers from ``[identity]`` (set on the store, so the fold and verify use them).
    """

    def __init__(
        self,
        *,
        loaded: LoadedConfig | None = None,
        config_path: str | Path | None = None,
        store: Store | None = None,
        opener: Callable[[], Store] | None = None,
        operator: Operator | None = None,
        lang: str = "en",
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._loaded = loaded
        self._config_path = config_path
        self._store = store
        self._opener = opener
        self._operator = operator
        self._signers: Signers | None = None
        self._signers_read = False
        self._store_ready = False
        self.lang = lang
        self.now = now
        self._times: TimeFormat | None = None
        self._read_only = False

    def read_only_store(self) -> None:
        """Open the store read-only when it is first asked for: no migration, no checkpoint,
        nothing appended (a process that only looks: :mod:`cockpit.readahead`'s)."""
        self._read_only = True

    @property
    def loaded(self) -> LoadedConfig:
        """``cockpit.toml`` as checked (exit 2 with one line when it is wrong)."""
        if self._loaded is None:
            from cockpit.config import load_config

            self._loaded = load_config(str(self._config_path) if self._config_path else None)
        return self._loaded

    @property
    def loaded_yet(self) -> LoadedConfig | None:
        """The config if it has been read already, else ``None``: for the UI thread, which
        draws the app's first frame before a worker reads it."""
        return self._loaded

    @property
    def db_url(self) -> str:
        from cockpit.config import database_url

        return database_url(self.loaded)

    @property
    def checkpoint_file(self) -> Path:
        from cockpit.config import checkpoint_path

        return checkpoint_path(self.loaded, self.db_url)

    @property
    def signers(self) -> Signers | None:
        """The allowed-signers file of ``[identity]`` with its rules, read on first use; None
        when none is configured (then every identity is claimed)."""
        if not self._signers_read:
            identity = self.loaded.config.identity
            if identity.allowed_signers:
                from cockpit.identity import Signers

                self._signers = Signers.load(
                    self.loaded.resolve(identity.allowed_signers),
                    required_after_seq=identity.required_after_seq,
                    sign_all=[
                        name
                        for name, env in self.loaded.config.environments.items()
                        if env.sign_all
                    ],
                )
            self._signers_read = True
        return self._signers

    @property
    def store(self) -> Store:
        """The event store, opened (and migrated) on first use, with the allowed signers the
        fold and verify check signatures against. Slow the first time: the app asks for it
        only in a worker, which also works out the operator's key then (asking the agent,
        maybe over a forwarded connection, is not for the UI thread)."""
        if self._store is None:
            if self._opener is not None:
                self._store = self._opener()
            else:
                from cockpit.store import Store

                self._store = Store(
                    self.db_url,
                    checkpoint_file=self.checkpoint_file,
                    busy_timeout_ms=self.loaded.config.database.busy_timeout_ms,
                    read_only=self._read_only,
                ).open()
        if not self._store_ready:
            self._store.signers = self.signers
            if self._signers is not None:
                _ = self.operator
            self._store_ready = True
        return self._store

    @property
    def opened_store(self) -> Store | None:
        """The store if it is open already, else ``None``: for the UI thread, which must not
        open it."""
        return self._store

    @property
    def operator(self) -> Operator:
        """Who is at the keyboard, and which parts of that are proven."""
        if self._operator is None:
            from cockpit.operator import current_operator

            identity = self.loaded.config.identity
            self._operator = current_operator(
                signing_key=self.loaded.resolve(identity.signing_key)
                if identity.signing_key
                else None,
                signers=self.signers,
            )
        return self._operator

    @operator.setter
    def operator(self, operator: Operator) -> None:
        """Hand the keyboard to another operator (a stand-in colleague in a rehearsal)."""
        self._operator = operator

    @property
    def known_operator(self) -> Operator | None:
        """The operator if worked out already (a worker does it), else ``None``: for the UI
        thread, which must not ask the agent."""
        return self._operator

    @property
    def times(self) -> TimeFormat:
        """How moments are shown (:mod:`cockpit.timefmt`): in the change window's zone, with
        the zone named; the TUI switches it to UTC and back."""
        if self._times is None:
            from cockpit.timefmt import TimeFormat, display_zone

            self._times = TimeFormat(display_zone(self.loaded.config))
        return self._times

    @times.setter
    def times(self, times: TimeFormat) -> None:
        self._times = times

    @property
    def times_yet(self) -> TimeFormat | None:
        """How moments are shown once the config is read, else ``None`` (the UI thread's)."""
        return self.times if self._times is not None or self._loaded is not None else None

    def t(self, key: str, **values: object) -> str:
        """A user-visible string from the catalog, in this session's language."""
        return tr(key, self.lang, **values)
