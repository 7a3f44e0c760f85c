"""Loopback ports: pick a free one, and wait until something listens on it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from slastream.errors import BrokerError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Whether a TCP connection to ``host:port`` succeeds now."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def wait_port(host: str, port: int, timeout_s: float, what: str) -> None:
    """Wait until ``host:port`` accepts connections; ``BrokerError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await port_open(host, port):
        if time.monotonic() > deadline:
            raise BrokerError(f"{what} did not listen on {host}:{port} within {timeout_s:g} s")
        await asyncio.sleep(0.05)
