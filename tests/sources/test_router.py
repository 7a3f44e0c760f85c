"""The router: topic → decoder, and no input, however broken, escapes as an exception."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slastream.model.events import EVENT_NAMES, OUTAGE_OPEN, BridgeOutage, Event, UplinkReceived
from slastream.model.time import parse_rfc3339_ms
from slastream.sources import canonical, chirpstack, chirpstack_gateway, router, tts
from slastream.sources.topics import Layouts

from . import phy
from .golden import load_cases


@pytest.mark.parametrize(
    ("topic", "decoder", "source"),
    [
        (
            "eu868/gateway/0016c001f153a14c/event/up",
            chirpstack_gateway.decode_up,
            "chirpstack_gateway",
        ),
        (
            "eu868/gateway/0016c001f153a14c/event/ack",
            chirpstack_gateway.decode_ack,
            "chirpstack_gateway",
        ),
        (
            "eu868/gateway/0016c001f153a14c/command/down",
            chirpstack_gateway.decode_down,
            "chirpstack_gateway",
        ),
        ("application/a/device/0101010101010101/event/up", chirpstack.decode_up, "chirpstack"),
        (
            "application/a/device/0101010101010101/event/txack",
            chirpstack.decode_txack,
            "chirpstack",
        ),
        ("application/a/device/0101010101010101/event/ack", chirpstack.decode_ack, "chirpstack"),
        ("application/a/device/0101010101010101/event/log", chirpstack.decode_log, "chirpstack"),
        ("application/a/device/0101010101010101/event/join", chirpstack.decode_join, "chirpstack"),
        ("v3/app@ttn/devices/dev1/up", tts.decode_up, "tts"),
        ("v3/app@ttn/devices/dev1/join", tts.decode_join, "tts"),
        ("v3/app@ttn/devices/dev1/down/sent", tts.decode_down, "tts"),
        ("v3/app@ttn/devices/dev1/down/failed", tts.decode_down, "tts"),
        ("v3/app@ttn/devices/dev1/down/queued", tts.decode_down, "tts"),
        ("v3/app@ttn/devices/dev1/down/ack", tts.decode_down, "tts"),
        ("v3/app@ttn/devices/dev1/down/nack", tts.decode_down, "tts"),
        ("slastream/probe/api", canonical.decode_probe, "probe"),
        ("slastream/request/api", canonical.decode_request, "request"),
        ("slastream/exclusion", canonical.decode_exclusion, "canonical"),
        ("slastream/uplink/received", canonical.decode_uplink_received, "canonical"),
        ("slastream/uplink/delivered", canonical.decode_uplink_delivered, "canonical"),
        ("slastream/downlink", canonical.decode_downlink, "canonical"),
        ("slastream/bridge/outage", canonical.decode_bridge_outage, "canonical"),
    ],
)
def test_every_contract_topic_reaches_its_decoder(topic: str, decoder: Any, source: str) -> None:
    assert router.find_decoder(topic.split("/")) == (decoder, source)


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "/",
        "eu868/gateway/gw/event/stats",
        "eu868/gateway/gw/state/conn",
        "gateway/gw/event/stats",  # gateway statistics: not an event slastream reads
        "chrp-gateway/au16ch/gw/event/up",  # an operator prefix needs its own topic layout
        "application/a/device/d/event/status",
        "application/a/device/d/command/down",
        "v3/app/devices/dev/up/normalized",
        "v3/app/devices/dev/down/push",
        "slastream/probe/",
        "slastream/probe/a/b",
        "slastream/unknown",
    ],
)
def test_other_topics_are_ignored_not_rejected(topic: str) -> None:
    out: list[Event] = []
    assert router.decode(topic, {}, 0, out)[1:] == ("ignored", "topic not understood")
    assert out == []


@pytest.mark.parametrize("topic", ["eu868/gateway/0016c001f153a14c/event/up",
                                   "gateway/0016c001f153a14c/event/up"])
def test_gateway_topics_decode_with_and_without_the_region_prefix(topic: str) -> None:
    """ChirpStack writes the region's ``topic_prefix`` only when one is set."""
    frame = phy.data_frame(phy.UNCONF_UP, 0x260B5972, 1, fport=1, payload=b"a")
    out: list[Event] = []
    payload = {"phyPayload": phy.b64(frame), "rxInfo": {"crcStatus": "CRC_OK"}}
    assert router.decode(topic, payload, 0, out) == ("chirpstack_gateway", "ok", "")
    assert [(e.gateway, e.region) for e in out] == [  # type: ignore[union-attr]
        ("0016c001f153a14c", "eu868" if topic.startswith("eu868") else "default")]


def test_an_operator_prefix_decodes_under_its_layout() -> None:
    rt = router.Router(Layouts.from_config(
        {"chirpstack_gateway": ["chrp-gateway/{region}/{gateway}/{event}"]}))
    frame = phy.data_frame(phy.UNCONF_UP, 0x260B5972, 1, fport=1, payload=b"a")
    out: list[Event] = []
    payload = {"phyPayload": phy.b64(frame), "rxInfo": {"crcStatus": "CRC_OK"}}
    assert rt.decode("chrp-gateway/au16ch/gw1/event/up", payload, 0, out)[1] == "ok"
    assert [(e.gateway, e.region) for e in out] == [("gw1", "au16ch")]  # type: ignore[union-attr]


def test_rejection_keeps_events_already_in_the_batch() -> None:
    frame = phy.data_frame(phy.UNCONF_UP, 0x260B5972, 1, fport=1, payload=b"a")
    good = {"phyPayload": phy.b64(frame), "rxInfo": {"crcStatus": "CRC_OK"}, "txInfo": {}}
    out: list[Event] = []
    assert router.decode("eu868/gateway/g/event/up", good, 1, out)[1] == "ok"
    bad_batch = [{"devaddr": "1", "fcnt": 1}, {"devaddr": "zz", "fcnt": 1}]
    source, outcome, reason = router.decode("slastream/uplink/received", bad_batch, 2, out)
    assert (source, outcome) == ("canonical", "rejected")
    assert reason == "item 1: devaddr must be 1 to 8 hex digits"
    assert out == [UplinkReceived(1, 0x260B5972, 1, "g", "eu868", False, 1)]


# ---- fuzzing: arbitrary topics and JSON values never raise out of router.decode

FIELDS = [
    "phyPayload",
    "rxInfo",
    "txInfo",
    "crcStatus",
    "items",
    "timing",
    "delay",
    "immediately",
    "gpsEpoch",
    "delayTimingInfo",
    "txInfoLegacy",
    "downlinkId",
    "token",
    "status",
    "error",
    "devAddr",
    "fCnt",
    "deviceInfo",
    "deviceClassEnabled",
    "level",
    "code",
    "description",
    "simulated",
    "uplink_message",
    "end_device_ids",
    "dev_addr",
    "f_cnt",
    "downlink_sent",
    "downlink_failed",
    "class_b_c",
    "downlink",
    "name",
    "attributes",
    "result",
    "time",
    "ok",
    "latency_ms",
    "duration_ms",
    "client",
    "id",
    "scope",
    "start",
    "end",
    "announced_at",
    "kind",
    "evidence",
    "devaddr",
    "fcnt",
    "gateway",
    "region",
    "confirmed",
    "application",
    "device",
    "window",
    "bridge",
]
STRINGS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "CRC_OK",
            "BAD_CRC",
            "OK",
            "TOO_LATE",
            "CLASS_C",
            "ERROR",
            "DOWNLINK_GATEWAY",
            "transmission",
            "1s",
            "1.5s",
            "-1s",
            "DELAY",
            "IMMEDIATELY",
            "260B5972",
            "0x12",
            "2026-10-01T00:00:00Z",
            "2026-10-01T00:00:00.123456789+05:30",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+23:59",
            "rx2",
            "maintenance",
            "",
        ]
    ),
    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
    st.builds(lambda m, b: phy.b64(bytes([m]) + b), st.integers(0, 255), st.binary(max_size=30)),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=True),
    STRINGS,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), children, max_size=6
        ),
    ),
    max_leaves=25,
)
SEGMENT = st.one_of(
    st.sampled_from(
        [
            "eu868",
            "gateway",
            "event",
            "command",
            "up",
            "down",
            "ack",
            "application",
            "device",
            "txack",
            "log",
            "join",
            "v3",
            "devices",
            "sent",
            "failed",
            "queued",
            "nack",
            "slastream",
            "probe",
            "request",
            "exclusion",
            "uplink",
            "received",
            "delivered",
            "downlink",
            "bridge",
            "outage",
            "",
        ]
    ),
    st.text(max_size=6),
)
TOPICS = st.one_of(
    st.lists(SEGMENT, min_size=1, max_size=7).map("/".join),
    st.sampled_from(
        [
            "eu868/gateway/g/event/up",
            "eu868/gateway/g/command/down",
            "eu868/gateway/g/event/ack",
            "application/a/device/d/event/up",
            "application/a/device/d/event/txack",
            "application/a/device/d/event/log",
            "v3/a@t/devices/d/up",
            "v3/a@t/devices/d/down/sent",
            "v3/a@t/devices/d/down/failed",
            "slastream/probe/api",
            "slastream/request/api",
            "slastream/exclusion",
            "slastream/uplink/received",
            "slastream/uplink/delivered",
            "slastream/downlink",
            "slastream/bridge/outage",
        ]
    ),
)
PAYLOADS = st.one_of(JSON, st.binary(max_size=40))


GOLDEN = [
    case
    for name in ("chirpstack_gateway", "chirpstack", "tts", "canonical")
    for case in load_cases(name)
    if "payload" in case
]
_DELETE = object()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a JSON value (the root is ``()``)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced (or deleted with ``_DELETE``)."""
    if not path:
        return None if new is _DELETE else new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if not rest and new is _DELETE:
            del copy[head]
        else:
            copy[head] = _replaced(value[head], rest, new)
        return copy
    items = list(value)
    if not rest and new is _DELETE:
        del items[head]
    else:
        items[head] = _replaced(items[head], rest, new)
    return items


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(topic=TOPICS, payload=PAYLOADS, received_ms=st.integers(0, 2**42))
def test_router_never_raises(topic: str, payload: Any, received_ms: int) -> None:
    _check_never_raises(topic, payload, received_ms)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_router_never_raises_on_damaged_real_payloads(data: st.DataObject) -> None:
    # Random damage to the golden payloads reaches the checks deep inside each decoder,
    # which purely random JSON rarely gets past.
    case = data.draw(st.sampled_from(GOLDEN))
    payload = case["payload"]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(payload)))
        payload = _replaced(payload, path, data.draw(st.one_of(st.just(_DELETE), JSON)))
    _check_never_raises(case["topic"], payload, 1_000)


def _check_never_raises(topic: str, payload: Any, received_ms: int) -> None:
    sentinel = UplinkReceived(0, 0, 0, "", "", False)
    out: list[Event] = [sentinel]
    source, outcome, reason = router.decode(topic, payload, received_ms, out)
    assert isinstance(source, str) and isinstance(reason, str)
    assert out[0] is sentinel
    if outcome == "ok":
        assert reason == ""
        assert all(type(e) in EVENT_NAMES for e in out[1:])
    else:
        assert outcome in ("ignored", "rejected")
        assert reason and len(reason) <= 200
        assert out == [sentinel]


def test_a_bridge_outage_without_end_is_announced_open() -> None:
    out: list[Any] = []
    payload = {"start": "2026-10-01T00:00:00Z", "bridge": "b1"}
    assert router.decode("slastream/bridge/outage", payload, 0, out)[1] == router.OK
    assert out == [BridgeOutage(parse_rfc3339_ms("2026-10-01T00:00:00Z"), OUTAGE_OPEN, "b1")]
    assert out[0].open
