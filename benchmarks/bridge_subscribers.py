"""The subscribers of benchmarks/bridge.py that are not the bridge, each run in a process of
its own (``bridge.py --role NAME``), and the brokers' CPU time as they measure it."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from slastream.ingest.connection import MqttAddress, SessionOptions, connect_any_version
from slastream.model.time import now_ms

TOPIC_FILTER = "slastream/#"
IDLE_S = 5.0  # a subscriber that receives nothing for this long is done


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


BROKER_PIDS: list[int] = []  # Mosquitto's and Tansu's, set by run() and passed to roles


def broker_cpu() -> list[float]:
    """The brokers' CPU seconds so far: sampled at a subscriber's first and last message,
    so that what they spent meanwhile counts, and not their work before or after."""
    return [cpu_seconds(pid) for pid in BROKER_PIDS]


def broker_result(first: list[float], last: list[float]) -> dict[str, float]:
    spent = [b - a for a, b in zip(first, last, strict=True)] if first and last else [0, 0]
    return {"mosquitto_cpu": spent[0], "tansu_cpu": spent[1]}


# Each subscriber runs in a fresh interpreter (``--role``), like a separate deployment would.


def paho_subscriber(port: int, total: int, client_id: str, v5: bool = True,
                    ) -> dict[str, Any]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    state = {"n": 0, "first": 0.0, "last": 0.0}
    brokers: list[list[float]] = [[], []]

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        now = time.perf_counter()
        if not state["n"]:
            state["first"] = now
            brokers[0] = broker_cpu()
        state["n"] += 1
        state["last"] = now
        if state["n"] == total:
            brokers[1] = broker_cpu()

    if v5:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        client.on_message = on_message
        client.connect("127.0.0.1", port, clean_start=False, properties=props)
    else:  # MQTT 3.1.1: paho builds no Properties per message
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv311, clean_session=False)
        client.on_message = on_message
        client.connect("127.0.0.1", port)
    client.subscribe(TOPIC_FILTER, 1)
    started = time.perf_counter()
    while state["n"] < total:
        client.loop(0.5)
        if time.perf_counter() - (state["last"] or started) > IDLE_S:
            break
    client.disconnect()
    return {"messages": state["n"], "seconds": state["last"] - state["first"],
            **broker_result(brokers[0], brokers[1] or broker_cpu())}


async def aiomqtt_subscriber(port: int, total: int, client_id: str) -> dict[str, Any]:
    import aiomqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    n, first, last = 0, 0.0, 0.0
    async with aiomqtt.Client("127.0.0.1", port, identifier=client_id,
                              protocol=aiomqtt.ProtocolVersion.V5, clean_start=False,
                              properties=props) as client:
        await client.subscribe(TOPIC_FILTER, qos=1)
        messages = aiter(client.messages)
        while n < total:
            try:
                await asyncio.wait_for(anext(messages), IDLE_S)
            except TimeoutError:
                break
            last = time.perf_counter()
            if not n:
                first = last
                brokers_first = broker_cpu()
            n += 1
        brokers_last = broker_cpu()
    return {"messages": n, "seconds": last - first,
            **broker_result(brokers_first if n else [], brokers_last)}


async def asyncio_subscriber(port: int, total: int, client_id: str) -> dict[str, Any]:
    """The bridge's MQTT connection alone: count, acknowledge at once."""
    state = {"n": 0, "first": 0.0, "last": 0.0, "reads": 0}
    brokers: list[list[float]] = [[], []]
    done = asyncio.Event()

    def deliver(segment: Any) -> None:
        now = time.perf_counter()
        if not state["n"]:
            state["first"] = now
            state["cpu_first"] = time.process_time()
            brokers[0] = broker_cpu()
        state["n"] += len(segment.topics)
        state["reads"] += 1
        state["last"] = now
        state["cpu_last"] = time.process_time()
        segment.conn.ack(segment.acks)
        if state["n"] >= total:
            brokers[1] = broker_cpu()
            done.set()

    conn, _ = await connect_any_version(MqttAddress("127.0.0.1", port),
                                        SessionOptions(client_id), deliver, now_ms)
    await conn.subscribe([TOPIC_FILTER], 1)
    started = time.perf_counter()
    while not done.is_set() and time.perf_counter() - (state["last"] or started) < IDLE_S:
        await asyncio.sleep(0.05)
    conn.close()
    return {"messages": state["n"], "seconds": state["last"] - state["first"],
            "cpu_seconds": state.get("cpu_last", 0.0) - state.get("cpu_first", 0.0),
            "reads": state["reads"], **broker_result(brokers[0], brokers[1] or broker_cpu())}


def run_role(role: str, port: int, total: int, client_id: str) -> None:
    if role in ("paho", "paho311"):
        result = paho_subscriber(port, total, client_id, v5=role == "paho")
    elif role == "aiomqtt":
        result = asyncio.run(aiomqtt_subscriber(port, total, client_id))
    else:
        result = asyncio.run(asyncio_subscriber(port, total, client_id))
    print(json.dumps(result))
