"""The ``cloudfront_invalidation`` step kind: invalidate paths in a CloudFront distribution and
poll until the invalidation completes.

Safe to run again after an interruption: the ``CallerReference`` is made from the environment,
the release, the item and the paths (:func:`caller_reference`); an existing invalidation with that
reference is found (among the distribution's 50 newest) and waited for instead of creating
another (AWS itself also answers a repeated reference with the first invalidation). No undo
(nothing to reverse).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cockpit.steps.aws.client import (
    api,
    aws_client,
    aws_error,
    call,
    digest,
    error_code,
    iso,
    pick,
    wait_loop,
)
from cockpit.steps.base import Preview, Recheck, StepContext, StepFailed, StepKind

if TYPE_CHECKING:
    from cockpit.plan.runs import CloudFrontInvalidationRun

# Invalidations looked at (newest first) for one with the step's CallerReference.
INVALIDATIONS_SEARCHED = 50


def caller_reference(ctx: StepContext, paths: list[str]) -> str:
    """The same on every run of this item of this release in this environment with these paths."""
    base = f"cockpit:{ctx.env_name}:{ctx.release_id}:{ctx.item_id}"[:110]
    return f"{base}:{digest(ctx.env_name, ctx.release_id, ctx.item_id, *paths)}"


def _done_status(status: str) -> bool:
    # AWS says "Completed"; moto says "COMPLETED".
    return status.lower() == "completed"


class CloudFrontInvalidationStep(StepKind):
    kind = "cloudfront_invalidation"
    undoable = False
    undo_text = "no undo: an invalidation only empties caches"

    def _target(self, spec: CloudFrontInvalidationRun, ctx: StepContext) -> tuple[str, str]:
        return pick(
            ctx,
            spec.distribution,
            ctx.env.aws.cloudfront_distribution,
            "distribution",
            "cloudfront_distribution",
            "CloudFront distribution",
        )

    @staticmethod
    def _paths(spec: CloudFrontInvalidationRun, ctx: StepContext) -> list[str]:
        paths = [ctx.render(p) for p in spec.paths]
        for path in paths:
            if not path.startswith("/"):
                raise StepFailed(
                    f"cloudfront_invalidation: path {path!r} must start with / (paths in the step)"
                )
        return paths

    def _distribution(self, cf: Any, dist: str, hint: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return dict(cf.get_distribution(Id=dist)["Distribution"])
        except ClientError as exc:
            if error_code(exc) == "NoSuchDistribution":
                raise StepFailed(f"CloudFront distribution {dist}: not found ({hint})") from None
            raise aws_error(exc, f"CloudFront distribution {dist}") from None
        except BotoCoreError as exc:
            raise aws_error(exc, f"CloudFront distribution {dist}") from None

    def find(self, cf: Any, dist: str, reference: str) -> dict[str, Any] | None:
        """The distribution's invalidation with ``reference``, among its newest
        :data:`INVALIDATIONS_SEARCHED`."""
        summaries: list[dict[str, Any]] = []
        marker = ""
        for _ in range(10):
            params: dict[str, Any] = {"DistributionId": dist, "MaxItems": "100"}
            if marker:
                params["Marker"] = marker
            page = call(f"CloudFront distribution {dist}", cf.list_invalidations, **params)
            listing = page.get("InvalidationList", {})
            summaries += listing.get("Items", []) or []
            marker = listing.get("NextMarker", "")
            if not listing.get("IsTruncated") or not marker:
                break
        summaries.sort(key=lambda s: iso(s.get("CreateTime")), reverse=True)
        for summary in summaries[:INVALIDATIONS_SEARCHED]:
            found = self._get(cf, dist, summary["Id"])
            if found.get("InvalidationBatch", {}).get("CallerReference") == reference:
                return found
        return None

    def _get(self, cf: Any, dist: str, ident: str) -> dict[str, Any]:
        answer = call(
            f"CloudFront invalidation {ident} of {dist}",
            cf.get_invalidation,
            DistributionId=dist,
            Id=ident,
        )
        return dict(answer["Invalidation"])

    @staticmethod
    def _batch(paths: list[str], reference: str) -> dict[str, Any]:
        return {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference}

    @staticmethod
    def _details(dist: str, inv: dict[str, Any]) -> dict[str, Any]:
        return {
            "distribution": dist,
            "invalidation_id": inv.get("Id", ""),
            "status": inv.get("Status", ""),
            "created": iso(inv.get("CreateTime")),
            "caller_reference": inv.get("InvalidationBatch", {}).get("CallerReference", ""),
        }

    def preview(self, spec: CloudFrontInvalidationRun, ctx: StepContext) -> Preview:
        cf = aws_client(ctx, "cloudfront")
        dist, hint = self._target(spec, ctx)
        paths = self._paths(spec, ctx)
        reference = caller_reference(ctx, paths)
        info = self._distribution(cf, dist, hint)
        domain = info.get("DomainName", "?")
        existing = self.find(cf, dist, reference)
        poll = f"cloudfront.get_invalidation(DistributionId={dist!r}, Id=...) until Completed"
        state = {
            "distribution": dist,
            "domain": domain,
            "paths": paths,
            "caller_reference": reference,
            "existing": existing.get("Id") if existing else None,
        }
        if existing is not None:
            return Preview(
                summary=f"CloudFront invalidation {existing['Id']} of {dist} exists "
                f"({existing.get('Status')}): wait for it",
                calls=[poll.replace("Id=...", f"Id={existing['Id']!r}")],
                lines=[
                    f"distribution {dist} ({domain})",
                    f"invalidation {existing['Id']} already created for this step: "
                    f"{existing.get('Status')}",
                    "run waits for it; nothing is created",
                ],
                state=state,
            )
        create = api(
            "cloudfront.create_invalidation",
            DistributionId=dist,
            InvalidationBatch=self._batch(paths, reference),
        )
        return Preview(
            summary=f"invalidate {', '.join(paths)} in CloudFront distribution {dist}",
            calls=[create, poll],
            lines=[
                f"distribution {dist} ({domain}): {info.get('Status', '?')}",
                f"paths: {', '.join(paths)}",
                "polled until Completed; no undo",
            ],
            state=state,
        )

    def run(
        self, spec: CloudFrontInvalidationRun, ctx: StepContext, outcome: dict[str, Any]
    ) -> None:
        cf = aws_client(ctx, "cloudfront")
        dist, hint = self._target(spec, ctx)
        paths = self._paths(spec, ctx)
        reference = caller_reference(ctx, paths)
        outcome.update(distribution=dist, caller_reference=reference)
        self._distribution(cf, dist, hint)
        inv = self.find(cf, dist, reference)
        if inv is not None:
            ctx.output(f"invalidation {inv['Id']} already created ({inv.get('Status')}); waiting")
        else:
            ctx.check()
            answer = call(
                f"CloudFront distribution {dist}",
                cf.create_invalidation,
                DistributionId=dist,
                InvalidationBatch=self._batch(paths, reference),
            )
            inv = dict(answer["Invalidation"])
            ctx.output(f"created invalidation {inv['Id']} of {', '.join(paths)} in {dist}")
        outcome["invalidation_id"] = inv["Id"]
        shown = ""
        for _ in wait_loop(ctx, f"CloudFront invalidation {inv['Id']} of {dist}"):
            status = str(inv.get("Status", ""))
            if status != shown:
                ctx.output(f"invalidation {inv['Id']}: {status}")
                shown = status
            if _done_status(status):
                break
            inv = self._get(cf, dist, inv["Id"])
        outcome.update(self._details(dist, inv))

    def verify(
        self, spec: CloudFrontInvalidationRun, ctx: StepContext, outcome: dict[str, Any]
    ) -> None:
        dist, ident = outcome.get("distribution"), outcome.get("invalidation_id")
        if not dist or not ident:
            raise StepFailed("CloudFront invalidation: the run recorded no invalidation id")
        inv = self._get(aws_client(ctx, "cloudfront"), dist, ident)
        if not _done_status(str(inv.get("Status", ""))):
            raise StepFailed(f"CloudFront invalidation {ident} of {dist}: {inv.get('Status')}")

    def recheck(
        self, spec: CloudFrontInvalidationRun, ctx: StepContext, started: dict[str, Any]
    ) -> Recheck:
        cf = aws_client(ctx, "cloudfront")
        dist, _ = self._target(spec, ctx)
        inv = self.find(cf, dist, caller_reference(ctx, self._paths(spec, ctx)))
        if inv is None:
            return Recheck(False, f"no invalidation of {dist} for this step yet; run creates it")
        details = self._details(dist, inv)
        if _done_status(str(inv.get("Status", ""))):
            return Recheck(
                True, f"CloudFront invalidation {inv['Id']} of {dist} completed", details
            )
        return Recheck(
            False,
            f"CloudFront invalidation {inv['Id']} of {dist} is "
            f"{inv.get('Status')}; run waits for it (it does not create another)",
            details,
        )
