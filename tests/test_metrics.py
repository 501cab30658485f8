"""The metrics engine against real components: a real Prometheus (Debian's ``prometheus``)
scraping an exporter the test controls every second, CloudWatch on a moto server, Kubernetes on
the API test server, and this host's /proc. Plus the rules on fixed samples: levels, triggers,
never 0 for missing data, and the go decision that missing data blocks."""

from __future__ import annotations

import itertools
import os
import shutil
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.config import LoadedConfig, parse_config_text
from cockpit.errors import ConfigError, EventRejected
from cockpit.metrics import (
    Baseline,
    CloudWatchSource,
    GoBlocked,
    HostSource,
    KubernetesSource,
    Panel,
    PrometheusSource,
    Sample,
    Sampler,
    Series,
    TriggerEvaluator,
    Update,
    capture_baseline,
    go_blocked,
    latest_baseline,
    panel_state,
    panels_from_config,
    post_release_warnings,
    record_baseline,
    record_decision,
    record_trigger,
    record_watch_start,
)
from cockpit.operator import Operator
from cockpit.store import Store
from tests.dripserver import DripServer
from tests.exporter import Exporter, p95_ms
from tests.services import moto_server, prometheus_server

alice, bob = Operator.fixed("alice", "bastion-1"), Operator.fixed("bob", "bastion-2")
REFRESH = 1.0  # the sampler's interval in these tests (Prometheus scrapes every 1 s)


@dataclass(frozen=True)
class Rel:
    id: str = "r-metrics"
    rehearsal: bool = False


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'cockpit.db'}", checkpoint_file=tmp_path / "cp.json").open()
    yield s
    s.close()


def loaded_from(text: str, tmp_path: Path | None = None) -> LoadedConfig:
    path = (tmp_path / "cockpit.toml") if tmp_path else None
    if path:
        path.write_text(text, encoding="utf-8")
    return LoadedConfig(parse_config_text(text, "cockpit.toml"), path)


# --- the rules on fixed samples ------------------------------------------------------------------


def test_defaults_are_the_seeds_numbers() -> None:
    metrics = loaded_from("[environments.prod]\n").environment("prod").metrics
    assert (metrics.error_rate_critical, metrics.cpu_critical, metrics.memory_critical) == (
        10.0,
        90.0,
        90.0,
    )
    assert metrics.latency_factor == 3.0 and metrics.consecutive_samples == 3
    assert (metrics.error_rate_warning, metrics.latency_warning_ms, metrics.cpu_warning) == (
        0.1,
        200.0,
        70.0,
    )
    assert metrics.memory_warning == metrics.resource_warning == 70.0
    assert metrics.watch_hours == 24.0 and metrics.automatic_rollback is False
    cw = metrics.cloudwatch
    assert (cw.cpu_alarm, cw.memory_alarm, cw.period, cw.evaluation_periods) == (80, 85, 300, 2)
    assert (cw.response_time_alarm_ms, cw.error_rate_alarm) == (1000.0, 1.0)
    panels = {p.name: p for p in panels_from_config(metrics)}
    assert list(panels) == ["error_rate", "latency_p95", "cpu", "memory"]
    assert panels["error_rate"].rule(None) == "error_rate >= 10 %"
    assert panels["latency_p95"].critical_at(None) is None  # armed by a baseline
    assert panels["latency_p95"].rule(50.0) == "latency_p95 >= 3x baseline (50 ms) = 150 ms"


def test_config_errors_name_the_key() -> None:
    head = "[environments.prod.metrics]\n"
    with pytest.raises(ConfigError, match=r"cockpit.toml:2: .*stale_after_seconds: must be below"):
        loaded_from(head + "stale_after_seconds = 60\nno_data_after_seconds = 30\n")
    two = '[[environments.prod.metrics.panels]]\nname = "a"\nquery = "up"\n'
    with pytest.raises(ConfigError, match="two panels named 'a'"):
        loaded_from(two + two)
    wrong = r"cockpit.toml:1: environments.prod.metrics.panels.0.source: 'graphite' is not allowed"
    with pytest.raises(ConfigError, match=wrong):
        loaded_from(two.replace('query = "up"', 'query = "up"\nsource = "graphite"'))


def test_levels_and_cloudwatch_panels_warn_at_the_alarms() -> None:
    text = textwrap.dedent(
        """
        [[environments.prod.metrics.panels]]
        name = "cpu"
        source = "cloudwatch"
        query = "CPUUtilization"
        kind = "cpu"
        [[environments.prod.metrics.panels]]
        name = "pods"
        source = "kubernetes"
        query = "ready"
        kind = "availability"
        """
    )
    cpu, pods = panels_from_config(loaded_from(text).environment("prod").metrics)
    assert [cpu.level(v) for v in (80, 80.5, 89.9, 90)] == ["ok", "warn", "warn", "crit"]
    assert [pods.level(v) for v in (100, 66.7, 0)] == ["ok", "warn", "crit"]


def test_missing_data_is_stale_then_no_data_never_zero() -> None:
    panel = Panel(
        "error_rate", "Error rate", "prometheus", "q", "error_rate", "%", warning=0.1, critical=10.0
    )
    series = Series("error_rate", capacity=5)
    assert panel_state(panel, series, 100.0).label == "NO DATA"
    series.add(Sample("error_rate", 100.0, 0.05))
    series.add(Sample("error_rate", 101.0, None, error="prometheus: cannot connect"))
    fresh = panel_state(panel, series, 102.0, stale_after=10, no_data_after=60)
    assert (fresh.level, fresh.text, fresh.error) == ("ok", "0.05 %", "prometheus: cannot connect")
    stale = panel_state(panel, series, 145.4, stale_after=10, no_data_after=60)
    assert (stale.level, stale.label, stale.text) == ("stale", "STALE 45s", "0.05 %")
    gone = panel_state(panel, series, 170.0, stale_after=10, no_data_after=60)
    assert (gone.level, gone.label, gone.text, gone.value) == (
        "no_data",
        "NO DATA",
        "NO DATA",
        None,
    )
    assert gone.history == (0.05, None) and gone.missing
    for i in range(10):  # the ring buffer keeps the newest `capacity`
        series.add(Sample("error_rate", 200.0 + i, float(i)))
    assert series.values() == [5.0, 6.0, 7.0, 8.0, 9.0]


def test_a_trigger_needs_n_samples_in_a_row_and_fires_once() -> None:
    panel = Panel("err", "err", "prometheus", "q", "error_rate", "%", warning=0.1, critical=10.0)
    ev = TriggerEvaluator([panel], consecutive=3)

    def feed(*values: float | None) -> list[Any]:
        return [ev.observe(Sample("err", float(i), v)) for i, v in enumerate(values)]

    # Runs broken by a low sample and by a missing one.
    assert not any(feed(50, 50, 1, 50, None, 50, 50, 1))
    fired = [f for f in feed(12, 15, 11, 30, 40) if f]
    assert len(fired) == 1 and [v for _, v in fired[0].samples] == [12, 15, 11]
    assert fired[0].rule == "err >= 10 % for 3 samples"
    assert not any(feed(40, 40)), "no second firing while it stays high"
    assert [f is not None for f in feed(1, 20, 20, 20)] == [False, False, False, True]


def test_latency_fires_at_three_times_the_baseline_and_warns_post_release() -> None:
    panel = Panel(
        "lat", "lat", "prometheus", "q", "latency", "ms", warning=200.0, critical_factor=3.0
    )
    base = Baseline(0, 60, {"lat": 100.0}, {"lat": 30}, {"lat": "prometheus: q"})
    ev = TriggerEvaluator([panel], consecutive=3, baseline=base)
    assert not any(ev.observe(Sample("lat", i, 250.0)) for i in range(5))  # 2.5x: warn only
    fired = [ev.observe(Sample("lat", 10 + i, 300.0)) for i in range(3)]
    assert fired[2] is not None and fired[2].threshold == 300.0
    assert fired[2].rule == "lat >= 3x baseline (100 ms) = 300 ms for 3 samples"
    series = Series("lat")
    series.add(Sample("lat", 1000.0, 250.0))
    state = panel_state(panel, series, 1000.5, baseline=100.0)
    assert post_release_warnings([state]) == ["lat 250 ms > 200 ms (post-release threshold)"]


def test_missing_data_blocks_go_until_a_second_operator_overrides(store: Store) -> None:
    rel = Rel()
    panel = Panel("err", "err", "prometheus", "q", "error_rate", "%", warning=0.1, critical=10.0)
    series = Series("err")
    series.add(Sample("err", time.time() - 120, 0.01))  # two minutes ago: NO DATA now
    states = {"err": panel_state(panel, series, time.time())}
    assert go_blocked(store, alice, release=rel, states=states) == (
        "the post-release watch has not started"
    )
    record_watch_start(store, alice, release=rel, panels=[panel], watch_hours=0.0001)
    over = time.time() + 0.4  # the watch (0.36 s here) is over then
    why = go_blocked(store, alice, release=rel, states=states, now=over)
    assert why and why.startswith("missing data: err (NO DATA)")
    with pytest.raises(GoBlocked, match="go blocked: missing data"):
        record_decision(store, alice, "go", release=rel, states=states)
    with pytest.raises(GoBlocked, match="a reason is required"):
        record_decision(store, bob, "nodata_override", release=rel, states=states, reason=" ")
    # An override by the operator who decides is not a second operator.
    record_decision(store, alice, "nodata_override", release=rel, states=states, reason="mine")
    assert go_blocked(store, alice, release=rel, states=states) == why
    override = record_decision(
        store, bob, "nodata_override", release=rel, states=states, reason="exporter moved"
    )
    assert override.action == "nodata.override" and override.actor == "bob@bastion-2"
    assert override.details_obj["panels"]["err"]["level"] == "no_data"
    assert go_blocked(store, alice, release=rel, states=states, now=over) is None
    # Data back and gone again after the override: blocked again.
    series.add(Sample("err", time.time() + 1, 0.01))
    later = {"err": panel_state(panel, series, time.time() + 100)}
    assert "missing data" in str(go_blocked(store, alice, release=rel, states=later))
    go = record_decision(store, alice, "go", release=rel, states=states, reason="", now=over)
    assert go.action == "watch.go" and go.details_obj["panels"]["err"]["level"] == "no_data"
    assert "already decided: go by alice@bastion-1" in str(
        go_blocked(store, alice, release=rel, states=states)
    )


def test_watch_time_and_reasons(store: Store) -> None:
    rel = Rel("r-2")
    panel = Panel("err", "err", "prometheus", "q", "error_rate", "%", warning=0.1, critical=10.0)
    series = Series("err")
    series.add(Sample("err", time.time(), 0.01))
    states = {"err": panel_state(panel, series, time.time())}
    record_watch_start(store, alice, release=rel, panels=[panel], watch_hours=24)
    assert str(go_blocked(store, alice, release=rel, states=states)).startswith(
        "the watch has 23h59m left"
    )
    with pytest.raises(GoBlocked, match=r"watch\.no_go: a reason is required"):
        record_decision(store, alice, "no_go", release=rel)
    no_go = record_decision(store, alice, "no_go", release=rel, reason="p95 drifting up")
    assert (no_go.action, no_go.reason) == ("watch.no_go", "p95 drifting up")


# --- Prometheus ----------------------------------------------------------------------------------

PROM_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: app
    static_configs: [{{targets: ['{app}']}}]
  - job_name: gone
    static_configs: [{{targets: ['{gone}']}}]
"""


def env_toml(url: str, job: str, **metrics: Any) -> str:
    settings = {
        "prometheus_url": f'"{url}"',
        "refresh_seconds": REFRESH,
        "stale_after_seconds": 2,
        "no_data_after_seconds": 5,
        "baseline_window_seconds": 3,
        **metrics,
    }
    lines = "\n".join(f"{k} = {v}" for k, v in settings.items())
    err = (
        f'100 * sum(irate(http_requests_total{{job="{job}",status="500"}}[3s]))'
        f' / sum(irate(http_requests_total{{job="{job}"}}[3s]))'
    )
    lat = (
        "1000 * histogram_quantile(0.95, sum by (le) "
        f'(irate(http_request_duration_seconds_bucket{{job="{job}"}}[3s])))'
    )
    panels = [
        ("error_rate", "error_rate", err),
        ("latency_p95", "latency", lat),
        ("cpu", "cpu", f'max(app_cpu_percent{{job="{job}"}})'),
        ("memory", "memory", f'max(app_memory_percent{{job="{job}"}})'),
    ]
    tables = "".join(
        f"\n[[environments.prod.metrics.panels]]\nname = '{n}'\nkind = '{k}'\nquery = '{q}'\n"
        for n, k, q in panels
    )
    return f"[environments.prod.metrics]\n{lines}\n{tables}"


@dataclass
class Prom:
    url: str
    app: Exporter
    gone: Exporter


@pytest.fixture(scope="module")
def prom() -> Iterator[Prom]:
    if not shutil.which("prometheus"):
        pytest.fail("prometheus is missing: run `bash .ci/install`")
    with Exporter() as app, Exporter() as gone:
        text = PROM_CONFIG.format(app=app.target, gone=gone.target)
        with prometheus_server(text) as url:
            source = PrometheusSource(url, timeout=2)
            # Prometheus applies new targets after its 5 s discovery throttle; then a few scrapes.
            deadline = time.monotonic() + 30
            query = "count(irate(http_requests_total[3s]))"
            while source.query(query)[0] != 4.0:
                assert time.monotonic() < deadline, "prometheus did not scrape the exporters"
                time.sleep(0.25)
            source.close()
            yield Prom(url, app, gone)


def wait_for(check: Any, timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(step)


def fired_events(sampler: Sampler) -> list[Any]:
    return [f for u in sampler.poll() for f in u.fired]


def test_error_spike_held_for_three_samples_fires_a_single_spike_does_not(
    prom: Prom, store: Store
) -> None:
    prom.app.set(error_ratio=0.0, latency=0.1)
    sampler = Sampler.for_environment(loaded_from(env_toml(prom.url, "app")), "prod").start()
    try:
        wait_for(lambda: sampler.states()["error_rate"].level == "ok", 5)
        # One spike: half the requests fail for half a scrape interval.
        began = time.time()
        prom.app.set(error_ratio=0.5)
        time.sleep(0.5)  # how long the spike lasts, not a wait for the sampler
        prom.app.set(error_ratio=0.0)

        def spike_passed() -> bool:
            """The spike was sampled and a sample below it came after (the run is broken), or
            the samples of 4.5 s came without it."""
            after = [
                s.value
                for s in sampler.series["error_rate"].samples()
                if s.at > began and s.value is not None
            ]
            high = [i for i, v in enumerate(after) if v >= 10]
            return bool(high and any(v < 10 for v in after[high[-1] + 1 :])) or len(after) >= 5

        wait_for(spike_passed, 5 * REFRESH + 5)
        seen = [s.value for s in sampler.series["error_rate"].samples() if s.value is not None]
        assert max(seen) >= 10, f"the spike was not seen at all: {seen}"
        assert not fired_events(sampler), "a single spike fired the trigger"
        # Held: it fires within one sample interval (+1 s) after three samples showed it.
        spike = time.time()
        prom.app.set(error_ratio=0.5)
        fired = wait_for(lambda: fired_events(sampler), 12)[0]
        prom.app.set(error_ratio=0.0)
        # Prometheus sees it at its next scrape (<= 1 s), three samples hold it, and the
        # trigger must come within one interval plus one second after that.
        allowed = 1.0 + 3 * REFRESH + REFRESH + 1.0
        took = fired.at - spike
        assert took <= allowed, f"fired {took:.2f} s after the spike began (allowed {allowed})"
        first_high = fired.samples[0][0]
        assert fired.at - first_high <= 2 * REFRESH + 1.0
        assert [v >= 10 for _, v in fired.samples] == [True, True, True]
        event = record_trigger(store, alice, fired, release=Rel())
        details = event.details_obj
        assert (event.action, event.subject, event.outcome) == (
            "trigger.fired",
            "error_rate",
            "prompt",
        )
        assert details["rule"] == "error_rate >= 10 % for 3 samples"
        assert 'status="500"' in details["query"] and len(details["samples"]) == 3
        print(f"\ntrigger fired {took:.2f} s after the spike began (bound {allowed:.1f} s)")
    finally:
        sampler.stop()


def test_baseline_recorded_latency_triple_fires_and_post_release_warnings(
    prom: Prom, store: Store
) -> None:
    prom.app.set(error_ratio=0.0, latency=0.1)
    loaded = loaded_from(env_toml(prom.url, "app"))
    rounds: list[Update] = []
    sampler = Sampler.for_environment(loaded, "prod", on_update=rounds.append).start()
    try:
        wait_for(lambda: rounds, 5)  # the sampler's first round
        metrics = loaded.environment("prod").metrics
        base = capture_baseline(
            sampler.panels, sampler.sources, window_seconds=metrics.baseline_window_seconds
        )
        assert base.value("latency_p95") == pytest.approx(p95_ms(0.1))  # 97.5 ms
        assert base.value("cpu") == 35.0 and base.points["cpu"] >= 3
        sampler.baseline = base
        event = record_baseline(store, alice, base, release=Rel())
        assert event.action == "metrics.baseline"
        recorded = event.details_obj
        assert recorded["window_seconds"] == 3.0
        assert recorded["panels"]["latency_p95"]["value"] == pytest.approx(97.5)
        assert "http_request_duration_seconds_bucket" in recorded["panels"]["latency_p95"]["query"]
        again = latest_baseline(store, "r-metrics")
        assert again is not None and again.start == pytest.approx(base.start, abs=1e-5)
        assert (again.values, again.points, again.queries) == (
            base.values,
            base.points,
            base.queries,
        )

        # Post-release thresholds: 247.5 ms > 200 ms and 0.5 % > 0.1 % warn, nothing fires.
        prom.app.set(latency=0.25, error_ratio=0.005)
        states = wait_for(
            lambda: (
                (s := sampler.states())["latency_p95"].value == pytest.approx(247.5)
                and s["error_rate"].value == pytest.approx(0.5, abs=0.05)
                and s
            ),
            6,
        )
        warnings = post_release_warnings(states.values())
        assert "latency_p95 248 ms > 200 ms (post-release threshold)" in warnings
        assert any(w.startswith("error_rate 0.") and "> 0.1 %" in w for w in warnings)
        assert {states["latency_p95"].level, states["error_rate"].level} == {"warn"}
        # Three more rounds at the warning level (a trigger needs three): none fires.
        mark = len(rounds)
        wait_for(lambda: len(rounds) >= mark + 3, 3 * REFRESH + 5)
        assert not fired_events(sampler)
        # 392.5 ms >= 3 x 97.5 ms: the latency trigger.
        prom.app.set(latency=0.4, error_ratio=0.0)
        fired = wait_for(lambda: fired_events(sampler), 10)[0]
        assert fired.panel == "latency_p95" and fired.baseline == pytest.approx(97.5)
        assert fired.rule == "latency_p95 >= 3x baseline (97.5 ms) = 292 ms for 3 samples"
        # The first may mix old and new requests; all three are at or past 3x the baseline.
        assert all(v >= 292.5 for _, v in fired.samples)
        assert fired.samples[-1][1] == pytest.approx(392.5)
    finally:
        prom.app.set(latency=0.1, error_ratio=0.0)
        sampler.stop()


def test_exporter_stopped_goes_stale_then_no_data_and_blocks_go(prom: Prom, store: Store) -> None:
    rel = Rel("r-gone")
    # Every real value is above 0 here, so a 0 anywhere would be missing data shown as zero.
    prom.gone.set(error_ratio=0.02)
    sampler = Sampler.for_environment(loaded_from(env_toml(prom.url, "gone")), "prod").start()
    try:
        wait_for(lambda: all(s.level in ("ok", "warn") for s in sampler.states().values()), 6)
        wait_for(lambda: (sampler.states()["error_rate"].value or 0) > 1, 5)
        record_watch_start(store, alice, release=rel, panels=sampler.panels, watch_hours=0.0001)
        over = time.time() + 0.4  # the watch (0.36 s here) is over then
        assert go_blocked(store, alice, release=rel, states=sampler.states(), now=over) is None
        stopped_at = time.time()
        prom.gone.stop()
        seen: list[tuple[str, str, float | None]] = []
        stale_blocked = ""

        def no_data() -> bool:
            nonlocal stale_blocked
            state = sampler.states()["error_rate"]
            seen.append((state.label, state.text, state.value))
            if state.level == "stale" and not stale_blocked:
                stale_blocked = str(go_blocked(store, alice, release=rel, states=sampler.states()))
            return state.level == "no_data"

        wait_for(no_data, 15)
        labels = [label for label, _, _ in seen]
        assert any(label.startswith("STALE ") for label in labels), labels
        assert labels.index(next(x for x in labels if x.startswith("STALE"))) < labels.index(
            "NO DATA"
        )
        assert all(value != 0 and not text.startswith("0 ") for _, text, value in seen), seen
        for series in sampler.series.values():
            after = [x.value for x in series.samples() if x.at > stopped_at]
            assert 0.0 not in after and after[-1] is None, (series.panel, after)
        assert "error_rate (STALE" in stale_blocked and "second operator" in stale_blocked
        states = sampler.states()
        assert states["error_rate"].text == "NO DATA" and states["error_rate"].value is None
        assert states["error_rate"].history[-1] is None  # a gap in the sparkline, not a 0
        with pytest.raises(GoBlocked, match="missing data: error_rate \\(NO DATA\\)"):
            record_decision(store, alice, "go", release=rel, states=states)
        record_decision(
            store,
            bob,
            "nodata_override",
            release=rel,
            states=sampler.states(),
            reason="exporter retired; checked the service by hand",
        )
        assert go_blocked(store, alice, release=rel, states=sampler.states()) is None
        go = record_decision(store, alice, "go", release=rel, states=sampler.states())
        assert go.action == "watch.go"
    finally:
        sampler.stop()


def test_prometheus_errors_are_one_line_without_the_token(prom: Prom) -> None:
    panel = Panel("bad", "bad", "prometheus", "sum(rate(", "count")
    two = Panel("two", "two", "prometheus", "http_requests_total", "count")
    source = PrometheusSource(
        prom.url,
        token_env="COCKPIT_TEST_TOKEN",
        timeout=2,
        environ={"COCKPIT_TEST_TOKEN": "s3cr3t-value"},
    )
    bad, many = source.fetch([panel, two])
    assert bad.value is None and str(bad.error).startswith("panel bad: the query was refused")
    assert many.error and "wrap it in sum() or max()" in many.error
    source.close()
    missing = PrometheusSource(prom.url, token_env="COCKPIT_NOT_SET", environ={})
    assert missing.fetch([panel])[0].error == (
        f"prometheus {prom.url}: the token variable COCKPIT_NOT_SET is not set "
        "(metrics.token_env in cockpit.toml)"
    )
    # The default panels' PromQL is valid, and reads the metrics a typical service exports.
    defaults = panels_from_config(loaded_from("[environments.prod]\n").environment("prod").metrics)
    err, lat, cpu, memory = PrometheusSource(prom.url, timeout=2).fetch(defaults)
    assert err.value is not None and err.error is None
    assert lat.value is not None and lat.value > 0 and lat.error is None
    assert (cpu.value, cpu.error, memory.value) == (None, None, None)  # no node_exporter here
    down = PrometheusSource("http://127.0.0.1:9", timeout=1).fetch([panel])[0]
    assert down.value is None and "cannot connect" in str(down.error)
    assert "s3cr3t" not in str(bad.error) + str(many.error)


# --- deadlines: a source that drips or never answers ---------------------------------------------

DEADLINE = 1.5  # metrics.timeout_seconds of the broken sources in these tests


def dead_panels(source: str) -> list[Panel]:
    return [Panel(f"{source}_{i}", f"{source} {i}", source, "up", "count") for i in (1, 2)]


def test_a_dripping_or_mute_source_ends_its_round_at_its_deadline_and_delays_no_other(
    prom: Prom,
) -> None:
    prom.app.set(error_ratio=0.0, latency=0.1)
    cpu = Panel("cpu", "cpu", "prometheus", 'max(app_cpu_percent{job="app"})', "cpu", "%")
    with DripServer("drip", lifetime=40) as drip, DripServer("mute", lifetime=40) as mute:
        sources: dict[str, Any] = {
            "prometheus": PrometheusSource(prom.url, timeout=2),
            "drip": PrometheusSource(drip.url, timeout=DEADLINE),
            "mute": PrometheusSource(mute.url, timeout=DEADLINE),
        }
        rounds: list[Update] = []
        panels = [cpu, *dead_panels("drip"), *dead_panels("mute")]
        sampler = Sampler(
            panels,
            sources,
            refresh=REFRESH,
            stale_after=2,
            no_data_after=5,
            on_update=rounds.append,
        )
        began = time.time()
        sampler.start()
        try:
            # Two rounds of each broken source (a round, then a refresh, then the next).
            wait_for(
                lambda: all(sum(u.source == s for u in rounds) >= 2 for s in ("drip", "mute")),
                2 * (DEADLINE + REFRESH) + 5,
            )
            states = sampler.states()
            cpu_samples = [s for s in sampler.series["cpu"].samples() if s.at >= began]
        finally:
            sampler.stop()
    assert drip.connections and mute.connections
    for server in (drip, mute):
        name = server.mode
        why = f"prometheus {server.url}: no answer within 1.5 s (metrics.timeout_seconds)"
        mine = [u for u in rounds if u.source == name]
        # One deadline per round, not one per panel (two panels: 3 s before).
        assert all(u.seconds <= DEADLINE + 0.5 for u in mine), [u.seconds for u in mine]
        assert {s.error for u in mine for s in u.samples} == {why}
        for panel in (f"{name}_1", f"{name}_2"):
            assert (states[panel].label, states[panel].error) == ("NO DATA", why)
    # The real panel beside them stayed fresh: a sample every refresh, each with its value.
    assert states["cpu"].label == "ok" and states["cpu"].text == "35 %"
    assert all(s.value == 35.0 for s in cpu_samples), cpu_samples
    gaps = [b.at - a.at for a, b in itertools.pairwise(cpu_samples)]
    assert len(cpu_samples) >= 3 and max(gaps) <= REFRESH + 0.75, gaps


def test_one_round_of_every_source_runs_them_side_by_side(prom: Prom) -> None:
    cpu = Panel("cpu", "cpu", "prometheus", 'max(app_cpu_percent{job="app"})', "cpu", "%")
    with DripServer("mute", lifetime=20) as mute:
        sources: dict[str, Any] = {
            "mute": PrometheusSource(mute.url, timeout=DEADLINE),
            "prometheus": PrometheusSource(prom.url, timeout=2),
        }
        sampler = Sampler([*dead_panels("mute"), cpu], sources, refresh=REFRESH)
        started = time.monotonic()
        updates = sampler.sample_once()
        took = time.monotonic() - started
        sampler.stop()
    assert [u.source for u in updates] == ["mute", "prometheus"]
    assert took <= DEADLINE + 0.5, took
    assert updates[1].samples[0].value == 35.0 and updates[1].seconds < DEADLINE / 2


# --- CloudWatch on moto -------------------------------------------------------------------------


def test_cloudwatch_values_from_put_metric_data(tmp_path: Path, monkeypatch: Any) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto_server() as moto:
        text = textwrap.dedent(
            f"""
            [environments.prod.aws]
            region = "us-east-1"
            endpoint_url = "{moto.url}"
            [environments.prod.metrics]
            timeout_seconds = 5
            [environments.prod.metrics.cloudwatch]
            namespace = "AWS/ECS"
            dimensions = {{ ClusterName = "app", ServiceName = "api" }}
            period = 60
            [[environments.prod.metrics.panels]]
            name = "cpu"
            source = "cloudwatch"
            query = "CPUUtilization"
            kind = "cpu"
            [[environments.prod.metrics.panels]]
            name = "errors"
            source = "cloudwatch"
            query = "HTTPCode_Target_5XX_Count"
            per = "RequestCount"
            stat = "Sum"
            kind = "error_rate"
            [[environments.prod.metrics.panels]]
            name = "memory"
            source = "cloudwatch"
            query = "MemoryUtilization"
            kind = "memory"
            """
        )
        loaded = loaded_from(text, tmp_path)
        import boto3

        cw = boto3.client("cloudwatch", endpoint_url=moto.url, region_name="us-east-1")
        dims = [{"Name": "ClusterName", "Value": "app"}, {"Name": "ServiceName", "Value": "api"}]
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        for minutes_ago, cpu, errors, requests in ((2, 84.0, 3.0, 1000.0), (1, 86.0, 20.0, 1000.0)):
            at = now - timedelta(minutes=minutes_ago)
            cw.put_metric_data(
                Namespace="AWS/ECS",
                MetricData=[
                    {
                        "MetricName": "CPUUtilization",
                        "Dimensions": dims,
                        "Timestamp": at,
                        "Value": cpu,
                    },
                    {
                        "MetricName": "HTTPCode_Target_5XX_Count",
                        "Dimensions": dims,
                        "Timestamp": at,
                        "Value": errors,
                    },
                    {
                        "MetricName": "RequestCount",
                        "Dimensions": dims,
                        "Timestamp": at,
                        "Value": requests,
                    },
                ],
            )
        panels = panels_from_config(loaded.environment("prod").metrics)
        source = CloudWatchSource(loaded, "prod", loaded.environment("prod"))
        cpu, errors, memory = source.fetch(panels)
        assert cpu.value == 86.0 and cpu.detail == {"datapoints": [86.0, 84.0], "alarm": True}
        assert panels[0].level(86.0) == "warn"  # above the seed's alarm (80), below 90
        assert errors.value == pytest.approx(2.0) and errors.detail["datapoints"] == [
            pytest.approx(2.0),
            pytest.approx(0.3),
        ]
        assert errors.detail["alarm"] is False  # 0.3 % of the older period is under 1 %
        assert memory.value is None and "no datapoints for MemoryUtilization" in str(memory.error)
        # The reason is said in the screen's language too (the log keeps the English).
        assert memory.said is not None
        said = memory.said.text("ja")
        assert "MemoryUtilization のデータポイントがありません" in said, said
        history = source.history(panels[0], time.time() - 600, time.time(), 60)
        assert [v for _, v in history or []] == [84.0, 86.0]
        assert moto.count("POST", "/") >= 3
        down = CloudWatchSource(
            loaded_from(text.replace(moto.url, "http://127.0.0.1:9")),
            "prod",
            loaded_from(text.replace(moto.url, "http://127.0.0.1:9")).environment("prod"),
            timeout=1,
        ).fetch(panels[:1])[0]
        assert down.value is None and "cloudwatch GetMetricData: cannot reach AWS" in str(
            down.error
        )


def test_a_source_whose_client_times_out_per_read_is_given_up_by_the_sampler(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # CloudWatch's client (botocore) bounds each read, not the call: against a dripping server
    # the call would run for minutes. The sampler gives the round up one second past the
    # source's timeout and does not call again while the first call still runs.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with DripServer("drip", every=0.3, lifetime=30) as drip:
        text = textwrap.dedent(
            f"""
            [environments.prod.aws]
            region = "us-east-1"
            endpoint_url = "{drip.url}"
            [environments.prod.metrics]
            timeout_seconds = 1
            [[environments.prod.metrics.panels]]
            name = "cpu"
            source = "cloudwatch"
            query = "CPUUtilization"
            kind = "cpu"
            """
        )
        sampler = Sampler.for_environment(loaded_from(text, tmp_path), "prod")
        started = time.monotonic()
        (first,) = sampler.sample_once()
        took = time.monotonic() - started
        (second,) = sampler.sample_once()
        sampler.stop()
    late = "cloudwatch: no answer within 2 s (metrics.timeout_seconds + 1 s)"
    assert first.samples[0].error == late and took <= 2.5, (first, took)
    assert second.samples[0].error == late + "; the last call still runs"
    assert second.seconds < 0.5


# --- Kubernetes on the API test server -----------------------------------------------------------


def test_kubernetes_ready_restarts_and_pods_not_ready_with_reason(tmp_path: Path) -> None:
    from tests.kubeapi import kube_api

    with kube_api() as api:
        api.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        api.deployment("api", namespace="app", image="registry.example.com/api:1.3.2", replicas=3)
        text = textwrap.dedent(
            """
            [environments.prod.kubernetes]
            kubeconfig = "kubeconfig"
            namespace = "app"
            deployments = ["api"]
            [[environments.prod.metrics.panels]]
            name = "ready"
            source = "kubernetes"
            query = "ready"
            kind = "availability"
            [[environments.prod.metrics.panels]]
            name = "restarts"
            source = "kubernetes"
            query = "restarts"
            [[environments.prod.metrics.panels]]
            name = "not_ready"
            source = "kubernetes"
            query = "not_ready"
            """
        )
        loaded = loaded_from(text, tmp_path)
        panels = panels_from_config(loaded.environment("prod").metrics)
        source = KubernetesSource(loaded, loaded.environment("prod"))
        ready, restarts, not_ready = source.fetch(panels)
        assert (ready.value, ready.text) == (100.0, "3/3 ready")
        assert (restarts.value, not_ready.value, not_ready.text) == (0.0, 0.0, "0")
        api.fail_image("*:1.4.0", "CrashLoopBackOff")
        api.patch_deployment(
            "api",
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {"name": "api", "image": "registry.example.com/api:1.4.0"}
                            ]
                        }
                    }
                }
            },
            namespace="app",
        )
        for _ in range(5):
            api.tick()
        ready, restarts, not_ready = source.fetch(panels)
        assert not_ready.value is not None and not_ready.value >= 1
        # The fake reports 3 restarts per crash-looping pod, as kubelet would count them.
        assert restarts.value == 3 * not_ready.value
        assert "CrashLoopBackOff" in str(not_ready.text)
        pods = not_ready.detail["pods"]
        assert {p["reason"] for p in pods} == {"CrashLoopBackOff"}
        assert all(p["deployment"] == "api" for p in pods)
        assert panels[2].level(not_ready.value) == "warn"
        assert ready.value is not None and ready.detail["desired"] == 3
        assert ready.text == f"{ready.detail['ready']}/3 ready"
        source.close()
        api.stop()
        gone = KubernetesSource(loaded, loaded.environment("prod"), timeout=1).fetch(panels)
        assert all(s.value is None for s in gone)
        assert "cannot reach the Kubernetes API" in str(gone[0].error)


# --- the local host ----------------------------------------------------------------------------


def test_host_cpu_memory_disk_network_from_proc() -> None:
    panels = [
        Panel(n, n, "host", q, k)
        for n, q, k in (
            ("cpu", "cpu", "cpu"),
            ("memory", "memory", "memory"),
            ("disk", "disk:/", "resource"),
            ("net", "network", "count"),
            ("bad", "load", "count"),
        )
    ]
    host = HostSource()
    cpu, memory, disk, net, bad = host.fetch(panels)
    assert cpu.value is not None and 0 <= cpu.value <= 100
    info = dict(
        (line.split(":")[0], int(line.split()[1]))
        for line in Path("/proc/meminfo").read_text().splitlines()
    )
    expected = 100 * (1 - info["MemAvailable"] / info["MemTotal"])
    assert memory.value == pytest.approx(expected, abs=2.0)
    usage = shutil.disk_usage("/")
    assert disk.value == pytest.approx(100 * usage.used / (usage.used + usage.free), abs=1.0)
    assert net.value is not None and net.value >= 0
    assert bad.value is None and "is not one of cpu, memory, disk, network" in str(bad.error)
    assert os.path.exists("/proc/stat")


class Clock:
    """``time.monotonic`` plus the seconds a test advanced it (it keeps moving on its own, as
    the sampler's real waits between rounds need)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def test_sampler_pauses_and_schedules_after_each_round() -> None:
    calls: list[float] = []
    published: list[Update] = []
    clock = Clock()

    class Slow:
        name = "host"

        def fetch(self, panels: Any) -> list[Sample]:
            calls.append(clock())
            clock.advance(0.3)  # slower than the refresh: rounds must not overlap or pile up
            if len(calls) == 3:
                sampler.pause()  # with this round in flight
            return [Sample(p.name, time.time(), 1.0) for p in panels]

        def history(self, *args: Any) -> None:
            return None

        def close(self) -> None:
            """Nothing to release: this source holds no connection."""

    panel = Panel("x", "x", "host", "cpu", "count")
    sampler = Sampler(
        [panel], {"host": Slow()}, refresh=0.1, on_update=published.append, clock=clock
    )
    sampler.start()  # after the name is bound: the third round pauses it
    wait_for(lambda: len(published) >= 3, 5)  # the round in flight finished
    count = len(calls)
    # Far past the next round: a sampler that was not paused would run it within its refresh
    # (0.1 s), so a quiet half second shows the pause.
    clock.advance(10.0)
    time.sleep(0.5)
    assert len(calls) == count, "sampled while paused"
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert all(g >= 0.3 + 0.1 - 0.02 for g in gaps), gaps
    sampler.resume()
    wait_for(lambda: len(calls) > count, 2)
    sampler.stop()
    assert len(sampler.poll()) == len(calls)


def test_baseline_event_refuses_nan(store: Store) -> None:
    base = Baseline(0, 60, {"x": float("nan")}, {"x": 1}, {"x": "prometheus: q"})
    with pytest.raises(EventRejected):
        record_baseline(store, alice, base, release=Rel())


def test_a_fast_demo_clock_is_marked_and_for_rehearsals_only(store: Store) -> None:
    from cockpit.config import parse_config_text
    from cockpit.errors import CockpitError

    rel = Rel("r-fast", rehearsal=True)
    panel = Panel("err", "err", "prometheus", "q", "error_rate", "%", warning=0.1, critical=10.0)
    series = Series("err")
    started = time.time()
    series.add(Sample("err", started, 0.01))
    states = {"err": panel_state(panel, series, started)}
    event = record_watch_start(store, alice, release=rel, panels=[panel], watch_hours=24,
                               speed=2880)  # fmt: skip
    assert event.details_obj["speed"] == 2880
    why = go_blocked(store, alice, release=rel, states=states, now=started)
    assert why == "the watch has 30s left (metrics.watch_hours = 24, FAST DEMO CLOCK x2880)"
    assert go_blocked(store, alice, release=rel, states=states, now=started + 31) is None
    production = Rel("r-prod")
    with pytest.raises(CockpitError, match="a faster watch clock is for rehearsals only"):
        record_watch_start(store, alice, release=production, panels=[panel], watch_hours=24,
                           speed=2880)  # fmt: skip
    with pytest.raises(ConfigError, match=r"metrics\.watch_speed: a faster watch clock is for"):
        parse_config_text("[environments.production.metrics]\nwatch_speed = 60\n")
