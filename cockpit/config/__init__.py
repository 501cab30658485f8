"""``cockpit.toml``: where it is found, its strict schema, and one-line errors.

The file is found nearest-first: ``--config``, ``$COCKPIT_CONFIG``, ``./cockpit.toml``, then the
user config directory. With none found the embedded default applies (SQLite in the user data
directory). Unknown keys and wrong types are errors naming the file, the line and the key::

    cockpit.toml:12: environments.production.kubernetes.namespace: expected a string

Secrets never come from the file: the database password comes from ``COCKPIT_DATABASE_PASSWORD``
(or the whole URL from ``COCKPIT_DATABASE_URL``) and tokens from environment variables named in the
file (``token_env``).

The package, one job per module: :mod:`.model` (the typed config), :mod:`.loader` (finding and
reading the file), :mod:`.validate` (the schema check and its wording), :mod:`.rules` (what a type
cannot express), :mod:`.locate` (the line of a key), :mod:`.storage` (the database URL and the
checkpoint file), :mod:`.schema` (the JSON Schema). It builds on cockpit.plan (a step's run) and
never imports cockpit.steps.
"""

from __future__ import annotations

from cockpit.config.loader import (
    APP_NAME,
    CONFIG_NAME,
    LoadedConfig,
    find_config,
    load_config,
    parse_config_file,
    parse_config_text,
    user_config_dir,
    user_data_dir,
)
from cockpit.config.locate import locate
from cockpit.config.model import (
    HHMM,
    AlembicConfig,
    AuditConfig,
    AwsConfig,
    ChangeWindowConfig,
    CloudWatchConfig,
    Config,
    DatabaseConfig,
    EnvironmentConfig,
    EnvName,
    GitConfig,
    IdentityConfig,
    KubernetesConfig,
    MetricsConfig,
    PanelConfig,
    PanelKind,
    PanelSource,
    Percent,
    PositiveSeconds,
)
from cockpit.config.schema import json_schema
from cockpit.config.storage import checkpoint_path, database_url
from cockpit.paths import display_path  # for existing callers; it lives below config now
from cockpit.urls import redact_url  # likewise (cockpit.store imports it from here)

__all__ = [
    "APP_NAME",
    "CONFIG_NAME",
    "HHMM",
    "AlembicConfig",
    "AuditConfig",
    "AwsConfig",
    "ChangeWindowConfig",
    "CloudWatchConfig",
    "Config",
    "DatabaseConfig",
    "EnvName",
    "EnvironmentConfig",
    "GitConfig",
    "IdentityConfig",
    "KubernetesConfig",
    "LoadedConfig",
    "MetricsConfig",
    "PanelConfig",
    "PanelKind",
    "PanelSource",
    "Percent",
    "PositiveSeconds",
    "checkpoint_path",
    "database_url",
    "display_path",
    "find_config",
    "json_schema",
    "load_config",
    "locate",
    "parse_config_file",
    "parse_config_text",
    "redact_url",
    "user_config_dir",
    "user_data_dir",
]
