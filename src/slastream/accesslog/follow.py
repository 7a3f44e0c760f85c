"""Lines of an access log as they are written, like ``tail -F``; or of a stream (stdin).

``follow_file`` survives both ways logs are rotated: renamed away and a new file created
(logrotate's default, nginx reopening on USR1) — the rest of the old file is read, then the
new one from its start — and truncated in place (``copytruncate``) — read again from the
start. A file that does not exist yet is waited for. Without ``follow`` it reads to the end
once and stops. A line is handed on only when its newline has been written (a writer may be
mid-line at the end of the file); the unfinished tail of a rotated-away file is handed on
as a line.

Local files are read on the event loop in chunks of 64 KiB: a read from the page cache
takes microseconds, less than handing it to a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from typing import BinaryIO

Lines = asyncio.Queue[bytes | None]  # None: no more lines
CHUNK = 1 << 16


class _Splitter:
    def __init__(self, out: Lines) -> None:
        self.out = out
        self.partial = b""

    async def feed(self, chunk: bytes) -> None:
        data = self.partial + chunk
        *lines, self.partial = data.split(b"\n")
        for line in lines:
            await self.out.put(line)

    async def finish(self) -> None:
        if self.partial:
            await self.out.put(self.partial)
            self.partial = b""


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def follow_file(path: str, out: Lines, stop: asyncio.Event, *, from_start: bool = False,
                      follow: bool = True, poll_s: float = 0.2) -> None:
    """Put the file's lines on ``out`` until ``stop`` (or its end, without ``follow``)."""
    splitter = _Splitter(out)
    fh: BinaryIO | None = None
    identity = (0, 0)
    first = True
    try:
        while not stop.is_set():
            if fh is None:
                try:
                    fh = open(path, "rb")  # noqa: SIM115 - kept open across iterations
                except FileNotFoundError:
                    if not follow:
                        raise
                    first = False  # a file that appears later is read from its start
                    await _pause(stop, poll_s)
                    continue
                identity = _identity(os.fstat(fh.fileno()))
                if first and not from_start:
                    fh.seek(0, os.SEEK_END)
                first = False
            chunk = fh.read(CHUNK)
            if chunk:
                await splitter.feed(chunk)
                continue
            if not follow:
                break
            fh = await _check_rotation(path, fh, identity, splitter)
            if fh is not None:
                await _pause(stop, poll_s)
        await splitter.finish()
    finally:
        if fh is not None:
            fh.close()
        await out.put(None)


async def _check_rotation(path: str, fh: BinaryIO, identity: tuple[int, int],
                          splitter: _Splitter) -> BinaryIO | None:
    """At the end of ``fh``: None when ``path`` is now another file (the old one is read to
    its end first), ``fh`` rewound when it was truncated, else ``fh`` unchanged."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is None or _identity(st) != identity:
        while chunk := fh.read(CHUNK):  # written between the last read and the rename
            await splitter.feed(chunk)
        await splitter.finish()
        fh.close()
        return None
    if st.st_size < fh.tell():
        splitter.partial = b""
        fh.seek(0)
    return fh


async def read_stream(stream: BinaryIO, out: Lines) -> None:
    """Put the lines of a blocking stream (stdin) on ``out``, read in a daemon thread.

    The thread waits whenever ``out`` is full (backpressure); it is a daemon because a read
    from a terminal or pipe cannot be interrupted, and it must not keep the process alive.
    """
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def pump() -> None:
        try:
            for line in iter(stream.readline, b""):
                asyncio.run_coroutine_threadsafe(out.put(line.rstrip(b"\n")), loop).result()
        except RuntimeError:
            return  # the loop is gone: the process is stopping
        loop.call_soon_threadsafe(done.set_result, None)

    threading.Thread(target=pump, name="stdin-reader", daemon=True).start()
    await done
    await out.put(None)


def stdin() -> BinaryIO:
    return sys.stdin.buffer
