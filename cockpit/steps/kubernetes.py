"""The ``kubernetes`` step kind: set the image of Deployments, apply a manifest, restart; each
change watched until the rollout completes as ``kubectl rollout status`` would say, and undone
as ``kubectl rollout undo`` would do it.

The rules are kubectl's own, ported over the API's JSON (kubectl 1.32,
``staging/src/k8s.io/kubectl/pkg``):

- :func:`rollout_status` is ``DeploymentStatusViewer.Status`` (``polymorphichelpers/
  rollout_status.go``): complete when observedGeneration >= generation, updatedReplicas ==
  spec.replicas, no old replicas left (status.replicas == updatedReplicas) and availableReplicas
  >= updatedReplicas; failed when the Progressing condition says ``ProgressDeadlineExceeded``.
  The messages are kubectl's, word for word.
- :func:`rollback` is ``DeploymentRollbacker.Rollback`` (``rollback.go``): the ReplicaSets
  owned by the Deployment (its selector, its controller reference), the one with the wanted
  ``deployment.kubernetes.io/revision`` (0: the one before the newest), refused when paused,
  "skipped" when the template already matches, otherwise a JSON patch that puts the template
  back (minus ``pod-template-hash``) and the annotations with kubectl's ``annotationsToSkip``
  kept from the Deployment.
- :func:`rollout_history` is ``DeploymentHistoryViewer`` (``history.go``): revision and
  ``kubernetes.io/change-cause`` of each owned ReplicaSet.

Every API call has a timeout; the rollout is followed by a watch that survives its expiry
(``410 Expired``, HTTP 410, or the server closing the stream: list again and go on). The
``kubernetes`` client is imported only here, inside functions.
"""

from __future__ import annotations

import copy
import difflib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from cockpit.events import redact_text
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
    from cockpit.config import EnvironmentConfig, LoadedConfig
    from cockpit.steps.spec import KubernetesRun

Obj = dict[str, Any]

CHANGE_CAUSE = "kubernetes.io/change-cause"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
HASH_LABEL = "pod-template-hash"
# kubectl's annotationsToSkip (rollback.go): kept from the Deployment, never copied back from
# the ReplicaSet of the revision rolled back to.
ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
# A pod of the new ReplicaSet waiting for one of these will not get better by itself.
POD_FAILURES = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull")

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# A watch asks the server to end it after this long; the read timeout is a little longer.
WATCH_SECONDS = 50
# How often the pods of a rollout are looked at for CrashLoopBackOff and the like.
POD_CHECK_INTERVAL = 1.0
# How long the wait loop blocks on the watch before it looks at cancel and the deadline.
POLL = 0.25

PATCH_TYPES = {
    "strategic-merge-patch": "application/strategic-merge-patch+json",
    "merge-patch": "application/merge-patch+json",
    "json-patch": "application/json-patch+json",
}


# --- kubectl's verdict -------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutStatus:
    """What ``kubectl rollout status`` says about a Deployment: its message (kubectl's words),
    whether the rollout is complete, and whether it failed (kubectl exits with an error)."""

    message: str
    done: bool
    failed: bool = False


def rollout_status(deployment: Obj, revision: int = 0) -> RolloutStatus:
    """kubectl's ``DeploymentStatusViewer.Status`` over a Deployment as the API returns it."""
    meta = deployment.get("metadata") or {}
    name = meta.get("name", "")
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    if revision > 0:
        try:
            current = deployment_revision(deployment)
        except ValueError as exc:
            return RolloutStatus(
                f"cannot get the revision of deployment {_q(name)}: {exc}", False, True
            )
        if revision != current:
            return RolloutStatus(
                f"desired revision ({revision}) is different from the running revision ({current})",
                False,
                True,
            )
    if int(meta.get("generation") or 0) <= int(status.get("observedGeneration") or 0):
        cond = _condition(deployment, "Progressing")
        if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
            return RolloutStatus(
                f"deployment {_q(name)} exceeded its progress deadline", False, True
            )
        replicas = spec.get("replicas")
        updated = int(status.get("updatedReplicas") or 0)
        if replicas is not None and updated < int(replicas):
            return RolloutStatus(
                f"Waiting for deployment {_q(name)} rollout to finish: {updated} out of "
                f"{int(replicas)} new replicas have been updated...",
                False,
            )
        total = int(status.get("replicas") or 0)
        if total > updated:
            return RolloutStatus(
                f"Waiting for deployment {_q(name)} rollout to finish: {total - updated} old "
                "replicas are pending termination...",
                False,
            )
        available = int(status.get("availableReplicas") or 0)
        if available < updated:
            return RolloutStatus(
                f"Waiting for deployment {_q(name)} rollout to finish: {available} of "
                f"{updated} updated replicas are available...",
                False,
            )
        return RolloutStatus(f"deployment {_q(name)} successfully rolled out", True)
    return RolloutStatus("Waiting for deployment spec update to be observed...", False)


def _q(name: str) -> str:
    """Go's %q for the names Kubernetes allows."""
    return json.dumps(name)


def _condition(obj: Obj, kind: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def deployment_revision(obj: Obj) -> int:
    """The ``deployment.kubernetes.io/revision`` annotation (0 when absent), as kubectl reads
    it; :class:`ValueError` when it is not a number."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    return 0 if value is None else int(value)


def _revision_or_zero(obj: Obj) -> int:
    try:
        return deployment_revision(obj)
    except ValueError:
        return 0


# --- kubectl's ReplicaSet rules ------------------------------------------------------------------


def _prune(value: Any) -> Any:
    # Go's semantic equality treats unset, null and empty alike.
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def equal_ignore_hash(template1: Obj, template2: Obj) -> bool:
    """kubectl's ``equalIgnoreHash``: two pod templates are equal, ``pod-template-hash`` aside."""
    a, b = copy.deepcopy(template1), copy.deepcopy(template2)
    for t in (a, b):
        labels = (t.get("metadata") or {}).get("labels")
        if isinstance(labels, dict):
            labels.pop(HASH_LABEL, None)
    return bool(_prune(a) == _prune(b))


def _controlled_by(obj: Obj, owner: Obj) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    return any(
        ref.get("controller") and ref.get("uid") == uid
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
    )


def _by_age(objs: list[Obj]) -> list[Obj]:
    return sorted(
        objs,
        key=lambda o: (
            str(o["metadata"].get("creationTimestamp") or ""),
            str(o["metadata"].get("name")),
        ),
    )


def new_replicaset(deployment: Obj, replicasets: list[Obj]) -> Obj | None:
    """kubectl's ``findNewReplicaSet``: the oldest owned ReplicaSet with the Deployment's
    template."""
    template = deployment["spec"]["template"]
    for rs in _by_age(replicasets):
        if equal_ignore_hash(rs["spec"]["template"], template):
            return rs
    return None


def revision_replicaset(deployment: Obj, replicasets: list[Obj], to_revision: int) -> Obj:
    """kubectl's ``deploymentRevision``: the ReplicaSet of ``to_revision`` (0: the second
    newest revision). Raises :class:`StepFailed` with kubectl's reason when there is none."""
    name = deployment["metadata"]["name"]
    if to_revision < 0:
        raise StepFailed(f"unable to find specified revision {to_revision} in history")
    # kubectl: all the old ReplicaSets (oldest first), then the new one.
    newest = new_replicaset(deployment, replicasets)
    ordered = [rs for rs in _by_age(replicasets) if rs is not newest]
    if newest is not None:
        ordered.append(newest)
    latest_rev, previous_rev = -1, -1
    latest: Obj | None = None
    previous: Obj | None = None
    for rs in ordered:
        try:
            v = deployment_revision(rs)
        except ValueError:
            continue
        if to_revision == 0:
            if latest_rev < v:
                previous_rev, previous = latest_rev, latest
                latest_rev, latest = v, rs
            elif previous_rev < v:
                previous_rev, previous = v, rs
        elif to_revision == v:
            return rs
    if to_revision > 0:
        raise StepFailed(f"unable to find specified revision {to_revision} in history")
    if previous is None:
        raise StepFailed(f"no rollout history found for deployment {_q(name)}")
    return previous


def selector_string(selector: Obj) -> str:
    """A LabelSelector as the ``labelSelector`` query parameter."""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr["key"], expr["operator"]
        values = ",".join(sorted(expr.get("values") or []))
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[op]
        )
    return ",".join(terms)


def image_repository(image: str) -> str:
    """``registry:5000/team/api:1.2@sha256:...`` -> ``registry:5000/team/api``."""
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name


def _images(deployment: Obj) -> dict[str, str]:
    pod = deployment["spec"]["template"].get("spec") or {}
    return {str(c["name"]): str(c.get("image", "")) for c in pod.get("containers") or []}


# --- the API -------------------------------------------------------------------------------------


class KubeApi:
    """The ``kubernetes`` client for one environment, speaking JSON dicts; every call with a
    timeout no longer than what is left of the step."""

    def __init__(
        self, loaded: LoadedConfig, env: EnvironmentConfig, ctx: StepContext | None = None
    ) -> None:
        from kubernetes import client
        from kubernetes import config as kube_config
        from kubernetes.config.config_exception import ConfigException

        self.ctx = ctx
        kube = env.kubernetes
        self.namespace = kube.namespace or "default"
        self.context = "in-cluster" if kube.in_cluster else (kube.context or "")
        configuration = client.Configuration()
        path = str(loaded.resolve(kube.kubeconfig)) if kube.kubeconfig else None
        where = "in-cluster config" if kube.in_cluster else f"kubeconfig {path or '(default)'}"
        try:
            if kube.in_cluster:
                kube_config.load_incluster_config(  # type: ignore[no-untyped-call]
                    client_configuration=configuration
                )
            else:
                kube_config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=path,
                    context=kube.context or None,
                    client_configuration=configuration,
                    persist_config=False,
                )
                if not self.context:
                    # Name the context actually used: the release manager must see which
                    # cluster a step will change.
                    listed = kube_config.list_kube_config_contexts(path)  # type: ignore[no-untyped-call]
                    self.context = str((listed[1] or {}).get("name", ""))
        except (ConfigException, OSError, ValueError, TypeError) as exc:
            raise StepFailed(
                f"kubernetes: cannot load the {where}"
                f"{f' context {kube.context!r}' if kube.context else ''}: "
                f"{redact_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)} "
                "(kubernetes.kubeconfig / kubernetes.context in cockpit.toml)"
            ) from None
        from urllib3.util.retry import Retry

        # Connecting is retried (briefly); a read never is, so a call lasts at most its timeout.
        configuration.retries = Retry(
            total=2, connect=2, read=0, status=0, other=0, redirect=0, backoff_factor=0.2
        )
        self.host = str(configuration.host)
        self.client = client.ApiClient(configuration)
        self.apps = client.AppsV1Api(self.client)
        self.core = client.CoreV1Api(self.client)

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]

    def timeout(self, read: float = READ_TIMEOUT) -> tuple[float, float]:
        if self.ctx is None:
            return (CONNECT_TIMEOUT, read)
        return (self.ctx.remaining(CONNECT_TIMEOUT), self.ctx.remaining(read))

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a client method; the answer as JSON, or :class:`StepFailed` naming ``what``.
        ``None`` for 404 when ``missing_ok`` is passed."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        missing_ok = kwargs.pop("missing_ok", False)
        try:
            response = fn(*args, _preload_content=False, _request_timeout=self.timeout(), **kwargs)
            return json.loads(response.data or b"null")
        except ApiException as exc:
            if exc.status == 404 and missing_ok:
                return None
            raise self.error(what, exc) from None
        except (HTTPError, OSError) as exc:
            raise StepFailed(
                f"{what}: cannot reach the Kubernetes API at {self.host} ({_reason(exc)})"
            ) from None
        except ValueError as exc:
            raise StepFailed(
                f"{what}: the Kubernetes API answered something not JSON: {exc}"
            ) from None

    def error(self, what: str, exc: Any) -> StepFailed:
        message = str(getattr(exc, "reason", "") or "")
        try:
            body = json.loads(exc.body or "{}")
            message = body.get("message") or message
        except (ValueError, TypeError, AttributeError):
            pass
        message = redact_text(str(message))
        status = getattr(exc, "status", None)
        where = f"{what} in namespace {self.namespace}"
        if status == 404:
            return StepFailed(f"{where}: not found ({message})")
        if status in (401, 403):
            return StepFailed(
                f"{where}: {status} {message} (check the kubeconfig user's permissions)"
            )
        if status == 409:
            return StepFailed(f"{where}: conflict ({message}); run the step again")
        return StepFailed(f"{where}: the API answered {status}: {message}")

    # Deployments -------------------------------------------------------------------------------

    def deployment(self, name: str, missing_ok: bool = False) -> Obj | None:
        found = self.call(
            f"deployment/{name}",
            self.apps.read_namespaced_deployment,
            name,
            self.namespace,
            missing_ok=True,
        )
        if found is None and not missing_ok:
            raise StepFailed(
                f"deployment/{name} in namespace {self.namespace}: not found "
                "(kubernetes.deployments and kubernetes.namespace in cockpit.toml)"
            )
        return found  # type: ignore[no-any-return]

    def get_deployment(self, name: str) -> Obj:
        found = self.deployment(name)
        assert found is not None
        return found

    def deployments(self, only: str = "") -> tuple[str, list[Obj]]:
        """The namespace's Deployments (``only``: just that one, as kubectl's field selector)
        and the list's resourceVersion, where a watch takes over."""
        listed = self.call(
            f"deployments in namespace {self.namespace}",
            self.apps.list_namespaced_deployment,
            self.namespace,
            field_selector=f"metadata.name={only}" if only else None,
        )
        return str(listed["metadata"].get("resourceVersion", "")), list(listed["items"] or [])

    def replicasets(self, deployment: Obj) -> list[Obj]:
        """kubectl's ``listReplicaSets``: by the Deployment's selector, controlled by it."""
        selector = selector_string(deployment["spec"].get("selector") or {})
        listed = self.call(
            f"replicasets of deployment/{deployment['metadata']['name']}",
            self.apps.list_namespaced_replica_set,
            self.namespace,
            label_selector=selector,
        )
        return [rs for rs in listed["items"] or [] if _controlled_by(rs, deployment)]

    def pods(self, selector: str) -> list[Obj]:
        listed = self.call(
            f"pods ({selector})",
            self.core.list_namespaced_pod,
            self.namespace,
            label_selector=selector,
        )
        return list(listed["items"] or [])

    def watch(self, resource_version: str, only: str = "") -> Any:
        """A watch on the namespace's Deployments (``only``: just that one) from
        ``resource_version``: the raw response, read line by line by :class:`_WatchStream`."""
        return self.apps.list_namespaced_deployment(
            self.namespace,
            field_selector=f"metadata.name={only}" if only else None,
            watch=True,
            resource_version=resource_version or None,
            timeout_seconds=WATCH_SECONDS,
            allow_watch_bookmarks=True,
            _preload_content=False,
            _request_timeout=(CONNECT_TIMEOUT, WATCH_SECONDS + 15),
        )

    # Changes -----------------------------------------------------------------------------------

    def apply(self, change: _Change, dry_run: bool = False) -> Obj:
        """Make ``change`` (PATCH, POST or DELETE); with ``dry_run`` the server's answer to
        ``dryRun=All``, nothing persisted."""
        extra: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
        name = change.name
        what = f"{change.kind}/{name}"
        if change.kind == "deployment":
            if change.verb == "PATCH":
                fn: Callable[..., Any] = self.apps.patch_namespaced_deployment
                args: tuple[Any, ...] = (name, self.namespace, change.body)
                extra["_content_type"] = PATCH_TYPES[change.patch_type]
            elif change.verb == "POST":
                fn, args = self.apps.create_namespaced_deployment, (self.namespace, change.body)
            else:
                fn, args = self.apps.delete_namespaced_deployment, (name, self.namespace)
        else:
            if change.verb == "PATCH":
                fn, args = (
                    self.core.patch_namespaced_config_map,
                    (name, self.namespace, change.body),
                )
                extra["_content_type"] = PATCH_TYPES[change.patch_type]
            elif change.verb == "POST":
                fn, args = self.core.create_namespaced_config_map, (self.namespace, change.body)
            else:
                fn, args = self.core.delete_namespaced_config_map, (name, self.namespace)
        result = self.call(what, fn, *args, **extra)
        return result if isinstance(result, dict) else {}

    def configmap(self, name: str) -> Obj | None:
        found = self.call(
            f"configmap/{name}",
            self.core.read_namespaced_config_map,
            name,
            self.namespace,
            missing_ok=True,
        )
        return found if isinstance(found, dict) else None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).splitlines()[0] if str(reason) else type(exc).__name__
    return redact_text(text[:200])


@contextmanager
def connect(
    loaded: LoadedConfig, env: EnvironmentConfig, ctx: StepContext | None = None
) -> Iterator[KubeApi]:
    """The API of ``env``'s cluster (kubeconfig and context, or in-cluster), closed after use;
    with ``ctx`` every call's timeout is capped by what is left of the step."""
    api = KubeApi(loaded, env, ctx)
    try:
        yield api
    finally:
        api.close()


# --- changes -------------------------------------------------------------------------------------


@dataclass
class _Change:
    """One API call a step makes (``body`` None: nothing to do, ``note`` says why)."""

    kind: str  # deployment | configmap
    name: str
    verb: str  # PATCH | POST | DELETE
    patch_type: str = ""
    body: Any = None
    before: Obj | None = None
    note: str = ""
    target_images: dict[str, str] = field(default_factory=dict)
    # Nothing to do because an earlier (interrupted) run of this very step did it.
    ours: bool = False

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    def call(self, namespace: str) -> str:
        """The exact API call, as recorded in the intent event."""
        group = "apps/v1" if self.kind == "deployment" else "v1"
        plural = "deployments" if self.kind == "deployment" else "configmaps"
        path = f"namespaces/{namespace}/{plural}"
        body = json.dumps(self.body, separators=(",", ":"))
        if self.verb == "PATCH":
            return f"PATCH {group} {path}/{self.name} ({self.patch_type}) {body}"
        if self.verb == "POST":
            return f"POST {group} {path} {body}"
        return f"DELETE {group} {path}/{self.name}"


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


def _diff(change: _Change, after: Obj | None) -> list[str]:
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


# --- the step kind -------------------------------------------------------------------------------


class KubernetesStep(StepKind):
    """Deployments in the environment's cluster: ``set_image``, ``apply``, ``restart``."""

    kind: ClassVar[str] = "kubernetes"
    undoable: ClassVar[bool] = True
    undo_text: ClassVar[str] = "roll the Deployments back to their previous revision"

    # preview ---------------------------------------------------------------------------------

    def preview(self, spec: KubernetesRun, ctx: StepContext) -> Preview:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            changes, state = self._plan(spec, ctx, api)
            calls: list[str] = []
            lines: list[str] = []
            for change in changes:
                ctx.check()
                if change.before is not None and (change.before.get("spec") or {}).get("paused"):
                    lines.append(
                        f"{change.ref}: paused; its rollout will not start until it is resumed "
                        f"(kubectl rollout resume deployment/{change.name})"
                    )
                if change.body is None:
                    lines.append(f"{change.ref}: {change.note}")
                    continue
                calls.append(change.call(api.namespace))
                after = api.apply(change, dry_run=True) if change.verb != "DELETE" else None
                lines.append(f"{change.ref}: {change.note} (server-side dry run)")
                diff = _diff(change, after)
                lines.extend(diff if diff else ["  (the API server reports no change)"])
            if not calls:
                lines.append("nothing to change: the rollout is only watched")
            return Preview(
                summary=self._summary(spec, ctx, api, changes),
                calls=calls,
                lines=lines,
                state=state,
            )

    def _summary(
        self, spec: KubernetesRun, ctx: StepContext, api: KubeApi, changes: list[_Change]
    ) -> str:
        where = f"in namespace {api.namespace}" + (
            f" (context {api.context})" if api.context else ""
        )
        refs = ", ".join(c.ref for c in changes) or "nothing"
        if spec.action == "set_image":
            return f"set image {ctx.render(spec.image)} on {refs} {where}"
        if spec.action == "restart":
            return f"restart {refs} {where}"
        return f"apply {spec.manifest} ({refs}) {where}"

    # planning --------------------------------------------------------------------------------

    def _names(self, spec: KubernetesRun, ctx: StepContext) -> list[str]:
        names = list(spec.deployments) or list(ctx.env.kubernetes.deployments)
        if not names:
            raise StepFailed(
                f"kubernetes {spec.action}: no deployments named (deployments in the step, or "
                f"kubernetes.deployments of environment {ctx.env_name} in cockpit.toml)"
            )
        return names

    def _plan(
        self, spec: KubernetesRun, ctx: StepContext, api: KubeApi
    ) -> tuple[list[_Change], Obj]:
        """What the step would change now (looking first: what is already there is skipped),
        and the state read, for the intent event and a later undo."""
        state: Obj = {
            "server": api.host,
            "context": api.context,
            "namespace": api.namespace,
            "deployments": {},
        }
        if spec.action == "apply":
            return self._plan_apply(spec, ctx, api, state), state
        cause = change_cause(ctx)
        changes = []
        for name in self._names(spec, ctx):
            ctx.check()
            dep = api.get_deployment(name)
            state["deployments"][name] = _deployment_state(dep)
            if spec.action == "set_image":
                changes.append(_image_change(dep, spec, ctx, cause, api.namespace))
            else:
                changes.append(_restart_change(dep, cause))
        return changes, state

    def _plan_apply(
        self, spec: KubernetesRun, ctx: StepContext, api: KubeApi, state: Obj
    ) -> list[_Change]:
        docs = _manifest(spec, ctx, api.namespace)
        cause = change_cause(ctx)
        changes = []
        state["configmaps"] = {}
        for doc in docs:
            ctx.check()
            name = doc["metadata"]["name"]
            if doc["kind"] == "ConfigMap":
                current = api.configmap(name)
                state["configmaps"][name] = {
                    "exists": current is not None,
                    "data": dict((current or {}).get("data") or {}),
                }
                changes.append(_configmap_change(doc, current))
            else:
                current = api.deployment(name, missing_ok=True)
                if current is not None:
                    state["deployments"][name] = _deployment_state(current)
                changes.append(_apply_deployment_change(doc, current, cause, api))
        return changes

    # run ---------------------------------------------------------------------------------------

    def run(self, spec: KubernetesRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            outcome["namespace"] = api.namespace
            changes, _state = self._plan(spec, ctx, api)
            watched: dict[str, Obj] = {}
            for change in changes:
                ctx.check()
                record = self._record_before(api, change, outcome)
                if change.body is None:
                    ctx.output(f"{change.ref}: {change.note}")
                else:
                    result = api.apply(change)
                    ctx.output(f"{change.ref}: {change.note} ({change.verb} done)")
                    if change.kind == "deployment":
                        record["generation"] = int(result["metadata"].get("generation") or 0)
                        outcome.setdefault("patched", []).append(change.ref)
                    else:
                        outcome.setdefault("applied", []).append(change.ref)
                if change.kind == "deployment":
                    watched[change.name] = record
            if watched:
                _await_rollouts(api, ctx, watched)

    def _record_before(self, api: KubeApi, change: _Change, outcome: dict[str, Any]) -> Obj:
        """What undo needs, recorded before the change is made."""
        if change.kind == "configmap":
            before = change.before
            cm_record: Obj = {
                "created": before is None,
                "previous_data": dict((before or {}).get("data") or {}),
            }
            outcome.setdefault("configmaps", {})[change.name] = cm_record
            return cm_record
        record: Obj = outcome.setdefault("deployments", {}).setdefault(change.name, {})
        dep = change.before
        if dep is None:
            record.update(created=True, previous_revision=0, previous_images={})
            return record
        record["previous_revision"] = _revision_or_zero(dep)
        record["previous_images"] = _images(dep)
        if change.body is None and change.ours:
            # Already applied by an interrupted run of this step: what came before is the newest
            # ReplicaSet whose template is not the current one (made yet by the controller or
            # not).
            replicasets = api.replicasets(dep)
            current = new_replicaset(dep, replicasets)
            older = [rs for rs in replicasets if rs is not current]
            if older:
                rs = max(older, key=_revision_or_zero)
                record["previous_revision"] = _revision_or_zero(rs)
                record["previous_images"] = _images(rs)
        record["images"] = change.target_images or _images(dep)
        return record

    # verify ------------------------------------------------------------------------------------

    def verify(self, spec: KubernetesRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            verified: dict[str, str] = {}
            for name, record in (outcome.get("deployments") or {}).items():
                dep = api.get_deployment(name)
                status = rollout_status(dep)
                if not status.done:
                    raise StepFailed(
                        f"deployment/{name} in namespace {api.namespace}: {status.message}"
                    )
                want = record.get("images") or {}
                have = _images(dep)
                wrong = {c: img for c, img in want.items() if have.get(c) != img}
                if wrong:
                    shown = ", ".join(f"{c}={have.get(c)} (want {img})" for c, img in wrong.items())
                    raise StepFailed(
                        f"deployment/{name} in namespace {api.namespace}: runs {shown}"
                    )
                verified[f"deployment/{name}"] = status.message
            configmaps = outcome.get("configmaps") or {}
            docs = (
                {
                    d["metadata"]["name"]: d
                    for d in _manifest(spec, ctx, api.namespace)
                    if d["kind"] == "ConfigMap"
                }
                if configmaps
                else {}
            )
            for name in configmaps:
                current = api.configmap(name)
                if current is None or (current.get("data") or {}) != (docs[name].get("data") or {}):
                    raise StepFailed(
                        f"configmap/{name} in namespace {api.namespace}: data differs from "
                        f"{spec.manifest}"
                    )
                verified[f"configmap/{name}"] = "data as in the manifest"
            outcome["verified"] = verified

    # recheck -----------------------------------------------------------------------------------

    def recheck(self, spec: KubernetesRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            changes, state = self._plan(spec, ctx, api)
            texts: list[str] = []
            done = True
            for change in changes:
                if change.body is not None:
                    done = False
                    texts.append(f"{change.ref}: not yet ({change.note})")
                    continue
                if change.kind == "deployment":
                    status = rollout_status(api.get_deployment(change.name))
                    state["deployments"].setdefault(change.name, {})["status"] = status.message
                    if not status.done:
                        done = False
                    texts.append(f"{change.ref}: {change.note}; {status.message}")
                else:
                    texts.append(f"{change.ref}: {change.note}")
            return Recheck(done, "; ".join(texts), state)

    # undo --------------------------------------------------------------------------------------

    def undo_summary(self, spec: KubernetesRun, ctx: StepContext, done: dict[str, Any]) -> str:
        deployments, configmaps = _undo_records(done)
        parts = []
        for name, record in deployments.items():
            if record.get("created"):
                parts.append(f"delete deployment/{name} (created by this step)")
                continue
            revision = int(record.get("previous_revision") or 0)
            images = ", ".join(f"{c}={i}" for c, i in (record.get("previous_images") or {}).items())
            target = f"revision {revision}" if revision else "the previous revision"
            parts.append(f"deployment/{name} back to {target}" + (f" ({images})" if images else ""))
        for name, record in configmaps.items():
            if record.get("created"):
                parts.append(f"delete configmap/{name} (created by this step)")
            else:
                keys = len(record.get("previous_data") or {})
                parts.append(f"configmap/{name}: restore its {keys} previous keys")
        return "; ".join(parts) or "nothing recorded to undo"

    def undo(
        self,
        spec: KubernetesRun,
        ctx: StepContext,
        done: dict[str, Any],
        outcome: dict[str, Any],
    ) -> None:
        deployments, configmaps = _undo_records(done)
        if not deployments and not configmaps:
            # Nothing recorded (a step resumed as done before it recorded anything): kubectl's
            # rule, one revision back, for every deployment the step names.
            deployments = (
                {name: {} for name in self._names(spec, ctx)} if spec.action != "apply" else {}
            )
        with connect(ctx.loaded, ctx.env, ctx) as api:
            outcome["namespace"] = api.namespace
            skipped: list[str] = []
            watched: dict[str, Obj] = {}
            results: dict[str, Obj] = {}
            for name, record in deployments.items():
                ctx.check()
                if record.get("created"):
                    if api.deployment(name, missing_ok=True) is None:
                        skipped.append(f"deployment/{name} is already gone")
                    else:
                        api.apply(_Change("deployment", name, "DELETE"))
                        ctx.output(f"deployment/{name}: deleted (it was created by this step)")
                    results[name] = {"deleted": True}
                    continue
                to_revision = _current_number(api, name, int(record.get("previous_revision") or 0))
                message, patched = rollback(api, name, to_revision)
                ctx.output(f"deployment/{name}: {message}")
                results[name] = {"to_revision": to_revision, "result": message}
                if patched:
                    watched[name] = results[name]
                else:
                    skipped.append(f"deployment/{name}: {message}")
            outcome["deployments"] = results
            cm_results: dict[str, str] = {}
            for name, record in configmaps.items():
                ctx.check()
                result = _restore_configmap(api, name, record)
                ctx.output(f"configmap/{name}: {result}")
                cm_results[name] = result
                if result.startswith("already"):
                    skipped.append(f"configmap/{name}: {result}")
            if cm_results:
                outcome["configmaps"] = cm_results
            if watched:
                _await_rollouts(api, ctx, watched)
                for name in watched:
                    results[name]["images"] = _images(api.get_deployment(name))
            if skipped and len(skipped) == len(deployments) + len(configmaps):
                outcome["skipped"] = "; ".join(skipped)


def _current_number(api: KubeApi, name: str, revision: int) -> int:
    """The revision number the template recorded as ``revision`` has now. The controller
    renumbers a ReplicaSet it reuses (a rollback made since) and lists its old numbers in
    ``deployment.kubernetes.io/revision-history``; 0 stays 0 (kubectl: the previous one)."""
    if revision <= 0:
        return 0
    replicasets = api.replicasets(api.get_deployment(name))
    if any(_revision_or_zero(rs) == revision for rs in replicasets):
        return revision
    for rs in replicasets:
        past = ((rs["metadata"].get("annotations") or {}).get(REVISION_HISTORY) or "").split(",")
        if str(revision) in (p.strip() for p in past):
            return _revision_or_zero(rs)
    return revision


def _undo_records(done: dict[str, Any]) -> tuple[dict[str, Obj], dict[str, Obj]]:
    """What a step recorded for undo: its outcome, else (a step found done when resumed) the
    state its intent recorded before it ran."""
    deployments = dict(done.get("deployments") or {})
    configmaps = dict(done.get("configmaps") or {})
    if deployments or configmaps:
        return deployments, configmaps
    before = done.get("state_before") or {}
    for name, seen in (before.get("deployments") or {}).items():
        deployments[name] = {
            "previous_revision": seen.get("revision", 0),
            "previous_images": seen.get("images", {}),
        }
    for name, seen in (before.get("configmaps") or {}).items():
        configmaps[name] = {
            "created": not seen.get("exists"),
            "previous_data": seen.get("data", {}),
        }
    return deployments, configmaps


def _deployment_state(dep: Obj) -> Obj:
    annotations = dep["metadata"].get("annotations") or {}
    template_annotations = (dep["spec"]["template"].get("metadata") or {}).get("annotations") or {}
    return {
        "images": _images(dep),
        "revision": _revision_or_zero(dep),
        "generation": int(dep["metadata"].get("generation") or 0),
        "paused": bool(dep["spec"].get("paused")),
        "change_cause": annotations.get(CHANGE_CAUSE, ""),
        "restarted_at": template_annotations.get(RESTARTED_AT, ""),
        "status": rollout_status(dep).message,
    }


def _image_change(
    dep: Obj, spec: KubernetesRun, ctx: StepContext, cause: str, namespace: str
) -> _Change:
    name = dep["metadata"]["name"]
    image = ctx.render(spec.image).strip()
    if not image:
        raise StepFailed(
            f"kubernetes set_image on deployment/{name}: no image (give the step an image, or "
            f"set kubernetes.image of environment {ctx.env_name} in cockpit.toml)"
        )
    before = _images(dep)
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
        return _Change(
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
    return _Change(
        "deployment",
        name,
        "PATCH",
        "strategic-merge-patch",
        body,
        dep,
        note=f"set image {changed}",
        target_images=after,
    )


def _restart_change(dep: Obj, cause: str) -> _Change:
    name = dep["metadata"]["name"]
    if (dep["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) == cause:
        return _Change(
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
    return _Change(
        "deployment",
        name,
        "PATCH",
        "strategic-merge-patch",
        body,
        dep,
        note=f"restart ({RESTARTED_AT} = {now})",
    )


def _manifest(spec: KubernetesRun, ctx: StepContext, namespace: str) -> list[Obj]:
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


def _configmap_change(doc: Obj, current: Obj | None) -> _Change:
    name = doc["metadata"]["name"]
    want = {str(k): str(v) for k, v in (doc.get("data") or {}).items()}
    if current is None:
        return _Change(
            "configmap",
            name,
            "POST",
            body={**doc, "data": want},
            before=None,
            note=f"create with {len(want)} keys",
        )
    have = current.get("data") or {}
    if have == want:
        return _Change(
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
    return _Change(
        "configmap",
        name,
        "PATCH",
        "merge-patch",
        body,
        current,
        note=f"change keys {', '.join(changed)}",
    )


def _apply_deployment_change(doc: Obj, current: Obj | None, cause: str, api: KubeApi) -> _Change:
    name = doc["metadata"]["name"]
    meta = doc["metadata"]
    annotations = {**(meta.get("annotations") or {}), CHANGE_CAUSE: cause}
    if current is None:
        body = {**doc, "metadata": {**meta, "annotations": annotations}}
        return _Change(
            "deployment",
            name,
            "POST",
            body=body,
            before=None,
            note="create",
            target_images=_images(doc),
        )
    body = {
        "metadata": {"labels": meta.get("labels") or {}, "annotations": annotations},
        "spec": doc.get("spec") or {},
    }
    if not body["metadata"]["labels"]:
        del body["metadata"]["labels"]
    change = _Change(
        "deployment",
        name,
        "PATCH",
        "strategic-merge-patch",
        body,
        current,
        note="patch as in the manifest",
    )
    after = api.apply(change, dry_run=True)
    change.target_images = _images(after)

    def shown(obj: Obj) -> Obj:
        view = _meaningful(obj, "deployment")
        view["metadata"].get("annotations", {}).pop(CHANGE_CAUSE, None)
        return view

    if _prune(shown(after)) == _prune(shown(current)):
        ours = (current["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) == cause
        return _Change(
            "deployment",
            name,
            "PATCH",
            before=current,
            target_images=change.target_images,
            ours=ours,
            note="already as in the manifest; nothing to patch",
        )
    return change


def _restore_configmap(api: KubeApi, name: str, record: Obj) -> str:
    current = api.configmap(name)
    if record.get("created"):
        if current is None:
            return "already gone"
        api.apply(_Change("configmap", name, "DELETE"))
        return "deleted (it was created by this step)"
    want = {str(k): str(v) for k, v in (record.get("previous_data") or {}).items()}
    if current is None:
        api.apply(
            _Change(
                "configmap",
                name,
                "POST",
                body={
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name, "namespace": api.namespace},
                    "data": want,
                },
            )
        )
        return f"created again with its {len(want)} previous keys"
    have = current.get("data") or {}
    if have == want:
        return "already holds its previous data"
    patch: dict[str, str | None] = {k: v for k, v in want.items() if have.get(k) != v}
    patch.update({k: None for k in have if k not in want})
    api.apply(_Change("configmap", name, "PATCH", "merge-patch", {"data": patch}))
    return f"restored its {len(want)} previous keys"


# --- undo: kubectl's rollback -------------------------------------------------------------------


def rollback(api: KubeApi, name: str, to_revision: int = 0) -> tuple[str, bool]:
    """``kubectl rollout undo deployment/NAME [--to-revision=N]``: kubectl's message and
    whether the Deployment was patched. :class:`StepFailed` for no history, an unknown revision
    or a paused Deployment."""
    where = f"deployment/{name} in namespace {api.namespace}"
    dep = api.get_deployment(name)
    try:
        rs = revision_replicaset(dep, api.replicasets(dep), to_revision)
    except StepFailed as exc:
        raise StepFailed(f"{where}: {exc} (kubectl rollout history deployment/{name})") from None
    if dep["spec"].get("paused"):
        raise StepFailed(
            f"{where}: cannot rollback a paused deployment; resume it first "
            f"(kubectl rollout resume deployment/{name}) and undo again"
        )
    if equal_ignore_hash(rs["spec"]["template"], dep["spec"]["template"]):
        return f"skipped rollback (current template already matches revision {to_revision})", False
    template = copy.deepcopy(rs["spec"]["template"])
    labels = (template.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    current = dep["metadata"].get("annotations") or {}
    annotations = {k: current[k] for k in ANNOTATIONS_TO_SKIP if k in current}
    for key, value in (rs["metadata"].get("annotations") or {}).items():
        if key not in ANNOTATIONS_TO_SKIP:
            annotations[key] = value
    patch = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    api.apply(_Change("deployment", name, "PATCH", "json-patch", patch))
    return f"rolled back to revision {deployment_revision(rs)}", True


def rollout_history(
    loaded: LoadedConfig, env: EnvironmentConfig, name: str
) -> list[tuple[int, str]]:
    """``kubectl rollout history deployment/NAME``: (revision, change cause) oldest first; the
    cause is ``""`` where kubectl prints ``<none>``."""
    with connect(loaded, env) as api:
        return history_of(api, name)


def history_of(api: KubeApi, name: str) -> list[tuple[int, str]]:
    dep = api.get_deployment(name)
    seen: dict[int, str] = {}
    for rs in api.replicasets(dep):
        try:
            revision = deployment_revision(rs)
        except ValueError:
            continue
        seen[revision] = (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE, "")
    return sorted(seen.items())


# --- watching a rollout --------------------------------------------------------------------------


class _WatchStream:
    """One watch request read on a thread; events come out of :attr:`events`, so the waiting
    loop can look at cancel and the deadline between them."""

    def __init__(self, api: KubeApi, resource_version: str, only: str = "") -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.started = time.monotonic()
        self._api = api
        self._rv = resource_version
        self._only = only
        self._response: Any = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True, name="kubernetes-watch")
        self._thread.start()

    def _read(self) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            response = self._api.watch(self._rv, self._only)
        except ApiException as exc:
            self.events.put(("gone" if exc.status == 410 else "failed", exc))
            return
        except Exception as exc:  # connection refused, timeouts: the waiting loop retries
            self.events.put(("failed", exc))
            return
        self._response = response
        buffer = b""
        try:
            if self._stopped.is_set():
                return
            for chunk in response.stream(amt=None, decode_content=False):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        self.events.put(("event", json.loads(line)))
            if buffer.strip():
                self.events.put(("event", json.loads(buffer)))
            self.events.put(("end", None))
        except Exception as exc:
            if not self._stopped.is_set():
                self.events.put(("failed", exc))
        finally:
            if self._stopped.is_set():
                response.close()
            else:
                response.release_conn()

    def next(self, timeout: float) -> tuple[str, Any] | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> None:
        self._stopped.set()
        response = self._response
        if response is not None:
            with suppress(Exception):
                response.shutdown()
        self._thread.join(1.0)


def _await_rollouts(api: KubeApi, ctx: StepContext, records: dict[str, Obj]) -> None:
    """Follow the Deployments in ``records`` until ``kubectl rollout status`` would say each is
    complete; stream each new status line; record ``new_revision`` as soon as the controller has
    seen the change. Fails on ``ProgressDeadlineExceeded``, sooner on a pod of the new
    ReplicaSet in CrashLoopBackOff / ImagePullBackOff / ErrImagePull, and on a paused or deleted
    Deployment."""
    pending = set(records)
    # One Deployment: watch just it, as kubectl does; several: the namespace's, one stream.
    only = next(iter(records)) if len(records) == 1 else ""
    last: dict[str, str] = {}
    latest: dict[str, Obj] = {}

    def consider(dep: Obj) -> None:
        name = dep["metadata"]["name"]
        if name not in pending:
            return
        latest[name] = dep
        status = rollout_status(dep)
        record = records[name]
        observed = int((dep.get("status") or {}).get("observedGeneration") or 0)
        if observed >= int(record.get("generation") or 0) and observed >= int(
            dep["metadata"].get("generation") or 0
        ):
            record["new_revision"] = _revision_or_zero(dep)
        if status.message != last.get(name):
            last[name] = status.message
            ctx.output(status.message)
        if status.failed:
            deadline = dep["spec"].get("progressDeadlineSeconds")
            raise StepFailed(
                f"deployment/{name} in namespace {api.namespace}: {status.message}"
                + (f" ({deadline} s without progress)" if deadline else "")
                + "; roll back or fix and run again"
            )
        if status.done:
            pending.discard(name)
            return
        if dep["spec"].get("paused"):
            raise StepFailed(
                f"deployment/{name} in namespace {api.namespace}: paused, so the rollout cannot "
                f"finish; resume it (kubectl rollout resume deployment/{name}) and run again"
            )

    def relist() -> str:
        rv, items = api.deployments(only)
        found = {d["metadata"]["name"]: d for d in items}
        for name in sorted(pending):
            if name not in found:
                raise StepFailed(
                    f"deployment/{name} in namespace {api.namespace}: deleted during the rollout"
                )
            consider(found[name])
        return rv

    stream: _WatchStream | None = None
    try:
        rv = relist()
        next_pods = time.monotonic()
        while pending:
            ctx.check()
            if stream is None:
                stream = _WatchStream(api, rv, only)
            item = stream.next(POLL)
            if item is not None:
                what, payload = item
                if what == "event":
                    kind = payload.get("type")
                    obj = payload.get("object") or {}
                    if kind in ("ADDED", "MODIFIED"):
                        rv = str(obj["metadata"].get("resourceVersion") or rv)
                        consider(obj)
                    elif kind == "BOOKMARK":
                        rv = str(obj.get("metadata", {}).get("resourceVersion") or rv)
                    elif kind == "DELETED":
                        name = obj.get("metadata", {}).get("name")
                        if name in pending:
                            raise StepFailed(
                                f"deployment/{name} in namespace {api.namespace}: deleted "
                                "during the rollout"
                            )
                    elif kind == "ERROR":
                        stream.stop()
                        stream = None
                        code = obj.get("code")
                        ctx.output(
                            f"watch ended ({code} {obj.get('reason', '')}: "
                            f"{redact_text(str(obj.get('message', '')))}); listing again"
                        )
                        if code != 410:
                            ctx.sleep(1.0)
                        rv = relist()
                elif what == "gone":
                    stream.stop()
                    stream = None
                    ctx.output("watch expired (410 Gone); listing again")
                    rv = relist()
                elif what == "end":
                    short = time.monotonic() - stream.started < 1.0
                    stream.stop()
                    stream = None
                    if short:
                        ctx.sleep(0.5)
                else:
                    stream.stop()
                    stream = None
                    ctx.output(f"watch interrupted ({_reason(payload)}); reconnecting")
                    ctx.sleep(1.0)
                    rv = relist()
            if pending and time.monotonic() >= next_pods:
                for name in sorted(pending):
                    _check_pods(api, latest[name])
                next_pods = time.monotonic() + POD_CHECK_INTERVAL
    except StepTimeout:
        waiting = "; ".join(last.get(n, f"deployment/{n}") for n in sorted(pending))
        raise StepTimeout(f"timed out waiting for the rollout: {waiting}") from None
    except Cancelled:
        waiting = "; ".join(last.get(n, f"deployment/{n}") for n in sorted(pending))
        raise Cancelled(
            f"cancelled by the operator during the rollout ({waiting}); undo or run again"
        ) from None
    finally:
        if stream is not None:
            stream.stop()


def _check_pods(api: KubeApi, dep: Obj) -> None:
    """Fail when a pod of the Deployment's new ReplicaSet sits in CrashLoopBackOff,
    ImagePullBackOff or ErrImagePull: it will not get better while we wait."""
    name = dep["metadata"]["name"]
    rs = new_replicaset(dep, api.replicasets(dep))
    if rs is None:
        return
    pod_hash = (rs["metadata"].get("labels") or {}).get(HASH_LABEL)
    selector = selector_string(dep["spec"].get("selector") or {})
    if pod_hash:
        selector = f"{selector},{HASH_LABEL}={pod_hash}" if selector else f"{HASH_LABEL}={pod_hash}"
    for pod in api.pods(selector):
        if not _controlled_by(pod, rs):
            continue
        status = pod.get("status") or {}
        for cs in (status.get("initContainerStatuses") or []) + (
            status.get("containerStatuses") or []
        ):
            waiting = (cs.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason in POD_FAILURES:
                text = str(waiting.get("message") or "")
                detail = redact_text(text.splitlines()[0][:200]) if text else ""
                restarts = int(cs.get("restartCount") or 0)
                raise StepFailed(
                    f"deployment/{name} in namespace {api.namespace}: pod "
                    f"{pod['metadata']['name']} is in {reason} (container {cs.get('name')}"
                    + (f", {restarts} restarts" if restarts else "")
                    + (f": {detail}" if detail else "")
                    + "); roll back or fix the image and run again"
                )
