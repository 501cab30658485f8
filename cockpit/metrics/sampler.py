"""The background sampling loop: one thread per source, each source's next sample scheduled when
the last one finishes (never piling up behind a slow source), pausable, no Textual. Sources are
sampled independently: a source that does not answer delays only its own panels (each source
bounds its round by its own deadline, ``metrics.timeout_seconds``, and the sampler gives a
network source's round up ``ROUND_MARGIN`` past it).

Each round of a source is one :class:`Update` (its samples and any trigger that fired) put on a
queue the UI drains with :meth:`Sampler.poll` on its own timer, and optionally passed to
``on_update`` in the sampler's thread (a Textual app would ``call_from_thread``). The UI decides
when to redraw (not under a modal); the sampler keeps sampling and evaluating triggers meanwhile.
:meth:`Sampler.pause` stops sampling altogether: no calls, no triggers, and the panels turn stale
and then NO DATA, which blocks a go decision.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cockpit.errors import Phrase
from cockpit.metrics.model import SERIES_CAPACITY, Panel, PanelState, Sample, Series, panel_state
from cockpit.metrics.sources.base import Source, SourceError, failed_samples
from cockpit.metrics.triggers import Baseline, Fired, TriggerEvaluator

if TYPE_CHECKING:
    from cockpit.config import LoadedConfig

# Updates kept for a UI that does not poll (the oldest are dropped first).
QUEUE_LIMIT = 1000
# A network source's round is given up this long past its own timeout if it has not ended it.
ROUND_MARGIN = 1.0


@dataclass(frozen=True)
class Update:
    """One round of one source: its samples, the triggers they fired, and how long it took."""

    source: str
    samples: tuple[Sample, ...]
    fired: tuple[Fired, ...]
    seconds: float


class Sampler:
    """Samples ``panels`` from ``sources`` every ``refresh`` seconds in background threads.

    ``start()`` / ``stop()``; ``pause()`` / ``resume()``; ``poll()`` for the updates since the
    last poll; ``states()`` for what each panel shows now; ``sample_once()`` runs one round of
    every source, the sources side by side, and returns when all are done (tests, the CLI).
    ``clock`` (``time.monotonic``) is what the rounds are scheduled on; a test injects its own
    to drive the schedule.
    """

    def __init__(
        self,
        panels: Sequence[Panel],
        sources: Mapping[str, Source],
        *,
        refresh: float = 2.0,
        evaluator: TriggerEvaluator | None = None,
        on_update: Callable[[Update], None] | None = None,
        stale_after: float = 10.0,
        no_data_after: float = 60.0,
        capacity: int = SERIES_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.panels = list(panels)
        self.sources = dict(sources)
        self.refresh = refresh
        self.evaluator = evaluator or TriggerEvaluator(self.panels)
        self.on_update = on_update
        self.stale_after = stale_after
        self.no_data_after = no_data_after
        # The monotonic clock the rounds are scheduled and timed on. The waits between rounds
        # are real (at most 1 s each), so a test's clock must keep moving: time.monotonic plus
        # the seconds the test advances it.
        self._clock = clock
        self.series = {p.name: Series(p.name, capacity) for p in self.panels}
        # The last exception raised by on_update (it is caught so sampling goes on).
        self.callback_error: str | None = None
        self._updates: queue.Queue[Update] = queue.Queue(QUEUE_LIMIT)
        self._stop = threading.Event()
        self._running = threading.Event()  # set: sampling; clear: paused
        self._running.set()
        self._threads: list[threading.Thread] = []
        self._by_source: dict[str, list[Panel]] = {}
        self._panel_by_name = {p.name: p for p in self.panels}
        # Per source: set when its last call ended (a call given up at its deadline may run on).
        self._in_flight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        for panel in self.panels:
            self._by_source.setdefault(panel.source, []).append(panel)

    @classmethod
    def for_environment(
        cls,
        loaded: LoadedConfig,
        env_name: str,
        *,
        on_update: Callable[[Update], None] | None = None,
    ) -> Sampler:
        """A sampler for an environment's panels and sources, with its refresh, staleness and
        trigger rules (``consecutive_samples``, ``automatic_rollback``) from cockpit.toml."""
        from cockpit.metrics.model import panels_from_config
        from cockpit.metrics.sources import sources_for

        metrics = loaded.environment(env_name).metrics
        panels = panels_from_config(metrics)
        evaluator = TriggerEvaluator(
            panels,
            consecutive=metrics.consecutive_samples,
            automatic=metrics.automatic_rollback,
        )
        return cls(
            panels,
            sources_for(loaded, env_name, panels),
            refresh=metrics.refresh_seconds,
            evaluator=evaluator,
            on_update=on_update,
            stale_after=metrics.stale_after_seconds,
            no_data_after=metrics.no_data_after_seconds,
        )

    # --- running ---------------------------------------------------------------------------------

    def start(self) -> Sampler:
        """Start one daemon thread per source (at once: the first samples come right away)."""
        if self._threads:
            return self
        self._stop.clear()
        for name in self._by_source:
            thread = threading.Thread(
                target=self._loop, args=(name,), daemon=True, name=f"metrics-{name}"
            )
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads (a call in flight ends at its own timeout) and close the sources."""
        self._stop.set()
        self._running.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        for source in self.sources.values():
            source.close()

    def pause(self) -> None:
        """Stop sampling after the rounds in flight; panels go stale, then NO DATA."""
        self._running.clear()

    def resume(self) -> None:
        """Sample again at once."""
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def baseline(self) -> Baseline | None:
        return self.evaluator.baseline

    @baseline.setter
    def baseline(self, value: Baseline | None) -> None:
        """Set after :func:`~cockpit.metrics.triggers.capture_baseline` (arms the latency rule)."""
        self.evaluator.baseline = value

    def _loop(self, name: str) -> None:
        next_at = self._clock()
        while not self._stop.is_set():
            if not self._running.is_set():
                self._running.wait()
                next_at = self._clock()
                continue
            delay = next_at - self._clock()
            if delay > 0:
                self._stop.wait(min(delay, 1.0))
                continue
            started = self._clock()
            self.round(name)
            # Scheduled when this round finished: a slow source is never asked twice at once.
            finished = self._clock()
            next_at = started + self.refresh
            if next_at < finished:
                next_at = finished + self.refresh

    def round(self, source_name: str) -> Update:
        """One round of one source: fetch, store, evaluate the triggers, publish."""
        panels = self._by_source.get(source_name, [])
        source = self.sources.get(source_name)
        started = self._clock()
        if source is None:
            now = time.time()
            samples = failed_samples(panels, now, SourceError.said("msrc.none", source=source_name))
        else:
            try:
                samples = self._fetch(source_name, source, panels)
            except Exception as exc:  # a source bug must not kill its thread; show it
                now = time.time()
                error = f"{source_name}: {type(exc).__name__}: {exc}"
                samples = [Sample(p.name, now, None, error=error[:300]) for p in panels]
        fired: list[Fired] = []
        for sample in samples:
            series = self.series.get(sample.panel)
            if series is not None:
                series.add(sample)
            hit = self.evaluator.observe(sample)
            if hit is not None:
                fired.append(hit)
        update = Update(source_name, tuple(samples), tuple(fired), self._clock() - started)
        self._publish(update)
        return update

    def _fetch(self, source_name: str, source: Source, panels: Sequence[Panel]) -> list[Sample]:
        """The source's samples, or when a network source (one with a ``timeout``) has not
        answered ``ROUND_MARGIN`` past its timeout, that reason on each of its panels.

        A source bounds its own round (Prometheus does, to the second); this is the backstop for
        a client whose timeout applies per read, not per call. The call given up goes on in its
        worker thread and is not made again until it ends: a round meanwhile fails at once."""
        timeout = getattr(source, "timeout", None)
        if not isinstance(timeout, int | float):
            return source.fetch(panels)
        limit = timeout + ROUND_MARGIN
        late = Phrase(
            "msrc.late_round",
            {"source": source_name, "seconds": f"{limit:g}", "margin": f"{ROUND_MARGIN:g}"},
        )
        with self._lock:
            busy = self._in_flight.get(source_name)
            if busy is not None and not busy.is_set():
                running = SourceError.said("msrc.still_running", late=late)
                return failed_samples(panels, time.time(), running)
            done = self._in_flight[source_name] = threading.Event()
        answer: list[list[Sample] | Exception] = []

        def fetch() -> None:
            try:
                answer.append(source.fetch(panels))
            except Exception as exc:  # raised in round(), in the caller's thread
                answer.append(exc)
            finally:
                done.set()

        threading.Thread(target=fetch, daemon=True, name=f"metrics-{source_name}-call").start()
        if not done.wait(limit) or not answer:
            return failed_samples(panels, time.time(), SourceError.of(late))
        if isinstance(answer[0], Exception):
            raise answer[0]
        return answer[0]

    def _publish(self, update: Update) -> None:
        while True:
            try:
                self._updates.put_nowait(update)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._updates.get_nowait()
        if self.on_update is not None:
            try:
                self.on_update(update)
            except Exception as exc:  # the UI's callback must not end the sampling
                self.callback_error = f"{type(exc).__name__}: {exc}"

    def sample_once(self) -> list[Update]:
        """One round of every source, at the same time (a thread per source beside this one),
        so a slow source delays only its own panels; the updates in source order."""
        names = list(self._by_source)
        if len(names) < 2:
            return [self.round(name) for name in names]
        with ThreadPoolExecutor(len(names), thread_name_prefix="metrics-once") as pool:
            return list(pool.map(self.round, names))

    # --- reading ---------------------------------------------------------------------------------

    def poll(self) -> list[Update]:
        """The updates since the last poll, oldest first (never blocks)."""
        out: list[Update] = []
        while True:
            try:
                out.append(self._updates.get_nowait())
            except queue.Empty:
                return out

    def state(self, panel: str, now: float | None = None, *, history: int = 60) -> PanelState:
        """What one panel shows at wall-clock ``now``."""
        spec = self._panel_by_name[panel]
        return panel_state(
            spec,
            self.series[panel],
            time.time() if now is None else now,
            baseline=self.evaluator.baseline_of(panel),
            stale_after=self.stale_after,
            no_data_after=self.no_data_after,
            history=history,
        )

    def states(self, now: float | None = None, *, history: int = 60) -> dict[str, PanelState]:
        """Every panel's state, in panel order."""
        at = time.time() if now is None else now
        return {p.name: self.state(p.name, at, history=history) for p in self.panels}
