"""Availability per day: the days add up to the ledger's month (docs/report.md#daily-chart)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from slastream.model.ledger import Episode, Period
from slastream.model.time import MINUTE_MS, Month
from slastream.report.daily import daily, day_bounds, no_data_by_day
from tests.report.seeds import Seed

H = 60 * MINUTE_MS


def period_of(label: str, tz: str, as_of_ms: int | None = None) -> Period:
    m = Month.parse(label, tz)
    return Period(m.start_ms, m.end_ms, tz, m.minutes,
                  m.end_ms if as_of_ms is None else as_of_ms)


def test_days_add_up_to_the_ledger(seed: Seed) -> None:
    ledger = seed.ledger
    for e in ledger.slos:
        nd = no_data_by_day(seed.settings.slo(e.name), e.scope, seed.engine.store,
                            ledger.period)
        days = daily(ledger.period, e.episodes, nd)
        assert sum(d.final_minutes for d in days) == e.total_minutes
        assert sum(d.downtime_minutes for d in days) == e.downtime_minutes, e.name
        assert sum(d.excused_minutes for d in days) == e.excused_minutes, e.name
        assert sum(nd) == e.no_data_minutes, e.name


def test_mclimate_first_day_and_a_day_without_evidence(mclimate: Seed) -> None:
    ledger = mclimate.ledger
    home = next(e for e in ledger.slos if e.name == "home-app-availability")
    nd = no_data_by_day(mclimate.settings.slo(home.name), home.scope, mclimate.engine.store,
                        ledger.period)
    days = daily(ledger.period, home.episodes, nd)
    assert len(days) == 30
    first = days[0]
    # down 18:00-19:30 (60 min excused by the cap, 30 counted) and 20:00-20:20
    assert (first.downtime_minutes, first.excused_minutes) == (50.0, 60.0)
    assert first.availability == pytest.approx((1440 - 60 - 50) / (1440 - 60))
    assert first.no_data_minutes == 0
    second = days[1]
    assert (second.availability, second.no_data_minutes, second.final_minutes) == (
        1.0, 1440, 1440)


def test_days_follow_the_time_zone_across_a_clock_change() -> None:
    period = period_of("2026-10", "Europe/Berlin")
    bounds = day_bounds(period)
    assert len(bounds) == 31
    assert bounds[0][0] == period.start_ms and bounds[-1][1] == period.end_ms
    hours = [(b - a) // H for a, b in bounds]
    assert hours[24] == 25  # 25 October 2026: clocks go back an hour
    assert hours.count(24) == 30
    assert all(b == a2 for (_, b), (a2, _) in pairwise(bounds))


def test_an_episode_over_midnight_and_days_not_judged_yet() -> None:
    start = Month.parse("2026-09", "UTC").start_ms
    as_of = start + 2 * 24 * H + 6 * H  # 3 September 06:00
    period = period_of("2026-09", "UTC", as_of)
    ep = Episode(start + 23 * H, start + 25 * H, 120.0, False, "down", False)
    days = daily(period, (ep,), None)
    assert [d.downtime_minutes for d in days[:3]] == [60.0, 60.0, 0.0]
    assert days[0].availability == pytest.approx(1 - 60 / 1440)
    assert days[2].final_minutes == 360 and days[2].availability == 1.0
    assert all(d.availability is None and d.final_minutes == 0 for d in days[3:])
    assert days[0].no_data_minutes is None


def test_a_wholly_excused_day_is_available() -> None:
    period = period_of("2026-09", "UTC")
    ep = Episode(period.start_ms, period.start_ms + 24 * H, 1440.0, True, "excused", False)
    assert daily(period, (ep,))[0].availability == 1.0
