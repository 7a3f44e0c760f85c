"""A broker binary run as a child process: start, readiness, clean stop, restart."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from slastream.embedded.ports import wait_port
from slastream.errors import BrokerError


class BrokerProcess:
    """Base class: a broker process listening on ``host:port``.

    Subclasses give ``name``, ``command()`` and may refine ``wait_ready()``. The process's
    output goes to a log file (never to a pipe nobody reads, which would block the broker
    once the pipe buffer fills).
    """

    name = "broker"
    host = "127.0.0.1"
    start_timeout_s = 30.0
    stop_timeout_s = 10.0

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        """The process's environment (``None``: inherit ours)."""
        return None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    async def start(self) -> None:
        """Start the process and wait until it is ready; ``BrokerError`` if it is not."""
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            # Popen only forks and execs; it returns at once, so it may run on the loop.
            self._proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on the terminal is ours to forward, not its
                env=self.environment(),
            )
        try:
            await asyncio.wait_for(self._ready(), self.start_timeout_s)
        except (TimeoutError, BrokerError) as exc:
            await self.stop()
            raise BrokerError(f"{self.name} did not become ready on {self.host}:{self.port}"
                              f" ({exc or 'timeout'}); log: {self.log_path}") from None

    async def _ready(self) -> None:
        await wait_port(self.host, self.port, self.start_timeout_s, self.name)
        await self.wait_ready()

    async def wait_ready(self) -> None:
        """Extra readiness check after the port listens (override)."""

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` (SIGTERM: a clean shutdown) and wait; SIGKILL after the timeout."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGCONT)  # a frozen process would not act on SIGTERM
        proc.send_signal(sig)
        if not await _wait_exit(proc, self.stop_timeout_s):
            proc.kill()
            await _wait_exit(proc, self.stop_timeout_s)

    async def kill(self) -> None:
        """Stop abruptly (SIGKILL): what a crash looks like to clients."""
        await self.stop(signal.SIGKILL)

    def freeze(self) -> None:
        """SIGSTOP: the broker keeps its sockets but answers nothing, like a network
        partition or a hung host (TCP stays up; only MQTT Keep Alive notices)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after ``freeze``."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    async def restart(self, sig: int = signal.SIGTERM) -> None:
        """Stop with ``sig`` and start again on the same port."""
        await self.stop(sig)
        await self.start()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()


async def _wait_exit(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def find_executable(name: str, candidates: list[Path]) -> Path | None:
    """The first existing executable among ``candidates``, then ``name`` on ``PATH``."""
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    return Path(found) if found else None
