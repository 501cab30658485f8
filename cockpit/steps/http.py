"""The ``http_checks`` step kind: GET a list of endpoints (the service's health endpoint and the
API it serves) and require each to answer its status within its maximum latency.

A round GETs every check in order; the step passes on the first round where all pass, and tries
``attempts`` rounds ``interval`` seconds apart (services take a moment after a restart). Each
request has its own total deadline (the check's maximum latency plus a margin, never past the
step's deadline), on the whole answer and not only on each read, and runs beside a watcher so a
cancel stops the step within a tenth of a second. It changes nothing, so it has no undo;
re-checking it is running one round.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from cockpit.events import redact_text
from cockpit.plan.runs import HttpCheck, HttpChecksRun, StepRun
from cockpit.steps.base import Preview, Recheck, StepContext, StepFailed, StepKind
from cockpit.urls import redact_url

if TYPE_CHECKING:
    import httpx

    from cockpit.config import EnvironmentConfig

# A slow answer is still waited for this long past its maximum latency, so the line can say how
# slow it was; past that the request is abandoned as timed out.
GRACE_S = 1.0


@dataclass
class CheckResult:
    """One GET of one round."""

    check: HttpCheck
    url: str
    status: int | None = None
    elapsed_ms: float | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return (
            not self.error
            and self.status == self.check.status
            and self.elapsed_ms is not None
            and self.elapsed_ms <= self.check.max_latency_ms
        )

    def line(self) -> str:
        """``GET /health 200 12 ms ok``, ``GET /api/v1/datasets 500 (expected 200)``."""
        head = f"GET {redact_text(self.check.url)}"
        if self.error:
            return f"{head} {self.error}"
        if self.status != self.check.status:
            return f"{head} {self.status} (expected {self.check.status})"
        ms = f"{self.elapsed_ms:.0f} ms"
        if not self.ok:
            return f"{head} {self.status} {ms} (max {self.check.max_latency_ms:g} ms)"
        return f"{head} {self.status} {ms} ok"

    def record(self) -> dict[str, Any]:
        return {
            "url": redact_text(self.url),
            "expected": self.check.status,
            "status": self.status,
            "elapsed_ms": None if self.elapsed_ms is None else round(self.elapsed_ms, 1),
            "max_latency_ms": self.check.max_latency_ms,
            "ok": self.ok,
            "error": self.error,
        }


class HttpChecksStep(StepKind):
    kind = "http_checks"
    undoable = False

    def env_defaults(self, run: StepRun, env: EnvironmentConfig) -> StepRun:
        """Checks without a ``base_url`` of their own go to the environment's ``app_url``."""
        if isinstance(run, HttpChecksRun) and not run.base_url and env.app_url:
            run = msgspec.structs.replace(run, base_url=env.app_url)
        return run

    def preview(self, spec: HttpChecksRun, ctx: StepContext) -> Preview:
        urls = [full_url(spec, check, ctx) for check in spec.checks]
        calls = [f"GET {redact_text(url)}" for url in urls]
        lines = [
            f"GET {redact_text(url)} -> {check.status} within {check.max_latency_ms:g} ms"
            for url, check in zip(urls, spec.checks, strict=True)
        ]
        lines.append(
            f"up to {spec.attempts} attempt(s), {spec.interval:g} s apart, "
            f"until every check passes (timeout {spec.timeout:g} s)"
        )
        return Preview(
            summary=f"check {len(urls)} endpoint(s), up to {spec.attempts} attempt(s)",
            calls=calls,
            lines=lines,
            state={"urls": [redact_text(url) for url in urls]},
        )

    def run(self, spec: HttpChecksRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        results: list[CheckResult] = []
        for attempt in range(1, spec.attempts + 1):
            results = self._round(spec, ctx, emit=True)
            outcome["attempts"] = attempt
            outcome["checks"] = [result.record() for result in results]
            failed = [result for result in results if not result.ok]
            if not failed:
                ctx.output(f"attempt {attempt}/{spec.attempts}: all {len(results)} checks passed")
                return
            ctx.output(
                f"attempt {attempt}/{spec.attempts}: {len(failed)} of {len(results)} checks failed"
                + (f"; next in {spec.interval:g} s" if attempt < spec.attempts else "")
            )
            if attempt < spec.attempts:
                ctx.sleep(spec.interval)
        failed = [result for result in results if not result.ok]
        raise StepFailed(
            f"{len(failed)} of {len(results)} checks failed after {spec.attempts} attempt(s): "
            f"{failed[0].line()}"
        )

    def recheck(self, spec: HttpChecksRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        results = self._round(spec, ctx, emit=False)
        failed = [result for result in results if not result.ok]
        details = {"checks": [result.record() for result in results]}
        if failed:
            return Recheck(
                False, f"{len(failed)} of {len(results)} failing: {failed[0].line()}", details
            )
        return Recheck(True, f"all {len(results)} checks pass", details)

    def _round(self, spec: HttpChecksRun, ctx: StepContext, *, emit: bool) -> list[CheckResult]:
        import httpx

        results: list[CheckResult] = []
        with httpx.Client(follow_redirects=False, trust_env=False) as client:
            for check in spec.checks:
                ctx.check()
                result = _get(client, check, full_url(spec, check, ctx), ctx)
                results.append(result)
                if emit:
                    ctx.output(result.line())
        return results


def full_url(spec: HttpChecksRun, check: HttpCheck, ctx: StepContext) -> str:
    """The check's URL: absolute as written, or its path joined to the step's ``base_url``."""
    url = ctx.render(check.url)
    if "://" in url:
        return url
    base = ctx.render(spec.base_url)
    if not base:
        raise StepFailed(
            f"check {redact_url(url)}: a path needs the step's base_url (or write a full URL)"
        )
    return base.rstrip("/") + "/" + url.lstrip("/")


def _get(client: httpx.Client, check: HttpCheck, url: str, ctx: StepContext) -> CheckResult:
    """One GET in a worker thread, waited for in short slices so a cancel is seen at once.

    The limit is a total deadline on the whole answer, not only on each read (httpx's timeout is
    per read: a server sending one byte a second would hold the check forever): the wait gives up
    at the limit, and the worker streams the answer and stops reading at the same limit."""
    import httpx

    limit = min(check.max_latency_ms / 1000 + GRACE_S, ctx.remaining())
    late = f"no answer within {limit * 1000:.0f} ms (max {check.max_latency_ms:g} ms)"
    answer = CheckResult(check, url)  # written by the worker only
    done = threading.Event()

    def fetch() -> None:
        started = time.perf_counter()
        try:
            with client.stream("GET", url, timeout=httpx.Timeout(limit)) as response:
                for _ in response.iter_raw():
                    if time.perf_counter() - started > limit:
                        raise httpx.ReadTimeout(late)
            answer.status = response.status_code
            answer.elapsed_ms = (time.perf_counter() - started) * 1000
        except httpx.TimeoutException:
            answer.error = late
        except Exception as exc:  # an httpx error, or the client closed under a given-up GET
            answer.error = redact_text(
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'failed'}"
            )
        finally:
            done.set()

    ends = time.monotonic() + limit
    threading.Thread(target=fetch, name="http-check", daemon=True).start()
    while not done.wait(0.05):
        ctx.check()
        if time.monotonic() > ends:
            return CheckResult(check, url, error=late)
    return answer
