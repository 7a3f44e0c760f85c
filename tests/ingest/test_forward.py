"""The bridge's Kafka side against a producer whose sends fail for a while (a Kafka outage):
nothing is acknowledged to MQTT before Kafka has it, every record gets through in the end,
reading pauses during the outage and the state changes are reported once each.

The producer is a stand-in: what is tested is the retry logic, not Kafka (the integration
tests stop a real broker, tests/integration/test_outages.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import orjson
import pytest

from slastream.ingest import forward
from slastream.ingest.connection import MqttConnection, Segment
from slastream.ingest.decoder import Decoder
from slastream.ingest.forward import Forwarder
from slastream.ingest.inbox import Inbox
from slastream.transport.kafka import EventProducer, OutRecord, SendFuture


class FlakyProducer:
    """Fails every send while ``down``; records what it accepted, in order."""

    def __init__(self) -> None:
        self.down = False
        self.accepted: list[bytes] = []

    def records(self, events: list[Any]) -> list[OutRecord]:
        return [OutRecord("service", orjson.dumps(list(ev)), None, 0, 1) for ev in events]

    def raw_record(self, stream: str, value: bytes, key: str | None) -> OutRecord:
        return OutRecord(stream, value, key, 0, 0)

    async def send(self, record: OutRecord) -> SendFuture:
        future: SendFuture = asyncio.get_running_loop().create_future()
        if self.down:
            future.set_exception(OSError("broker away"))
        else:
            self.accepted.append(record.value)
            future.set_result(None)
        return future


class AckingConnection:
    def __init__(self) -> None:
        self.acked: list[int] = []
        self.paused = False
        self.pause_changes: list[bool] = []

    def ack(self, words: list[int]) -> None:
        self.acked += words


def probe_segment(conn: AckingConnection, seq: int) -> Segment:
    payload = orjson.dumps({"time": "2026-10-01T00:00:00Z", "ok": True, "latency_ms": seq})
    return Segment(cast(MqttConnection, conn), 0, ["slastream/probe/api"], [payload], [seq])


async def test_a_kafka_outage_holds_acks_and_loses_nothing(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(forward, "BACKOFF_INITIAL_S", 0.01)
    monkeypatch.setattr(forward, "BACKOFF_MAX_S", 0.02)
    conn = AckingConnection()
    producer = FlakyProducer()
    inbox = Inbox(1000)
    stopping = asyncio.Event()
    fwd = Forwarder(inbox, Decoder(), "kafka:9092", stopping, conn.pause_changes.append)
    task = asyncio.create_task(fwd.run(cast(EventProducer, producer), None))
    caplog.set_level(logging.WARNING, "slastream.bridge")

    inbox.put(probe_segment(conn, 1))
    await asyncio.sleep(0.05)
    assert conn.acked == [1] and fwd.kafka.connected
    producer.down = True
    for seq in (2, 3, 4):
        inbox.put(probe_segment(conn, seq))
    await asyncio.sleep(0.2)  # several retries, all failing
    assert conn.acked == [1]  # nothing Kafka does not have is acknowledged
    assert not fwd.kafka.connected and conn.pause_changes == [True]
    assert fwd.kafka.problem() is not None
    producer.down = False
    await asyncio.sleep(0.2)
    assert conn.acked == [1, 2, 3, 4]
    assert fwd.kafka.connected and conn.pause_changes == [True, False]
    assert [orjson.loads(v)[4] for v in producer.accepted] == [1.0, 2.0, 3.0, 4.0]
    changes = [r.getMessage() for r in caplog.records]
    assert len(changes) == 2, changes  # gone once, back once: not once per retry
    inbox.close()
    await asyncio.wait_for(task, 5)


async def test_a_stop_while_kafka_is_away_gives_up_without_acknowledging(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forward, "BACKOFF_INITIAL_S", 0.01)
    conn = AckingConnection()
    producer = FlakyProducer()
    producer.down = True
    inbox = Inbox(1000)
    stopping = asyncio.Event()
    fwd = Forwarder(inbox, Decoder(), "kafka:9092", stopping, conn.pause_changes.append)
    task = asyncio.create_task(fwd.run(cast(EventProducer, producer), None))
    inbox.put(probe_segment(conn, 1))
    await asyncio.sleep(0.1)
    stopping.set()
    inbox.close()
    await asyncio.wait_for(task, 5)
    assert conn.acked == []  # the MQTT broker keeps it and sends it again
    assert fwd.drained.is_set()
