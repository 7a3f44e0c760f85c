"""A MetricsSource with every metric populated, whose counters move at every call.

Its SLO and contract names are those of ``tests/export/fixture.yaml``, so the rules generated
from that config find its series.
"""

from __future__ import annotations

from slastream.model.ledger import (
    ContractEntry,
    Episode,
    EventCounts,
    Inputs,
    Ledger,
    Period,
    SLOEntry,
)
from slastream.model.spec import SliKind
from slastream.model.time import parse_rfc3339_ms as ms


def _slo(name: str, sli: SliKind, scope: str, objective: float | None, excused: float,
         down: float, availability: float, met: bool, budget: float | None, value: float,
         *episodes: Episode) -> SLOEntry:
    return SLOEntry(name, sli, scope, objective, 44640, excused, down, availability, met,
                    budget, value, episodes, 3, EventCounts(1000, 1001))


LEDGER = Ledger(
    Period(ms("2026-10-01T00:00:00Z"), ms("2026-11-01T00:00:00Z"), "UTC", 44640,
           ms("2026-10-12T08:00:00Z")),
    (_slo("api-probe", "probe", "api", 0.999, 30.0, 12.0, 0.99973, True, 0.73, 0.9991,
          Episode(ms("2026-10-03T10:00:00Z"), ms("2026-10-03T10:12:00Z"), 12.0, False,
                  "probe <b>failed</b>", False)),
     _slo("delivery", "delivery", "network", 0.999, 0.0, 60.0, 0.99865, False, -0.35, 0.981),
     _slo("rx2", "rx2", "network", 0.999, 0.0, 0.0, 1.0, True, 1.0, 0.9995),
     _slo("api-response", "response_time", "api", None, 0.0, 0.0, 1.0, True, None, 420.0)),
    (ContractEntry("fixture-sla", 0.99865, "min", 0.999, False, 0.15, "60 min > 43 min",
                   ("api-probe", "delivery")),),
    (),
    Inputs(messages=10, rejected=1, late=0),
)


class FakeSource:
    """Numbers a test controls: ``bad`` probe results, ``breach`` state, a moving counter."""

    def __init__(self) -> None:
        self.good = 1000
        self.bad = 0
        self.breach = False
        self.calls = 0
        self.fail_ledger = False
        self.months: list[str | None] = []

    def ledger(self, month: str | None = None) -> Ledger:
        self.months.append(month)
        if self.fail_ledger:
            raise RuntimeError("ledger exploded")
        if month == "1999-01":
            raise ValueError("no data retained for 1999-01")
        return LEDGER

    def ingest_totals(self) -> dict[tuple[str, str], int]:
        self.calls += 1
        return {("probe", "ok"): 100 * self.calls, ("chirpstack", "rejected"): 2}

    def ignored_totals(self) -> dict[tuple[str, str], int]:
        return {("chirpstack", "session change"): 3 * self.calls}

    def sli_event_totals(self) -> dict[tuple[str, str, str], int]:
        self.good += 100
        return {("api-probe", "api", "good"): self.good,
                ("api-probe", "api", "bad"): self.bad,
                ("delivery", "network", "good"): self.good,
                ("rx2", "network", "good"): self.good, ("rx2", "network", "bad"): 1}

    def breaches(self) -> dict[tuple[str, str], bool]:
        return {("api-probe", "api"): self.breach, ("delivery", "network"): False,
                ("rx2", "network"): False}

    def histograms(self) -> dict[tuple[str, str], tuple[list[float], list[int], float]]:
        n = self.good
        return {("api-response", "api"): ([100.0, 500.0, float("inf")],
                                           [n // 2, n - 10, n], 300.0 * n),
                ("rx2", "network"): ([1000.0, 2000.0], [n // 2, n], 1200.0 * n)}

    def pipeline(self) -> dict[str, float]:
        return {"watermark_delay_seconds": 121.5, "late_events_total": 3.0,
                "consumer_lag_messages": 42.0, "tracked_uplinks": 7.0, "rejected_total": 5.0,
                "skipped_records_total": 2.0, "something_new": 1.0}
