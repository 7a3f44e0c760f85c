"""What every SLI has in common: open slices, a watermark, finalisation, late corrections."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

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
    WIDTH,
    SliceDelta,
    new_vector,
)
from slastream.sli.state import State, get_array, get_int, get_strs, same_length
from slastream.sources.columns import Rows


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

    def add_columns(self, cls: type, rows: Rows, names: list[str]) -> bool:
        """Take events of type ``cls`` as rows (``sources/columns.py``) in one go; ``False``
        (the default) asks for them as tuples through ``add`` instead. An override must
        leave the SLI exactly as ``add`` of the same events would."""
        return False

    def _close(self, watermark_ms: int) -> None:
        """Resolve in-flight state that the watermark proves final (default: nothing)."""

    # --- checkpoints ------------------------------------------------------------------
    def state(self) -> State:
        """In-flight state as named plain data (see ``sli/state.py``).

        Subclasses extend it; settings are not part of it: ``load_state`` runs on an SLI
        freshly built from the settings of the restoring process.
        """
        keys = list(self._open)
        return {
            "max_time_ms": self.max_time_ms,
            "watermark_ms": self.watermark_ms,
            "late_events": self.late_events,
            "open_scopes": [scope for scope, _ in keys],
            "open_minutes": np.array([minute for _, minute in keys], dtype=np.int64),
            "open_values": np.array([self._open[k] for k in keys],
                                    dtype=np.float64).reshape(len(keys), WIDTH),
        }

    def load_state(self, state: State) -> None:
        """Take over ``state()`` of an SLI of the same kind. ``ValueError`` if malformed."""
        self.max_time_ms = get_int(state, "max_time_ms")
        self.watermark_ms = get_int(state, "watermark_ms")
        self.late_events = get_int(state, "late_events")
        scopes = get_strs(state, "open_scopes")
        minutes = get_array(state, "open_minutes", np.int64).tolist()
        values = get_array(state, "open_values", np.float64, (None, WIDTH)).tolist()
        same_length("open slices", scopes, minutes, values)
        self._open = {(scope, minute): vec
                      for scope, minute, vec in zip(scopes, minutes, values, strict=True)}

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
        if latency_ms >= 0:  # also False for NaN
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
