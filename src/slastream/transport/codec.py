"""Kafka record format and routing of canonical events to topics and keys.

One Kafka record carries a *batch* of canonical events (a faust agent pays a fixed cost per
record, so per-event records cap a worker at ~12k events/s; batches lift that limit).
Record value: ``{"v": 1, "events": [[type_name, field, field, ...], ...]}`` as JSON.

Topics and keys, chosen so that everything one SLI must join lands on one partition:

* ``{prefix}.lorawan``  key = DevAddr (8 hex): NS-side uplink copies, application-side
  deliveries, application-side downlink outcomes (keyed by device). The delivery SLI joins
  a received uplink with its delivery by (DevAddr, FCnt).
* ``{prefix}.gateway``  key = gateway id: NS-side uplink copies again, downlink commands and
  gateway TX acks. The RX2 SLI links a downlink to the uplink the same gateway heard and
  to that gateway's ack.
* ``{prefix}.service``  key = component: probe results and request logs.
* ``{prefix}.control``  key = exclusion id / bridge id: exclusions and bridge outages, read
  whole by every worker (they are few and apply everywhere).
* ``{prefix}.deadletter``: rejected raw messages with their reason.
* ``{prefix}.breaches``: outage episode start/end events.
"""

from __future__ import annotations

import base64
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson

from slastream.model.events import (
    EVENT_NAMES,
    EVENT_TYPES,
    BridgeOutage,
    DownlinkAck,
    DownlinkCommand,
    DownlinkOutcome,
    Event,
    Exclusion,
    ProbeResult,
    RequestLog,
    UplinkDelivered,
    UplinkReceived,
)
from slastream.model.time import format_rfc3339_ms

FORMAT_VERSION = 1
LORAWAN, GATEWAY, SERVICE, CONTROL, DEADLETTER, BREACHES = (
    "lorawan", "gateway", "service", "control", "deadletter", "breaches")
EVENT_STREAMS = (LORAWAN, GATEWAY, SERVICE, CONTROL)


def topic_name(prefix: str, stream: str) -> str:
    return f"{prefix}.{stream}"


_ROUTES: dict[type[Event], Callable[[Any], list[tuple[str, str]]]] = {
    UplinkReceived: lambda e: [(LORAWAN, f"{e.devaddr:08x}"), (GATEWAY, e.gateway)],
    UplinkDelivered: lambda e: [(LORAWAN, f"{e.devaddr:08x}")],
    DownlinkCommand: lambda e: [(GATEWAY, e.gateway)],
    DownlinkAck: lambda e: [(GATEWAY, e.gateway)],
    DownlinkOutcome: lambda e: [(LORAWAN, e.device)],
    ProbeResult: lambda e: [(SERVICE, e.component)],
    RequestLog: lambda e: [(SERVICE, e.component)],
    Exclusion: lambda e: [(CONTROL, e.id)],
    BridgeOutage: lambda e: [(CONTROL, e.bridge)],
}


def routes(event: Event) -> list[tuple[str, str]]:
    """``(stream, key)`` pairs an event is produced to (an uplink copy goes to two)."""
    route = _ROUTES.get(type(event))  # one dict lookup: this runs once per event
    if route is None:
        raise TypeError(f"not a canonical event: {event!r}")
    return route(event)


def group_by_route(events: list[Event]) -> dict[tuple[str, str], list[Event]]:
    out: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for ev in events:
        for route in routes(ev):
            out[route].append(ev)
    return out


def encode_batch(events: list[Event]) -> bytes:
    """A Kafka record value holding ``events``. NaN (an unknown probe latency) becomes
    ``null``: orjson writes non-finite floats as null, which is what JSON allows."""
    names = EVENT_NAMES
    rows = [[names[type(ev)], *ev] for ev in events]
    return orjson.dumps({"v": FORMAT_VERSION, "events": rows})


_ARITY = {cls: len(cls._fields) for cls in EVENT_TYPES.values()}


def _event(row: list[Any]) -> Event:
    cls = EVENT_TYPES[row[0]]
    fields = row[1:]
    if len(fields) != _ARITY[cls]:
        raise ValueError(f"{row[0]} needs {_ARITY[cls]} fields, got {len(fields)}")
    if cls is DownlinkCommand:
        fields[4] = tuple(fields[4])
    elif cls is DownlinkAck:
        fields[3] = tuple(fields[3])
    elif cls is ProbeResult and fields[4] is None:
        fields[4] = math.nan
    # tuple.__new__ skips the NamedTuple's keyword-argument constructor (about 40 % of the
    # decode cost on the worker's hot path); the arity is checked above.
    event: Event = tuple.__new__(cls, fields)
    return event


def encode_deadletter(topic: str, received_ms: int, source: str, reason: str,
                      raw: bytes) -> bytes:
    """A ``{prefix}.deadletter`` record value: the rejected MQTT message and why."""
    return orjson.dumps({"topic": topic, "received_at": format_rfc3339_ms(received_ms),
                         "source": source, "reason": reason,
                         "payload_b64": base64.b64encode(raw).decode()})


def decode_deadletter(value: bytes) -> dict[str, Any]:
    """The fields of a dead letter, with ``payload`` (bytes) decoded from ``payload_b64``."""
    obj: dict[str, Any] = orjson.loads(value)
    obj["payload"] = base64.b64decode(obj["payload_b64"])
    return obj


def decode_batch(value: bytes) -> list[Event]:
    """Events of one record. Raises ``ValueError`` on a record of another format."""
    obj = orjson.loads(value)
    if not isinstance(obj, dict) or obj.get("v") != FORMAT_VERSION:
        raise ValueError("not a slastream event batch (v1)")
    return [_event(row) for row in obj["events"]]
