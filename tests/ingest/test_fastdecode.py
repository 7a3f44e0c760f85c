"""The probe fast path gives exactly what ``router.decode`` gives, message by message.

Each test decodes the same segments twice, with the fast path (``Decoder()``) and without
(``Decoder(fast=False)``: every message through ``orjson.loads`` and ``router.decode``), and
compares events, counters by outcome and by ignored class, and dead letters (their reasons
included). Payloads are written as JSON text by hand, so that numbers keep their literal
form (exponents, long mantissas, integers past 64 bits) and both parsers see the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slastream.ingest import fastdecode
from slastream.ingest.connection import Segment
from slastream.ingest.decoder import Decoder
from slastream.ingest.fastdecode import ProbeShape
from slastream.ingest.recorder import CaptureRecorder
from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from tests.sources import phy
from tests.sources.test_scan import _DL_EDITS, _DL_PAYLOAD, _GW_EDITS, _GW_PAYLOAD, _swap

RECEIVED_MS = 1_790_812_800_000
TOPICS = ["slastream/probe/api", "slastream/probe/db", "slastream/probe/", "slastream/probe",
          "slastream/request/api", "x/y"]

_int_text = st.one_of(
    st.integers(-2000, 2000), st.integers(-(2**70), 2**70),
    st.sampled_from([2**53, 2**53 + 1, 2**63, 2**63 + 1, 2**64 - 1, 2**64, 10**30]),
).map(str)
_float_text = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e400", "-1e400", "1E2", "0.1e-400", "-0.0", "-0", "1.5E+3", "2e-3",
                     "1." + "0" * 40 + "1", "9" * 400, "1" + "0" * 308, "0.5e308",
                     "17976931348623157e292", "4.9e-324", "123456789012345678901234567890"]),
    st.builds(lambda a, b, e: f"{a}.{b}e{e}", st.integers(0, 10**20), st.integers(0, 10**25),
              st.integers(-400, 400)),
)
_string_text = st.one_of(
    st.text(max_size=12).map(lambda s: orjson.dumps(s).decode()),
    st.sampled_from(['"\\u00e9t\\u00e9"', '"\\ud83d\\ude00"', '"\\ud800"', '"a\\"b"',
                     '"\\u0000"', '"é"']),
)
_timestamp = st.one_of(
    st.integers(0, 10**6).map(lambda ms: f'"2026-10-01T00:{ms // 60000 % 60:02d}:'
                                         f'{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"'),
    st.sampled_from(['"2026-10-01T00:00:00Z"', '"2026-10-01T00:00:00.5Z"',
                     '"2026-10-01T02:00:00.123+02:00"', '"2026-10-01t00:00:00.000Z"',
                     '"2026-10-01 00:00:00.000Z"', '"2026-10-01T00:00:00.000z"',
                     '"2026-10-01T00:00:60.000Z"', '"2026-13-01T00:00:00.000Z"',
                     '"2026-10-01T00:00:00.12345Z"', '"2026-10-01T00:00:00"', '"yesterday"',
                     '"2026-10-01T00:00:00.\\u0663\\u0663\\u0663Z"', '""']),
)
_scalar = st.one_of(st.sampled_from(["null", "true", "false", "[]", "{}", '[1,"a"]',
                                     '{"a":1e400}']),
                    _int_text, _float_text, _string_text, _timestamp)
_FIELDS = {
    "time": st.one_of(_timestamp, _scalar),
    "ok": st.one_of(st.sampled_from(["true", "false"]), _scalar),
    "status": st.one_of(st.integers(-5, 1005).map(str), _scalar),
    "latency_ms": st.one_of(_int_text, _float_text, _scalar),
    "location": st.one_of(_string_text, _scalar),
}


@st.composite
def probe_object(draw: st.DrawFn) -> str:
    """A JSON object: some of the probe's fields (each usually of its plain type), maybe
    repeated (the last one counts, for both parsers), maybe extra fields (the benchmark's
    padding, a number that overflows, text that is not UTF-8 once written out)."""
    names = draw(st.lists(st.sampled_from([*_FIELDS, *_FIELDS, "note", "Time"]), max_size=8))
    members = []
    for name in names:
        value = draw(_FIELDS[name]) if name in _FIELDS else draw(_scalar)
        members.append(f'"{name}":{value}')
    spaces = draw(st.sampled_from(["", " ", "\n"]))
    return "{" + f",{spaces}".join(members) + "}"


_PLAIN = {
    "time": _timestamp,
    "ok": st.sampled_from(["true", "false"]),
    "status": st.one_of(st.just("null"), st.integers(0, 999).map(str)),
    "latency_ms": st.one_of(st.just("null"), st.integers(0, 10**6).map(str),
                            st.floats(0, 1e6).map(repr), _float_text),
    "location": st.one_of(st.just("null"), _string_text),
}


@st.composite
def plain_probe(draw: st.DrawFn) -> str:
    """Mostly the plain shape: optional fields left out, now and then one field of the
    anything-goes kind, an extra field or a repeated one."""
    members = []
    for name, plain in _PLAIN.items():
        if name in ("time", "ok") or draw(st.booleans()):
            odd = draw(st.integers(0, 9)) == 0
            members.append(f'"{name}":{draw(_FIELDS[name] if odd else plain)}')
    extra = draw(st.integers(0, 5))
    if extra == 0:
        members.append(f'"note":{draw(_scalar)}')
    elif extra == 1:
        members.append(f'"{draw(st.sampled_from(list(_PLAIN)))}":{draw(_scalar)}')
    order = draw(st.permutations(members))
    return "{" + ",".join(order) + "}"


@st.composite
def payload(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        items = draw(st.lists(probe_object(), max_size=3))
        return ("[" + ",".join(items) + "]").encode()
    if kind == 1:
        return draw(st.sampled_from([b"", b"{", b"null", b"\xff", b'{"time":"\xff","ok":true}',
                                     b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"x":"\xff"}',
                                     b'{"time":"2026-10-01T00:00:00.000Z","ok":true} x',
                                     b"\xef\xbb\xbf{}"]))
    if kind >= 5:
        return draw(plain_probe()).encode()
    return draw(probe_object()).encode()


def _same(a: list[Event], b: list[Event]) -> bool:
    """Equal events, NaN (an unknown latency) equal to itself."""
    def key(ev: Event) -> tuple[Any, ...]:
        return tuple("nan" if type(v) is float and math.isnan(v) else v for v in ev)
    return [type(e) for e in a] == [type(e) for e in b] and list(map(key, a)) == list(map(key, b))


@contextmanager
def _without_native() -> Iterator[None]:
    """The fast path as a build without the C extension runs it (tiers 0, 1 and 2)."""
    built = fastdecode.native_module
    fastdecode.native_module = None
    try:
        yield
    finally:
        fastdecode.native_module = built


def _decode_both(segments: list[Segment]) -> None:
    """The fast path, with and without its C tier, against the router alone."""
    assert fastdecode.native_module is not None  # the package is built with its extension
    native, python, plain = Decoder(), Decoder(), Decoder(fast=False)
    out_native: list[Event] = []
    out_python: list[Event] = []
    out_plain: list[Event] = []
    for _ in range(2):  # the second time, topics are known not to be exact
        dead_native = native.decode(segments, out_native, None)
        with _without_native():
            dead_python = python.decode(segments, out_python, None)
        dead_plain = plain.decode(segments, out_plain, None)
        for fast, out, dead in ((native, out_native, dead_native),
                                (python, out_python, dead_python)):
            assert _same(out, out_plain), (out, out_plain)
            assert dead == dead_plain
            assert list(fast.totals.items()) == list(plain.totals.items())
            assert fast.ignored == plain.ignored
            assert (fast.received, fast.deadlettered) == (plain.received, plain.deadlettered)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(TOPICS), payload()), min_size=1, max_size=12))
def test_the_fast_path_decodes_as_the_router(messages: list[tuple[str, bytes]]) -> None:
    topics = [t for t, _ in messages]
    payloads = [p for _, p in messages]
    _decode_both([Segment(None, RECEIVED_MS, topics, payloads, []),
                  Segment(None, RECEIVED_MS + 1, topics[::-1], payloads[::-1], [])])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(TOPICS[:2]), plain_probe()), min_size=1, max_size=12),
       st.integers(0, 3))
def test_a_segment_of_probes_decodes_as_the_router(messages: list[tuple[str, str]],
                                                   odd: int) -> None:
    """Segments of probe topics only, mostly plain probes: the whole segment goes at once
    (tier 0) when every message is plain, message by message otherwise."""
    topics = [t for t, _ in messages]
    payloads = [p.encode() for _, p in messages]
    if odd == 0:  # one message of another kind spoils the segment for tier 0
        payloads[len(payloads) // 2] = b'{"time":"2026-10-01T00:00:00.000Z","ok":null}'
    _decode_both([Segment(None, RECEIVED_MS, topics, payloads, [])])


def test_whole_segments_take_the_fast_path() -> None:
    """Tier 0, the Python tier of a whole segment."""
    plain = [orjson.dumps({"time": f"2026-10-01T00:00:0{i}.{i:03d}Z", "ok": i % 2 == 0,
                           "status": None if i == 3 else 200, "latency_ms": 2**63 if i == 4
                           else i, "location": None if i == 1 else "x"}) for i in range(8)]
    topics = [f"slastream/probe/c{i % 3}" for i in range(8)]
    assert fastdecode.probes(plain, [t[16:] for t in topics]) is not None
    assert fastdecode.probes([*plain, b"[]"], [t[16:] for t in [*topics, topics[0]]]) is None
    _decode_both([Segment(None, RECEIVED_MS, topics, plain, [])])


@settings(max_examples=300, deadline=None)
@given(st.lists(_float_text, min_size=1, max_size=20))
def test_msgspec_and_orjson_read_numbers_alike(numbers: list[str]) -> None:
    """Tier 1 reads ``latency_ms`` with msgspec, the router with orjson: a number both
    accept must come out the same (both round to the nearest double)."""
    for text in numbers:
        raw = f'{{"time":"2026-10-01T00:00:00.000Z","ok":true,"latency_ms":{text}}}'.encode()
        try:
            expected = orjson.loads(raw)["latency_ms"]
        except orjson.JSONDecodeError:
            continue
        try:
            got = msgspec.json.decode(raw, type=ProbeShape).latency_ms
        except msgspec.DecodeError:  # tier 1 declines: tier 2 reads it with orjson
            continue
        if type(expected) is float and type(got) is float:
            assert got == expected or (math.isnan(got) and math.isnan(expected)), text
            assert math.copysign(1, got) == math.copysign(1, expected), text
        elif type(got) is int and type(expected) is float:
            # past 64 bits orjson gives a float and msgspec the exact int: tier 1 declines
            # any int over 2**63 (the router's limit for an int), tier 2 reads orjson's
            assert got > 2**63, text
        else:
            assert type(got) is type(expected) and got == expected, text


def test_the_plain_shapes_take_the_fast_path() -> None:
    """One by one: the benchmark's payload (an extra field: tier 2) and the plain five
    fields (tier 1)."""
    messages = [orjson.dumps({"time": "2026-10-01T00:00:00.250Z", "ok": True, "status": 200,
                              "latency_ms": 12, "note": "x" * 180}),
                b'{"time":"2026-10-01T00:00:01.000Z","ok":false,"status":null,'
                b'"latency_ms":null,"location":"eu-west"}',
                b'{"time":"2026-10-01T00:00:01.001Z","ok":true}', b"{}"]
    # a message of another topic: the segment goes message by message (tiers 1 and 2)
    topics = ["slastream/probe/a", "slastream/probe/b", "slastream/probe/b", "x/y"]
    decoder = Decoder()
    events: list[Event] = []
    with _without_native():
        assert decoder.decode([Segment(None, RECEIVED_MS, topics, messages, [])], events,
                              None) == []
    assert decoder._fast.not_exact == {"slastream/probe/a"}
    assert [(e.time_ms, e.component, e.status, e.location) for e in events] == [
        (1_790_812_800_250, "a", 200, ""), (1_790_812_801_000, "b", -1, "eu-west"),
        (1_790_812_801_001, "b", -1, "")]
    assert math.isnan(events[1].latency_ms) and events[0].latency_ms == 12.0
    assert decoder.totals == {("probe", "ok"): 3, ("unknown", "ignored"): 1}
    _decode_both([Segment(None, RECEIVED_MS, topics, messages, [])])


async def test_a_recorded_probe_is_recorded_as_parsed(tmp_path: Path) -> None:
    """With ``--record`` the fast path still writes the capture line of every message."""
    good = b'{"time":"2026-10-01T00:00:01.000Z","ok":true,"status":200,"latency_ms":3}'
    segments = [Segment(None, RECEIVED_MS, ["slastream/probe/a", "slastream/probe/a"],
                        [good, b"{bad"], [])]
    lines = []
    for fast in (True, False):
        path = tmp_path / f"{fast}.jsonl"
        events: list[Event] = []
        async with CaptureRecorder(path) as recorder:
            Decoder(fast=fast).decode(segments, events, recorder)
            await recorder.flush()
        assert len(events) == 1
        lines.append(path.read_bytes())
    assert lines[0] == lines[1] and lines[0].count(b"\n") == 2


def test_the_c_tier_takes_plain_probes_and_declines_the_rest() -> None:
    """Tier C makes the event of every plain probe, the benchmark's padded one included,
    and declines (never rejects) what it is not sure of; the router decides those."""
    taken = [orjson.dumps({"time": "2026-10-01T00:00:00.250Z", "ok": True, "status": 200,
                           "latency_ms": 12, "note": "x" * 180}),
             b' {"ok" : false , "time":"2026-10-01T00:00:01.000Z","status":null,'
             b'"latency_ms":0.1,"location":"eu-west", "x": [1, {"y": -2.5}, null]}\n',
             b'{"time":"2028-02-29T23:59:59.999Z","ok":true,"status":999,"latency_ms":null,'
             b'"location":null}']
    declined = [
        b'[{"time":"2026-10-01T00:00:00.000Z","ok":true}]',  # an array of probes
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"location":"Z\\u00fcrich"}',
        '{"time":"2026-10-01T00:00:00.000Z","ok":true,"location":"Zürich"}'.encode(),
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"latency_ms":1e2}',
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"x":1e400}',  # the router rejects
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"latency_ms":-0.0}',
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"latency_ms":' + b"9" * 19 + b"}",
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"ok":false}',  # repeated
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"status":1000}',
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"status":200.0}',
        b'{"time":"2026-10-01T00:00:00.000Z","ok":1}',
        b'{"time":"2026-10-01T00:00:00.000Z"}',
        b'{"time":"2026-10-01T00:00:00Z","ok":true}',  # parse_rfc3339_ms's form
        b'{"time":"2026-02-29T00:00:00.000Z","ok":true}',  # no such day: rejected
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true} x',
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,}',
        b'{"time":"2026-10-01T00:00:00.000Z","ok":true,"x":"\xff"}',
        b"\xef\xbb\xbf{}",
    ]
    components: list[fastdecode.Info] = ["api"] * (len(taken) + len(declined))
    found = fastdecode.native_events([*taken, *declined], components, 10_000, RECEIVED_MS)
    assert found is not None
    events, count, uplinks = found
    assert (count, uplinks) == (len(taken), 0)
    assert events[len(taken):] == [None] * len(declined)
    assert [(e.time_ms, e.ok, e.status, e.latency_ms, e.location)
            for e in events[:2] if e is not None] == [
        (1_790_812_800_250, True, 200, 12.0, ""), (1_790_812_801_000, False, -1, 0.1,
                                                     "eu-west")]
    # a topic that is not a probe's, and a payload over the limit, are declined too
    assert fastdecode.native_events(taken[:2], [None, "api"], 10_000, RECEIVED_MS) == (
        [None, events[1]], 1, 0)
    assert fastdecode.native_events(taken[:1], ["api"], len(taken[0]) - 1,
                                    RECEIVED_MS) == ([None], 0, 0)
    topics = ["slastream/probe/api"] * len(components)
    _decode_both([Segment(None, RECEIVED_MS, topics, [*taken, *declined], []),
                  Segment(None, RECEIVED_MS, topics[:3], taken, [])])


GATEWAY_TOPIC = "eu868/gateway/0016c001f00000ce/event/up"


def _uplink(frame: bytes) -> bytes:
    return _swap(_GW_PAYLOAD, b"QN3wgSeAQzUGnGyAQNc5b4/P2MHgQS+lnKlQEmc=", phy.b64(frame).encode())


_FRAMES = [
    phy.data_frame(phy.UNCONF_UP, 0x260B5972, 7, fport=1, payload=b"x"),
    phy.data_frame(phy.CONF_UP, 0x260B5972, 0xFFFF, fopts=b"\x02\x03", fport=0),
    phy.data_frame(phy.UNCONF_UP, 0x01020304, 1),  # no FPort
    phy.data_frame(phy.UNCONF_UP, 0x01020304, 1, fopts=b"\x02"),
    phy.data_frame(phy.UNCONF_UP, 0x01020304, 1, major=1),  # unknown Major: ignored
    phy.data_frame(phy.UNCONF_DOWN, 0x01020304, 1),  # not an uplink: ignored
    phy.join_request(1, 2, 3), phy.proprietary(), phy.rejoin_request(),
    phy.data_frame(phy.UNCONF_UP, 0x01020304, 1)[:11],  # too short: rejected
    bytes([0x40, 1, 2, 3, 4, 0x05, 0, 0, 1, 2, 3, 4]),  # FOptsLen past the end: rejected
    b"",
]


def _taken_as_by_router(topic: str, raw: bytes) -> Event:
    """The event tier C makes of one message, checked against the router's."""
    found = fastdecode.native_events([raw], Decoder()._fast.infos([topic]), 10_000,
                                     RECEIVED_MS)
    by_router: list[Event] = []
    Decoder(fast=False).decode([Segment(None, RECEIVED_MS, [topic], [raw], [])], by_router,
                               None)
    assert found is not None and found[1:] == (0, 1) and found[0] == by_router
    return by_router[0]


def test_the_c_tier_takes_plain_gateway_uplinks() -> None:
    """Tier C makes the UplinkReceived of a ChirpStack gateway uplink in its plain shape and
    declines every edit of it that the replay's byte reader declines (escapes, repeated
    fields, rxInfo as a list or null, numbers it does not read, ...), non-canonical base64
    and every frame that is not a LoRaWAN 1.0 data uplink; decoded with the router alone
    and with the Python tiers, every payload gives the same events, counters and dead
    letters."""
    assert type(_taken_as_by_router(GATEWAY_TOPIC, _GW_PAYLOAD)) is UplinkReceived
    edited = [_GW_PAYLOAD.replace(old, new, 1) for old, new in _GW_EDITS]
    frames = [_uplink(frame) for frame in _FRAMES]
    # unpadded, URL-safe: the router's to read
    non_canonical = [_swap(_GW_PAYLOAD, b"Emc=", b"Emc"), _swap(_GW_PAYLOAD, b"4/P2", b"4_P2")]
    payloads = [_GW_PAYLOAD, *edited, *frames, *non_canonical,
                _swap(_GW_PAYLOAD, b'"crcStatus":"CRC_OK",', b""), b" " + _GW_PAYLOAD + b"\n"]
    topics = [GATEWAY_TOPIC] * len(payloads)
    _decode_both([Segment(None, RECEIVED_MS, topics, payloads, [])])
    _decode_both([Segment(None, RECEIVED_MS, topics[:1] * 3, [_GW_PAYLOAD] * 3, [])])
    for payload in payloads:  # alone in a segment, as one message per socket read
        _decode_both([Segment(None, RECEIVED_MS, [GATEWAY_TOPIC], [payload], [])])


DELIVERY_TOPIC = "application/a1/device/70b3d57ed00004fe/event/up"


def test_the_c_tier_takes_plain_integration_uplinks() -> None:
    """Tier C makes the UplinkDelivered of a ChirpStack integration uplink in its plain
    shape and declines the edits the replay's byte reader declines; every payload decodes
    as with the router alone and with the Python tiers."""
    delivered = _taken_as_by_router(DELIVERY_TOPIC, _DL_PAYLOAD)
    assert type(delivered) is UplinkDelivered and delivered.tenant == "t-1"
    payloads = [_DL_PAYLOAD, *(_DL_PAYLOAD.replace(old, new, 1) for old, new in _DL_EDITS),
                *(_DL_PAYLOAD.replace(old, new, 1) for old, new in _GW_EDITS[:4]),
                _swap(_DL_PAYLOAD, b'"fCnt":5941,', b""),  # absent: 0
                _swap(_DL_PAYLOAD, b'"tenantId":"t-1"', b'"tenantId":"t-1\\u00e9"')]
    topics = [DELIVERY_TOPIC] * len(payloads)
    _decode_both([Segment(None, RECEIVED_MS, topics, payloads, [])])
    for payload in payloads:
        _decode_both([Segment(None, RECEIVED_MS, [DELIVERY_TOPIC], [payload], [])])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([*TOPICS, GATEWAY_TOPIC, GATEWAY_TOPIC,
                                           "us915/gateway/gw-2/event/up", DELIVERY_TOPIC]),
                          st.one_of(payload(), st.sampled_from(range(len(_FRAMES))))),
                min_size=1, max_size=12))
def test_segments_of_probes_uplinks_and_others_decode_as_the_router(
        messages: list[tuple[str, bytes | int]]) -> None:
    """Probes, gateway uplinks (of every frame kind), integration uplinks and other
    messages mixed in one segment: the counters keep the router's order of first
    appearance."""
    payloads = [(_DL_PAYLOAD if t == DELIVERY_TOPIC else _uplink(_FRAMES[p]))
                if isinstance(p, int) else p for t, p in messages]
    _decode_both([Segment(None, RECEIVED_MS, [t for t, _ in messages], payloads, [])])
