"""ChirpStack v4 gateway topics (JSON marshaler): the network server's own view of the radio.

Topics (``{region}`` is the NS ``topic_prefix``, e.g. ``eu868``; ``{gw}`` the gateway EUI):

* ``{region}/gateway/{gw}/event/up``       ``gw.UplinkFrame``   → ``UplinkReceived``
* ``{region}/gateway/{gw}/command/down``   ``gw.DownlinkFrame`` → ``DownlinkCommand``
* ``{region}/gateway/{gw}/event/ack``      ``gw.DownlinkTxAck`` → ``DownlinkAck``

Field names follow ``chirpstack/api/proto/gw/gw.proto``. The ``gw`` package is serialised
without ``emit_fields``, so zero values (``downlinkId: 0``, status ``IGNORED``) are omitted.
The older shapes of ChirpStack v3 (``token``, ``error``, a single ``phyPayload`` + ``txInfo``
with a ``timing`` enum) are accepted as well.

Times are the bridge's receive time: gateway clocks drift (``gwTime``/``time`` can be tens of
seconds off), so server latency is measured on one clock (docs/semantics.md#gateway-clocks).
"""

from __future__ import annotations

import binascii
from typing import Any

from slastream.errors import Rejected
from slastream.model.events import DownlinkAck, DownlinkCommand, Event, UplinkReceived
from slastream.sources import lorawan
from slastream.sources._fields import NOT_OBJECT, need_object, uint32

BAD_CRC = "bad CRC"
NOT_DATA_UP = "not a data uplink"
NOT_DATA_DOWN = "not a data-down or join-accept frame"
UNKNOWN_MAJOR = "unknown LoRaWAN major version"

_DATA_DOWN = (lorawan.UNCONFIRMED_DATA_DOWN, lorawan.CONFIRMED_DATA_DOWN)
_unpack_header = lorawan.DATA_HEADER.unpack_from
_a2b = lorawan.b64_bytes
_a2b_strict = binascii.a2b_base64


def decode_up(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """One gateway copy of an uplink → ``UplinkReceived`` when it is a LoRaWAN data uplink.

    A copy whose ``crcStatus`` is written and is not ``CRC_OK`` is ignored: it is not a valid
    packet, and the ChirpStack MQTT Forwarder drops such frames before publishing them.
    Join-requests, rejoin-requests, proprietary frames and unknown Major versions are
    ignored. Foreign-network frames are kept: the SLI filters them by DevAddr prefix.
    """
    if type(payload) is not dict:
        raise Rejected(NOT_OBJECT)
    rx = payload.get("rxInfo")
    if type(rx) is not dict:
        rx = _single_rx_info(rx)
    # CRCStatus (gw.proto): absent is the enum default, also what bridges that never fill the
    # field produce; packet forwarders pass only CRC-valid frames by default, so it is kept.
    crc = rx.get("crcStatus")
    if crc is not None and crc != "CRC_OK":
        return BAD_CRC
    text: Any = payload.get("phyPayload")
    try:
        phy = _a2b_strict(text, strict_mode=True)  # the form ChirpStack writes
    except (TypeError, ValueError):  # binascii.Error is a ValueError
        if text is None:
            raise Rejected("up frame without phyPayload") from None
        phy = lorawan.b64_bytes(text, "phyPayload")  # URL-safe / unpadded, or a clear reason
    if not phy:
        raise Rejected("empty phyPayload")
    mhdr = phy[0]
    mtype = mhdr >> 5
    if mtype != lorawan.UNCONFIRMED_DATA_UP and mtype != lorawan.CONFIRMED_DATA_UP:
        return NOT_DATA_UP
    if mhdr & 0x03 != lorawan.MAJOR_LORAWAN_R1:
        return UNKNOWN_MAJOR
    if len(phy) < lorawan.MIN_DATA_FRAME_BYTES:
        raise Rejected(f"phyPayload too short for a data frame ({len(phy)} bytes, need 12)")
    _, devaddr, fctrl, fcnt = _unpack_header(phy)
    if len(phy) < lorawan.MIN_DATA_FRAME_BYTES + (fctrl & 0x0F):
        raise Rejected("phyPayload shorter than its FOpts length")
    out.append(
        UplinkReceived(
            received_ms,
            devaddr,
            fcnt,
            parts[2],
            parts[0],
            mtype == lorawan.CONFIRMED_DATA_UP,
            lorawan.frame_port(phy, fctrl),
        )
    )
    return None


def _single_rx_info(rx: Any) -> dict[str, Any]:
    """``rxInfo`` is one object in ``gw.UplinkFrame``; a one-element list is accepted too.

    ChirpStack skips an uplink without ``rx_info`` ("rx_info of uplink event is empty,
    skipping", ``uplink/mod.rs``), so it is malformed here as well.
    """
    if rx is None:
        raise Rejected("up frame without rxInfo")
    if type(rx) is list:
        if len(rx) == 1 and type(rx[0]) is dict:
            return rx[0]
        raise Rejected("rxInfo list must hold exactly one object")
    raise Rejected("rxInfo is not a JSON object")


def decode_down(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """A downlink frame the NS sends to a gateway → ``DownlinkCommand``.

    Items are the transmit opportunities in priority order (RX1 then RX2 for Class A,
    ``gw.proto`` ``DownlinkFrame.items``); each gives its ``timing``. The DevAddr comes from
    the first item's PHYPayload; join-accepts carry none (``-1``).
    """
    msg = need_object(payload)
    items = msg.get("items")
    if items is None or items == []:
        if "phyPayload" not in msg:
            raise Rejected("downlink without items")
        items = [msg]  # ChirpStack v3 shape: phyPayload and txInfo at the top level
    elif type(items) is not list:
        raise Rejected("items is not a list")
    first = items[0]
    if type(first) is not dict:
        raise Rejected("items[0] is not a JSON object")
    try:
        phy = _a2b(first["phyPayload"], "items[0].phyPayload")
    except KeyError:
        raise Rejected("items[0] without phyPayload") from None
    if not phy:
        raise Rejected("empty phyPayload")
    mtype = phy[0] >> 5
    join_accept = mtype == lorawan.JOIN_ACCEPT
    if not join_accept and mtype not in _DATA_DOWN:
        return NOT_DATA_DOWN
    if phy[0] & 0x03 != lorawan.MAJOR_LORAWAN_R1:
        return UNKNOWN_MAJOR
    if join_accept:
        if len(phy) < lorawan.MIN_JOIN_ACCEPT_BYTES:
            raise Rejected(f"join-accept too short ({len(phy)} bytes, need 17)")
        devaddr = -1
    else:
        _, devaddr, _ = lorawan.data_frame_header(phy, "items[0].phyPayload")
    delays = tuple(_item_delay_ms(item, i) for i, item in enumerate(items))
    out.append(
        DownlinkCommand(
            received_ms,
            parts[2],
            _downlink_id(msg),
            devaddr,
            delays,
            join_accept,
        )
    )
    return None


def _downlink_id(msg: dict[str, Any]) -> int:
    """``downlinkId`` (uint32; omitted when 0). ChirpStack v3 matched acks by ``token``."""
    value = msg.get("downlinkId")
    if value is not None:
        return uint32(value, "downlinkId")
    token = msg.get("token")
    return 0 if token is None else uint32(token, "token")


def _item_delay_ms(item: Any, index: int) -> int:
    """The RX delay of one item in ms; ``-1`` for ``immediately`` and GPS-epoch timing."""
    if type(item) is not dict:
        raise Rejected(f"items[{index}] is not a JSON object")
    tx = item.get("txInfo")
    if tx is None:
        tx = item.get("txInfoLegacy")
    if type(tx) is not dict:
        raise Rejected(f"items[{index}] without txInfo")
    timing = tx.get("timing")
    if type(timing) is dict:  # v4: Timing oneof {immediately, delay, gpsEpoch}
        delay = timing.get("delay")
        if delay is not None:
            if type(delay) is not dict:
                raise Rejected(f"items[{index}].txInfo.timing.delay is not a JSON object")
            return duration_ms(delay.get("delay", "0s"), f"items[{index}] delay")
        if "immediately" in timing or "gpsEpoch" in timing:
            return -1
        raise Rejected(f"items[{index}].txInfo.timing has no delay, immediately or gpsEpoch")
    # v3 / DownlinkTxInfoLegacy: enum ``timing`` (IMMEDIATELY = 0 is omitted) and a
    # separate ``delayTimingInfo``.
    legacy = tx.get("delayTimingInfo")
    if timing == "DELAY" or (timing is None and legacy is not None):
        if type(legacy) is not dict:
            raise Rejected(f"items[{index}] has DELAY timing without delayTimingInfo")
        return duration_ms(legacy.get("delay", "0s"), f"items[{index}] delay")
    if timing is None or timing == "IMMEDIATELY" or timing == "GPS_EPOCH":
        return -1
    raise Rejected(f"items[{index}].txInfo.timing is not understood")


_duration_cache: dict[str, int] = {"1s": 1000, "2s": 2000, "5s": 5000, "6s": 6000}


def duration_ms(value: Any, field: str) -> int:
    """A ``google.protobuf.Duration`` in JSON (``"1s"``, ``"1.500s"``) → whole ms, >= 0.

    The JSON mapping writes seconds with 0, 3, 6 or 9 fractional digits and an ``s`` suffix.
    Sub-millisecond digits are dropped.
    """
    cached = _duration_cache.get(value) if type(value) is str else None
    if cached is not None:
        return cached
    if type(value) is not str or len(value) < 2 or value[-1] != "s":
        raise Rejected(f"{field} is not a duration like '1s'")
    whole, _, frac = value[:-1].partition(".")
    if not whole.isdigit() or not whole.isascii() or (frac and not frac.isdigit()):
        raise Rejected(f"{field} is not a non-negative duration like '1.5s': {value[:20]!r}")
    if len(whole) > 12 or len(frac) > 9 or not frac.isascii():
        raise Rejected(f"{field} is out of range: {value[:20]!r}")
    ms = int(whole) * 1000 + (int((frac + "00")[:3]) if frac else 0)
    if len(_duration_cache) < 256:
        _duration_cache[value] = ms
    return ms


def decode_ack(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """The gateway's TX acknowledgement → ``DownlinkAck`` with one status per item.

    ``TxAckStatus`` ``IGNORED`` is enum value 0, so an ignored item is ``{}`` in JSON. The v3
    shape has no items, only an ``error`` string ("" on success; the Semtech forwarder's
    ``NONE`` means success as well).
    """
    msg = need_object(payload)
    items = msg.get("items")
    statuses: tuple[str, ...]
    if items is not None and items != []:
        if type(items) is not list:
            raise Rejected("items is not a list")
        statuses = tuple(_item_status(item, i) for i, item in enumerate(items))
    else:
        error = msg.get("error")
        if error is None or error == "" or error == "NONE":
            statuses = ("OK",)
        elif type(error) is str:
            statuses = (error,)
        else:
            raise Rejected("error must be a string")
    out.append(DownlinkAck(received_ms, parts[2], _downlink_id(msg), statuses))
    return None


def _item_status(item: Any, index: int) -> str:
    if type(item) is not dict:
        raise Rejected(f"items[{index}] is not a JSON object")
    status = item.get("status")
    if status is None:
        return "IGNORED"  # enum default, omitted by the JSON mapping
    if type(status) is not str or not status:
        raise Rejected(f"items[{index}].status must be a status name")
    return status
