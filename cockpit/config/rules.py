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
from cockpit.errors import ConfigError, Phrase


def bad(
    source: str, text: str, path: tuple[str, ...], problem: str, **values: object
) -> ConfigError:
    """The one line of a setting that breaks a rule: the file and line of ``path``, the dotted
    setting, and the catalog's ``problem`` with ``values``."""
    said = Phrase(problem, values)
    setting = ".".join(path)
    return ConfigError.of(
        Phrase(
            "schema.line", {"where": where(source, text, path), "setting": setting, "problem": said}
        )
    )


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
        raise bad(source, text, path, "cfg.empty_window")
    _check_calendar(config, text, source)
    check_urls(config, text, source)
    check_notify(config.notify, text, source)
    for name, env in config.environments.items():
        if env.sign_all and not config.identity.allowed_signers:
            path = ("environments", name, "sign_all")
            raise bad(source, text, path, "cfg.sign_all")
        metrics = env.metrics
        if metrics.watch_speed != 1.0 and not env.rehearsal:
            path = ("environments", name, "metrics", "watch_speed")
            raise bad(source, text, path, "cfg.watch_speed")
        for kind in ("cpu", "memory", "resource", "error_rate"):
            warning = getattr(metrics, f"{kind}_warning")
            critical = getattr(metrics, f"{kind}_critical")
            if warning > critical:
                path = ("environments", name, "metrics", f"{kind}_warning")
                raise bad(
                    source, text, path, "cfg.warning", warning=warning, kind=kind, critical=critical
                )
        if metrics.stale_after_seconds >= metrics.no_data_after_seconds:
            path = ("environments", name, "metrics", "stale_after_seconds")
            most = f"{metrics.no_data_after_seconds:g}"
            raise bad(source, text, path, "cfg.stale", most=most)
        seen_panels: set[str] = set()
        for panel in metrics.panels:
            if panel.name in seen_panels:
                path = ("environments", name, "metrics", "panels")
                raise bad(source, text, path, "cfg.two_panels", name=panel.name)
            seen_panels.add(panel.name)
        for field, argv in (("alembic.command", env.alembic.command),):
            if not argv or not all(argv):
                path = ("environments", name, *field.split("."))
                raise bad(source, text, path, "cfg.argv")
        if not env.git.branches:
            path = ("environments", name, "git", "branches")
            raise bad(source, text, path, "cfg.branches")
        if "{version}" not in env.git.tag_format:
            path = ("environments", name, "git", "tag_format")
            raise bad(source, text, path, "cfg.tag_format", field="{version}")


def _check_calendar(config: Config, text: str, source: str) -> None:
    """Known zones in ``[windows.*]``, ``[[extra_windows]]`` and ``[[blackouts]]``, real dates,
    and each one-off ending after it starts."""
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    def zone(path: tuple[str, ...], key: str, name: str) -> ZoneInfo:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError.said(
                "err.zone", where=where(source, text, path), setting=key, name=name
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
                problem = Phrase("cfg.date", {"value": value})
                at = where(source, text, (table, key))
                line = Phrase(
                    "schema.line",
                    {"where": at, "setting": f"{table}.{n}.{key}", "problem": problem},
                )
                raise ConfigError.of(line) from None
        if moments[1] <= moments[0]:
            problem = Phrase("cfg.after", {"start": entry.start})
            at = where(source, text, (table, "end"))
            raise ConfigError.of(
                Phrase(
                    "schema.line", {"where": at, "setting": f"{table}.{n}.end", "problem": problem}
                )
            )
