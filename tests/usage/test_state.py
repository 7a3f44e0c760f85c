"""Checkpoints (plain data and arrays) and the per-device memory bound."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from slastream.usage.counter import UsageCounter
from tests.usage.helpers import every, ms, report, spread, terms

DAY = ms("2026-10-30T00:00:00")


def traffic() -> list[Any]:
    """Three days across a month end: A devices near the allowance, one intensive run
    over midnight into November, and offenders."""
    out = []
    for d in range(3):
        at = DAY + d * 86_400_000
        out += spread("a-1", at, 721) + spread("a-2", at, 700) + spread("trial-9", at, 300)
    out += every("b-7", ms("2026-10-31T23:55:00"), 400, 2000)
    return sorted(out)


def plain(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return bool(value.dtype != object)
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return isinstance(value, int | float | str)


def test_restored_counter_gives_the_same_ledgers() -> None:
    """Stop after every 1,000 requests, checkpoint, restore into a fresh counter and go on:
    October's and November's ledgers equal those of one uninterrupted run."""
    requests = traffic()
    whole = UsageCounter(terms(), "UTC", 120)
    resumed = UsageCounter(terms(), "UTC", 120)
    for i in range(0, len(requests), 1000):
        for counter in (whole, resumed):
            counter.feed(requests[i:i + 1000])
            counter.advance()
        state = resumed.state()
        assert all(plain(v) for v in state.values())
        resumed = UsageCounter(terms(), "UTC", 120)
        resumed.load_state(state)
    for counter in (whole, resumed):
        counter.flush()
    for month in ("2026-10", "2026-11"):
        assert report(resumed, month).to_json() == report(whole, month).to_json()
    oct_json = report(whole, "2026-10").to_json()
    assert oct_json["bands"][3]["over_allowance"] == 1
    assert [e["client"] for e in oct_json["intensive"]] == ["b-7"]


def test_malformed_state_is_a_value_error() -> None:
    counter = UsageCounter(terms(), "UTC", 120)
    counter.feed(traffic()[:500])
    state = counter.state()
    state["day_stats"] = state["day_stats"][:, :2]
    with pytest.raises(ValueError):
        UsageCounter(terms(), "UTC", 120).load_state(state)
    state = counter.state()
    state["device_id_ends"] = state["device_id_ends"][::-1].copy()
    with pytest.raises(ValueError):
        UsageCounter(terms(), "UTC", 120).load_state(state)


def test_state_per_device_is_at_most_150_bytes() -> None:
    """50,000 devices with 14-character ids, each with one request and one run in flight:
    the counter's memory (traced allocations that stay) is at most 150 bytes per device.
    ``benchmarks/usage_state.py`` measures the same at 1,000,000."""
    n = 50_000
    at = ms("2026-10-05T10:00:00")
    clients = [f"a-thng-{i:07d}" for i in range(n)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        counter = UsageCounter(terms(), "UTC", 120)
        for i in range(0, n, 5000):
            counter.feed([every(c, at + i, 1, 1)[0] for c in clients[i:i + 5000]])
            counter.advance()
        counter.advance(at + 60_000)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert counter.devices.size == n
    assert used / n <= 150, used / n
