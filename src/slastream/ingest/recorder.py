"""``--record FILE``: every received message appended to a capture file (docs/interfaces.md).

Lines are buffered in memory and written by a worker thread (file writes never run on the
event loop). The bridge flushes them before it acknowledges the messages to the broker, so
after a crash every acknowledged message is in the file and the unacknowledged ones come
again (recorded twice at worst: at least once, like the Kafka side). A partial last line
left by a crash is counted as rejected by replay, which skips it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from slastream.errors import SlastreamError
from slastream.sources.capture import Message, format_line


class CaptureRecorder:
    """Appends capture lines to ``path``; ``async with`` opens and finally flushes it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.lines = 0
        self._buffer: list[bytes] = []
        self._file: BinaryIO | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        try:
            self._file = await asyncio.to_thread(self.path.open, "ab")
        except OSError as exc:
            raise SlastreamError(f"cannot open capture file {self.path}: "
                                 f"{exc.strerror or exc}") from None
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            await self.flush()
        finally:
            if self._file is not None:
                await asyncio.to_thread(self._file.close)
                self._file = None

    def add(self, message: Message) -> None:
        """Queue one message's line (cheap; the write happens in ``flush``)."""
        line = format_line(message)
        self._buffer.append(line)

    async def flush(self) -> None:
        """Write what is buffered; serialised, so lines keep their order."""
        async with self._lock:
            if not self._buffer or self._file is None:
                return
            lines, self._buffer = self._buffer, []
            lines.append(b"")
            blob = b"\n".join(lines)
            try:
                await asyncio.to_thread(_write, self._file, blob)
            except OSError as exc:
                raise SlastreamError(f"cannot write capture file {self.path}: "
                                     f"{exc.strerror or exc}") from None
            self.lines += len(lines) - 1


def _write(file: BinaryIO, blob: bytes) -> None:
    file.write(blob)
    file.flush()
