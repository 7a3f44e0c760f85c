"""Live publishing: the generated traffic, paced to the wall clock, over several connections.

A single aiomqtt publisher tops out near 14k msg/s at QoS 0 (docs/architecture.md#performance):
each ``publish`` call waits for its write. So the stream is split over several connections
(by topic, which keeps each topic's order) and each connection runs several publishing
tasks over one bounded queue. aiomqtt errors become ``BrokerError`` here, at the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import secrets
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiomqtt
import orjson

from slastream.errors import BrokerError
from slastream.model.time import now_ms
from slastream.simulate.generator import Simulation, relaxed_gc
from slastream.simulate.scenario import Scenario
from slastream.simulate.world import World

# Per connection; a full queue blocks the producer (backpressure). The end markers need
# room too, which the queue has once it is emptied at the end.
QUEUE_SIZE = 10_000
TASKS_PER_CONNECTION = 8
MSGS_PER_CONNECTION = 8_000  # sizing target, well under one publisher's cap
MAX_CONNECTIONS = 8
_Item = tuple[str, bytes] | None


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> BrokerAddress:
    """``mqtt://[user:pass@]host[:port]`` (``tcp://`` too); raises ``BrokerError``."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise BrokerError(f"MQTT URL must look like mqtt://host:1883, got {url!r}")
    try:
        port = parts.port or 1883
    except ValueError:
        raise BrokerError(f"MQTT URL has a bad port: {url!r}") from None
    return BrokerAddress(parts.hostname, port, parts.username, parts.password)


def connections_for(messages_per_s: float) -> int:
    return max(1, min(MAX_CONNECTIONS, math.ceil(messages_per_s / MSGS_PER_CONNECTION)))


async def publish_live(scenario: Scenario, mqtt_url: str, duration_s: float | None,
                       rate: float, stop_event: asyncio.Event, seed: int = 1,
                       qos: int = 0) -> int:
    """See ``slastream.simulate.live``; returns the number of messages published."""
    if duration_s is not None and duration_s <= 0:
        raise ValueError(f"duration must be positive, got {duration_s!r}")
    address = parse_mqtt_url(mqtt_url)
    scaled = scenario.scaled(rate)
    n = connections_for(scaled.messages_per_s())
    queues: list[asyncio.Queue[_Item]] = [asyncio.Queue(QUEUE_SIZE) for _ in range(n)]
    counts = [0] * n
    # Unique per run: a second simulator (or the demo's) with a reused client id would make
    # the broker disconnect the first (MQTT 3.1.1 §3.1.4, session takeover).
    client_id = f"slastream-simulate-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(aiomqtt.Client(
                    address.host, address.port, username=address.username,
                    password=address.password, identifier=f"{client_id}-{i}"))
                for i in range(n)
            ]
            async with asyncio.TaskGroup() as tg:
                for i, client in enumerate(clients):
                    for _ in range(TASKS_PER_CONNECTION):
                        tg.create_task(_drain(client, queues[i], counts, i, qos))
                tg.create_task(_produce(scaled, duration_s, seed, queues, stop_event))
    except* aiomqtt.MqttError as group:
        raise BrokerError(f"MQTT broker {address.url}: {group.exceptions[0]}") from None
    return sum(counts)


async def _produce(scenario: Scenario, duration_s: float | None, seed: int,
                   queues: list[asyncio.Queue[_Item]], stop_event: asyncio.Event) -> None:
    """Pace the generated stream to the wall clock and hand messages to the connections."""
    n = len(queues)
    # Unbounded generation cut on the clock: a bounded simulation would keep a quiet tail
    # before its end (for its ground truth), which a live run has no use for.
    # The world (hundreds of thousands of devices at a high rate) is built before the
    # clock is read, so that simulated time starts when publishing can.
    with relaxed_gc():
        world = World(scenario, random.Random(seed))
        start = now_ms()
        sim = Simulation(scenario, start, None, seed, world)
    end_ms = None if duration_s is None else start + round(duration_s * 1000)
    dumps = orjson.dumps
    for ms, topic, payload in sim.messages():
        if stop_event.is_set() or (end_ms is not None and ms >= end_ms):
            break
        wall_ms = time.time() * 1000
        if end_ms is not None and wall_ms >= end_ms:
            break  # the publishers fell behind: the run still ends on time
        ahead_s = (ms - wall_ms) / 1000
        if ahead_s > 0.002 and await _stopped_within(stop_event, ahead_s):
            break
        q = queues[zlib.crc32(topic.encode()) % n if n > 1 else 0]
        item = (topic, dumps(payload))
        if q.full():
            await q.put(item)
        else:
            q.put_nowait(item)
    if end_ms is not None and not stop_event.is_set():
        rest_s = (end_ms - now_ms()) / 1000
        if rest_s > 0:
            await _stopped_within(stop_event, rest_s)
    for q in queues:
        # Stopped or out of time: what is still queued would be late, so it is dropped.
        while not q.empty():
            q.get_nowait()
        for _ in range(TASKS_PER_CONNECTION):
            q.put_nowait(None)  # one end marker per publishing task


async def _stopped_within(stop_event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stop_event.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _drain(client: aiomqtt.Client, queue: asyncio.Queue[_Item], counts: list[int],
                 index: int, qos: int) -> None:
    while True:
        item = await queue.get()
        if item is None:
            return
        # The synchronous part of publish (queueing in paho) runs before the first await,
        # so messages leave in the order they were taken from the queue.
        await client.publish(item[0], item[1], qos=qos)
        counts[index] += 1
