"""One-minute slices: the unit everything rolls up from.

A slice is a fixed-width vector per (SLO, scope, epoch minute):
``[good, total, latency_sum_ms, latency_count, bucket_0 .. bucket_n]`` where the buckets are
per-bucket (not cumulative) counts of latencies ``<= LATENCY_BOUNDS_MS[i]`` (the last one is
+Inf). Rolling windows and months are sums of slices, never averages of ratios.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from slastream.sli.state import State, get_array, get_list, same_length

LATENCY_BOUNDS_MS: tuple[float, ...] = (
    50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, float("inf"))
GOOD, TOTAL, LAT_SUM, LAT_COUNT, HIST = 0, 1, 2, 3, 4
WIDTH = HIST + len(LATENCY_BOUNDS_MS)

SliceKey = tuple[str, str, int]  # (slo, scope, epoch minute)
SliceDelta = tuple[str, str, int, tuple[float, ...]]
FloatArray = npt.NDArray[np.float64]


def new_vector() -> list[float]:
    return [0.0] * WIDTH


class SliceStore:
    """Slices by (SLO, scope) → {epoch minute: vector}. Merging is element-wise addition."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], dict[int, FloatArray]] = {}

    def add(self, slo: str, scope: str, minute: int, values: Iterable[float]) -> None:
        series = self._series.setdefault((slo, scope), {})
        vec = np.asarray(tuple(values), dtype=np.float64)
        cur = series.get(minute)
        if cur is None:
            series[minute] = vec.copy()
        else:
            cur += vec

    def add_deltas(self, deltas: Iterable[SliceDelta]) -> None:
        for slo, scope, minute, values in deltas:
            self.add(slo, scope, minute, values)

    def merge(self, other: SliceStore) -> None:
        for (slo, scope), series in other._series.items():
            for minute, vec in series.items():
                self.add(slo, scope, minute, vec)

    def state(self) -> State:
        """The slices as plain data: per (SLO, scope) a minutes column and a value matrix."""
        return {"series": [
            {"slo": slo, "scope": scope,
             "minutes": np.fromiter(series, dtype=np.int64, count=len(series)),
             "values": np.array(list(series.values()), dtype=np.float64).reshape(-1, WIDTH)}
            for (slo, scope), series in self._series.items()]}

    def load_state(self, state: State) -> None:
        """Replace the slices with those of ``state()``. ``ValueError`` if malformed."""
        out: dict[tuple[str, str], dict[int, FloatArray]] = {}
        for item in get_list(state, "series"):
            minutes = get_array(item, "minutes", np.int64)
            values = get_array(item, "values", np.float64, (None, WIDTH))
            same_length("slices", minutes, values)
            out[(str(item["slo"]), str(item["scope"]))] = {
                int(m): values[i].copy() for i, m in enumerate(minutes)}
        self._series = out

    def scopes(self, slo: str) -> list[str]:
        return sorted(scope for (name, scope) in self._series if name == slo)

    def items(self) -> Iterator[tuple[SliceKey, FloatArray]]:
        for (slo, scope), series in self._series.items():
            for minute, vec in series.items():
                yield (slo, scope, minute), vec

    def matrix(self, slo: str, scope: str, start_minute: int, end_minute: int) -> FloatArray:
        """Dense ``(end - start, WIDTH)`` array of the slices in ``[start, end)``."""
        out = np.zeros((max(0, end_minute - start_minute), WIDTH), dtype=np.float64)
        for minute, vec in self._series.get((slo, scope), {}).items():
            if start_minute <= minute < end_minute:
                out[minute - start_minute] += vec
        return out

    def as_dict(self) -> dict[SliceKey, tuple[float, ...]]:
        """Plain copy for comparisons in tests (zero vectors dropped)."""
        return {k: tuple(float(x) for x in v) for k, v in self.items() if np.any(v)}
