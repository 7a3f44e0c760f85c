"""Slice batches out to the slices topic, without a round trip per batch.

A partition's slice batch is sent when a record closes a minute. The agent used to wait
for Kafka's acknowledgement of each before it applied the next record: on the worker
benchmark, 72 round trips to the broker took 0.1-0.2 s of a one-second run of a million
events. Now it waits only before a checkpoint, which must never cover a batch Kafka does
not have (docs/architecture.md#state-and-recovery): a crash before that replays the
records from the previous checkpoint and sends the same batches again, which readers
drop. The producer keeps one request in flight per partition, so a partition's batches
land in the order sent, which ``LiveView.apply`` relies on (it drops a batch at or below
the offset it has applied).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from slastream.stream.records import SliceBatch
from slastream.stream.view import LiveView


class SliceSender:
    """Sends slice batches to ``topic`` (a faust topic) and shows each in ``view`` once
    Kafka has it: when a later send or ``flush`` finds it acknowledged (the view's
    follower, reading the slices topic, usually applies it before)."""

    def __init__(self, topic: Any, view: LiveView) -> None:
        self.topic = topic
        self.view = view
        # sent, in order, until Kafka has them: faust's send futures and their batches
        self.sending: deque[tuple[Any, SliceBatch]] = deque()

    async def send(self, batch: SliceBatch) -> None:
        """Hand ``batch`` to the producer; shows the batches Kafka has acknowledged so
        far. A failed send raises here, or in ``flush``."""
        sent = await self.topic.send(key=batch.key, value=batch.encode(),
                                     partition=batch.partition)
        self.sending.append((sent, batch))
        while self.sending and self.sending[0][0].done():
            done, shown = self.sending.popleft()
            done.result()
            self.view.apply(shown)

    async def flush(self) -> None:
        """Wait until Kafka has every batch sent, and show them."""
        while self.sending:
            await self.sending[0][0]
            self.view.apply(self.sending.popleft()[1])
