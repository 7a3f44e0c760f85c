"""Where results go: an MQTT broker (QoS 1 through aiomqtt) or a capture file.

Both take ``send(topic, payload)`` (a JSON value) without waiting, run as a task
(``await sink.run()``) and finish after ``close()``. The request-log reader uses them too.

``MqttSink`` keeps messages in a bounded buffer until the broker has acknowledged them
(PUBACK, MQTT 3.1.1 §4.3.2), so a message is removed only once it is delivered; while the
broker is away it reconnects every ``reconnect_s`` and the buffer fills. A full buffer drops
its oldest message (counted in ``dropped``): the newest results are the ones a live view
needs. ``close()`` lets it deliver what is buffered, if the broker is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import aiomqtt
import orjson

from slastream.ingest.connection import MqttAddress
from slastream.model.time import format_rfc3339_ms

log = logging.getLogger("slastream.probe")


class Sink(Protocol):
    """A destination for JSON messages on topics."""

    connected: bool
    sent: int
    dropped: int

    def send(self, topic: str, payload: Any) -> None: ...

    def buffered(self) -> int: ...

    async def run(self) -> None: ...

    def close(self) -> None: ...


class CaptureSink:
    """Capture lines ``{"received_at", "topic", "payload"}`` appended to a file, one per
    message, flushed at once (a crash loses no written result)."""

    def __init__(self, path: str, now_ms: Callable[[], int]) -> None:
        self._fh = open(path, "ab")  # noqa: SIM115 - closed by close(), the sink's lifetime
        self._now_ms = now_ms
        self._closed = asyncio.Event()
        self.connected = True
        self.sent = 0
        self.dropped = 0

    def send(self, topic: str, payload: Any) -> None:
        line = orjson.dumps({"received_at": format_rfc3339_ms(self._now_ms()), "topic": topic,
                             "payload": payload})
        self._fh.write(line + b"\n")
        self._fh.flush()
        self.sent += 1

    def buffered(self) -> int:
        return 0

    async def run(self) -> None:
        await self._closed.wait()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._closed.set()


class MqttSink:
    """Publishes at QoS 1 to ``url`` (``mqtt://[user:pass@]host[:port]``, ``mqtts://``)."""

    def __init__(self, url: str, client_id: str, buffer: int = 10_000, qos: int = 1,
                 reconnect_s: float = 1.0) -> None:
        address = MqttAddress.parse(url)  # a bad URL is a one-line BrokerError
        self.tls = address.tls
        self.host, self.port = address.host, address.port
        self.username, self.password = address.username, address.password
        # A client id of its own per process: two probers with one id would take each
        # other's session over (MQTT 3.1.1 §3.1.4) and flap forever.
        self.client_id = f"{client_id}-{os.getpid()}-{secrets.token_hex(3)}"
        self.limit = buffer
        self.qos = qos
        self.reconnect_s = reconnect_s
        self._queue: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self.connected = False
        self.sent = 0
        self.dropped = 0
        self.last_error = ""

    def send(self, topic: str, payload: Any) -> None:
        if len(self._queue) >= self.limit:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append((topic, orjson.dumps(payload)))
        self._wake.set()

    def buffered(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        self._closing = True
        self._wake.set()

    async def run(self) -> None:
        """Connect, deliver, reconnect; returns after ``close()`` once the buffer is empty
        (or at once after ``close()`` if the broker is away)."""
        while True:
            try:
                async with aiomqtt.Client(
                        self.host, self.port, identifier=self.client_id,
                        username=self.username, password=self.password,
                        tls_params=aiomqtt.TLSParameters() if self.tls else None) as client:
                    self.connected = True
                    log.info("publishing to mqtt://%s:%d", self.host, self.port)
                    await self._deliver(client)
                    return
            except aiomqtt.MqttError as exc:
                if self.connected or str(exc) != self.last_error:
                    log.warning("MQTT broker %s:%d: %s", self.host, self.port, exc)
                self.last_error = str(exc)
            finally:
                self.connected = False
            if self._closing:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed_or_never(), self.reconnect_s)

    async def _closed_or_never(self) -> None:
        while not self._closing:
            self._wake.clear()
            await self._wake.wait()

    async def _deliver(self, client: aiomqtt.Client) -> None:
        queue = self._queue
        while True:
            if not queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            topic, body = queue[0]
            await client.publish(topic, body, qos=self.qos)
            # The head may have been dropped by an overflow while we waited for the ack.
            if queue and queue[0][1] is body:
                queue.popleft()
            self.sent += 1
