"""The ``s3_sync`` step kind: upload a build directory to a bucket prefix (new and changed files,
in parallel) and, with ``delete``, delete the objects no longer in it.

Safe to run again after an interruption: the plan (:mod:`cockpit.steps.aws.s3plan`) is computed
from the bucket each time, so a second run uploads only what is still missing. No undo: a resumed
sync cannot know what the interrupted run overwrote, so "previous versions" could not be named
honestly; roll back by syncing the previous build.
"""

from __future__ import annotations

import mimetypes
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from cockpit.steps.aws.client import (
    api,
    aws_client,
    aws_error,
    call,
    error_code,
    human_bytes,
    one_line,
    pick,
)
from cockpit.steps.aws.s3plan import Remote, SyncPlan, Upload, compare, local_files
from cockpit.steps.base import (
    Cancelled,
    Preview,
    Recheck,
    StepContext,
    StepFailed,
    StepKind,
    StepTimeout,
)

if TYPE_CHECKING:
    from cockpit.plan.runs import S3SyncRun

READ_WHOLE = 16 * 1024 * 1024  # files up to this size are read into memory before the PUT
DELETE_BATCH = 1000  # delete_objects' limit
PREVIEW_LINES = 20

_mime = mimetypes.MimeTypes()  # the built-in table only: the same types on every machine
for _ext, _type in (
    (".mjs", "text/javascript"),
    (".js", "text/javascript"),
    (".map", "application/json"),
    (".webmanifest", "application/manifest+json"),
    (".wasm", "application/wasm"),
    (".woff", "font/woff"),
    (".woff2", "font/woff2"),
    (".webp", "image/webp"),
    (".avif", "image/avif"),
    (".svg", "image/svg+xml"),
):
    _mime.add_type(_type, _ext)


def content_type(name: str) -> str:
    """The Content-Type an upload gets, from the file name (octet-stream when unknown)."""
    return _mime.guess_type(name, strict=False)[0] or "application/octet-stream"


def _prefix(value: str) -> str:
    value = value.strip("/")
    return value + "/" if value else ""


class S3SyncStep(StepKind):
    kind = "s3_sync"
    undoable = False
    undo_text = (
        "no undo: a resumed sync cannot know which objects it overwrote; roll back by syncing "
        "the previous build"
    )

    def _client(self, ctx: StepContext, workers: int = 10) -> Any:
        return aws_client(ctx, "s3", pool=max(10, workers))

    def plan(self, spec: S3SyncRun, ctx: StepContext, client: Any | None = None) -> SyncPlan:
        """What a sync would do now (read-only)."""
        bucket, hint = pick(
            ctx, spec.bucket, ctx.env.aws.s3_bucket, "bucket", "s3_bucket", "S3 bucket"
        )
        prefix = _prefix(ctx.render(spec.prefix))
        source = ctx.resolve(spec.source)
        if not source.is_dir():
            raise StepFailed(
                f"s3_sync source {source}: no such directory (source in the step; relative to "
                "the config file's directory)"
            )
        client = client or self._client(ctx, spec.workers)
        files = local_files(source)
        remote = self._list(client, bucket, prefix, hint)
        return compare(bucket, prefix, source, files, remote, delete=spec.delete)

    def _list(self, client: Any, bucket: str, prefix: str, hint: str) -> dict[str, Remote]:
        from botocore.exceptions import BotoCoreError, ClientError

        found: dict[str, Remote] = {}
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents", ()):
                    key = obj["Key"]
                    found[key] = Remote(
                        key, int(obj.get("Size", 0)), obj.get("ETag", "").strip('"')
                    )
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucket":
                raise StepFailed(f"S3 bucket {bucket}: not found ({hint})") from None
            raise aws_error(exc, f"S3 bucket {bucket}") from None
        except BotoCoreError as exc:
            raise aws_error(exc, f"S3 bucket {bucket}") from None
        return found

    def preview(self, spec: S3SyncRun, ctx: StepContext) -> Preview:
        plan = self.plan(spec, ctx)
        calls = [api("s3.list_objects_v2", Bucket=plan.bucket, Prefix=plan.prefix)]
        if plan.uploads:
            calls.append(
                f"s3.put_object(Bucket={plan.bucket!r}, Key={plan.prefix!r} + path, Body=file, "
                f"ContentType=by extension) x {len(plan.uploads)} "
                f"({human_bytes(plan.upload_bytes)}, {spec.workers} in parallel)"
            )
        if plan.deletes:
            batches = -(-len(plan.deletes) // DELETE_BATCH)
            calls.append(
                f"s3.delete_objects(Bucket={plan.bucket!r}, Delete={{'Objects': [...], "
                f"'Quiet': True}}) x {batches} ({len(plan.deletes)} keys, "
                f"{human_bytes(plan.delete_bytes)})"
            )
        lines = [f"{plan.source} -> {plan.where} ({plan.files} files)"]
        rows = [(f"upload {u.reason}", u.key, u.size) for u in plan.uploads]
        rows += [("delete", d.key, d.size) for d in plan.deletes]
        width = max((len(r[0]) for r in rows), default=0)
        for action, key, size in rows[:PREVIEW_LINES]:
            lines.append(f"  {action.ljust(width)}  {key}  {human_bytes(size)}")
        if len(rows) > PREVIEW_LINES:
            lines.append(f"  ... and {len(rows) - PREVIEW_LINES} more")
        lines.append(plan.totals() if not plan.empty else "nothing to upload or delete")
        summary = (
            f"sync {plan.source.name}/ to {plan.where}: {plan.totals()}"
            if not plan.empty
            else f"{plan.where} already matches {plan.source.name}/ ({plan.files} files)"
        )
        return Preview(summary=summary, calls=calls, lines=lines, state=plan.counts())

    def run(self, spec: S3SyncRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        client = self._client(ctx, spec.workers)
        plan = self.plan(spec, ctx, client)
        outcome.update(plan.counts(), uploaded=0, uploaded_bytes=0, deleted=0)
        if plan.empty:
            ctx.output(f"{plan.where} already matches {plan.source} ({plan.files} files)")
            return
        ctx.output(f"{plan.source} -> {plan.where}: {plan.totals()}")
        if plan.uploads:
            self._upload(client, plan, spec.workers, ctx, outcome)
        if plan.deletes:
            self._delete(client, plan, ctx, outcome)

    def _upload(
        self, client: Any, plan: SyncPlan, workers: int, ctx: StepContext, outcome: dict[str, Any]
    ) -> None:
        """Parallel PUTs: ``workers`` threads take the next file from one list and report each
        result on a queue; this thread reports progress and stops them on cancel or timeout."""
        todo = iter(plan.uploads)
        todo_lock = threading.Lock()
        stop = threading.Event()
        results: queue.Queue[tuple[Upload, BaseException | None]] = queue.Queue()

        def work() -> None:
            while not stop.is_set():
                with todo_lock:
                    item = next(todo, None)
                if item is None:
                    return
                try:
                    self._put(client, plan.bucket, item)
                except BaseException as exc:  # reported to the main thread
                    results.put((item, exc))
                    return
                results.put((item, None))

        threads = [
            threading.Thread(target=work, name=f"s3sync-{n}", daemon=True)
            for n in range(min(workers, len(plan.uploads)))
        ]
        for thread in threads:
            thread.start()
        total, total_bytes = len(plan.uploads), plan.upload_bytes
        done = done_bytes = 0
        failure: tuple[Upload, BaseException] | None = None
        shown = time.monotonic()
        stopping: StepFailed | None = None
        try:
            while done < total:
                try:
                    item, error = results.get(timeout=0.2)
                except queue.Empty:
                    if not any(t.is_alive() for t in threads) and results.empty():
                        break
                else:
                    if error is not None:
                        failure = (item, error)
                        break
                    done += 1
                    done_bytes += item.size
                try:
                    ctx.check()
                except StepFailed as exc:
                    stopping = exc
                    break
                if time.monotonic() - shown >= 0.5:
                    shown = time.monotonic()
                    ctx.output(self._progress(done, total, done_bytes, total_bytes))
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        # Uploads that finished while the threads were stopping.
        while True:
            try:
                item, error = results.get_nowait()
            except queue.Empty:
                break
            if error is None:
                done += 1
                done_bytes += item.size
            elif failure is None:
                failure = (item, error)
        outcome.update(uploaded=done, uploaded_bytes=done_bytes)
        ctx.output(self._progress(done, total, done_bytes, total_bytes))
        if failure is not None:
            item, error = failure
            if isinstance(error, StepFailed):
                raise error
            raise aws_error(
                error, f"S3 upload of {item.path.name} to s3://{plan.bucket}/{item.key}"
            )
        left = f"after {done} of {total} uploads; run again to upload the {total - done} left"
        if isinstance(stopping, Cancelled):
            raise Cancelled(f"cancelled by the operator {left}")
        if stopping is not None:
            raise StepTimeout(f"S3 sync to {plan.where}: timed out {left}")
        if done < total:
            raise StepFailed(f"S3 sync to {plan.where}: stopped {left}")

    @staticmethod
    def _progress(done: int, total: int, done_bytes: int, total_bytes: int) -> str:
        return (
            f"uploaded {done}/{total} files, {human_bytes(done_bytes)}/{human_bytes(total_bytes)}"
        )

    @staticmethod
    def _put(client: Any, bucket: str, item: Upload) -> None:
        kind = content_type(item.path.name)
        if item.size <= READ_WHOLE:
            client.put_object(
                Bucket=bucket, Key=item.key, Body=item.path.read_bytes(), ContentType=kind
            )
            return
        with item.path.open("rb") as body:
            client.put_object(Bucket=bucket, Key=item.key, Body=body, ContentType=kind)

    def _delete(
        self, client: Any, plan: SyncPlan, ctx: StepContext, outcome: dict[str, Any]
    ) -> None:
        deleted = 0
        for start in range(0, len(plan.deletes), DELETE_BATCH):
            ctx.check()
            batch = plan.deletes[start : start + DELETE_BATCH]
            answer = call(
                f"S3 bucket {plan.bucket}",
                client.delete_objects,
                Bucket=plan.bucket,
                Delete={"Objects": [{"Key": d.key} for d in batch], "Quiet": True},
            )
            errors = answer.get("Errors") or []
            deleted += len(batch) - len(errors)
            outcome["deleted"] = deleted
            ctx.output(f"deleted {deleted}/{len(plan.deletes)} objects")
            if errors:
                first = errors[0]
                raise StepFailed(
                    one_line(
                        f"S3 delete of s3://{plan.bucket}/{first.get('Key')}: "
                        f"{first.get('Code')}: {first.get('Message')} "
                        f"({len(errors)} keys not deleted)"
                    )
                )

    def verify(self, spec: S3SyncRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        plan = self.plan(spec, ctx)
        if not plan.empty:
            first = (plan.uploads or plan.deletes)[0].key
            raise StepFailed(
                f"S3 {plan.where}: still differs from {plan.source} after the sync: "
                f"{plan.totals()} (first: {first})"
            )
        outcome["verified_objects"] = plan.files

    def recheck(self, spec: S3SyncRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        plan = self.plan(spec, ctx)
        if plan.empty:
            return Recheck(
                True, f"{plan.where} matches {plan.source} ({plan.files} files)", plan.counts()
            )
        return Recheck(
            False,
            f"{plan.where}: {plan.totals()} left; run again does only those",
            plan.counts(),
        )
