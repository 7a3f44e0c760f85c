"""The replay fast path gives exactly what the plain path gives, whatever the line looks like.

The reference is ``decoder.capture_batches(fast=False)``: ``orjson.loads``, ``parse_line`` for
what does not fit, ``router.decode`` per message, regrouping per event. Both paths run the
real engine; a recorder in place of the SLIs keeps the events each one hands over.
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.events import EVENT_NAMES
from slastream.simulate import Scenario, generate
from slastream.sources import decoder, router
from slastream.sources.capture import Message, format_line
from slastream.sources.decoder import Batch, capture_batches

from . import phy
from .golden import GOLDEN_DIR, event_as_json, load_cases
from .test_router import JSON, TOPICS

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(ROOT / "examples/contracts/loriot.yaml")
STAMP = "2026-10-01T00:00:01.250Z"
CASES = [(path.stem, case) for path in sorted(GOLDEN_DIR.glob("*.json"))
         for case in load_cases(path.stem)]
GOLDEN = [pytest.param(case, id=f"{decoder}/{case['name']}") for decoder, case in CASES]


class Recorder(Engine):
    """The engine with its SLIs replaced by a list: what the decode step hands over."""

    def __init__(self) -> None:
        super().__init__(SETTINGS)
        self.batches: list[list[tuple[str, list[Any]]]] = []

    def feed(self, batch: Batch) -> None:
        super().feed(batch._replace(events={}))  # the input counters
        # as in the golden files: NaN (not equal to itself) as null, tuples as lists
        self.batches.append([(EVENT_NAMES[cls], [event_as_json(e) for e in evs])
                             for cls, evs in batch.events.items()])


def run(lines: list[bytes], fast: bool) -> dict[str, Any]:
    rec = Recorder()
    for batch in capture_batches(lines, fast=fast, rt=router.Router()):
        rec.feed(batch)
    return {"batches": [b for b in rec.batches if b], "ingest": rec.ingest,
            "rejections": list(rec.rejections.items()), "bad_lines": rec.bad_lines,
            "first_time_ms": rec.first_time_ms, "ignored": list(rec.ignored.items())}


def assert_same(lines: list[bytes]) -> dict[str, Any]:
    full = run(lines, fast=False)
    assert run(lines, fast=True) == full, lines[:3]
    return full


# ------------------------------------------------------------- capture line layouts


def _payload_field(case: dict[str, Any]) -> dict[str, Any]:
    if "payload_b64" in case:
        return {"payload_b64": case["payload_b64"]}
    return {"payload": case["payload"]}


def _reversed(value: Any) -> Any:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(value)}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def _escaped(text: str) -> str:
    """Every character of a JSON string as a \\u escape: the same string once parsed."""
    return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in text) + '"'


def _escape_all(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{_escaped(k)}:{_escape_all(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_escape_all(v) for v in value) + "]"
    if isinstance(value, str):
        return _escaped(value)
    return json.dumps(value)


def layouts(case: dict[str, Any]) -> dict[str, bytes]:
    """One golden case as capture lines written by different JSON writers."""
    obj = {"received_at": case["received_at"], "topic": case["topic"], **_payload_field(case)}
    compact = orjson.dumps(obj)
    out = {
        "orjson": compact,
        "json.dumps": json.dumps(obj).encode(),
        "indented": json.dumps(obj, indent=2).replace("\n", " ").encode(),
        "reordered": json.dumps(dict(reversed(obj.items()))).encode(),
        "inner keys reversed": orjson.dumps(_reversed(obj)),
        "escaped": _escape_all(obj).encode(),
        "non-ascii kept": json.dumps(obj, ensure_ascii=False).encode(),
        # duplicate keys: the last one counts, for both paths (orjson parses both); the
        # decoy payload uses the case's own payload key, so the last one is the case's
        "duplicate keys": (b'{"topic":"x/y",'
                           + (b'"payload_b64":"AAAA",' if "payload_b64" in case
                              else b'"payload":{"phyPayload":"AAAA"},')
                           + b'"received_at":"2000-01-01T00:00:00Z",' + compact[1:]),
        "crlf": compact + b"\r\n",
    }
    if isinstance(case.get("payload"), dict) and case["payload"]:
        # a decoy of every payload key before the real one
        decoys = {k: "decoy" for k in case["payload"]}
        inner = orjson.dumps(decoys)[:-1] + b"," + orjson.dumps(case["payload"])[1:]
        out["duplicate payload keys"] = (b'{"received_at":' + orjson.dumps(case["received_at"])
                                         + b',"topic":' + orjson.dumps(case["topic"])
                                         + b',"payload":' + inner + b"}")
        # the same keys one level down only: not the message's fields
        out["nested"] = orjson.dumps({**obj, "payload": {"wrapper": case["payload"]}})
    return out


@pytest.mark.parametrize("case", GOLDEN)
def test_golden_cases_in_every_layout(case: dict[str, Any]) -> None:
    lines = layouts(case)
    for name, line in lines.items():
        full = assert_same([line])
        if name != "nested":
            # the layout does not change the message: the golden outcome still holds
            assert [outcome for _, outcome in full["ingest"]] == [case["outcome"]], name
            events = [e for batch in full["batches"] for _, evs in batch for e in evs]
            assert events == case["events"], name
    # all the layouts of the case as one capture
    assert_same(list(lines.values()))


def test_all_golden_lines_in_one_capture_with_small_batches(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch boundaries (every _CHUNK decoded messages) fall at the same lines."""
    lines = [line for _, case in CASES for line in layouts(case).values()]
    random.Random(7).shuffle(lines)
    lines[10:10] = [b"", b"   \n", b"{not json", b"[1,2]", b'"a string"', b"\xff\xfe"]
    for chunk in (1, 2, 7, 64, 8192):
        monkeypatch.setattr(decoder, "CHUNK", chunk)
        full = assert_same(lines)
        if chunk < 100:
            assert len(full["batches"]) > 1


def test_hot_shapes_take_the_fast_branch_and_agree() -> None:
    """Gateway and integration uplinks as ChirpStack writes them (and the simulator)."""
    messages = list(generate(Scenario(devices=30, gateways=4, uplink_interval_s=30.0),
                             1_790_000_000_000, 600.0, seed=3))
    lines = [format_line(m) for m in messages]
    full = assert_same(lines)
    assert full["ingest"][("chirpstack_gateway", "ok")] > 100
    assert full["ingest"][("chirpstack", "ok")] > 100


# ------------------------------------------------------------- the fast branches' edges

GW_TOPIC = "eu868/gateway/0016c001f153a14c/event/up"
DEV_TOPIC = "application/a/device/0101010101010101/event/up"
_FRAME = phy.data_frame(phy.UNCONF_UP, 0x260B5972, 7, fport=1, payload=b"ab")
_FRAMES = {
    "unconfirmed": _FRAME,
    "confirmed": phy.data_frame(phy.CONF_UP, 0x260B5972, 7),
    "RFU bits set": bytes([_FRAME[0] | 0x1C]) + _FRAME[1:],
    "major 1": bytes([_FRAME[0] | 0x01]) + _FRAME[1:],
    "12 bytes": phy.data_frame(phy.UNCONF_UP, 1, 2),
    "11 bytes": phy.data_frame(phy.UNCONF_UP, 1, 2)[:-1],
    "7 bytes": _FRAME[:7],
    "FOpts complete": phy.data_frame(phy.UNCONF_UP, 1, 2, fopts=b"\x02\x03"),
    "FOpts cut": phy.data_frame(phy.UNCONF_UP, 1, 2, fopts=b"\x02\x03")[:13],
    "FPort 0": phy.data_frame(phy.UNCONF_UP, 1, 2, fport=0, payload=b"\x02"),
    "FOpts and FPort": phy.data_frame(phy.CONF_UP, 1, 2, fopts=b"\x02", fport=9, payload=b"x"),
    "FPort, empty FRMPayload": phy.data_frame(phy.UNCONF_UP, 1, 2, fport=5),
    "join-request": phy.join_request(1, 2, 3),
    "downlink": phy.data_frame(phy.UNCONF_DOWN, 1, 2),
    "proprietary": bytes([0xE0]) + b"x" * 12,
    "empty": b"",
}
_B64 = {
    "standard": lambda b: base64.b64encode(b).decode(),
    "url-safe unpadded": lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="),
    "newline inside": lambda b: base64.b64encode(b).decode()[:4] + "\n"
                                + base64.b64encode(b).decode()[4:],
    "non-ascii": lambda b: base64.b64encode(b).decode() + "é",
}
_CRC: list[Any] = ["absent", "CRC_OK", "BAD_CRC", "", None, 1, ["CRC_OK"], {"x": 1}]
_RX = ["object", "list of one", "list of two", "null", "absent", "text"]


def _gateway_payload(frame: bytes, b64: str, crc: Any, rx: str) -> dict[str, Any]:
    info: dict[str, Any] = {"gatewayId": "0016c001f153a14c"}
    if crc != "absent":
        info["crcStatus"] = crc
    shapes: dict[str, Any] = {"object": info, "list of one": [info], "list of two": [info, info],
                              "null": None, "text": "rx"}
    payload: dict[str, Any] = {"phyPayload": _B64[b64](frame), "txInfo": {"frequency": 1}}
    if rx != "absent":
        payload["rxInfo"] = shapes[rx]
    return payload


def test_gateway_uplink_edges() -> None:
    lines = []
    for frame in _FRAMES.values():
        for b64 in _B64:
            lines.append(_line(STAMP, GW_TOPIC, _gateway_payload(frame, b64, "CRC_OK",
                                                                 "object"), False))
    for crc in _CRC:
        for rx in _RX:
            lines.append(_line(STAMP, GW_TOPIC, _gateway_payload(_FRAME, "standard", crc, rx),
                               False))
    for text in (None, 5, "", "QAE=", ["x"]):
        lines.append(_line(STAMP, GW_TOPIC, {"phyPayload": text, "rxInfo": {}}, False))
    lines.append(_line(STAMP, GW_TOPIC, {"rxInfo": {}}, False))
    for line in lines:
        assert_same([line])
    full = assert_same(lines)
    assert full["ingest"][("chirpstack_gateway", "ok")] >= 10
    assert full["ingest"][("chirpstack_gateway", "ignored")] >= 5
    assert full["ingest"][("chirpstack_gateway", "rejected")] >= 5


_ADDRS: list[Any] = ["260b5972", "260B5972", "0x0b5972", "0X0b5972", "26 b5972", "+60b5972",
                     "zzzzzzzz", "١٢٣٤٥٦٧٨", "260b597", "260b59720", "", None, 0x260B5972,
                     "absent"]
_FCNTS: list[Any] = ["absent", 0, 7, 2**32 - 1, 2**32, -1, 1.0, True, None, "7"]


def test_device_uplink_edges() -> None:
    lines = []
    for addr in _ADDRS:
        for fcnt in _FCNTS:
            payload: dict[str, Any] = {"deduplicationId": "x"}
            if addr != "absent":
                payload["devAddr"] = addr
            if fcnt != "absent":
                payload["fCnt"] = fcnt
            lines.append(_line(STAMP, DEV_TOPIC, payload, False))
    for line in lines:
        assert_same([line])
    full = assert_same(lines)
    assert full["ingest"][("chirpstack", "ok")] == 2 * 4  # two good addresses, four counts


def test_timestamp_edges() -> None:
    """The second-prefix shortcut and parse_rfc3339_ms agree on every stamp, in any order."""
    stamps: list[Any] = [
        STAMP, "2026-10-01T00:00:01.999Z", "2026-10-01T00:00:02.000Z", STAMP,
        "2026-10-01T00:00:01.25Z", "2026-10-01T00:00:01.250+00:00", "2026-10-01t00:00:01.250Z",
        "2026-10-01T00:00:01.2５0Z", "2026-10-01T00:00:01.250Zx", "2026-13-01T00:00:01.250Z",
        "2026-10-01X00:00:01.250Z", "2026-10-01 00:00:01.250Z", "2026-10-01T00:00:01.250z",
        "2026-10-01T00:00:01,250Z", "--------------------.250Z", "-" * 20, "", 5, None,
        ["2026-10-01T00:00:01.250Z"], "2026-10-01T00:00:01Z", STAMP]
    payload = _gateway_payload(_FRAME, "standard", "CRC_OK", "object")
    lines = [_line(stamp, GW_TOPIC, payload, False) for stamp in stamps]
    full = assert_same(lines)
    assert full["bad_lines"] >= 5


# ------------------------------------------------------------- random and damaged lines

HOT_TOPICS = st.sampled_from([
    "eu868/gateway/0016c001f153a14c/event/up",
    "us915_0/gateway/g/event/up",
    "application/a/device/0101010101010101/event/up",
    "application/a/device/d/event/txack",
    "slastream/probe/api",
])
GATEWAY_UP = st.fixed_dictionaries(
    {"phyPayload": st.one_of(
        st.builds(lambda m, b: phy.b64(bytes([m]) + b), st.sampled_from([0x40, 0x80, 0x44, 0x41,
                  0x00, 0x60, 0xE0]), st.binary(max_size=24)),
        st.builds(lambda m, b: base64.urlsafe_b64encode(bytes([m]) + b).decode().rstrip("="),
                  st.sampled_from([0x40, 0x80]), st.binary(min_size=11, max_size=24)),
        JSON),
     "rxInfo": st.one_of(
         st.fixed_dictionaries({}, optional={"crcStatus": st.one_of(
             st.sampled_from(["CRC_OK", "BAD_CRC", "NO_CRC", ""]), JSON)}),
         st.lists(st.fixed_dictionaries({"crcStatus": st.just("CRC_OK")}), max_size=2),
         JSON)},
    optional={"txInfo": JSON})
DEVICE_UP = st.fixed_dictionaries(
    {}, optional={"devAddr": st.one_of(st.sampled_from(
        [a for a in _ADDRS if a != "absent"]),
        JSON), "fCnt": st.one_of(st.integers(-2, 2**32 + 2), JSON), "rxInfo": JSON})
PAYLOADS = st.one_of(GATEWAY_UP, DEVICE_UP, JSON)
STAMPS = st.one_of(
    st.sampled_from([STAMP, "2026-10-01T00:00:01.999Z", "2026-10-01T00:00:02.000Z",
                     "2026-10-01T00:00:01.25Z", "2026-10-01T00:00:01.250+00:00",
                     "2026-10-01t00:00:01.250z", "2026-10-01T00:00:01.2５0Z",
                     "2026-10-01T00:00:01.250Zx", "2026-13-01T00:00:01.250Z"]),
    st.text(max_size=26), JSON)


def _line(stamp: Any, topic: Any, payload: Any, spaced: bool) -> bytes:
    obj = {"received_at": stamp, "topic": topic, "payload": payload}
    if spaced:
        return json.dumps(obj).encode()  # also writes integers past 64 bits, and Infinity
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj, separators=(",", ":")).encode()


LINES = st.one_of(
    st.builds(_line, STAMPS, st.just(GW_TOPIC), GATEWAY_UP, st.booleans()),
    st.builds(_line, STAMPS, st.just(DEV_TOPIC), DEVICE_UP, st.booleans()),
    st.builds(_line, STAMPS, st.one_of(HOT_TOPICS, TOPICS, JSON), PAYLOADS, st.booleans()))


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A valid line with a few bytes cut, replaced or inserted (a torn or corrupted write)."""
    line = bytearray(draw(LINES))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(line)))
        action = draw(st.sampled_from(["cut", "replace", "insert", "truncate"]))
        chunk = draw(st.binary(min_size=1, max_size=3) | st.sampled_from(
            [b"e", b"e400", b"1e999", b",", b"}", b'"', b"\\", b"\x00", b"\xff", b"9" * 400]))
        if action == "cut":
            del line[at:at + len(chunk)]
        elif action == "replace":
            line[at:at + len(chunk)] = chunk
        elif action == "insert":
            line[at:at] = chunk
        else:
            del line[at:]
    return bytes(line)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(LINES, damaged()), min_size=1, max_size=8))
@example([b'{"received_at":"2026-10-01T00:00:01.250Z","topic":"","payload":{}}'])  # empty topic
def test_random_and_damaged_lines_agree(lines: list[bytes]) -> None:
    assert_same(lines)


def test_a_number_beyond_a_double_is_still_json_on_both_paths() -> None:
    """RFC 8259 sets no range on numbers: orjson refuses 1e400, the fast path's typed read
    skips it unconverted; both paths accept the line and decode the same uplink."""
    good = orjson.loads(layouts(load_cases("chirpstack_gateway")[0])["orjson"])
    good["payload"]["txInfo"] = {"frequency": 868300000}
    line = orjson.dumps(good).replace(b"868300000", b"8e8300000")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(line)
    full = assert_same([line])
    assert full["ingest"] == Counter({("chirpstack_gateway", "ok"): 1})


def test_a_number_beyond_a_double_where_a_decoder_reads_is_rejected_by_it() -> None:
    """fCnt 1e400 reads as inf on both paths, and the decoder says what is wrong."""
    line = (b'{"received_at":"2026-10-01T00:00:01.250Z","topic":"application/a/device/'
            b'0102030405060708/event/up","payload":{"devAddr":"01020304","fCnt":1e400}}')
    full = assert_same([line])
    assert full["ingest"] == Counter({("chirpstack", "rejected"): 1})


def test_payload_b64_lines_are_kept_apart_from_json_payloads() -> None:
    line = format_line(Message(1_790_000_000_000, "eu868/gateway/g/event/up", b"\x01\x02"))
    full = assert_same([line])
    assert full["ingest"] == Counter({("chirpstack_gateway", "rejected"): 1})
