"""Availability per calendar day of the period, for the report's daily chart.

A day's downtime and excused minutes are the parts of the ledger's episodes that fall on
that day, so the days add up to the month exactly: the episodes already carry the whole
judgement (the downtime rule's window and minimum duration, the exclusions' notice and
monthly cap, docs/semantics.md). Minutes without evidence per day come from the slices'
minute states (``slo.downtime.minute_states``), where slices are at hand; a ledger read
from a worker has none, and its days then say nothing about evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from slastream.model.ledger import Episode, Period
from slastream.model.spec import SLO
from slastream.model.time import MINUTE_MS
from slastream.sli.slices import SliceStore
from slastream.slo import downtime


@dataclass(frozen=True, slots=True)
class Day:
    """One calendar day (in the period's time zone) of one SLO and scope.

    ``final_minutes`` are the day's minutes before the period's ``as_of`` (0: the day is
    not judged yet, and ``availability`` is None); ``no_data_minutes`` is None when unknown.
    """

    start_ms: int
    end_ms: int
    final_minutes: int
    downtime_minutes: float
    excused_minutes: float
    no_data_minutes: int | None
    availability: float | None


def day_bounds(period: Period) -> list[tuple[int, int]]:
    """The period's calendar days as ``(start_ms, end_ms)``, midnight to midnight local time
    (a day may have 23 or 25 hours where the time zone changes its offset)."""
    tz = ZoneInfo(period.timezone)
    day = datetime.fromtimestamp(period.start_ms / 1000, tz=tz).date()
    out = []
    start = period.start_ms
    while start < period.end_ms:
        day += timedelta(days=1)
        nxt = int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()) * 1000
        out.append((start, min(nxt, period.end_ms)))
        start = nxt
    return out


def _overlap_minutes(episodes: Iterable[Episode], start_ms: int, end_ms: int) -> float:
    return sum(max(0, min(ep.end_ms, end_ms) - max(ep.start_ms, start_ms))
               for ep in episodes) / MINUTE_MS


def daily(period: Period, episodes: tuple[Episode, ...],
          no_data: list[int] | None = None) -> tuple[Day, ...]:
    """Per day: final minutes, downtime and excused minutes, availability (the ledger's
    formula: (minutes − excused − downtime) / (minutes − excused), 1 when nothing counts).

    ``no_data`` gives the minutes without evidence per day (from :func:`no_data_by_day`).
    """
    counted = [ep for ep in episodes if not ep.excused]
    excused = [ep for ep in episodes if ep.excused]
    out = []
    for i, (a, b) in enumerate(day_bounds(period)):
        final = max(0, (min(b, period.as_of_ms) - a) // MINUTE_MS)
        down = _overlap_minutes(counted, a, b)
        exc = _overlap_minutes(excused, a, b)
        denom = final - exc
        avail = None if final == 0 else ((denom - down) / denom if denom > 0 else 1.0)
        out.append(Day(a, b, int(final), down, exc,
                       None if no_data is None else no_data[i], avail))
    return tuple(out)


def no_data_by_day(slo: SLO, scope: str, store: SliceStore, period: Period) -> list[int]:
    """Minutes without enough evidence per day, judged by the SLO's downtime rule on the
    slices (the same minute states the ledger's ``no_data_minutes`` counts)."""
    rule = slo.downtime
    m0, m1 = period.start_ms // MINUTE_MS, period.as_of_ms // MINUTE_MS
    lo = m0 - rule.window_min  # the trailing window of the first minute reaches back
    states, _ = downtime.minute_states(store.matrix(slo.name, scope, lo, max(m1, m0)), rule)
    missing = states[m0 - lo:] == downtime.NO_DATA
    out = []
    for a, b in day_bounds(period):
        i, j = a // MINUTE_MS - m0, b // MINUTE_MS - m0
        out.append(int(np.count_nonzero(missing[max(i, 0):max(j, 0)])))
    return out
