"""One-minute slices: the unit everything rolls up from.

A slice is a fixed-width vector per (SLO, scope, epoch minute):
``[good, total, latency_sum_ms, latency_count, bucket_0 .. bucket_n]`` where the buckets are
per-bucket (not cumulative) counts of latencies ``<= LATENCY_BOUNDS_MS[i]`` (the last one is
+Inf). Rolling windows and months are sums of slices, never averages of ratios.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

LATENCY_BOUNDS_MS: tuple[float, ...] = (
    50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, float("inf"))
GOOD, TOTAL, LAT_SUM, LAT_COUNT, HIST = 0, 1, 2, 3, 4
WIDTH = HIST + len(LATENCY_BOUNDS_MS)

SliceKey = tuple[str, str, int]  # (slo, scope, epoch minute)
SliceDelta = tuple[str, str, int, tuple[float, ...]]
FloatArray = npt.NDArray[np.float64]


def new_vector() -> list[float]:
    return [0.0] * WIDTH


def add_latency(vec: list[float], latency_ms: float) -> None:
    """Record one latency observation into a slice vector (NaN or negative: not recorded)."""
    if latency_ms >= 0:  # also False for NaN
        vec[LAT_SUM] += latency_ms
        vec[LAT_COUNT] += 1
        vec[HIST + bisect.bisect_left(LATENCY_BOUNDS_MS, latency_ms)] += 1


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
