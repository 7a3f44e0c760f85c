"""Class-A downlinks: command/down with RX1 and RX2 items, gateway acks, integration events."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.simulate.traffic import Traffic, parse_phy


def _delays(payload: dict[str, Any]) -> list[str]:
    return [item["txInfo"]["timing"]["delay"]["delay"] for item in payload["items"]]


def test_commands_carry_rx1_and_rx2(traffic: Traffic) -> None:
    commands = traffic["gateway/down"]
    assert commands
    delays = Counter(tuple(_delays(m.payload)) for m in commands)
    assert set(delays) == {("1s", "2s"), ("5s", "6s")}  # Class A, and join-accepts
    for m in commands:
        rx1, rx2 = m.payload["items"]
        assert rx2["txInfo"]["frequency"] == 869_525_000
        assert rx2["txInfo"]["modulation"]["lora"]["spreadingFactor"] == 12
        phy = parse_phy(rx1["phyPayload"])
        assert phy.mhdr in (0x60, 0x20)  # unconfirmed data down, join-accept
        assert m.topic == f"eu868/gateway/{m.payload['gatewayId']}/command/down"


def test_acks_follow_their_commands(traffic: Traffic) -> None:
    issued = {(m.payload["gatewayId"], m.payload["downlinkId"]): m.received_ms
              for m in traffic["gateway/down"]}
    acks = traffic["gateway/ack"]
    assert len(acks) < len(issued)  # Basic Station gateways stay silent on failure
    shapes: Counter[tuple[str, ...]] = Counter()
    for m in acks:
        key = (m.payload["gatewayId"], m.payload["downlinkId"])
        assert issued[key] < m.received_ms < issued[key] + 1000
        shapes[tuple(item.get("status", "IGNORED") for item in m.payload["items"])] += 1
    assert shapes[("OK", "IGNORED")] > shapes[("TOO_LATE", "OK")] > 0
    assert shapes[("TOO_LATE", "TOO_LATE")] > 0
    assert shapes[("OK",)] > 0  # Basic Station: successes only, as item 0
    # an IGNORED item is the enum's zero value: rendered as an empty object
    assert any(m.payload["items"][1:] == [{}] for m in acks)


def test_command_timing_on_the_bridge_clock(traffic: Traffic) -> None:
    """Normally ~300 ms after the uplink's first copy; a total miss comes after the RX2
    deadline (2 s), which is what makes it TOO_LATE."""
    first: dict[tuple[int, int], int] = {}
    for m, phy in traffic.gateway_frames():
        if phy.devaddr >= 0:
            first.setdefault((phy.devaddr, phy.fcnt16), m.received_ms)
    outcome = {(m.payload["gatewayId"], m.payload["downlinkId"]):
               tuple(i.get("status") for i in m.payload["items"]) for m in traffic["gateway/ack"]}
    late = fine = 0
    for m in traffic["gateway/down"]:
        phy = parse_phy(m.payload["items"][0]["phyPayload"])
        if phy.mhdr != 0x60:
            continue
        # the downlink's FCnt is its own; find the uplink by DevAddr and time instead
        ups = [t for (addr, _), t in first.items() if addr == phy.devaddr and t < m.received_ms]
        lag = m.received_ms - max(ups)
        status = outcome.get((m.payload["gatewayId"], m.payload["downlinkId"]))
        if status == ("TOO_LATE", "TOO_LATE"):
            assert lag > 1900
            late += 1
        elif status == ("OK", None):
            assert 250 <= lag <= 500
            fine += 1
    assert late and fine


def test_integration_reports_each_acked_downlink(traffic: Traffic) -> None:
    acks = traffic["gateway/ack"]
    ok = sum(1 for m in acks if any(i.get("status") == "OK" for i in m.payload["items"]))
    join_accepts = sum(1 for m in traffic["gateway/down"] if m.payload["items"][0]
                       ["txInfo"]["timing"]["delay"]["delay"] == "5s")
    txacks = traffic["app/txack"]
    assert len(txacks) == ok - join_accepts  # join-accepts have no txack
    assert {m.payload["txInfo"]["timing"]["delay"]["delay"] for m in txacks} == {"1s", "2s"}
    failed = [m for m in traffic["app/log"] if m.payload["code"] == "DOWNLINK_GATEWAY"]
    assert failed and {m.payload["level"] for m in failed} == {"ERROR"}
    assert {m.payload["description"] for m in failed} <= {"TOO_LATE", "COLLISION_PACKET"}
