"""The bridge's decode fast path for the commonest payload shape: a single probe result.

``router.decode`` goes through the topic's decoder, its field helpers and their exception
frames; for a probe that is most of the bridge's CPU per message (benchmarks/bridge.py
prints the stage costs). Here the plain shape, ``{"time", "ok", "status", "latency_ms",
"location"}`` as one object, is read in a few checks, and the event is built directly.

Every check is the decoder's own (``canonical._probe`` and ``sources/_fields.py``), cut
short at the first sign of anything else: the fast path never rejects and never ignores.
Whatever it does not take (an array, a missing or null ``time`` or ``ok``, a field of
another type, a value out of range, a timestamp that is not the plain form) goes through
``router.decode`` as before, so outcomes, reasons and events are the same message by
message (tests/ingest/test_fastdecode.py compares them, and tests/fuzz runs both).

Two tiers:

1. ``msgspec`` decodes the raw bytes into ``ProbeShape``, the five fields and nothing else
   (``forbid_unknown_fields``). Nothing is skipped, so every byte is validated by the typed
   decode: a payload with any other field, or a value of another JSON type, fails and
   goes to tier 2. (Skipping unknown fields would not do: msgspec skips an unknown
   field's value without checking its UTF-8 or whether a number overflows a double,
   both of which make ``orjson.loads``, and so the router, reject the message.)
2. The payload as ``orjson.loads`` parsed it (the dict the router would get), read with the
   same checks.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from slastream.model.events import ProbeResult
from slastream.model.time import parse_rfc3339_ms
from slastream.sources import canonical
from slastream.sources._fields import _INT_AS_FLOAT_MAX
from slastream.sources.router import Decoder, Router

_NAN = math.nan
_INF = math.inf
_new = tuple.__new__
# ".000Z" .. ".999Z": the end of a timestamp in the bridge's own form, to its milliseconds
_MILLIS = {f".{ms:03d}Z": ms for ms in range(1000)}
_SECONDS: dict[str, int] = {}  # "2026-10-01T00:00:01" -> epoch ms of that second
_SECONDS_MAX = 100_000


class ProbeShape(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A probe result as published (docs/interfaces.md#mqtt-topics), every field typed
    loosely enough that any JSON value the router would accept decodes here."""

    time: str
    ok: bool
    status: int | None = None
    latency_ms: int | float | None = None
    location: str | None = None


_decode_probe_shape = msgspec.json.Decoder(ProbeShape).decode
DecodeError = msgspec.DecodeError


class FastTopics:
    """Which topics have a fast path, decided by the router's own resolution (layouts and
    all) and cached per topic like the router's: ``component(topic)`` is the probe's
    component, or ``None`` for a topic whose decoder is not ``canonical.decode_probe``.

    ``exact(topic)`` says whether to try tier 1 on it: a failed msgspec decode costs twice
    a successful one (an exception), and a publisher sends one shape, so a topic whose
    payload once had another shape (an extra field, say) goes straight to tier 2.
    """

    def __init__(self, rt: Router, cache_max: int = 200_000) -> None:
        self._router = rt
        self._probe: Decoder = canonical.decode_probe
        self._cache: dict[str, str | None] = {}
        self._cache_max = cache_max
        self.not_exact: set[str] = set()

    def component(self, topic: str) -> str | None:
        try:
            return self._cache[topic]
        except KeyError:
            pass
        decoder, _source, parts = self._router.resolve(topic)
        found = parts[2] if decoder is self._probe else None
        if len(self._cache) >= self._cache_max:
            self._cache.clear()
            self.not_exact.clear()
        self._cache[topic] = found
        return found


def probe_from_bytes(raw: bytes, component: str) -> ProbeResult | None:
    """Tier 1: the event of a payload that is exactly the plain shape, else ``None``."""
    try:
        shape = _decode_probe_shape(raw)
    except DecodeError:
        return None
    return _probe(shape.time, shape.ok, shape.status, shape.latency_ms, shape.location,
                  component)


def probe_from_json(payload: dict[str, Any], component: str) -> ProbeResult | None:
    """Tier 2: the event of a parsed object in the plain shape (other fields allowed, as
    the decoder allows them), else ``None``."""
    get = payload.get
    ok = get("ok")
    if type(ok) is not bool:
        return None
    time = get("time")
    if type(time) is not str:
        return None
    location = get("location")
    if location is not None and type(location) is not str:
        return None
    status = get("status")
    if status is not None and type(status) is not int:  # bool too: 'type is', as _fields
        return None
    latency = get("latency_ms")
    if latency is not None and type(latency) is not int and type(latency) is not float:
        return None
    return _probe(time, ok, status, latency, location, component)


def _probe(time: str, ok: bool, status: int | None, latency: float | None,
           location: str | None, component: str) -> ProbeResult | None:
    """``canonical._probe``'s checks on values of the right JSON types."""
    if status is None:
        status = -1
    elif not 0 <= status <= 999:
        return None
    if latency is None:
        latency = _NAN
    elif type(latency) is float:
        if not 0.0 <= latency < _INF:
            return None
    elif 0 <= latency <= _INT_AS_FLOAT_MAX:
        latency = float(latency)
    else:
        return None
    # the bridge's own timestamp form, 2026-10-01T00:00:01.250Z, by two dict lookups;
    # anything else, and a second not seen yet, by parse_rfc3339_ms (which then gives the
    # second's start for the next ones: same result, since the form is the same)
    base = _SECONDS.get(time[:19]) if len(time) == 24 else None
    millis = _MILLIS.get(time[19:]) if base is not None else None
    if base is not None and millis is not None:
        time_ms = base + millis
    else:
        try:
            time_ms = parse_rfc3339_ms(time)
        except (ValueError, OverflowError):
            return None
        millis = _MILLIS.get(time[19:])
        if millis is not None and len(time) == 24:
            if len(_SECONDS) >= _SECONDS_MAX:
                _SECONDS.clear()
            _SECONDS[time[:19]] = time_ms - millis
    # tuple.__new__: ProbeResult's keyword-argument constructor costs twice as much, and
    # the six fields are complete by construction
    event: ProbeResult = _new(ProbeResult, (time_ms, component, ok, status, latency,
                                            location or ""))
    return event
