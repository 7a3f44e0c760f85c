"""The replay hot path: capture lines (docs/interfaces.md#capture-files) to events, grouped by type.

A LoRaWAN capture is almost all ChirpStack gateway uplinks (one per gateway that heard the
frame) and integration ``event/up`` messages. For those two shapes this module reads the few
fields that matter straight from the parsed line, without the router's dispatch, the
decoder calls and their exception frames; every other message, and every uplink that is not
in the plain shape (``rxInfo`` as a list, a bad CRC, lenient base64, a join-request, a
malformed field, ...), goes through ``router.decode`` exactly as the engine's plain loop
(``Engine.feed_capture(fast=False)``) does.
So the fast branches only ever produce what the decoders would have produced: each is the
decoder's own sequence of checks, cut short at the first sign of anything else.

Every line is still parsed whole by ``orjson.loads``. Locating fields with ``bytes.find``
instead would not tell a valid line from a damaged one (a dropped comma deep in ``txInfo``,
a number that overflows a double), and a capture line that is not valid JSON must be
rejected, not decoded; a full parse is the only cheap way to know. (Nor would it be
faster: on these machines each ``bytes.find`` over a 500-byte line costs 0.2 to 0.5 us,
several of them as much as a typed ``msgspec`` decode of the whole line, and a check that
rules out overflowing numbers in the parts such a decoder skips costs more again.)

Events come out grouped by type, each list in input order, the types in order of first
appearance in the batch: the same lists ``Engine.feed_events`` would build, without the
per-event regrouping. A batch closes after ``chunk`` decoded messages, like the engine's
own batching, so watermarks advance at the same points and lateness is judged the same.
"""

from __future__ import annotations

import binascii
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import orjson

from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from slastream.model.time import parse_rfc3339_ms
from slastream.sources import chirpstack, chirpstack_gateway, lorawan, router
from slastream.sources.capture import BadLine, parse_line

# Topic kinds with a fast branch; anything else goes to the router.
_OTHER = 0
_GATEWAY_UP = 1  # {region}/gateway/{gw}/event/up
_DEVICE_UP = 2  # application/{app}/device/{devEui}/event/up

# A data uplink's MHDR: MType 010 (unconfirmed) or 100 (confirmed), Major 00; RFU bits 4..2
# are not looked at, as in chirpstack_gateway.decode_up (LoRaWAN 1.0.x §4.2).
_MHDR_MASK = 0xE3
_CONFIRMED = lorawan.CONFIRMED_DATA_UP << 5
_DATA_UP = (lorawan.UNCONFIRMED_DATA_UP << 5, _CONFIRMED)
_MIN_FRAME = lorawan.MIN_DATA_FRAME_BYTES

# ".000Z" .. ".999Z": the end of a bridge timestamp, to its milliseconds.
_MILLIS = {f".{ms:03d}Z": ms for ms in range(1000)}

_TopicInfo = tuple[int, str, str]  # kind, two topic levels
# The ``source`` labels the router gives these two topics (metrics and ledger counters).
_GATEWAY_SOURCE = router.find_decoder(["r", "gateway", "g", "event", "up"])[1]
_DEVICE_SOURCE = router.find_decoder(["application", "a", "device", "d", "event", "up"])[1]


class Batch(NamedTuple):
    """What ``chunk`` decoded messages (or the end of the input) produced."""

    events: dict[type, list[Event]]  # by type, input order within, first appearance across
    messages: int  # decoded messages (bad and blank lines are not messages)
    ingest: Counter[tuple[str, str]]  # (source, outcome) -> messages
    rejections: Counter[str]  # "source: reason" -> messages
    bad_lines: int
    first_time_ms: int | None  # receive time of the batch's first decoded message
    ignored: Counter[tuple[str, str]]  # (source, reason class) -> messages


def _topic_info(topic: str, rt: router.Router) -> _TopicInfo:
    """Classify a topic with the router's own table, so both paths route identically."""
    decoder, _, parts = rt.resolve(topic)
    info: _TopicInfo
    if decoder is chirpstack_gateway.decode_up:
        info = (_GATEWAY_UP, parts[2], parts[0])  # gateway id, region
    elif decoder is chirpstack.decode_up:
        info = (_DEVICE_UP, parts[1], parts[3])  # application id, devEui
    else:
        info = (_OTHER, "", "")
    cache = rt.fast_cache
    if len(cache) >= router.CACHE_MAX:
        cache.clear()
    cache[topic] = info
    return info


# A hot loop kept whole for speed: a function call per line costs a noticeable share.
def batches(lines: Iterable[bytes], chunk: int,
            rt: router.Router = router.DEFAULT) -> Iterator[Batch]:
    """Decode capture lines into batches of ``chunk`` messages; the last one may be short
    (or empty). Never raises on bad input: a line that is not valid is counted and skipped.

    One loop with everything inlined: at several hundred thousand lines a second a Python
    function call per line is a noticeable share of the time.
    """
    loads = orjson.loads
    a2b = binascii.a2b_base64
    unpack = lorawan.DATA_HEADER.unpack_from
    parse_ts = parse_rfc3339_ms
    millis = _MILLIS
    # 20 characters, the last not ".": no stamp that ``millis`` accepts starts with it.
    head, head_ms = "-" * 20, 0
    topics = rt.fast_cache
    decode = rt.decode
    received_t = UplinkReceived
    delivered_t = UplinkDelivered
    rejected = router.REJECTED
    ignored_outcome = router.IGNORED
    # A NamedTuple's own __new__ is a Python function; tuple.__new__ builds the same value.
    new = tuple.__new__
    max_line = rt.max_line_bytes

    def fresh() -> tuple[list[Event], list[Event], dict[type, list[Event]], list[type],
                         Counter[tuple[str, str]], Counter[str], Counter[tuple[str, str]]]:
        return [], [], {}, [], Counter(), Counter(), Counter()

    received, delivered, others, order, ingest, rejections, ignored = fresh()
    scratch: list[Event] = []
    gateway_ok = device_ok = n = bad = 0
    first: int | None = None
    for line in lines:
        payload: Any
        try:
            if len(line) > max_line:
                raise ValueError  # parse_line rejects it unparsed, as oversize
            obj = loads(line)
            stamp = obj["received_at"]
            topic = obj["topic"]
            payload = obj.get("payload")
            if payload is None or type(topic) is not str or not topic:
                raise ValueError
            # The bridge writes 2026-10-01T00:00:01.250Z: lines of the same second share
            # its epoch ms (what parse_rfc3339_ms computes for the first 19 characters),
            # and the tail ".250Z" gives the milliseconds. Anything else, and every new
            # second, takes parse_rfc3339_ms itself.
            if stamp.startswith(head) and (frac_ms := millis.get(stamp[19:])) is not None:
                received_ms = head_ms + frac_ms
            else:
                received_ms = parse_ts(stamp)
                frac_ms = millis.get(stamp[19:])
                if frac_ms is not None and len(stamp) == 24:
                    head, head_ms = stamp[:19], received_ms - frac_ms
        except Exception:
            # Exactly Engine.feed_capture's slow path: parse_line names what is wrong.
            if not line.strip():
                continue
            msg = parse_line(line, 0, max_line)  # the line number is not counted
            if isinstance(msg, BadLine):
                bad += 1
                ingest[("capture", rejected)] += 1
                rejections[router.rejection_class("capture", msg.reason)] += 1
                continue
            received_ms, topic, payload = msg
        if first is None:
            first = received_ms
        info = topics.get(topic)
        if info is None:
            info = _topic_info(topic, rt)
        kind = info[0]
        done = False
        if kind == _GATEWAY_UP and type(payload) is dict:
            # chirpstack_gateway.decode_up, plain shape: rxInfo an object, CRC OK or absent,
            # strict base64, a LoRaWAN R1 data uplink with its whole header and FOpts.
            rx = payload.get("rxInfo")
            if type(rx) is dict:
                crc = rx.get("crcStatus")
                text = payload.get("phyPayload")
                if (crc is None or crc == "CRC_OK") and type(text) is str:
                    try:
                        phy = a2b(text, strict_mode=True)
                        mhdr, devaddr, fctrl, fcnt = unpack(phy)
                    except (ValueError, struct.error):
                        # not strict base64 (the decoder retries leniently), or shorter than
                        # the 8-byte header: the decoder says which
                        mhdr = 0
                    if ((mhdr & _MHDR_MASK) in _DATA_UP
                            and len(phy) >= (end := _MIN_FRAME + (fctrl & 0x0F))):
                        if not received:
                            order.append(received_t)
                        # lorawan.frame_port inlined: FPort is the byte after FOpts (at
                        # end - MIC), present iff the frame is longer than header+FOpts+MIC
                        received.append(new(received_t, (
                            received_ms, devaddr, fcnt, info[1], info[2],
                            (mhdr & _MHDR_MASK) == _CONFIRMED,
                            phy[end - 4] if len(phy) > end else -1)))
                        gateway_ok += 1
                        done = True
        elif kind == _DEVICE_UP and type(payload) is dict:
            # chirpstack.decode_up: devAddr 8 hex digits (the devaddr_hex checks), fCnt a
            # uint32 or absent (0; ChirpStack before 4.1 omits zero values).
            addr = payload.get("devAddr")
            fcnt = payload.get("fCnt", 0)
            if (type(addr) is str and len(addr) == 8 and addr.isascii() and addr.isalnum()
                    and addr[1] != "x" and addr[1] != "X"
                    and type(fcnt) is int and 0 <= fcnt <= 0xFFFFFFFF):
                try:
                    devaddr = int(addr, 16)
                except ValueError:
                    devaddr = -1
                if devaddr >= 0:
                    if not delivered:
                        order.append(delivered_t)
                    # chirpstack._tenant inlined: deviceInfo.tenantId or ""
                    dinfo = payload.get("deviceInfo")
                    tenant = dinfo.get("tenantId", "") if type(dinfo) is dict else ""
                    delivered.append(new(delivered_t, (
                        received_ms, devaddr, fcnt, info[1], info[2],
                        tenant if type(tenant) is str else "")))
                    device_ok += 1
                    done = True
        if not done:
            source, outcome, reason = decode(topic, payload, received_ms, scratch)
            ingest[(source, outcome)] += 1
            if outcome == rejected:
                rejections[router.rejection_class(source, reason)] += 1
            elif outcome == ignored_outcome:
                ignored[(source, router.ignored_class(reason))] += 1
            if scratch:
                for ev in scratch:
                    cls = type(ev)
                    if cls is received_t:
                        if not received:
                            order.append(received_t)
                        received.append(ev)
                    elif cls is delivered_t:
                        if not delivered:
                            order.append(delivered_t)
                        delivered.append(ev)
                    else:
                        same = others.get(cls)
                        if same is None:
                            same = others[cls] = []
                            order.append(cls)
                        same.append(ev)
                scratch.clear()
        n += 1
        if n >= chunk:
            yield _batch(received, delivered, others, order, ingest, rejections, n, bad,
                         first, gateway_ok, device_ok, ignored)
            received, delivered, others, order, ingest, rejections, ignored = fresh()
            gateway_ok = device_ok = n = bad = 0
            first = None
    yield _batch(received, delivered, others, order, ingest, rejections, n, bad, first,
                 gateway_ok, device_ok, ignored)


def _batch(received: list[Event], delivered: list[Event], others: dict[type, list[Event]],
           order: list[type], ingest: Counter[tuple[str, str]], rejections: Counter[str],
           n: int, bad: int, first: int | None, gateway_ok: int, device_ok: int,
           ignored: Counter[tuple[str, str]]) -> Batch:
    lists = {UplinkReceived: received, UplinkDelivered: delivered, **others}
    if gateway_ok:
        ingest[(_GATEWAY_SOURCE, router.OK)] += gateway_ok
    if device_ok:
        ingest[(_DEVICE_SOURCE, router.OK)] += device_ok
    return Batch({cls: lists[cls] for cls in order}, n, ingest, rejections, bad, first,
                  ignored)
