"""Probe kinds against real services: Prometheus scraping a controlled exporter, CloudWatch
metrics and alarms, RDS snapshots and STS on moto, the Kubernetes test API server, this host;
each probe's deadline against a server that never answers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.config import LoadedConfig, parse_config_text
from cockpit.plan import (
    AlarmsProbe,
    BackupProbe,
    CredentialsProbe,
    KubernetesProbe,
    MetricProbe,
)
from cockpit.probes import CannotLook, run_check, run_probe
from cockpit.runner import CheckFailed
from tests.dripserver import DripServer
from tests.kubeapi import KubeAPI, kube_api
from tests.services import MotoServer
from tests.test_metrics import Prom, prom, wait_for  # noqa: F401  (the fixture)
from tests.test_steps_aws import ACCOUNT, REGION, SECRET, moto  # noqa: F401  (the fixture)


def loaded_config(tmp_path: Path, extra: str) -> LoadedConfig:
    return LoadedConfig(
        parse_config_text(f"[environments.staging]\n{extra}"), tmp_path / "cockpit.toml"
    )


def failure(probe: Any, loaded: LoadedConfig) -> tuple[str, dict[str, Any]]:
    outcome: dict[str, Any] = {}
    with pytest.raises(CheckFailed) as exc:
        run_check(probe, "staging", loaded.environment("staging"), loaded, outcome)
    return str(exc.value), outcome


def aws_config(tmp_path: Path, endpoint: str, extra: str = "") -> LoadedConfig:
    return loaded_config(
        tmp_path,
        f'[environments.staging.aws]\nregion = "{REGION}"\nendpoint_url = "{endpoint}"\n{extra}',
    )


def boto(server: MotoServer, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=server.url, region_name=REGION)


# --- metric: Prometheus ----------------------------------------------------------------------


def value(url: str, query: str) -> float | None:
    from cockpit.metrics.sources import PrometheusSource

    source = PrometheusSource(url, timeout=2)
    try:
        return source.query(query)[0]
    finally:
        source.close()


def test_metric_from_prometheus_against_a_threshold_and_over_a_window(
    tmp_path: Path,
    prom: Prom,  # noqa: F811
) -> None:
    loaded = loaded_config(
        tmp_path, f'[environments.staging.metrics]\nprometheus_url = "{prom.url}"\n'
    )
    cpu = MetricProbe(query="max(app_cpu_percent{job='app'})", max=70, unit=" %")
    prom.app.set(cpu=35.0)
    wait_for(lambda: value(prom.url, "max(app_cpu_percent{job='app'})") == 35.0, 10)
    seen = run_probe(cpu, "staging", loaded)
    assert seen["value"] == 35.0 and seen["max"] == 70
    prom.app.set(cpu=85.0)
    wait_for(lambda: value(prom.url, "max(app_cpu_percent{job='app'})") == 85.0, 10)
    line, details = failure(cpu, loaded)
    assert line == "85 %, expected at most 70 %"
    assert details["seen"] == "85 %" and details["value"] == 85.0
    prom.app.set(cpu=30.0)
    wait_for(lambda: value(prom.url, "max(app_cpu_percent{job='app'})") == 30.0, 10)
    assert run_probe(cpu, "staging", loaded)["value"] == 30.0
    # Over the last minute the 85 % is still there: the worst value is shown.
    held = MetricProbe(query="max(app_cpu_percent{job='app'})", max=70, unit=" %", window=60)
    line, details = failure(held, loaded)
    assert details["value"] == 85.0 and details["points"] >= 2
    assert line.startswith("worst 85 % of ") and line.endswith("value(s), expected at most 70 %")
    # The seeds' memory floor from the other side: at least.
    floor = MetricProbe(query="max(app_memory_percent{job='app'})", min=60)
    assert failure(floor, loaded)[0] == "50, expected at least 60"


def test_metric_no_data_fails_closed(tmp_path: Path, prom: Prom) -> None:  # noqa: F811
    loaded = loaded_config(
        tmp_path, f'[environments.staging.metrics]\nprometheus_url = "{prom.url}"\n'
    )
    for probe in (
        MetricProbe(query="max(app_nonexistent_metric)", max=1),
        MetricProbe(query="max(app_nonexistent_metric)", max=1, window=30),
    ):
        line, details = failure(probe, loaded)
        assert line == "NO DATA, expected at most 1" and details["value"] is None


def test_metric_deadline_against_a_prometheus_that_never_answers(tmp_path: Path) -> None:
    with DripServer("mute", lifetime=20) as mute, DripServer("drip", lifetime=20) as drip:
        for server in (mute, drip):
            loaded = loaded_config(
                tmp_path, f'[environments.staging.metrics]\nprometheus_url = "{server.url}"\n'
            )
            started = time.monotonic()
            with pytest.raises(CannotLook) as late:
                run_probe(MetricProbe(query="up", max=1, timeout=1), "staging", loaded)
            assert time.monotonic() - started < 2.5
            assert str(late.value).startswith(f"prometheus {server.url}: no answer within ")
    unset = loaded_config(tmp_path, "")
    with pytest.raises(CannotLook) as nothing:
        run_probe(MetricProbe(query="up", max=1), "staging", unset)
    assert str(nothing.value) == "prometheus: no URL set (metrics.prometheus_url in cockpit.toml)"


def test_metric_from_this_host(tmp_path: Path) -> None:
    loaded = loaded_config(tmp_path, "")
    seen = run_probe(MetricProbe(source="host", query="disk", max=100), "staging", loaded)
    assert 0 < seen["value"] <= 100
    line, _ = failure(MetricProbe(source="host", query="memory", max=0.001, unit=" %"), loaded)
    assert line.endswith(", expected at most 0.001 %")


# --- metric, alarms, backup, credentials: AWS on moto ---------------------------------------


def test_metric_from_cloudwatch(tmp_path: Path, moto: MotoServer) -> None:  # noqa: F811
    now = datetime.now(UTC)
    dims = [{"Name": "ServiceName", "Value": "api"}]
    boto(moto, "cloudwatch").put_metric_data(
        Namespace="Cockpit/Probe",
        MetricData=[
            {"MetricName": "CPUUtilization", "Dimensions": dims, "Value": v, "Timestamp": at}
            for v, at in ((40.0, now - timedelta(minutes=4)), (91.0, now - timedelta(seconds=30)))
        ],
    )
    loaded = aws_config(tmp_path, moto.url)
    cpu = MetricProbe(
        source="cloudwatch",
        query="CPUUtilization",
        namespace="Cockpit/Probe",
        dimensions={"ServiceName": "api"},
        max=80,
        period=60,
    )
    line, details = failure(cpu, loaded)
    assert line == "91, expected at most 80" and details["value"] == 91.0
    seen = run_probe(
        MetricProbe(
            source="cloudwatch",
            query="CPUUtilization",
            namespace="Cockpit/Probe",
            dimensions={"ServiceName": "api"},
            max=95,
            window=600,
            period=60,
        ),
        "staging",
        loaded,
    )
    assert seen["value"] == 91.0 and seen["points"] == 2
    line, _ = failure(
        MetricProbe(source="cloudwatch", query="CPUUtilization", namespace="Nothing/Here", max=80),
        loaded,
    )
    assert line == "NO DATA, expected at most 80"


def test_alarms_none_in_alarm_among_the_named_and_a_prefix(
    tmp_path: Path,
    moto: MotoServer,  # noqa: F811
) -> None:
    cloudwatch = boto(moto, "cloudwatch")
    for name in ("probe-api-cpu", "probe-api-memory", "probe-api-latency"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="CPUUtilization",
            Namespace="AWS/ECS",
            Statistic="Average",
            Period=300,
            EvaluationPeriods=2,
            Threshold=80.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
    loaded = aws_config(tmp_path, moto.url)
    seen = run_probe(AlarmsProbe(prefix="probe-api-"), "staging", loaded)
    assert seen["in_alarm"] == [] and len(seen["alarms"]) == 3
    cloudwatch.set_alarm_state(
        AlarmName="probe-api-memory", StateValue="ALARM", StateReason="memory 91 % > 85 %"
    )
    line, details = failure(AlarmsProbe(prefix="probe-api-"), loaded)
    assert line == (
        "1 in ALARM: probe-api-memory (memory 91 % > 85 %), expected no alarm in ALARM among "
        "probe-api-*"
    )
    assert details["in_alarm"] == ["probe-api-memory"]
    assert run_probe(AlarmsProbe(names=["probe-api-cpu"]), "staging", loaded)["in_alarm"] == []
    line, _ = failure(AlarmsProbe(names=["probe-api-cpu", "probe-api-disk"]), loaded)
    assert line.startswith("not found: probe-api-disk,")
    line, _ = failure(AlarmsProbe(prefix="nothing-"), loaded)
    assert line.startswith("no alarm named nothing-*,")


def test_backup_an_rds_snapshot_younger_than_n_hours(
    tmp_path: Path,
    moto: MotoServer,  # noqa: F811
) -> None:
    rds = boto(moto, "rds")
    rds.create_db_instance(
        DBInstanceIdentifier="probe-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="password123",
        AllocatedStorage=20,
    )
    rds.create_db_snapshot(DBInstanceIdentifier="probe-db", DBSnapshotIdentifier="probe-db-snap")
    loaded = aws_config(tmp_path, moto.url, 'rds_instance = "probe-db"\n')
    seen = run_probe(BackupProbe(hours=24), "staging", loaded)
    assert seen["snapshot"] == "probe-db-snap" and seen["instance"] == "probe-db"
    assert 0 <= seen["age_hours"] < 0.1
    time.sleep(2)
    line, details = failure(BackupProbe(hours=0.0003), loaded)  # 1.08 s
    assert line.startswith("probe-db-snap, 0.0")
    assert line.endswith(" min old, expected a backup younger than 0.0003 h")
    assert details["age_hours"] > 0.0003
    # An instance without snapshots (a typing mistake too) has no backup.
    line, _ = failure(BackupProbe(hours=24, instance="probe-gone"), loaded)
    assert line == "no backup of RDS instance probe-gone, expected a backup younger than 24 h"


def test_backup_the_newest_file_matching_a_glob(tmp_path: Path) -> None:
    loaded = loaded_config(tmp_path, "")
    (tmp_path / "backups").mkdir()
    for name, hours in (("db-1.dump", 30), ("db-2.dump", 5)):
        path = tmp_path / "backups" / name
        path.write_text("x")
        at = time.time() - hours * 3600
        os.utime(path, (at, at))
    seen = run_probe(BackupProbe(hours=6, path="backups/db-*.dump"), "staging", loaded)
    assert seen["file"] == str(tmp_path / "backups" / "db-2.dump")
    assert seen["age_hours"] == pytest.approx(5, abs=0.01)
    line, _ = failure(BackupProbe(hours=4, path="backups/db-*.dump"), loaded)
    assert line.endswith("db-2.dump, 5.0 h old, expected a backup younger than 4 h")
    line, _ = failure(BackupProbe(hours=4, path="backups/none-*.dump"), loaded)
    assert line.startswith("no backup of ")


def test_credentials_name_the_account_and_arn_never_the_keys(
    tmp_path: Path,
    moto: MotoServer,  # noqa: F811
) -> None:
    loaded = aws_config(tmp_path, moto.url)
    seen = run_probe(CredentialsProbe(account=ACCOUNT), "staging", loaded)
    assert seen["account"] == ACCOUNT and seen["arn"].startswith("arn:aws:")
    assert SECRET not in repr(seen) and os.environ["AWS_ACCESS_KEY_ID"] not in repr(seen)
    line, details = failure(CredentialsProbe(account="210987654321"), loaded)
    assert line == f"account {ACCOUNT} as {seen['arn']}, expected account 210987654321"
    assert SECRET not in repr(details)


def test_aws_probes_deadline_against_an_endpoint_that_never_answers(tmp_path: Path) -> None:
    with DripServer("mute", lifetime=30) as mute:
        loaded = aws_config(tmp_path, mute.url)
        for probe in (
            CredentialsProbe(timeout=1),
            AlarmsProbe(prefix="x", timeout=1),
            BackupProbe(hours=1, instance="db", timeout=1),
            MetricProbe(source="cloudwatch", query="CPUUtilization", max=1, timeout=1),
        ):
            started = time.monotonic()
            with pytest.raises(CannotLook) as late:
                run_probe(probe, "staging", loaded)
            assert time.monotonic() - started < 3, probe
            assert "no answer" in str(late.value) or "timed out" in str(late.value), str(late.value)


# --- kubernetes ------------------------------------------------------------------------------


def deployment(name: str, replicas: int, cpu: str, memory: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%"}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            "resources": {"requests": {"cpu": cpu, "memory": memory}},
                        }
                    ]
                },
            },
        },
    }


def node(name: str, cpu: str, memory: str, ready: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def running_pod(name: str, node_name: str, cpu: str, memory: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "other", "labels": {"app": "other"}},
        "spec": {
            "nodeName": node_name,
            "containers": [
                {
                    "name": "c",
                    "image": "x",
                    "resources": {"requests": {"cpu": cpu, "memory": memory}},
                }
            ],
        },
        "status": {"phase": "Running"},
    }


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[tuple[KubeAPI, LoadedConfig]]:
    with kube_api() as api:
        config = api.kubeconfig(tmp_path / "kubeconfig")
        loaded = loaded_config(
            tmp_path,
            f'[environments.staging.kubernetes]\nkubeconfig = "{config}"\ndeployments = ["api"]\n',
        )
        yield api, loaded


def test_kubernetes_available_and_a_crash_loop(kube: tuple[KubeAPI, LoadedConfig]) -> None:
    api, loaded = kube
    api.create(deployment("api", 2, "250m", "256Mi", "registry.example.com/api:1.0.0"))
    api.settle()
    seen = run_probe(KubernetesProbe(), "staging", loaded)
    assert seen["deployments"] == {"api": {"replicas": 2, "available": 2, "stuck": []}}
    api.fail_image("*:2.0.0", "CrashLoopBackOff")
    api.patch_deployment(
        "api",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "api", "image": "registry.example.com/api:2.0.0"}]
                    }
                }
            }
        },
    )
    for _ in range(10):
        api.tick()
    line, details = failure(KubernetesProbe(), loaded)
    stuck = details["deployments"]["api"]["stuck"]
    assert stuck and all(s.endswith(" CrashLoopBackOff") for s in stuck)
    assert "deployment/api: " in line and "CrashLoopBackOff" in line
    assert line.startswith("deployment/api ")  # not complete: kubectl's words follow
    with pytest.raises(CannotLook) as missing:
        run_probe(KubernetesProbe(deployments=["nope"]), "staging", loaded)
    assert str(missing.value).startswith("deployment/nope in namespace default: not found")


def test_kubernetes_capacity_for_the_new_replicasets_surge(
    kube: tuple[KubeAPI, LoadedConfig],
) -> None:
    api, loaded = kube
    api.create(deployment("api", 4, "500m", "512Mi", "registry.example.com/api:1.0.0"))
    api.settle()
    # Two surge pods (50 % of 4) of 500m / 512Mi each.
    api.seed(node("node-a", "2", "4Gi"))
    api.seed(node("node-b", "1", "2Gi"))
    api.seed(node("node-down", "64", "256Gi", ready=False))
    api.seed(running_pod("busy-a", "node-a", "1800m", "1Gi"))  # 200m left on node-a
    api.seed(running_pod("busy-b", "node-b", "400m", "1Gi"))  # 600m left on node-b
    line, details = failure(KubernetesProbe(capacity=True), loaded)
    assert line.startswith(
        "deployment/api: no node has room for surge pod 2 (cpu 500m, memory 512Mi)"
    )
    assert details["capacity"]["surge_pods"] == 1
    assert details["capacity"]["nodes"]["node-b"] == {"cpu": "100m", "memory": "512Mi"}
    assert "node-down" not in details["capacity"]["nodes"]
    api.delete("pods", "busy-a", namespace="other")
    seen = run_probe(KubernetesProbe(capacity=True), "staging", loaded)
    assert seen["capacity"]["surge_pods"] == 2 and seen["capacity"]["short"] == []


def test_kubernetes_deadline_against_an_api_that_never_answers(tmp_path: Path) -> None:
    with DripServer("mute", lifetime=20) as mute, kube_api() as api:
        config = api.kubeconfig(tmp_path / "kubeconfig")
        config.write_text(config.read_text().replace(api.url, mute.url))
        loaded = loaded_config(
            tmp_path,
            f'[environments.staging.kubernetes]\nkubeconfig = "{config}"\ndeployments = ["api"]\n',
        )
        started = time.monotonic()
        with pytest.raises(CannotLook):
            run_probe(KubernetesProbe(timeout=1), "staging", loaded)
        assert time.monotonic() - started < 3
