"""When probes run: a jittered schedule per probe, no overlapping runs, bounded concurrency.

Each probe has one task that runs it, waits, and runs it again, so two runs of one probe
never overlap. The first run of each probe falls at a random point of its first interval
(probes declared together do not fire together), and every later interval varies by up to
``jitter`` of itself either way. A run that ends after its next due time makes the probe
skip to "now" rather than fire a burst of catch-up runs. At most ``concurrency`` runs are
in flight across all probes (a semaphore); a run waiting for a slot is late, not lost.

The clock is injected: ``SystemClock`` in production, a virtual clock in tests, which makes
minutes of probing run in milliseconds against real servers.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from slastream.model.probes import ProbeSpec
from slastream.probe.result import Outcome, ProbeReport


class Clock(Protocol):
    """Wall time for stamping results, monotonic time and sleep for scheduling."""

    def now_ms(self) -> int: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clocks."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


CheckFn = Callable[[ProbeSpec], Awaitable[Outcome]]
ReportFn = Callable[[ProbeReport], Awaitable[None]]


class Scheduler:
    """Runs ``check`` for every probe on its schedule and hands each report to ``report``."""

    def __init__(self, specs: tuple[ProbeSpec, ...], check: CheckFn, report: ReportFn,
                 location: str, concurrency: int, jitter: float, clock: Clock,
                 rng: random.Random | None = None) -> None:
        self.specs = specs
        self.check = check
        self.report = report
        self.location = location
        self.jitter = jitter
        self.clock = clock
        self.rng = rng or random.Random()
        self.semaphore = asyncio.Semaphore(concurrency)
        self.skipped = 0  # due times passed over because a run (or its wait) took too long

    async def run(self, stop_event: asyncio.Event) -> None:
        """Until ``stop_event`` is set; runs in flight are cancelled then."""
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(self._loop(spec)) for spec in self.specs]
            await stop_event.wait()
            for task in tasks:
                task.cancel()

    def _interval(self, spec: ProbeSpec) -> float:
        return spec.interval_s * (1.0 + self.rng.uniform(-self.jitter, self.jitter))

    async def _loop(self, spec: ProbeSpec) -> None:
        due = self.clock.monotonic() + self.rng.uniform(0.0, spec.interval_s)
        while True:
            delay = due - self.clock.monotonic()
            if delay > 0:
                await self.clock.sleep(delay)
            await self.run_once(spec)
            due += self._interval(spec)
            now = self.clock.monotonic()
            if due < now:
                self.skipped += 1
                due = now

    async def run_once(self, spec: ProbeSpec) -> ProbeReport:
        """One run of one probe, within the concurrency bound; the report is handed on."""
        async with self.semaphore:
            time_ms = self.clock.now_ms()
            outcome = await self.check(spec)
        report = ProbeReport(time_ms, spec.name, spec.component,
                             spec.location or self.location, outcome)
        await self.report(report)
        return report
