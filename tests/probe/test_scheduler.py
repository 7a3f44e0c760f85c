"""The schedule: jittered intervals, no overlapping runs of one probe, bounded concurrency."""

from __future__ import annotations

import asyncio
import itertools
import random

from slastream.model.probes import HttpCheck, ProbeSpec
from slastream.probe.result import Outcome, ProbeReport
from slastream.probe.scheduler import Scheduler, SystemClock
from tests.probe.clock import VirtualClock

START_MS = 1_790_000_000_000


def spec(name: str, interval_s: float) -> ProbeSpec:
    return ProbeSpec(name=name, component="api", kind="http",
                     check=HttpCheck(url="http://unused"), interval_s=interval_s)


async def test_intervals_are_jittered_within_bounds() -> None:
    clock = VirtualClock(START_MS)
    times: list[int] = []

    async def check(s: ProbeSpec) -> Outcome:
        times.append(clock.now_ms())
        return Outcome(True, 200, 1.0)

    async def report(r: ProbeReport) -> None:
        pass

    stop = asyncio.Event()
    sched = Scheduler((spec("a", 60),), check, report, "lab", 4, 0.1, clock, random.Random(3))
    task = asyncio.create_task(sched.run(stop))
    await clock.advance(START_MS + 3_600_000, tasks=1)
    stop.set()
    await task
    assert START_MS <= times[0] < START_MS + 60_000
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) >= 55
    assert all(54_000 <= g <= 66_000 for g in gaps)
    assert len(set(gaps)) > len(gaps) // 2  # really jittered, not one fixed interval


async def test_a_run_longer_than_the_interval_never_overlaps_the_next() -> None:
    clock = VirtualClock(START_MS)
    runs: list[tuple[int, int]] = []
    active = 0
    most = 0

    async def slow(s: ProbeSpec) -> Outcome:
        nonlocal active, most
        active += 1
        most = max(most, active)
        begin = clock.now_ms()
        await clock.sleep(90)  # one and a half intervals
        runs.append((begin, clock.now_ms()))
        active -= 1
        return Outcome(True, 200, 90_000.0)

    reports: list[ProbeReport] = []

    async def report(r: ProbeReport) -> None:
        reports.append(r)

    stop = asyncio.Event()
    sched = Scheduler((spec("a", 60),), slow, report, "lab", 4, 0.0, clock, random.Random(1))
    task = asyncio.create_task(sched.run(stop))
    await clock.advance(START_MS + 1_800_000, tasks=1)
    stop.set()
    await task
    assert most == 1
    assert len(runs) >= 15
    assert all(end <= begin for (_, end), (begin, _) in itertools.pairwise(runs))
    assert sched.skipped >= 10  # it skipped to "now" instead of bursting to catch up
    assert [r.time_ms for r in reports] == [begin for begin, _ in runs]


async def most_in_flight(limit: int) -> int:
    active = 0
    most = 0
    done = 0
    stop = asyncio.Event()

    async def check(s: ProbeSpec) -> Outcome:
        nonlocal active, most, done
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.02)
        active -= 1
        done += 1
        if done >= 20:
            stop.set()
        return Outcome(True, 200, 20.0)

    async def report(r: ProbeReport) -> None:
        pass

    probes = tuple(spec(f"p{i}", 0.01) for i in range(5))
    sched = Scheduler(probes, check, report, "lab", limit, 0.0, SystemClock(), random.Random(2))
    await sched.run(stop)
    return most


async def test_concurrency_is_bounded_across_probes() -> None:
    assert await most_in_flight(1) == 1
    assert await most_in_flight(2) == 2
