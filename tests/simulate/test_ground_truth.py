"""The ground truth agrees with counts taken from the messages themselves."""

from __future__ import annotations

from collections import Counter

from slastream.simulate import GroundTruth
from tests.simulate.traffic import Traffic


def test_uplink_counts(traffic: Traffic, truth: GroundTruth) -> None:
    ours = [(m, phy) for m, phy in traffic.gateway_frames() if phy.ours]
    logical = {(phy.devaddr, phy.fcnt16, phy.mic) for _, phy in ours}
    assert truth.uplinks_received == len(logical)
    assert truth.gateway_copies == len(ours)
    assert truth.uplinks_delivered == len(traffic["app/up"])
    assert truth.uplinks_received == sum(truth.uplinks_received_by_minute.values())
    assert truth.uplinks_delivered == sum(truth.uplinks_delivered_by_minute.values())
    assert 0.8 < truth.delivery_ratio < 0.95  # a 15-minute outage in 100 minutes
    assert truth.fcnt_wrapped_devices > 0 and truth.max_fcnt > 0xFFFF
    assert truth.rejoins == len(traffic["app/join"]) > 0


def test_downlink_counts(traffic: Traffic, truth: GroundTruth) -> None:
    delays = Counter(m.payload["items"][0]["txInfo"]["timing"]["delay"]["delay"]
                     for m in traffic["gateway/down"])
    assert truth.downlinks == delays["1s"]
    assert truth.join_accepts == delays["5s"]
    reached = sum(1 for m in traffic["gateway/ack"]
                  if any(i.get("status") == "OK" for i in m.payload["items"]))
    assert truth.downlinks_reached == reached - truth.join_accepts
    assert truth.downlinks_unacked == truth.downlinks + truth.join_accepts - len(
        traffic["gateway/ack"])
    assert truth.downlinks == (truth.downlinks_reached + truth.downlinks_failed
                               + truth.downlinks_unacked)


def test_service_counts(traffic: Traffic, truth: GroundTruth) -> None:
    probes = Counter(m.topic.rsplit("/", 1)[1] for m in traffic["slastream/probe"])
    assert truth.probes == probes
    ok = Counter(m.topic.rsplit("/", 1)[1] for m in traffic["slastream/probe"] if m.payload["ok"])
    assert truth.probes_ok == ok
    durations = [r["duration_ms"] for m in traffic["slastream/request"] for r in m.payload]
    assert truth.requests["api"] == len(durations)
    assert abs(truth.mean_response_ms("api") - sum(durations) / len(durations)) < 1e-6
