"""ChirpStack v4 MQTT integration: what reached the application, and downlink outcomes.

Topic ``application/{applicationId}/device/{devEui}/event/{event}`` (ChirpStack
``MqttIntegration`` default). Payloads are the protobuf JSON mapping of
``api/proto/integration/integration.proto``. Since v4.1 the integration messages are written
with ``emit_fields`` (zero values present); v4.0 omitted them, so every zero-valued field
(``fCnt: 0``, ``level: "INFO"``, ``code: "UNKNOWN"``) may be absent.

Downlink outcomes are kept for Class-A downlinks only: a Class-B/C downlink is not sent in a
receive window after an uplink (docs/semantics.md#not-rx2-attempts): it says nothing about RX2.
"""

from __future__ import annotations

from typing import Any

from slastream.errors import Rejected
from slastream.model.events import DeviceJoined, DownlinkOutcome, Event, UplinkDelivered
from slastream.sources._fields import (
    NOT_OBJECT,
    devaddr_hex,
    need_object,
    sub_object,
    text,
    uint32,
)

NOT_CLASS_A = "not a Class-A downlink"
NOT_RX_SIGNAL = "confirmation is not an RX-window signal"
SESSION_CHANGE = "session change"

# DeviceClass enum of common.proto; ``deviceInfo.deviceClassEnabled`` exists since v4.4.
_NOT_CLASS_A = ("CLASS_B", "CLASS_C")


def decode_up(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``event/up`` → ``UplinkDelivered``: a deduplicated uplink reached the application.

    ``fCnt`` is the full 32-bit counter (``f_cnt_up_full``); absent means 0 (v4.0 omits zero
    values). ``devAddr`` is needed to match the gateway-side copies. ``deviceInfo.tenantId``
    names the tenant owning the device (docs/semantics.md#tenants).
    """
    if type(payload) is not dict:
        raise Rejected(NOT_OBJECT)
    devaddr = payload.get("devAddr")
    if devaddr is None:
        raise Rejected("up event without devAddr")
    fcnt = payload.get("fCnt", 0)
    if type(fcnt) is not int or not 0 <= fcnt <= 0xFFFFFFFF:
        fcnt = uint32(fcnt, "fCnt")  # raises with a clear reason (null, float, bool, range)
    out.append(UplinkDelivered(received_ms, devaddr_hex(devaddr, "devAddr"), fcnt, parts[1],
                               parts[3], _tenant(payload)))
    return None


def decode_txack(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``event/txack``: the gateway accepted an application-payload downlink → ok outcome.

    ChirpStack sends ``txack`` only for application payloads (``tx_ack.rs``) and only on a
    positive gateway ack. ``txInfo.timing`` ``immediately`` (Class C) and ``gpsEpoch``
    (Class-B ping slots) are not receive-window attempts. The RX window is left unknown:
    ``timing.delay`` is relative to the uplink, and RX1 vs RX2 depends on the device's RX1
    delay, which the event does not carry.
    """
    msg = need_object(payload)
    if _device_class(msg) in _NOT_CLASS_A:
        return NOT_CLASS_A
    tx = sub_object(msg, "txInfo", "")
    if tx is None:
        raise Rejected("txack without txInfo")
    timing = sub_object(tx, "timing", "txInfo.")
    if timing is not None and ("immediately" in timing or "gpsEpoch" in timing):
        return NOT_CLASS_A
    out.append(DownlinkOutcome(received_ms, parts[3], True, "OK", "", -1))
    return None


def decode_ack(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``event/ack``: a confirmed downlink was acknowledged, or timed out. Ignored.

    The acknowledgement arrives with the device's next uplink, and ``acknowledged: false``
    means the confirmation timed out, not that a receive window was missed
    (docs/semantics.md#confirmed-downlinks).
    """
    need_object(payload)
    return NOT_RX_SIGNAL


def decode_log(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``event/log``: ``ERROR``/``DOWNLINK_GATEWAY`` → failed outcome; other codes ignored.

    When the gateway rejects every item of a downlink, ChirpStack logs ``DOWNLINK_GATEWAY``
    with the ``TxAckStatus`` name (``TOO_LATE``, ``TOO_EARLY``, ``COLLISION_PACKET``, ...)
    as ``description`` and no downlink id (``downlink/tx_ack.rs``).
    """
    msg = need_object(payload)
    code = text(msg, "code", default="UNKNOWN")  # LogCode UNKNOWN = 0, omitted before v4.1
    if code != "DOWNLINK_GATEWAY":
        return f"log {code[:40]}"  # LogCode names are short; the cap bounds odd input
    level = text(msg, "level", default="INFO")  # LogLevel INFO = 0, omitted before v4.1
    if level != "ERROR":
        return f"log {code} {level[:20]}"
    if _device_class(msg) in _NOT_CLASS_A:
        return NOT_CLASS_A
    # The description is the status name; "" (omitted) would still be a gateway failure.
    status = text(msg, "description", default="") or "UNKNOWN"
    out.append(DownlinkOutcome(received_ms, parts[3], False, status, "", -1))
    return None


def decode_join(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``event/join``: a new session (sent with the first uplink after OTAA) →
    ``DeviceJoined``, the owner of its ``devAddr`` (docs/semantics.md#tenants).

    A join without ``devAddr`` is ignored as a session change: the new DevAddr shows on the
    next ``up`` events.
    """
    msg = need_object(payload)
    devaddr = msg.get("devAddr")
    if devaddr is None:
        return SESSION_CHANGE
    out.append(DeviceJoined(received_ms, devaddr_hex(devaddr, "devAddr"), parts[1], parts[3],
                            _tenant(msg)))
    return None


def _tenant(msg: dict[str, Any]) -> str:
    """``deviceInfo.tenantId``, "" when absent."""
    info = msg.get("deviceInfo")
    if type(info) is not dict:
        return ""
    tenant = info.get("tenantId")
    return tenant if type(tenant) is str else ""


def _device_class(msg: dict[str, Any]) -> str:
    """``deviceInfo.deviceClassEnabled``; absent before v4.4, and then taken as Class A."""
    info = sub_object(msg, "deviceInfo", "")
    if info is None:
        return "CLASS_A"
    return text(info, "deviceClassEnabled", "deviceInfo.", default="CLASS_A")
