"""The MQTT → Kafka bridge: ``slastream bridge``, and in-process for ``run``, ``demo``, tests.

Data path (one process, one event loop)::

    broker ──MQTT──▶ MqttConnection.data_received ──Segment──▶ Inbox (bounded, see inbox.py)
        ──▶ decode loop: JSON, capture line, router.decode → canonical events, counters,
            dead letters ──▶ EventProducer (one Kafka record per partition and chunk)
        ──▶ ack loop: once Kafka has a chunk, PUBACK its messages, in order

Guarantees:

* at QoS 1 nothing is lost: the session is persistent (Clean Start 0 and a Session Expiry
  Interval, §3.1.2.4, §3.1.2.11.2), so the broker queues while we are away, and a message
  is acknowledged only after Kafka acknowledged its events, so a crash of the bridge loses
  nothing either: the broker re-sends (at least once; downstream state is idempotent);
* the bridge's own disconnected windows become ``BridgeOutage`` events (control topic) and
  ``slastream/bridge/outage`` lines in the capture, produced through the same decode path as
  a received message, so replay sees exactly what the live worker saw (QoS 0 traffic
  lost in the window must not be charged to the network);
* malformed messages go to ``{prefix}.deadletter`` with their reason and are counted; the
  loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import orjson

from slastream.errors import BrokerError
from slastream.ingest import packets
from slastream.ingest.connection import (
    MqttAddress,
    MqttConnection,
    Refused,
    Segment,
    SessionOptions,
    connect_any_version,
)
from slastream.ingest.decoder import Decoder
from slastream.ingest.inbox import Inbox
from slastream.ingest.recorder import CaptureRecorder
from slastream.model.events import BridgeOutage, Event
from slastream.model.spec import MqttSettings, Settings
from slastream.model.time import format_rfc3339_ms, now_ms
from slastream.runtime import first_error
from slastream.sources import router
from slastream.transport import codec
from slastream.transport import routes as event_routes
from slastream.transport.kafka import EventProducer, SendFuture, delivered

log = logging.getLogger("slastream.bridge")

OUTAGE_TOPIC = "slastream/bridge/outage"
CHUNK_MESSAGES = 8192  # decoded and produced together: ~2,000 events per record at 4 partitions
MAX_CHUNKS_IN_FLIGHT = 64  # chunks sent to Kafka but not yet acknowledged by it
BACKOFF_INITIAL_S = 0.1
BACKOFF_MAX_S = 30.0
FIRST_CONNECT_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 30.0


def subscription_filters(mqtt: MqttSettings) -> list[str]:
    """The configured filters, as shared subscriptions when ``shared_group`` is set.

    ``$share/{group}/{filter}`` (MQTT 5 §4.8.2): the broker hands each message to one
    subscriber of the group, so several bridges split the load.
    """
    if not mqtt.shared_group:
        return list(mqtt.topics)
    return [f"$share/{mqtt.shared_group}/{t}" for t in mqtt.topics]


@dataclass
class BridgeStats:
    """A snapshot of the bridge's counters (for logs, /metrics and tests)."""

    received: int = 0
    events: int = 0
    records: int = 0
    deadlettered: int = 0
    acknowledged: int = 0
    connects: int = 0
    queue_depth: int = 0
    queue_high_water: int = 0
    reader_pauses: int = 0
    mqtt_errors: dict[str, int] = field(default_factory=dict)  # see MqttConnection.problem
    outages: list[BridgeOutage] = field(default_factory=list)


class _InFlight:
    __slots__ = ("futures", "segments")

    def __init__(self, futures: list[SendFuture], segments: list[Segment]) -> None:
        self.futures = futures
        self.segments = segments


class Bridge:
    """Subscribe, decode, produce; reconnect with exponential backoff by itself.

    ``await bridge.run()`` runs until ``bridge.stop()`` (then drains what it has read,
    acknowledges it and disconnects) or until a ``BrokerError`` it cannot retry
    (Kafka failing, the MQTT broker refusing our credentials or subscriptions, or never
    reachable within ``first_connect_timeout_s``). ``async with bridge.running():`` does
    the same around a block.

    ``client_id`` overrides ``mqtt.client_id`` (each bridge of a shared group needs its own:
    the broker keeps one session per id); ``keepalive_s`` is the MQTT Keep Alive;
    ``one_record_per_batch`` works around Tansu's offset quirk (embedded profile only);
    ``mqtt_version`` 4 skips the MQTT 5 attempt for a broker known to speak only 3.1.1.
    """

    def __init__(self, settings: Settings, record_path: str | Path | None = None, *,
                 client_id: str | None = None, clock_ms: Callable[[], int] = now_ms,
                 first_connect_timeout_s: float = FIRST_CONNECT_TIMEOUT_S,
                 keepalive_s: int = 30, one_record_per_batch: bool = False,
                 mqtt_version: int | None = None) -> None:
        self.settings = settings
        self.record_path = record_path
        self.client_id = client_id or settings.mqtt.client_id
        self.address = MqttAddress.from_settings(settings.mqtt)
        self.filters = subscription_filters(settings.mqtt)
        self.qos = settings.mqtt.qos
        self._clock_ms = clock_ms
        self._first_connect_timeout_s = first_connect_timeout_s
        self._one_record_per_batch = one_record_per_batch
        # None: MQTT 5, or 3.1.1 if the broker says it speaks only that (mqtt.protocol auto)
        self._mqtt_version = mqtt_version or packets.PROTOCOL_LEVELS.get(settings.mqtt.protocol)
        self._options = SessionOptions(
            client_id=self.client_id, keepalive_s=keepalive_s,
            # The broker may have this many unacknowledged messages out to us (§3.1.2.11.3).
            receive_maximum=max(1, min(65_535, settings.mqtt.queue_size)),
            max_packet_size=settings.mqtt.max_packet_size)
        self._inbox = Inbox(settings.mqtt.queue_size)
        self._decoder = Decoder(router.for_settings(settings))
        self._stats = BridgeStats()
        self._producer: EventProducer | None = None
        self._conn: MqttConnection | None = None
        self._stopping = asyncio.Event()
        self._drained = asyncio.Event()
        self.connected = asyncio.Event()  # set while subscribed

    # ------------------------------------------------------------------ public

    def ingest_totals(self) -> dict[tuple[str, str], int]:
        """Messages by ``(source, outcome)`` (``slastream_ingest_messages_total``)."""
        return dict(self._decoder.totals)

    def ignored_totals(self) -> dict[tuple[str, str], int]:
        """Ignored messages by ``(source, reason class)``."""
        return dict(self._decoder.ignored)

    def stats(self) -> BridgeStats:
        s = self._stats
        s.received = self._decoder.received
        s.deadlettered = self._decoder.deadlettered
        if self._producer is not None:
            s.records = self._producer.stats.records
        s.queue_depth = len(self._inbox)
        s.queue_high_water = self._inbox.high_water
        s.reader_pauses = self._inbox.pauses
        return BridgeStats(**{**vars(s), "outages": list(s.outages),
                              "mqtt_errors": dict(s.mqtt_errors)})

    def stop(self) -> None:
        """Ask ``run`` to finish: stop reading, drain, acknowledge, disconnect."""
        self._stopping.set()

    async def run(self) -> None:
        """Run until stopped; raises ``BrokerError`` (one, not a group) on a fatal error."""
        try:
            async with contextlib.AsyncExitStack() as stack:
                producer = await stack.enter_async_context(EventProducer(
                    self.settings.kafka, client_id=self.client_id,
                    one_record_per_batch=self._one_record_per_batch,
                    routes=event_routes.router(self.settings)))
                self._producer = producer
                recorder = None
                if self.record_path is not None:
                    recorder = await stack.enter_async_context(
                        CaptureRecorder(self.record_path))
                in_flight: asyncio.Queue[_InFlight | None] = asyncio.Queue(MAX_CHUNKS_IN_FLIGHT)
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._mqtt_loop())
                    tg.create_task(self._decode_loop(producer, recorder, in_flight))
                    tg.create_task(self._ack_loop(in_flight, recorder))
        except BaseExceptionGroup as group:
            raise first_error(group) from None
        finally:
            self.connected.clear()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Self]:
        """Run in a background task; entered once subscribed, stopped and drained on exit."""
        task = asyncio.create_task(self.run())
        connected = asyncio.create_task(self.connected.wait())
        try:
            await asyncio.wait({task, connected}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # raises the startup error
            yield self
        finally:
            connected.cancel()
            self.stop()
            await task

    # ------------------------------------------------------------------ MQTT side

    async def _mqtt_loop(self) -> None:
        started = time.monotonic()
        backoff = BACKOFF_INITIAL_S
        lost_ms: int | None = None  # set while an outage is open
        version = self._mqtt_version
        takeovers = 0  # in a row: each waits longer before taking the session back
        while not self._stopping.is_set():
            try:
                conn, _ = await connect_any_version(self.address, self._options,
                                                    self._inbox.put, self._clock_ms, version)
            except (OSError, TimeoutError, BrokerError) as exc:
                self._check_retryable(exc, started)
                log.warning("MQTT %s: cannot connect (%s); retrying in %.1f s",
                            self.address, _describe(exc), backoff)
                await self._sleep_unless_stopping(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            try:
                granted = await conn.subscribe(self.filters, self.qos)
            except (TimeoutError, BrokerError) as exc:
                conn.abort()
                self._check_retryable(exc, started)
                await self._sleep_unless_stopping(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            self._after_subscribe(conn, granted)
            backoff = BACKOFF_INITIAL_S
            if lost_ms is not None:
                self._record_outage(lost_ms, self._clock_ms())
                lost_ms = None
            await self._wait_closed_or_stopping(conn)
            self.connected.clear()
            self._conn = None
            if not self._stopping.is_set():
                lost_ms = conn.lost_ms if conn.lost_ms is not None else self._clock_ms()
                takeovers = takeovers + 1 if self._connection_lost(conn) else 0
                if takeovers:
                    await self._sleep_unless_stopping(min(0.1 * 2**takeovers, BACKOFF_MAX_S))
            else:
                await self._drain_and_disconnect(conn)
                return
        # Stopped while disconnected: the open outage lasted at least until now.
        if lost_ms is not None:
            self._record_outage(lost_ms, self._clock_ms())
        self._inbox.close()
        await self._drained.wait()

    def _check_retryable(self, exc: BaseException, started: float) -> None:
        if isinstance(exc, Refused) and exc.permanent:
            raise exc
        never = self._stats.connects == 0
        if never and time.monotonic() - started > self._first_connect_timeout_s:
            raise BrokerError(f"cannot reach MQTT broker {self.address} within "
                              f"{self._first_connect_timeout_s:g} s: {_describe(exc)}")

    def _after_subscribe(self, conn: MqttConnection, granted: list[int]) -> None:
        self._conn = conn
        self._stats.connects += 1
        for topic_filter, qos in zip(self.filters, granted, strict=False):
            if qos < self.qos:
                log.warning("MQTT broker granted QoS %d < %d for %r: messages sent while the "
                            "bridge is disconnected are lost", qos, self.qos, topic_filter)
        log.info("MQTT %s: connected as %r (MQTT %s), subscribed to %d filters at QoS %d",
                 self.address, self.client_id, "5" if conn.version == 5 else "3.1.1",
                 len(self.filters), self.qos)
        self.connected.set()

    async def _wait_closed_or_stopping(self, conn: MqttConnection) -> None:
        stopping: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
        closed: asyncio.Future[Any] = conn.closed
        try:
            await asyncio.wait([closed, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()

    def _connection_lost(self, conn: MqttConnection) -> bool:
        """Log and count why; True when another client took the session over."""
        code, reason = conn.disconnect_reason or (0, "")
        if conn.problem is not None:
            errors = self._stats.mqtt_errors
            errors[conn.problem] = errors.get(conn.problem, 0) + 1
        if code == packets.SESSION_TAKEN_OVER:
            # Two bridges with one id take it from each other: each waits longer.
            log.error("MQTT %s: another client connected with client id %r and took the "
                      "session over; reconnecting (give each bridge its own mqtt.client_id)",
                      self.address, self.client_id)
            return True
        detail = f": {reason or packets.reason_text(code)}" if code else ""
        log.warning("MQTT %s: connection lost%s; reconnecting", self.address, detail)
        return False

    async def _drain_and_disconnect(self, conn: MqttConnection) -> None:
        conn.pause()  # read nothing more; unread messages stay with the broker
        self._inbox.close()
        try:
            await asyncio.wait_for(self._drained.wait(), DRAIN_TIMEOUT_S)
        finally:
            conn.close()

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _record_outage(self, start_ms: int, end_ms: int) -> None:
        """Make the disconnected window a message of our own, decoded like any other."""
        outage = BridgeOutage(start_ms, end_ms, self.client_id)
        self._stats.outages.append(outage)
        payload = orjson.dumps({"start": format_rfc3339_ms(start_ms),
                                "end": format_rfc3339_ms(end_ms), "bridge": self.client_id})
        log.warning("MQTT %s: bridge was disconnected from %s to %s (%.1f s)", self.address,
                    format_rfc3339_ms(start_ms), format_rfc3339_ms(end_ms),
                    (end_ms - start_ms) / 1000)
        self._inbox.put(Segment(None, end_ms, [OUTAGE_TOPIC], [payload], []))

    # ------------------------------------------------------------------ Kafka side

    async def _decode_loop(self, producer: EventProducer, recorder: CaptureRecorder | None,
                           in_flight: asyncio.Queue[_InFlight | None]) -> None:
        while segments := await self._inbox.get(CHUNK_MESSAGES):
            events: list[Event] = []
            dead = self._decoder.decode(segments, events, recorder)
            futures = await producer.send_events(events) if events else []
            for key, value in dead:
                futures.append(await producer.send_record(codec.DEADLETTER, value, key))
            self._stats.events += len(events)
            await in_flight.put(_InFlight(futures, segments))  # full: Kafka is behind; wait
        await in_flight.put(None)  # the inbox is closed and empty: let the ack loop finish

    async def _ack_loop(self, in_flight: asyncio.Queue[_InFlight | None],
                        recorder: CaptureRecorder | None) -> None:
        """Acknowledge to the broker, in the order received (§4.6), what Kafka has.

        With ``--record``, the capture lines are written first too: a message the broker
        considers delivered is in Kafka and in the capture, so a crash leaves the capture
        complete (the broker re-sends the rest; they are recorded again, at least once).
        """
        bootstrap = self.settings.kafka.bootstrap
        try:
            while (item := await in_flight.get()) is not None:
                await delivered(item.futures, bootstrap)
                if recorder is not None:
                    await recorder.flush()
                for segment in item.segments:
                    if segment.acks and segment.conn is not None:
                        segment.conn.ack(segment.acks)
                        self._stats.acknowledged += len(segment.acks)
        finally:
            self._drained.set()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__


# ---------------------------------------------------------------------- command line


async def command(settings: Settings, stop: asyncio.Event,
                  record_path: str | None = None) -> int:
    """``slastream bridge -c CONFIG [--record FILE]``: run until ``stop`` is set, drain.

    Returns 0 after a requested stop; raises ``BrokerError`` when the bridge cannot go on
    (see ``Bridge.run``).
    """
    bridge = Bridge(settings, record_path)
    log.info("bridge %r: %s → Kafka %s (topics %s.*)%s", bridge.client_id, bridge.address,
             settings.kafka.bootstrap, settings.kafka.topic_prefix,
             f", recording to {record_path}" if record_path else "")
    running = asyncio.create_task(bridge.run(), name="bridge")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        bridge.stop()
    await running
    s = bridge.stats()
    log.info("bridge stopped: %d messages, %d events, %d dead letters, %d outages",
             s.received, s.events, s.deadlettered, len(s.outages))
    return 0
