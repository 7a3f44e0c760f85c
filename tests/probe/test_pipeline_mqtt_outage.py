"""Through the real pipeline (bridge and worker on a real Mosquitto and Tansu): a Mosquitto
stopped for six minutes of the prober's time is six minutes of downtime of the MQTT
round-trip component, and the bridge's own disconnection is not charged to the network.

The prober runs on a virtual clock (minutes of probing in seconds); the broker, the bridge,
the worker and the LoRaWAN events run in real time. Ten uplinks are delivered well before
the stop; ten published just before it have their delivery deadline inside the bridge's
outage: without the bridge-outage rule (docs/semantics.md#bridge-outages) they would be
lost packets of the network.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.request
import uuid
from typing import Any

import aiomqtt
import orjson
import pytest

from slastream.config import parse_settings
from slastream.embedded import Mosquitto
from slastream.model.probes import MqttCheck, ProberSettings, ProbeSpec
from slastream.model.time import MINUTE_MS, Month, format_rfc3339_ms, now_ms
from slastream.probe.run import run_prober
from slastream.probe.sinks import MqttSink
from slastream.stream.partition import Timing
from slastream.stream.profile import EMBEDDED
from slastream.stream.run import make_bridge, pipeline
from tests.brokers import KafkaBroker
from tests.probe.clock import VirtualClock

pytestmark = pytest.mark.integration
WAIT_S = 150.0
DEADLINE_S = 2


def config(mqtt: str, kafka: str, name: str) -> dict[str, Any]:
    return {
        "timezone": "UTC", "lateness_s": 3,
        "lorawan": {"devaddr_prefixes": ["26000000/7"]},
        "slos": [
            {"name": "delivery", "sli": "delivery", "objective": 0.999,
             "deadline_s": DEADLINE_S, "downtime": {"bad_below": 0.75, "min_events": 1}},
            {"name": "mqtt-availability", "sli": "probe", "component": "mqtt",
             "objective": 0.999, "downtime": {"bad_below": 1.0, "min_duration_s": 60}},
        ],
        "kafka": {"bootstrap": kafka, "topic_prefix": name, "partitions": 2, "app_id": name},
        "mqtt": {"url": mqtt, "client_id": f"bridge-{name}"},
        "http": {"host": "127.0.0.1", "port": 0},
    }


async def publish_uplinks(url: str, first: int, n: int, delivered: bool) -> None:
    host, port = url.split("://")[1].rsplit(":", 1)
    async with aiomqtt.Client(host, int(port), identifier=f"net-{uuid.uuid4().hex[:6]}") as c:
        for i in range(first, first + n):
            t = format_rfc3339_ms(now_ms())
            up = {"time": t, "devaddr": f"{0x26000000 + i:08X}", "fcnt": 1, "gateway": "gw"}
            await c.publish("slastream/uplink/received", orjson.dumps(up), qos=1)
            if delivered:
                await c.publish("slastream/uplink/delivered", orjson.dumps(
                    {**up, "application": "app", "device": f"d{i}"}), qos=1)


def entry(url: str, month: str, name: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/api/ledger?month={month}", timeout=10) as response:
        ledger = json.loads(response.read())
    (slo,) = [s for s in ledger["slos"] if s["name"] == name]
    return dict(slo)


def wait_for(url: str, month: str, name: str, total: int) -> dict[str, Any]:
    """The entry once it counts ``total`` events and two readings in a row agree."""
    deadline = time.monotonic() + WAIT_S
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        seen = entry(url, month, name)
        if dict(seen["events"])["total"] >= total and seen == last:
            return seen
        last = seen
        time.sleep(1.0)
    return last


async def test_a_stopped_broker_is_mqtt_downtime_and_not_network_loss(
        tansu: KafkaBroker) -> None:
    name = f"rt-{uuid.uuid4().hex[:6]}"
    broker = Mosquitto()
    await broker.start()
    settings = parse_settings(config(broker.url, tansu.bootstrap, name), f"{name}.yaml")
    t0 = (now_ms() - 45 * MINUTE_MS) // MINUTE_MS * MINUTE_MS
    # the prober's 30 minutes in one calendar month: the ledger is read for t0's month
    month = Month.containing(t0 + 30 * MINUTE_MS, "UTC")
    if month.start_ms > t0:
        t0 = month.start_ms - 31 * MINUTE_MS
    clock = VirtualClock(t0)
    urls: list[str] = []
    stop, stop_prober = asyncio.Event(), asyncio.Event()
    bridge = make_bridge(settings, EMBEDDED)
    run = asyncio.create_task(pipeline(settings, stop, profile=EMBEDDED, bridge=bridge,
                                       timing=Timing(idle_s=1.0, checkpoint_interval_s=2.0),
                                       on_ready=urls.append))
    spec = ProbeSpec(name="mqtt-rt", component="mqtt", kind="mqtt",
                     check=MqttCheck(broker.url, "probe/roundtrip"), interval_s=20,
                     timeout_s=5)
    sink = MqttSink(broker.url, f"prober-{name}", reconnect_s=0.2)
    prober = asyncio.create_task(run_prober(
        (spec,), ProberSettings(location="lab", http_port=None), sink, stop_prober,
        clock=clock, rng=random.Random(5)))
    try:
        async with asyncio.timeout(WAIT_S):
            await bridge.connected.wait()
            while not urls:
                await asyncio.sleep(0.1)
        await clock.advance(t0 + 10 * MINUTE_MS, tasks=1)
        await publish_uplinks(broker.url, 0, 10, delivered=True)
        # these ten are settled before the outage: their deadlines pass while connected
        await asyncio.sleep(DEADLINE_S + 1)
        await publish_uplinks(broker.url, 10, 10, delivered=False)
        await broker.stop()
        await clock.advance(t0 + 16 * MINUTE_MS, tasks=1)
        await asyncio.sleep(DEADLINE_S + 2)  # the undelivered uplinks' deadlines pass
        await broker.start()
        await clock.advance(t0 + 30 * MINUTE_MS, tasks=1)
        stop_prober.set()
        await prober
        results = sink.sent
        mqtt = await asyncio.to_thread(wait_for, urls[0], Month.containing(t0, "UTC").label,
                                       "mqtt-availability", results)
        delivery = await asyncio.to_thread(
            wait_for, urls[0], Month.containing(now_ms(), "UTC").label, "delivery", 10)
    finally:
        stop_prober.set()
        stop.set()
        failure = await run
        await broker.stop()
    assert failure is None
    assert results >= 85 and sink.dropped == 0
    assert mqtt["downtime_minutes"] == 6.0
    assert [(e["start"], e["end"]) for e in mqtt["episodes"]] == [
        (format_rfc3339_ms(t0 + 10 * MINUTE_MS)[:19] + "Z",
         format_rfc3339_ms(t0 + 16 * MINUTE_MS)[:19] + "Z")]
    assert delivery["downtime_minutes"] == 0.0
    assert dict(delivery["events"]) == {"good": 10, "total": 10}
