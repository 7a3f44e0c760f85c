"""The application side: what the consuming application receives from the network server.

ChirpStack v4 integration events (``application/{appId}/device/{devEui}/event/{up,join,
txack,log}``) or, with ``app_server="tts"``, The Things Stack v3 messages
(``v3/{app}@{tenant}/devices/{id}/{up,join,down/sent,down/failed}``). Delivery outages are
decided here: this is the ratio the LORIOT contract measures (NS-received → application).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slastream.simulate.frames import b64
from slastream.simulate.radio import data_rate
from slastream.simulate.timefmt import iso_ns, iso_ns_z
from slastream.simulate.world import Device, uuid4

if TYPE_CHECKING:
    import random

    from slastream.simulate.generator import Simulation
    from slastream.simulate.lorawan import Copy, Frame

# ChirpStack network.deduplication_delay (default 200 ms): copies after it form a new set.
DEDUP_WINDOW_MS = 200
# gateway.rx_timestamp_max_drift (ChirpStack ≥ 4.13, default 30 s): a gwTime further off
# than this is not used for the event's ``time``.
MAX_DRIFT_MS = 30_000
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid(rng: random.Random) -> str:
    x = rng.getrandbits(130)
    return "".join(_CROCKFORD[(x >> (5 * i)) & 31] for i in range(26))


def _dropped(sim: Simulation, first_ms: int, logical: bool = True) -> bool:
    """Whether the application side loses this uplink (baseline loss or a delivery outage);
    ``logical`` False for what is not a logical uplink (a retransmission's log event)."""
    if sim.active("delivery", first_ms):
        if sim.rng.random() < sim.scenario.outages.delivery_drop_ratio:
            sim.truth.uplinks_dropped_in_outage += logical
            return True
        return False
    return sim.rng.random() < sim.scenario.delivery_loss_ratio


def deliver(sim: Simulation, dev: Device, frame: Frame, copies: list[Copy], fcnt: int,
            fport: int, data: bytes, confirmed: bool) -> None:
    """Deliver (or drop) one logical uplink to the application, 200–400 ms after its first
    gateway copy (ChirpStack waits out the dedup window before processing)."""
    rng = sim.rng
    first_ms = copies[0].arrival_ms
    if _dropped(sim, first_ms):
        return
    lo, hi = sim.scenario.delivery_delay_ms
    at = first_ms + sim.between(lo, hi)
    in_set = [c for c in copies if c.arrival_ms <= first_ms + DEDUP_WINDOW_MS]
    if sim.scenario.app_server == "tts":
        _tts_up(sim, dev, frame, in_set, at, fcnt, fport, data, confirmed)
    else:
        _chirpstack_up(sim, dev, frame, in_set, at, fcnt, fport, data, confirmed)
        late = [c for c in copies if c.arrival_ms > first_ms + DEDUP_WINDOW_MS]
        if late:
            # A copy after the dedup window starts a new frame set, which fails the
            # frame-counter check: a log event, not a second ``up``.
            _log(sim, dev, late[0].arrival_ms + DEDUP_WINDOW_MS + sim.between(1, 20), "WARNING",
                 "UPLINK_F_CNT_RETRANSMISSION",
                 "Uplink was flagged as re-transmission / frame-counter did not increment",
                 {"deduplication_id": uuid4(rng), "f_cnt_up": str(fcnt)})
    sim.truth.uplinks_delivered += 1
    sim.truth.uplinks_delivered_by_minute[first_ms // 60_000] += 1


def retransmission(sim: Simulation, dev: Device, copies: list[Copy], fcnt: int) -> None:
    """A retransmitted frame: ChirpStack logs it; The Things Stack forwards nothing."""
    if sim.scenario.app_server == "tts" or _dropped(sim, copies[0].arrival_ms, logical=False):
        return
    rng = sim.rng
    _log(sim, dev, copies[0].arrival_ms + DEDUP_WINDOW_MS + sim.between(1, 20), "WARNING",
         "UPLINK_F_CNT_RETRANSMISSION",
         "Uplink was flagged as re-transmission / frame-counter did not increment",
         {"deduplication_id": uuid4(rng), "f_cnt_up": str(fcnt)})


def joined(sim: Simulation, dev: Device, ms: int) -> None:
    """A completed OTAA join. ChirpStack sends ``join`` with the first uplink after it
    (integration.proto), The Things Stack at once."""
    if sim.scenario.app_server != "tts":
        return
    rng = sim.rng
    sim.emit(ms + sim.between(50, 300), dev.app_topic + "join", {
        "end_device_ids": {**dev.tts_ids, "dev_addr": f"{dev.devaddr:08X}"},
        "correlation_ids": [f"as:up:{_ulid(rng)}", f"ns:uplink:{_ulid(rng)}"],
        "received_at": iso_ns_z(ms + 40, sim.ns_digits()),
        "join_accept": {"session_key_id": dev.session_key_id,
                        "received_at": iso_ns_z(ms, sim.ns_digits())},
    })


def downlink_ok(sim: Simulation, dev: Device, at: int, downlink_id: int, gateway_id: str,
                tx_info: dict[str, Any], fcnt_down: int, frm_payload: bytes) -> None:
    """The gateway accepted the downlink: ChirpStack ``txack``, The Things Stack ``down/sent``."""
    rng = sim.rng
    if sim.scenario.app_server == "tts":
        sim.emit(at, dev.app_topic + "down/sent", {
            "end_device_ids": dict(dev.tts_ids),
            "correlation_ids": [f"as:downlink:{_ulid(rng)}"],
            "received_at": iso_ns_z(at, sim.ns_digits()),
            "downlink_sent": {"session_key_id": dev.session_key_id, "f_port": dev.fport,
                              "f_cnt": fcnt_down,
                              "frm_payload": b64(frm_payload),
                              "priority": "NORMAL"},
        })
        return
    sim.emit(at, dev.app_topic + "txack", {
        "downlinkId": downlink_id, "time": iso_ns(at, sim.ns_digits()),
        "deviceInfo": dev.device_info, "queueItemId": uuid4(rng), "fCntDown": fcnt_down,
        "gatewayId": gateway_id, "txInfo": tx_info,
    })


def downlink_failed(sim: Simulation, dev: Device, at: int, status: str) -> None:
    """Every item rejected: ChirpStack logs DOWNLINK_GATEWAY (no downlink id), TTS
    ``down/failed`` with the error ``transmission`` and the result as an attribute."""
    rng = sim.rng
    if sim.scenario.app_server == "tts":
        sim.emit(at, dev.app_topic + "down/failed", {
            "end_device_ids": dict(dev.tts_ids),
            "correlation_ids": [f"as:downlink:{_ulid(rng)}"],
            "received_at": iso_ns_z(at, sim.ns_digits()),
            "downlink_failed": {
                "downlink": {"session_key_id": dev.session_key_id, "f_port": dev.fport,
                             "priority": "NORMAL"},
                "error": {"namespace": "pkg/networkserver", "name": "transmission",
                          "message_format": "downlink transmission failed with result `{result}`",
                          "attributes": {"result": status}, "code": 9},
            },
        })
        return
    _log(sim, dev, at, "ERROR", "DOWNLINK_GATEWAY", status, {})


def _log(sim: Simulation, dev: Device, at: int, level: str, code: str, description: str,
         context: dict[str, str]) -> None:
    sim.emit(at, dev.app_topic + "log", {
        "time": iso_ns(at, sim.ns_digits()), "deviceInfo": dev.device_info, "level": level,
        "code": code, "description": description, "context": context,
    })


def _chirpstack_up(sim: Simulation, dev: Device, frame: Frame, in_set: list[Copy], at: int,
                   fcnt: int, fport: int, data: bytes, confirmed: bool) -> None:
    rng = sim.rng
    devaddr = f"{dev.devaddr:08x}"
    if dev.join_pending:
        dev.join_pending = False
        sim.emit(at, dev.app_topic + "join", {
            "deduplicationId": uuid4(rng), "time": iso_ns(at - 1, sim.ns_digits()),
            "deviceInfo": dev.device_info, "devAddr": devaddr, "regionConfigId": "eu868",
        })
    rx_info = [{**c.rx_info, "nsTime": iso_ns(c.arrival_ms, sim.ns_digits())} for c in in_set]
    # Event time (helpers::get_rx_timestamp): the first gwTime within the allowed drift of
    # the server clock, else the server's own clock after the dedup wait.
    event_time = None
    for c, rx in zip(in_set, rx_info, strict=True):
        if c.gateway.has_clock and abs(c.gateway.skew_ms) < MAX_DRIFT_MS:
            event_time = rx["gwTime"]
            break
    if event_time is None:
        event_time = iso_ns(in_set[0].arrival_ms + DEDUP_WINDOW_MS, sim.ns_digits())
    sim.emit(at, dev.app_topic + "up", {
        "deduplicationId": uuid4(rng), "time": event_time, "deviceInfo": dev.device_info,
        "devAddr": devaddr, "adr": True, "dr": data_rate(dev.sf), "fCnt": fcnt, "fPort": fport,
        "confirmed": confirmed, "data": b64(data),
        "rxInfo": rx_info, "txInfo": frame.tx_info, "regionConfigId": "eu868",
    })


def _tts_up(sim: Simulation, dev: Device, frame: Frame, in_set: list[Copy], at: int,
            fcnt: int, fport: int, data: bytes, confirmed: bool) -> None:
    rng = sim.rng
    metadata = []
    for c in in_set:
        gw = c.gateway
        md: dict[str, Any] = {"gateway_ids": {"gateway_id": f"gw-{gw.id}", "eui": gw.id.upper()}}
        if gw.has_clock:
            md["time"] = iso_ns_z(frame.time_ms + gw.skew_ms, sim.ns_digits())
        md["timestamp"] = gw.tmst(frame.time_ms)
        md["rssi"] = md["channel_rssi"] = c.rssi
        if "snr" in c.rx_info:
            md["snr"] = c.rx_info["snr"]
        if frame.channel:
            md["channel_index"] = frame.channel
        md["received_at"] = iso_ns_z(c.arrival_ms, sim.ns_digits())
        metadata.append(md)
    # "Empty fields are omitted": no f_cnt for FCnt 0, no f_port / frm_payload for MAC-only
    # uplinks, no confirmed when false (TTS data formats).
    message: dict[str, Any] = {"session_key_id": dev.session_key_id}
    if fport:
        message["f_port"] = fport
    if fcnt:
        message["f_cnt"] = fcnt
    if data:
        message["frm_payload"] = b64(data)
    message["rx_metadata"] = metadata
    message["settings"] = {
        "data_rate": {"lora": {"bandwidth": 125_000, "spreading_factor": dev.sf,
                               "coding_rate": "4/5"}},
        "frequency": str(frame.tx_info["frequency"]),  # uint64: a string in protobuf JSON
    }
    message["received_at"] = iso_ns_z(in_set[0].arrival_ms, sim.ns_digits())
    if confirmed:
        message["confirmed"] = True
    message["network_ids"] = {"net_id": "000013", "tenant_id": "ttn", "cluster_id": "eu1"}
    sim.emit(at, dev.app_topic + "up", {
        "end_device_ids": {**dev.tts_ids, "dev_addr": f"{dev.devaddr:08X}"},
        "correlation_ids": [f"as:up:{_ulid(rng)}", f"ns:uplink:{_ulid(rng)}"],
        "received_at": iso_ns_z(at, sim.ns_digits()),
        "uplink_message": message,
    })
