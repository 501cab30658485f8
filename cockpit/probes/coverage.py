"""The ``coverage`` probe: a coverage report says at least N % of the code is covered.

Formats, told apart by the first byte: coverage.py's JSON (``coverage json``: ``totals``), and
Cobertura XML (``coverage xml``, and the Java / JavaScript tools that write Cobertura). The total
is coverage.py's: covered lines and branches over lines and branches
(``lines-covered + branches-covered`` over ``lines-valid + branches-valid`` in XML; the root's
``line-rate`` when those counts are absent). Only the XML root is read, so a large report costs
little.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cockpit.plan.probes import CoverageProbe
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result

# A coverage.py JSON report of a large project is tens of megabytes; refuse absurd files.
MAX_JSON_BYTES = 512 * 1024 * 1024


class CoverageProbeKind(ProbeKind):
    name = "coverage"

    def preview(self, spec: CoverageProbe, ctx: ProbeContext) -> str:
        return f"coverage report {ctx.resolve(spec.path)}: at least {spec.min_percent:g} %"

    def run(self, spec: CoverageProbe, ctx: ProbeContext) -> Result:
        path = ctx.resolve(spec.path)
        percent, details = read_report(path)
        details = {"path": str(path), "percent": round(percent, 2), **details}
        seen = f"{percent:.2f} % covered"
        expected = f"at least {spec.min_percent:g} %"
        details["min_percent"] = spec.min_percent
        if percent < spec.min_percent:
            return Result(False, seen, expected, details, line=f"{path}: {seen}, {expected}")
        return Result(True, seen, expected, details)


def read_report(path: Path) -> tuple[float, dict[str, Any]]:
    """The total percent of the report at ``path`` and the counts it was made from."""
    try:
        with path.open("rb") as handle:
            first = handle.read(4096).lstrip()[:1]
    except FileNotFoundError:
        raise CannotLook(f"{path}: does not exist (coverage json or xml writes it)") from None
    except OSError as exc:
        raise CannotLook(f"{path}: cannot read ({exc.strerror or exc})") from None
    if first == b"{":
        return _json(path)
    if first == b"<":
        return _xml(path)
    raise CannotLook(f"{path}: not a coverage report (coverage.py JSON or Cobertura XML)")


def _json(path: Path) -> tuple[float, dict[str, Any]]:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise CannotLook(f"{path}: larger than {MAX_JSON_BYTES // 2**20} MB")
    try:
        totals = json.loads(path.read_bytes())["totals"]
        covered = int(totals["covered_lines"]) + int(totals.get("covered_branches", 0))
        total = int(totals["num_statements"]) + int(totals.get("num_branches", 0))
    except (ValueError, KeyError, TypeError):
        raise CannotLook(f"{path}: not a coverage.py JSON report (no totals)") from None
    percent = 100.0 * covered / total if total else 100.0
    return percent, {"format": "coverage.py json", "covered": covered, "total": total}


def _xml(path: Path) -> tuple[float, dict[str, Any]]:
    import xml.etree.ElementTree as ET

    try:
        _, root = next(iter(ET.iterparse(path, events=("start",))))
    except (ET.ParseError, StopIteration) as exc:
        raise CannotLook(f"{path}: not a Cobertura XML report ({exc})") from None
    if root.tag != "coverage":
        raise CannotLook(f"{path}: not a Cobertura XML report (root <{root.tag}>)")
    attrs = root.attrib
    try:
        if "lines-valid" in attrs and "lines-covered" in attrs:
            covered = int(attrs["lines-covered"]) + int(attrs.get("branches-covered", 0))
            total = int(attrs["lines-valid"]) + int(attrs.get("branches-valid", 0))
            percent = 100.0 * covered / total if total else 100.0
            return percent, {"format": "cobertura xml", "covered": covered, "total": total}
        return 100.0 * float(attrs["line-rate"]), {"format": "cobertura xml"}
    except (KeyError, ValueError):
        raise CannotLook(f"{path}: a Cobertura report without line-rate or counts") from None
