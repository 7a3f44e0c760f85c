"""The Things Stack v3 MQTT (Application Server): uplinks at the application, downlink outcomes.

Topics ``v3/{application id}@{tenant id}/devices/{device id}/{event}``; payloads are
``ttn.lorawan.v3.ApplicationUp`` in JSON with snake_case names (``messages.proto``). TTS omits
empty fields: a value of ``""``, ``0`` or ``false`` is absent (TTS docs, "Data Formats"),
so a missing ``f_cnt`` is FCnt 0.

TTS downlink messages carry no RX window or timing (lorawan-stack#6451), so outcomes have
``window=""``. They carry no device class either: a downlink with ``class_b_c`` set is never a
Class-A attempt, and devices declared in ``lorawan.class_b_c`` are left out by the RX2 SLI.

An ``up`` without ``end_device_ids.dev_addr`` is still a delivery: its DevAddr is
``DEVADDR_UNKNOWN`` and the delivery SLI takes it from the device's earlier uplinks
(docs/semantics.md#the-things-stack).
"""

from __future__ import annotations

from typing import Any

from slastream.errors import Rejected
from slastream.model.events import DeviceJoined, DownlinkOutcome, Event, UplinkDelivered
from slastream.sources._fields import NOT_OBJECT, devaddr_hex, need_object, sub_object, uint32

# UplinkDelivered.devaddr of an up without end_device_ids.dev_addr (never a DevAddr: those are
# 0 .. 2**32 - 1).
DEVADDR_UNKNOWN = -1

SIMULATED = "simulated uplink"
NOT_CLASS_A = "not a Class-A downlink"
SESSION_CHANGE = "session change"

# TxAcknowledgment.Result (messages.proto), for an error attribute written as a number.
_TX_RESULTS = (
    "SUCCESS",
    "UNKNOWN_ERROR",
    "TOO_LATE",
    "TOO_EARLY",
    "COLLISION_PACKET",
    "COLLISION_BEACON",
    "TX_FREQ",
    "TX_POWER",
    "GPS_UNLOCKED",
)

_IGNORED_DOWN = {
    "queued": "downlink queued",
    # Confirmed-downlink (n)acks come with a later uplink: not a receive-window signal.
    "ack": "confirmation is not an RX-window signal",
    "nack": "confirmation is not an RX-window signal",
}


def decode_up(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``up`` → ``UplinkDelivered``. Simulated uplinks (console) are ignored
    (docs/semantics.md#simulated-uplinks).

    ``uplink_message.f_cnt`` is the full FCntUp, absent when 0; the DevAddr comes from
    ``end_device_ids.dev_addr``, ``DEVADDR_UNKNOWN`` when the message has none (some
    stack versions leave it out, lorawan-stack#503). The NS forwards no retransmissions to
    the AS, so one message is one logical uplink.
    """
    if type(payload) is not dict:
        raise Rejected(NOT_OBJECT)
    if payload.get("simulated") is True:
        return SIMULATED
    up = payload.get("uplink_message")
    if type(up) is not dict:
        raise Rejected(
            "up without uplink_message" if up is None else "uplink_message is not an object"
        )
    ids = payload.get("end_device_ids")
    if type(ids) is not dict:
        raise Rejected("up without end_device_ids")
    devaddr = ids.get("dev_addr")
    fcnt = up.get("f_cnt", 0)
    if type(fcnt) is not int or not 0 <= fcnt <= 0xFFFFFFFF:
        fcnt = uint32(fcnt, "uplink_message.f_cnt")
    out.append(
        UplinkDelivered(
            received_ms,
            DEVADDR_UNKNOWN if devaddr is None
            else devaddr_hex(devaddr, "end_device_ids.dev_addr"),
            fcnt,
            parts[1],
            parts[3],
            tenant_of(parts[1]),
        )
    )
    return None


def decode_down(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``down/{queued,sent,failed,ack,nack}`` → outcomes for ``sent`` and gateway failures.

    ``down/sent`` is published when the gateway's TX acknowledgement is ``SUCCESS``;
    ``down/failed`` with error name ``transmission`` when it is not, with the result
    (``TOO_LATE``, ...) as the ``result`` attribute (``networkserver/grpc_gsns.go``). Other
    failures (queue, validation, payload too long) never reached a receive window.
    """
    msg = need_object(payload)
    kind = "/".join(parts[4:])
    if kind == "down/sent":
        sent = sub_object(msg, "downlink_sent", "")
        if sent is None:
            raise Rejected("down/sent without downlink_sent")
        if sent.get("class_b_c") is not None:
            return NOT_CLASS_A
        out.append(DownlinkOutcome(received_ms, parts[3], True, "OK", "", -1))
        return None
    if kind == "down/failed":
        return _failed(msg, parts[3], received_ms, out)
    reason = _IGNORED_DOWN.get(kind.removeprefix("down/"))
    if reason is None:
        raise Rejected(f"unknown downlink event {kind[:40]!r}")
    return reason


def _failed(msg: dict[str, Any], device: str, received_ms: int, out: list[Event]) -> str | None:
    failed = sub_object(msg, "downlink_failed", "")
    if failed is None:
        raise Rejected("down/failed without downlink_failed")
    error = sub_object(failed, "error", "downlink_failed.")
    if error is None:
        raise Rejected("down/failed without downlink_failed.error")
    name = error.get("name")
    if type(name) is not str:
        raise Rejected("downlink_failed.error.name must be a string")
    if name != "transmission":
        return f"downlink failed: {name[:60]}"
    downlink = sub_object(failed, "downlink", "downlink_failed.")
    if downlink is not None and downlink.get("class_b_c") is not None:
        return NOT_CLASS_A
    attributes = sub_object(error, "attributes", "downlink_failed.error.")
    result = None if attributes is None else attributes.get("result")
    if type(result) is int and 0 < result < len(_TX_RESULTS):
        status = _TX_RESULTS[result]
    elif type(result) is str and result:
        status = result
    elif result is None:
        status = "UNKNOWN_ERROR"  # the failure is certain even when the result is not
    else:
        raise Rejected("downlink_failed.error.attributes.result is not a TX result")
    out.append(DownlinkOutcome(received_ms, device, False, status, "", -1))
    return None


def decode_join(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``join``: a new session (``join_accept``) → ``DeviceJoined`` with
    ``end_device_ids.dev_addr``, the owner of the new DevAddr (docs/semantics.md#tenants);
    ignored as a session change without it (the new DevAddr then shows on uplinks)."""
    msg = need_object(payload)
    ids = sub_object(msg, "end_device_ids", "")
    devaddr = None if ids is None else ids.get("dev_addr")
    if devaddr is None:
        return SESSION_CHANGE
    out.append(DeviceJoined(received_ms, devaddr_hex(devaddr, "end_device_ids.dev_addr"),
                            parts[1], parts[3], tenant_of(parts[1])))
    return None


def tenant_of(application: str) -> str:
    """The tenant of ``{application id}@{tenant id}``; "" for a single-tenant deployment."""
    return application.rpartition("@")[2] if "@" in application else ""
