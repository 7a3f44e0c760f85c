"""A virtual clock for the prober's scheduler: minutes of probing in milliseconds.

Virtual time stands still while any probe is running (its real I/O against a real server
takes what it takes) and jumps to the next due time once every probe task sleeps.
"""

from __future__ import annotations

import asyncio
import heapq


class VirtualClock:
    def __init__(self, start_ms: int) -> None:
        self.ms = float(start_ms)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def now_ms(self) -> int:
        return int(self.ms)

    def monotonic(self) -> float:
        return self.ms / 1000

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.ms + seconds * 1000, self._seq, fut))
        await fut

    def _asleep(self) -> int:
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    async def advance(self, until_ms: int, tasks: int) -> None:
        """Wake sleepers in time order up to ``until_ms``. Before each step it waits (on the
        real loop) until ``tasks`` tasks sleep, so time moves only while every probe idles."""
        while True:
            while self._asleep() < tasks:
                await asyncio.sleep(0.001)
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            due, _, fut = self._sleepers[0]
            if due > until_ms:
                self.ms = float(until_ms)
                return
            heapq.heappop(self._sleepers)
            self.ms = max(self.ms, due)
            fut.set_result(None)
            await asyncio.sleep(0)
