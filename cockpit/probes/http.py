"""The ``http`` probe: a GET on a URL answers the expected status (no redirects followed, no
credentials sent). The URL is shown with any credential redacted."""

from __future__ import annotations

import time

from cockpit.plan.probes import HttpProbe
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result
from cockpit.urls import redact_url


class HttpProbeKind(ProbeKind):
    name = "http"

    def preview(self, spec: HttpProbe, ctx: ProbeContext) -> str:
        return f"GET {redact_url(spec.url)} -> {spec.status} within {spec.timeout:g} s"

    def run(self, spec: HttpProbe, ctx: ProbeContext) -> Result:
        import httpx

        url = spec.url
        started = time.perf_counter()
        try:
            response = httpx.get(url, timeout=spec.timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise CannotLook(f"GET {redact_url(url)}: {type(exc).__name__}: {exc}") from None
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        details = {"url": url, "status": response.status_code, "elapsed_ms": elapsed_ms}
        seen = f"status {response.status_code}"
        if response.status_code != spec.status:
            line = f"GET {redact_url(url)}: {seen}, expected {spec.status}"
            return Result(False, seen, f"status {spec.status}", details, line=line)
        return Result(True, seen, f"status {spec.status}", details)
