"""Intensive communication: runs of requests less than a second apart, per device.

The EVRYTHNG SLA (Acceptable Use) lets a device in an intensive-communication state make
requests no "more than once every one (1) second and for periods of no longer than 10
minutes". What is measured here is the period of requests "more than once every second":

* a *run* is a maximal sequence of one device's requests, in time order, in which each
  request comes less than ``gap_ms`` (1 s for one request per second) after the one before;
* the run lasts from its first request to its last;
* an *episode* is a run lasting longer than ``max_ms`` (10 minutes; exactly 10 is allowed).

So 2 requests per second from 10:00:00.0 to 10:12:00.0 is one 12-minute episode; the same
for 9 minutes is none; one request every second exactly is no run at all (its gaps are not
less than a second), and a single gap of a second or more ends a run. The gap rule follows
the contract's "once every one second" and tolerates jitter that a count per calendar second
would not (a 2-per-second device whose requests drift across second boundaries still has
gaps under a second).

Per device the state is two int64 values: the time of its last request and the start of its
current run. Requests must come in time order per device (the counter sorts them up to its
watermark); ``advance`` is vectorised over a whole sorted chunk.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

# last/start of a device that has made no request yet: far enough back for any gap
NEVER = -(2**62)


class Runs(NamedTuple):
    """Runs that ended as episodes: device, first and last request time (ms)."""

    devices: I64
    starts: I64
    ends: I64


def advance(devices: I64, times: I64, last: I64, start: I64,
            gap_ms: int, max_ms: int) -> Runs:
    """Extend the runs with requests sorted by (device, time), all at or after each device's
    ``last``; update ``last`` and ``start`` in place; return the runs that ended as episodes.

    A run "ends" when a later request of its device comes ``gap_ms`` or more after its last
    one; runs still going are read with ``open_episodes``.
    """
    n = len(devices)
    if n == 0:
        return Runs(devices, devices, devices)
    first = np.ones(n, bool)
    first[1:] = devices[1:] != devices[:-1]
    first_dev = devices[first]
    prev = np.empty(n, np.int64)
    prev[1:] = times[:-1]
    prev[first] = last[first_dev]
    breaks = (times - prev) >= gap_ms
    # the run each request belongs to starts at the latest break (or the device's stored
    # run start) at or before it, within its device's group
    seed = np.where(breaks, times, 0)
    seed[first & ~breaks] = start[devices[first & ~breaks]]
    at = np.where(breaks | first, np.arange(n), 0)
    np.maximum.accumulate(at, out=at)
    run_start = seed[at]
    prev_start = np.empty(n, np.int64)
    prev_start[1:] = run_start[:-1]
    prev_start[first] = start[first_dev]
    ended = breaks & (prev - prev_start > max_ms)
    final = np.ones(n, bool)
    final[:-1] = first[1:]
    last[devices[final]] = times[final]
    start[devices[final]] = run_start[final]
    return Runs(devices[ended], prev_start[ended], prev[ended])


def open_episodes(last: I64, start: I64, size: int, max_ms: int) -> Runs:
    """Runs not yet ended that already last longer than ``max_ms``."""
    long = np.flatnonzero(last[:size] - start[:size] > max_ms).astype(np.int64)
    return Runs(long, start[long], last[long])
