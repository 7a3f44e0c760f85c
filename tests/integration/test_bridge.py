"""The bridge against a real Mosquitto and a real Tansu (no mocks at the boundary).

Publishers are aiomqtt clients, an MQTT implementation independent of the bridge's own.
Each test uses its own Kafka topic prefix, MQTT topics and client ids, so tests sharing the
session brokers do not see each other's traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
import yaml

from slastream.config import parse_settings
from slastream.embedded import Mosquitto
from slastream.ingest.bridge import OUTAGE_TOPIC, Bridge
from slastream.model.events import OUTAGE_OPEN, BridgeOutage, Event, ProbeResult
from slastream.model.spec import Settings
from slastream.model.time import format_rfc3339_ms, now_ms, parse_rfc3339_ms
from slastream.sources.capture import Message, parse_line
from slastream.transport import codec
from slastream.transport.kafka import Partitioner, Record, RecordReader
from tests.brokers import KafkaBroker, MqttBroker

pytestmark = pytest.mark.integration

BASE_MS = parse_rfc3339_ms("2026-10-01T00:00:00Z")
WAIT_S = 60.0  # generous upper bound for "eventually"; never an assertion on speed


def make_settings(mqtt_url: str, bootstrap: str, topics: list[str], *,
                  shared_group: str | None = None, partitions: int = 4) -> Settings:
    mqtt: dict[str, Any] = {"url": mqtt_url, "topics": topics, "qos": 1,
                            "client_id": f"bridge-{uuid.uuid4().hex[:8]}"}
    if shared_group:
        mqtt["shared_group"] = shared_group
    return parse_settings({
        "slos": [{"name": "probe", "sli": "probe", "component": "api", "objective": 0.999}],
        "mqtt": mqtt,
        "kafka": {"bootstrap": bootstrap, "topic_prefix": f"t{uuid.uuid4().hex[:10]}",
                  "partitions": partitions},
    })


def probe(seq: int) -> bytes:
    """A probe result whose ``latency_ms`` carries a sequence number, to find it again."""
    return orjson.dumps({"time": format_rfc3339_ms(BASE_MS + seq * 1000), "ok": seq % 5 != 0,
                         "status": 200 if seq % 5 else 503, "latency_ms": seq})


def expected_probe(component: str, seq: int) -> ProbeResult:
    return ProbeResult(BASE_MS + seq * 1000, component, seq % 5 != 0,
                       200 if seq % 5 else 503, float(seq))


@contextlib.asynccontextmanager
async def publisher(broker: MqttBroker | Mosquitto, name: str) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(broker.host, broker.port, identifier=name,
                              protocol=aiomqtt.ProtocolVersion.V5) as client:
        yield client


async def read_until(bootstrap: str, topics: list[str], done: Any,
                     timeout_s: float = WAIT_S) -> list[Record]:
    """Records of ``topics`` from the start, until ``done(records)`` or the timeout."""
    records: list[Record] = []
    async with RecordReader(bootstrap, topics) as reader:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not done(records) and loop.time() < deadline:
            records += await reader.poll(0.5)
    return records


def events_of(records: list[Record]) -> list[Event]:
    return [ev for r in records for ev in codec.decode_batch(r.value)]


def topic(settings: Settings, stream: str) -> str:
    return codec.topic_name(settings.kafka.topic_prefix, stream)


def probes_by_seq(events: list[Event]) -> dict[int, ProbeResult]:
    return {int(ev.latency_ms): ev for ev in events
            if isinstance(ev, ProbeResult) and not math.isnan(ev.latency_ms)}


async def test_published_probes_arrive_in_kafka_as_keyed_batches(
        mosquitto: MqttBroker, tansu: KafkaBroker, tmp_path: Path) -> None:
    component = f"api-{uuid.uuid4().hex[:6]}"
    settings = make_settings(mosquitto.url, tansu.bootstrap, [f"slastream/probe/{component}"])
    capture = tmp_path / "capture.jsonl"
    n = 600
    async with Bridge(settings).running():
        pass  # creates the persistent session and its subscription, then disconnects
    # Published while no bridge runs: the broker queues them for the session (QoS 1).
    async with publisher(mosquitto, f"pub-{component}") as client:
        for seq in range(n):
            await client.publish(f"slastream/probe/{component}", probe(seq), qos=1)
    async with Bridge(settings, capture).running() as bridge:
        records = await read_until(tansu.bootstrap, [topic(settings, codec.SERVICE)],
                                   lambda rs: len(events_of(rs)) >= n)
    got = events_of(records)
    assert sorted(got) == sorted(expected_probe(component, s) for s in range(n))
    assert len(records) < n / 10, "events travel in batches, not one record per event"
    # Every record went to the partition Kafka's default partitioner gives its key.
    partitions = settings.kafka.partitions
    for r in records:
        assert r.key == component.encode()
        assert r.partition == Partitioner().hash(component) % partitions
    assert bridge.ingest_totals() == {("probe", "ok"): n}

    lines = capture.read_bytes().splitlines()
    messages = [parse_line(line, i) for i, line in enumerate(lines, 1)]
    assert all(isinstance(m, Message) for m in messages)
    assert [(m.topic, m.payload) for m in messages if isinstance(m, Message)] == [
        (f"slastream/probe/{component}", orjson.loads(probe(s))) for s in range(n)]


async def test_malformed_messages_are_dead_lettered_and_counted(
        mosquitto: MqttBroker, tansu: KafkaBroker) -> None:
    component = f"api-{uuid.uuid4().hex[:6]}"
    probe_topic = f"slastream/probe/{component}"
    settings = make_settings(mosquitto.url, tansu.bootstrap, [probe_topic])
    bad = [b"not json at all", b'{"ok": true}', b'{"time": "yesterday", "ok": true}',
           b"\xff\xfe binary"]
    good = 200
    async with Bridge(settings).running() as bridge:
        async with publisher(mosquitto, f"pub-{component}") as client:
            for seq in range(good):
                await client.publish(probe_topic, probe(seq), qos=1)
                if seq % 50 == 0:
                    await client.publish(probe_topic, bad[seq // 50], qos=1)
        dead_topic = topic(settings, codec.DEADLETTER)
        records = await read_until(
            tansu.bootstrap, [topic(settings, codec.SERVICE), dead_topic],
            lambda rs: (len(events_of([r for r in rs if r.topic != dead_topic])) >= good
                        and sum(r.topic == dead_topic for r in rs) >= len(bad)))
        totals = bridge.ingest_totals()
        stats = bridge.stats()
    letters = [codec.decode_deadletter(r.value) for r in records if r.topic == dead_topic]
    assert sorted(d["payload"] for d in letters) == sorted(bad)
    assert all(d["topic"] == probe_topic and d["reason"] and d["source"] == "probe"
               for d in letters)
    assert {d["payload"]: d["reason"] for d in letters}[b'{"ok": true}'] == "missing time"
    good_events = events_of([r for r in records if r.topic != dead_topic])
    assert sorted(good_events) == sorted(expected_probe(component, s) for s in range(good))
    assert totals == {("probe", "ok"): good, ("probe", "rejected"): len(bad)}
    assert stats.deadlettered == len(bad)


async def test_broker_restart_mid_stream_loses_nothing_at_qos1(
        tansu: KafkaBroker, tmp_path: Path) -> None:
    component = f"api-{uuid.uuid4().hex[:6]}"
    probe_topic = f"slastream/probe/{component}"
    capture = tmp_path / "capture.jsonl"
    n = 1000
    async with Mosquitto() as broker:
        settings = make_settings(broker.url, tansu.bootstrap, [probe_topic])
        published = asyncio.Event()
        halfway = asyncio.Event()

        async def publish_all() -> None:
            # A QoS 1 publisher with a persistent session that retries until the broker
            # acknowledged each message (duplicates are allowed at QoS 1, losses are not).
            seq = 0
            while seq < n:
                try:
                    async with aiomqtt.Client(broker.host, broker.port, identifier="pub-" +
                                              component, clean_session=False) as client:
                        while seq < n:
                            await client.publish(probe_topic, probe(seq), qos=1)
                            seq += 1
                            if seq == n // 2:
                                halfway.set()
                except aiomqtt.MqttError:
                    await asyncio.sleep(0.1)
            published.set()

        bridge = Bridge(settings, capture, keepalive_s=5)
        async with bridge.running():
            async with asyncio.TaskGroup() as tg:
                tg.create_task(publish_all())
                await halfway.wait()
                await broker.restart()  # SIGTERM: Mosquitto saves its sessions, then restarts
            await published.wait()
            service = topic(settings, codec.SERVICE)
            records = await read_until(tansu.bootstrap, [service],
                                       lambda rs: len(probes_by_seq(events_of(rs))) >= n)
            control = await read_until(tansu.bootstrap, [topic(settings, codec.CONTROL)],
                                       lambda rs: len(events_of(rs)) >= 2)
            stats = bridge.stats()
    got = probes_by_seq(events_of(records))
    assert sorted(got) == list(range(n)), f"lost: {sorted(set(range(n)) - set(got))[:20]}"
    assert all(got[s] == expected_probe(component, s) for s in range(n))
    assert stats.connects >= 2, "the bridge reconnected by itself"
    assert len(stats.outages) >= 1
    outage = stats.outages[0]
    assert outage.bridge == bridge.client_id and outage.start_ms <= outage.end_ms
    # announced open when the connection dropped, then closed
    assert events_of(control)[:2] == [outage._replace(end_ms=OUTAGE_OPEN), outage]
    lines = [parse_line(line) for line in capture.read_bytes().splitlines()]
    outage_lines = [m for m in lines if isinstance(m, Message) and m.topic == OUTAGE_TOPIC]
    assert len(outage_lines) == 2 * len(stats.outages)
    assert outage_lines[0].received_ms == outage.start_ms
    assert outage_lines[1].received_ms == outage.end_ms
    assert BridgeOutage(parse_rfc3339_ms(outage_lines[1].payload["start"]),
                        parse_rfc3339_ms(outage_lines[1].payload["end"]),
                        outage_lines[1].payload["bridge"]) == outage


async def test_bridges_on_a_shared_subscription_split_the_load(
        mosquitto: MqttBroker, tansu: KafkaBroker) -> None:
    component = f"api-{uuid.uuid4().hex[:6]}"
    probe_topic = f"slastream/probe/{component}"
    settings = make_settings(mosquitto.url, tansu.bootstrap, [probe_topic],
                             shared_group=f"g{uuid.uuid4().hex[:6]}")
    n = 1000
    first = Bridge(settings, client_id=f"{settings.mqtt.client_id}-1")
    second = Bridge(settings, client_id=f"{settings.mqtt.client_id}-2")
    async with first.running(), second.running():
        async with publisher(mosquitto, f"pub-{component}") as client:
            for seq in range(n):
                await client.publish(probe_topic, probe(seq), qos=1)
        records = await read_until(tansu.bootstrap, [topic(settings, codec.SERVICE)],
                                   lambda rs: len(events_of(rs)) >= n)
        counts = [b.stats().received for b in (first, second)]
    assert sorted(probes_by_seq(events_of(records))) == list(range(n))
    assert len(events_of(records)) == n, "each message went to one bridge of the group"
    assert all(c > 0 for c in counts) and sum(counts) == n


async def start_bridge_process(config: Path, log: Path, record: Path) -> asyncio.subprocess.Process:
    """``slastream bridge -c CONFIG --record FILE`` as users run it; returns once subscribed."""
    with log.open("ab") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "slastream", "bridge", "-c", str(config),
            "--record", str(record), stdout=asyncio.subprocess.DEVNULL, stderr=err)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    subscribed = log.read_text().count("subscribed to")
    while loop.time() < deadline and proc.returncode is None:
        if log.read_text().count("subscribed to") > subscribed:
            return proc
        await asyncio.sleep(0.05)
    raise AssertionError(f"bridge did not subscribe:\n{log.read_text()}")


async def test_bridge_process_killed_mid_stream_loses_nothing_at_qos1(
        mosquitto: MqttBroker, tansu: KafkaBroker, tmp_path: Path) -> None:
    component = f"api-{uuid.uuid4().hex[:6]}"
    probe_topic = f"slastream/probe/{component}"
    settings = make_settings(mosquitto.url, tansu.bootstrap, [probe_topic])
    config = tmp_path / "bridge.yaml"
    config.write_text(yaml.safe_dump({
        "slos": [{"name": "probe", "sli": "probe", "component": "api", "objective": 0.999}],
        "mqtt": {"url": mosquitto.url, "topics": [probe_topic], "qos": 1,
                 "client_id": settings.mqtt.client_id},
        "kafka": {"bootstrap": tansu.bootstrap, "topic_prefix": settings.kafka.topic_prefix},
    }))
    log, record = tmp_path / "bridge.log", tmp_path / "capture.jsonl"
    n = 2000
    proc = await start_bridge_process(config, log, record)
    async with publisher(mosquitto, f"pub-{component}") as client:
        for seq in range(n):
            await client.publish(probe_topic, probe(seq), qos=1)
            if seq == n // 2:
                proc.kill()  # SIGKILL: no drain, no goodbye; unacknowledged messages stay
                await proc.wait()
    proc = await start_bridge_process(config, log, record)
    try:
        records = await read_until(tansu.bootstrap, [topic(settings, codec.SERVICE)],
                                   lambda rs: len(probes_by_seq(events_of(rs))) >= n)
    finally:
        proc.terminate()
        returncode = await proc.wait()
    got = probes_by_seq(events_of(records))
    assert sorted(got) == list(range(n)), f"lost: {sorted(set(range(n)) - set(got))[:20]}"
    assert returncode == 0, log.read_text()[-2000:]
    recorded = {int(m.payload["latency_ms"]) for m in map(parse_line, record.read_bytes()
                                                          .splitlines()) if isinstance(m, Message)}
    # The first process's unflushed tail may be missing; the broker re-sent those messages
    # to the second one, which recorded them.
    assert recorded == set(range(n))


async def test_a_full_queue_pauses_the_reader_and_drops_nothing_at_qos0(
        tansu: KafkaBroker) -> None:
    component = f"api-{uuid.uuid4().hex[:6]}"
    probe_topic = f"slastream/probe/{component}"
    n = 5000
    # Mosquitto queues QoS 0 messages for an offline persistent session only when told to;
    # the backlog then arrives in reads far larger than the bridge's queue of 100.
    async with Mosquitto(extra_config="queue_qos0_messages true\n") as broker:
        settings = make_settings(broker.url, tansu.bootstrap, [probe_topic])
        settings = dataclasses.replace(
            settings, mqtt=dataclasses.replace(settings.mqtt, qos=0, queue_size=100))
        async with Bridge(settings).running():
            pass  # the session and its subscription
        async with publisher(broker, f"pub-{component}") as client:
            for seq in range(n):
                await client.publish(probe_topic, probe(seq), qos=0)
        async with Bridge(settings).running() as bridge:
            records = await read_until(tansu.bootstrap, [topic(settings, codec.SERVICE)],
                                       lambda rs: len(events_of(rs)) >= n)
            stats = bridge.stats()
    assert sorted(probes_by_seq(events_of(records))) == list(range(n))
    assert stats.reader_pauses >= 1, "the reader was paused, not the messages dropped"
    assert stats.received == n


async def test_a_silent_broker_is_noticed_by_keepalive_and_recorded_as_an_outage(
        tansu: KafkaBroker) -> None:
    component = f"api-{uuid.uuid4().hex[:6]}"
    probe_topic = f"slastream/probe/{component}"
    async with Mosquitto() as broker:
        settings = make_settings(broker.url, tansu.bootstrap, [probe_topic])
        bridge = Bridge(settings, keepalive_s=1)
        async with bridge.running():
            frozen_ms = now_ms()
            broker.freeze()  # TCP stays up, nothing answers: only Keep Alive can tell
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_S
            while bridge.connected.is_set() and loop.time() < deadline:
                await asyncio.sleep(0.1)
            assert not bridge.connected.is_set()
            broker.thaw()
            await asyncio.wait_for(bridge.connected.wait(), WAIT_S)
            control = await read_until(tansu.bootstrap, [topic(settings, codec.CONTROL)],
                                       lambda rs: len(events_of(rs)) >= 2)
            stats = bridge.stats()
    assert len(stats.outages) == 1
    outage = stats.outages[0]
    assert events_of(control) == [outage._replace(end_ms=OUTAGE_OPEN), outage]
    # The window starts when the broker went silent (no packet after the freeze), not when
    # the silence was noticed (1.5 keep-alive periods later).
    assert outage.start_ms <= frozen_ms + 50 < outage.end_ms
