"""Capture files: one MQTT message per JSON line, as received (docs/interfaces.md#capture-files)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any, NamedTuple

import msgspec
import orjson

from slastream.model.time import format_rfc3339_ms, parse_rfc3339_ms


class Message(NamedTuple):
    """One MQTT message with the bridge's receive time."""

    received_ms: int
    topic: str
    payload: Any  # the parsed JSON value, or bytes when the payload was not JSON


class BadLine(NamedTuple):
    line_no: int
    reason: str


def parse_line(line: bytes | str, line_no: int = 0,
               max_bytes: int | None = None) -> Message | BadLine:
    """Parse one capture line; never raises. A bad line's reason is a fixed text naming
    the field (docs/interfaces.md#bounds), never a value of the line. A line longer than
    ``max_bytes`` is ``oversize``, not parsed."""
    if max_bytes is not None and len(line) > max_bytes:
        return BadLine(line_no, "oversize")
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        obj = beyond_orjson(line)
        if obj is _INVALID:
            return BadLine(line_no, "not JSON")
    if not isinstance(obj, dict):
        return BadLine(line_no, "not a JSON object")
    try:
        stamp = obj["received_at"]
        topic = obj["topic"]
        payload = obj["payload"] if "payload" in obj else obj["payload_b64"]
    except KeyError as exc:
        return BadLine(line_no, f"missing {exc.args[0]}")
    try:
        received_ms = parse_rfc3339_ms(stamp)
    except (ValueError, TypeError, OverflowError):
        return BadLine(line_no, "received_at is not an RFC 3339 timestamp")
    if not isinstance(topic, str) or not topic:
        return BadLine(line_no, "topic must be a non-empty string")
    if "payload" not in obj:
        try:
            payload = base64.b64decode(payload, validate=True)
        except (ValueError, TypeError):
            return BadLine(line_no, "payload_b64 is not base64")
    return Message(received_ms, topic, payload)


_INVALID = object()
# numbers as Python reads them: out of a double's range is ±inf, a long integer stays exact
_LENIENT = msgspec.json.Decoder(float_hook=float)


def beyond_orjson(line: bytes | str) -> Any:
    """The value of a line that ``orjson`` refuses although it is JSON (RFC 8259): a
    number beyond a double's range (read as ±inf, as Python's ``float`` does); anything
    else ``orjson`` refuses (bad UTF-8, bad syntax, nesting past 1,000 levels) is
    returned as ``_INVALID``.

    The replay's fast path (``sources/fastpath.py``) reads a line with a typed decoder
    that checks the syntax of the fields it skips but does not convert their numbers, so
    it accepts such a line; this makes every other path accept it too, with the same
    values in the fields the decoders read (docs/interfaces.md#capture-files)."""
    try:
        if isinstance(line, bytes) and not line.isascii():
            line.decode()
        return _LENIENT.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return _INVALID


def read_capture(path: str) -> Iterator[Message | BadLine]:
    """Stream a capture file line by line (never loads it whole)."""
    with open(path, "rb", buffering=1 << 20) as fh:
        for i, line in enumerate(fh, 1):
            if len(line) > 2 or line.strip():
                yield parse_line(line, i)



def format_line(message: Message) -> bytes:
    """One capture line (without the newline)."""
    out: dict[str, Any] = {"received_at": format_rfc3339_ms(message.received_ms),
                           "topic": message.topic}
    if isinstance(message.payload, bytes | bytearray):
        out["payload_b64"] = base64.b64encode(message.payload).decode()
    else:
        out["payload"] = message.payload
    return orjson.dumps(out)
