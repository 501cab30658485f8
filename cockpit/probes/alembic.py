"""The ``alembic`` probe: the application's database has no pending Alembic revision, or
exactly the pending revisions the check lists (a pre-check before the migration step). It runs
the application's own command as the ``alembic`` step kind does (:mod:`cockpit.steps.alembic`:
``alembic.command``, ``alembic.cwd``, the URL through ``alembic.database_url_env``, never
shown), and reads one ``history --indicate-current``."""

from __future__ import annotations

from cockpit.plan.probes import AlembicProbe
from cockpit.plan.runs import AlembicRun
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result


class AlembicProbeKind(ProbeKind):
    name = "alembic"

    def preview(self, spec: AlembicProbe, ctx: ProbeContext) -> str:
        return f"alembic history of ${ctx.env.alembic.database_url_env}: {_expected(spec)}"

    def run(self, spec: AlembicProbe, ctx: ProbeContext) -> Result:
        from cockpit.steps.alembic import EMPTY, AlembicStep
        from cockpit.steps.base import StepFailed

        try:
            status = AlembicStep().status(AlembicRun(timeout=ctx.remaining()), ctx.step_context())
        except StepFailed as exc:
            raise CannotLook(str(exc)) from None
        pending = [rev for rev, _msg in status.pending]
        details = {"current": status.current, "heads": status.heads, "pending": pending}
        seen = f"current {status.shown}, " + (
            f"pending {', '.join(pending)}" if pending else "no pending revision"
        )
        if not status.current and not status.heads:
            seen = f"current {EMPTY}, no revisions found"
        ok = sorted(pending) == sorted(spec.pending)
        return Result(ok, seen, _expected(spec), details)


def _expected(spec: AlembicProbe) -> str:
    if spec.pending:
        return f"exactly these pending: {', '.join(spec.pending)}"
    return "no pending revision"
