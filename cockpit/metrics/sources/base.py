"""What every metrics source is: the :class:`Source` protocol the sampler and the baseline use,
:class:`SourceError`, and the two helpers the sources share to turn a failure into a one-line,
secret-free error on every panel's sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cockpit.errors import CockpitError
from cockpit.events import redact_text
from cockpit.metrics.model import Panel, Sample

Point = tuple[float, float]


class Source(Protocol):
    """What the sampler and the baseline need from a source."""

    name: str

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        """One sample per panel, in order; never raises for a failed call."""
        ...

    def history(self, panel: Panel, start: float, end: float, step: float) -> list[Point] | None:
        """``(time, value)`` points between two wall-clock times, for a baseline; ``None`` when
        the source keeps no history (the baseline then uses the samples taken so far). Raises
        :class:`SourceError` when the source cannot answer."""
        ...

    def close(self) -> None: ...


class SourceError(CockpitError):
    """A source could not answer; ``str()`` is one line without secrets, in English (what the
    log keeps); :meth:`text` in a language when it was said from the catalog (``said``)."""


def source_error(exc: CockpitError) -> SourceError:
    """A client's failure (the AWS or Kubernetes client a step runner has) as a source's: its
    words kept, to be said in the screen's language."""
    return SourceError.of(exc.phrase) if exc.phrase is not None else SourceError(str(exc))


def one_line(text: object) -> str:
    """``text`` on one line, redacted and at most 300 characters."""
    return redact_text(" ".join(str(text).split()))[:300]


def failed_samples(panels: Sequence[Panel], at: float, error: str | SourceError) -> list[Sample]:
    """The same error on every panel's sample, without a value."""
    said = error.phrase if isinstance(error, SourceError) else None
    return [Sample(p.name, at, None, error=str(error), said=said) for p in panels]


def failed_sample(panel: Panel, at: float, error: SourceError) -> Sample:
    """A panel's sample without a value because its source failed (``error``)."""
    return failed_samples([panel], at, error)[0]
