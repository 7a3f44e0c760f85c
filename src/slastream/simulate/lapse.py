"""The time-lapse clock: event time that starts in the past and catches up with the wall clock.

It starts ``history_s`` before now (aligned to a minute, so that minutes line up), runs
``speed`` times faster than the wall clock until it has caught up, and is the wall clock
from then on. A minute and its recovery then show within seconds, and every event stamped
with it still carries an honest event time, only compressed. It is a ``Clock`` of the
prober's scheduler (``probe/scheduler.py``): ``sleep`` waits in lapse seconds.
"""

from __future__ import annotations

import asyncio
import time

from slastream.model.time import MINUTE_MS, now_ms


class LapseClock:
    """Lapse time from the moment it is built."""

    def __init__(self, history_s: float, speed: float) -> None:
        if speed < 1.0:
            raise ValueError(f"speed must be at least 1, got {speed!r}")
        self.wall0_ms = now_ms()
        self._mono0 = time.monotonic()
        self.start_ms = (self.wall0_ms - int(history_s * 1000)) // MINUTE_MS * MINUTE_MS
        self.speed = speed

    def _elapsed_ms(self) -> float:
        return (time.monotonic() - self._mono0) * 1000

    def at(self, elapsed_ms: float) -> float:
        """Lapse time (ms since the epoch) ``elapsed_ms`` of real time after the start."""
        return min(self.start_ms + self.speed * elapsed_ms, self.wall0_ms + elapsed_ms)

    def wall_ms(self, lapse_ms: float) -> float:
        """The wall-clock time at which the lapse reaches ``lapse_ms`` (inverse of ``at``)."""
        return self.wall0_ms + max((lapse_ms - self.start_ms) / self.speed,
                                   lapse_ms - self.wall0_ms)

    def now_ms(self) -> int:
        return int(self.at(self._elapsed_ms()))

    def monotonic(self) -> float:
        return self.at(self._elapsed_ms()) / 1000

    async def sleep(self, seconds: float) -> None:
        """Until the lapse has moved on by ``seconds``."""
        elapsed = self._elapsed_ms()
        target = self.at(elapsed) + seconds * 1000
        await asyncio.sleep(max(0.0, (self.wall_ms(target) - self.wall0_ms - elapsed) / 1000))
