"""The Kubernetes API client of one environment (:class:`KubeApi`, opened by :func:`connect`):
the ``kubernetes`` client speaking JSON dicts, every call with a timeout no longer than what is
left of the step, and :class:`Change`, one API call a step makes, which :meth:`KubeApi.apply`
makes. The ``kubernetes`` client is imported only here and in the watch, inside functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cockpit.events import redact_text
from cockpit.steps.base import StepContext, StepFailed
from cockpit.steps.kubernetes.rules import Obj, controlled_by, selector_string

if TYPE_CHECKING:
    from cockpit.config import EnvironmentConfig, LoadedConfig

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# A watch asks the server to end it after this long; the read timeout is a little longer.
WATCH_SECONDS = 50

PATCH_TYPES = {
    "strategic-merge-patch": "application/strategic-merge-patch+json",
    "merge-patch": "application/merge-patch+json",
    "json-patch": "application/json-patch+json",
}


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
                f"{what}: cannot reach the Kubernetes API at {self.host} ({reason(exc)})"
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
        return [rs for rs in listed["items"] or [] if controlled_by(rs, deployment)]

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

    def apply(self, change: Change, dry_run: bool = False) -> Obj:
        """Make ``change`` (PATCH, POST, DELETE, or PUT of a ConfigMap); with ``dry_run`` the
        server's answer to ``dryRun=All``, nothing persisted."""
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
            elif change.verb == "PUT":
                fn, args = (
                    self.core.replace_namespaced_config_map,
                    (name, self.namespace, change.body),
                )
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


def reason(exc: BaseException) -> str:
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


# --- one API call -------------------------------------------------------------------------------


@dataclass
class Change:
    """One API call a step makes (``body`` None: nothing to do, ``note`` says why)."""

    kind: str  # deployment | configmap
    name: str
    verb: str  # PATCH | POST | DELETE | PUT (a ConfigMap)
    patch_type: str = ""
    body: Any = None
    before: Obj | None = None
    note: str = ""
    target_images: dict[str, str] = field(default_factory=dict)
    # Nothing to do because an earlier (interrupted) run of this very step did it.
    ours: bool = False
    # Why the step will not make it (a paused Deployment): the run refuses before any write.
    refused: str = ""
    # The change resumes a paused Deployment (``resume_paused``): undo pauses it again.
    resumes: bool = False

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
        if self.verb == "PUT":
            return f"PUT {group} {path}/{self.name} {body}"
        return f"DELETE {group} {path}/{self.name}"
