"""Whether it is safe, in one line: the dashboard's Health line and the runbook's metrics line.

A screen that shows the line owns a :class:`HealthWatch`: a sampler of its release's
environment (:class:`cockpit.metrics.Sampler`), made and started in the screen's ``load()``
worker (a source may import its client, a baseline is read from the log), paused while another
screen is on top and stopped when the screen goes. The line itself (:func:`health_text`) is a
pure function of the panels' states, drawn on the UI thread from what the sampler holds in
memory: ``error rate 0.04 % ok (base 0.03 %) . CPU 52 % ok . updated 2s ago``, the panels in
trouble first, the ones fine counted when the line would not fit; ``no metrics source`` when the
environment has none, ``metrics stale 3m05s`` when no panel is fresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text

from widgets.rows import STYLES

if TYPE_CHECKING:
    from cockpit.config import LoadedConfig
    from cockpit.metrics import PanelState, Sampler
    from cockpit.store import Store

# Worst first: the line says what is wrong before what is fine.
ORDER = {"crit": 0, "no_data": 1, "stale": 2, "warn": 3, "ok": 4}
SEP = " \u00b7 "  # a middle dot (--ascii draws it as ".")
# Values this young are "live"; older ones say how old (the samplers' rounds are seconds apart).
LIVE_S = 5.0


def has_source(loaded: LoadedConfig, environment: str) -> bool:
    """Whether the environment's panels have anywhere to come from: none configured, or only
    Prometheus panels without ``metrics.prometheus_url``, is no source."""
    from cockpit.metrics import panels_from_config

    metrics = loaded.environment(environment).metrics
    panels = panels_from_config(metrics)
    return bool(panels) and not (
        all(p.source == "prometheus" for p in panels) and not metrics.prometheus_url
    )


class HealthWatch:
    """One environment's sampler for a summary line. :meth:`watch` runs in a worker; the
    rest on the UI thread (they only read or flip what the sampler holds)."""

    def __init__(self) -> None:
        self.environment: str | None = None
        self.sampler: Sampler | None = None
        self._lock = threading.Lock()

    def watch(self, loaded: LoadedConfig, environment: str, store: Store, release_id: str) -> None:
        """Sample ``environment`` (again only when it changed), with the release's recorded
        baseline. Off the UI thread."""
        from cockpit.metrics import Sampler, latest_baseline

        with self._lock:
            if self.environment == environment:
                return
            self.stop()
            self.environment = environment
            if not has_source(loaded, environment):
                return
            sampler = Sampler.for_environment(loaded, environment)
            sampler.baseline = latest_baseline(store, release_id)
            self.sampler = sampler.start()

    def states(self) -> dict[str, PanelState] | None:
        """What each panel shows now; ``None``: no source (nothing to sample)."""
        sampler = self.sampler
        if sampler is None:
            return None
        sampler.poll()  # the rounds' news: this line only reads the states (triggers are the
        # metrics screen's, which records them)
        return sampler.states(history=1)

    def pause(self) -> None:
        if self.sampler is not None:
            self.sampler.pause()

    def resume(self) -> None:
        if self.sampler is not None and self.sampler.paused:
            self.sampler.resume()

    def stop(self) -> None:
        """Stop sampling; the threads are joined in a thread of their own (never the UI's)."""
        sampler, self.sampler, self.environment = self.sampler, None, None
        if sampler is not None:
            threading.Thread(target=sampler.stop, daemon=True, name="health-stop").start()


def health_text(
    t: Callable[..., str],
    states: Mapping[str, PanelState] | None,
    width: int,
    *,
    baseline: bool = False,
    lang: str = "en",
) -> Text:
    """The panels in one line of at most ``width`` cells when it can be (cut otherwise), with
    how fresh the newest value is; ``baseline``: each value's baseline beside it."""
    if states is None:
        return Text(t("health.none"), style="dim")
    if not states or all(s.last_at is None for s in states.values()):
        # Never a value: waiting, unless the source said why (the first of its reasons).
        why = next(filter(None, (s.why(lang) for s in states.values())), "")
        if why:
            line = Text(t("health.no_data", why=why), style=STYLES["no_data"])
            line.no_wrap, line.overflow = True, "ellipsis"
            return line
        return Text(t("health.waiting"), style="dim")
    # Not before there is something to say: the dashboard's first frame has no panels.
    from cockpit.metrics import format_value
    from cockpit.window import format_remaining

    ages = [s.age for s in states.values() if s.age is not None and s.level not in ("no_data",)]
    fresh = [s for s in states.values() if s.level in ("ok", "warn", "crit")]
    newest = min(ages) if ages else None
    parts: list[tuple[Text, str]] = []
    for state in sorted(states.values(), key=lambda s: ORDER.get(s.level, 9)):
        part = Text(f"{state.panel.title or state.panel.name} {state.text}")
        if state.label != state.text:
            part.append(" ")
            part.append(state.label, style=STYLES.get(state.level, ""))
        if baseline and state.baseline is not None:
            base = format_value(state.baseline, state.panel.unit)
            part.append(" " + t("health.base", base=base), style="dim")
        parts.append((part, state.level))
    if newest is None:
        tail = Text("")
    elif fresh and newest < LIVE_S:
        # Live: no age that ticks every second (the line redraws when a value changes).
        tail = Text(t("health.live"), "dim")
    elif fresh:
        tail = Text(
            t("health.updated", age=format_remaining(timedelta(seconds=newest), lang)), "dim"
        )
    else:
        age = format_remaining(timedelta(seconds=newest), lang)
        tail = Text(t("health.stale", age=age), style="bold yellow")
    line = _join([p for p, _ in parts], tail)
    if cell_len(line.plain) > width:
        # The panels that are fine, counted: what is wrong and how fresh stay in sight.
        trouble = [p for p, level in parts if level != "ok"]
        fine = len(parts) - len(trouble)
        more = [Text(t("health.more_ok", n=fine), style="green")] if fine else []
        line = _join([*trouble, *more], tail)
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


def metrics_line(
    t: Callable[..., str],
    unsettled: list[int],
    states: Mapping[str, PanelState] | None,
    width: int,
    lang: str = "en",
) -> Text:
    """The runbook's line: the oldest rollback trigger nobody settled first (its seq), then
    :func:`health_text` with the baselines, in ``width`` cells."""
    line = Text(" ")
    for seq in unsettled[:1]:
        line.append(t("health.trigger", seq=seq), style="bold red")
        line.append("  ")
    line.append_text(
        health_text(t, states, max(20, width - line.cell_len), baseline=True, lang=lang)
    )
    return line


def _join(parts: list[Text], tail: Text) -> Text:
    return Text(SEP).join([*parts, tail] if tail.plain else parts)
