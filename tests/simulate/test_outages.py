"""Scheduled outages show in the traffic where the ground truth says they are, and only there.

Windows come from the scenario (via ``GroundTruth.outages``); the ratios are measured here
from the decoded messages.
"""

from __future__ import annotations

from statistics import mean

from slastream.simulate import GroundTruth, Outages
from tests.simulate.conftest import SCENARIO
from tests.simulate.traffic import START_MS, Traffic, ms_of, up_key


def _inside(truth: GroundTruth, kind: str, ms: int, scope: str | None = None) -> bool:
    return any(w.start_ms <= ms < w.end_ms for w in truth.windows(kind, scope))


def test_windows_are_the_scheduled_ones(truth: GroundTruth) -> None:
    out = Outages()
    (delivery,) = truth.windows("delivery")
    assert delivery.start_ms == START_MS + out.delivery[0].start_s * 1000
    assert delivery.minutes == out.delivery[0].duration_s / 60
    assert {w.kind for w in truth.outages} == {"delivery", "downlink", "probe", "slow",
                                               "maintenance"}


def test_delivery_outage_drops_most_uplinks(traffic: Traffic, truth: GroundTruth) -> None:
    first: dict[tuple[int, int], int] = {}
    for m, phy in traffic.gateway_frames():
        if phy.ours:
            first.setdefault((phy.devaddr, phy.fcnt16), m.received_ms)
    delivered = {up_key(m.payload) for m in traffic["app/up"]}
    inside = [k in delivered for k, t in first.items() if _inside(truth, "delivery", t)]
    outside = [k in delivered for k, t in first.items() if not _inside(truth, "delivery", t)]
    assert len(inside) > 1000
    assert mean(inside) < 0.75 * 0.2  # far below LORIOT's 75 %
    assert mean(outside) > 0.99
    # inside the window every loss is the outage's (baseline loss is decided outside it)
    assert truth.uplinks_dropped_in_outage == inside.count(False)


def test_downlink_outage_acks_too_late(traffic: Traffic, truth: GroundTruth) -> None:
    acks = {(m.payload["gatewayId"], m.payload["downlinkId"]): m.payload["items"]
            for m in traffic["gateway/ack"]}
    inside: list[bool] = []
    outside: list[bool] = []
    for m in traffic["gateway/down"]:
        if m.payload["items"][0]["txInfo"]["timing"]["delay"]["delay"] != "1s":
            continue
        items = acks.get((m.payload["gatewayId"], m.payload["downlinkId"]), [])
        reached = any(i.get("status") == "OK" for i in items)
        # the command of a missed downlink comes up to ~3.5 s after its uplink
        (inside if _inside(truth, "downlink", m.received_ms - 3500) and
         _inside(truth, "downlink", m.received_ms) else outside).append(reached)
    assert len(inside) > 50
    assert mean(inside) < 0.15
    assert mean(outside) > 0.9


def test_probe_outage_fails_every_probe_of_its_component(traffic: Traffic,
                                                         truth: GroundTruth) -> None:
    (window,) = truth.windows("probe", "api")
    api = [m.payload for m in traffic["slastream/probe"] if m.topic.endswith("/api")]
    failed = [p for p in api if window.start_ms <= ms_of(p["time"]) < window.end_ms]
    assert len(failed) == window.minutes * 2  # every 30 s
    assert not any(p["ok"] for p in failed)
    statuses = {p["status"] for p in failed}
    assert statuses == {503, None}
    assert all(p["latency_ms"] is None for p in failed if p["status"] is None)
    others = [p for p in api if not _inside(truth, "probe", ms_of(p["time"]))
              and not _inside(truth, "maintenance", ms_of(p["time"]))]
    assert others and all(p["ok"] and p["status"] == 200 for p in others)
    dashboard = [m.payload for m in traffic["slastream/probe"] if m.topic.endswith("/dashboard")]
    assert len(dashboard) == 6000 / SCENARIO.probe_interval_s
    assert all(p["ok"] for p in dashboard)


def test_slow_responses_exceed_the_target(traffic: Traffic, truth: GroundTruth) -> None:
    inside: list[float] = []
    outside: list[float] = []
    for m in traffic["slastream/request"]:
        assert isinstance(m.payload, list) and m.payload
        for r in m.payload:
            assert set(r) == {"time", "duration_ms", "status", "client"}
            (inside if _inside(truth, "slow", ms_of(r["time"]), "api") else outside).append(
                r["duration_ms"])
    assert mean(inside) > 500 > mean(outside)
    assert len(inside) + len(outside) == truth.requests["api"]


def test_maintenance_is_announced_before_it_starts(traffic: Traffic,
                                                   truth: GroundTruth) -> None:
    (announcement,) = traffic["slastream/exclusion"]
    p = announcement.payload
    (window,) = truth.windows("maintenance")
    assert set(p) == {"id", "scope", "start", "end", "announced_at", "kind", "evidence"}
    assert p["kind"] == "maintenance" and p["scope"] == "api" and p["evidence"]
    assert (ms_of(p["start"]), ms_of(p["end"])) == (window.start_ms, window.end_ms)
    assert announcement.received_ms < window.start_ms
    assert window.start_ms - ms_of(p["announced_at"]) >= 7 * 86_400_000  # LORIOT's notice
    during = [m.payload for m in traffic["slastream/probe"] if m.topic.endswith("/api")
              and window.start_ms <= ms_of(m.payload["time"]) < window.end_ms]
    assert during and not any(q["ok"] for q in during)
