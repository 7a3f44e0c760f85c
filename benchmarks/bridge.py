"""Bridge throughput, MQTT → Kafka, against bare MQTT subscribers on the same broker.

    .venv/bin/python benchmarks/bridge.py [--messages N] [--publishers P]

One run, one private Mosquitto and one Tansu, both on free loopback ports:

1. every subscriber under test first connects once with a persistent session (MQTT 5,
   Clean Start 0, QoS 1 subscription to ``slastream/#``) and leaves;
2. P concurrent publishers (QoS 1, pipelined, see below) publish N probe results (~300-byte
   JSON, 32 components), so the broker queues N messages for each session;
3. each subscriber in turn, alone on the machine, drains its queue; its rate is messages
   divided by the time from its first message to its last (for the bridge: to the last
   message whose events Kafka has acknowledged, which is when the bridge acknowledges it).

Draining a backlog measures what the subscriber can take, not what the publishers manage
to send: on a 2-core machine, publishers running at the same time would take the CPU the
subscriber needs, and every subscriber would measure the publishers.

Subscribers: ``paho`` (paho-mqtt 2 ``loop()`` counting in ``on_message``; ``paho311``
the same over MQTT 3.1.1, which spares paho a ``Properties`` object per message), ``aiomqtt``
(``async for`` over ``client.messages``, counting), ``asyncio`` (the bridge's own MQTT
connection acknowledging at once, counting: the MQTT side alone), and ``bridge``
(``slastream.ingest.bridge.Bridge``: decode, produce to Kafka, acknowledge). Targets
(docs/architecture.md#performance): the bridge at >= 50,000 msg/s and >= 80 % of a bare
subscriber (the ``asyncio`` one is the bridge's own MQTT side: the ratio to it is what the
decode, encode and produce steps cost). Then the CPU each subscriber, Mosquitto and Tansu
spent per message from the subscriber's first message to its last (``/proc``: the three
share the machine's cores, and Mosquitto spends more per message on a slower consumer), how
many messages a socket read brought (the MQTT side's cost falls with bigger reads), and
the per-stage costs of the bridge's CPU work on the same messages, without brokers: decode,
route and group, encode (columnar, and the JSON records of version 1 for comparison), and
the decode step on simulated ChirpStack traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from slastream.config import parse_settings
from slastream.embedded import Mosquitto, Tansu
from slastream.ingest import packets
from slastream.ingest.bridge import Bridge
from slastream.ingest.connection import Segment
from slastream.ingest.decoder import Decoder
from slastream.ingest.forward import CHUNK_MESSAGES
from slastream.model.events import Event
from slastream.model.spec import Settings
from slastream.model.time import format_rfc3339_ms, now_ms, parse_rfc3339_ms
from slastream.simulate import lorawan_day, write_capture
from slastream.transport import codec
from slastream.transport.kafka import (
    MAX_EVENTS_PER_RECORD,
    EventProducer,
    RecordReader,
    all_topics,
)

from bridge_subscribers import (  # isort: skip  (this directory's module)
    BROKER_PIDS, IDLE_S, TOPIC_FILTER, broker_cpu, broker_result, run_role)

COMPONENTS = 32
TARGET_MSG_S = 50_000
TARGET_RATIO = 0.80
PARTITIONS = 4


def payloads(count: int, offset: int) -> list[tuple[str, bytes]]:
    base = parse_rfc3339_ms("2026-10-01T00:00:00Z")
    out = []
    for i in range(offset, offset + count):
        body = {"time": format_rfc3339_ms(base + i), "ok": i % 17 != 0,
                "status": 200 if i % 17 else 503, "latency_ms": 20 + i % 400,
                "note": "x" * 180}  # pads to ~300 bytes (docs/architecture.md#performance)
        out.append((f"slastream/probe/c{i % COMPONENTS}", orjson.dumps(body)))
    return out


# ---------------------------------------------------------------------- publishers
# A pipelined QoS 1 publisher speaking MQTT 3.1.1 on a raw stream: Python-side publishing
# with paho or aiomqtt costs more CPU per message than the broker does
# (docs/architecture.md#performance: one
# aiomqtt publisher caps at 14k msg/s at QoS 0, 6.7k at QoS 1), and on 2 cores the load
# generator would otherwise take most of the time of the run.

WINDOW = 2000  # QoS 1 messages in flight per connection


async def publish_connection(port: int, messages: list[tuple[str, bytes]], index: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(packets.connect_packet(f"bench-pub-{index}", version=packets.V311,
                                        keepalive_s=60, clean_start=True, session_expiry_s=0,
                                        receive_maximum=WINDOW))
    connack = await reader.readexactly(4)
    if connack[3] != 0:
        raise RuntimeError(f"publisher refused: {connack!r}")
    acked = 0

    async def count_acks() -> None:
        nonlocal acked
        while acked < len(messages):
            data = await reader.read(1 << 16)
            if not data:
                raise RuntimeError("publisher connection closed")
            acked += len(data) // 4  # a 3.1.1 PUBACK is exactly 4 bytes

    # Reads arrive in whole PUBACKs in practice; a split one is counted on the next read.
    acks = asyncio.create_task(count_acks())
    for start in range(0, len(messages), WINDOW // 2):
        while start - acked > WINDOW // 2:
            await asyncio.sleep(0.001)
        chunk = []
        for i, (topic, body) in enumerate(messages[start:start + WINDOW // 2], start):
            packet_id = i % 65535 + 1
            payload = packets.utf8(topic) + struct.pack("!H", packet_id) + body
            chunk.append(b"\x32" + packets.varint(len(payload)) + payload)
        writer.write(b"".join(chunk))
        await writer.drain()
    await acks
    writer.write(b"\xe0\x00")
    writer.close()


async def publish_all(port: int, total: int, publishers: int) -> float:
    share = total // publishers
    batches = [payloads(share + (total % publishers if i == 0 else 0), i * share)
               for i in range(publishers)]
    started = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for i, batch in enumerate(batches):
            tg.create_task(publish_connection(port, batch, i))
    return total / (time.perf_counter() - started)


def measure_subprocess(role: str, port: int, total: int, client_id: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--role", role, "--port", str(port),
                          "--messages", str(total), "--client-id", client_id,
                          "--broker-pids", ",".join(map(str, BROKER_PIDS))],
                         check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------- the bridge


def bench_settings(mqtt_url: str, bootstrap: str, client_id: str) -> Settings:
    return parse_settings({
        "slos": [{"name": "probe", "sli": "probe", "component": "c0", "objective": 0.999}],
        "mqtt": {"url": mqtt_url, "topics": [TOPIC_FILTER], "qos": 1, "client_id": client_id},
        "kafka": {"bootstrap": bootstrap, "topic_prefix": "bench", "partitions": PARTITIONS},
    })


async def measure_bridge(mqtt_url: str, bootstrap: str, total: int, client_id: str,
                         register_only: bool = False) -> dict[str, Any]:
    settings = bench_settings(mqtt_url, bootstrap, client_id)
    bridge = Bridge(settings)
    if register_only:
        async with bridge.running():
            return {}
    first = last = cpu_first = cpu_last = 0.0
    reads = 0  # socket reads (segments) decoded
    decode = bridge._decoder.decode

    def counting(segments: list[Segment], *args: Any) -> list[tuple[str, bytes]]:
        nonlocal reads
        reads += len(segments)
        return decode(segments, *args)

    bridge._decoder.decode = counting  # type: ignore[method-assign]
    brokers_first: list[float] = []
    brokers_last: list[float] = []
    # Not ``bridge.running()``: that returns once subscribed, and the broker sends the queued
    # backlog before the SUBACK, so the clock must start with the first message received.
    task = asyncio.create_task(bridge.run())
    idle_since = time.perf_counter()
    while not task.done():
        await asyncio.sleep(0.005)
        s = bridge.stats()
        now = time.perf_counter()
        if (s.received or s.queue_depth) and not first:
            first, cpu_first = now, time.process_time()
            brokers_first = broker_cpu()
        if s.acknowledged >= total:
            last, cpu_last = now, time.process_time()
            brokers_last = broker_cpu()
            break
        if s.queue_depth or s.acknowledged < s.received or not first:
            idle_since = now
        elif now - idle_since > IDLE_S:
            last, cpu_last = idle_since, time.process_time()
            brokers_last = broker_cpu()
            break
    bridge.stop()
    await task
    stats = bridge.stats()
    events = 0
    async with RecordReader(bootstrap, [codec.topic_name("bench", codec.SERVICE)]) as reader:
        async for record in reader.records(2.0):
            events += len(codec.decode_batch(record.value))
    return {"messages": stats.acknowledged, "seconds": last - first, "kafka_events": events,
            "cpu_seconds": cpu_last - cpu_first,
            **broker_result(brokers_first if first else [], brokers_last if last else []),
            "kafka_records": stats.records, "deadlettered": stats.deadlettered, "reads": reads,
            "queue_high_water": stats.queue_high_water}


# ---------------------------------------------------------------- per-stage costs


STAGES = ("decode", "route + group", "encode (columnar)", "encode (JSON, v1)")


def stage_costs(total: int, chunk_size: int = CHUNK_MESSAGES) -> dict[str, float]:
    """CPU microseconds per message (of this thread: other processes on a loaded machine
    do not count) of the bridge's stages between the inbox and the
    producer, on the benchmark's messages in chunks of ``chunk_size`` (as the bridge takes
    them from its inbox), no broker (the producer's partition counts are set as Kafka
    would report them)."""
    messages = payloads(total, 0)
    kafka = bench_settings("mqtt://127.0.0.1:1", "127.0.0.1:1", "stages").kafka
    producer = EventProducer(kafka, create_topics=False)
    producer._partitions = dict.fromkeys(all_topics(kafka), kafka.partitions)
    decoder = Decoder()
    spent = dict.fromkeys(STAGES, 0.0)
    clock = time.thread_time
    for i in range(0, total, chunk_size):
        chunk = messages[i:i + chunk_size]
        segment = Segment(None, now_ms(), [t for t, _ in chunk], [p for _, p in chunk], [])
        events: list[Event] = []
        t0 = clock()
        decoder.decode([segment], events, None)
        t1 = clock()
        groups = producer.group(events)
        spent[STAGES[0]] += t1 - t0
        spent[STAGES[1]] += clock() - t1
        # the encoder that runs first finds the events colder in the CPU caches: alternate
        encoders = [(STAGES[2], codec.encode_batch), (STAGES[3], codec.encode_json_batch)]
        for stage, encode in encoders[::1 if i // chunk_size % 2 else -1]:
            t2 = clock()
            for _key, group in groups.values():
                for j in range(0, len(group), MAX_EVENTS_PER_RECORD):
                    encode(group[j:j + MAX_EVENTS_PER_RECORD])
            spent[stage] += clock() - t2
    return {stage: seconds / total * 1e6 for stage, seconds in spent.items()}


def lorawan_messages(count: int) -> list[tuple[str, bytes]]:
    """(topic, payload) of about ``count`` messages of a simulated LoRaWAN network (the
    replay benchmark's: ChirpStack gateway copies, integration events, downlinks, their
    acknowledgements), as the bridge would receive them."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lorawan.jsonl"
        # lorawan_day(): 10,000 devices every 10 minutes, about 60 messages a second
        write_capture(path, lorawan_day(), parse_rfc3339_ms("2026-10-01T00:00:00Z"),
                      count / 60, seed=1)
        with open(path, "rb") as fh:
            lines = [orjson.loads(line) for line in fh]
    return [(line["topic"], orjson.dumps(line["payload"])) for line in lines[:count]]


def lorawan_decode_cost(count: int, chunk_size: int) -> float:
    """CPU microseconds per message of the bridge's decode step on LoRaWAN traffic (plain
    gateway and integration uplinks read in C, the rest through the router)."""
    messages = lorawan_messages(count)
    decoder = Decoder()
    events: list[Event] = []
    started = time.thread_time()
    for i in range(0, len(messages), chunk_size):
        chunk = messages[i:i + chunk_size]
        decoder.decode([Segment(None, now_ms(), [t for t, _ in chunk], [p for _, p in chunk],
                                [])], events, None)
        events.clear()
    return (time.thread_time() - started) / len(messages) * 1e6


def print_stage_costs(total: int, results: dict[str, dict[str, Any]]) -> None:
    bridge = results.get("bridge", {})
    chunk = CHUNK_MESSAGES
    if bridge.get("kafka_records"):  # one record per partition a chunk touched
        chunk = max(1, min(chunk, round(bridge["messages"] * PARTITIONS
                                        / bridge["kafka_records"])))
    costs = stage_costs(total, chunk)
    print(f"per-stage cost of the bridge, us/message (CPU stages, no broker; chunks of "
          f"{chunk:,} messages, the run's average):")
    for stage in STAGES:
        print(f"  {stage:<24} {costs[stage]:7.3f}")
    print(f"  {'decode, LoRaWAN':<24} {lorawan_decode_cost(100_000, chunk):7.3f}  (not in the "
          f"run above: simulated ChirpStack gateway and integration messages)")
    for name in ("bridge", "asyncio"):
        if results.get(name, {}).get("rate"):
            print(f"  {'whole ' + name:<24} {1e6 / results[name]['rate']:7.3f}  "
                  f"(wall time per message in the run above)")
    if bridge.get("cpu_seconds"):
        cpu_us = 1e6 * bridge["cpu_seconds"] / bridge["messages"]
        print(f"  {'bridge process CPU':<24} {cpu_us:7.3f}  (the rest of its wall time waits "
              f"for the brokers, which share the cores)")


# ---------------------------------------------------------------------- main


async def run(total: int, publishers: int, subscribers: list[str]) -> None:
    async with Mosquitto() as mqtt, Tansu() as kafka:
        BROKER_PIDS[:] = [mqtt.pid or 0, kafka.pid or 0]
        print(f"Mosquitto {mqtt.url}, Tansu {kafka.bootstrap}; {total:,} messages, "
              f"{publishers} publishers, QoS 1, backlog drained by one subscriber at a time")
        ids = {name: f"bench-{name}" for name in subscribers}
        for name in subscribers:  # persistent sessions with their subscriptions
            if name == "bridge":
                await measure_bridge(mqtt.url, kafka.bootstrap, total, ids[name], True)
            else:
                await asyncio.to_thread(measure_subprocess, name, mqtt.port, 1, ids[name])
        # the registration may have taken a message from an earlier run: none exist here
        rate = await publish_all(mqtt.port, total, publishers)
        print(f"published: {rate:,.0f} msg/s")
        results: dict[str, dict[str, Any]] = {}
        for name in subscribers:
            if name == "bridge":
                result = await measure_bridge(mqtt.url, kafka.bootstrap, total, ids[name])
            else:
                result = await asyncio.to_thread(measure_subprocess, name, mqtt.port, total,
                                                 ids[name])
            result["rate"] = result["messages"] / result["seconds"] if result["seconds"] else 0
            results[name] = result
            extra = ""
            if name == "bridge":
                extra = (f"  (Kafka: {result['kafka_events']:,} events in "
                         f"{result['kafka_records']:,} records)")
            print(f"  {name:8s} {result['messages']:>9,} msgs in {result['seconds']:6.2f} s"
                  f" = {result['rate']:>9,.0f} msg/s{extra}")
        report(results)
        print_cpu(results)
        print_stage_costs(min(total, 200_000), results)


def print_cpu(results: dict[str, dict[str, Any]]) -> None:
    """CPU per message of each process while a subscriber drained: on 2 cores the three
    share, so the subscriber's rate is bounded by what the others leave it."""
    print("CPU per message from a subscriber's first message to its last, us (its own, "
          "and the brokers'):")
    for name, r in results.items():
        n = r["messages"] or 1
        own = f"{1e6 * r['cpu_seconds'] / n:6.3f}" if r.get("cpu_seconds") else "     -"
        reads = f"  {n / r['reads']:5.1f} msgs/read" if r.get("reads") else ""
        print(f"  {name:8s} subscriber {own}  mosquitto {1e6 * r['mosquitto_cpu'] / n:6.3f}"
              f"  tansu {1e6 * r['tansu_cpu'] / n:6.3f}  (wall {1e6 / (r['rate'] or 1):6.3f})"
              f"{reads}")


def report(results: dict[str, dict[str, Any]]) -> None:
    bridge = results.get("bridge")
    if bridge is None:
        return
    ok_abs = bridge["rate"] >= TARGET_MSG_S
    print(f"bridge: {bridge['rate']:,.0f} msg/s vs target {TARGET_MSG_S:,}: "
          f"{'met' if ok_abs else 'NOT met'}")
    for name in ("paho", "paho311", "aiomqtt", "asyncio"):
        if name in results and results[name]["rate"]:
            ratio = bridge["rate"] / results[name]["rate"]
            verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
            print(f"bridge / bare {name:8s}: {ratio:6.1%} (target >= {TARGET_RATIO:.0%}: "
                  f"{verdict})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--publishers", type=int, default=4)
    p.add_argument("--subscribers", default="paho,paho311,aiomqtt,asyncio,bridge",
                   help="comma-separated: paho, paho311, aiomqtt, asyncio, bridge")
    p.add_argument("--role", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--client-id", help=argparse.SUPPRESS)
    p.add_argument("--broker-pids", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.role:
        BROKER_PIDS.extend(int(pid) for pid in args.broker_pids.split(",") if pid)
        run_role(args.role, args.port, args.messages, args.client_id)
        return 0
    asyncio.run(run(args.messages, args.publishers, args.subscribers.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

