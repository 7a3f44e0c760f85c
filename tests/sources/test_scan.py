"""The C loop (``sources/_scan.c``) decodes exactly what the Python loop decodes.

Two references: ``fastpath.column_batches(native=False)``, the same batches built in Python
(rows, events, ordinals, names, counters), and the plain path of ``test_fastpath.py``
(``orjson`` and the router per message). The C loop takes plain gateway uplinks and
deliveries (from the line's bytes, or from the typed read), gateway downlinks, their
acknowledgements, integration txacks, arrays of request records and ignored log events;
every edge below must either give the same result through it or be handed back to Python.
"""

from __future__ import annotations

import base64
import copy
import io
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slastream.model.events import DownlinkAck, DownlinkCommand, DownlinkOutcome, RequestLog
from slastream.simulate import Scenario, generate
from slastream.sources import _scan, fastpath, router, shapes
from slastream.sources.capture import format_line
from slastream.sources.columns import ColumnBatch

from . import phy
from .test_fastpath import STAMP, _line, assert_same

GW = "0016c001f0000030"
DOWN_TOPIC = f"eu868/gateway/{GW}/command/down"
ACK_TOPIC = f"eu868/gateway/{GW}/event/ack"
TXACK_TOPIC = "application/a1/device/70b3d57ed00004fe/event/txack"


def _item(frame: bytes, delay: str) -> dict[str, Any]:
    return {"phyPayload": base64.b64encode(frame).decode(),
            "txInfo": {"frequency": 867100000, "power": 14,
                       "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7}},
                       "timing": {"delay": {"delay": delay}}, "context": "NKcYOw=="}}


_DOWN_FRAME = phy.data_frame(phy.UNCONF_DOWN, 0x260B5972, 3, fport=1, payload=b"x")
DOWN = {"downlinkId": 363023819, "gatewayId": GW,
        "items": [_item(_DOWN_FRAME, "1s"), _item(_DOWN_FRAME, "2s")]}
ACK = {"gatewayId": GW, "downlinkId": 363023819,
       "items": [{"status": "COLLISION_PACKET"}, {"status": "OK"}, {}]}
TXACK = {"downlinkId": 363023819, "time": "2026-10-01T00:00:00.563229029+00:00",
         "deviceInfo": {"tenantId": "t1", "devEui": "70b3d57ed00004fe",
                        "deviceClassEnabled": "CLASS_A", "tags": {}},
         "fCntDown": 0, "gatewayId": GW,
         "txInfo": {"frequency": 867100000, "timing": {"delay": {"delay": "1s"}}}}

_ABSENT = object()


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A variant of a payload: ``value`` at ``path`` (``_ABSENT`` removes the key)."""
    def variant(base: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(base)
        node: Any = out
        for key in path[:-1]:
            node = node[key]
        if value is _ABSENT:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
        return out
    return variant


_IDS: list[Any] = [0, 2**32 - 1, 2**32, -1, 1.0, True, None, "7", _ABSENT]
_DELAYS: list[Any] = ["1s", "0s", "1.5s", "1.500s", "1.000000001s", "1.0000000001s", "1.s",
                      ".5s", "1", "s", "-1s", "1e3s", "9" * 12 + "s", "9" * 13 + "s", "١s",
                      None, 5, _ABSENT]
_FRAMES: dict[str, bytes] = {
    "data": _DOWN_FRAME,
    "confirmed": phy.data_frame(phy.CONF_DOWN, 1, 2),
    "FOpts": phy.data_frame(phy.UNCONF_DOWN, 1, 2, fopts=b"\x02\x03"),
    "FOpts cut": phy.data_frame(phy.UNCONF_DOWN, 1, 2, fopts=b"\x02\x03")[:13],
    "11 bytes": phy.data_frame(phy.UNCONF_DOWN, 1, 2)[:-1],
    "major 1": bytes([_DOWN_FRAME[0] | 0x01]) + _DOWN_FRAME[1:],
    "join-accept": bytes([0x20]) + b"j" * 16,
    "join-accept short": bytes([0x20]) + b"j" * 15,
    "uplink": phy.data_frame(phy.UNCONF_UP, 1, 2),
    "one byte": b"\x60",
}


def _down_variants() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [DOWN]
    out += [_set(["downlinkId"], v)(DOWN) for v in _IDS]
    out += [_set(["downlinkId"], _ABSENT)(_set(["token"], 5)(DOWN))]
    out += [_set(["items", 1, "txInfo", "timing", "delay", "delay"], v)(DOWN) for v in _DELAYS]
    for name, frame in _FRAMES.items():
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(frame).decode()
            out.append(_set(["items", 0, "phyPayload"], text)(DOWN))
            out.append(_set(["items", 0, "phyPayload"], text.rstrip("="))(DOWN))
        out.append(_set(["items", 0, "phyPayload"], name)(DOWN))
    timings: list[Any] = [{"immediately": {}}, {"gpsEpoch": {"timeSinceGpsEpoch": "1s"}},
                          {"delay": None, "immediately": {}}, {}, {"delay": {}},
                          {"delay": {"delay": "2s"}, "immediately": {}}, "DELAY",
                          "IMMEDIATELY", None, 5]
    out += [_set(["items", 0, "txInfo", "timing"], t)(DOWN) for t in timings]
    out += [_set(["items", 0, "txInfo"], v)(DOWN) for v in (None, 5, {}, _ABSENT)]
    out.append(_set(["items", 0, "txInfoLegacy"], {"timing": "IMMEDIATELY"})(
        _set(["items", 0, "txInfo"], _ABSENT)(DOWN)))
    out += [_set(["items"], v)(DOWN) for v in
            ([], None, {}, "x", [5], [DOWN["items"][0]] * 17, [DOWN["items"][0]] * 16,
             _ABSENT)]
    v3 = {"phyPayload": base64.b64encode(_DOWN_FRAME).decode(), "token": 9,
          "txInfo": {"timing": "DELAY", "delayTimingInfo": {"delay": "1s"}}}
    out += [v3, _set(["items", 0, "phyPayload"], None)(DOWN),
            _set(["items", 0, "phyPayload"], 5)(DOWN), _set(["items", 0], None)(DOWN)]
    return out


def _ack_variants() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [ACK]
    out += [_set(["downlinkId"], v)(ACK) for v in _IDS]
    statuses: list[Any] = ["OK", "", None, 5, "TOO_LATE", "é", _ABSENT]
    out += [_set(["items", 0, "status"], v)(ACK) for v in statuses]
    out += [_set(["items"], v)(ACK) for v in ([], None, {}, [5], [{}] * 40, _ABSENT)]
    out += [{"gatewayId": GW, "token": 3, "error": e} for e in ("", "NONE", "TOO_LATE", 5)]
    return out


def _txack_variants() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [TXACK]
    classes: list[Any] = ["CLASS_A", "CLASS_B", "CLASS_C", "", None, 5, "class_b", _ABSENT]
    out += [_set(["deviceInfo", "deviceClassEnabled"], v)(TXACK) for v in classes]
    out += [_set(["deviceInfo"], v)(TXACK) for v in (None, 5, {}, _ABSENT)]
    timings: list[Any] = [{"immediately": {}}, {"immediately": None}, {"gpsEpoch": {}},
                          {}, None, "DELAY", 5, _ABSENT]
    out += [_set(["txInfo", "timing"], t)(TXACK) for t in timings]
    out += [_set(["txInfo"], v)(TXACK) for v in (None, 5, {}, _ABSENT)]
    return out


LOG_TOPIC = "application/a1/device/70b3d57ed00004fe/event/log"
LOG = {"time": "2026-10-01T00:00:05.923030204+00:00", "deviceInfo": TXACK["deviceInfo"],
       "level": "WARNING", "code": "UPLINK_F_CNT_RESET", "description": "reset",
       "context": {"deduplication_id": "x"}}


def _log_variants() -> list[Any]:
    codes: list[Any] = ["DOWNLINK_GATEWAY", "UNKNOWN", "", None, 5, "x" * 60, _ABSENT]
    out: list[Any] = [LOG, [LOG], "text"]
    out += [_set(["code"], v)(LOG) for v in codes]
    gateway = _set(["level"], "ERROR")(_set(["code"], "DOWNLINK_GATEWAY")(LOG))
    out += [gateway, _set(["description"], "TOO_LATE")(gateway),
            _set(["deviceInfo", "deviceClassEnabled"], "CLASS_C")(gateway)]
    return out


REQUEST_TOPIC = "slastream/request/api"
RECORD = {"time": "2026-10-01T00:00:00.210Z", "duration_ms": 80.9, "status": 200,
          "client": "client-34"}


def _request_variants() -> list[Any]:
    out: list[Any] = [[RECORD], [RECORD, RECORD], [], RECORD, [5], [RECORD, 5]]
    edges: dict[str, list[Any]] = {
        "time": ["2026-10-01T00:00:00.210+00:00", "2026-10-01T00:00:00Z", "x", 5, None,
                 "2026-02-30T00:00:00.000Z", _ABSENT],
        "duration_ms": [0, 0.0, -0.0, -1, -0.5, 2**63, 2**63 + 1, 2**64, 1e308, True,
                        "1", None, _ABSENT],
        "status": [0, 999, 1000, -1, 200.0, True, "200", None, _ABSENT],
        "client": ["", "é", 5, None, _ABSENT],
        "bytes": [0, 2**53 - 1, 2**53, -1, 10.0, 10.5, 2.0**53, -0.0, True, "1", None,
                  _ABSENT],
    }
    for key, values in edges.items():
        out += [[RECORD, _set([key], v)(RECORD)] for v in values]
    return out


def _lines(topic: str, payloads: list[Any]) -> list[bytes]:
    return [_line(STAMP, topic, p, False) for p in payloads]


def comparable(batches: list[ColumnBatch]) -> list[Any]:
    return [(b.kinds, {cls: rows.tolist() for cls, rows in b.columns.items()}, b.events,
             b.others_at, b.names, b.messages, b.ingest, b.rejections, b.bad_lines,
             b.first_time_ms, b.ignored) for b in batches]


def assert_native_same(lines: list[bytes], chunk: int = 7) -> list[ColumnBatch]:
    """Same batches with and without the C loop, and the same as the plain path; and the
    same from one buffer of the lines (a replay's byte range) as from its file lines."""
    native = list(fastpath.column_batches(lines, chunk, router.Router()))
    python = list(fastpath.column_batches(lines, chunk, router.Router(), native=False))
    assert comparable(native) == comparable(python)
    assert_same(lines)
    buffer = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
    as_file = list(fastpath.column_batches(io.BytesIO(buffer), chunk, router.Router(),
                                           native=False))
    assert comparable(list(fastpath.column_batches(buffer, chunk, router.Router()))) == \
        comparable(as_file)
    return native


def test_the_c_loop_is_built() -> None:
    """CI builds it (scripts/bootstrap installs a compiler); without it these tests would
    compare the Python loop with itself."""
    assert fastpath.native_module is _scan


@pytest.mark.parametrize(("topic", "variants"), [
    (DOWN_TOPIC, _down_variants()), (ACK_TOPIC, _ack_variants()),
    (TXACK_TOPIC, _txack_variants()), (REQUEST_TOPIC, _request_variants()),
    (LOG_TOPIC, _log_variants())], ids=["down", "ack", "txack", "requests", "log"])
def test_shapes_and_their_edges(topic: str, variants: list[Any]) -> None:
    lines = _lines(topic, variants)
    for line in lines:
        assert_native_same([line, line])  # the second after the topic is known
    assert_native_same(lines)


def _unknown(topic: str) -> tuple[int, str, str]:
    raise AssertionError(f"{topic} is in the table")


def test_plain_downlink_shapes_are_taken_by_the_c_loop() -> None:
    """Not handed back: the C loop decodes them to the router's events."""
    lines = (_lines(DOWN_TOPIC, [DOWN, _set(["items", 0, "phyPayload"], base64.b64encode(
        _FRAMES["join-accept"]).decode())(DOWN)]) + _lines(ACK_TOPIC, [ACK])
             + _lines(TXACK_TOPIC, [TXACK]) + _lines(REQUEST_TOPIC, [[RECORD, RECORD]]))
    warm = assert_native_same(lines, chunk=100)  # fills the topic table
    kinds: dict[str, tuple[int, str, str]] = {
        DOWN_TOPIC: (fastpath._GATEWAY_DOWN, GW, ""),
        ACK_TOPIC: (fastpath._GATEWAY_ACK, GW, ""),
        TXACK_TOPIC: (fastpath._DEVICE_TXACK, "70b3d57ed00004fe", ""),
        REQUEST_TOPIC: (fastpath._REQUESTS, "api", "")}
    others: dict[type, list[Any]] = {}
    others_at: dict[type, list[int]] = {}
    order: list[type] = []
    ok = [0] * fastpath._KINDS
    line, rec, n, first, _ = _scan.skip(
        iter(lines), _scan.Topics(kinds), _unknown, [], {}, bytearray(), bytearray(), others,
        others_at, order, ok, 0, 100, None, 1 << 20, 0, {})
    assert (line, rec, n) == (None, None, 5)
    assert ok == [0, 0, 0, 2, 1, 1, 1, 0]
    assert order == [DownlinkCommand, DownlinkAck, DownlinkOutcome, RequestLog]
    assert others == warm[0].events
    assert others_at == {DownlinkCommand: [0, 1], DownlinkAck: [2], DownlinkOutcome: [3],
                         RequestLog: [4, 4]}
    assert others[DownlinkCommand][0] == DownlinkCommand(
        first, GW, 363023819, 0x260B5972, (1000, 2000), False)
    assert others[DownlinkCommand][1].join_accept is True
    assert others[DownlinkAck] == [DownlinkAck(first, GW, 363023819,
                                               ("COLLISION_PACKET", "OK", "IGNORED"))]


def test_ignored_logs_are_counted_by_the_c_loop_after_the_first() -> None:
    """The first log event of a batch goes through Python (its ignored reason class takes
    its place among the counters, as on the plain path); the C loop counts the rest."""
    lines = _lines(LOG_TOPIC, [LOG, LOG, LOG])
    key = (fastpath._SOURCES[fastpath._DEVICE_LOG], fastpath._LOG_IGNORED)
    kinds = {LOG_TOPIC: (fastpath._DEVICE_LOG, "70b3d57ed00004fe", "")}
    for ignored, handed_back, counted in (({}, lines[0], 0), ({key: 1}, None, 3)):
        ok = [0] * fastpath._KINDS
        line, _, n, _, _ = _scan.skip(
            iter(lines), _scan.Topics(kinds), _unknown, [], {}, bytearray(), bytearray(), {}, {},
            [], ok,
            0, 100, None, 1 << 20, 0, ignored)
        assert (line, n, ok[fastpath._DEVICE_LOG]) == (handed_back, counted, counted)
    (batch,) = assert_native_same(lines, chunk=100)
    assert batch.ignored == {key: 3}


def test_simulated_network_batches_are_identical() -> None:
    messages = list(generate(Scenario(devices=40, gateways=5, uplink_interval_s=20.0),
                             1_790_000_000_000, 900.0, seed=11))
    lines = [format_line(m) for m in messages]
    batches = assert_native_same(lines, chunk=500)
    kinds = {cls for b in batches for cls in b.kinds}
    assert {DownlinkCommand, DownlinkAck, DownlinkOutcome} <= kinds


_STAMPS = ["2026-10-01T00:00:01.250Z", "2026-10-01T00:00:01.999Z", "2024-02-29T23:59:59.000Z",
           "2023-02-29T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-10-01T24:00:00.000Z",
           "2026-10-01T23:60:00.000Z", "2026-10-01T23:59:60.000Z", "1969-12-31T23:59:59.999Z",
           "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2026-10-01t00:00:01.250Z",
           "2026-10-01 00:00:01.250Z", "2026-10-01T00:00:01.250z", "2026-10-01T00:00:01.25Z",
           "2026-10-01T00:00:01.2500Z", "2026-10-01T00:00:01.250+00:00", "2026-1O-01T00:00:01.250Z",
           "2100-02-29T00:00:00.000Z", "2000-02-29T00:00:00.000Z"]


def test_timestamps_through_the_c_loop() -> None:
    lines = [_line(stamp, ACK_TOPIC, ACK, False) for stamp in _STAMPS for _ in range(2)]
    assert_native_same(lines)


_SHAPES = st.sampled_from([(DOWN_TOPIC, DOWN), (ACK_TOPIC, ACK), (TXACK_TOPIC, TXACK),
                           (REQUEST_TOPIC, [RECORD, RECORD]), (LOG_TOPIC, LOG)])
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2**33), st.text(max_size=6),
                    st.sampled_from(["1s", "OK", "CLASS_B", "YAE=", {}, [], [{}]]))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A plain shape with one value somewhere replaced, or a key removed."""
    topic, base = draw(_SHAPES)
    payload = copy.deepcopy(base)
    paths: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append([*path, key])
                walk(value, [*path, key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                paths.append([*path, i])
                walk(value, [*path, i])

    walk(payload, [])
    path = draw(st.sampled_from(paths))
    value = draw(st.one_of(_VALUES, st.just(_ABSENT)))
    if value is _ABSENT and isinstance(path[-1], int):
        value = None
    return _line(STAMP, topic, _set(path, value)(payload), False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=1, max_size=6))
def test_mutated_shapes_agree(lines: list[bytes]) -> None:
    assert_native_same(lines + lines)


# ------------------------------------------- lines read from their bytes (_scan_json.h)

_GW_PAYLOAD = (b'{"phyPayload":"QN3wgSeAQzUGnGyAQNc5b4/P2MHgQS+lnKlQEmc=","txInfo":{"frequency":'
               b'868500000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":8}}},'
               b'"rxInfo":{"gatewayId":"0016c001f00000ce","uplinkId":18933,"rssi":-92,'
               b'"snr":8.5,"crcStatus":"CRC_OK","metadata":{"k":"v"}}}')
_DL_PAYLOAD = (b'{"deduplicationId":"8dc3","deviceInfo":{"tenantId":"t-1","tenantName":"x",'
               b'"deviceClassEnabled":"CLASS_A","tags":{}},"devAddr":"268d22f3","adr":true,'
               b'"dr":5,"fCnt":5941,"fPort":19,"confirmed":false,"data":"GOB0J/wL5g==",'
               b'"rxInfo":[{"gatewayId":"0016c001f000009b","rssi":-118,"snr":-1.5,'
               b'"crcStatus":"CRC_OK"},{"gatewayId":"0016c001f00000a9"}],"txInfo":'
               b'{"frequency":867100000},"regionConfigId":"eu868"}')
_GW_LINE_TOPIC = b"eu868/gateway/0016c001f00000ce/event/up"
_DL_LINE_TOPIC = b"application/a1/device/70b3d57ed00004fe/event/up"


def _raw(topic: bytes, payload: bytes, stamp: bytes = STAMP.encode()) -> bytes:
    return (b'{"received_at":"' + stamp + b'","topic":"' + topic + b'","payload":' + payload
            + b"}\n")


def _swap(text: bytes, old: bytes, new: bytes) -> bytes:
    assert old in text, old
    return text.replace(old, new, 1)


_GW_EDITS: list[tuple[bytes, bytes]] = [
    (b'":', b'" : '), (b',"', b' ,\t"'), (b"{", b"{\r\n "), (b"}}}", b"} } }"),
    (b"4/P2", b"4\\/P2"), (b'"phyPayload"', b'"phy\\u0050ayload"'),
    (b'"crcStatus":"CRC_OK"', b'"crcStatus":"CRC_OK","crcStatus":"BAD_CRC"'),
    (b'"crcStatus":"CRC_OK"', b'"crcStatus":"BAD_CRC","crcStatus":"CRC_OK"'),
    (b'"crcStatus":"CRC_OK"', b'"crcStatus":null'), (b'"crcStatus":"CRC_OK"', b'"crcStatus":5'),
    (b'"crcStatus":"CRC_OK"', b'"crcStatus":"CRC_\\u004fK"'),
    (b'"phyPayload":', b'"phyPayload":"QQ==","phyPayload":'),
    (b'"rxInfo":{', b'"rxInfo":[{'), (b'"k":"v"}}}', b'"k":"v"}]}'),
    (b'"rxInfo":{', b'"rxInfo":null,"x":{'), (b'"txInfo":{', b'"txInfo":{"timing":{},'),
    (b'"txInfo":{', b'"txInfo":null,"y":{'), (b'"txInfo":{', b'"txInfo":5,"y":{'),
    (b'"txInfo":{', b'"items":[],"txInfo":{'),
    (b'"txInfo":{', b'"downlinkId":[1,{}],"txInfo":{'),
    (b'"rssi":-92', b'"rssi":-0'), (b'"rssi":-92', b'"rssi":-092'), (b'"rssi":-92', b'"rssi":1.'),
    (b'"rssi":-92', b'"rssi":.5'), (b'"rssi":-92', b'"rssi":1e400'),
    (b'"rssi":-92', b'"rssi":1E+2'),
    (b'"rssi":-92', b'"rssi":1e'), (b'"rssi":-92', b'"rssi":tru'), (b'"rssi":-92', b'"rssi":nul'),
    (b'"rssi":-92', b'"rssi":' + b"[" * 40 + b"]" * 40),
    (b'"rssi":-92', b'"rssi":' + b"[" * 10 + b"{}" + b"]" * 10), (b'"k":"v"', b'"k":"v\x01"'),
    (b'"k":"v"', '"k":"é"'.encode()), (b'"k":"v"', b'"k":"\xff"'), (b'"k":"v"', b'"k":"v\\"'),
    (b'"k":"v"', b'"k":"v\\\\"'), (b'"k":"v"', b'"k":"v",'), (b'"k":"v"', b'"k" "v"'),
    (b'"k":"v"', b'"k":"v"]'), (b'"k":"v"', b"\"k\":'v'"), (b'"k":"v"', b'"k":"v" "w"'),
]
_DL_EDITS: list[tuple[bytes, bytes]] = [
    (b'"fCnt":5941', b'"fCnt":0'), (b'"fCnt":5941', b'"fCnt":4294967295'),
    (b'"fCnt":5941', b'"fCnt":4294967296'), (b'"fCnt":5941', b'"fCnt":123456789012345678901'),
    (b'"fCnt":5941', b'"fCnt":-1'), (b'"fCnt":5941', b'"fCnt":-0'),
    (b'"fCnt":5941', b'"fCnt":5941.0'),
    (b'"fCnt":5941', b'"fCnt":5.941e3'), (b'"fCnt":5941', b'"fCnt":null'),
    (b'"fCnt":5941', b'"fCnt":"5941"'), (b'"fCnt":5941', b'"fCnt":true'), (b'"fCnt":5941,', b""),
    (b'"fCnt":5941', b'"fCnt":1,"fCnt":5941'), (b'"fCnt":5941', b'"fCnt":05941'),
    (b'"devAddr":"268d22f3"', b'"devAddr":"268D22F3"'),
    (b'"devAddr":"268d22f3"', b'"devAddr":"0x8d22f3"'),
    (b'"devAddr":"268d22f3"', b'"devAddr":"268d22f"'),
    (b'"devAddr":"268d22f3"', b'"devAddr":"zzzzzzzz"'),
    (b'"devAddr":"268d22f3"', b'"devAddr":5'), (b'"devAddr":"268d22f3"', b'"devAddr":null'),
    (b'"devAddr":"268d22f3"', b'"devAddr":"268d\\u00322f3"'),
    (b'"devAddr":"268d22f3"', b'"devAddr":"11111111","devAddr":"268d22f3"'),
    (b'"tenantId":"t-1"', b'"tenantId":"t-2"'), (b'"tenantId":"t-1"', b'"tenantId":""'),
    (b'"tenantId":"t-1"', b'"tenantId":5'), (b'"tenantId":"t-1"', b'"tenantId":null'),
    (b'"tenantId":"t-1",', b""), (b'"tenantId":"t-1"', b'"tenantId":"t-\\u0031"'),
    (b'"tenantId":"t-1"', b'"tenantId":"t-1","tenantId":"t-2"'),
    (b'"deviceInfo":{', b'"deviceInfo":null,"z":{'), (b'"deviceInfo":{', b'"deviceInfo":[],"z":{'),
    (b'"deviceClassEnabled":"CLASS_A"', b'"deviceClassEnabled":{"a":[1,2]}'),
    (b'"rxInfo":[', b'"rxInfo":[5,'), (b'"rxInfo":[', b'"rxInfo":[{"crcStatus":5},'),
    (b'"rxInfo":[', b'"rxInfo":[],"w":['), (b'"rxInfo":[', b'"rxInfo":{},"w":['),
]
_ENVELOPES: list[bytes] = [
    b'{"topic":"' + _GW_LINE_TOPIC + b'","received_at":"' + STAMP.encode() + b'","payload":'
    + _GW_PAYLOAD + b"}",
    b'{"received_at":"' + STAMP.encode() + b'","topic":"' + _GW_LINE_TOPIC + b'","payload":'
    + _GW_PAYLOAD + b',"x":1}',
    b' {"received_at":"' + STAMP.encode() + b'","topic":"' + _GW_LINE_TOPIC + b'","payload":'
    + _GW_PAYLOAD + b"} \r\n",
    b'{"received_at":"' + STAMP.encode() + b'","topic":"' + _GW_LINE_TOPIC + b'","payload":'
    + _GW_PAYLOAD + b"}}",
    b'{"received_at":"' + STAMP.encode() + b'","topic":"' + _GW_LINE_TOPIC + b'","payload":'
    + _GW_PAYLOAD,
    _raw(_GW_LINE_TOPIC, b"{}"), _raw(_GW_LINE_TOPIC, b"[]"), _raw(_GW_LINE_TOPIC, b"null"),
    _raw(b"", _GW_PAYLOAD), _raw(_GW_LINE_TOPIC, _GW_PAYLOAD, b"2026-10-01T00:00:01Z"),
    _raw(_GW_LINE_TOPIC, _GW_PAYLOAD, b"2026-10-01T00:00:01.250\\u005a"),
]


def test_lines_read_from_their_bytes_agree_with_the_typed_read() -> None:
    lines = [_raw(_GW_LINE_TOPIC, _GW_PAYLOAD), _raw(_DL_LINE_TOPIC, _DL_PAYLOAD)]
    lines += [_raw(_GW_LINE_TOPIC, _swap(_GW_PAYLOAD, a, b)) for a, b in _GW_EDITS]
    lines += [_raw(_DL_LINE_TOPIC, _swap(_DL_PAYLOAD, a, b)) for a, b in _DL_EDITS]
    lines += _ENVELOPES
    for line in lines:
        assert_native_same([line, line])
    batches = assert_native_same(lines, chunk=1000)
    assert batches[0].ingest[("chirpstack_gateway", "ok")] > 20
    assert batches[0].ingest[("chirpstack", "ok")] > 10


def test_plain_lines_are_read_from_their_bytes() -> None:
    """Taken by the byte reader, not the typed read: a failing typed read would hand them
    to Python instead, and the C loop would stop at the first."""
    lines = [_raw(_GW_LINE_TOPIC, _GW_PAYLOAD), _raw(_DL_LINE_TOPIC, _DL_PAYLOAD)] * 3
    asked: list[bytes] = []

    def typed_read(line: bytes) -> Any:
        asked.append(line)
        return shapes.read(line)

    try:
        fastpath.setup_native(typed_read)
        (batch,) = fastpath.column_batches(lines, 100, router.Router())
        fastpath.setup_native(typed_read)  # and a line the byte reader declines
        escaped = _raw(_GW_LINE_TOPIC, _swap(_GW_PAYLOAD, b'"k"', b'"\\u006b"'))
        list(fastpath.column_batches([escaped], 100, router.Router()))
    finally:
        fastpath.setup_native(shapes.read)
    assert batch.ingest == {("chirpstack_gateway", "ok"): 3, ("chirpstack", "ok"): 3}
    assert len(asked) == 1


def _gateway_line(gateway: int, width: int = 16) -> bytes:
    return _raw(b"eu868/gateway/%0*x/event/up" % (width, gateway), _GW_PAYLOAD)


def _delivery_line(device: int, tenant: bytes = b"t-1") -> bytes:
    return _raw(b"application/a1/device/%016x/event/up" % device,
                _swap(_DL_PAYLOAD, b'"t-1"', b'"' + tenant + b'"'))


def _same_with(topics: fastpath.Topics, lines: list[bytes], chunk: int = 1000) -> None:
    got = list(fastpath.column_batches(lines, chunk, router.Router(), topics))
    want = list(fastpath.column_batches(lines, chunk, router.Router(), native=False))
    assert comparable(got) == comparable(want)


def test_one_topic_table_for_many_calls() -> None:
    """A replay's worker keeps one Topics for all its byte ranges, each decoded with a new
    table of names: the name indexes a topic's slot keeps are those of the table in use,
    interned in the Python loop's order (here each range meets the names in another
    order), and so is the last tenant's (the next range starts with the same one)."""
    first = [_gateway_line(1), _delivery_line(7), _gateway_line(2), _delivery_line(8, b"t-2"),
             _gateway_line(1), _delivery_line(7)]
    second = [_delivery_line(7), _gateway_line(3), _delivery_line(8, b"t-2"),
              _gateway_line(2), _delivery_line(9, b"t-2"), _delivery_line(7)]
    topics = fastpath.Topics()
    for lines in (first, second, first, list(reversed(second))):
        _same_with(topics, lines)
    assert topics.table is not None and len(topics.table) == 6
    _same_with(topics, first + second, chunk=2)  # one table of names for many batches


def test_the_topic_table_bound_and_long_topics() -> None:
    """More topics than the C loop's table holds (emptied when full, then filled again)
    and topics longer than a slot keeps in place: the same batches."""
    many = [_gateway_line(i) for i in range(_scan.TOPICS_MAX + 50)]
    topics = fastpath.Topics()
    _same_with(topics, many + many[:100], chunk=20_000)
    assert topics.table is not None and len(topics.table) < _scan.TOPICS_MAX
    long = [_gateway_line(i, width=200) for i in range(3)]
    assert len(long[0].split(b'"')[7]) > 200
    assert_native_same(long + long[::-1])


def test_topics_that_are_not_plain_ascii() -> None:
    """Escaped in the line (the typed read makes a str that is not ASCII, looked up by its
    UTF-8), written as UTF-8 (the line goes to Python), a lone surrogate (declined)."""
    escaped = _raw(b"eu868/gateway/\\u00e9t\\u00e9/event/up", _GW_PAYLOAD)
    written = _raw("eu868/gateway/été/event/up".encode(), _GW_PAYLOAD)
    surrogate = _raw(b"eu868/gateway/\\ud800/event/up", _GW_PAYLOAD)
    assert_native_same([escaped, written, escaped, surrogate, written, surrogate, escaped])
