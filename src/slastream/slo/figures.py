"""What ``/metrics`` shows besides the ledger, computed the same way for the offline engine
and the live view: SLI event totals and latency histograms (added up from finalised slices
as they arrive), breaches (from a ledger) and the pipeline figures (from watermarks)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from slastream.model.ledger import Episode, Ledger
from slastream.sli.slices import GOOD, HIST, LAT_COUNT, LAT_SUM, LATENCY_BOUNDS_MS, TOTAL

Histogram = tuple[list[float], list[int], float]  # bounds in ms, cumulative counts, sum in ms


class SliceFigures:
    """Totals over every slice added so far, by SLO and scope."""

    def __init__(self) -> None:
        self.sli_events: Counter[tuple[str, str, str]] = Counter()  # (slo, scope, outcome)
        self.latency: dict[tuple[str, str], list[float]] = {}  # sum, count, then buckets

    def add(self, slo: str, scope: str, values: Sequence[float]) -> None:
        """One finalised slice (or a correction of one: slices are additive)."""
        self.sli_events[(slo, scope, "good")] += int(values[GOOD])
        self.sli_events[(slo, scope, "bad")] += int(values[TOTAL] - values[GOOD])
        if values[LAT_COUNT]:
            acc = self.latency.get((slo, scope))
            if acc is None:
                acc = self.latency[(slo, scope)] = [0.0] * (len(values) - LAT_SUM)
            for i in range(LAT_SUM, len(values)):
                acc[i - LAT_SUM] += float(values[i])

    def sli_event_totals(self) -> dict[tuple[str, str, str], int]:
        """(slo, scope, outcome) → final SLI events; outcome is good or bad."""
        return dict(self.sli_events)

    def histograms(self) -> dict[tuple[str, str], Histogram]:
        """(slo, scope) → latency histogram, for the SLOs that measured any latency."""
        out: dict[tuple[str, str], Histogram] = {}
        for key, acc in self.latency.items():
            cumulative, running = [], 0.0
            for b in acc[HIST - LAT_SUM:]:
                running += b
                cumulative.append(int(running))
            out[key] = (list(LATENCY_BOUNDS_MS), cumulative, acc[0])
        return out


def open_episodes(ledger: Ledger) -> dict[tuple[str, str], Episode]:
    """(slo, scope) → the outage episode (not excused) it is in at the ledger's ``as_of``."""
    return {(entry.name, entry.scope): ep for entry in ledger.slos for ep in entry.episodes
            if ep.open and not ep.excused}


def breaches(ledger: Ledger) -> dict[tuple[str, str], bool]:
    """(slo, scope) → inside an outage episode right now, for every entry of the ledger."""
    inside = open_episodes(ledger)
    return {(e.name, e.scope): (e.name, e.scope) in inside for e in ledger.slos}


def pipeline(progress: Iterable[tuple[int, int]], late: int,
             extra: dict[str, float] | None = None) -> dict[str, float]:
    """Pipeline figures from the ``(watermark_ms, max_time_ms)`` of each part (an SLI of
    an engine, a partition of the view) that has seen data, plus ``extra`` figures.

    The watermark delay is how far the merged watermark (the oldest part's) trails the
    newest event time of any part.
    """
    parts = [(w, m) for w, m in progress if m >= 0]
    delay = (max(m for _, m in parts) - min(w for w, _ in parts)) / 1000 if parts else math.nan
    return {"watermark_delay_seconds": delay, "late_events_total": float(late),
            **(extra or {})}
