"""The connection against a scripted broker: when it falls back to MQTT 3.1.1 (only when
told to), and how it closes on packets it cannot accept."""

from __future__ import annotations

import asyncio

import pytest

from slastream.errors import BrokerError
from slastream.ingest import packets
from slastream.ingest.connection import (
    MqttAddress,
    MqttConnection,
    Segment,
    SessionOptions,
    connect_any_version,
)
from slastream.ingest.packets import V5, V311

from .fakebroker import CONNACK_V5_OK, CONNACK_V311_OK, FakeBroker
from .test_packets import publish

OPTIONS = SessionOptions(client_id="bridge", connect_timeout_s=1.0, max_packet_size=1024)


def refuse_v5_with(refusal: bytes) -> FakeBroker:
    return FakeBroker(lambda connect: refusal if connect[8] == V5 else CONNACK_V311_OK)


async def connect(broker: FakeBroker,
                  received: list[Segment] | None = None) -> MqttConnection:
    got = received if received is not None else []
    conn, _ = await connect_any_version(MqttAddress("127.0.0.1", broker.port), OPTIONS,
                                        got.append, lambda: 0)
    return conn


@pytest.mark.parametrize("refusal", [
    b"\x20\x03\x00\x84\x00",  # MQTT 5 CONNACK, Reason Code 0x84
    b"\x20\x02\x00\x01",  # 3.1.1 CONNACK, return code 1 (unacceptable protocol version)
], ids=["v5-reason-0x84", "v311-return-code-1"])
async def test_falls_back_to_311_when_the_broker_says_it_speaks_no_5(refusal: bytes) -> None:
    broker = refuse_v5_with(refusal)
    async with broker.running():
        conn, _ = await connect_any_version(MqttAddress("127.0.0.1", broker.port), OPTIONS,
                                            lambda s: None, lambda: 0)
        assert conn.version == V311
        conn.close()
        # Not sticky: the next connect asks for MQTT 5 again.
        conn, _ = await connect_any_version(MqttAddress("127.0.0.1", broker.port), OPTIONS,
                                            lambda s: None, lambda: 0)
        conn.close()
    assert broker.levels == [V5, V311, V5, V311]


@pytest.mark.parametrize("close", [True, False], ids=["close", "silence"])
async def test_a_close_or_silence_is_a_failure_not_a_reason_to_fall_back(close: bool) -> None:
    broker = FakeBroker(lambda c: None, close_after_connect=close)
    async with broker.running():
        with pytest.raises(BrokerError if close else TimeoutError):
            await connect(broker)
    assert broker.levels == [V5]  # one attempt, at MQTT 5


async def test_other_refusals_are_not_a_fallback() -> None:
    broker = refuse_v5_with(b"\x20\x03\x00\x86\x00")  # bad user name or password
    async with broker.running():
        with pytest.raises(BrokerError, match="bad user name or password"):
            await connect(broker)
    assert broker.levels == [V5]


def oversize() -> bytes:
    return publish("t", b"x" * 2000, qos=1, packet_id=1)


def qos3() -> bytes:
    packet = bytearray(publish("t", b"x", qos=1, packet_id=1))
    packet[0] |= 0x06
    return bytes(packet)


@pytest.mark.parametrize(("bad", "code"), [
    (oversize(), packets.PACKET_TOO_LARGE),
    (qos3(), packets.MALFORMED_PACKET),
    (b"\x30\xff\xff\xff\xff\x01", packets.MALFORMED_PACKET),
    (b"\xe0\x05\x8e\x05\x1f\x00\x09", packets.MALFORMED_PACKET),  # truncated DISCONNECT
], ids=["too-large", "qos-3", "remaining-length", "truncated-properties"])
async def test_a_bad_packet_closes_with_its_reason_code(bad: bytes, code: int) -> None:
    good = publish("t", b"fine", qos=1, packet_id=2)
    broker = FakeBroker(lambda c: CONNACK_V5_OK, after_subscribe=good + bad)
    segments: list[Segment] = []
    async with broker.running():
        conn = await connect(broker, segments)
        await conn.subscribe(["t"], 1)
        await asyncio.wait_for(conn.closed, 5)
        await asyncio.sleep(0.05)  # let the broker read what was sent before the close
    assert conn.error_code == code
    assert broker.received[0].endswith(bytes([0xE0, 1, code]))  # DISCONNECT, reason code
    # The good message before it is delivered only when the bad packet is a control
    # packet; either way it is never acknowledged on this closed connection, so the
    # broker re-sends it on the next one.
    assert [t for s in segments for t in s.topics] == (["t"] if bad[0] == 0xE0 else [])
    conn.ack([w for s in segments for w in s.acks])
    assert not broker.received[0].endswith(b"\x40\x02\x00\x02")


async def test_a_311_connection_closes_on_a_bad_packet_without_a_disconnect() -> None:
    broker = FakeBroker(lambda c: b"\x20\x02\x00\x01" if c[8] == V5 else CONNACK_V311_OK,
                        after_subscribe=qos3())
    async with broker.running():
        conn = await connect(broker)
        assert conn.version == V311
        await conn.subscribe(["t"], 1)
        await asyncio.wait_for(conn.closed, 5)
        await asyncio.sleep(0.05)
    assert conn.error_code == packets.MALFORMED_PACKET
    assert conn.problem == "malformed packet"
    assert broker.received[1].endswith(b"\x00\x01t\x01")  # the SUBSCRIBE, then nothing
