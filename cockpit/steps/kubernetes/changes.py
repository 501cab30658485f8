"""The changes a step would make, looked at first: for ``set_image``, ``restart`` and ``apply``
(a manifest of ConfigMaps and Deployments) the :class:`Change` to make now, or none where the
cluster already is as wanted (noting when an interrupted run of this very step did it), and the
diff a person reviews (labels, annotations and spec or data; never status).
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cockpit.steps.base import StepContext, StepFailed
from cockpit.steps.kubernetes.api import Change, KubeApi
from cockpit.steps.kubernetes.rules import (
    CHANGE_CAUSE,
    RESTARTED_AT,
    Obj,
    image_repository,
    images,
    prune,
)

if TYPE_CHECKING:
    from cockpit.plan.runs import KubernetesRun

RESUME = "resume (spec.paused = false)"


def change_cause(ctx: StepContext) -> str:
    """What ``kubectl rollout history`` shows for a revision this cockpit made."""
    return f"{ctx.version} by {ctx.operator} (release {ctx.release_id}, step {ctx.item_id})"


def _meaningful(obj: Obj | None, kind: str) -> Obj:
    """The part of an object a person reviews: labels, annotations and spec (Deployment) or
    data (ConfigMap); never status, managedFields or resourceVersion."""
    if obj is None:
        return {}
    meta = obj.get("metadata") or {}
    shown: Obj = {"metadata": {k: meta[k] for k in ("labels", "annotations") if meta.get(k)}}
    if kind == "deployment":
        shown["spec"] = obj.get("spec") or {}
    else:
        shown["data"] = obj.get("data") or {}
        if obj.get("binaryData"):
            shown["binaryData"] = {
                k: f"<{len(v)} base64 bytes>" for k, v in obj["binaryData"].items()
            }
    return shown


def diff(change: Change, after: Obj | None) -> list[str]:
    import yaml

    def lines(obj: Obj | None) -> list[str]:
        if obj is None:
            return []
        text = yaml.safe_dump(
            _meaningful(obj, change.kind), sort_keys=True, default_flow_style=False
        )
        return text.splitlines()

    return list(
        difflib.unified_diff(
            lines(change.before),
            lines(after),
            fromfile=f"{change.ref} (live)" if change.before else "/dev/null",
            tofile=f"{change.ref} (after)" if after else "/dev/null",
            lineterm="",
            n=3,
        )
    )


def image_change(
    dep: Obj, spec: KubernetesRun, ctx: StepContext, cause: str, namespace: str
) -> Change:
    name = dep["metadata"]["name"]
    image = ctx.render(spec.image).strip()
    if not image:
        raise StepFailed(
            f"kubernetes set_image on deployment/{name}: no image (give the step an image, or "
            f"set kubernetes.image of environment {ctx.env_name} in cockpit.toml)"
        )
    before = images(dep)
    if spec.container:
        if spec.container not in before:
            raise StepFailed(
                f"deployment/{name} in namespace {namespace}: no container {spec.container!r} "
                f"(it has: {', '.join(f'{c}={i}' for c, i in before.items()) or 'none'})"
            )
        targets = [spec.container]
    else:
        repo = image_repository(image)
        targets = [c for c, img in before.items() if image_repository(img) == repo]
        if not targets:
            raise StepFailed(
                f"deployment/{name} in namespace {namespace}: no container runs {repo} "
                f"(containers: {', '.join(f'{c}={i}' for c, i in before.items()) or 'none'}); "
                "name one with container in the step"
            )
    after = {**before, **{c: image for c in targets}}
    shown = ", ".join(f"{c}={image}" for c in targets)
    if all(before[c] == image for c in targets):
        ours = (dep["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) == cause
        return Change(
            "deployment",
            name,
            "PATCH",
            before=dep,
            target_images=after,
            ours=ours,
            note=f"already runs {shown}; nothing to patch",
        )
    body = {
        "metadata": {"annotations": {CHANGE_CAUSE: cause}},
        "spec": {
            "template": {"spec": {"containers": [{"name": c, "image": image} for c in targets]}}
        },
    }
    changed = ", ".join(f"{c} {before[c]} -> {image}" for c in targets if before[c] != image)
    return Change(
        "deployment",
        name,
        "PATCH",
        "strategic-merge-patch",
        body,
        dep,
        note=f"set image {changed}",
        target_images=after,
    )


def restart_change(dep: Obj, cause: str) -> Change:
    name = dep["metadata"]["name"]
    if (dep["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) == cause:
        return Change(
            "deployment",
            name,
            "PATCH",
            before=dep,
            ours=True,
            note="already restarted by this step; nothing to patch",
        )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "metadata": {"annotations": {CHANGE_CAUSE: cause}},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}},
    }
    return Change(
        "deployment",
        name,
        "PATCH",
        "strategic-merge-patch",
        body,
        dep,
        note=f"restart ({RESTARTED_AT} = {now})",
    )


def manifest(spec: KubernetesRun, ctx: StepContext, namespace: str) -> list[Obj]:
    """The manifest's documents: ConfigMaps and Deployments of this namespace only."""
    import yaml

    if not spec.manifest:
        raise StepFailed("kubernetes apply: manifest is empty in the step")
    path = ctx.resolve(spec.manifest)
    try:
        text = path.read_text(encoding="utf-8")
        docs = [d for d in yaml.safe_load_all(ctx.render(text)) if d is not None]
    except OSError as exc:
        raise StepFailed(f"{path}: cannot read the manifest ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise StepFailed(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not docs:
        raise StepFailed(f"{path}: the manifest holds no objects")
    allowed = {"ConfigMap": "v1", "Deployment": "apps/v1"}
    for number, doc in enumerate(docs, start=1):
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind not in allowed:
            raise StepFailed(
                f"{path}: document {number}: kind {kind!r} is not supported here "
                "(ConfigMap or Deployment)"
            )
        if doc.get("apiVersion") != allowed[kind]:
            raise StepFailed(
                f"{path}: document {number}: {kind} needs apiVersion {allowed[kind]} "
                f"(found {doc.get('apiVersion')!r})"
            )
        meta = doc.get("metadata") or {}
        if not meta.get("name"):
            raise StepFailed(f"{path}: document {number}: metadata.name is missing")
        if meta.get("namespace", namespace) != namespace:
            raise StepFailed(
                f"{path}: {kind.lower()}/{meta['name']} names namespace {meta['namespace']}, "
                f"but the environment's namespace is {namespace}"
            )
        doc["metadata"] = {**meta, "namespace": namespace}
        doc.pop("status", None)
    return docs


def configmap_change(doc: Obj, current: Obj | None) -> Change:
    name = doc["metadata"]["name"]
    want = {str(k): str(v) for k, v in (doc.get("data") or {}).items()}
    if current is None:
        return Change(
            "configmap",
            name,
            "POST",
            body={**doc, "data": want},
            before=None,
            note=f"create with {len(want)} keys",
        )
    have = current.get("data") or {}
    if have == want:
        return Change(
            "configmap", name, "PATCH", before=current, note="data already as in the manifest"
        )
    data_patch: dict[str, str | None] = {k: v for k, v in want.items() if have.get(k) != v}
    data_patch.update({k: None for k in have if k not in want})
    body: Obj = {"data": data_patch}
    meta = doc.get("metadata") or {}
    labels = {k: v for k, v in (meta.get("labels") or {}).items()}
    if labels:
        body["metadata"] = {"labels": labels}
    changed = sorted(data_patch)
    return Change(
        "configmap",
        name,
        "PATCH",
        "merge-patch",
        body,
        current,
        note=f"change keys {', '.join(changed)}",
    )


def paused(dep: Obj | None) -> bool:
    return bool(dep is not None and (dep.get("spec") or {}).get("paused"))


def refusal(dep: Obj, namespace: str) -> Change:
    """A paused Deployment without ``resume_paused``: refused before any write. Patching it
    would arm the new template for whoever resumes it, unwatched."""
    name = dep["metadata"]["name"]
    line = (
        f"deployment/{name} in namespace {namespace} is paused: refused before any change; "
        f"resume it with kubectl rollout resume deployment/{name} -n {namespace}, or set "
        "resume_paused: true on the step"
    )
    return Change("deployment", name, "PATCH", before=dep, note=line, refused=line)


def resume_change(change: Change) -> Change:
    """``change`` of a paused Deployment with ``resume_paused``: resumed (``spec.paused:
    false``) in the same patch, so its rollout starts and is watched."""
    change.resumes = True
    if change.body is None:
        change.body = {"spec": {"paused": False}}
        change.patch_type = "strategic-merge-patch"
        change.note = f"{RESUME}; {change.note.split(';')[0]}"
    else:
        change.body["spec"]["paused"] = False
        change.note = f"{change.note}; {RESUME}"
    return change


def pause_change(name: str) -> Change:
    """A Deployment paused again (``spec.paused: true``): undo of a step that resumed it."""
    body = {"spec": {"paused": True}}
    return Change("deployment", name, "PATCH", "strategic-merge-patch", body, note="pause")


def apply_deployment_change(
    doc: Obj, current: Obj | None, cause: str, api: KubeApi, resume: bool = False
) -> Change:
    """The manifest's Deployment created, or patched (with ``resume``, resumed as well)."""
    name = doc["metadata"]["name"]
    meta = doc["metadata"]
    annotations = {**(meta.get("annotations") or {}), CHANGE_CAUSE: cause}
    if current is None:
        body = {**doc, "metadata": {**meta, "annotations": annotations}}
        return Change(
            "deployment",
            name,
            "POST",
            body=body,
            before=None,
            note="create",
            target_images=images(doc),
        )
    body = {
        "metadata": {"labels": meta.get("labels") or {}, "annotations": annotations},
        "spec": doc.get("spec") or {},
    }
    if not body["metadata"]["labels"]:
        del body["metadata"]["labels"]
    if resume:
        body["spec"] = {**body["spec"], "paused": False}
    change = Change(
        "deployment",
        name,
        "PATCH",
        "strategic-merge-patch",
        body,
        current,
        note="patch as in the manifest" + (f"; {RESUME}" if resume else ""),
        resumes=resume,
    )
    after = api.apply(change, dry_run=True)
    change.target_images = images(after)

    def shown(obj: Obj) -> Obj:
        view = _meaningful(obj, "deployment")
        view["metadata"].get("annotations", {}).pop(CHANGE_CAUSE, None)
        return view

    if prune(shown(after)) == prune(shown(current)):
        ours = (current["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) == cause
        return Change(
            "deployment",
            name,
            "PATCH",
            before=current,
            target_images=change.target_images,
            ours=ours,
            note="already as in the manifest; nothing to patch",
        )
    return change
