"""Broker outages injected against the real pipeline: the ledger stays exact.

Each test publishes simulated traffic over a private Mosquitto into the bridge (which
records every message it decodes, and its own outages, into a capture), injects one
fault, and compares the live ledger with ``slastream replay`` of the capture: the same
messages computed offline, without any broker, so without the fault
(docs/semantics.md#determinism). Kafka is a Tansu that keeps its data in a local S3
server, so a stopped broker comes back with its topics, records and committed offsets.

The Kafka outage lasts ``SLASTREAM_TEST_KAFKA_OUTAGE_S`` seconds (20 by default, so the
default suite stays short; the full-length run sets 60). The other three faults are marked
``slow``: ``pytest -m slow tests/integration/test_outages.py`` runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.config import load_settings
from slastream.embedded import Mosquitto, S3Server, Tansu, free_port
from slastream.ingest.bridge import OUTAGE_TOPIC, Bridge
from slastream.model.time import MINUTE_MS, Month, now_ms
from slastream.simulate import Outages, Scenario, Window
from slastream.simulate.live import publish_live
from slastream.sources.capture import Message, parse_line
from slastream.stream.profile import EMBEDDED
from tests.brokers import KafkaBroker
from tests.integration.live import live_pipeline, metric, replayed
from tests.integration.test_live import comparable, get_json, wait_complete, workers
from tests.stream.helpers import CONFIG

pytestmark = pytest.mark.integration

KAFKA_OUTAGE_S = float(os.environ.get("SLASTREAM_TEST_KAFKA_OUTAGE_S", "20"))
LATENESS_S = 8
WAIT_S = 180.0


# ----------------------------------------------------------------------------- helpers


def write_config(tmp: Path, kafka: str, mqtt: str, name: str) -> Path:
    data = dict(CONFIG)
    data["lateness_s"] = LATENESS_S
    data["kafka"] = {"bootstrap": kafka, "topic_prefix": name, "partitions": 2,
                     "app_id": name}
    data["mqtt"] = {"url": mqtt, "client_id": f"bridge-{name}", "qos": 1}
    data["http"] = {"host": "127.0.0.1", "port": 0}
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def scenario() -> Scenario:
    return Scenario(devices=60, uplink_interval_s=6, gateways=4, downlink_share=0.2,
                    probe_components=("api",), probe_interval_s=2, request_batch_s=2,
                    outages=Outages(delivery=(Window(5, 20),), probe=(Window(10, 20, "api"),),
                                    maintenance=None))


@contextlib.asynccontextmanager
async def durable_kafka() -> AsyncIterator[Tansu]:
    async with S3Server() as s3:
        tansu = Tansu(storage=s3)
        async with tansu:
            yield tansu



def captured(capture: Path) -> list[Message]:
    lines = [parse_line(line) for line in capture.read_bytes().splitlines()]
    return [m for m in lines if isinstance(m, Message)]


def healthz(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            return response.status, dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return exc.code, dict(json.loads(exc.read()))


async def unhealthy(url: str, broker: str) -> None:
    """Wait until /healthz answers 503 naming ``broker`` among its problems."""
    def check() -> bool:
        status, body = healthz(url)
        return status == 503 and any(broker in p for p in body["problems"])

    await until(f"/healthz reporting {broker} away", check)


async def until(what: str, check: Any, timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            got = await asyncio.to_thread(check)
            if got:
                return got
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout_s:g} s")


async def live_ledger(url: str, month: str, end_ms: int) -> dict[str, Any]:
    """The live ledger once the minute of the last message is final everywhere (the
    replay, at the end of its capture, finalises everything)."""
    parts = 2 * len({"lorawan", "service"})  # all have traffic at this rate
    after_last_minute = (end_ms // MINUTE_MS + 1) * MINUTE_MS
    return await asyncio.to_thread(wait_complete, url, month, after_last_minute, parts,
                                   time.monotonic() + WAIT_S)


def assert_exact(live: dict[str, Any], config: Path, capture: Path, month: str,
                 published: int) -> dict[str, Any]:
    """The live ledger is the replayed one, and the capture has every published message."""
    offline = replayed(config, capture, month)
    assert comparable(live) == comparable(offline)
    messages = [m for m in captured(capture) if m.topic != OUTAGE_TOPIC]
    assert len(messages) >= published  # QoS 1: at least once
    assert any(e["downtime_minutes"] > 0 for e in offline["slos"])
    return offline


# ------------------------------------------------------------------------------- tests


def test_kafka_stopped_for_a_minute_is_ridden_out_exactly(tmp_path: Path) -> None:
    """Kafka killed mid-stream for ``KAFKA_OUTAGE_S`` and restarted with its data: the
    process stays up, says so on /healthz and /metrics, and the ledger is exact."""
    capture = tmp_path / "capture.jsonl"

    async def run() -> tuple[dict[str, Any], str, int, Path]:
        async with durable_kafka() as kafka, Mosquitto() as mqtt:
            config = write_config(tmp_path, kafka.bootstrap, mqtt.url, "kafkaout")
            settings = load_settings(config)
            async with live_pipeline(settings, capture) as url:
                started = now_ms()
                publishing = asyncio.create_task(publish_live(
                    scenario(), mqtt.url, KAFKA_OUTAGE_S + 15, 1.0, asyncio.Event(),
                    seed=21, qos=1))
                await asyncio.sleep(8)
                await kafka.kill()
                await unhealthy(url, "Kafka")
                # the bridge notices once Kafka leaves its records unacknowledged
                await until("the bridge reporting Kafka away", lambda: metric(
                    url, "slastream_bridge_kafka_connected") == 0.0, KAFKA_OUTAGE_S)
                await asyncio.sleep(max(0.0, KAFKA_OUTAGE_S - 10))  # ~10 s went by already
                await kafka.start()
                published = await publishing
                end = now_ms()
                month = Month.containing(started, "UTC").label
                ledger = await live_ledger(url, month, end)
                await until("a healthy /healthz", lambda: healthz(url)[0] == 200)
                assert await asyncio.to_thread(
                    metric, url, "slastream_bridge_kafka_connected") == 1.0
        return ledger, month, published, config

    live, month, published, config = asyncio.run(run())
    assert_exact(live, config, capture, month, published)


@pytest.mark.slow
def test_mosquitto_restarted_mid_stream_is_ridden_out_exactly(
        tansu: KafkaBroker, tmp_path: Path) -> None:
    """Mosquitto stopped (its sessions saved) and started again: the bridge reconnects by
    itself, records the outage, and nothing published at QoS 1 is lost."""
    capture = tmp_path / "capture.jsonl"

    async def run() -> tuple[dict[str, Any], str, int, Path]:
        async with Mosquitto() as mqtt:
            config = write_config(tmp_path, tansu.bootstrap, mqtt.url, "mqttout")
            settings = load_settings(config)
            async with live_pipeline(settings, capture) as url:
                started = now_ms()
                published = await publish_live(scenario(), mqtt.url, 10, 1.0,
                                               asyncio.Event(), seed=22, qos=1)
                await mqtt.stop()
                await unhealthy(url, "MQTT")
                assert await asyncio.to_thread(
                    metric, url, "slastream_bridge_mqtt_connected") == 0.0
                await mqtt.start()
                published += await publish_live(scenario(), mqtt.url, 10, 1.0,
                                                asyncio.Event(), seed=23, qos=1)
                end = now_ms()
                month = Month.containing(started, "UTC").label
                ledger = await live_ledger(url, month, end)
                await until("a healthy /healthz", lambda: healthz(url)[0] == 200)
        return ledger, month, published, config

    live, month, published, config = asyncio.run(run())
    assert_exact(live, config, capture, month, published)
    outages = [m for m in captured(capture) if m.topic == OUTAGE_TOPIC]
    assert [("end" in m.payload) for m in outages] == [False, True]  # opened, then closed


@pytest.mark.slow
def test_a_worker_killed_during_a_kafka_outage_resumes_exactly(tmp_path: Path) -> None:
    """Kafka away, the worker SIGKILLed meanwhile, Kafka back, a new worker process: it
    resumes from the checkpoints Kafka kept, and the ledger is exact."""
    capture = tmp_path / "capture.jsonl"

    async def run() -> tuple[dict[str, Any], str, int, Path]:
        async with durable_kafka() as kafka, Mosquitto() as mqtt:
            config = write_config(tmp_path, kafka.bootstrap, mqtt.url, "killedout")
            settings = load_settings(config)
            log = tmp_path / "worker.log"
            bridge = Bridge(settings, capture,
                            one_record_per_batch=EMBEDDED.bridge_one_record_per_batch)
            with workers((config, log)) as (first,):
                async with bridge.running():
                    started = now_ms()
                    month = Month.containing(started, "UTC").label
                    publishing = asyncio.create_task(publish_live(
                        scenario(), mqtt.url, 35, 1.0, asyncio.Event(), seed=24, qos=1))
                    await until("the worker computing", lambda: get_json(
                        f"{first.url}/api/ledger?month={month}")["inputs"]["partitions"])
                    await asyncio.sleep(3)
                    await kafka.kill()
                    await asyncio.sleep(4)
                    first.kill()
                    await asyncio.sleep(6)
                    await kafka.start()
                    with workers((config, log)) as (second,):
                        published = await publishing
                        end = now_ms()
                        ledger = await live_ledger(second.url, month, end)
        return ledger, month, published, config

    live, month, published, config = asyncio.run(run())
    assert_exact(live, config, capture, month, published)


class Relay:
    """A TCP relay between the bridge and Mosquitto that can cut the bridge off while
    everyone else keeps publishing to the broker."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(1 << 16):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


@pytest.mark.slow
def test_a_bridge_outage_longer_than_the_lateness_reaches_the_uplinks_it_covers(
        tansu: KafkaBroker, tmp_path: Path) -> None:
    """The bridge cut off from MQTT for longer than the lateness plus the deadline, while
    the network server keeps publishing at QoS 0: the deliveries of uplinks seen before
    the cut are lost. Ticks must not judge those uplinks before the outage is known; the
    live ledger leaves them out exactly as the replay does."""
    capture = tmp_path / "capture.jsonl"
    gap_s = LATENESS_S + CONFIG["slos"][0]["deadline_s"] + 5

    async def run() -> tuple[dict[str, Any], str, int, Path]:
        async with Mosquitto() as mqtt:
            relay = Relay(mqtt.port)
            await relay.open()
            config = write_config(tmp_path, tansu.bootstrap, relay.url, "bridgeout")
            settings = load_settings(config)
            async with live_pipeline(settings, capture) as url:
                started = now_ms()
                publishing = asyncio.create_task(publish_live(
                    scenario(), mqtt.url, gap_s + 25, 1.0, asyncio.Event(), seed=25, qos=0))
                await asyncio.sleep(10)
                await relay.cut()
                await unhealthy(url, "MQTT")
                await asyncio.sleep(gap_s)
                await relay.open()
                published = await publishing
                end = now_ms()
                month = Month.containing(started, "UTC").label
                ledger = await live_ledger(url, month, end)
            await relay.cut()
        return ledger, month, published, config

    live, month, _, config = asyncio.run(run())
    offline = replayed(config, capture, month)
    assert comparable(live) == comparable(offline)
    assert offline["inputs"]["lorawan"]["bridge_outage_uplinks"] > 0
    outages = [m for m in captured(capture) if m.topic == OUTAGE_TOPIC]
    assert [("end" in m.payload) for m in outages] == [False, True]
