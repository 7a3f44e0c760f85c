"""Service SLIs: synthetic-probe availability and request response time, per component.

* probe: a check is good when the prober says ``ok``; a minute without any check has no
  data (kept apart from "up": a silent prober proves nothing).
* response_time: every request adds to the latency sum and histogram; it is good when it
  took at most ``target_ms`` (the event-based SLI for burn-rate alerts). The contract's
  measure (EVRYTHNG: mean response time per 1,000 requests over 24 h) is evaluated from the
  sums at SLO level.
"""

from __future__ import annotations

from collections.abc import Sequence

from slastream.model.events import Event, ProbeResult, RequestLog
from slastream.model.spec import SLO, Settings
from slastream.sli.base import SLI


class ProbeSLI(SLI):
    consumes = (ProbeResult,)

    def __init__(self, slo: SLO, settings: Settings) -> None:
        super().__init__(slo, settings)
        self.component = slo.component or ""

    def add(self, events: Sequence[Event]) -> None:
        component = self.component
        for ev in events:
            if isinstance(ev, ProbeResult) and ev.component == component:
                self._seen(ev.time_ms)
                self._count(component, ev.time_ms, ev.ok, ev.latency_ms)


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
