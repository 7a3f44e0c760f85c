"""MQTT round-trip probes and the MQTT sink against a real Mosquitto the test starts."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import orjson
import pytest

from slastream.embedded import Mosquitto
from slastream.model.probes import MqttCheck, ProberSettings, ProbeSpec
from slastream.probe.checks import Checker
from slastream.probe.run import run_prober
from slastream.probe.sinks import CaptureSink, MqttSink
from tests.probe.clock import VirtualClock
from tests.probe.replaying import probe_config, replay_ledger, slo_entry

pytestmark = pytest.mark.integration
START_MS = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
MIN_MS = 60_000


def roundtrip(url: str) -> ProbeSpec:
    return ProbeSpec(name="mqtt-rt", component="mqtt", kind="mqtt",
                     check=MqttCheck(url, "probe/roundtrip"), interval_s=20, timeout_s=5)


async def test_round_trip_succeeds_and_fails_with_a_reason_while_the_broker_is_down() -> None:
    broker = Mosquitto()
    await broker.start()
    try:
        async with Checker() as checker:
            up = await checker.run(roundtrip(broker.url))
            await broker.stop()
            down = await checker.run(roundtrip(broker.url))
            await broker.start()
            again = await checker.run(roundtrip(broker.url))
    finally:
        await broker.stop()
    assert up.ok and up.latency_ms is not None and up.reason == ""
    assert not down.ok and down.cause == "mqtt"
    assert "Connection refused" in down.reason and down.reason.startswith("mqtt: ")
    assert again.ok


async def test_a_broker_stopped_for_six_minutes_is_six_minutes_of_downtime(
        tmp_path: Path) -> None:
    broker = Mosquitto()
    await broker.start()
    clock = VirtualClock(START_MS)
    capture = tmp_path / "probes.jsonl"
    stop = asyncio.Event()
    task = asyncio.create_task(run_prober(
        (roundtrip(broker.url),), ProberSettings(location="lab", http_port=None),
        CaptureSink(str(capture), clock.now_ms), stop, clock=clock, rng=random.Random(5)))
    try:
        await clock.advance(START_MS + 10 * MIN_MS, tasks=1)
        await broker.stop()
        await clock.advance(START_MS + 16 * MIN_MS, tasks=1)
        await broker.start()
        await clock.advance(START_MS + 30 * MIN_MS, tasks=1)
        stop.set()
        await task
    finally:
        await broker.stop()
    payloads = [orjson.loads(line)["payload"] for line in capture.read_bytes().splitlines()]
    assert sum(not p["ok"] for p in payloads) >= 18
    slo = slo_entry(replay_ledger(probe_config("mqtt"), capture, tmp_path), "mqtt-availability")
    assert slo["downtime_minutes"] == 6.0
    assert [(e["start"], e["end"]) for e in slo["episodes"]] == [
        ("2026-10-01T00:10:00Z", "2026-10-01T00:16:00Z")]


async def collect(url: str, client_id: str, n: int, seen: set[bytes]) -> list[int]:
    """Reconnect a persistent QoS 1 session and take ``n`` messages queued for it that were
    not ``seen`` before (QoS 1 is at least once: a message whose PUBACK did not reach the
    broker before a disconnect comes again)."""
    host, port = url.split("://")[1].split(":")
    got: list[int] = []
    async with aiomqtt.Client(host, int(port), identifier=client_id,
                              clean_session=False) as sub:
        async with asyncio.timeout(30):
            async for message in sub.messages:
                assert isinstance(message.payload, bytes)
                if message.payload not in seen:
                    seen.add(message.payload)
                    got.append(orjson.loads(message.payload)["n"])
                if len(got) == n:
                    break
    return got


async def test_sink_buffers_while_disconnected_drops_the_oldest_and_delivers_the_rest(
        ) -> None:
    broker = Mosquitto()
    await broker.start()
    host, port = broker.host, broker.port
    try:
        # a persistent subscriber: the broker queues for it while it is away
        async with aiomqtt.Client(host, port, identifier="sub-1", clean_session=False) as sub:
            await sub.subscribe("slastream/probe/#", qos=1)
        sink = MqttSink(broker.url, "test-prober", buffer=3, reconnect_s=0.2)
        for i in range(5):
            sink.send("slastream/probe/api", {"n": i})
        assert (sink.buffered(), sink.dropped) == (3, 2)
        runner = asyncio.create_task(sink.run())
        seen: set[bytes] = set()
        assert await collect(broker.url, "sub-1", 3, seen) == [2, 3, 4]
        await broker.stop()
        sink.send("slastream/probe/api", {"n": 5})
        sink.send("slastream/probe/api", {"n": 6})
        await broker.start()
        assert await collect(broker.url, "sub-1", 2, seen) == [5, 6]
        sink.close()
        await runner
        assert sink.sent == 5 and sink.dropped == 2 and sink.buffered() == 0
    finally:
        await broker.stop()
