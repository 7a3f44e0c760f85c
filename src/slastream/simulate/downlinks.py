"""Class-A downlinks on the gateway side: ``command/down`` and the gateway's ``event/ack``.

The network server answers an uplink through the gateway that heard it best, with one
``DownlinkFrame`` of two items: RX1 (delay RECEIVE_DELAY1) and RX2 (RX1 + 1 s, 869.525 MHz,
SF12 in EU868). The gateway bridge tries item 0 and, on an error, item 1, then acks once
with every item's status; an untried item is IGNORED, rendered ``{}`` because it is the
enum's zero value. Basic Station gateways report successes only (as item 0) and nothing at
all on failure. Join-accepts use JOIN_ACCEPT_DELAY1/2 (5 s / 6 s): not RX2 attempts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slastream.simulate import appserver, frames
from slastream.simulate.frames import b64
from slastream.simulate.radio import DOWN_MODULATION, JOIN_ACCEPT_DELAYS_S, RX2_FREQUENCY, RX2_SF
from slastream.simulate.world import Device

if TYPE_CHECKING:
    from slastream.simulate.generator import Simulation
    from slastream.simulate.lorawan import Copy, Frame


def _delay(seconds: float) -> dict[str, Any]:
    return {"delay": {"delay": f"{seconds:g}s"}}  # protobuf Duration in JSON: "1s"


def _item(phy: bytes, frequency: int, power: int, sf: int, delay_s: float,
          context: str) -> dict[str, Any]:
    return {"phyPayload": b64(phy),
            "txInfo": {"frequency": frequency, "power": power, "modulation": DOWN_MODULATION[sf],
                       "timing": _delay(delay_s), "context": context}}


def _statuses(sim: Simulation, at_ms: int) -> list[str]:
    """Per-item gateway statuses for a downlink answering an uplink received at ``at_ms``.

    In a downlink outage the server answers too late for either window.
    """
    rng = sim.rng
    if (sim.active("downlink", at_ms)
            and rng.random() < sim.scenario.outages.downlink_too_late_ratio):
        return ["TOO_LATE", "TOO_LATE"]
    r = rng.random()
    if r < 0.04:
        return ["TOO_LATE", "OK"]  # RX1 missed, RX2 reached
    if r < 0.06:
        return ["COLLISION_PACKET", "OK"]
    if r < 0.062:
        return ["TOO_LATE", "TOO_LATE"]
    return ["OK", "IGNORED"]


def class_a(sim: Simulation, dev: Device, frame: Frame, copies: list[Copy], ack: bool) -> None:
    """A Class-A downlink answering ``frame`` (with the ACK bit for a confirmed uplink)."""
    rng = sim.rng
    truth = sim.truth
    best = max(copies, key=lambda c: c.rssi)
    gw = best.gateway
    first_ms = copies[0].arrival_ms
    rx1_ms = int(sim.scenario.rx1_delay_s * 1000)
    statuses = _statuses(sim, first_ms)
    # When the command reaches the bridge (one clock, docs/semantics.md#gateway-clocks): normally
    # dedup (200 ms) + get_downlink_data_delay (100 ms) after the first copy; a missed RX1
    # means it came after the RX1 deadline, a total miss after the RX2 deadline.
    if statuses[1] == "TOO_LATE":
        cmd_ms = frame.time_ms + rx1_ms + 1000 + sim.between(50, 1500)
    elif statuses[0] == "TOO_LATE":
        cmd_ms = frame.time_ms + rx1_ms + sim.between(0, 600)
    else:
        cmd_ms = first_ms + sim.between(250, 350)
    downlink_id = rng.getrandbits(32)
    fcnt_down = dev.fcnt_down
    dev.fcnt_down += 1
    payload = rng.randbytes(sim.between(1, 8))
    phy = frames.data_frame(frames.UNCONFIRMED_DOWN, dev.devaddr,
                            frames.FCTRL_ACK if ack else 0, fcnt_down, dev.fport,
                            frames.encrypt(payload, dev.key), dev.key)
    context = gw.context(frame.time_ms)
    items = [
        _item(phy, frame.tx_info["frequency"], 14, dev.sf, rx1_ms / 1000, context),
        _item(phy, RX2_FREQUENCY, 27, RX2_SF, rx1_ms / 1000 + 1, context),
    ]
    if not sim.emit(cmd_ms, gw.down_topic,
                    {"downlinkId": downlink_id, "items": items, "gatewayId": gw.id}):
        return
    truth.downlinks += 1
    truth.downlinks_by_minute[cmd_ms // 60_000] += 1
    ok_index = statuses.index("OK") if "OK" in statuses else -1
    if ok_index >= 0:
        truth.downlinks_reached += 1
        truth.downlinks_reached_by_minute[cmd_ms // 60_000] += 1
        truth.downlinks_rx2 += ok_index == 1
    tries = ok_index + 1 if ok_index >= 0 else 2
    ack_ms = cmd_ms + sum(sim.between(20, 80) for _ in range(tries))
    if gw.basic_station:
        if ok_index < 0:
            truth.downlinks_unacked += 1
            return  # Basic Station never reports a failed transmission
        ack_items: list[dict[str, str]] = [{"status": "OK"}]
        ok_index = 0  # ... and always attributes a success to item 0
    else:
        ack_items = [{} if s == "IGNORED" else {"status": s} for s in statuses]
        if ok_index < 0:
            truth.downlinks_failed += 1
    sim.emit(ack_ms, gw.ack_topic,
             {"gatewayId": gw.id, "downlinkId": downlink_id, "items": ack_items})
    at = ack_ms + sim.between(5, 20)
    if ok_index >= 0:
        appserver.downlink_ok(sim, dev, at, downlink_id, gw.id, items[ok_index]["txInfo"],
                              fcnt_down, payload)
    else:
        appserver.downlink_failed(sim, dev, at, statuses[-1])


def join_accept(sim: Simulation, frame: Frame, copies: list[Copy]) -> None:
    """The join-accept answering a join-request, on JOIN_ACCEPT_DELAY1/2 (5 s / 6 s)."""
    rng = sim.rng
    best = max(copies, key=lambda c: c.rssi)
    gw = best.gateway
    cmd_ms = copies[0].arrival_ms + sim.between(250, 350)
    downlink_id = rng.getrandbits(32)
    phy = frames.join_accept(rng.randbytes(16))
    context = gw.context(frame.time_ms)
    sf = frame.tx_info["modulation"]["lora"]["spreadingFactor"]
    items = [
        _item(phy, frame.tx_info["frequency"], 14, sf, JOIN_ACCEPT_DELAYS_S[0], context),
        _item(phy, RX2_FREQUENCY, 27, RX2_SF, JOIN_ACCEPT_DELAYS_S[1], context),
    ]
    if sim.emit(cmd_ms, gw.down_topic,
                {"downlinkId": downlink_id, "items": items, "gatewayId": gw.id}):
        sim.truth.join_accepts += 1
        sim.emit(cmd_ms + sim.between(20, 80), gw.ack_topic,
                 {"gatewayId": gw.id, "downlinkId": downlink_id,
                  "items": [{"status": "OK"}] if gw.basic_station else [{"status": "OK"}, {}]})
