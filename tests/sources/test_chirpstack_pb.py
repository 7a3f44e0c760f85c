"""ChirpStack's Protobuf marshaler: messages built with the official encoder (chirpstack-api)
decode to the same events as the same messages in the JSON marshaler."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from chirpstack_api.gw import gw_pb2
from chirpstack_api.integration import integration_pb2
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from slastream.errors import Rejected
from slastream.model.events import Event
from slastream.sources import chirpstack, chirpstack_gateway, chirpstack_pb, router

from . import phy
from .golden import GOLDEN_DIR, load_cases, run_case

GENERATOR = GOLDEN_DIR.parent / "make_protobuf_cases.py"

GW = "0016c001f153a14c"
PARTS_UP = ["eu868", "gateway", GW, "event", "up"]
PARTS_DOWN = ["eu868", "gateway", GW, "command", "down"]
PARTS_ACK = ["eu868", "gateway", GW, "event", "ack"]
DEV_PARTS = ["application", "a3e3c6d2", "device", "70b3d57ed0051a2b", "event", "up"]


def _events(decoder: Any, parts: list[str], payload: Any) -> tuple[str | None, list[Event]]:
    out: list[Event] = []
    reason = decoder(parts, payload, 1_000, out)
    return reason, out


def _uplink_frame(frame: bytes, crc: int = gw_pb2.CRC_OK) -> gw_pb2.UplinkFrame:
    f = gw_pb2.UplinkFrame()
    f.phy_payload = frame
    f.tx_info.frequency = 868_100_000
    f.tx_info.modulation.lora.spreading_factor = 7
    f.rx_info.gateway_id = GW
    f.rx_info.uplink_id = 7
    f.rx_info.rssi = -80
    f.rx_info.crc_status = crc  # type: ignore[assignment]
    return f


@pytest.mark.parametrize("crc", [gw_pb2.CRC_OK, gw_pb2.BAD_CRC, gw_pb2.NO_CRC])
@pytest.mark.parametrize("frame", [
    phy.data_frame(phy.UNCONF_UP, 0x26011234, 17, fport=1, payload=b"\x01\x02"),
    phy.data_frame(phy.CONF_UP, 0x26011234, 65_535, fport=0, payload=b"\x06"),
    phy.data_frame(phy.UNCONF_UP, 0x26011234, 3),  # no FPort: MAC-only
    phy.join_request(1, 2, 3),
])
def test_uplink_frame_decodes_like_its_json_form(frame: bytes, crc: int) -> None:
    msg = _uplink_frame(frame, crc)
    as_json = json_format.MessageToDict(msg)  # what the JSON marshaler publishes
    want = _events(chirpstack_gateway.decode_up, PARTS_UP, as_json)
    got = _events(chirpstack_gateway.decode_up, PARTS_UP,
                  chirpstack_pb.uplink_frame(msg.SerializeToString()))
    assert got == want


def test_bad_crc_copy_is_ignored_in_protobuf_too() -> None:
    frame = phy.data_frame(phy.UNCONF_UP, 0x26011234, 17, fport=1)
    payload = chirpstack_pb.uplink_frame(_uplink_frame(frame, gw_pb2.BAD_CRC).SerializeToString())
    assert _events(chirpstack_gateway.decode_up, PARTS_UP, payload) == (
        chirpstack_gateway.BAD_CRC, [])


def test_downlink_frame_and_its_ack() -> None:
    down = gw_pb2.DownlinkFrame(downlink_id=4242, gateway_id=GW)
    for delay_s in (1, 2):  # RX1 then RX2
        item = down.items.add()
        item.phy_payload = phy.data_frame(phy.UNCONF_DOWN, 0x26011234, 9, fport=1)
        item.tx_info.frequency = 869_525_000
        item.tx_info.timing.delay.delay.seconds = delay_s
    reason, events = _events(chirpstack_gateway.decode_down, PARTS_DOWN,
                             chirpstack_pb.downlink_frame(down.SerializeToString()))
    assert reason is None
    assert events == _events(chirpstack_gateway.decode_down, PARTS_DOWN,
                             json_format.MessageToDict(down))[1]
    assert events[0].delays_ms == (1000, 2000) and events[0].devaddr == 0x26011234  # type: ignore[union-attr]
    ack = gw_pb2.DownlinkTxAck(downlink_id=4242, gateway_id=GW)
    ack.items.add(status=gw_pb2.TOO_LATE)
    ack.items.add(status=gw_pb2.OK)
    reason, events = _events(chirpstack_gateway.decode_ack, PARTS_ACK,
                             chirpstack_pb.downlink_tx_ack(ack.SerializeToString()))
    assert events[0].statuses == ("TOO_LATE", "OK")  # type: ignore[union-attr]
    assert events[0].downlink_id == 4242  # type: ignore[union-attr]


def test_integration_uplink_event() -> None:
    ev = integration_pb2.UplinkEvent(deduplication_id="3c5e", dev_addr="26011234", f_cnt=70_000,
                                     f_port=1, data=b"\x01")
    ev.time.FromJsonString("2026-10-01T00:00:01.250Z")
    ev.device_info.application_id = "a3e3c6d2"
    ev.device_info.dev_eui = "70b3d57ed0051a2b"
    ev.device_info.tenant_id = "t1"
    got = _events(chirpstack.decode_up, DEV_PARTS,
                  chirpstack_pb.INTEGRATION["up"](ev.SerializeToString()))
    assert got == _events(chirpstack.decode_up, DEV_PARTS, json_format.MessageToDict(ev))
    assert got[1][0].fcnt == 70_000  # type: ignore[union-attr]


def test_a_payload_that_is_neither_json_nor_protobuf_is_rejected_with_a_reason() -> None:
    damaged = base64.b64decode("EiQ2ZjBiM2UwZS0yZDhhLTRjMmU=")  # length prefix past the end
    with pytest.raises(Rejected, match=r"not JSON, and not a Protobuf integration\.UplinkEvent"):
        chirpstack_pb.INTEGRATION["up"](damaged)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_damaged_protobuf_never_raises_anything_but_a_rejection(data: bytes) -> None:
    for to_json in (chirpstack_pb.uplink_frame, chirpstack_pb.downlink_frame,
                    chirpstack_pb.downlink_tx_ack, *chirpstack_pb.INTEGRATION.values()):
        try:
            payload = to_json(data)
        except Rejected:
            continue
        assert isinstance(payload, dict)


# ------------------------------------------------------------- the Protobuf golden corpus

PB_CASES = load_cases("protobuf")


@pytest.mark.parametrize("case", PB_CASES, ids=[c["name"] for c in PB_CASES])
def test_golden_protobuf(case: dict[str, Any]) -> None:
    run_case(case)


def test_the_protobuf_corpus_is_what_its_generator_writes(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("make_protobuf_cases", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "protobuf.json")
    module.main()
    assert (tmp_path / "protobuf.json").read_text() == (GOLDEN_DIR / "protobuf.json").read_text()


# Every topic a ChirpStack message can arrive on, prefixed and not.
CHIRPSTACK_TOPICS = [
    f"eu868/gateway/{GW}/event/up", f"gateway/{GW}/event/up",
    f"eu868/gateway/{GW}/event/ack", f"gateway/{GW}/event/ack",
    f"eu868/gateway/{GW}/command/down", f"gateway/{GW}/command/down",
    *(f"application/a3e3c6d2/device/70b3d57ed0051a2b/event/{e}"
      for e in ("up", "txack", "ack", "log", "join")),
]
_VALID = [base64.b64decode(c["payload_b64"]) for c in PB_CASES]


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    """A real Protobuf message cut, spliced, or with bytes flipped."""
    data = bytearray(draw(st.sampled_from(_VALID)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("cut", "flip", "insert")))
        at = draw(st.integers(0, len(data)))
        if op == "cut":
            del data[at:at + draw(st.integers(1, 8))]
        elif op == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=6))
    return bytes(data)


@settings(max_examples=400, deadline=None)
@given(topic=st.sampled_from(CHIRPSTACK_TOPICS),
       data=st.one_of(_damaged(), st.binary(max_size=120)))
def test_damaged_protobuf_on_every_chirpstack_topic_is_a_counted_outcome(topic: str,
                                                                        data: bytes) -> None:
    out: list[Event] = []
    source, outcome, reason = router.decode(topic, data, 1_000, out)
    assert source in ("chirpstack_gateway", "chirpstack")
    assert outcome in ("ok", "ignored", "rejected")
    assert (reason == "") == (outcome == "ok")
    if outcome != "ok":
        assert out == []
