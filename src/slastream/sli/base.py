"""What every SLI has in common: open slices, a watermark, finalisation, late corrections."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from slastream.model.events import Event
from slastream.model.spec import SLO, Settings
from slastream.model.time import MINUTE_MS
from slastream.sli.slices import (
    GOOD,
    HIST,
    LAT_COUNT,
    LAT_SUM,
    LATENCY_BOUNDS_MS,
    TOTAL,
    SliceDelta,
    new_vector,
)


class SLI:
    """Base class. Subclasses consume some event types and produce slice deltas.

    ``horizon_ms`` is how long after an event's time its outcome can still change (the
    delivery deadline, the ack timeout); a minute is final once the watermark has passed
    its end plus the horizon.
    """

    consumes: tuple[type, ...] = ()

    def __init__(self, slo: SLO, settings: Settings) -> None:
        self.slo = slo
        self.settings = settings
        self.lateness_ms = settings.lateness_s * 1000
        self.max_time_ms = -1
        self.watermark_ms = -1
        self.late_events = 0
        self.horizon_ms = 0
        self._open: dict[tuple[str, int], list[float]] = {}

    # --- to implement -----------------------------------------------------------------
    def add(self, events: Sequence[Event]) -> None:
        raise NotImplementedError

    def _close(self, watermark_ms: int) -> None:
        """Resolve in-flight state that the watermark proves final (default: nothing)."""

    # --- shared -----------------------------------------------------------------------
    def _seen(self, time_ms: int) -> None:
        if time_ms > self.max_time_ms:
            self.max_time_ms = time_ms
        if time_ms < self.watermark_ms:
            self.late_events += 1

    def _count(self, scope: str, time_ms: int, good: bool, latency_ms: float = -1.0) -> None:
        key = (scope, time_ms // MINUTE_MS)
        vec = self._open.get(key)
        if vec is None:
            vec = self._open[key] = new_vector()
        vec[TOTAL] += 1
        if good:
            vec[GOOD] += 1
        if latency_ms >= 0:  # slices.add_latency, inlined (also False for NaN)
            vec[LAT_SUM] += latency_ms
            vec[LAT_COUNT] += 1
            vec[HIST + bisect_left(LATENCY_BOUNDS_MS, latency_ms)] += 1

    def advance(self, watermark_ms: int | None = None) -> list[SliceDelta]:
        """Move the watermark (never backwards) and return the slices now final."""
        if watermark_ms is None:
            watermark_ms = self.max_time_ms - self.lateness_ms
        if watermark_ms > self.watermark_ms:
            self.watermark_ms = watermark_ms
        self._close(self.watermark_ms)
        final_before = (self.watermark_ms - self.horizon_ms) // MINUTE_MS
        done = [k for k in self._open if k[1] < final_before]
        return [(self.slo.name, scope, minute, tuple(self._open.pop((scope, minute))))
                for scope, minute in sorted(done)]

    def flush(self) -> list[SliceDelta]:
        """End of input: everything is final."""
        return self.advance(2**62)

    @property
    def final_minute(self) -> int:
        """Minutes before this one are final."""
        return (self.watermark_ms - self.horizon_ms) // MINUTE_MS
