"""The host source: this machine from ``/proc`` (Linux): ``cpu`` and ``memory`` in percent,
``disk`` or ``disk:/path`` (percent used), ``network`` or ``network:eth0`` (bytes per second in
and out). Rates are over the time since the previous fetch, on an injectable monotonic clock.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence

from cockpit.metrics.model import Panel, Sample
from cockpit.metrics.sources.base import Point, SourceError, failed_sample, one_line


class HostSource:
    """This machine, from ``/proc`` (Linux). Rates (CPU, network) are over the time since the
    previous fetch; the first fetch measures over a short pause."""

    name = "host"
    QUERIES = ("cpu", "memory", "disk", "network")

    def __init__(self, proc: str = "/proc", clock: Callable[[], float] = time.monotonic) -> None:
        self.proc = proc
        self._clock = clock
        self._cpu: tuple[float, float, float] | None = None  # (when, busy, total)
        self._net: dict[str, tuple[float, int]] = {}  # iface filter -> (when, bytes)

    def _read(self, name: str) -> str:
        with open(os.path.join(self.proc, name), encoding="ascii") as handle:
            return handle.read()

    def _cpu_times(self) -> tuple[float, float]:
        fields = [float(x) for x in self._read("stat").splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
        total = sum(fields[:8])  # guest time is already counted in user
        return total - idle, total

    def cpu(self) -> float:
        if self._cpu is None:
            busy, total = self._cpu_times()
            self._cpu = (self._clock(), busy, total)
            time.sleep(0.2)
        busy, total = self._cpu_times()
        _, busy0, total0 = self._cpu
        self._cpu = (self._clock(), busy, total)
        if total <= total0:
            return 0.0 if total == total0 and busy == busy0 else math.nan
        return 100.0 * (busy - busy0) / (total - total0)

    def memory(self) -> float:
        info: dict[str, int] = {}
        for line in self._read("meminfo").splitlines():
            key, _, rest = line.partition(":")
            info[key] = int(rest.split()[0]) if rest.split() else 0
        total = info["MemTotal"]
        available = info.get("MemAvailable", info.get("MemFree", 0))
        return 100.0 * (total - available) / total

    @staticmethod
    def disk(path: str = "/") -> float:
        st = os.statvfs(path)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        usable = used + st.f_bavail * st.f_frsize
        return 100.0 * used / usable if usable else math.nan

    def network(self, iface: str = "") -> float | None:
        """Bytes per second received and sent (all interfaces but ``lo``, or ``iface``); None on
        the first call (no interval yet)."""
        counted = 0
        seen = False
        for line in self._read("net/dev").splitlines()[2:]:
            name, _, rest = line.partition(":")
            name = name.strip()
            if (iface and name != iface) or (not iface and name == "lo"):
                continue
            seen = True
            cols = rest.split()
            counted += int(cols[0]) + int(cols[8])
        if iface and not seen:
            raise SourceError.said("msrc.host_iface", iface=iface)
        now = self._clock()
        before = self._net.get(iface)
        self._net[iface] = (now, counted)
        if before is None or now <= before[0]:
            return None
        return max(0, counted - before[1]) / (now - before[0])

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        out: list[Sample] = []
        for panel in panels:
            what, _, arg = panel.query.partition(":")
            try:
                value: float | None
                if what == "cpu":
                    value = self.cpu()
                elif what == "memory":
                    value = self.memory()
                elif what == "disk":
                    value = self.disk(arg or "/")
                elif what == "network":
                    value = self.network(arg)
                    if value is None:
                        # A rate needs two readings: take the second one now.
                        time.sleep(0.2)
                        value = self.network(arg)
                else:
                    raise SourceError(
                        f"panel {panel.name}: host query {panel.query!r} is not one of "
                        f"{', '.join(self.QUERIES)}"
                    )
            except (OSError, ValueError, KeyError, IndexError) as exc:
                out.append(
                    Sample(panel.name, time.time(), None, error=one_line(f"host {what}: {exc}"))
                )
                continue
            except SourceError as exc:
                out.append(failed_sample(panel, time.time(), exc))
                continue
            if value is not None and not math.isfinite(value):
                value = None
            out.append(
                Sample(panel.name, time.time(), None if value is None else value * panel.scale)
            )
        return out

    def history(self, panel: Panel, start: float, end: float, step: float) -> list[Point] | None:
        return None

    def close(self) -> None:
        """Nothing is held open."""
