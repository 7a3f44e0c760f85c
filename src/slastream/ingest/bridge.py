"""The MQTT → Kafka bridge: ``slastream bridge`` (``command.py``), ``run``, ``demo``, tests.

Data path (one process, one event loop)::

    broker ──MQTT──▶ MqttConnection.data_received ──Segment──▶ Inbox (bounded, see inbox.py)
        ──▶ decode loop (forward.py): capture line, router.decode → events, dead letters
        ──▶ EventProducer ──▶ ack loop: once Kafka has a chunk, PUBACK it, in order

Guarantees:

* at QoS 1 nothing is lost: the session is persistent (Clean Start 0 and a Session Expiry
  Interval, §3.1.2.4, §3.1.2.11.2), so the broker queues while we are away, and a message
  is acknowledged only after Kafka acknowledged its events, so a crash of the bridge loses
  nothing either: the broker re-sends (at least once; downstream state is idempotent);
* the bridge's own disconnected windows become ``BridgeOutage`` events (control topic,
  capture), decoded like received messages, so replay sees what the live worker saw;
  announced open when the connection drops, closed before anything the new connection
  brings (docs/semantics.md#bridge-outages);
* neither broker's outage stops the bridge: it reconnects and retries with capped
  exponential backoff, for as long as it takes, and says so on ``health()`` (``/healthz``)
  and ``figures()`` (``/metrics``), logging each change of state once;
* malformed messages go to ``{prefix}.deadletter`` with their reason; the loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import orjson

from slastream.errors import BrokerError
from slastream.health import Backoff, Link, sleep_unless
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
from slastream.ingest.forward import BACKOFF_INITIAL_S, BACKOFF_MAX_S, Forwarder
from slastream.ingest.inbox import Inbox
from slastream.ingest.recorder import CaptureRecorder
from slastream.model.events import BridgeOutage
from slastream.model.spec import MqttSettings, Settings
from slastream.model.time import format_rfc3339_ms, now_ms
from slastream.runtime import first_error
from slastream.sources import router
from slastream.transport import routes as event_routes
from slastream.transport.kafka import EventProducer

log = logging.getLogger("slastream.bridge")

OUTAGE_TOPIC = "slastream/bridge/outage"
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


class Bridge:
    """Subscribe, decode, produce; reconnect with exponential backoff by itself.

    ``await bridge.run()`` runs until ``bridge.stop()`` (then drains what it has read,
    acknowledges it and disconnects) or until a ``BrokerError`` it cannot retry (the MQTT
    broker refusing our credentials or subscriptions,
    or a broker never reachable within ``first_connect_timeout_s`` of the start; once
    both were reached, outages of either are ridden out). ``async with bridge.running():``
    does the same around a block.

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
        self._forward = Forwarder(self._inbox, self._decoder, settings.kafka.bootstrap,
                                  self._stopping, self._pause_reading)
        self._reading_paused = False  # for Kafka: it cannot take what we would read
        self._open_outage: int | None = None  # start of the outage announced open
        self.mqtt = Link(f"MQTT {self.address}", log)
        self.kafka = self._forward.kafka
        self.connected = asyncio.Event()  # set while subscribed

    # ------------------------------------------------------------------ public

    def ingest_totals(self) -> dict[tuple[str, str], int]:
        """Messages by ``(source, outcome)`` (``slastream_ingest_messages_total``)."""
        return dict(self._decoder.totals)

    def ignored_totals(self) -> dict[tuple[str, str], int]:
        """Ignored messages by ``(source, reason class)``."""
        return dict(self._decoder.ignored)

    def health(self) -> list[str]:
        """What ``/healthz`` reports: one line per broker the bridge cannot use now."""
        return [p for p in (self.mqtt.problem(), self.kafka.problem()) if p]

    def figures(self) -> dict[str, float]:
        """The bridge's figures on ``/metrics`` (``export/metrics.py``)."""
        return {"bridge_mqtt_connected": float(self.mqtt.connected),
                "bridge_kafka_connected": float(self.kafka.connected),
                "bridge_inbox_messages": float(len(self._inbox)),
                "bridge_in_flight_chunks": float(self._forward.in_flight),
                "bridge_kafka_seconds_since_success": self.kafka.seconds_since_success()}

    def stats(self) -> BridgeStats:
        s = self._stats
        s.received = self._decoder.received
        s.deadlettered = self._decoder.deadlettered
        s.events = self._forward.events
        s.acknowledged = self._forward.acknowledged
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
                recorder = None
                if self.record_path is not None:
                    recorder = await stack.enter_async_context(
                        CaptureRecorder(self.record_path))
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._mqtt_loop())
                    producer = await self._start_producer(stack)
                    if producer is not None:
                        tg.create_task(self._forward.run(producer, recorder))
                    else:  # stopped before Kafka was ever reachable
                        self._forward.drained.set()
        except BaseExceptionGroup as group:
            raise first_error(group) from None
        finally:
            self.connected.clear()

    async def _start_producer(self, stack: contextlib.AsyncExitStack
                              ) -> EventProducer | None:
        """The producer, once Kafka answers; ``BrokerError`` if it never did within
        ``first_connect_timeout_s``; ``None`` if stopped first."""
        started = time.monotonic()
        backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        while not self._stopping.is_set():
            producer = EventProducer(self.settings.kafka, client_id=self.client_id,
                                     one_record_per_batch=self._one_record_per_batch,
                                     routes=event_routes.router(self.settings))
            try:
                self._producer = await stack.enter_async_context(producer)
                return self._producer
            except BrokerError as exc:
                if time.monotonic() - started > self._first_connect_timeout_s:
                    raise
                self.kafka.down(str(exc))
                await self._sleep_unless_stopping(backoff.next())
        return None

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
        backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        version = self._mqtt_version
        takeovers = 0  # in a row: each waits longer before taking the session back
        while not self._stopping.is_set():
            try:
                conn, _ = await connect_any_version(self.address, self._options,
                                                    self._receive, self._clock_ms, version)
            except (OSError, TimeoutError, BrokerError) as exc:
                self._check_retryable(exc, started)
                self.mqtt.down(f"cannot connect: {_describe(exc)}")
                await self._sleep_unless_stopping(backoff.next())
                continue
            try:
                granted = await conn.subscribe(self.filters, self.qos)
            except (TimeoutError, BrokerError) as exc:
                conn.abort()
                self._check_retryable(exc, started)
                self.mqtt.down(f"cannot subscribe: {_describe(exc)}")
                await self._sleep_unless_stopping(backoff.next())
                continue
            self._after_subscribe(conn, granted)
            backoff.reset()
            self._close_outage(self._clock_ms())
            await self._wait_closed_or_stopping(conn)
            self.connected.clear()
            self._conn = None
            if self._stopping.is_set():
                await self._drain_and_disconnect(conn)
                return
            self._open_outage_at(conn.lost_ms if conn.lost_ms is not None
                                 else self._clock_ms())
            takeovers = takeovers + 1 if self._connection_lost(conn) else 0
            if takeovers:
                await self._sleep_unless_stopping(min(0.1 * 2**takeovers, BACKOFF_MAX_S))
        # Stopped while disconnected: the open outage lasted at least until now.
        self._close_outage(self._clock_ms())
        self._inbox.close()
        await self._forward.drained.wait()

    def _receive(self, segment: Segment) -> None:
        """Messages of the connection, into the inbox; an open outage is closed first, so
        everything the new connection brings comes after the closing event."""
        if self._open_outage is not None:
            self._close_outage(segment.received_ms)
        self._inbox.put(segment)

    def _pause_reading(self, pause: bool) -> None:
        """Kafka is unavailable (True) or back (False): stop or resume reading MQTT."""
        self._reading_paused = pause
        if self._conn is not None:
            (self._conn.pause if pause else self._conn.resume)()

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
        if self._reading_paused:
            conn.pause()  # Kafka is still away: the broker keeps the backlog
        self.mqtt.up()
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
            self.mqtt.down("session taken over by another client with this client id")
            return True
        detail = f": {reason or packets.reason_text(code)}" if code else ""
        self.mqtt.down(f"connection lost{detail}")
        return False

    async def _drain_and_disconnect(self, conn: MqttConnection) -> None:
        conn.pause()  # read nothing more; unread messages stay with the broker
        self._inbox.close()
        try:
            await asyncio.wait_for(self._forward.drained.wait(), DRAIN_TIMEOUT_S)
        finally:
            conn.close()

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        await sleep_unless(self._stopping, seconds)

    def _open_outage_at(self, start_ms: int) -> None:
        """Announce the outage open now: a worker holds what it may cover until it is
        closed (docs/semantics.md#bridge-outages)."""
        self._open_outage = start_ms
        self._inbox.put(self._outage_message(start_ms, None))

    def _close_outage(self, end_ms: int) -> None:
        """Close the open outage, if any: a message of our own, decoded like any other."""
        start_ms, self._open_outage = self._open_outage, None
        if start_ms is None:
            return
        end_ms = max(end_ms, start_ms)
        self._stats.outages.append(BridgeOutage(start_ms, end_ms, self.client_id))
        log.warning("MQTT %s: bridge was disconnected from %s to %s (%.1f s)", self.address,
                    format_rfc3339_ms(start_ms), format_rfc3339_ms(end_ms),
                    (end_ms - start_ms) / 1000)
        self._inbox.put(self._outage_message(start_ms, end_ms))

    def _outage_message(self, start_ms: int, end_ms: int | None) -> Segment:
        ends = {} if end_ms is None else {"end": format_rfc3339_ms(end_ms)}  # None: open
        payload = orjson.dumps({"start": format_rfc3339_ms(start_ms), **ends,
                                "bridge": self.client_id})
        return Segment(None, start_ms if end_ms is None else end_ms, [OUTAGE_TOPIC],
                       [payload], [])


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__
