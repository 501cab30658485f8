"""What the metrics screen shows, as text: a panel's view from the engine's state of it, the
title line (environment, paused, baseline) and the go / no-go block under the grid. Pure
functions of what the screen already holds: they read no log and no source."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.text import Text

from widgets.metricpanel import Mark, PanelView, fixed_scale

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cockpit.metrics import PanelState, Sampler
    from cockpit.session import Session


# Kinds measured as a share of a whole: their chart is always 0-100 %.
PERCENT_KINDS = frozenset({"cpu", "memory", "resource", "availability"})


def view_of(state: PanelState, session: Session | None = None, refresh: float = 2.0) -> PanelView:
    """What a panel shows, from the engine's state of it: the chart on a fixed scale (0-100 %
    for a share of a resource; else from zero to past the threshold, or the largest sample),
    the warning and critical levels marked, the axis labelled (``session``: in its language;
    ``refresh``: seconds between samples, for the time span)."""
    from cockpit.metrics import format_value
    from cockpit.window import format_remaining

    panel = state.panel
    base = ""
    if state.baseline is not None:
        base = "base " + format_value(state.baseline, panel.unit)
    levels = [("warn", "-", panel.warning), ("crit", "=", state.critical)]
    natural = (0.0, 100.0) if panel.unit == "%" and panel.kind in PERCENT_KINDS else None
    low, high = fixed_scale(
        state.history, natural=natural, thresholds=[v for _, _, v in levels if v is not None]
    )
    t = session.t if session is not None else None
    marks = tuple(
        Mark(value, glyph, t(f"met.mark_{word}", value=format_value(value, panel.unit)))
        for word, glyph, value in levels
        if value is not None and t is not None and low < value < high
    )

    def span(columns: int) -> str:
        ago = format_remaining(
            timedelta(seconds=round(columns * refresh)), session.lang if session else "en"
        )
        return t("met.axis_ago", span=ago) if t is not None else ""

    return PanelView(
        title=panel.title or panel.name,
        level=state.level,
        label=state.label,
        text=state.text,
        history=state.history,
        baseline=base,
        source=panel.source,
        scale=(low, high),
        marks=marks,
        top=format_value(high, panel.unit),
        bottom=format_value(low, panel.unit),
        span=span if t is not None else None,
        now=t("met.axis_now") if t is not None else "",
        why=state.why(session.lang if session is not None else "en"),
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


def grid_shape(width: int, height: int, panels: int) -> tuple[int, int]:
    """(columns, rows per panel): a column more from 120 and from 180 cells; the rows of
    panels share the height left by the header, title, state and keys, each panel 4 to 20
    rows (its chart grows with it)."""
    columns = 4 if width >= 180 else 3 if width >= 120 else 2
    rows = -(-panels // columns)
    return columns, max(4, min(20, (height - 7) // rows))
