"""ChirpStack's Protobuf marshaler on gateway topics without a region prefix, live through a
real Mosquitto and Tansu: the bridge records the binary payloads (``payload_b64``), the
worker's ledger equals ``slastream replay`` of that capture, and the delivery and RX2 counts
equal those of the same traffic in JSON on prefixed topics, replayed offline.

The traffic is generated, then published as fast as the broker takes it (QoS 1, one
connection, in generation order), so the live run lasts seconds, not the simulated minutes:
its receive times (the bridge's clock) differ from the generated ones, which is why the live
ledger is compared with the replay of the bridge's own capture, and only the event counts
(which do not depend on when within the deadlines a message came) with the JSON replay.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest

from slastream.config import load_settings
from slastream.model.time import Month, now_ms
from slastream.simulate import Outages, Scenario, Window, generate
from slastream.sources.capture import Message, read_capture
from tests.acceptance.test_marshalers import START_MS, as_protobuf, write
from tests.brokers import KafkaBroker, MqttBroker
from tests.integration.live import live_pipeline, replayed
from tests.integration.test_live import (
    WAIT_S,
    comparable,
    partitions_with_data,
    wait_complete,
    write_config,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UNPREFIXED = ("gateway/+/event/up", "gateway/+/event/ack", "gateway/+/command/down")
IN_FLIGHT = 1000  # publish calls started before waiting for their acknowledgements


def traffic() -> list[Message]:
    """Five simulated minutes of a small network, with a delivery and a downlink outage
    (so that both SLIs count bad events too); no probes or request logs."""
    scenario = Scenario(
        devices=30, uplink_interval_s=10.0, gateways=3, downlink_share=0.2,
        probe_components=(), request_components=(),
        outages=Outages(delivery=(Window(60, 60),), downlink=(Window(150, 60),),
                        probe=(), slow=(), maintenance=None))
    return list(generate(scenario, START_MS, 300.0, seed=23))


def raw(payload: Any) -> bytes:
    """The bytes to publish: a binary payload as is, a JSON value serialised."""
    return payload if isinstance(payload, bytes) else orjson.dumps(payload)


async def publish_in_order(url: str, messages: list[Message]) -> None:
    """Publish at QoS 1 over one connection, in list order (so each topic's order is kept).

    A publish call hands its message to paho before its first wait, and tasks start in
    the order they were created: ``IN_FLIGHT`` calls at a time keep the order and the pace.
    """
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    async with aiomqtt.Client(host, int(port), identifier=f"pb-{uuid.uuid4().hex[:8]}",
                              protocol=aiomqtt.ProtocolVersion.V5) as client:
        for i in range(0, len(messages), IN_FLIGHT):
            await asyncio.gather(*(client.publish(m.topic, raw(m.payload), qos=1)
                                   for m in messages[i:i + IN_FLIGHT]))



def by_topic(messages: list[Message]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = defaultdict(list)
    for m in messages:
        out[m.topic].append(raw(m.payload))
    return dict(out)


def counts(ledger: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {e["name"]: e["events"] for e in ledger["slos"] if e["name"] in ("delivery", "rx2")}


def test_protobuf_on_unprefixed_topics_live_equals_replay_and_counts_like_json(
        tansu: KafkaBroker, mosquitto: MqttBroker, tmp_path: Path) -> None:
    name = f"livepb{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, tansu.bootstrap, name, mosquitto.url)
    settings = load_settings(config)
    assert set(UNPREFIXED) <= set(settings.mqtt.topics)  # the default subscription
    messages = traffic()
    converted = [as_protobuf(m) for m in messages]
    binary = [m for m in converted if isinstance(m.payload, bytes)]
    assert len(binary) == sum("/gateway/" in m.topic for m in messages) > 500
    assert all(m.topic.startswith("gateway/") for m in binary)
    capture = tmp_path / "capture.jsonl"

    async def run() -> tuple[dict[str, Any], str]:
        async with live_pipeline(settings, capture) as url:
            started = now_ms()
            await publish_in_order(mosquitto.url, converted)
            end = now_ms()
            month = Month.containing(started, "UTC").label
            parts = partitions_with_data(settings, converted)
            assert parts > 0  # else the wait below would not wait for any data
            ledger = await asyncio.to_thread(
                wait_complete, url, month, end, parts, time.monotonic() + WAIT_S)
        return ledger, month

    live_ledger, month = asyncio.run(run())

    # the bridge recorded every message as published, the Protobuf ones as payload_b64
    recorded = [m for m in read_capture(str(capture)) if isinstance(m, Message)]
    ours = [m for m in recorded if not m.topic.startswith("slastream/")]
    assert by_topic(ours) == by_topic(converted)
    lines = [orjson.loads(line) for line in capture.read_bytes().splitlines()]
    b64 = [line["topic"] for line in lines if "payload_b64" in line]
    assert sorted(b64) == sorted(m.topic for m in binary)

    # the worker's ledger is the replay of the bridge's capture ...
    offline = replayed(config, capture, month)
    assert comparable(live_ledger) == comparable(offline)
    assert live_ledger["inputs"]["rejected"] == offline["inputs"]["rejected"] == 0
    assert offline["inputs"]["messages"] == len(recorded)

    # ... and counts the uplinks and downlinks the JSON, region-prefixed traffic counts
    as_json = replayed(config, write(tmp_path / "json.jsonl", messages),
                     Month.containing(START_MS, "UTC").label)
    expected = counts(as_json)
    assert counts(live_ledger) == counts(offline) == expected
    assert expected["delivery"]["total"] > 500
    assert 0 < expected["delivery"]["good"] < expected["delivery"]["total"]
    assert expected["rx2"]["total"] > 50
    assert 0 < expected["rx2"]["good"] < expected["rx2"]["total"]
