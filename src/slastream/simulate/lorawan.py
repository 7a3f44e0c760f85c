"""LoRaWAN uplinks on the gateway side (ChirpStack v4 ``{region}/gateway/{id}/event/up``).

Each device sends a data uplink every ~interval; one to five gateways hear it and each
publishes its own copy (same PHYPayload, its own rxInfo). What follows from an uplink,
delivery to the application and a Class-A downlink, lives in ``appserver`` and ``downlinks``.
This is the hot path of a generated day: draws use ``random()`` directly, not ``randint``.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from typing import TYPE_CHECKING, Any, NamedTuple

from slastream.simulate import appserver, downlinks, frames
from slastream.simulate.frames import b64
from slastream.simulate.radio import EU868_CHANNELS, MODULATION
from slastream.simulate.timefmt import iso_ns
from slastream.simulate.world import Device, Gateway

if TYPE_CHECKING:
    from slastream.simulate.generator import Simulation

RX_METADATA = {"region_config_id": "eu868", "region_common_name": "EU868"}
# ChirpStack collects gateway copies for network.deduplication_delay (default 200 ms).
DEDUP_WINDOW_MS = 200
_SPREADING_FACTORS = (7, 7, 7, 8, 8, 9, 10, 11, 12)
_by_arrival = operator.itemgetter(0)


class Copy(NamedTuple):
    """One gateway's copy of a frame as it reached the network server."""

    arrival_ms: int
    gateway: Gateway
    rx_info: dict[str, Any]
    rssi: int


class Frame(NamedTuple):
    """What a device put on the air."""

    time_ms: int  # end of transmission, on the true clock
    phy_b64: str
    channel: int
    tx_info: dict[str, Any]


def start(sim: Simulation) -> None:
    """Prepare counters and sessions, and schedule every device's first uplink."""
    sc = sim.scenario
    rng = sim.rng
    total = sum(sc.gateways_heard_weights) or 1.0
    sim.heard_cdf = [x / total for x in itertools.accumulate(sc.gateways_heard_weights)]
    interval_ms = sc.uplink_interval_s * 1000
    span_ms = (sim.end_ms - sim.start_ms) if sim.end_ms is not None else 86_400_000
    for dev in sim.world.devices:
        roll = rng.random()
        if roll < sc.wrap_device_share:
            # Wraps 65,535 → 0 within its first few dozen uplinks.
            dev.fcnt = 65_536 - rng.randint(1, 40)
        elif roll < sc.wrap_device_share + sc.high_fcnt_share:
            dev.fcnt = rng.randint(70_000, 5_000_000)
        else:
            dev.fcnt = rng.randint(0, 20_000)
        if rng.random() < sc.rejoin_device_share:
            dev.rejoin_at_ms = sim.start_ms + int(rng.uniform(0.1, 0.9) * span_ms)
        sim.schedule(sim.start_ms + int(rng.random() * interval_ms), _device_action(sim, dev))
    foreign_per_s = sc.devices / sc.uplink_interval_s * sc.foreign_frames_per_uplink
    if foreign_per_s > 0:
        def foreign(ms: int) -> None:
            _foreign_frame(sim, ms)
            sim.schedule(ms + 1 + int(rng.expovariate(foreign_per_s) * 1000), foreign)
        sim.schedule(sim.start_ms + int(rng.expovariate(foreign_per_s) * 1000), foreign)


def _device_action(sim: Simulation, dev: Device) -> Any:
    sc = sim.scenario
    rnd = sim.rng.random
    interval_ms = sc.uplink_interval_s * 1000
    jitter = sc.interval_jitter_ratio

    def tick(ms: int) -> None:
        if ms >= sim.lorawan_limit_ms:
            return
        if 0 <= dev.rejoin_at_ms <= ms:
            dev.rejoin_at_ms = -1
            _rejoin(sim, dev, ms)
            # The first data uplink of the new session follows the join-accept (RX at 5/6 s).
            sim.schedule(ms + sim.between(7_000, 12_000), tick)
            return
        data_uplink(sim, dev, ms)
        sim.schedule(ms + int(interval_ms * (1 + jitter * (2 * rnd() - 1))), tick)

    return tick


def data_uplink(sim: Simulation, dev: Device, ms: int) -> None:
    """One data uplink of ``dev``, ending its transmission at ``ms``."""
    sc = sim.scenario
    rng = sim.rng
    rnd = rng.random
    truth = sim.truth
    fcnt = dev.fcnt
    dev.fcnt = (fcnt + 1) & 0xFFFFFFFF
    if fcnt & 0xFFFF == 0 and fcnt > 0:
        truth.fcnt_wrapped_devices += 1
    if fcnt > truth.max_fcnt:
        truth.max_fcnt = fcnt
    confirmed = rnd() < sc.confirmed_share
    if rnd() < sc.mac_only_share:
        fport: int | None = None
        data = b""
        truth.mac_only_uplinks += 1
    else:
        fport = dev.fport
        data = rng.randbytes(4 + 4 * int(rnd() * 4))
    mtype = frames.CONFIRMED_UP if confirmed else frames.UNCONFIRMED_UP
    phy = frames.data_frame(mtype, dev.devaddr, frames.FCTRL_ADR, fcnt, fport,
                            frames.encrypt(data, dev.key), dev.key)
    frame = _on_air(sim, ms, phy, dev.sf)
    copies = hear(sim, dev.nearby, frame)
    first_ms = copies[0].arrival_ms
    truth.uplinks_received += 1
    truth.uplinks_received_by_minute[first_ms // 60_000] += 1
    truth.gateway_copies += len(copies)
    if copies[-1].arrival_ms > first_ms + DEDUP_WINDOW_MS:
        truth.late_copies += sum(1 for c in copies if c.arrival_ms > first_ms + DEDUP_WINDOW_MS)
    appserver.deliver(sim, dev, frame, copies, fcnt, fport or 0, data, confirmed)
    if confirmed or rnd() < sc.downlink_share:
        downlinks.class_a(sim, dev, frame, copies, ack=confirmed)
    if confirmed and rnd() < sc.retransmit_share:
        # No ACK reached the device: it sends the same frame again after ACK_TIMEOUT
        # (LoRaWAN 1.0.x: 1–3 s after the RX2 window).
        again_ms = ms + int((sc.rx1_delay_s + 1) * 1000) + sim.between(1_000, 3_000)
        again = hear(sim, dev.nearby, frame._replace(time_ms=again_ms))
        truth.retransmissions += 1
        truth.gateway_copies += len(again)
        appserver.retransmission(sim, dev, again, fcnt)


def _on_air(sim: Simulation, ms: int, phy: bytes, sf: int) -> Frame:
    channel = int(sim.rng.random() * len(EU868_CHANNELS))
    tx_info = {"frequency": EU868_CHANNELS[channel], "modulation": MODULATION[sf]}
    return Frame(ms, b64(phy), channel, tx_info)


def hear(sim: Simulation, nearby: list[Gateway], frame: Frame) -> list[Copy]:
    """Publish one ``event/up`` per gateway that hears ``frame``; copies by arrival time."""
    rng = sim.rng
    rnd = rng.random
    late_share = sim.scenario.late_copy_share
    emit = sim.emit
    n_near = len(nearby)
    k = min(bisect.bisect_left(sim.heard_cdf, rnd()) + 1, n_near)
    first = int(rnd() * n_near)
    copies: list[Copy] = []
    ms = frame.time_ms
    # Gateways with a true clock (GPS) agree on the reception time; skewed ones do not.
    digits = sim.ns_digits()
    true_time = iso_ns(ms, digits)
    for i in range(k):
        gw = nearby[(first + i) % n_near]
        arrival = ms + 20 + int(rnd() * 100)
        if rnd() < late_share:
            arrival += sim.between(250, 900)  # congested backhaul: after the dedup window
        rssi = -125 + int(rnd() * 90)
        snr = (int(rnd() * 109) - 60) / 4  # -15 .. 12 dB in quarter steps
        rx: dict[str, Any] = {"gatewayId": gw.id, "uplinkId": rng.getrandbits(16)}
        if gw.has_clock:
            # The gateway's own clock, which may be skewed; only nsTime is the server's.
            rx["gwTime"] = iso_ns(ms + gw.skew_ms, digits) if gw.skew_ms else true_time
        rx["rssi"] = rssi
        if snr:  # the gw protobuf package omits zero values in JSON
            rx["snr"] = snr
        if frame.channel:
            rx["channel"] = frame.channel
        rx["context"] = gw.context(ms)
        rx["metadata"] = RX_METADATA
        rx["crcStatus"] = "CRC_OK"
        # The gateway bridge publishes no nsTime: the network server sets it on receipt.
        emit(arrival, gw.up_topic,
             {"phyPayload": frame.phy_b64, "txInfo": frame.tx_info, "rxInfo": rx})
        copies.append(Copy(arrival, gw, rx, rssi))
    if k > 1:
        copies.sort(key=_by_arrival)
    return copies


def _rejoin(sim: Simulation, dev: Device, ms: int) -> None:
    """OTAA rejoin: a join-request, a join-accept at 5 s, then a new DevAddr and FCnt 0."""
    rng = sim.rng
    phy = frames.join_request(0x70B3D57ED0000000, dev.dev_eui, rng.getrandbits(16), dev.key)
    frame = _on_air(sim, ms, phy, dev.sf)
    copies = hear(sim, dev.nearby, frame)
    sim.truth.join_requests += 1
    sim.truth.rejoins += 1
    downlinks.join_accept(sim, frame, copies)
    dev.devaddr = sim.world.new_devaddr(rng)
    dev.fcnt = 0
    dev.fcnt_down = 0
    dev.session += 1
    dev.session_key_id = b64(rng.randbytes(16))
    dev.join_pending = True
    appserver.joined(sim, dev, copies[0].arrival_ms)


def _foreign_frame(sim: Simulation, ms: int) -> None:
    """A frame of another network (DevAddr outside our NetID prefix) heard by our gateways."""
    if ms >= sim.lorawan_limit_ms:
        return
    rng = sim.rng
    devaddr = sim.world.foreign_devaddr(rng)
    phy = frames.data_frame(frames.UNCONFIRMED_UP, devaddr, 0, rng.getrandbits(16),
                            sim.between(1, 223), rng.randbytes(sim.between(4, 24)),
                            rng.getrandbits(32))
    gateways = sim.world.gateways
    nearby = [gateways[int(rng.random() * len(gateways))]]
    sf = _SPREADING_FACTORS[int(rng.random() * len(_SPREADING_FACTORS))]
    copies = hear(sim, nearby, _on_air(sim, ms, phy, sf))
    sim.truth.foreign_frames += 1
    sim.truth.foreign_copies += len(copies)
