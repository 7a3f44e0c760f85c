"""PHYPayload parsing, checked against frames decoded by hand and against the test builder."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slastream.errors import Rejected
from slastream.sources import lorawan

from . import phy


def test_reference_gateway_uplink_decoded_by_hand() -> None:
    # gKb+agGABQABOIc6cwQ= = 80 | a6 fe 6a 01 | 80 | 05 00 | 01 | 38 | 87 3a 73 04
    #   MHDR 0x80: MType 100 (confirmed data up), Major 0
    #   DevAddr little-endian a6 fe 6a 01 -> 0x016AFEA6; FCtrl 0x80 (ADR); FCnt 0x0005
    #   FOptsLen 0, FPort 1, FRMPayload 0x38, MIC 873a7304
    frame = lorawan.parse_frame(lorawan.b64_bytes("gKb+agGABQABOIc6cwQ=", "phyPayload"))
    assert frame == lorawan.Frame(
        mtype=lorawan.CONFIRMED_DATA_UP,
        major=0,
        devaddr=0x016AFEA6,
        fctrl=0x80,
        fcnt16=5,
        fopts_len=0,
        fport=1,
        mic=bytes.fromhex("873a7304"),
    )
    assert frame.is_uplink and frame.is_data and frame.confirmed


def test_reference_downlink_decoded_by_hand() -> None:
    # YKb+agGgAwCSzNbb = 60 | a6 fe 6a 01 | a0 | 03 00 | 92 cc d6 db
    #   MType 011 (unconfirmed data down), same DevAddr 0x016AFEA6, FCtrl 0xA0 (ADR + ACK:
    #   it acknowledges the confirmed uplink above), FCnt 3, no FPort, MIC 92ccd6db
    frame = lorawan.parse_frame(lorawan.b64_bytes("YKb+agGgAwCSzNbb", "phyPayload"))
    assert frame == lorawan.Frame(
        lorawan.UNCONFIRMED_DATA_DOWN, 0, 0x016AFEA6, 0xA0, 3, 0, -1, bytes.fromhex("92ccd6db")
    )
    assert not frame.is_uplink and not frame.confirmed


@given(
    mtype=st.sampled_from([phy.UNCONF_UP, phy.CONF_UP, phy.UNCONF_DOWN, phy.CONF_DOWN]),
    devaddr=st.integers(0, 0xFFFFFFFF),
    fcnt=st.integers(0, 0xFFFFFFFF),
    fctrl=st.integers(0, 0xF0),
    fopts=st.binary(max_size=15),
    fport=st.one_of(st.none(), st.integers(0, 255)),
    payload=st.binary(max_size=64),
    mic=st.binary(min_size=4, max_size=4),
)
def test_builder_round_trip(
    mtype: int,
    devaddr: int,
    fcnt: int,
    fctrl: int,
    fopts: bytes,
    fport: int | None,
    payload: bytes,
    mic: bytes,
) -> None:
    raw = phy.data_frame(
        mtype, devaddr, fcnt, fctrl=fctrl, fopts=fopts, fport=fport, payload=payload, mic=mic
    )
    frame = lorawan.parse_frame(raw)
    assert (frame.mtype, frame.devaddr, frame.fcnt16) == (mtype, devaddr, fcnt & 0xFFFF)
    assert (frame.fopts_len, frame.fport, frame.mic) == (
        len(fopts),
        -1 if fport is None else fport,
        mic,
    )
    assert lorawan.data_frame_header(raw)[1:] == (devaddr, fcnt & 0xFFFF)


@pytest.mark.parametrize(
    ("raw", "mtype"),
    [
        (phy.join_request(0x70B3D57ED0000001, 0x0004A30B001C0530, 7), lorawan.JOIN_REQUEST),
        (phy.join_accept(), lorawan.JOIN_ACCEPT),
        (phy.join_accept(bytes(28)), lorawan.JOIN_ACCEPT),
        (phy.rejoin_request(), lorawan.REJOIN_REQUEST),
        (phy.proprietary(), lorawan.PROPRIETARY),
    ],
    ids=["join-request", "join-accept", "join-accept-cflist", "rejoin", "proprietary"],
)
def test_non_data_frames_are_recognised(raw: bytes, mtype: int) -> None:
    frame = lorawan.parse_frame(raw)
    assert frame.mtype == mtype
    assert not frame.is_data
    assert (frame.devaddr, frame.fcnt16, frame.fport) == (-1, -1, -1)
    assert lorawan.MTYPE_NAMES[frame.mtype]


def test_major_is_reported() -> None:
    assert lorawan.parse_frame(phy.data_frame(phy.UNCONF_UP, 1, 1, major=1)).major == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        phy.data_frame(phy.UNCONF_UP, 1, 1)[:11],
        phy.data_frame(phy.UNCONF_UP, 1, 1, fopts=b"\x01\x02")[:13],
        phy.join_accept()[:16],
        phy.join_request(1, 2, 3)[:22],
    ],
    ids=["empty", "data-11-bytes", "fopts-overrun", "join-accept-16", "join-request-22"],
)
def test_truncated_frames_are_rejected(raw: bytes) -> None:
    with pytest.raises(Rejected):
        lorawan.parse_frame(raw)


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("gKb+agGABQABOIc6cwQ=", "80a6fe6a018005000138873a7304"),
        ("gKb-agGABQABOIc6cwQ", "80a6fe6a018005000138873a7304"),  # URL-safe, unpadded
        ("gKb+agGABQABOIc6cwQ", "80a6fe6a018005000138873a7304"),  # unpadded
        ("", ""),
    ],
)
def test_b64_bytes_accepts_protobuf_json_forms(text: str, raw: str) -> None:
    assert lorawan.b64_bytes(text, "phyPayload") == bytes.fromhex(raw)


@pytest.mark.parametrize("text", ["gKb+agG ABQ==", "***", "é", "=gKb", b"gKb+", 12, None])
def test_b64_bytes_rejects_garbage(text: object) -> None:
    with pytest.raises(Rejected, match="phyPayload"):
        lorawan.b64_bytes(text, "phyPayload")


@given(st.binary(max_size=300))
def test_b64_bytes_round_trip(raw: bytes) -> None:
    assert lorawan.b64_bytes(base64.b64encode(raw).decode(), "x") == raw
    assert lorawan.b64_bytes(base64.urlsafe_b64encode(raw).decode().rstrip("="), "x") == raw
