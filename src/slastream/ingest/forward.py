"""The bridge's Kafka side: decode chunks, produce them, acknowledge to MQTT what Kafka has,
and ride out Kafka outages of any length.

::

    Inbox ──▶ decode loop ──(records, futures)──▶ in-flight queue ──▶ ack loop ──▶ PUBACK

While Kafka is unavailable (a send failed, or nothing was acknowledged for
``STALL_S``) the decode loop takes nothing more from the inbox and the bridge stops reading
the MQTT socket: at QoS 1 the backlog stays with the broker, which holds what the bridge
has not acknowledged. The ack loop keeps every record of a failed send and sends it again,
in order, with capped exponential backoff, until Kafka has it; only then are its messages
acknowledged. So a Kafka outage loses nothing, and a record is written again only when
Kafka failed to confirm it (at least once, as after a crash of the bridge:
docs/architecture.md#the-bridge).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiokafka.errors import KafkaError

from slastream.errors import BrokerError
from slastream.health import Backoff, Link, sleep_unless
from slastream.ingest.connection import Segment
from slastream.ingest.decoder import Decoder
from slastream.ingest.inbox import Inbox
from slastream.ingest.recorder import CaptureRecorder
from slastream.transport import codec
from slastream.transport.kafka import EventProducer, OutRecord, SendFuture

log = logging.getLogger("slastream.bridge")

CHUNK_MESSAGES = 8192  # decoded and produced together: ~2,000 events per record at 4 partitions
MAX_CHUNKS_IN_FLIGHT = 64  # chunks sent to Kafka but not yet acknowledged by it
STALL_S = 10.0  # no acknowledgement for this long: Kafka counts as unavailable
BACKOFF_INITIAL_S = 0.1
BACKOFF_MAX_S = 10.0
_SEND_ERRORS = (KafkaError, BrokerError, OSError)


class _Pending:
    __slots__ = ("future", "record", "sent_s")

    def __init__(self, record: OutRecord, future: SendFuture) -> None:
        self.record = record
        self.future = future
        self.sent_s = time.monotonic()


class _Chunk:
    __slots__ = ("pending", "segments")

    def __init__(self, pending: list[_Pending], segments: list[Segment]) -> None:
        self.pending = pending
        self.segments = segments


class Forwarder:
    """Decode and ack loops around one producer; ``kafka`` is the link's health.

    ``pause_reading(True)`` is called when Kafka becomes unavailable and
    ``pause_reading(False)`` when it is back; ``stopping`` makes the loops give up what
    Kafka cannot take (unacknowledged messages stay with the MQTT broker).
    """

    def __init__(self, inbox: Inbox, decoder: Decoder, bootstrap: str,
                 stopping: asyncio.Event, pause_reading: Callable[[bool], None]) -> None:
        self.kafka = Link(f"Kafka {bootstrap}", log)
        self.events = 0
        self.acknowledged = 0
        self.in_flight = 0  # chunks sent and not yet acknowledged by Kafka
        self.drained = asyncio.Event()
        self._inbox = inbox
        self._decoder = decoder
        self._stopping = stopping
        self._pause_reading = pause_reading
        self._ok = asyncio.Event()

    async def run(self, producer: EventProducer, recorder: CaptureRecorder | None) -> None:
        """Until the inbox is closed and drained, or a stop gives up on Kafka."""
        self.kafka.up()
        self._ok.set()
        queue: asyncio.Queue[_Chunk | None] = asyncio.Queue(MAX_CHUNKS_IN_FLIGHT)
        try:
            async with asyncio.TaskGroup() as tg:
                decode = tg.create_task(self._decode_loop(producer, recorder, queue))
                await self._ack_loop(producer, queue, recorder)
                decode.cancel()  # finished already, unless the ack loop gave up
        finally:
            self.drained.set()

    async def _decode_loop(self, producer: EventProducer, recorder: CaptureRecorder | None,
                           queue: asyncio.Queue[_Chunk | None]) -> None:
        while await self._kafka_ok() and (segments := await self._inbox.get(CHUNK_MESSAGES)):
            events: list[Any] = []
            dead = self._decoder.decode(segments, events, recorder)
            records = producer.records(events) if events else []
            records += [producer.raw_record(codec.DEADLETTER, v, k) for k, v in dead]
            if not await self._kafka_ok():
                break
            pending = [_Pending(r, await self._send(producer, r)) for r in records]
            self.events += len(events)
            self.in_flight += 1
            await queue.put(_Chunk(pending, segments))  # full: Kafka is behind; wait
        await queue.put(None)  # the inbox is closed and empty, or we stop with Kafka away

    async def _ack_loop(self, producer: EventProducer, queue: asyncio.Queue[_Chunk | None],
                        recorder: CaptureRecorder | None) -> None:
        """Acknowledge to the broker, in the order received (MQTT 5.0 §4.6), what Kafka has.

        With ``--record``, the capture lines are written first too: a message the broker
        considers delivered is in Kafka and in the capture, so a crash leaves the capture
        complete (the broker re-sends the rest; they are recorded again, at least once).
        """
        while (chunk := await queue.get()) is not None:
            self.in_flight -= 1
            for pending in chunk.pending:
                if not await self._delivered(producer, pending):
                    return  # stopping while Kafka is away: the broker keeps the rest
            if recorder is not None:
                await recorder.flush()
            for segment in chunk.segments:
                if segment.acks and segment.conn is not None:
                    segment.conn.ack(segment.acks)
                    self.acknowledged += len(segment.acks)

    async def _delivered(self, producer: EventProducer, pending: _Pending) -> bool:
        """Wait until Kafka has ``pending``, sending it again after each failure; False
        if asked to stop first."""
        backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        while True:
            try:
                if not pending.future.done():
                    await asyncio.wait_for(asyncio.shield(pending.future), STALL_S)
                pending.future.result()
            except TimeoutError:
                self._unavailable(f"no acknowledgement for {STALL_S:g} s")
                if self._stopping.is_set():
                    return False
                continue  # the send is still under way: keep waiting for it
            except _SEND_ERRORS as exc:
                if self.kafka.connected and pending.sent_s < self.kafka.since:
                    # sent while Kafka was away, expired since: not a new outage
                    pending.future = await self._send(producer, pending.record)
                    pending.sent_s = time.monotonic()
                    continue
                self._unavailable(_describe(exc))
                await sleep_unless(self._stopping, backoff.next())
                if self._stopping.is_set():
                    return False
                pending.future = await self._send(producer, pending.record)
                pending.sent_s = time.monotonic()
                continue
            self._available()
            return True

    async def _send(self, producer: EventProducer, record: OutRecord) -> SendFuture:
        """The send's future; a failure to even queue it becomes a failed future."""
        try:
            return await producer.send(record)
        except BrokerError as exc:
            future: SendFuture = asyncio.get_running_loop().create_future()
            future.set_exception(exc)
            return future

    async def _kafka_ok(self) -> bool:
        """Wait while Kafka is unavailable; False if asked to stop meanwhile."""
        while not self._ok.is_set():  # it may go away again before we wake up
            if self._stopping.is_set():
                return False
            ok = asyncio.ensure_future(self._ok.wait())
            stop = asyncio.ensure_future(self._stopping.wait())
            try:
                await asyncio.wait({ok, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ok.cancel()
                stop.cancel()
        return True

    def _unavailable(self, reason: str) -> None:
        self.kafka.down(reason)
        if self._ok.is_set():
            self._ok.clear()
            self._pause_reading(True)

    def _available(self) -> None:
        self.kafka.up()
        if not self._ok.is_set():
            self._ok.set()
            self._pause_reading(False)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"
