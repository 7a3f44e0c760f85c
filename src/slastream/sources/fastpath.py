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

Where the package was built with its C extension, the loop runs in C (``_scan.c``): it
takes these two shapes (read from the line's bytes when it is sure of them,
``_scan_json.h``, else from the typed read below) and also gateway downlinks, their
acknowledgements, integration txacks, arrays of request records and the log events the
decoder ignores, and hands every line it does not finish back to the Python loop below,
which stays the reference
(``native=False``; tests/sources/test_scan.py).

Every line is read whole by a typed msgspec decoder (``shapes.read``: the fields these
shapes need converted, the rest checked and skipped). A line it refuses takes
``parse_line``; any other shape is parsed again by ``orjson`` for the router.
Locating fields with ``bytes.find`` instead would not tell a valid line from a damaged one
(a dropped comma deep in ``txInfo``), and a capture line that is not JSON must be rejected,
not decoded. Two checks the typed read leaves out are made here: UTF-8 (``bytes.decode``
of a line that is not ASCII) and numbers beyond a double's range, which are JSON and which
``parse_line`` accepts as well (``capture.beyond_orjson``).

Gateway uplinks and deliveries come out as rows of int64 arrays, strings as indexes into
the batch's table of names (``sources/columns.py``): integers appended to one flat list per
type, one array per batch, no tuple per event. Every other type is a list of tuples. Each
list is in input order, the types in order of first appearance in the batch; ``batches``
materialises the rows into the tuples ``router.decode`` makes. A batch closes after
``chunk`` decoded messages, like the engine's own batching, so watermarks advance at the
same points and lateness is judged the same.
"""

from __future__ import annotations

import binascii
import io
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any, NamedTuple

import msgspec
import orjson

from slastream.model.events import (
    DownlinkAck,
    DownlinkCommand,
    DownlinkOutcome,
    Event,
    RequestLog,
    UplinkDelivered,
    UplinkReceived,
)
from slastream.model.time import parse_rfc3339_ms
from slastream.sources import (
    canonical,
    chirpstack,
    chirpstack_gateway,
    columns,
    lorawan,
    router,
    shapes,
)
from slastream.sources.capture import BadLine, beyond_orjson, parse_line
from slastream.sources.shapes import Delay, DeviceInfo, Item, Line, Payload, RxInfo, Timing, TxInfo

# Topic kinds with a fast branch; anything else goes to the router.
_OTHER = 0
_GATEWAY_UP = 1  # {region}/gateway/{gw}/event/up
_DEVICE_UP = 2  # application/{app}/device/{devEui}/event/up
# Decoded by the C loop only (_scan.c); the Python loop hands them to the router.
_GATEWAY_DOWN = 3  # {region}/gateway/{gw}/command/down
_GATEWAY_ACK = 4  # {region}/gateway/{gw}/event/ack
_DEVICE_TXACK = 5  # application/{app}/device/{devEui}/event/txack
_REQUESTS = 6  # slastream/request/{component}, an array of request records
_DEVICE_LOG = 7  # application/{app}/device/{devEui}/event/log: mostly ignored
_KINDS = 8

# A data uplink's MHDR: MType 010 (unconfirmed) or 100 (confirmed), Major 00; RFU bits 4..2
# are not looked at, as in chirpstack_gateway.decode_up (LoRaWAN 1.0.x §4.2).
_MHDR_MASK = 0xE3
_CONFIRMED = lorawan.CONFIRMED_DATA_UP << 5
_DATA_UP = (lorawan.UNCONFIRMED_DATA_UP << 5, _CONFIRMED)
_MIN_FRAME = lorawan.MIN_DATA_FRAME_BYTES

# ".000Z" .. ".999Z": the end of a bridge timestamp, to its milliseconds.
_MILLIS = {f".{ms:03d}Z": ms for ms in range(1000)}

# The ``source`` labels the router gives these topics (metrics and ledger counters), by kind.
_SOURCES = ("", *(router.find_decoder(parts)[1] for parts in (
    ["r", "gateway", "g", "event", "up"], ["application", "a", "device", "d", "event", "up"],
    ["r", "gateway", "g", "command", "down"], ["r", "gateway", "g", "event", "ack"],
    ["application", "a", "device", "d", "event", "txack"], ["slastream", "request", "c"],
    ["application", "a", "device", "d", "event", "log"])))
# a log event the C loop takes is ignored (chirpstack.decode_log), under this reason class
_LOG_IGNORED = router.ignored_class("log UNKNOWN")


native_module: ModuleType | None
try:  # the C loop, built with the package (setup.py); without it, all in Python
    from slastream.sources import _scan as _built
except ImportError:  # pragma: no cover - a build without a C compiler
    native_module = None
else:
    native_module = _built


def setup_native(read: Callable[[bytes], Any]) -> None:
    """Hand the C loop the typed read (``read``), the structs it reads and the events it
    makes; done once at import (a test hands it a read of its own)."""
    if native_module is not None:
        native_module.setup(read, {t.__name__: t for t in (
            Line, Payload, RxInfo, DeviceInfo, Item, TxInfo, Timing, Delay, UplinkReceived,
            UplinkDelivered, DownlinkCommand, DownlinkAck, DownlinkOutcome, RequestLog)},
            msgspec.UNSET, (_SOURCES[_DEVICE_LOG], _LOG_IGNORED))


setup_native(shapes.read)


class Topics:
    """The topics classified with one router, kept from one call of :func:`column_batches`
    to the next (a replay's worker decodes many ranges of one capture).

    ``kinds``: topic -> (kind, two topic levels: the names of an uplink's or delivery's
    row, the gateway id or devEui of the other kinds in the first). ``table``: the C
    loop's copy of the same entries, looked up by a line's bytes, with each topic's name
    indexes in the batch (``_scan_topics.h``); None without the C loop."""

    __slots__ = ("kinds", "table")

    def __init__(self) -> None:
        self.kinds: dict[str, tuple[int, str, str]] = {}
        self.table = (native_module.Topics(self.kinds) if native_module is not None
                      else None)


class Batch(NamedTuple):
    """What ``chunk`` decoded messages (or the end of the input) produced."""

    events: dict[type, list[Event]]  # by type, input order within, first appearance across
    messages: int  # decoded messages (bad and blank lines are not messages)
    ingest: Counter[tuple[str, str]]  # (source, outcome) -> messages
    rejections: Counter[str]  # "source: reason" -> messages
    bad_lines: int
    first_time_ms: int | None  # receive time of the batch's first decoded message
    ignored: Counter[tuple[str, str]]  # (source, reason class) -> messages


def _topic_info(topic: str, rt: router.Router) -> tuple[int, str, str]:
    """Classify a topic with the router's own table, so both paths route identically:
    the kind and the two topic levels that name the event's strings."""
    decoder, _, parts = rt.resolve(topic)
    if decoder is chirpstack_gateway.decode_up:
        return _GATEWAY_UP, parts[2], parts[0]  # gateway id, region
    if decoder is chirpstack.decode_up:
        return _DEVICE_UP, parts[1], parts[3]  # application id, devEui
    if decoder is chirpstack_gateway.decode_down:
        return _GATEWAY_DOWN, parts[2], ""  # gateway id
    if decoder is chirpstack_gateway.decode_ack:
        return _GATEWAY_ACK, parts[2], ""
    if decoder is chirpstack.decode_txack:
        return _DEVICE_TXACK, parts[3], ""  # devEui
    if decoder is canonical.decode_request:
        return _REQUESTS, parts[2], ""  # component
    if decoder is chirpstack.decode_log:
        return _DEVICE_LOG, parts[3], ""
    return _OTHER, "", ""


def batches(lines: Iterable[bytes], chunk: int,
            rt: router.Router = router.DEFAULT) -> Iterator[Batch]:
    """Decode capture lines into batches of ``chunk`` messages; the last one may be short
    (or empty). Never raises on bad input: a line that is not valid is counted and skipped.

    The events as tuples: :func:`column_batches` with its columns materialised.
    """
    for cb in column_batches(lines, chunk, rt):
        yield Batch(columns.as_events(cb), cb.messages, cb.ingest, cb.rejections,
                    cb.bad_lines, cb.first_time_ms, cb.ignored)


# A hot loop kept whole for speed: a function call per line costs a noticeable share.
def column_batches(lines: Iterable[bytes] | bytes, chunk: int,
                   rt: router.Router = router.DEFAULT,
                   topics: Topics | None = None,
                   native: bool = True,
                   names: columns.Names | None = None) -> Iterator[columns.ColumnBatch]:
    """Decode capture lines into batches of ``chunk`` messages, gateway uplinks and
    deliveries as columns (``sources/columns.py``); the last batch may be short (or empty).
    ``topics``: topics classified by an earlier call with the same router (:class:`Topics`),
    filled as topics are seen.
    ``names``: the table of names the batches' name columns index (one for every batch),
    new by default; a replay's worker keeps one for all its ranges.
    ``lines``: an iterable of lines (a file), or one buffer of whole lines.
    ``native``: the shapes the C loop takes decoded there (``_scan.c``) where it is built;
    False decodes every line here (the reference the tests hold it to).
    Never raises on bad input: a line that is not valid is counted and skipped.

    One loop with everything inlined: at several hundred thousand lines a second a Python
    function call per line is a noticeable share of the time.
    """
    loads = orjson.loads
    read = shapes.read
    a2b = binascii.a2b_base64
    unpack = lorawan.DATA_HEADER.unpack_from
    parse_ts = parse_rfc3339_ms
    millis = _MILLIS
    # 20 characters, the last not ".": no stamp that ``millis`` accepts starts with it.
    head, head_ms = "-" * 20, 0
    if topics is None:
        topics = Topics()
    kinds = topics.kinds
    decode = rt.decode
    received_t = UplinkReceived
    delivered_t = UplinkDelivered
    rejected = router.REJECTED
    ignored_outcome = router.IGNORED
    # a row straight into the batch's buffer: a third of the cost of an int list that
    # numpy converts afterwards (measured)
    up_row = columns.UP_ROW.pack
    dl_row = columns.DL_ROW.pack
    max_line = rt.max_line_bytes

    def fresh() -> tuple[bytearray, bytearray, dict[type, list[Event]], dict[type, list[int]],
                         list[type], Counter[tuple[str, str]], Counter[str],
                         Counter[tuple[str, str]]]:
        return bytearray(), bytearray(), {}, {}, [], Counter(), Counter(), Counter()

    received, delivered, others, others_at, order, ingest, rejections, ignored = fresh()
    if names is None:
        names = columns.Names()
    name_of = names.of
    scratch: list[Event] = []
    ok = [0] * _KINDS  # messages decoded (or, logs, ignored) by the C loop, by kind
    n = bad = 0
    first: int | None = None
    index = names.index

    def classify(topic: str) -> tuple[int, str, str]:
        """A topic not seen yet: its kind and two topic levels, entered in ``kinds``."""
        if len(kinds) >= router.CACHE_MAX:
            kinds.clear()
        known = kinds[topic] = _topic_info(topic, rt)
        return known

    skip = native_module.skip if native_module is not None and native else None
    table = topics.table
    # lines, or a whole buffer of them (a replay's byte range), which the C loop splits
    # itself, making a bytes object only of each line it hands back
    it: Iterator[bytes] = iter(io.BytesIO(lines) if isinstance(lines, bytes) else lines)
    feed: Iterator[bytes] | bytes = lines if isinstance(lines, bytes) and skip is not None else it
    pos = 0  # in a buffer: where the next line starts
    rec: Line | None
    while True:
        if skip is not None:
            # the shapes the C loop takes, up to the first other line (rec: its typed
            # read, None when that is still to be made)
            line, rec, n, first, pos = skip(
                feed, table, classify, names.names, index, received, delivered, others,
                others_at, order, ok, n, chunk, first, max_line, pos, ignored)
            if line is None:
                if n < chunk:
                    break  # the end of the input
                yield _batch(received, delivered, others, others_at, order, names, ingest,
                             rejections, n, bad, first, ok, ignored)
                received, delivered, others, others_at, order, ingest, rejections, \
                    ignored = fresh()
                ok = [0] * _KINDS
                n = bad = 0
                first = None
                continue
        else:
            line = next(it, None)
            if line is None:
                break
            rec = None
        payload: Any
        try:
            if rec is None:
                if len(line) > max_line:
                    raise ValueError  # parse_line rejects it unparsed, as oversize
                rec = read(line)
                if not line.isascii():
                    line.decode()  # the typed decoder does not check UTF-8 in what it skips
            stamp = rec.received_at
            topic = rec.topic
            payload = rec.payload
            if payload is None or not topic:
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
            rec = None
        if first is None:
            first = received_ms
        info = kinds.get(topic)
        if info is None:
            info = classify(topic)
        kind = info[0]
        done = False
        if rec is None:
            pass  # parsed by parse_line: the router decodes it
        elif kind == _GATEWAY_UP and type(payload) is Payload:
            # chirpstack_gateway.decode_up, plain shape: rxInfo an object, CRC OK or absent,
            # strict base64, a LoRaWAN R1 data uplink with its whole header and FOpts.
            rx = payload.rxInfo
            if type(rx) is RxInfo:
                crc = rx.crcStatus
                text = payload.phyPayload
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
                        received += up_row(received_ms, devaddr, fcnt, name_of(info[1]),
                                           name_of(info[2]),
                                           (mhdr & _MHDR_MASK) == _CONFIRMED,
                                           phy[end - 4] if len(phy) > end else -1, n)
                        ok[_GATEWAY_UP] += 1
                        done = True
        elif kind == _DEVICE_UP and type(payload) is Payload:
            # chirpstack.decode_up: devAddr 8 hex digits (the devaddr_hex checks), fCnt a
            # uint32 or absent (0; ChirpStack before 4.1 omits zero values).
            addr = payload.devAddr
            fcnt = payload.fCnt
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
                    dinfo = payload.deviceInfo
                    tenant = dinfo.tenantId if dinfo is not None else ""
                    delivered += dl_row(received_ms, devaddr, fcnt, name_of(info[1]),
                                        name_of(info[2]),
                                        name_of(tenant if type(tenant) is str else ""), n)
                    ok[_DEVICE_UP] += 1
                    done = True
        if not done and rec is not None:
            # the router needs the payload as parsed JSON; the line is valid JSON
            try:
                payload = loads(line)["payload"]
            except orjson.JSONDecodeError:
                payload = beyond_orjson(line)["payload"]
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
                        up: UplinkReceived = ev  # type: ignore[assignment]
                        received += up_row(up[0], up[1], up[2], name_of(up[3]),
                                           name_of(up[4]), up[5], up[6], n)
                    elif cls is delivered_t:
                        if not delivered:
                            order.append(delivered_t)
                        dl: UplinkDelivered = ev  # type: ignore[assignment]
                        delivered += dl_row(dl[0], dl[1], dl[2], name_of(dl[3]),
                                            name_of(dl[4]), name_of(dl[5]), n)
                    else:
                        same = others.get(cls)
                        if same is None:
                            same = others[cls] = []
                            others_at[cls] = []
                            order.append(cls)
                        same.append(ev)
                        others_at[cls].append(n)
                scratch.clear()
        n += 1
        if n >= chunk:
            yield _batch(received, delivered, others, others_at, order, names, ingest,
                         rejections, n, bad, first, ok, ignored)
            received, delivered, others, others_at, order, ingest, rejections, ignored = \
                fresh()
            ok = [0] * _KINDS
            n = bad = 0
            first = None
    yield _batch(received, delivered, others, others_at, order, names, ingest, rejections, n,
                 bad, first, ok, ignored)


def _batch(received: bytearray, delivered: bytearray, others: dict[type, list[Event]],
           others_at: dict[type, list[int]], order: list[type], names: columns.Names,
           ingest: Counter[tuple[str, str]], rejections: Counter[str], n: int, bad: int,
           first: int | None, ok: list[int],
           ignored: Counter[tuple[str, str]]) -> columns.ColumnBatch:
    for kind, count in enumerate(ok):
        if count and kind == _DEVICE_LOG:  # the key is there: the first log went by Python
            ingest[(_SOURCES[kind], router.IGNORED)] += count
            ignored[(_SOURCES[kind], _LOG_IGNORED)] += count
        elif count:
            ingest[(_SOURCES[kind], router.OK)] += count
    blocks: dict[type, columns.Rows] = {}
    if received:
        blocks[UplinkReceived] = columns.rows(received, columns.UP_WIDTH)
    if delivered:
        blocks[UplinkDelivered] = columns.rows(delivered, columns.DL_WIDTH)
    return columns.ColumnBatch(order, blocks, others, others_at, names.names, n, ingest,
                               rejections, bad, first, ignored)
