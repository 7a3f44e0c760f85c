"""The bridge (with a real Tansu) against a scripted MQTT broker: a session takeover and a
malformed packet are logged, counted by reason, and followed by a reconnect."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from slastream.ingest import packets
from slastream.ingest.bridge import Bridge
from tests.brokers import KafkaBroker
from tests.ingest.fakebroker import CONNACK_V5_OK, FakeBroker
from tests.ingest.test_packets import publish
from tests.integration.test_mqtt_security import settings_for

pytestmark = pytest.mark.integration

TAKEN_OVER = bytes([0xE0, 1, packets.SESSION_TAKEN_OVER])


def qos3() -> bytes:
    packet = bytearray(publish("t", b"x", qos=1, packet_id=1))
    packet[0] |= 0x06
    return bytes(packet)


@pytest.mark.parametrize(("bad", "reason"), [
    (TAKEN_OVER, "session taken over"),
    (qos3(), "malformed packet"),
], ids=["takeover", "malformed"])
async def test_the_bridge_counts_why_it_lost_the_connection_and_reconnects(
        tansu: KafkaBroker, bad: bytes, reason: str) -> None:
    broker = FakeBroker(lambda c: CONNACK_V5_OK, after_subscribe=bad, once=True)
    async with broker.running():
        settings = settings_for(f"mqtt://127.0.0.1:{broker.port}", tansu.bootstrap,
                                [f"t/{uuid.uuid4().hex}"], None)
        bridge = Bridge(settings)
        async with bridge.running():
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while bridge.stats().connects < 2 and loop.time() < deadline:
                await asyncio.sleep(0.05)
            stats = bridge.stats()
    assert stats.connects == 2
    assert stats.mqtt_errors == {reason: 1}
    assert broker.levels == [packets.V5, packets.V5]
    if reason == "malformed packet":
        assert broker.received[0].endswith(bytes([0xE0, 1, packets.MALFORMED_PACKET]))
