"""The bounded buffer between the MQTT receive side and the decode/produce loop.

Overflow policy: never drop. The buffer counts messages; when it holds ``limit`` or more,
the connection that delivered the last segment stops reading its socket (``pause``), and
reading resumes once the buffer is down to half. What happens meanwhile is the broker's
business, by the rules of MQTT:

* QoS 1/2: the broker keeps unacknowledged messages, and with MQTT 5 it sends no more than
  our Receive Maximum before we acknowledge (§4.9), so at QoS 1 the buffer rarely fills;
* QoS 0: the TCP window closes, the broker buffers the rest in its own memory and may drop
  past its own limits (counted in Mosquitto's ``$SYS/broker/publish/messages/dropped``),
  which is exactly what QoS 0 means. The bridge itself loses nothing it has read.
"""

from __future__ import annotations

import asyncio
from collections import deque

from slastream.ingest.connection import MqttConnection, Segment


class Inbox:
    """FIFO of ``Segment``; ``put`` never blocks (it runs inside ``data_received``)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.size = 0
        self.high_water = 0
        self.pauses = 0
        self._segments: deque[Segment] = deque()
        self._nonempty = asyncio.Event()
        self._paused: MqttConnection | None = None
        self._closed = False

    def put(self, segment: Segment) -> None:
        self._segments.append(segment)
        self.size += len(segment.topics)
        self.high_water = max(self.high_water, self.size)
        self._nonempty.set()
        conn = segment.conn
        if self.size >= self.limit and conn is not None and self._paused is None:
            conn.pause()
            self._paused = conn
            self.pauses += 1

    def __len__(self) -> int:
        return self.size

    def close(self) -> None:
        """No more input is coming: ``get`` returns ``[]`` once the rest is taken."""
        self._closed = True
        self._nonempty.set()

    async def get(self, max_messages: int) -> list[Segment]:
        """Whole segments, at least one, up to about ``max_messages`` messages;
        ``[]`` when closed and empty."""
        while not self._segments:
            if self._closed:
                return []
            self._nonempty.clear()
            await self._nonempty.wait()
        taken: list[Segment] = []
        count = 0
        while self._segments and count < max_messages:
            segment = self._segments.popleft()
            taken.append(segment)
            count += len(segment.topics)
        self.size -= count
        if self._paused is not None and self.size <= self.limit // 2:
            self._paused.resume()
            self._paused = None
        return taken

