"""The bridge's bounded inbox: the reader pauses when full, resumes at half, never drops."""

from __future__ import annotations

from typing import Any, cast

from slastream.ingest.connection import MqttConnection, Segment
from slastream.ingest.inbox import Inbox


class FakeConnection:
    def __init__(self) -> None:
        self.paused = False
        self.pauses = 0
        self.resumes = 0

    def pause(self) -> None:
        self.paused = True
        self.pauses += 1

    def resume(self) -> None:
        self.paused = False
        self.resumes += 1


def segment(conn: Any, n: int) -> Segment:
    return Segment(cast(MqttConnection, conn), 0, ["t"] * n, [b"p"] * n, [])


async def test_full_inbox_pauses_the_reader_and_resumes_at_half() -> None:
    conn = FakeConnection()
    inbox = Inbox(limit=100)
    for _ in range(12):
        inbox.put(segment(conn, 10))  # 120 > limit: nothing is dropped
    assert conn.paused and conn.pauses == 1
    assert len(inbox) == 120
    taken = await inbox.get(40)
    assert sum(len(s.topics) for s in taken) == 40
    assert conn.paused, "80 left: still above half"
    await inbox.get(30)
    assert not conn.paused and conn.resumes == 1
    assert len(inbox) == 50


async def test_get_takes_whole_segments_and_close_ends_after_the_rest() -> None:
    inbox = Inbox(limit=10)
    inbox.put(segment(None, 3))
    inbox.put(segment(None, 3))
    inbox.close()
    first = await inbox.get(1)
    assert [len(s.topics) for s in first] == [3]
    assert [len(s.topics) for s in await inbox.get(100)] == [3]
    assert await inbox.get(100) == []


async def test_own_messages_never_pause_anything() -> None:
    inbox = Inbox(limit=1)
    inbox.put(segment(None, 5))
    assert inbox.pauses == 0 and len(inbox) == 5
