"""The ``kubernetes`` probe: the environment's Deployments are available, none of their pods is
stuck (``CrashLoopBackOff``, ``ImagePullBackOff``, ``ErrImagePull``), and optionally the nodes
have room for the pods a new ReplicaSet adds at once.

Available is kubectl's ``rollout status`` verdict (:func:`cockpit.steps.kubernetes.rules.
rollout_status`: complete) with ``availableReplicas`` at least ``spec.replicas``. Capacity: a
rolling update adds up to ``maxSurge`` pods (25 % of the replicas, rounded up, by default; none
for ``Recreate``, whose old pods go first) with the pod template's CPU and memory requests; each
must fit on one schedulable, ready node's allocatable minus the requests of the pods already on
it (placed largest room first). Taints, affinities and quotas are not modelled: the check says
so in its details.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from cockpit.plan.probes import KubernetesProbe
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result

Obj = dict[str, Any]
RESOURCES = ("cpu", "memory")


class KubernetesProbeKind(ProbeKind):
    name = "kubernetes"

    def preview(self, spec: KubernetesProbe, ctx: ProbeContext) -> str:
        kube = ctx.env.kubernetes
        names = spec.deployments or kube.deployments
        which = ", ".join(names) if names else "every Deployment"
        room = "; room for a new ReplicaSet's surge" if spec.capacity else ""
        return f"{which} in namespace {kube.namespace}: available, no pod in CrashLoopBackOff{room}"

    def run(self, spec: KubernetesProbe, ctx: ProbeContext) -> Result:
        from cockpit.steps.base import StepFailed
        from cockpit.steps.kubernetes.api import connect

        try:
            with connect(ctx.loaded, ctx.env, ctx.step_context()) as api:
                return _look(spec, ctx, api)
        except StepFailed as exc:
            raise CannotLook(str(exc)) from None


def _look(spec: KubernetesProbe, ctx: ProbeContext, api: Any) -> Result:
    from cockpit.steps.kubernetes.rules import POD_FAILURES, rollout_status, selector_string

    names = list(spec.deployments or ctx.env.kubernetes.deployments)
    deployments = [api.get_deployment(n) for n in names] if names else api.deployments()[1]
    expected = "every Deployment available, no pod in CrashLoopBackOff" + (
        ", room for the surge" if spec.capacity else ""
    )
    if not deployments:
        return Result(False, f"no Deployment in namespace {api.namespace}", expected, {})
    problems: list[str] = []
    shown: dict[str, Any] = {}
    for dep in deployments:
        name = str(dep["metadata"]["name"])
        want = int((dep.get("spec") or {}).get("replicas", 1) or 0)
        available = int((dep.get("status") or {}).get("availableReplicas") or 0)
        verdict = rollout_status(dep)
        stuck = []
        for pod in api.pods(selector_string(dep["spec"].get("selector") or {})):
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                reason = ((status.get("state") or {}).get("waiting") or {}).get("reason")
                if reason in POD_FAILURES:
                    stuck.append(f"{pod['metadata']['name']} {reason}")
        shown[name] = {"replicas": want, "available": available, "stuck": stuck}
        if not verdict.done or available < want:
            problems.append(f"deployment/{name} {available}/{want} available ({verdict.message})")
        if stuck:
            problems.append(f"deployment/{name}: {', '.join(stuck)}")
    details: Obj = {"namespace": api.namespace, "deployments": shown}
    if spec.capacity:
        details["capacity"] = room = _capacity(api, deployments)
        problems += room["short"]
    if problems:
        return Result(False, "; ".join(problems), expected, details)
    seen = f"{len(deployments)} Deployment(s) available, no pod stuck" + (
        f"; room for {details['capacity']['surge_pods']} surge pod(s)" if spec.capacity else ""
    )
    return Result(True, seen, expected, details)


def _quantity(value: Any) -> Decimal:
    from kubernetes.utils import parse_quantity

    try:
        return Decimal(parse_quantity(value))  # type: ignore[no-untyped-call]
    except (ValueError, TypeError):
        raise CannotLook(f"kubernetes: cannot read the quantity {value!r}") from None


def _requests(pod_spec: Obj) -> dict[str, Decimal]:
    total = dict.fromkeys(RESOURCES, Decimal(0))
    for container in pod_spec.get("containers") or []:
        asked = (container.get("resources") or {}).get("requests") or {}
        for key in RESOURCES:
            if key in asked:
                total[key] += _quantity(asked[key])
    return total


def _surge(dep: Obj) -> int:
    spec = dep.get("spec") or {}
    replicas = int(spec.get("replicas", 1) or 0)
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    surge = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%"):
        return math.ceil(replicas * int(surge[:-1]) / 100)
    return int(surge)


def _ready(node: Obj) -> bool:
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _capacity(api: Any, deployments: list[Obj]) -> Obj:
    nodes = api.call("nodes", api.core.list_node)["items"] or []
    pods = api.call("pods in every namespace", api.core.list_pod_for_all_namespaces)["items"]
    free: dict[str, dict[str, Decimal]] = {}
    for node in nodes:
        if _ready(node):
            allocatable = (node.get("status") or {}).get("allocatable") or {}
            free[node["metadata"]["name"]] = {
                k: _quantity(allocatable.get(k, 0)) for k in RESOURCES
            }
    for pod in pods or []:
        node = (pod.get("spec") or {}).get("nodeName")
        phase = (pod.get("status") or {}).get("phase")
        if node in free and phase not in ("Succeeded", "Failed"):
            for key, value in _requests(pod["spec"]).items():
                free[node][key] -= value
    room: Obj = {
        "nodes": {},
        "surge_pods": 0,
        "short": [],
        "not_modelled": "taints, affinities, quotas",
    }
    for dep in deployments:
        name = dep["metadata"]["name"]
        need = _requests(dep["spec"]["template"].get("spec") or {})
        for n in range(_surge(dep)):
            fits = [node for node, r in free.items() if all(r[k] >= need[k] for k in RESOURCES)]
            if not fits:
                asked = ", ".join(f"{k} {_show(k, need[k])}" for k in RESOURCES)
                room["short"].append(
                    f"deployment/{name}: no node has room for surge pod {n + 1} ({asked})"
                )
                break
            best = max(fits, key=lambda node: (free[node]["cpu"], free[node]["memory"]))
            for key in RESOURCES:
                free[best][key] -= need[key]
            room["surge_pods"] += 1
    room["nodes"] = {n: {k: _show(k, v) for k, v in r.items()} for n, r in free.items()}
    return room


def _show(key: str, value: Decimal) -> str:
    """CPU in millicores, memory in MiB: as the requests are usually written."""
    if key == "cpu":
        return f"{value * 1000:.0f}m"
    return f"{value / 2**20:.0f}Mi"
