"""A scripted MQTT broker on a loopback socket, for what a real broker never sends
(refusals of MQTT 5, malformed packets). Pure test code: real brokers are tested against
Mosquitto. ``script(connect_packet) -> bytes | None`` answers each connection's CONNECT:
bytes to send (None: say nothing); what the client sends back is kept per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from slastream.ingest import packets

CONNACK_V5_OK = b"\x20\x03\x00\x00\x00"
CONNACK_V311_OK = b"\x20\x02\x00\x00"


def suback(packet_id: int, code: int = 1, *, v5: bool = True) -> bytes:
    body = packet_id.to_bytes(2, "big") + (b"\x00" if v5 else b"") + bytes([code])
    return bytes([packets.SUBACK << 4, len(body)]) + body


@dataclass
class FakeBroker:
    script: Callable[[bytes], bytes | None]
    after_subscribe: bytes = b""  # sent once the client subscribes (first connection only
    # when ``once``)
    once: bool = False
    close_after_connect: bool = False  # hang up right after the CONNECT, without a word
    port: int = 0
    received: list[bytes] = field(default_factory=list)  # everything each connection sent
    levels: list[int] = field(default_factory=list)  # the protocol level of each CONNECT

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = len(self.received)
        self.received.append(b"")
        first = await reader.read(65536)
        self.received[index] += first
        self.levels.append(first[8] if len(first) > 8 else -1)
        answer = self.script(first)
        if answer is not None:
            writer.write(answer)
        if self.close_after_connect:
            writer.close()
            return
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                self.received[index] += data
                if data[0] >> 4 == packets.SUBSCRIBE:
                    writer.write(suback(int.from_bytes(data[2:4], "big"),
                                        v5=self.levels[index] == packets.V5))
                    await writer.drain()
                    await asyncio.sleep(0.05)  # the SUBACK is read on its own first
                    if index == 0 or not self.once:
                        writer.write(self.after_subscribe)
        writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeBroker]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
