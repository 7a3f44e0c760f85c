"""Access-log lines → requests: JSON lines (nginx, Envoy, or any field names) and ``combined``.

``combined`` is the nginx/Apache combined format followed by the request time in seconds
(nginx ``$request_time``), the last field of the line; its response size
(``$body_bytes_sent``, Apache's ``%b`` writes ``-`` for none) is the request's ``bytes``::

    log_format timed '$remote_addr - $remote_user [$time_local] "$request" $status '
                     '$body_bytes_sent "$http_referer" "$http_user_agent" $request_time';

JSON lines name their fields; the presets are nginx's variables (``escape=json``)::

    log_format slastream escape=json '{"time_iso8601":"$time_iso8601",'
        '"request_time":"$request_time","status":"$status","remote_addr":"$remote_addr",'
        '"body_bytes_sent":"$body_bytes_sent"}';

and Envoy's ``json_format`` with keys named after its command operators::

    json_format: {start_time: "%START_TIME%", duration: "%DURATION%",
                  response_code: "%RESPONSE_CODE%",
                  downstream_remote_address: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
                  bytes_sent: "%BYTES_SENT%"}

A time is RFC 3339 (or epoch seconds, as nginx ``$msec`` writes); numbers may come as JSON
numbers or as strings. A line without its size field gives a request of unknown size, never
a rejection: sizes are optional everywhere. A line that does not parse is a ``Rejection``
with a reason from a small fixed set (fit for a metric label), never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, NamedTuple

import orjson

from slastream.model.time import format_rfc3339_ms, parse_rfc3339_ms

FormatKind = Literal["json", "combined"]
DurationUnit = Literal["ms", "s"]


@dataclass(frozen=True)
class LogFormat:
    """How to read one line. Field names apply to JSON lines only."""

    kind: FormatKind
    time_field: str = "time"
    duration_field: str = "duration_ms"
    duration_unit: DurationUnit = "ms"
    status_field: str = "status"
    client_field: str = "client"  # absent from a line: the request has client ""
    bytes_field: str = "bytes"  # absent from a line: the request's size is unknown


PRESETS: dict[str, LogFormat] = {
    "combined": LogFormat("combined", duration_unit="s"),
    "json": LogFormat("json"),  # slastream's own field names
    "nginx-json": LogFormat("json", "time_iso8601", "request_time", "s", "status",
                            "remote_addr", "body_bytes_sent"),
    "envoy-json": LogFormat("json", "start_time", "duration", "ms", "response_code",
                            "downstream_remote_address", "bytes_sent"),
}


def log_format(preset: str, **fields: str) -> LogFormat:
    """A preset with some field names replaced (``time_field=...``); ``KeyError`` if unknown."""
    return replace(PRESETS[preset], **fields)  # type: ignore[arg-type]


class Request(NamedTuple):
    """One served request, as published on ``slastream/request/{component}``."""

    time_ms: int
    duration_ms: float
    status: int
    client: str
    bytes: int = -1  # the response size; -1: unknown (left out of the message)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time": format_rfc3339_ms(self.time_ms),
                               "duration_ms": round(self.duration_ms, 3),
                               "status": self.status, "client": self.client}
        if self.bytes >= 0:
            out["bytes"] = self.bytes
        return out


class Rejection(NamedTuple):
    reason: str


class _Bad(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_COMBINED = re.compile(
    rb"^(\S+) \S+ \S+ \[([^\]]+)\] " + _QUOTED.encode() + rb" (\d{3}) (\S+) "
    + _QUOTED.encode() + rb" " + _QUOTED.encode() + rb"(.*)$")
_local_cache: dict[str, int] = {}


def _local_time_ms(text: str) -> int:
    """``01/Oct/2026:00:00:01 +0000`` (nginx ``$time_local``) → epoch ms (cached per second)."""
    cached = _local_cache.get(text)
    if cached is None:
        try:
            cached = int(datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z").timestamp()) * 1000
        except ValueError:
            raise _Bad("bad time") from None
        if len(_local_cache) > 100_000:
            _local_cache.clear()
        _local_cache[text] = cached
    return cached


def _number(value: Any, reason: str) -> float:
    if type(value) in (int, float):
        number = float(value)
    elif isinstance(value, str | bytes):
        try:
            number = float(value)
        except ValueError:
            raise _Bad(reason) from None
    else:
        raise _Bad(reason)
    if not 0 <= number < 1e12:  # also refuses NaN and infinities
        raise _Bad(reason)
    return number


def _status(value: Any) -> int:
    if type(value) is int:
        status = value
    elif isinstance(value, str | bytes) and value.isdigit():
        status = int(value)
    else:
        raise _Bad("bad status")
    if not 100 <= status <= 599:
        raise _Bad("bad status")
    return status


def _size(value: Any) -> int:
    """A response size: a whole number of bytes; ``-`` (Apache's none) is 0; absent or
    anything else is unknown (-1): a size never rejects a request."""
    if value in ("-", b"-"):
        return 0
    if type(value) is int:
        return value if value >= 0 else -1
    if isinstance(value, str | bytes) and value.isdigit():
        return int(value)
    return -1


def _json_time_ms(value: Any) -> int:
    if isinstance(value, str):
        try:
            return parse_rfc3339_ms(value)
        except ValueError:
            pass
    return round(_number(value, "bad time") * 1000)


def _duration_ms(value: Any, unit: DurationUnit) -> float:
    number = _number(value, "bad duration")
    return number * 1000 if unit == "s" else number


def _parse_json(line: bytes, fmt: LogFormat) -> Request:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise _Bad("not JSON") from None
    if type(obj) is not dict:
        raise _Bad("not a JSON object")
    for field, reason in ((fmt.time_field, "missing time"),
                          (fmt.duration_field, "missing duration"),
                          (fmt.status_field, "missing status")):
        if obj.get(field) is None:
            raise _Bad(reason)
    client = obj.get(fmt.client_field)
    return Request(_json_time_ms(obj[fmt.time_field]),
                   _duration_ms(obj[fmt.duration_field], fmt.duration_unit),
                   _status(obj[fmt.status_field]),
                   "" if client is None else str(client), _size(obj.get(fmt.bytes_field)))


def _parse_combined(line: bytes, fmt: LogFormat) -> Request:
    m = _COMBINED.match(line.rstrip(b"\r\n"))
    if m is None:
        raise _Bad("not combined format")
    tail = m.group(8).split()
    if not tail:
        raise _Bad("missing duration")
    client, when, status = m.group(1), m.group(2), m.group(4)
    return Request(_local_time_ms(when.decode("ascii", "replace")),
                   _duration_ms(tail[-1], fmt.duration_unit), _status(status),
                   client.decode("utf-8", "replace"), _size(m.group(5)))


def parse_line(line: bytes, fmt: LogFormat) -> Request | Rejection:
    """One line (with or without its newline) → a ``Request`` or a ``Rejection``."""
    if not line.strip():
        return Rejection("empty line")
    try:
        if fmt.kind == "json":
            return _parse_json(line, fmt)
        return _parse_combined(line, fmt)
    except _Bad as exc:
        return Rejection(exc.reason)
