"""Kafka record format of canonical events.

One Kafka record carries a *batch* of canonical events (a faust agent pays a fixed cost per
record, so per-event records cap a worker at ~12k events/s; batches lift that limit).
Two formats of the record value, told apart by their first bytes on read:

* columnar, versions 3 (written now) and 2 (written before integer columns were narrowed),
  ``columnar.py``: a binary header, then the events column by column per type, so both
  ends convert whole columns instead of rows;
* version 1 (written by earlier releases, and still by the worker's markers):
  ``{"v": 1, "events": [[type_name, field, field, ...], ...]}`` as JSON. A row shorter
  than its type (written before the type gained trailing fields with defaults) is
  completed from the defaults.

Records already in a topic when a release with a newer format starts stay readable.

Topics and keys, chosen so that everything one SLI must join lands on one partition, are
declared in ``routes.py``:

* ``{prefix}.lorawan``  key = DevAddr (8 hex): NS-side uplink copies, application-side
  deliveries, application-side downlink outcomes (keyed by device);
* ``{prefix}.gateway``  key = gateway id: NS-side uplink copies again, downlink commands and
  gateway TX acks;
* ``{prefix}.service``  key = component: probe results and request logs (request logs by
  client where a contract counts the allowance of every component, ``routes.router``);
* ``{prefix}.control``  key = exclusion id / bridge id: exclusions and bridge outages, read
  whole by every worker (they are few and apply everywhere);
* ``{prefix}.deadletter``: rejected raw messages with their reason;
* ``{prefix}.breaches``: outage episode start/end events.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import Any

import orjson

from slastream.model.events import (
    EVENT_NAMES,
    EVENT_TYPES,
    DownlinkAck,
    DownlinkCommand,
    Event,
    ProbeResult,
)
from slastream.model.time import format_rfc3339_ms
from slastream.transport import columnar
from slastream.transport.routes import BREACHES as BREACHES
from slastream.transport.routes import CONTROL as CONTROL
from slastream.transport.routes import DEADLETTER as DEADLETTER
from slastream.transport.routes import EVENT_STREAMS as EVENT_STREAMS
from slastream.transport.routes import GATEWAY as GATEWAY
from slastream.transport.routes import LORAWAN as LORAWAN
from slastream.transport.routes import SERVICE as SERVICE
from slastream.transport.routes import routes as routes

FORMAT_VERSION = columnar.VERSION  # what encode_batch writes
JSON_VERSION = 1


def topic_name(prefix: str, stream: str) -> str:
    return f"{prefix}.{stream}"


def encode_batch(events: Sequence[Event]) -> bytes:
    """A Kafka record value holding ``events``: columnar (version 3), or version 1 when a
    value does not fit its column (an integer outside 64 bits, a field of the wrong type
    from a faulty decoder), so that no event is refused for the format's sake."""
    try:
        return columnar.encode(events)
    except (OverflowError, TypeError, ValueError):
        return encode_json_batch(events)


def encode_records(events: Sequence[Event], max_bytes: int) -> list[tuple[int, bytes]]:
    """``(number of events, value)`` of the records holding ``events`` in order: one record,
    or halves of it while a value is over ``max_bytes`` (events with long strings), down
    to single events."""
    value = encode_batch(events)
    if len(value) <= max_bytes or len(events) <= 1:
        return [(len(events), value)]
    half = len(events) // 2
    return [*encode_records(events[:half], max_bytes), *encode_records(events[half:], max_bytes)]


def encode_json_batch(events: Sequence[Event]) -> bytes:
    """``events`` as a version 1 (JSON) record value, the format of the worker's markers
    and of earlier releases. NaN (an unknown probe latency) becomes ``null``: orjson
    writes non-finite floats as null, which is what JSON allows."""
    names = EVENT_NAMES
    rows = [[names[type(ev)], *ev] for ev in events]
    return orjson.dumps({"v": JSON_VERSION, "events": rows})


_ARITY = {cls: len(cls._fields) for cls in EVENT_TYPES.values()}
# trailing fields with defaults, which a row written before they existed may lack
_DEFAULTS = {cls: tuple(cls._field_defaults[f] for f in cls._fields
                        if f in cls._field_defaults) for cls in EVENT_TYPES.values()}


def event_row(event: Event) -> list[Any]:
    """``[type_name, field, ...]``: one event of a record (see ``encode_batch``)."""
    return [EVENT_NAMES[type(event)], *event]


def event_from_row(row: list[Any]) -> Event:
    """Inverse of ``event_row``. Raises ``ValueError`` (or ``KeyError`` for an unknown type)
    when the row does not fit its type."""
    cls = EVENT_TYPES[row[0]]
    fields = row[1:]
    missing = _ARITY[cls] - len(fields)
    if missing:
        defaults = _DEFAULTS[cls]
        if not 0 < missing <= len(defaults):
            raise ValueError(f"{row[0]} needs {_ARITY[cls]} fields, got {len(fields)}")
        fields.extend(defaults[len(defaults) - missing:])
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


def decode_grouped(value: bytes) -> dict[type, list[Event]]:
    """Events of one record (either version) by type, each list in the order written, the
    types in order of first appearance: what ``Engine.feed`` takes.

    Raises ``ValueError`` (``KeyError``, ``TypeError``, ``IndexError`` for some malformed
    version 1 rows) on a record of another format.
    """
    if columnar.is_columnar(value):
        return columnar.decode(value)
    out: dict[type, list[Event]] = {}
    for event in decode_batch(value):
        same = out.get(type(event))
        if same is None:
            out[type(event)] = [event]
        else:
            same.append(event)
    return out


def decode_batch(value: bytes) -> list[Event]:
    """Events of one record (any version): in the order written for version 1, by type
    for the columnar ones. Raises ``ValueError`` on a record of another format."""
    if columnar.is_columnar(value):
        return [ev for events in columnar.decode(value).values() for ev in events]
    obj = orjson.loads(value)
    if not isinstance(obj, dict) or obj.get("v") != JSON_VERSION:
        raise ValueError("not a slastream event batch (v1, v2 or v3)")
    return [event_from_row(row) for row in obj["events"]]
