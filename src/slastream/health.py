"""Health of the links a process depends on (MQTT broker, Kafka), and retry pacing.

A ``Link`` is up or down, since when and why. It logs once per change of state, never
per retry, and says what ``/healthz`` reports (``problem()``) and what ``/metrics``
shows (``connected``, seconds since the last success). ``Backoff`` paces retries: capped
exponential with jitter, so a broker coming back is not hit by every client at once;
``sleep_unless`` waits out a pause unless the process is stopping, ``first_of`` waits for
the first of several events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

HealthCheck = Callable[[], list[str]]  # one line per problem; [] means healthy


class Link:
    """One dependency of this process. Starts down ("not connected yet")."""

    def __init__(self, name: str, log: logging.Logger,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._log = log
        self._clock = clock
        self.connected = False
        self.reason = "not connected yet"
        self.since = clock()
        self.last_success = clock()
        self._reported = False  # the current failure was logged

    def up(self) -> None:
        """The link works (a send was acknowledged, a connection was made)."""
        now = self._clock()
        self.last_success = now
        if self.connected:
            return
        if self._reported:
            self._log.warning("%s available again after %.1f s", self.name, now - self.since)
        self.connected, self.reason, self.since = True, "", now
        self._reported = False

    def down(self, reason: str) -> None:
        """The link fails; logged once per outage (its first failure), never per retry."""
        if self.connected:
            self.connected, self.since = False, self._clock()
        self.reason = reason  # the latest reason, shown on /healthz
        if not self._reported:
            self._reported = True
            self._log.warning("%s unavailable: %s; retrying until it is back", self.name,
                              reason)

    def seconds_since_success(self) -> float:
        return self._clock() - self.last_success

    def problem(self) -> str | None:
        if self.connected:
            return None
        return f"{self.name} unavailable for {self._clock() - self.since:.0f} s: {self.reason}"


class Backoff:
    """Capped exponential delays with ±20 % jitter: ``next()`` then ``reset()`` on success."""

    def __init__(self, initial_s: float = 0.1, cap_s: float = 30.0) -> None:
        self.initial_s = initial_s
        self.cap_s = cap_s
        self._current = initial_s

    def next(self) -> float:
        delay = self._current * random.uniform(0.8, 1.2)
        self._current = min(self._current * 2, self.cap_s)
        return delay

    def reset(self) -> None:
        self._current = self.initial_s


async def sleep_unless(event: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``event`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def first_of(*aws: Awaitable[Any]) -> None:
    """Return when the first of ``aws`` finishes; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
