"""Following a log like ``tail -F``: growth, partial lines, rename rotation, truncation."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from slastream.accesslog.follow import Lines, follow_file


async def take(q: Lines, n: int) -> list[bytes]:
    got: list[bytes] = []
    async with asyncio.timeout(30):
        while len(got) < n:
            line = await q.get()
            assert line is not None
            got.append(line)
    return got


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


async def test_follow_survives_rotation_and_truncation(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"old-1\nold-2\n")  # before the start: skipped (tail -F starts at the end)
    q: Lines = asyncio.Queue()
    stop = asyncio.Event()
    task = asyncio.create_task(follow_file(str(log), q, stop, poll_s=0.01))
    await asyncio.sleep(0.05)  # let it open the file and seek to its end
    append(log, b"a1\na2\npart")
    assert await take(q, 2) == [b"a1", b"a2"]
    append(log, b"ial\n")
    assert await take(q, 1) == [b"partial"]
    # logrotate: rename away, a last line lands in the old file, then a new file appears
    os.rename(log, tmp_path / "access.log.1")
    append(tmp_path / "access.log.1", b"late-in-old\n")
    log.write_bytes(b"b1\nb2\n")
    assert await take(q, 3) == [b"late-in-old", b"b1", b"b2"]
    # copytruncate: the same file cut to zero and written again
    with open(log, "r+b") as fh:
        fh.truncate(0)
    await asyncio.sleep(0.05)
    append(log, b"c1\n")
    assert await take(q, 1) == [b"c1"]
    stop.set()
    await task
    assert q.empty() is False and await q.get() is None


async def test_a_file_that_appears_later_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    q: Lines = asyncio.Queue()
    stop = asyncio.Event()
    task = asyncio.create_task(follow_file(str(log), q, stop, poll_s=0.01))
    await asyncio.sleep(0.03)
    log.write_bytes(b"x1\nx2\n")
    assert await take(q, 2) == [b"x1", b"x2"]
    stop.set()
    await task


async def test_without_follow_it_reads_once_to_the_end(tmp_path: Path) -> None:
    log = tmp_path / "once.log"
    log.write_bytes(b"1\n2\nno-newline")
    q: Lines = asyncio.Queue()
    await follow_file(str(log), q, asyncio.Event(), from_start=True, follow=False)
    assert [q.get_nowait() for _ in range(4)] == [b"1", b"2", b"no-newline", None]
