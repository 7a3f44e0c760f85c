"""The prober's ``location`` reaches the canonical ``ProbeResult``; rows and payloads
written without it still decode (as location "")."""

from __future__ import annotations

import math

from slastream.model.events import Event, ProbeResult
from slastream.probe.result import Outcome, ProbeReport
from slastream.sources.router import DEFAULT
from slastream.transport.codec import event_from_row, event_row

T = 1_790_000_000_000


def decode(payload: object) -> tuple[list[Event], tuple[str, str, str]]:
    out: list[Event] = []
    verdict = DEFAULT.decode("slastream/probe/api", payload, T, out)
    return out, verdict


def test_the_published_location_is_decoded() -> None:
    report = ProbeReport(T, "api-health", "api", "fra1", Outcome(False, 503, 12.5, "status"))
    events, (_, outcome, _) = decode(report.payload())
    assert outcome == "ok"
    assert events == [ProbeResult(T, "api", False, 503, 12.5, "fra1")]


def test_a_payload_without_location_is_location_empty_and_a_bad_one_is_rejected() -> None:
    events, _ = decode({"time": "2026-10-01T00:00:05Z", "ok": True, "status": 200})
    assert len(events) == 1 and isinstance(events[0], ProbeResult)
    assert events[0].location == ""
    events, (_, outcome, reason) = decode({"time": "2026-10-01T00:00:05Z", "ok": True,
                                           "location": 7})
    assert (events, outcome) == ([], "rejected") and "location must be a string" in reason


def test_event_rows_round_trip_and_old_rows_get_the_default() -> None:
    ev = ProbeResult(T, "api", True, 200, math.nan, "ams")
    back = event_from_row(event_row(ev))
    assert isinstance(back, ProbeResult) and back.location == "ams"
    assert math.isnan(back.latency_ms)
    old = event_from_row(["probe", T, "api", True, 200, None])
    assert old == ProbeResult(T, "api", True, 200, old.latency_ms, "")
