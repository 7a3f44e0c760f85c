"""A MetricsSource with every metric populated, whose counters move at every call.

Its SLO and contract names are those of ``tests/export/fixture.yaml``, so the rules generated
from that config find its series.
"""

from __future__ import annotations

from typing import Any


class FakeSource:
    """Numbers a test controls: ``bad`` probe results, ``breach`` state, a moving counter."""

    def __init__(self) -> None:
        self.good = 1000
        self.bad = 0
        self.breach = False
        self.calls = 0
        self.fail_ledger = False
        self.months: list[str | None] = []

    def ledger(self, month: str | None = None) -> dict[str, Any]:
        self.months.append(month)
        if self.fail_ledger:
            raise RuntimeError("ledger exploded")
        if month == "1999-01":
            raise ValueError("no data retained for 1999-01")
        return {
            "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z",
                       "timezone": "UTC", "minutes": 44640, "as_of": "2026-10-12T08:00:00Z"},
            "slos": [
                {"name": "api-probe", "sli": "probe", "scope": "api", "objective": 0.999,
                 "total_minutes": 44640, "excused_minutes": 30.0, "downtime_minutes": 12.0,
                 "availability": 0.99973, "met": True, "error_budget_remaining": 0.73,
                 "sli_value": 0.9991, "no_data_minutes": 3,
                 "episodes": [{"start": "2026-10-03T10:00:00Z", "end": "2026-10-03T10:12:00Z",
                               "minutes": 12.0, "excused": False, "open": False,
                               "reason": "probe <b>failed</b>"}]},
                {"name": "delivery", "sli": "delivery", "scope": None,
                 "objective": 0.999, "total_minutes": 44640, "excused_minutes": 0.0,
                 "downtime_minutes": 60.0, "availability": 0.99865, "met": False,
                 "error_budget_remaining": -0.35, "sli_value": 0.981, "episodes": []},
                {"name": "rx2", "sli": "rx2", "scope": "network", "objective": 0.999,
                 "total_minutes": 44640, "excused_minutes": 0.0, "downtime_minutes": 0.0,
                 "availability": 1.0, "met": True, "error_budget_remaining": 1.0,
                 "sli_value": 0.9995, "episodes": []},
                {"name": "api-response", "sli": "response_time", "scope": "api",
                 "objective": None, "total_minutes": 44640, "excused_minutes": 0.0,
                 "downtime_minutes": 0.0, "availability": 1.0, "met": True,
                 "error_budget_remaining": None, "sli_value": 420.0, "episodes": []},
            ],
            "contracts": [{"name": "fixture-sla", "availability": 0.99865, "objective": 0.999,
                           "met": False, "credit": 0.15, "credit_basis": "60 min > 43 min",
                           "slos": ["api-probe", "delivery"]}],
            "inputs": {"messages": 10, "rejected": 1, "late": 0},
        }

    def ingest_totals(self) -> dict[tuple[str, str], int]:
        self.calls += 1
        return {("probe", "ok"): 100 * self.calls, ("chirpstack", "rejected"): 2}

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
                "something_new": 1.0}
