"""slastream's own topics (docs/interfaces.md#mqtt-topics): probes, request logs,
exclusions, and canonical LoRaWAN events for network servers without a dedicated decoder.

Probe, request, exclusion and outage times come from the payload (the publisher's clock).
Canonical uplink and downlink events may carry ``time``; without it the bridge's receive
time is used, the same clock the ChirpStack decoders use.

Batches (a JSON array) are all-or-nothing: one bad element rejects the whole message, with
the element's index in the reason, so a publisher sees exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slastream.errors import Rejected
from slastream.model.events import (
    EXCLUSION_KINDS,
    FPORT_NONE,
    FPORT_UNKNOWN,
    OUTAGE_OPEN,
    BridgeOutage,
    DownlinkOutcome,
    Event,
    Exclusion,
    ProbeResult,
    RequestLog,
    UplinkDelivered,
    UplinkReceived,
)
from slastream.sources._fields import (
    devaddr_hex,
    flag,
    need_object,
    number,
    text,
    timestamp_ms,
    uint32,
)

EMPTY_BATCH = "empty batch"
WINDOWS = frozenset({"rx1", "rx2", ""})
_NAN = float("nan")

Item = Callable[[dict[str, Any], list[str], int], Event]


def _one_or_many(
    item: Item, payload: Any, parts: list[str], received_ms: int, out: list[Event]
) -> str | None:
    """Decode an object, or an array of objects, with ``item``; all or nothing."""
    if type(payload) is dict:
        out.append(item(payload, parts, received_ms))
        return None
    if type(payload) is not list:
        raise Rejected("payload is not a JSON object or array")
    if not payload:
        return EMPTY_BATCH
    events: list[Event] = []
    for i, element in enumerate(payload):
        if type(element) is not dict:
            raise Rejected(f"item {i}: not a JSON object")
        try:
            events.append(item(element, parts, received_ms))
        except Rejected as exc:
            raise Rejected(f"item {i}: {exc.reason}") from None
    out.extend(events)
    return None


def _status_code(obj: dict[str, Any], key: str, required: bool) -> int:
    value = obj.get(key)
    if value is None and not required:
        return -1
    if type(value) is not int or not 0 <= value <= 999:
        raise Rejected(f"missing {key}" if value is None else f"{key} must be an integer 0-999")
    return value


def _probe(obj: dict[str, Any], parts: list[str], received_ms: int) -> Event:
    latency = obj.get("latency_ms")
    return ProbeResult(
        timestamp_ms(obj, "time"),
        parts[2],
        flag(obj, "ok"),
        _status_code(obj, "status", required=False),  # null: no HTTP status (connect error)
        _NAN if latency is None else number(latency, "latency_ms"),
        text(obj, "location", default=""),
    )


def decode_probe(parts: list[str], payload: Any, received_ms: int, out: list[Event]) -> str | None:
    """``slastream/probe/{component}``: ``{"time", "ok", "status", "latency_ms",
    "location"}`` or an array.

    ``status`` null (or absent) → -1; ``latency_ms`` null (or absent) → NaN ("unknown", which
    is not the same as fast); ``location`` null (or absent) → "" (one unnamed location,
    docs/semantics.md#probe-locations).
    """
    return _one_or_many(_probe, payload, parts, received_ms, out)


def _request(obj: dict[str, Any], parts: list[str], received_ms: int) -> Event:
    if obj.get("duration_ms") is None:
        raise Rejected("missing duration_ms")
    return RequestLog(
        timestamp_ms(obj, "time"),
        parts[2],
        number(obj["duration_ms"], "duration_ms"),
        _status_code(obj, "status", required=True),
        text(obj, "client", default=""),
        _size(obj.get("bytes")),
    )


def _size(value: Any) -> int:
    """``bytes``: a whole number >= 0, or null / absent (unknown: -1)."""
    if value is None:
        return -1
    if type(value) is int and 0 <= value < 1 << 53:
        return value
    if type(value) is float and value.is_integer() and 0 <= value < 2.0 ** 53:
        return int(value)
    raise Rejected("bytes must be a whole number >= 0 or null")


def decode_request(
    parts: list[str], payload: Any, received_ms: int, out: list[Event]
) -> str | None:
    """``slastream/request/{component}``: ``{"time", "duration_ms", "status", "client",
    "bytes"}``.

    ``client`` (the device or API key the allowance is counted against) may be omitted;
    ``bytes`` (the size the data transfer allowance counts) too: absent or null is -1.
    """
    return _one_or_many(_request, payload, parts, received_ms, out)


def decode_exclusion(
    parts: list[str], payload: Any, received_ms: int, out: list[Event]
) -> str | None:
    """``slastream/exclusion``: one declared exclusion window → ``Exclusion``.

    ``announced_at`` (null or absent: not announced) is what notice-period rules check;
    ``evidence`` is what "third-party"/"force majeure" clauses ask for.
    """
    obj = need_object(payload)
    ident = text(obj, "id")
    scope = text(obj, "scope")
    if not ident or not scope:
        raise Rejected("id and scope must not be empty")
    kind = text(obj, "kind")
    if kind not in EXCLUSION_KINDS:
        raise Rejected(f"kind must be one of {', '.join(sorted(EXCLUSION_KINDS))}")
    start_ms = timestamp_ms(obj, "start")
    end_ms = timestamp_ms(obj, "end")
    if end_ms <= start_ms:
        raise Rejected("end must be after start")
    announced_ms = timestamp_ms(obj, "announced_at", default=-1)
    evidence = text(obj, "evidence", default="")
    out.append(Exclusion(ident, scope, start_ms, end_ms, announced_ms, kind, evidence))
    return None


def _uplink_received(obj: dict[str, Any], parts: list[str], received_ms: int) -> Event:
    return UplinkReceived(
        timestamp_ms(obj, "time", default=received_ms),
        devaddr_hex(obj.get("devaddr"), "devaddr", exact=False),
        # The frame header carries 16 bits; a 32-bit counter from an NS is reduced to them.
        uint32(obj.get("fcnt"), "fcnt") & 0xFFFF,
        text(obj, "gateway", default=""),
        text(obj, "region", default=""),
        flag(obj, "confirmed", default=False),
        _fport(obj),
    )


def _fport(obj: dict[str, Any]) -> int:
    """``fport`` (or ``f_port``, The Things Stack's name): 0..255, or -1 for a frame without
    FPort; absent or null: the publisher does not say, and the uplink counts as carrying
    application data whatever ``lorawan.count_mac_only`` says."""
    value = obj.get("fport")
    key = "fport"
    if value is None:
        value = obj.get("f_port")
        key = "f_port"
        if value is None:
            return FPORT_UNKNOWN
    if type(value) is not int or not FPORT_NONE <= value <= 255:
        raise Rejected(f"{key} must be an integer from 0 to 255, or -1 for no FPort")
    return value


def decode_uplink_received(
    parts: list[str], payload: Any, received_ms: int, out: list[Event]
) -> str | None:
    """``slastream/uplink/received``: uplinks received by another network server.

    ``{"time", "devaddr", "fcnt", "gateway", "region", "confirmed", "fport"}``; ``fport``
    (or ``f_port``) is optional: the frame's FPort, 0 for MAC commands only, -1 when the
    frame has no FPort (no FRMPayload). With ``lorawan.count_mac_only: false`` uplinks with
    FPort 0 or none are left out of the delivery SLI; without ``fport`` an uplink counts.
    """
    return _one_or_many(_uplink_received, payload, parts, received_ms, out)


def _uplink_delivered(obj: dict[str, Any], parts: list[str], received_ms: int) -> Event:
    return UplinkDelivered(
        timestamp_ms(obj, "time", default=received_ms),
        devaddr_hex(obj.get("devaddr"), "devaddr", exact=False),
        uint32(obj.get("fcnt"), "fcnt"),
        text(obj, "application", default=""),
        text(obj, "device", default=""),
        text(obj, "tenant", default=""),
    )


def decode_uplink_delivered(
    parts: list[str], payload: Any, received_ms: int, out: list[Event]
) -> str | None:
    """``slastream/uplink/delivered``: uplinks that reached the consuming application."""
    return _one_or_many(_uplink_delivered, payload, parts, received_ms, out)


def _downlink(obj: dict[str, Any], parts: list[str], received_ms: int) -> Event:
    device = text(obj, "device")
    if not device:
        raise Rejected("device must not be empty")
    ok = flag(obj, "ok")
    window = text(obj, "window", default="")
    if window not in WINDOWS:
        raise Rejected('window must be "rx1", "rx2" or ""')
    latency = obj.get("latency_ms")
    return DownlinkOutcome(
        timestamp_ms(obj, "time", default=received_ms),
        device,
        ok,
        text(obj, "status", default="OK" if ok else "ERROR"),
        window,
        -1 if latency is None or latency == -1 else int(number(latency, "latency_ms")),
    )


def decode_downlink(
    parts: list[str], payload: Any, received_ms: int, out: list[Event]
) -> str | None:
    """``slastream/downlink``: resolved Class-A downlink attempts from another server."""
    return _one_or_many(_downlink, payload, parts, received_ms, out)


def decode_bridge_outage(
    parts: list[str], payload: Any, received_ms: int, out: list[Event]
) -> str | None:
    """``slastream/bridge/outage``: a window in which a bridge was cut off from its broker.

    A zero-length window (reconnected within the same millisecond) is accepted. Without
    ``end`` the outage is still open (``OUTAGE_OPEN``): the bridge announces it as soon as
    it loses the broker and closes it with a second message when it is back.
    """
    obj = need_object(payload)
    start_ms = timestamp_ms(obj, "start")
    end_ms = timestamp_ms(obj, "end") if obj.get("end") is not None else OUTAGE_OPEN
    if end_ms != OUTAGE_OPEN and end_ms < start_ms:
        raise Rejected("end must not be before start")
    out.append(BridgeOutage(start_ms, end_ms, text(obj, "bridge")))
    return None
