"""A TLS terminator for tests: accepts TLS (optionally requiring a client certificate
signed by a CA) on a free loopback port and forwards the plain bytes to a backend.

For brokers without a working TLS listener of their own: Tansu 0.6 takes ``--cert`` and
``--key`` but never wraps its connections, so a Kafka client's TLS is tested against this
terminator in front of a real Tansu (the Kafka protocol still runs end to end).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

from slastream.embedded.ports import free_port


def server_context(cert: Path, key: Path, client_ca: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
        writer.close()


class TlsProxy:
    """``async with TlsProxy(...)``: listening on ``port`` (chosen before the backend
    starts, so the backend can advertise it)."""

    def __init__(self, context: ssl.SSLContext, backend_port: int) -> None:
        self.context = context
        self.backend_port = backend_port
        self.port = free_port()
        self.handshakes_failed = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TlsProxy]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                            ssl=self.context)
        try:
            yield self
        finally:
            server.close()
