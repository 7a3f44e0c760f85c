"""Service SLIs: synthetic-probe availability and request response time, per component.

* probe: a check is good when the prober says ``ok``; a minute without any check has no
  data (kept apart from "up": a silent prober proves nothing). With
  ``downtime.failing_locations`` k > 1 each location judges the minute on its own results
  and the minute is bad only when at least k of them failed it
  (docs/semantics.md#probe-locations).
* response_time: every request adds to the latency sum and histogram; it is good when it
  took at most ``target_ms`` (the event-based SLI for burn-rate alerts). The contract's
  measure (EVRYTHNG: mean response time per 1,000 requests over 24 h) is evaluated from the
  sums at SLO level.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slastream.model.events import Event, ProbeResult, RequestLog
from slastream.model.spec import SLO, Settings
from slastream.model.time import MINUTE_MS
from slastream.sli.base import SLI
from slastream.sli.slices import GOOD, TOTAL, SliceDelta
from slastream.sli.state import State, get_array, get_strs, same_length

# How long (in minutes past final) the verdict of a judged minute is kept, so that results
# arriving for it later (a prober that was cut off delivers its buffer when it is back) are
# counted with that verdict instead of being judged on their own.
RETAIN_MIN = 24 * 60


class ProbeSLI(SLI):
    """Probe availability of one component; k of n locations when the rule asks for it."""

    consumes = (ProbeResult,)

    def __init__(self, slo: SLO, settings: Settings) -> None:
        super().__init__(slo, settings)
        self.component = slo.component or ""
        self.required_failing = slo.downtime.failing_locations
        self.bad_below = slo.downtime.bad_below
        # k > 1 only: open minute -> location -> [good, total] of that location's results,
        self._locations: dict[int, dict[str, list[float]]] = {}
        # and the verdict of each judged minute (True: good) for RETAIN_MIN minutes
        self._verdicts: dict[int, bool] = {}
        self._forgotten_before = -1

    def add(self, events: Sequence[Event]) -> None:
        component = self.component
        by_location = self.required_failing > 1
        for ev in events:
            if isinstance(ev, ProbeResult) and ev.component == component:
                self._seen(ev.time_ms)
                self._count(component, ev.time_ms, ev.ok, ev.latency_ms)
                if by_location:
                    tally = self._locations.setdefault(ev.time_ms // MINUTE_MS, {})
                    counts = tally.setdefault(ev.location, [0.0, 0.0])
                    counts[0] += ev.ok
                    counts[1] += 1

    def advance(self, watermark_ms: int | None = None) -> list[SliceDelta]:
        """The base slices; with k > 1 their good count carries the minute's verdict."""
        deltas = super().advance(watermark_ms)
        if self.required_failing == 1:
            return deltas
        out = [self._judged(delta) for delta in deltas]
        self._forget(self.final_minute - RETAIN_MIN)
        return out

    def _judged(self, delta: SliceDelta) -> SliceDelta:
        """All of a minute's results count, as good unless at least k locations failed the
        minute (then as bad), so that the rule's ratio is the verdict: 1 or 0. Results
        for a minute judged before keep its verdict (a good count never goes back)."""
        slo, scope, minute, values = delta
        tallies = self._locations.pop(minute, {})
        good = self._verdicts.get(minute)
        if good is None:
            failing = sum(1 for ok, total in tallies.values() if ok < self.bad_below * total)
            good = self._verdicts[minute] = failing < self.required_failing
        vec = list(values)
        vec[GOOD] = vec[TOTAL] if good else 0.0
        return (slo, scope, minute, tuple(vec))

    def _forget(self, before: int) -> None:
        """Drop the verdicts of minutes before ``before``."""
        if before <= self._forgotten_before:
            return
        self._forgotten_before = before
        for minute in [m for m in self._verdicts if m < before]:
            del self._verdicts[minute]

    # ---------------------------------------------------------------------- checkpoints
    def state(self) -> State:
        """Base state plus the open minutes' counts per location as columns (minute,
        location, [good, total]) and the verdicts of judged minutes."""
        rows = [(m, loc, c) for m, tally in self._locations.items() for loc, c in tally.items()]
        return {
            **super().state(),
            "location_minutes": np.array([m for m, _, _ in rows], dtype=np.int64),
            "location_names": [loc for _, loc, _ in rows],
            "location_counts": np.array([c for _, _, c in rows],
                                        dtype=np.float64).reshape(len(rows), 2),
            "verdict_minutes": np.fromiter(self._verdicts, dtype=np.int64,
                                           count=len(self._verdicts)),
            "verdict_good": np.fromiter(self._verdicts.values(), dtype=np.int64,
                                        count=len(self._verdicts)),
        }

    def load_state(self, state: State) -> None:
        """Also from a state written before locations were counted (then: none)."""
        super().load_state(state)
        self._locations, self._verdicts = {}, {}
        if "location_minutes" not in state:
            return
        minutes = get_array(state, "location_minutes", np.int64).tolist()
        names = get_strs(state, "location_names")
        counts = get_array(state, "location_counts", np.float64, (None, 2)).tolist()
        same_length("probe locations", minutes, names, counts)
        for minute, name, pair in zip(minutes, names, counts, strict=True):
            self._locations.setdefault(minute, {})[name] = pair
        judged = get_array(state, "verdict_minutes", np.int64).tolist()
        goods = get_array(state, "verdict_good", np.int64).tolist()
        same_length("probe verdicts", judged, goods)
        self._verdicts = {m: bool(g) for m, g in zip(judged, goods, strict=True)}


class ResponseTimeSLI(SLI):
    consumes = (RequestLog,)

    def __init__(self, slo: SLO, settings: Settings) -> None:
        super().__init__(slo, settings)
        self.component = slo.component or ""
        self.target_ms = slo.target_ms if slo.target_ms is not None else float("inf")

    def add(self, events: Sequence[Event]) -> None:
        component, target = self.component, self.target_ms
        for ev in events:
            if isinstance(ev, RequestLog) and ev.component == component:
                self._seen(ev.time_ms)
                self._count(component, ev.time_ms, ev.duration_ms <= target, ev.duration_ms)
