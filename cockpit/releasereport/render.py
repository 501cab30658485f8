"""The release report as Markdown and as one self-contained HTML file (inline style, the
watch's chart as inline SVG: no script, no font, no address to fetch), both naming the audit
head they were drawn from. Headings are in Japanese and English, as in the rollback report.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from cockpit.releasereport.facts import Line, ReleaseFacts
from cockpit.timefmt import TimeFormat

# Without the config's zone (a caller that gives none), moments are written in UTC, named.
UTC_TIMES = TimeFormat("UTC", utc=True)

_SPARK = "▁▂▃▄▅▆▇█"


def _sparkline(values: Sequence[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(_SPARK[int((v - low) / span * (len(_SPARK) - 1))] for v in values)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _line_row(line: Line, times: TimeFormat) -> list[object]:
    at = times.show(line.at, "full")
    return [f"#{line.seq}", at, line.who, line.action, line.subject, line.outcome, line.reason]


def _line_head(times: TimeFormat) -> tuple[str, ...]:
    return ("#", f"at ({times.name})", "who", "action", "subject", "outcome", "reason")


def _approval_head(times: TimeFormat) -> tuple[str, ...]:
    return ("#", f"at ({times.name})", "item", "who", "decision", "signature", "reason")


def _step_head(times: TimeFormat) -> tuple[str, ...]:
    return ("#", "step", f"started ({times.name})", "outcome", "seconds", "error")


def _approval_rows(facts: ReleaseFacts, times: TimeFormat) -> list[tuple[object, ...]]:
    return [
        (f"#{a.seq}", times.show(a.at, "full"), a.item, a.who, a.decision, a.signature, a.reason)
        for a in facts.approvals
    ]


def _step_rows(facts: ReleaseFacts, times: TimeFormat) -> list[tuple[object, ...]]:
    return [
        (
            f"#{s.started_seq}",
            s.item,
            times.show(s.started_at, "full"),
            s.outcome,
            "" if s.seconds is None else f"{s.seconds:g}",
            s.error,
        )
        for s in facts.steps
    ]


def _notice_rows(facts: ReleaseFacts) -> list[tuple[object, ...]]:
    return [(f"#{seq}", channel, title, state) for seq, channel, title, state in facts.notices]


def audit_head_text(facts: ReleaseFacts) -> str:
    seq, digest = facts.head
    return f"audit log head #{seq} sha256 {digest}"


def to_markdown(facts: ReleaseFacts, times: TimeFormat = UTC_TIMES) -> str:
    """The report in Markdown, its moments as ``times`` writes them (the zone in each head)."""
    r = facts.release
    t0, created = times.show(r.t0, "minute"), times.show(r.created_at, "full")
    out = [
        f"# リリース報告書 / Release report: {r.version} ({r.environment})",
        "",
        f"- Release: {r.id}, plan {r.plan}, T-0 {t0}" + (" (REHEARSAL)" if r.rehearsal else ""),
        f"- Status: {r.status}; created {created} by {r.created_by} (#{r.created_seq})",
        f"- Drawn from: {audit_head_text(facts)}",
        "",
        "## 進捗 / Progress",
        "",
        *_table(
            ("phase", "title", "settled"),
            [(p[0], f"{p[1]} / {p[2]}", f"{p[3]}/{p[4]}") for p in facts.phases],
        ),
        "## 承認 / Approvals",
        "",
        *_table(
            _approval_head(times),
            _approval_rows(facts, times),
        ),
        "## 作業ステップ / Steps",
        "",
        *_table(
            _step_head(times),
            _step_rows(facts, times),
        ),
        "## 逸脱 / Deviations (skips, overrides, with reasons)",
        "",
        *_table(_line_head(times), [_line_row(d, times) for d in facts.deviations]),
        "## 監視 / The watch",
        "",
    ]
    watch = facts.watch
    if watch.points:
        rows = []
        for name, pts in sorted(watch.points.items()):
            values = [v for _t, v in pts]
            unit = watch.units.get(name, "")
            limit = watch.thresholds.get(name)
            rows.append(
                (
                    name,
                    _sparkline(values),
                    f"{min(values):g}-{max(values):g} {unit}".strip(),
                    "" if limit is None else f"{limit:g} {unit}".strip(),
                    len(values),
                )
            )
        out += _table(("panel", "chart", "range", "trigger at", "points"), rows)
    else:
        out += ["(no metrics recorded)", ""]
    watch_rows = [_line_row(x, times) for x in watch.lines]
    out += _table(_line_head(times), watch_rows)[: None if watch.lines else 0]
    out += ["## 通知 / Notices", ""]
    out += _table(("#", "channel", "title", "state"), _notice_rows(facts))
    out += ["## 経過 / Timeline of decisions", ""]
    out += _table(_line_head(times), [_line_row(x, times) for x in facts.timeline])
    if facts.rollback:
        out += ["## ロールバック / Rollback", ""]
        body = facts.rollback.split("\n")
        out += ["#" + ln if ln.startswith("#") else ln for ln in body]
    return "\n".join(out).rstrip("\n") + "\n"


# --- HTML -----------------------------------------------------------------------------------

_STYLE = """
body{font-family:sans-serif;margin:2em;color:#222;max-width:70em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:90%}
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee} .claimed{color:#a60} .verified{color:#070} .failed{color:#b00}
.head{font-family:monospace;font-size:85%;word-break:break-all}
svg{background:#fafafa;border:1px solid #ccc;margin:.25em 1em .75em 0}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    cells = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = []
    for row in rows:
        tds = []
        for c in row:
            text = str(c)
            cls = (
                "claimed"
                if "(claimed)" in text
                else "verified"
                if text.startswith("verified")
                else "failed"
                if text in ("failed", "FAILED")
                else ""
            )
            tds.append(f'<td class="{cls}">{_esc(text)}</td>' if cls else f"<td>{_esc(text)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><tr>{cells}</tr>{''.join(body)}</table>"


def chart_svg(
    name: str,
    points: Sequence[tuple[float, float]],
    limit: float | None,
    unit: str = "",
    width: int = 480,
    height: int = 160,
) -> str:
    """One panel's recorded values as an inline SVG line chart (the trigger's level dashed)."""
    pad = 30
    values = [v for _t, v in points] + ([limit] if limit is not None else [])
    low, high = min(values), max(values)
    if high == low:
        high = low + 1.0
    t0, t1 = points[0][0], points[-1][0]
    tspan = (t1 - t0) or 1.0

    def xy(t: float, v: float) -> tuple[float, float]:
        x = pad + (t - t0) / tspan * (width - 2 * pad) if len(points) > 1 else width / 2
        y = height - pad - (v - low) / (high - low) * (height - 2 * pad)
        return round(x, 1), round(y, 1)

    coords = [xy(t, v) for t, v in points]
    path = " ".join(f"{x},{y}" for x, y in coords)
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="3" fill="#2060c0"/>' for x, y in coords)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(name)}">',
        f'<text x="{pad}" y="16" font-size="12">{_esc(name)} ({_esc(unit)})</text>',
        f'<text x="2" y="{height - pad}" font-size="10">{low:g}</text>',
        f'<text x="2" y="{pad}" font-size="10">{high:g}</text>',
        f'<polyline fill="none" stroke="#2060c0" stroke-width="2" points="{path}"/>',
        dots,
    ]
    if limit is not None:
        _x, y = xy(t0, limit)
        parts.append(
            f'<line x1="{pad}" y1="{y}" x2="{width - pad}" y2="{y}" stroke="#c00" '
            'stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def to_html(facts: ReleaseFacts, times: TimeFormat = UTC_TIMES) -> str:
    """The report as one HTML file that needs nothing else to open."""
    r = facts.release
    t0, created = times.show(r.t0, "minute"), times.show(r.created_at, "full")
    line_head = _line_head(times)
    watch = facts.watch
    charts = (
        "".join(
            chart_svg(name, pts, watch.thresholds.get(name), watch.units.get(name, ""))
            for name, pts in sorted(watch.points.items())
        )
        or "<p>(no metrics recorded)</p>"
    )
    line_rows = [_line_row(x, times) for x in facts.timeline]
    sections = [
        f"<h1>リリース報告書 / Release report: {_esc(r.version)} ({_esc(r.environment)})</h1>",
        "<ul>",
        f"<li>Release {_esc(r.id)}, plan {_esc(r.plan)}, T-0 {_esc(t0)}"
        + (" <strong>(REHEARSAL)</strong>" if r.rehearsal else "")
        + "</li>",
        f"<li>Status: {_esc(r.status)}; created {_esc(created)} by {_esc(r.created_by)}</li>",
        f'<li>Drawn from: <span class="head" id="audit-head">{_esc(audit_head_text(facts))}'
        "</span></li></ul>",
        "<h2>進捗 / Progress</h2>",
        _html_table(
            ("phase", "title", "settled"),
            [(p[0], f"{p[1]} / {p[2]}", f"{p[3]}/{p[4]}") for p in facts.phases],
        ),
        "<h2>承認 / Approvals</h2>",
        _html_table(
            _approval_head(times),
            _approval_rows(facts, times),
        ),
        "<h2>作業ステップ / Steps</h2>",
        _html_table(
            _step_head(times),
            _step_rows(facts, times),
        ),
        "<h2>逸脱 / Deviations</h2>",
        _html_table(line_head, [_line_row(d, times) for d in facts.deviations]),
        '<h2>監視 / The watch</h2><div id="charts">',
        charts,
        "</div>",
        _html_table(line_head, [_line_row(x, times) for x in watch.lines]) if watch.lines else "",
        "<h2>通知 / Notices</h2>",
        _html_table(
            ("#", "channel", "title", "state"), [(f"#{n[0]}", *n[1:]) for n in facts.notices]
        ),
        "<h2>経過 / Timeline of decisions</h2>",
        _html_table(line_head, line_rows),
    ]
    if facts.rollback:
        sections += ["<h2>ロールバック / Rollback</h2>", f"<pre>{_esc(facts.rollback)}</pre>"]
    title = f"Release report {r.version} {r.environment}"
    return (
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )
