"""A small application exporter the test controls: the fake application Prometheus scrapes.

It serves ``prometheus_client`` metrics on 127.0.0.1: ``http_requests_total{status}`` (a request
counter whose ``status="500"`` series is the error counter), the ``http_request_duration_seconds``
histogram, and the ``app_cpu_percent`` / ``app_memory_percent`` gauges. A traffic thread adds
``rps`` requests per second, ``error_ratio`` of them errors, each observed at ``latency``
seconds, so rates and quantiles move the way a real service's would. ``set()`` changes them at
once; ``stop()`` closes the port (scrapes then fail, as for a crashed application).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from tests.services import free_port

# Bucket edges chosen so histogram_quantile(0.95) gives distinct, known values for the
# latencies the tests use (0.1 s -> 97.5 ms, 0.25 s -> 247.5 ms, 0.4 s -> 392.5 ms).
BUCKETS = (0.05, 0.1, 0.2, 0.25, 0.4, 0.8, 1.6, 3.2)
TICK = 0.05


def p95_ms(latency: float) -> float:
    """What histogram_quantile(0.95, ...) reports for requests all taking ``latency`` seconds."""
    upper = next(b for b in BUCKETS if latency <= b)
    lower = max([0.0, *(b for b in BUCKETS if b < upper)])
    return 1000 * (lower + (upper - lower) * 0.95)


class Exporter:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests", "Requests served", ["status"], registry=self.registry
        )
        self.latency_hist = Histogram(
            "http_request_duration_seconds",
            "Request latency",
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.cpu_gauge = Gauge("app_cpu_percent", "CPU use", registry=self.registry)
        self.memory_gauge = Gauge("app_memory_percent", "Memory use", registry=self.registry)
        # Both series exist from the start, so an error ratio of 0 is 0, not "no series".
        self.ok = self.requests.labels(status="200")
        self.errors = self.requests.labels(status="500")
        self.rps = 200.0
        self.error_ratio = 0.0
        self.latency = 0.1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set(self, **values: float) -> None:
        """Change ``rps``, ``error_ratio``, ``latency`` (seconds), ``cpu``, ``memory`` (percent)."""
        with self._lock:
            for key, value in values.items():
                if key == "cpu":
                    self.cpu_gauge.set(value)
                elif key == "memory":
                    self.memory_gauge.set(value)
                elif key in ("rps", "error_ratio", "latency"):
                    setattr(self, key, float(value))
                else:
                    raise KeyError(key)

    def start(self) -> Exporter:
        self.set(cpu=35.0, memory=50.0)
        self._server, _ = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        self._stop.clear()
        self._thread = threading.Thread(target=self._traffic, daemon=True, name="exporter")
        self._thread.start()
        return self

    def _traffic(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(TICK):
            now = time.monotonic()
            with self._lock:
                count = self.rps * (now - last)
                errors = count * self.error_ratio
                self.ok.inc(count - errors)
                self.errors.inc(errors)
                for _ in range(max(1, int(count))):
                    self.latency_hist.observe(self.latency)
            last = now

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Exporter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
