"""A Kubernetes API server for tests: the objects a release touches, and a Deployment controller.

No API server can be installed here (see shared/TESTING.md), so this threaded HTTP server on
127.0.0.1 speaks enough of the Kubernetes API for the real ``kubernetes`` Python client and the
real ``kubectl`` (``rollout status``, ``rollout history``, ``rollout undo``):

- discovery: ``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/apps``, ``/apis/apps/v1``;
- Namespaces, Nodes (as seeded), Pods, ConfigMaps (core/v1; an ``immutable`` one refuses a
  change of its data),
  Deployments and ReplicaSets (apps/v1): GET, LIST
  (``labelSelector``, ``fieldSelector=metadata.name=...``), POST, PUT, DELETE, PATCH
  (strategic-merge for the shapes a release uses, JSON merge patch, JSON patch), ``dryRun=All``
  (the answer without persisting), and ``watch=true`` answered with chunked JSON lines from a
  ``resourceVersion``; a watch from a compacted version gets the ``410 Expired`` ERROR event;
- a controller (:meth:`KubeAPI.tick`, by hand or on a background timer) that behaves like the
  Deployment and ReplicaSet controllers: generation / observedGeneration, one ReplicaSet per pod
  template with the ``deployment.kubernetes.io/revision`` annotation (an old ReplicaSet is reused
  with the next revision when the template goes back to it), the deployment's annotations copied
  to the new ReplicaSet (the change cause), rolling updates by maxSurge / maxUnavailable, pods
  that become ready one tick after they are created, the Available and Progressing conditions
  with ``ProgressDeadlineExceeded`` after ``progressDeadlineSeconds`` without progress, and pods
  whose image matches a rule the test sets going ``CrashLoopBackOff`` or ``ImagePullBackOff``.

Protobuf bodies are refused with 415 (kubectl falls back to nothing, so tests create objects
through :meth:`KubeAPI.seed` / :meth:`KubeAPI.create` instead). Test-only: never imported by
``cockpit/``.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

Obj = dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
# The controller's own list (deployment/util annotationsToSkip): never copied from the
# Deployment to its ReplicaSets.
SKIP_COPY = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
}


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES: dict[str, Resource] = {
    r.plural: r
    for r in (
        Resource("", "v1", "namespaces", "Namespace", namespaced=False, short=("ns",)),
        Resource("", "v1", "pods", "Pod", short=("po",)),
        Resource("", "v1", "nodes", "Node", namespaced=False, short=("no",)),
        Resource("", "v1", "configmaps", "ConfigMap", short=("cm",)),
        Resource("apps", "v1", "deployments", "Deployment", short=("deploy",)),
        Resource("apps", "v1", "replicasets", "ReplicaSet", short=("rs",)),
    )
}
BY_KIND = {r.kind: r for r in RESOURCES.values()}


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> Obj:
        return status_object(self.code, self.reason, self.message)


def status_object(code: int, reason: str, message: str) -> Obj:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@dataclass
class Seen:
    """One request, as the test may count them."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str
    resource: str = ""
    name: str = ""
    dry_run: bool = False
    watch: bool = False
    body: Any = None


@dataclass
class FailRule:
    pattern: str  # fnmatch over the container image
    reason: str  # CrashLoopBackOff, ImagePullBackOff, ErrImagePull


@dataclass
class _Watch:
    resource: str
    namespace: str | None
    labels: str
    fields: str
    epoch: int


@dataclass
class KubeAPI:
    """The server and its state. Use :func:`kube_api` (a context manager) to run one."""

    pod_ready_ticks: int = 1
    rv: int = 100
    compacted_rv: int = 0
    http_410: bool = False  # a watch from a compacted version: HTTP 410 instead of an ERROR event
    objects: dict[tuple[str, str, str], Obj] = field(default_factory=dict)
    history: list[tuple[int, str, str, Obj]] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    fail_rules: list[FailRule] = field(default_factory=list)
    clock_offset: float = 0.0
    port: int = 0
    _watch_epoch: int = 0
    _watch_end_mode: str = "close"
    _stopping: bool = False
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _rand: random.Random = field(default_factory=lambda: random.Random(7))
    _ticker: threading.Thread | None = None
    _ticker_stop: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _pod_age: dict[str, int] = field(default_factory=dict)
    _ticks: int = 0

    # --- running -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> KubeAPI:
        api = self

        class Handler(_Handler):
            server_api = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True, name="kubeapi"
        ).start()
        return self

    def stop(self) -> None:
        self.stop_controller()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def start_controller(self, interval: float = 0.05) -> None:
        """Tick on a background timer (the rollout advances on its own)."""
        if self._ticker is not None:
            return
        self._ticker_stop.clear()

        def loop() -> None:
            while not self._ticker_stop.wait(interval):
                self.tick()

        self._ticker = threading.Thread(target=loop, daemon=True, name="kubeapi-controller")
        self._ticker.start()

    def stop_controller(self) -> None:
        if self._ticker is not None:
            self._ticker_stop.set()
            self._ticker.join(5)
            self._ticker = None

    @contextmanager
    def controller_paused(self) -> Iterator[None]:
        running = self._ticker is not None
        self.stop_controller()
        try:
            yield
        finally:
            if running:
                self.start_controller()

    def kubeconfig(self, path: Path, namespace: str = "default", context: str = "test") -> Path:
        """A kubeconfig for the Python client and kubectl: insecure, any token."""
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                    "users": [{"name": "tester", "user": {"token": "test-token"}}],
                    "contexts": [
                        {
                            "name": context,
                            "context": {
                                "cluster": "fake",
                                "user": "tester",
                                "namespace": namespace,
                            },
                        }
                    ],
                    "current-context": context,
                }
            ),
            encoding="utf-8",
        )
        return path

    # --- what tests set and read ---------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the controller's clock (progress deadlines) forward."""
        with self._cond:
            self.clock_offset += seconds

    def fail_image(self, pattern: str, reason: str = "CrashLoopBackOff") -> None:
        """Pods with a container image matching ``pattern`` never become ready: they sit
        waiting for ``reason`` (CrashLoopBackOff, ImagePullBackOff, ErrImagePull, or anything
        else, e.g. ContainerCreating for a pod that is merely slow)."""
        with self._cond:
            self.fail_rules.append(FailRule(pattern, reason))

    def expire_watches(self, how: str = "error") -> None:
        """End every open watch. ``error``: an ERROR event ``410 Expired`` and older versions
        compacted (the client must list again); ``http``: compacted, and a watch from an old
        version is answered with HTTP 410; ``close``: the stream just ends."""
        with self._cond:
            if how in {"error", "http"}:
                self.rv += 1
                self.compacted_rv = self.rv
                self.history.clear()
                self.http_410 = how == "http"
            self._watch_end_mode = "error" if how == "error" else "close"
            self._watch_epoch += 1
            self._cond.notify_all()

    def count(
        self,
        method: str,
        resource: str | None = None,
        name: str | None = None,
        *,
        dry_run: bool | None = False,
    ) -> int:
        with self._cond:
            return sum(
                1
                for r in self.requests
                if r.method == method
                and (resource is None or r.resource == resource)
                and (name is None or r.name == name)
                and (dry_run is None or r.dry_run == dry_run)
            )

    def get(self, resource: str, name: str, namespace: str = "default") -> Obj:
        with self._cond:
            key = (resource, namespace if RESOURCES[resource].namespaced else "", name)
            return copy.deepcopy(self.objects[key])

    def items(self, resource: str, namespace: str | None = None) -> list[Obj]:
        with self._cond:
            return [
                copy.deepcopy(o)
                for (res, ns, _), o in sorted(self.objects.items())
                if res == resource and (namespace is None or ns == namespace)
            ]

    def seed(self, obj: Obj) -> Obj:
        """Store an object as given (status too): fixtures of any shape, no controller rules."""
        obj = copy.deepcopy(obj)
        res = BY_KIND[obj["kind"]]
        meta = obj.setdefault("metadata", {})
        with self._cond:
            if res.namespaced:
                meta.setdefault("namespace", "default")
                self._ensure_namespace(meta["namespace"])
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", self._timestamp())
            if res.plural == "deployments":
                meta.setdefault("generation", 1)
            self._write(res.plural, obj, "ADDED")
            return copy.deepcopy(obj)

    def create(self, obj: Obj) -> Obj:
        """Create as a POST would (defaults, generation), bypassing HTTP."""
        res = BY_KIND[obj["kind"]]
        ns = obj.get("metadata", {}).get("namespace", "default")
        with self._cond:
            if res.namespaced:
                self._ensure_namespace(ns)
            return self._create(res, ns if res.namespaced else "", copy.deepcopy(obj), False)

    def deployment(
        self,
        name: str,
        *,
        namespace: str = "default",
        containers: dict[str, str] | None = None,
        image: str = "",
        replicas: int = 3,
        settle: bool = True,
        **spec: Any,
    ) -> Obj:
        """Create a Deployment ``app=name`` and, with ``settle``, tick until it has rolled out."""
        containers = containers or {name: image or f"registry.example.com/{name}:1.0.0"}
        body: Obj = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [
                            {"name": c, "image": img, "ports": [{"containerPort": 8080}]}
                            for c, img in containers.items()
                        ]
                    },
                },
                **spec,
            },
        }
        self.create(body)
        if settle:
            self.settle()
        return self.get("deployments", name, namespace)

    def settle(self, max_ticks: int = 200) -> None:
        """Tick until every Deployment is complete (or paused, or stuck on a failing pod)."""
        for _ in range(max_ticks):
            changed = self.tick()
            if not changed:
                return
        raise AssertionError("the fake controller did not settle")

    def patch_deployment(self, name: str, body: Obj, namespace: str = "default") -> Obj:
        """A strategic-merge patch as a user would send, without HTTP."""
        with self._cond:
            res = RESOURCES["deployments"]
            return self._patch(
                res, namespace, name, body, "application/strategic-merge-patch+json", False
            )

    def merge_patch(self, resource: str, name: str, body: Obj, namespace: str = "default") -> Obj:
        """A JSON merge patch as ``kubectl patch --type merge`` sends, without HTTP (a person
        changing an object by hand)."""
        with self._cond:
            return self._patch(
                RESOURCES[resource], namespace, name, body, "application/merge-patch+json", False
            )

    def delete(self, resource: str, name: str, namespace: str = "default") -> None:
        """Delete as a DELETE would (what it owns too), without HTTP."""
        with self._cond:
            self._delete(RESOURCES[resource], namespace, name, False)

    def writes(self) -> list[Seen]:
        """Every request that asks to change something (dry runs too): PATCH, PUT, POST,
        DELETE."""
        with self._cond:
            return [r for r in self.requests if r.method in {"PATCH", "PUT", "POST", "DELETE"}]

    # --- the store -----------------------------------------------------------------------------

    def _timestamp(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _ensure_namespace(self, ns: str) -> None:
        if ("namespaces", "", ns) not in self.objects:
            self._write(
                "namespaces",
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {
                        "name": ns,
                        "uid": str(uuid.uuid4()),
                        "creationTimestamp": self._timestamp(),
                    },
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
                "ADDED",
            )

    def _write(self, resource: str, obj: Obj, event: str) -> Obj:
        res = RESOURCES[resource]
        self.rv += 1
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self.rv)
        key = (resource, meta.get("namespace", "") if res.namespaced else "", meta["name"])
        if event == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.history.append((self.rv, event, resource, copy.deepcopy(obj)))
        if len(self.history) > 5000:
            dropped = self.history[:1000]
            del self.history[:1000]
            self.compacted_rv = dropped[-1][0]
        self._cond.notify_all()
        return obj

    def _lookup(self, res: Resource, ns: str, name: str) -> Obj:
        obj = self.objects.get((res.plural, ns if res.namespaced else "", name))
        if obj is None:
            raise ApiError(404, "NotFound", f'{res.qualified} "{name}" not found')
        return obj

    def _create(self, res: Resource, ns: str, obj: Obj, dry_run: bool) -> Obj:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + _suffix(self._rand)
        name = meta.get("name")
        if not name:
            raise ApiError(422, "Invalid", f"{res.kind} is invalid: metadata.name: Required value")
        if res.namespaced:
            if meta.get("namespace", ns) != ns:
                raise ApiError(
                    400, "BadRequest", "the namespace of the object does not match the request"
                )
            meta["namespace"] = ns
            if ("namespaces", "", ns) not in self.objects:
                raise ApiError(404, "NotFound", f'namespaces "{ns}" not found')
        if (res.plural, ns if res.namespaced else "", name) in self.objects:
            raise ApiError(409, "AlreadyExists", f'{res.qualified} "{name}" already exists')
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self._timestamp()
        meta.pop("resourceVersion", None)
        meta["managedFields"] = self._managed(res, "Update")
        if res.plural == "deployments":
            meta["generation"] = 1
            _default_deployment(obj)
            _validate_deployment(obj)
            obj["status"] = {}
        if dry_run:
            obj["apiVersion"], obj["kind"] = res.api_version, res.kind
            return obj
        return copy.deepcopy(self._write(res.plural, obj, "ADDED"))

    def _managed(self, res: Resource, operation: str) -> list[Obj]:
        return [
            {
                "manager": "kubeapi-test-client",
                "operation": operation,
                "apiVersion": res.api_version,
                "time": datetime.fromtimestamp(self.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {}, "f:spec": {}},
            }
        ]

    def _update(self, res: Resource, old: Obj, new: Obj, dry_run: bool) -> Obj:
        """Store ``new`` in place of ``old`` as the API server's update strategy would."""
        meta, old_meta = new.setdefault("metadata", {}), old["metadata"]
        if meta.get("name") != old_meta["name"]:
            raise ApiError(422, "Invalid", f"{res.kind} is invalid: metadata.name: immutable")
        rv = meta.get("resourceVersion")
        if rv and rv != old_meta["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {res.qualified} "{old_meta["name"]}": '
                "the object has been modified; please apply your changes to the latest version "
                "and try again",
            )
        for key in ("uid", "creationTimestamp", "namespace", "generation"):
            if key in old_meta:
                meta[key] = old_meta[key]
        if "status" in old:
            # The main resource never writes status (that is the status subresource).
            new["status"] = copy.deepcopy(old["status"])
        if res.plural == "configmaps" and old.get("immutable"):
            # ValidateConfigMapUpdate: an immutable ConfigMap keeps its data and stays immutable.
            for key in ("data", "binaryData", "immutable"):
                if _canonical(new.get(key)) != _canonical(old.get(key)):
                    raise ApiError(
                        422,
                        "Invalid",
                        f'ConfigMap "{old_meta["name"]}" is invalid: {key}: Forbidden: field is '
                        "immutable when `immutable` is set",
                    )
        if res.plural == "deployments":
            _default_deployment(new)
            _validate_deployment(new)
            if new["spec"]["selector"] != old["spec"]["selector"]:
                raise ApiError(
                    422, "Invalid", "Deployment.apps is invalid: spec.selector: field is immutable"
                )
            if _canonical(new["spec"]) != _canonical(old["spec"]):
                meta["generation"] = int(old_meta.get("generation", 1)) + 1
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        meta["managedFields"] = old_meta.get("managedFields", [])
        if _canonical(new) == _canonical(old):
            return copy.deepcopy(old)  # a no-op write keeps its resourceVersion
        # As a real server: who wrote what and when (never part of what a person reviews).
        meta["managedFields"] = self._managed(res, "Update")
        if dry_run:
            meta["resourceVersion"] = old_meta["resourceVersion"]
            return new
        return copy.deepcopy(self._write(res.plural, new, "MODIFIED"))

    def _patch(
        self, res: Resource, ns: str, name: str, body: Any, content_type: str, dry_run: bool
    ) -> Obj:
        old = self._lookup(res, ns, name)
        current = copy.deepcopy(old)
        if content_type == "application/json-patch+json":
            if not isinstance(body, list):
                raise ApiError(400, "BadRequest", "a JSON patch must be a list of operations")
            new = json_patch(current, body)
        elif content_type == "application/merge-patch+json":
            new = merge_patch(current, body)
        elif content_type == "application/strategic-merge-patch+json":
            new = strategic_merge(current, body)
        else:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: application/json-patch+json, application/merge-patch+json, "
                f"application/strategic-merge-patch+json (got {content_type})",
            )
        if not isinstance(new, dict):
            raise ApiError(422, "Invalid", "the patch did not produce an object")
        return self._update(res, old, new, dry_run)

    def _delete(self, res: Resource, ns: str, name: str, dry_run: bool) -> Obj:
        obj = self._lookup(res, ns, name)
        if dry_run:
            return copy.deepcopy(obj)
        self._write(res.plural, copy.deepcopy(obj), "DELETED")
        # Garbage collection of what it owned (background propagation, done at once).
        uid = obj["metadata"]["uid"]
        for (plural, o_ns, o_name), other in list(self.objects.items()):
            if o_ns == ns and any(o.get("uid") == uid for o in _owners(other)):
                self._delete(RESOURCES[plural], o_ns, o_name, False)
        return copy.deepcopy(obj)

    def _list(
        self, res: Resource, ns: str | None, labels: str, fields: str
    ) -> tuple[int, list[Obj]]:
        match_labels = parse_selector(labels)
        match_fields = parse_fields(fields)
        items = [
            copy.deepcopy(o)
            for (plural, o_ns, _), o in sorted(self.objects.items())
            if plural == res.plural
            and (ns is None or o_ns == ns)
            and match_labels(o["metadata"].get("labels") or {})
            and match_fields(o)
        ]
        return self.rv, items

    # --- the controller ------------------------------------------------------------------------

    def tick(self) -> bool:
        """One pass of the ReplicaSet and Deployment controllers; whether anything changed."""
        with self._cond:
            before = self.rv
            self._ticks += 1
            for (plural, ns, name), dep in list(self.objects.items()):
                if plural == "deployments" and (plural, ns, name) in self.objects:
                    self._sync_deployment(copy.deepcopy(dep))
            for (plural, _ns, _name), rs in list(self.objects.items()):
                if plural == "replicasets":
                    self._sync_replicaset(copy.deepcopy(rs))
            for (plural, ns, name), dep in list(self.objects.items()):
                if plural == "deployments" and (plural, ns, name) in self.objects:
                    self._sync_deployment_status(copy.deepcopy(dep))
            return self.rv != before

    def _owned(self, owner: Obj, plural: str) -> list[Obj]:
        uid = owner["metadata"]["uid"]
        ns = owner["metadata"].get("namespace", "")
        found = [
            copy.deepcopy(o)
            for (p, o_ns, _), o in self.objects.items()
            if p == plural
            and o_ns == ns
            and any(r.get("uid") == uid and r.get("controller") for r in _owners(o))
        ]
        found.sort(key=lambda o: (o["metadata"]["creationTimestamp"], o["metadata"]["name"]))
        return found

    def _save(self, plural: str, obj: Obj) -> Obj:
        key = (plural, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if _canonical(self.objects.get(key)) == _canonical(obj):
            return obj
        return self._write(plural, obj, "MODIFIED")

    def _sync_deployment(self, dep: Obj) -> None:
        spec, meta = dep["spec"], dep["metadata"]
        if spec.get("paused"):
            return
        rss = self._owned(dep, "replicasets")
        new_rs = next((rs for rs in rss if equal_ignore_hash(rs, dep)), None)
        old_rss = [rs for rs in rss if rs is not new_rs]
        max_old = max((_revision(rs) for rs in old_rss), default=0)
        desired = int(spec.get("replicas", 1))
        surge, unavailable = _fenceposts(dep)
        copied = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in SKIP_COPY}
        if new_rs is None:
            template = copy.deepcopy(spec["template"])
            pod_hash = template_hash(template)
            template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
            new_rs = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{meta['name']}-{pod_hash}",
                    "namespace": meta["namespace"],
                    "uid": str(uuid.uuid4()),
                    "creationTimestamp": self._timestamp(),
                    "generation": 1,
                    "labels": dict(template["metadata"]["labels"]),
                    "annotations": {
                        **copied,
                        REVISION: str(max_old + 1),
                        DESIRED_REPLICAS: str(desired),
                        MAX_REPLICAS: str(desired + surge),
                    },
                    "ownerReferences": [_owner_ref(dep)],
                },
                "spec": {"replicas": 0, "selector": selector, "template": template},
                "status": {"replicas": 0, "observedGeneration": 1},
            }
            self._write("replicasets", new_rs, "ADDED")
            self._progress(
                dep, "NewReplicaSetCreated", f'Created new replica set "{_name(new_rs)}"'
            )
        else:
            annotations = new_rs["metadata"].setdefault("annotations", {})
            revision = _revision(new_rs)
            if revision <= max_old:
                # Going back to an old template: its ReplicaSet becomes the newest revision.
                past = [p for p in annotations.get(REVISION_HISTORY, "").split(",") if p]
                annotations[REVISION_HISTORY] = ",".join([*past, str(revision)])
                annotations[REVISION] = str(max_old + 1)
                self._progress(
                    dep, "FoundNewReplicaSet", f'Found new replica set "{_name(new_rs)}"'
                )
            annotations.update(copied)
            annotations[DESIRED_REPLICAS] = str(desired)
            annotations[MAX_REPLICAS] = str(desired + surge)
            new_rs = self._save("replicasets", new_rs)
        dep = copy.deepcopy(self.objects[("deployments", meta["namespace"], meta["name"])])
        dep_ann = dep["metadata"].setdefault("annotations", {})
        if dep_ann.get(REVISION) != new_rs["metadata"]["annotations"][REVISION]:
            dep_ann[REVISION] = new_rs["metadata"]["annotations"][REVISION]
            self._save("deployments", dep)
        old_rss = [rs for rs in self._owned(dep, "replicasets") if _name(rs) != _name(new_rs)]
        if spec.get("strategy", {}).get("type") == "Recreate":
            self._recreate(new_rs, old_rss, desired)
        else:
            self._rolling(new_rs, old_rss, desired, surge, unavailable)

    def _scale(self, rs: Obj, replicas: int) -> None:
        rs = copy.deepcopy(self.objects[("replicasets", rs["metadata"]["namespace"], _name(rs))])
        if rs["spec"]["replicas"] != replicas:
            rs["spec"]["replicas"] = replicas
            rs["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
            self._write("replicasets", rs, "MODIFIED")

    def _recreate(self, new_rs: Obj, old_rss: list[Obj], desired: int) -> None:
        running = 0
        for rs in old_rss:
            if rs["spec"]["replicas"]:
                self._scale(rs, 0)
            running += int(rs.get("status", {}).get("replicas", 0))
        if running == 0 and new_rs["spec"]["replicas"] != desired:
            self._scale(new_rs, desired)

    def _rolling(
        self, new_rs: Obj, old_rss: list[Obj], desired: int, surge: int, unavailable: int
    ) -> None:
        # reconcileNewReplicaSet
        all_rs = [new_rs, *old_rss]
        total = sum(int(rs["spec"]["replicas"]) for rs in all_rs)
        new_count = int(new_rs["spec"]["replicas"])
        if new_count > desired:
            self._scale(new_rs, desired)
        elif new_count < desired:
            room = desired + surge - total
            up = min(room, desired - new_count)
            if up > 0:
                self._scale(new_rs, new_count + up)
        # reconcileOldReplicaSets
        new_rs = self.objects[("replicasets", new_rs["metadata"]["namespace"], _name(new_rs))]
        old_rss = [
            self.objects[("replicasets", rs["metadata"]["namespace"], _name(rs))] for rs in old_rss
        ]
        old_count = sum(int(rs["spec"]["replicas"]) for rs in old_rss)
        if old_count == 0:
            return
        all_count = old_count + int(new_rs["spec"]["replicas"])
        min_available = desired - unavailable
        new_unavailable = int(new_rs["spec"]["replicas"]) - int(
            new_rs.get("status", {}).get("availableReplicas", 0)
        )
        max_down = all_count - min_available - new_unavailable
        if max_down <= 0:
            return
        # cleanupUnhealthyReplicas: old pods that are not available go first
        for rs in old_rss:
            if max_down <= 0:
                break
            replicas = int(rs["spec"]["replicas"])
            healthy = int(rs.get("status", {}).get("availableReplicas", 0))
            down = min(max_down, replicas - healthy)
            if down > 0:
                self._scale(rs, replicas - down)
                max_down -= down
        old_rss = [
            self.objects[("replicasets", rs["metadata"]["namespace"], _name(rs))] for rs in old_rss
        ]
        # scaleDownOldReplicaSetsForRollingUpdate
        available = sum(
            int(rs.get("status", {}).get("availableReplicas", 0)) for rs in [new_rs, *old_rss]
        )
        down_total = available - min_available
        for rs in old_rss:
            if down_total <= 0:
                break
            replicas = int(rs["spec"]["replicas"])
            down = min(replicas, down_total)
            if down > 0:
                self._scale(rs, replicas - down)
                down_total -= down

    def _sync_replicaset(self, rs: Obj) -> None:
        ns = rs["metadata"]["namespace"]
        pods = self._owned(rs, "pods")
        want = int(rs["spec"]["replicas"])
        # Pods age: created -> ready (or failing) after pod_ready_ticks ticks.
        for pod in pods:
            age = self._pod_age.get(pod["metadata"]["uid"], 0) + 1
            self._pod_age[pod["metadata"]["uid"]] = age
            if age == self.pod_ready_ticks:
                self._start_pod(pod)
        pods = self._owned(rs, "pods")
        if len(pods) > want:
            # Not-ready pods go first, then the newest.
            pods.sort(key=lambda p: (_pod_ready(p), p["metadata"]["creationTimestamp"]))
            for pod in pods[: len(pods) - want]:
                self._write("pods", copy.deepcopy(pod), "DELETED")
        elif len(pods) < want:
            template = rs["spec"]["template"]
            for _ in range(want - len(pods)):
                pod = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{_name(rs)}-{_suffix(self._rand)}",
                        "namespace": ns,
                        "uid": str(uuid.uuid4()),
                        "creationTimestamp": self._timestamp(),
                        "labels": dict(template["metadata"].get("labels") or {}),
                        "ownerReferences": [_owner_ref(rs)],
                    },
                    "spec": copy.deepcopy(template["spec"]),
                    "status": {
                        "phase": "Pending",
                        "conditions": [
                            {"type": "PodScheduled", "status": "True"},
                            {"type": "Ready", "status": "False"},
                        ],
                        "containerStatuses": [
                            {
                                "name": c["name"],
                                "image": c["image"],
                                "ready": False,
                                "restartCount": 0,
                                "state": {"waiting": {"reason": "ContainerCreating"}},
                            }
                            for c in template["spec"]["containers"]
                        ],
                    },
                }
                self._write("pods", pod, "ADDED")
        pods = self._owned(rs, "pods")
        ready = sum(1 for p in pods if _pod_ready(p))
        rs = copy.deepcopy(self.objects[("replicasets", ns, _name(rs))])
        rs["status"] = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if not ready:
            del rs["status"]["readyReplicas"], rs["status"]["availableReplicas"]
        self._save("replicasets", rs)

    def _start_pod(self, pod: Obj) -> None:
        statuses = []
        failing = False
        for c in pod["spec"]["containers"]:
            rule = next(
                (r for r in self.fail_rules if fnmatch.fnmatch(c["image"], r.pattern)), None
            )
            if rule is None:
                statuses.append(
                    {
                        "name": c["name"],
                        "image": c["image"],
                        "ready": True,
                        "started": True,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": self._timestamp()}},
                    }
                )
                continue
            failing = True
            message = {
                "CrashLoopBackOff": (
                    f"back-off 10s restarting failed container={c['name']} pod={_name(pod)}"
                ),
                "ImagePullBackOff": f'Back-off pulling image "{c["image"]}"',
                "ErrImagePull": f'failed to pull image "{c["image"]}": not found',
            }.get(rule.reason, "")
            statuses.append(
                {
                    "name": c["name"],
                    "image": c["image"],
                    "ready": False,
                    "started": False,
                    "restartCount": 3 if rule.reason == "CrashLoopBackOff" else 0,
                    "state": {"waiting": {"reason": rule.reason, "message": message}},
                }
            )
        pulling = any(
            s["state"].get("waiting", {}).get("reason") in {"ImagePullBackOff", "ErrImagePull"}
            for s in statuses
        )
        status = {
            "phase": "Pending" if pulling else "Running",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "False" if failing else "True"},
            ],
            "containerStatuses": statuses,
        }
        pod = copy.deepcopy(pod)
        if _canonical(pod["status"]) != _canonical(status):
            pod["status"] = status
            self._write("pods", pod, "MODIFIED")

    def _progress(self, dep: Obj, reason: str, message: str) -> None:
        key = ("deployments", dep["metadata"]["namespace"], dep["metadata"]["name"])
        current = copy.deepcopy(self.objects[key])
        _set_condition(current, "Progressing", "True", reason, message, self._timestamp(), True)
        self._save("deployments", current)

    def _sync_deployment_status(self, dep: Obj) -> None:
        spec, meta = dep["spec"], dep["metadata"]
        status_before = dep.get("status") or {}
        rss = self._owned(dep, "replicasets")
        new_rs = next((rs for rs in rss if equal_ignore_hash(rs, dep)), None)
        desired = int(spec.get("replicas", 1))
        _, unavailable = _fenceposts(dep)
        replicas = sum(int(rs.get("status", {}).get("replicas", 0)) for rs in rss)
        ready = sum(int(rs.get("status", {}).get("readyReplicas", 0)) for rs in rss)
        available = sum(int(rs.get("status", {}).get("availableReplicas", 0)) for rs in rss)
        updated = int(new_rs.get("status", {}).get("replicas", 0)) if new_rs else 0
        status: Obj = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(desired - available, 0),
            "conditions": copy.deepcopy(status_before.get("conditions") or []),
        }
        for key in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
            if not status[key]:
                del status[key]
        if not status["unavailableReplicas"]:
            del status["unavailableReplicas"]
        dep["status"] = status
        now = self._timestamp()
        if available >= desired - unavailable:
            _set_condition(
                dep,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
            )
        else:
            _set_condition(
                dep,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
            )
        rs_name = _name(new_rs) if new_rs else ""
        if spec.get("paused"):
            _set_condition(
                dep, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now
            )
        elif new_rs is not None:
            complete = updated == desired and replicas == desired and available == desired
            before = status_before
            progressed = (
                updated > int(before.get("updatedReplicas", 0))
                or ready > int(before.get("readyReplicas", 0))
                or available > int(before.get("availableReplicas", 0))
                or replicas < int(before.get("replicas", 0))
            )
            cond = _condition(dep, "Progressing")
            if complete:
                _set_condition(
                    dep,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{rs_name}" has successfully progressed.',
                    now,
                    progress=cond is None or cond.get("reason") != "NewReplicaSetAvailable",
                )
            elif progressed:
                _set_condition(
                    dep,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{rs_name}" is progressing.',
                    now,
                    progress=True,
                )
            elif cond is not None and cond.get("reason") not in {
                "NewReplicaSetAvailable",
                "ProgressDeadlineExceeded",
            }:
                deadline = int(spec.get("progressDeadlineSeconds", 600))
                last = _parse_time(cond.get("lastUpdateTime", now))
                if self.now() > last + deadline:
                    _set_condition(
                        dep,
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        f'ReplicaSet "{rs_name}" has timed out progressing.',
                        now,
                        progress=True,
                    )
        self._save("deployments", dep)


# --- the HTTP side ---------------------------------------------------------------------------


_PATH_RE = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[a-z.]+)/(?P<version>v1))"
    r"(?:/namespaces/(?P<ns>[^/]+)(?=/[a-z]+))?/(?P<plural>[a-z]+)(?:/(?P<name>[^/]+))?$"
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_api: KubeAPI

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _send(self, code: int, payload: Any, content_type: str = "application/json") -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method: str) -> None:
        api = self.server_api
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        seen = Seen(method, parts.path, query, content_type)
        seen.dry_run = query.get("dryRun") == "All"
        seen.watch = query.get("watch") in {"true", "1"}
        with api._cond:
            api.requests.append(seen)
        try:
            if raw and "protobuf" in content_type:
                raise ApiError(415, "UnsupportedMediaType", "protobuf is not served here")
            body = json.loads(raw) if raw else None
            seen.body = body
            discovery = _discovery(parts.path, api.port)
            if discovery is not None:
                if method != "GET":
                    raise ApiError(405, "MethodNotAllowed", "discovery is read-only")
                self._send(200, discovery)
                return
            m = _PATH_RE.match(parts.path)
            if not m or m["plural"] not in RESOURCES:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            res = RESOURCES[m["plural"]]
            if res.group != (m["group"] or ""):
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            ns, name = m["ns"], m["name"]
            seen.resource, seen.name = res.plural, name or ""
            if seen.watch and method == "GET" and name is None:
                self._watch(res, ns, query)
                return
            with api._cond:
                code, payload = self._handle(api, method, res, ns or "", name, body, query)
            self._send(code, payload)
        except ApiError as exc:
            self._send(exc.code, exc.status())
        except json.JSONDecodeError as exc:
            self._send(400, status_object(400, "BadRequest", f"invalid JSON: {exc}"))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _handle(
        self,
        api: KubeAPI,
        method: str,
        res: Resource,
        ns: str,
        name: str | None,
        body: Any,
        query: dict[str, str],
    ) -> tuple[int, Any]:
        dry_run = query.get("dryRun") == "All"
        if name is None:
            if method == "GET":
                rv, items = api._list(
                    res,
                    ns if res.namespaced and ns else None,
                    query.get("labelSelector", ""),
                    query.get("fieldSelector", ""),
                )
                for item in items:
                    item.pop("apiVersion", None)
                    item.pop("kind", None)
                return 200, {
                    "kind": f"{res.kind}List",
                    "apiVersion": res.api_version,
                    "metadata": {"resourceVersion": str(rv)},
                    "items": items,
                }
            if method == "POST":
                if not isinstance(body, dict):
                    raise ApiError(400, "BadRequest", "the request body must be an object")
                return 201, api._create(res, ns, copy.deepcopy(body), dry_run)
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on a collection")
        if method == "GET":
            return 200, copy.deepcopy(api._lookup(res, ns, name))
        if method == "PATCH":
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            return 200, api._patch(res, ns, name, body, content_type, dry_run)
        if method == "PUT":
            old = api._lookup(res, ns, name)
            return 200, api._update(res, old, copy.deepcopy(body), dry_run)
        if method == "DELETE":
            api._delete(res, ns, name, dry_run)
            return 200, {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {"name": name, "group": res.group, "kind": res.plural},
            }
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed")

    def _chunk(self, payload: Obj) -> None:
        data = json.dumps(payload).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _watch(self, res: Resource, ns: str | None, query: dict[str, str]) -> None:
        api = self.server_api
        labels = query.get("labelSelector", "")
        fields = query.get("fieldSelector", "")
        match_labels, match_fields = parse_selector(labels), parse_fields(fields)
        timeout = float(query.get("timeoutSeconds") or 1800)
        stop_at = time.monotonic() + timeout
        namespace = ns if res.namespaced and ns else None
        rv_text = query.get("resourceVersion", "")
        with api._cond:
            epoch = api._watch_epoch
            since = int(rv_text) if rv_text.isdigit() and rv_text != "0" else 0
            too_old = since and since < api.compacted_rv
            if too_old and api.http_410:
                raise ApiError(410, "Expired", f"too old resource version: {since} ({api.rv})")
            initial: list[Obj] = []
            if not since:
                since, items = api._list(res, namespace, labels, fields)
                initial = [{"type": "ADDED", "object": item} for item in items]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        try:
            if too_old:
                self._chunk(
                    {
                        "type": "ERROR",
                        "object": status_object(
                            410, "Expired", f"too old resource version: {since} ({api.rv})"
                        ),
                    }
                )
                return
            for event in initial:
                self._chunk(event)
            while True:
                with api._cond:
                    pending = [
                        (rv, kind, obj)
                        for rv, kind, plural, obj in api.history
                        if rv > since
                        and plural == res.plural
                        and (namespace is None or obj["metadata"].get("namespace") == namespace)
                    ]
                    if not pending:
                        if api._stopping or api._watch_epoch != epoch:
                            ended = "error" if api._watch_end_mode == "error" else "close"
                            if api._stopping:
                                ended = "close"
                            break
                        left = stop_at - time.monotonic()
                        if left <= 0:
                            ended = "close"
                            break
                        api._cond.wait(min(left, 0.5))
                        continue
                for rv, kind, obj in pending:
                    since = rv
                    if match_labels(obj["metadata"].get("labels") or {}) and match_fields(obj):
                        self._chunk({"type": kind, "object": obj})
            if ended == "error":
                self._chunk(
                    {
                        "type": "ERROR",
                        "object": status_object(
                            410, "Expired", f"too old resource version: {since} ({api.rv})"
                        ),
                    }
                )
        except (BrokenPipeError, ConnectionResetError, OSError):
            return
        finally:
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                pass


def _discovery(path: str, port: int) -> Obj | None:
    if path == "/version":
        return {
            "major": "1",
            "minor": "32",
            "gitVersion": "v1.32.0-kubeapi-test",
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.23",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}
            ],
        }
    apps_group = {
        "name": "apps",
        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
    }
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [apps_group]}
    if path == "/apis/apps":
        return {"kind": "APIGroup", "apiVersion": "v1", **apps_group}
    for group_version, prefix in (("v1", "/api/v1"), ("apps/v1", "/apis/apps/v1")):
        if path == prefix:
            resources: list[Obj] = []
            for r in RESOURCES.values():
                if r.api_version != group_version:
                    continue
                resources.append(
                    {
                        "name": r.plural,
                        "singularName": r.kind.lower(),
                        "namespaced": r.namespaced,
                        "kind": r.kind,
                        "verbs": [
                            "create",
                            "delete",
                            "deletecollection",
                            "get",
                            "list",
                            "patch",
                            "update",
                            "watch",
                        ],
                        "shortNames": list(r.short),
                        **({"categories": ["all"]} if r.plural != "configmaps" else {}),
                    }
                )
                if r.plural in {"deployments", "replicasets"}:
                    resources.append(
                        {
                            "name": f"{r.plural}/status",
                            "singularName": "",
                            "namespaced": True,
                            "kind": r.kind,
                            "verbs": ["get", "patch", "update"],
                        }
                    )
            return {
                "kind": "APIResourceList",
                "groupVersion": group_version,
                "resources": resources,
            }
    return None


@contextmanager
def kube_api(*, controller: bool = False, interval: float = 0.05) -> Iterator[KubeAPI]:
    """A running server; with ``controller`` the rollout advances on a background timer."""
    api = KubeAPI().start()
    if controller:
        api.start_controller(interval)
    try:
        yield api
    finally:
        api.stop()


# --- object rules ----------------------------------------------------------------------------


def _name(obj: Obj | None) -> str:
    return str((obj or {}).get("metadata", {}).get("name", ""))


def _owners(obj: Obj) -> list[Obj]:
    return list(obj.get("metadata", {}).get("ownerReferences") or [])


def _owner_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _revision(obj: Obj) -> int:
    value = (obj["metadata"].get("annotations") or {}).get(REVISION, "0")
    try:
        return int(value)
    except ValueError:
        return 0


def _pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod.get("status", {}).get("conditions", [])
    )


def _suffix(rand: random.Random) -> str:
    return "".join(rand.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))


def _parse_time(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def _condition(dep: Obj, kind: str) -> Obj | None:
    for cond in dep.get("status", {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def _set_condition(
    dep: Obj,
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: str,
    progress: bool = False,
) -> None:
    conditions = dep.setdefault("status", {}).setdefault("conditions", [])
    for cond in conditions:
        if cond["type"] == kind:
            if cond["status"] != status:
                cond["lastTransitionTime"] = now
            if progress or cond["status"] != status or cond["reason"] != reason:
                cond["lastUpdateTime"] = now
            cond.update(status=status, reason=reason, message=message)
            return
    conditions.append(
        {
            "type": kind,
            "status": status,
            "lastUpdateTime": now,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }
    )


def _scaled(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        exact = int(text[:-1]) * total / 100
        return int(-(-exact // 1)) if round_up else int(exact // 1)
    return int(text)


def _fenceposts(dep: Obj) -> tuple[int, int]:
    """ResolveFenceposts: maxSurge rounds up, maxUnavailable down; never both zero."""
    desired = int(dep["spec"].get("replicas", 1))
    rolling = (dep["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    surge = _scaled(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = _scaled(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _default_deployment(dep: Obj) -> None:
    spec = dep.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy["type"] = "RollingUpdate"
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    template = spec.setdefault("template", {})
    pod = template.setdefault("spec", {})
    pod.setdefault("restartPolicy", "Always")
    pod.setdefault("terminationGracePeriodSeconds", 30)
    pod.setdefault("dnsPolicy", "ClusterFirst")
    pod.setdefault("securityContext", {})
    pod.setdefault("schedulerName", "default-scheduler")
    for container in pod.get("containers") or []:
        image = str(container.get("image", ""))
        tag = image.rsplit("/", 1)[-1]
        latest = ":" not in tag or tag.endswith(":latest")
        container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")


def _validate_deployment(dep: Obj) -> None:
    spec = dep["spec"]
    selector = spec.get("selector") or {}
    labels = (spec.get("template", {}).get("metadata") or {}).get("labels") or {}
    if not selector:
        raise ApiError(422, "Invalid", "Deployment.apps is invalid: spec.selector: Required value")
    if not selector_matches(selector, labels):
        raise ApiError(
            422,
            "Invalid",
            "Deployment.apps is invalid: spec.template.metadata.labels: Invalid value: "
            "`selector` does not match template `labels`",
        )
    if not spec.get("template", {}).get("spec", {}).get("containers"):
        raise ApiError(
            422,
            "Invalid",
            "Deployment.apps is invalid: spec.template.spec.containers: Required value",
        )


def selector_matches(selector: Obj, labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and key in labels and labels[key] in values)
            or (op == "Exists" and key not in labels)
            or (op == "DoesNotExist" and key in labels)
        ):
            return False
    return True


def _prune(value: Any) -> Any:
    """Semantic equality as Go sees it: unset, null and empty are the same."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(_prune(value), sort_keys=True)


def equal_ignore_hash(rs: Obj, dep: Obj) -> bool:
    """The ReplicaSet's pod template is the Deployment's, the pod-template-hash label aside."""
    a = copy.deepcopy(rs["spec"]["template"])
    b = copy.deepcopy(dep["spec"]["template"])
    for t in (a, b):
        (t.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return _canonical(a) == _canonical(b)


def template_hash(template: Obj) -> str:
    digest = hashlib.sha256(_canonical(template).encode()).digest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


# --- selectors -------------------------------------------------------------------------------

_SET_RE = re.compile(r"^\s*(?P<key>[^\s!=]+)\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)\s*$")


def _split_terms(text: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        terms.append(current)
    return [t.strip() for t in terms if t.strip()]


def parse_selector(text: str) -> Callable[[dict[str, str]], bool]:
    """A label selector string (``a=b,c!=d,e in (x,y),!f,g``) as a predicate."""
    checks: list[Callable[[dict[str, str]], bool]] = []
    for term in _split_terms(text):
        m = _SET_RE.match(term)
        if m:
            key, op = m["key"], m["op"]
            values = {v.strip() for v in m["values"].split(",") if v.strip()}
            if op == "in":
                checks.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                checks.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        elif "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif term.startswith("!"):
            missing = term[1:].strip()
            checks.append(lambda labels, k=missing: k not in labels)
        else:
            checks.append(lambda labels, k=term: k in labels)
    return lambda labels: all(check(labels) for check in checks)


def parse_fields(text: str) -> Callable[[Obj], bool]:
    checks: list[Callable[[Obj], bool]] = []
    for term in _split_terms(text):
        negate = "!=" in term
        key, value = (s.strip() for s in re.split(r"!=|==|=", term, maxsplit=1))
        path = key.split(".")

        def check(obj: Obj, path: list[str] = path, value: str = value, neg: bool = negate) -> bool:
            current: Any = obj
            for part in path:
                current = current.get(part) if isinstance(current, dict) else None
            return (str(current) == value) != neg

        checks.append(check)
    return lambda obj: all(check(obj) for check in checks)


# --- patches ---------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# Merge keys of the lists a release touches (the patchMergeKey tags of the API types).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "ports": "containerPort",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
}


def strategic_merge(target: Any, patch: Any) -> Any:
    """A strategic-merge patch for the shapes a release sends: maps merge, lists with a merge key
    (containers by name, env by name, ports by containerPort, ...) merge by that key, other lists
    are replaced; ``$patch: replace|delete``, ``$retainKeys`` and ``$setElementOrder/...``
    directives are understood."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
            continue
        if key.startswith("$") or key.startswith("$deleteFromPrimitiveList/"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and MERGE_KEYS.get(key):
            result[key] = _merge_list(result.get(key) or [], value, MERGE_KEYS[key])
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    for key, order in orders.items():
        merge_key = MERGE_KEYS.get(key)
        if merge_key and isinstance(result.get(key), list):
            wanted = [o.get(merge_key) for o in order if isinstance(o, dict)]
            items = result[key]
            result[key] = sorted(
                items,
                key=lambda item: (
                    wanted.index(item.get(merge_key))
                    if item.get(merge_key) in wanted
                    else len(wanted)
                ),
            )
    return result


def _merge_list(current: list[Any], patch: list[Any], key: str) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    result = [copy.deepcopy(c) for c in current]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(copy.deepcopy(item))
            continue
        index = next(
            (i for i, c in enumerate(result) if isinstance(c, dict) and c.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(strategic_merge({}, item))
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> Any:
    current = doc
    for part in parts[:-1]:
        if isinstance(current, list):
            current = current[int(part)]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        else:
            raise ApiError(422, "Invalid", f"doc is missing path: /{'/'.join(parts)}")
    return current


def json_patch(doc: Any, ops: list[Obj]) -> Any:
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        if kind in {"move", "copy"}:
            source = _pointer(op["from"])
            value = _get(doc, source)
            if kind == "move":
                doc = _remove(doc, source)
            doc = _add(doc, parts, copy.deepcopy(value))
        elif kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, parts)
        elif kind == "replace":
            _get(doc, parts)  # must exist
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                parent = _parent(doc, parts)
                key: Any = int(parts[-1]) if isinstance(parent, list) else parts[-1]
                parent[key] = copy.deepcopy(op.get("value"))
        elif kind == "test":
            if _get(doc, parts) != op.get("value"):
                raise ApiError(422, "Invalid", f"test failed at {op.get('path')}")
        else:
            raise ApiError(422, "Invalid", f"unknown JSON patch operation {kind!r}")
    return doc


def _get(doc: Any, parts: list[str]) -> Any:
    current = doc
    for part in parts:
        try:
            current = current[int(part)] if isinstance(current, list) else current[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "Invalid", f"doc is missing path: /{'/'.join(parts)}") from None
    return current


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _parent(doc, parts)
    if isinstance(parent, list):
        if parts[-1] == "-":
            parent.append(value)
        else:
            parent.insert(int(parts[-1]), value)
    elif isinstance(parent, dict):
        parent[parts[-1]] = value
    else:
        raise ApiError(422, "Invalid", f"cannot add at /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    _get(doc, parts)
    parent = _parent(doc, parts)
    if isinstance(parent, list):
        parent.pop(int(parts[-1]))
    else:
        del parent[parts[-1]]
    return doc
