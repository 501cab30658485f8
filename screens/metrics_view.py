"""What the metrics screen shows, as text: a panel's view from the engine's state of it, the
title line (environment, paused, baseline) and the go / no-go block under the grid. Pure
functions of what the screen already holds: they read no log and no source."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from widgets.metricpanel import PanelView

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cockpit.metrics import PanelState, Sampler
    from cockpit.session import Session


def view_of(state: PanelState) -> PanelView:
    """What a panel shows, from the engine's state of it."""
    panel = state.panel
    base = ""
    if state.baseline is not None:
        from cockpit.metrics import format_value

        base = "base " + format_value(state.baseline, panel.unit)
    return PanelView(
        title=panel.title or panel.name,
        level=state.level,
        label=state.label,
        text=state.text,
        history=state.history,
        baseline=base,
        source=panel.source,
    )


def title_line(session: Session, environment: str, sampler: Sampler) -> Text:
    """`` Metrics  staging  PAUSED  baseline captured``"""
    title = Text(" " + session.t("met.title"), style="bold")
    title.append(f"  {environment}")
    if sampler.paused:
        title.append("  " + session.t("met.paused"), style="reverse")
    baseline = sampler.baseline
    title.append("  " + (session.t("met.base_set") if baseline else session.t("met.base_none")))
    return title


def state_text(
    session: Session, blocked: str | None, states: Mapping[str, PanelState], message: str
) -> Text:
    """Go ready or why not (``blocked``, what go_blocked said), the first post-release
    warnings, and the last thing the screen said (``message``)."""
    from cockpit.metrics import post_release_warnings

    text = Text()
    if blocked:
        text.append(session.t("met.go_blocked", why=blocked) + "\n", style="yellow")
    else:
        text.append(session.t("met.go_ready") + "\n", style="green")
    for warning in post_release_warnings(list(states.values()))[:2]:
        text.append(warning + "\n", style="dim")
    if message:
        text.append(message, style="bold")
    return text
