"""The bridge's decode fast path for the commonest payloads: probe results and, where the
C extension is built, ChirpStack gateway and integration uplinks.

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

The tiers, the first that takes a message wins:

C. Where the package was built with its C extension, a segment's (one socket read's)
   payloads are read straight from their bytes (``sources/_scan_bridge.h``): each plain
   probe, and each plain ChirpStack gateway or integration uplink, made into its event
   there, every other message declined (never rejected) and left to tiers 1 and 2 and the
   router. 0.2-0.3 µs a probe where tier 0 takes 1.1.
0. Without the extension, a segment of nothing but probes, each in the plain shape: parsed
   with ``orjson.loads`` and checked column by column in C, the events built by ``map``.
1. Message by message, ``msgspec`` decodes the raw bytes into ``ProbeShape``, the five
   fields and nothing else (``forbid_unknown_fields``). Nothing is skipped, so every byte
   is validated by the typed decode: a payload with any other field, or a value of another
   JSON type, fails and goes to tier 2, and its topic is not tried here again. (Skipping
   unknown fields would not do: msgspec skips an unknown field's value without checking
   its UTF-8 or whether a number overflows a double, both of which make ``orjson.loads``,
   and so the router, reject the message.)
2. The payload as ``orjson.loads`` parsed it (the dict the router would get), read with the
   same checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import repeat
from operator import add, getitem
from typing import Any

import msgspec
import orjson

from slastream.model.events import Event, ProbeResult, UplinkDelivered, UplinkReceived
from slastream.model.time import parse_rfc3339_ms
from slastream.sources import canonical, chirpstack, chirpstack_gateway
from slastream.sources._fields import _INT_AS_FLOAT_MAX
from slastream.sources.fastpath import native_module
from slastream.sources.router import Decoder, Router, find_decoder

_NAN = math.nan
_INF = math.inf
_new = tuple.__new__
# ".000Z" .. ".999Z": the end of a timestamp in the bridge's own form, to its milliseconds
_MILLIS = {f".{ms:03d}Z": ms for ms in range(1000)}
_SECONDS: dict[str, int] = {}  # "2026-10-01T00:00:01" -> epoch ms of that second
_SECONDS_MAX = 100_000
_HEAD, _TAIL = slice(0, 19), slice(19, None)
_UNSEEN = object()  # a topic not resolved yet
# the router's source labels (metrics, ledger counters) of the messages tier C makes
# events of
PROBE_SOURCE = find_decoder(["slastream", "probe", "c"])[1]
UPLINK_SOURCE = find_decoder(["eu868", "gateway", "g", "event", "up"])[1]
DELIVERY_SOURCE = find_decoder(["application", "a", "device", "d", "event", "up"])[1]
_get: Callable[[dict[str, Any], str], Any] = dict.get
_cut: Callable[[str, slice], str] = getitem
_NoneType = type(None)
_STATUS_TYPES = {int, _NoneType}
_LATENCY_TYPES = {int, float, _NoneType}
_LOCATION_TYPES = {str, _NoneType}
# null (or absent) replaced, any other value kept: map(d.get, values, values)
_None = Callable[[Any, Any], Any]
_none_0: _None = {None: 0}.get
_none_minus_1: _None = {None: -1}.get
_none_nan: _None = {None: math.nan}.get
_none_empty: _None = {None: ""}.get


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


# What a topic's messages are, for the fast path: a probe's component, a gateway uplink's
# (UPLINK, gateway, region), an integration uplink's (DELIVERY, application, device), or
# None (the router's alone)
Info = str | tuple[int, str, str] | None
UPLINK, DELIVERY = 1, 2  # as _scan_bridge.h numbers them


class FastTopics:
    """Which topics have a fast path, decided by the router's own resolution (layouts and
    all) and cached per topic like the router's: ``info(topic)`` is the probe's component
    for a topic whose decoder is ``canonical.decode_probe``, the gateway and region for
    one whose decoder is ``chirpstack_gateway.decode_up``, the application and device for
    ``chirpstack.decode_up``, else ``None`` (:data:`Info`); ``component(topic)`` the
    component alone.

    ``not_exact`` holds the topics not to try tier 1 on: a failed msgspec decode costs
    twice a successful one (an exception), and a publisher sends one shape, so a topic whose
    payload once had another shape (an extra field, say) goes straight to tier 2.
    """

    def __init__(self, rt: Router, cache_max: int = 200_000) -> None:
        self._router = rt
        self._probe: Decoder = canonical.decode_probe
        self._uplink: Decoder = chirpstack_gateway.decode_up
        self._delivery: Decoder = chirpstack.decode_up
        self._cache: dict[str, Info] = {}
        self._cache_max = cache_max
        self.not_exact: set[str] = set()

    def infos(self, topics: list[str]) -> list[Info]:
        """``info`` of each topic (a dict lookup each, in C, once they are known)."""
        found = list(map(self._cache.get, topics, repeat(_UNSEEN)))
        if _UNSEEN in found:
            for topic in set(topics):
                self.info(topic)
            found = list(map(self._cache.get, topics, repeat(_UNSEEN)))
            if _UNSEEN in found:  # more new topics than the cache holds: one by one
                found = list(map(self.info, topics))
        return found  # type: ignore[return-value]  # no _UNSEEN left

    def components(self, topics: list[str]) -> list[str | None]:
        """``component`` of each topic."""
        return [found if type(found) is str else None for found in self.infos(topics)]

    def component(self, topic: str) -> str | None:
        found = self.info(topic)
        return found if type(found) is str else None

    def info(self, topic: str) -> Info:
        try:
            return self._cache[topic]
        except KeyError:
            pass
        decoder, source, parts = self._router.resolve(topic)
        found: Info = None
        if decoder is self._probe:
            found = parts[2]
        elif decoder is self._uplink and source == UPLINK_SOURCE:
            found = (UPLINK, parts[2], parts[0])  # as decode_up names them
        elif decoder is self._delivery and source == DELIVERY_SOURCE:
            found = (DELIVERY, parts[1], parts[3])
        if len(self._cache) >= self._cache_max:
            self._cache.clear()
            self.not_exact.clear()
        self._cache[topic] = found
        return found


def native_events(payloads: list[bytes], infos: list[Info], limit: int,
                  received_ms: int) -> tuple[list[Event | None], int, int] | None:
    """Tier C: the event of each payload of at most ``limit`` bytes that is a plain probe,
    gateway uplink or integration uplink (``infos[i]`` says which), ``None`` for every
    other, how many probes were made and how many uplinks of either kind; ``None`` without
    the C extension."""
    if native_module is None:  # pragma: no cover - a build without a C compiler
        return None
    found: tuple[list[Event | None], int, int] = native_module.messages(
        payloads, infos, limit, received_ms, (ProbeResult, UplinkReceived, UplinkDelivered))
    return found


def probes(payloads: list[bytes], components: list[str]) -> list[ProbeResult] | None:
    """Tier 0, a whole segment at once: the events of ``payloads`` (each a probe of
    ``components[i]``, within the payload limit) when every one of them is a plain probe,
    else ``None``. The checks of ``_probe`` are made column by column in C (``map`` over
    the parsed objects, ``min``/``max`` over a column); one message not in the plain shape
    sends the whole segment message by message, where tiers 1 and 2 take the rest."""
    try:
        objects = list(map(orjson.loads, payloads))
    except orjson.JSONDecodeError:
        return None
    if set(map(type, objects)) != {dict}:
        return None
    get = _get
    oks = list(map(get, objects, repeat("ok")))
    times = list(map(get, objects, repeat("time")))
    statuses = list(map(get, objects, repeat("status")))
    latencies = list(map(get, objects, repeat("latency_ms")))
    locations = list(map(get, objects, repeat("location")))
    if (set(map(type, oks)) != {bool} or set(map(type, times)) != {str}
            or not set(map(type, statuses)) <= _STATUS_TYPES
            or not set(map(type, latencies)) <= _LATENCY_TYPES
            or not set(map(type, locations)) <= _LOCATION_TYPES):
        return None
    # absent or null as 0 for the range checks: 0 is in range for both
    status_0 = list(map(_none_0, statuses, statuses))
    latency_0 = list(map(_none_0, latencies, latencies))
    # floats past 2**63 are valid latencies, but this path leaves them to tier 2
    if (min(status_0) < 0 or max(status_0) > 999 or min(latency_0) < 0
            or max(latency_0) > _INT_AS_FLOAT_MAX):
        return None
    times_ms = _times_ms(times)
    if times_ms is None:
        return None
    return list(map(_new, repeat(ProbeResult), zip(
        times_ms, components, oks, map(_none_minus_1, statuses, statuses),
        map(float, map(_none_nan, latencies, latencies)),
        map(_none_empty, locations, locations), strict=True)))


def _times_ms(times: list[str]) -> list[int] | None:
    """Epoch ms of timestamps in the bridge's own form (``_probe``'s dict lookups, a column
    at a time); ``None`` when one is in another form or not a timestamp."""
    millis = list(map(_MILLIS.get, map(_cut, times, repeat(_TAIL))))
    if None in millis:
        return None
    heads = list(map(_cut, times, repeat(_HEAD)))
    bases = list(map(_SECONDS.get, heads))
    if None in bases:
        for time in {t for t, base in zip(times, bases, strict=True) if base is None}:
            try:
                time_ms = parse_rfc3339_ms(time)
            except (ValueError, OverflowError):
                return None
            _remember_second(time, time_ms)
        bases = list(map(_SECONDS.get, heads))
        if None in bases:  # the cache was full and cleared meanwhile: not worth it
            return None
    return list(map(add, bases, millis))


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


def _remember_second(time: str, time_ms: int) -> None:
    """After ``parse_rfc3339_ms(time)`` gave ``time_ms``: the start of its second, for the
    next timestamps of that second in the same form."""
    millis = _MILLIS.get(time[19:])
    if millis is not None and len(time) == 24:
        if len(_SECONDS) >= _SECONDS_MAX:
            _SECONDS.clear()
        _SECONDS[time[:19]] = time_ms - millis


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
    try:
        time_ms = parse_rfc3339_ms(time)  # the bridge's own form from its cache of seconds
    except (ValueError, OverflowError):
        return None
    # tuple.__new__: ProbeResult's keyword-argument constructor costs twice as much, and
    # the six fields are complete by construction
    event: ProbeResult = _new(ProbeResult, (time_ms, component, ok, status, latency,
                                            location or ""))
    return event
