"""Finding and reading ``cockpit.toml``: nearest first (``--config``, ``$COCKPIT_CONFIG``,
``./cockpit.toml``, the user config directory, else the embedded default), the TOML parsed and
checked (:mod:`.validate`, :mod:`.rules`) into a :class:`LoadedConfig` that remembers where it
came from, so relative paths in the file are relative to the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cockpit.config.credentials import check_database_url_variable
from cockpit.config.locate import where
from cockpit.config.model import NAME_RE, Config, EnvironmentConfig
from cockpit.config.rules import check_semantics
from cockpit.config.validate import check_numbers, check_steps, convert
from cockpit.errors import ConfigError, Phrase
from cockpit.paths import display_path

CONFIG_NAME = "cockpit.toml"
APP_NAME = "release-cockpit"


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where it came from (``None`` for the embedded default)."""

    config: Config
    path: Path | None

    @property
    def base_dir(self) -> Path:
        """Relative paths in the file are relative to the file's own directory."""
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def environment(self, name: str) -> EnvironmentConfig:
        try:
            return self.config.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.config.environments)) or Phrase("err.none")
            where = display_path(self.path) if self.path else Phrase("err.default_config")
            raise ConfigError.said("err.env_unknown", where=where, name=name, known=known) from None


def user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def find_config(explicit: str | None = None) -> Path | None:
    """The config file to use, nearest first; ``None`` when there is none (embedded default).

    An explicitly named file (``--config`` or ``$COCKPIT_CONFIG``) must exist.
    """
    for source, value in (
        ("--config", explicit),
        ("COCKPIT_CONFIG", os.environ.get("COCKPIT_CONFIG")),
    ):
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise ConfigError.said("err.no_config", path=path, source=source)
            return path
    for candidate in (Path.cwd() / CONFIG_NAME, user_config_dir() / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | None = None) -> LoadedConfig:
    """Find and validate the config; raise :class:`ConfigError` with one line on any problem."""
    path = find_config(explicit)
    check_database_url_variable()  # before anything prints: the URL in force is refused early
    if path is None:
        return LoadedConfig(Config(), None)
    return LoadedConfig(parse_config_file(path), path)


def parse_config_file(path: Path) -> Config:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise ConfigError.said("err.read_denied", file=shown) from None
    except UnicodeDecodeError as exc:
        raise ConfigError.said("err.not_utf8", file=shown, byte=exc.start) from None
    except OSError as exc:
        raise ConfigError.said("err.read_failed", file=shown, cause=exc.strerror) from None
    config = parse_config_text(text, shown)
    check_paths(config, path.parent, text, shown)
    return config


def check_paths(config: Config, base: Path, text: str, source: str) -> None:
    """The files ``[identity]`` names exist (relative to the config file's directory)."""
    for key in ("allowed_signers", "signing_key"):
        value = getattr(config.identity, key)
        if not value:
            continue
        target = Path(value).expanduser()
        target = target if target.is_absolute() else base / target
        if not target.is_file():
            raise ConfigError.said(
                "cfg.no_file",
                where=where(source, text, ("identity", key)),
                setting=f"identity.{key}",
                path=display_path(target),
            )


_TOML_POS_RE = re.compile(r"^(?P<msg>.*?) \(at line (?P<line>\d+), column \d+\)$")


def parse_config_text(text: str, source: str = CONFIG_NAME) -> Config:
    """Validate TOML text against the schema. ``source`` names the file in errors."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS_RE.match(str(exc))
        if m:
            at = f"{source}:{m['line']}"
            raise ConfigError.said("err.toml", where=at, cause=m["msg"]) from None
        raise ConfigError.said("err.toml", where=source, cause=exc) from None
    check_numbers(raw, (), text, source)
    check_steps(raw, text, source)
    # Mappings with free keys are checked one entry at a time so errors name the entry.
    for table, item_type in (("environments", EnvironmentConfig), ("roles", list[str])):
        entries = raw.get(table)
        if isinstance(entries, dict):
            for key, value in entries.items():
                if not re.match(NAME_RE, key):
                    path: tuple[str, ...] = (table, key)
                    raise ConfigError.said(
                        "cfg.name", where=where(source, text, path), setting=f"{table}.{key}"
                    )
                convert(value, item_type, (table, key), text, source)
    config: Config = convert(raw, Config, (), text, source)
    check_semantics(config, text, source)
    return config
