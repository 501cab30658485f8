"""The plan of an ``s3_sync``: what to upload and what to delete so that a bucket prefix matches a
build directory, computed from the directory and the bucket's listing each time (read-only).

A file counts as changed when its size differs or its MD5 differs from the object's ETag (for a
multipart ETag, the MD5 of 8 MiB parts, as the AWS CLI uploads; objects encrypted with SSE-KMS
have ETags that are not MD5s and are always uploaded again).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cockpit.steps.aws.client import human_bytes
from cockpit.steps.base import StepFailed

MULTIPART_CHUNK = 8 * 1024 * 1024  # the AWS CLI's default part size


@dataclass(frozen=True)
class Upload:
    key: str
    path: Path
    size: int
    reason: str  # "new" or "changed"


@dataclass(frozen=True)
class Remote:
    key: str
    size: int
    etag: str


@dataclass
class SyncPlan:
    """What a sync will do: ``uploads`` (new and changed files) and ``deletes`` (objects no longer
    in the source, only with ``delete``)."""

    bucket: str
    prefix: str
    source: Path
    files: int
    remote_objects: int
    uploads: list[Upload] = field(default_factory=list)
    deletes: list[Remote] = field(default_factory=list)

    @property
    def upload_bytes(self) -> int:
        return sum(u.size for u in self.uploads)

    @property
    def delete_bytes(self) -> int:
        return sum(d.size for d in self.deletes)

    @property
    def empty(self) -> bool:
        return not self.uploads and not self.deletes

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def counts(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "source": str(self.source),
            "files": self.files,
            "remote_objects": self.remote_objects,
            "uploads": len(self.uploads),
            "new": sum(1 for u in self.uploads if u.reason == "new"),
            "changed": sum(1 for u in self.uploads if u.reason == "changed"),
            "upload_bytes": self.upload_bytes,
            "deletes": len(self.deletes),
            "delete_bytes": self.delete_bytes,
            "unchanged": self.files - len(self.uploads),
        }

    def totals(self) -> str:
        c = self.counts()
        return (
            f"{c['uploads']} uploads ({human_bytes(c['upload_bytes'])}: {c['new']} new, "
            f"{c['changed']} changed), {c['deletes']} deletions "
            f"({human_bytes(c['delete_bytes'])}), {c['unchanged']} unchanged"
        )


def file_etag(path: Path, size: int, parts: int) -> str:
    """The ETag S3 gives ``path`` uploaded in one part (``parts`` <= 0: its MD5) or in ``parts``
    parts of :data:`MULTIPART_CHUNK` (MD5 of the parts' MD5s, ``-N``)."""
    with path.open("rb") as handle:
        if parts <= 0:
            digest = hashlib.md5(usedforsecurity=False)
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
            return digest.hexdigest()
        sums = b""
        while chunk := handle.read(MULTIPART_CHUNK):
            sums += hashlib.md5(chunk, usedforsecurity=False).digest()
        return f"{hashlib.md5(sums, usedforsecurity=False).hexdigest()}-{parts}"


def _same_content(path: Path, size: int, etag: str) -> bool:
    if "-" in etag:
        count = etag.partition("-")[2]
        if not count.isdigit() or -(-size // MULTIPART_CHUNK) != int(count):
            return False
        return file_etag(path, size, int(count)) == etag
    return file_etag(path, size, 0) == etag


def local_files(source: Path) -> dict[str, tuple[Path, int]]:
    """Relative POSIX path -> (path, size) of every file under ``source`` (links to files
    followed, links to directories not)."""
    found: dict[str, tuple[Path, int]] = {}
    for root, dirs, names in os.walk(source):
        dirs.sort()
        for name in sorted(names):
            path = Path(root, name)
            try:
                info = path.stat()
            except OSError:
                raise StepFailed(
                    f"s3_sync source {path}: cannot read it (a broken link?); fix the build "
                    "directory"
                ) from None
            if not os.path.isfile(path):
                continue
            found[path.relative_to(source).as_posix()] = (path, info.st_size)
    return found


def compare(
    bucket: str,
    prefix: str,
    source: Path,
    files: dict[str, tuple[Path, int]],
    remote: dict[str, Remote],
    *,
    delete: bool,
) -> SyncPlan:
    """The plan that makes ``remote`` (the objects under ``prefix``) match ``files`` (from
    :func:`local_files`): new and changed files to upload and, with ``delete``, objects to
    delete."""
    plan = SyncPlan(bucket, prefix, source, len(files), len(remote))
    for rel, (path, size) in files.items():
        key = prefix + rel
        have = remote.get(key)
        if have is None:
            plan.uploads.append(Upload(key, path, size, "new"))
        elif have.size != size or not _same_content(path, size, have.etag):
            plan.uploads.append(Upload(key, path, size, "changed"))
    if delete:
        wanted = {prefix + rel for rel in files}
        plan.deletes = [r for key, r in sorted(remote.items()) if key not in wanted]
    return plan
