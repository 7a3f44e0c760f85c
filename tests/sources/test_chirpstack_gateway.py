"""ChirpStack gateway topics: golden cases plus the rules a user would notice."""

from __future__ import annotations

from typing import Any

import pytest

from slastream.errors import Rejected
from slastream.model.events import DownlinkAck, DownlinkCommand, Event, UplinkReceived
from slastream.sources import chirpstack_gateway, router

from . import phy
from .golden import load_cases, run_case

CASES = load_cases("chirpstack_gateway")
GW = "0016c001f153a14c"
UP = f"eu868/gateway/{GW}/event/up"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden(case: dict[str, Any]) -> None:
    run_case(case)


def up_payload(frame: bytes, crc: str | None = "CRC_OK") -> dict[str, Any]:
    rx: dict[str, Any] = {"gatewayId": GW, "uplinkId": 1, "rssi": -80}
    if crc is not None:
        rx["crcStatus"] = crc
    return {"phyPayload": phy.b64(frame), "txInfo": {"frequency": 868100000}, "rxInfo": rx}


def decode(topic: str, payload: Any, received_ms: int = 1_000) -> tuple[str, str, list[Event]]:
    out: list[Event] = []
    _, outcome, reason = router.decode(topic, payload, received_ms, out)
    return outcome, reason, out


def test_three_gateway_copies_give_three_events_with_the_same_identity() -> None:
    # One uplink heard by three gateways: the decoder reports each copy; the SLI dedups
    # them by (DevAddr, FCnt), so they must agree on both.
    frame = phy.data_frame(phy.UNCONF_UP, 0x260B5972, 300, fport=1, payload=b"\x01")
    events: list[Event] = []
    for gw in ("0016c001f153a14c", "50303541b0344750", "503035416e314750"):
        out: list[Event] = []
        router.decode(f"eu868/gateway/{gw}/event/up", up_payload(frame), 5_000, out)
        events += out
    assert [(e.devaddr, e.fcnt16) for e in events if isinstance(e, UplinkReceived)] == [
        (0x260B5972, 300)
    ] * 3
    assert {e.gateway for e in events if isinstance(e, UplinkReceived)} == {
        "0016c001f153a14c",
        "50303541b0344750",
        "503035416e314750",
    }


def test_bad_crc_copy_is_not_counted() -> None:
    frame = phy.data_frame(phy.UNCONF_UP, 0x260B5972, 8, fport=1, payload=b"a")
    outcome, reason, out = decode(UP, up_payload(frame, crc="BAD_CRC"))
    assert (outcome, reason, out) == ("ignored", "bad CRC", [])


def test_time_is_the_bridge_clock_not_the_gateway_clock() -> None:
    frame = phy.data_frame(phy.CONF_UP, 0x01DFBAF2, 12, fport=2, payload=b"\x00")
    payload = up_payload(frame)
    payload["rxInfo"]["gwTime"] = "2024-01-24T16:47:01.573381+00:00"
    _, _, out = decode(UP, payload, received_ms=1_790_812_801_250)
    assert out == [UplinkReceived(1_790_812_801_250, 0x01DFBAF2, 12, GW, "eu868", True, 2)]


@pytest.mark.parametrize(
    "frame",
    [
        phy.join_request(1, 2, 3),
        phy.rejoin_request(),
        phy.proprietary(),
        phy.join_accept(),
        phy.data_frame(phy.UNCONF_DOWN, 1, 1),
        phy.data_frame(phy.CONF_DOWN, 1, 1),
    ],
    ids=["join-request", "rejoin", "proprietary", "join-accept", "unconf-down", "conf-down"],
)
def test_frames_that_are_not_data_uplinks_are_ignored(frame: bytes) -> None:
    assert decode(UP, up_payload(frame)) == ("ignored", "not a data uplink", [])


def test_short_data_frame_is_rejected_but_short_join_request_is_only_ignored() -> None:
    assert decode(UP, up_payload(phy.data_frame(phy.UNCONF_UP, 1, 1)[:11]))[0] == "rejected"
    # A truncated join-request is not ours to judge: it never counts as a data uplink.
    assert decode(UP, up_payload(phy.join_request(1, 2, 3)[:5]))[0] == "ignored"


def test_fopts_and_fport_do_not_shift_devaddr_or_fcnt() -> None:
    frame = phy.data_frame(
        phy.UNCONF_UP, 0xDEADBEEF, 0xBEEF, fctrl=0xE0, fopts=bytes(15), fport=224, payload=b"z"
    )
    _, _, out = decode(UP, up_payload(frame))
    assert out == [UplinkReceived(1_000, 0xDEADBEEF, 0xBEEF, GW, "eu868", False, 224)]


def test_region_and_gateway_come_from_the_topic() -> None:
    frame = phy.data_frame(phy.UNCONF_UP, 0x260B5972, 1, fport=1, payload=b"a")
    _, _, out = decode("us915_1/gateway/aa555a0000000101/event/up", up_payload(frame))
    assert out == [UplinkReceived(1_000, 0x260B5972, 1, "aa555a0000000101", "us915_1", False,
                                 1)]


def test_downlink_command_and_its_ack_share_gateway_and_id() -> None:
    frame = phy.data_frame(phy.UNCONF_DOWN, 0x260B5972, 9, fctrl=0x20)
    down = {
        "downlinkId": 4242,
        "gatewayId": GW,
        "items": [
            {"phyPayload": phy.b64(frame), "txInfo": {"timing": {"delay": {"delay": "1s"}}}},
            {"phyPayload": phy.b64(frame), "txInfo": {"timing": {"delay": {"delay": "2s"}}}},
        ],
    }
    ack = {"gatewayId": GW, "downlinkId": 4242, "items": [{"status": "TOO_LATE"}, {"status": "OK"}]}
    _, _, cmd = decode(f"eu868/gateway/{GW}/command/down", down, 2_000)
    _, _, acks = decode(f"eu868/gateway/{GW}/event/ack", ack, 2_400)
    assert cmd == [DownlinkCommand(2_000, GW, 4242, 0x260B5972, (1000, 2000), False)]
    assert acks == [DownlinkAck(2_400, GW, 4242, ("TOO_LATE", "OK"))]


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1s", 1000),
        ("2s", 2000),
        ("0s", 0),
        ("1.5s", 1500),
        ("1.500s", 1500),
        ("1.000250s", 1000),
        ("15.000000001s", 15000),
        ("0.032s", 32),
    ],
)
def test_duration_ms(text: str, ms: int) -> None:
    assert chirpstack_gateway.duration_ms(text, "delay") == ms


@pytest.mark.parametrize("text", ["1", "s", "1m", "-1s", "1.s5", "1e3s", "+1s", " 1s", "١s", 1])
def test_duration_ms_rejects(text: Any) -> None:
    with pytest.raises(Rejected):
        chirpstack_gateway.duration_ms(text, "delay")
