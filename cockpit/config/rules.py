"""The rules of ``cockpit.toml`` that a type cannot express: a known time zone and a non-empty
change window, signing every decision only with an allowed-signers file to check against, no
credential in any URL of the file (:mod:`.credentials`), warning thresholds
below critical ones, unique panel names, a program to run, at least one branch, ``{version}`` in
the tag format.
"""

from __future__ import annotations

from cockpit.config.credentials import check_urls
from cockpit.config.locate import where
from cockpit.config.model import BlackoutConfig, Config, OneOffWindowConfig
from cockpit.config.notify import check_notify
from cockpit.errors import ConfigError


def check_semantics(config: Config, text: str, source: str) -> None:
    """Rules a type cannot express."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    window = config.change_window
    path: tuple[str, ...]
    try:
        ZoneInfo(window.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        path = ("change_window", "timezone")
        raise ConfigError.said(
            "err.zone",
            where=where(source, text, path),
            setting="change_window.timezone",
            name=window.timezone,
        ) from None
    if window.start == window.end:
        path = ("change_window", "end")
        raise ConfigError(
            f"{where(source, text, path)}: change_window.end: the window cannot be empty"
        )
    _check_calendar(config, text, source)
    check_urls(config, text, source)
    check_notify(config.notify, text, source)
    for name, env in config.environments.items():
        if env.sign_all and not config.identity.allowed_signers:
            path = ("environments", name, "sign_all")
            raise ConfigError(
                f"{where(source, text, path)}: environments.{name}.sign_all: needs "
                "identity.allowed_signers (the keys signatures are checked against)"
            )
        metrics = env.metrics
        if metrics.watch_speed != 1.0 and not env.rehearsal:
            path = ("environments", name, "metrics", "watch_speed")
            raise ConfigError(
                f"{where(source, text, path)}: environments.{name}.metrics.watch_speed: a faster "
                "watch clock is for rehearsal environments only (rehearsal = true)"
            )
        for kind in ("cpu", "memory", "resource", "error_rate"):
            warning = getattr(metrics, f"{kind}_warning")
            critical = getattr(metrics, f"{kind}_critical")
            if warning > critical:
                path = ("environments", name, "metrics", f"{kind}_warning")
                raise ConfigError(
                    f"{where(source, text, path)}: environments.{name}.metrics.{kind}_warning: "
                    f"{warning} is above {kind}_critical ({critical})"
                )
        if metrics.stale_after_seconds >= metrics.no_data_after_seconds:
            path = ("environments", name, "metrics", "stale_after_seconds")
            raise ConfigError(
                f"{where(source, text, path)}: environments.{name}.metrics.stale_after_seconds: "
                f"must be below no_data_after_seconds ({metrics.no_data_after_seconds:g})"
            )
        seen_panels: set[str] = set()
        for panel in metrics.panels:
            if panel.name in seen_panels:
                path = ("environments", name, "metrics", "panels")
                raise ConfigError(
                    f"{where(source, text, path)}: environments.{name}.metrics.panels: "
                    f"two panels named {panel.name!r}"
                )
            seen_panels.add(panel.name)
        for field, argv in (("alembic.command", env.alembic.command),):
            if not argv or not all(argv):
                path = ("environments", name, *field.split("."))
                raise ConfigError(
                    f"{where(source, text, path)}: environments.{name}.{field}: "
                    "needs at least the program name (an argv list)"
                )
        if not env.git.branches:
            path = ("environments", name, "git", "branches")
            raise ConfigError(
                f"{where(source, text, path)}: environments.{name}.git.branches: list at least "
                "one branch pattern that may be released here"
            )
        if "{version}" not in env.git.tag_format:
            path = ("environments", name, "git", "tag_format")
            raise ConfigError(
                f"{where(source, text, path)}: environments.{name}.git.tag_format: must contain "
                "{version}"
            )


def _check_calendar(config: Config, text: str, source: str) -> None:
    """Known zones in ``[windows.*]``, ``[[extra_windows]]`` and ``[[blackouts]]``, real dates,
    and each one-off ending after it starts."""
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    def zone(path: tuple[str, ...], key: str, name: str) -> ZoneInfo:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{where(source, text, path)}: {key}: unknown time zone {name!r} "
                "(use a name such as 'Asia/Tokyo' or 'UTC')"
            ) from None

    for plan, window in config.windows.items():
        zone(("windows", plan, "timezone"), f"windows.{plan}.timezone", window.timezone)
    entries: list[tuple[str, OneOffWindowConfig | BlackoutConfig]] = [
        ("extra_windows", e) for e in config.extra_windows
    ]
    entries += [("blackouts", e) for e in config.blackouts]
    counts: dict[str, int] = {}
    for table, entry in entries:
        n = counts[table] = counts.get(table, -1) + 1
        if entry.timezone:
            zone((table, "timezone"), f"{table}.{n}.timezone", entry.timezone)
        moments = []
        for key in ("start", "end"):
            value = getattr(entry, key)
            try:
                moments.append(datetime.fromisoformat(value))
            except ValueError:
                raise ConfigError(
                    f"{where(source, text, (table, key))}: {table}.{n}.{key}: {value!r} is "
                    "not a date (use 2026-12-28 or 2026-12-28T01:00)"
                ) from None
        if moments[1] <= moments[0]:
            raise ConfigError(
                f"{where(source, text, (table, 'end'))}: {table}.{n}.end: must be after "
                f"start ({entry.start})"
            )
