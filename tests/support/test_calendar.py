"""Business calendars: worked dates, and properties across DST changes, holidays, year ends."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slastream.model.support import HOUR_MS, MINUTE_MS, BusinessHours
from slastream.support.calendar import ALWAYS_OPEN, BusinessCalendar, supported_country

ZONES = {
    "Europe/Berlin": ("DE", None),
    "America/Denver": ("US", None),
    "America/New_York": ("US", None),
    "Europe/London": ("GB", "ENG"),
    "Asia/Kuala_Lumpur": ("MY", None),
}
CALENDARS = [
    BusinessCalendar(BusinessHours(zone, country=country, subdivision=subdiv))
    for zone, (country, subdiv) in ZONES.items()
]
# 2025-10-01 .. 2028-04-01: four autumn and three spring DST changes, three year ends
T0 = int(datetime(2025, 10, 1, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
T1 = int(datetime(2028, 4, 1, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)

calendars = st.sampled_from(CALENDARS)
instants = st.integers(min_value=T0, max_value=T1)
durations = st.integers(min_value=0, max_value=12 * 9 * HOUR_MS)


def ms(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))
    return int(local.timestamp() * 1000)


BERLIN = BusinessCalendar(BusinessHours("Europe/Berlin", country="DE"))


def test_friday_afternoon_runs_into_monday() -> None:
    # Fri 2026-10-16 16:50 CEST: 10 min left on Friday, 110 min from Monday 08:00
    t = ms("Europe/Berlin", 2026, 10, 16, 16, 50)
    assert BERLIN.add_business(t, 2 * HOUR_MS) == ms("Europe/Berlin", 2026, 10, 19, 9, 50)


def test_deadline_that_uses_the_last_minute_falls_at_closing_time() -> None:
    t = ms("Europe/Berlin", 2026, 10, 16, 16, 50)
    assert BERLIN.add_business(t, 10 * MINUTE_MS) == ms("Europe/Berlin", 2026, 10, 16, 17, 0)


def test_outside_hours_starts_at_next_opening() -> None:
    t = ms("Europe/Berlin", 2026, 10, 17, 11, 0)  # Saturday
    assert BERLIN.add_business(t, HOUR_MS) == ms("Europe/Berlin", 2026, 10, 19, 9, 0)
    assert BERLIN.business_between(t, ms("Europe/Berlin", 2026, 10, 19, 8, 0)) == 0


def test_weekend_of_the_spring_dst_change() -> None:
    # Europe/Berlin moves to CEST on Sunday 2026-03-29; Friday 16:00 CET + 2 h → Monday 09:00 CEST
    t = ms("Europe/Berlin", 2026, 3, 27, 16, 0)
    due = BERLIN.add_business(t, 2 * HOUR_MS)
    assert due == ms("Europe/Berlin", 2026, 3, 30, 9, 0)
    assert due - t == (2 * 24 + 17) * HOUR_MS - HOUR_MS  # the weekend lost one real hour


def test_hours_that_straddle_the_dst_change_count_real_time() -> None:
    always = BusinessCalendar(BusinessHours("Europe/Berlin", days=(6,), start_min=0, end_min=1440))
    sunday = ms("Europe/Berlin", 2026, 3, 29, 0, 0)
    assert always.business_between(sunday, sunday + 48 * HOUR_MS) == 23 * HOUR_MS
    autumn = ms("Europe/Berlin", 2026, 10, 25, 0, 0)
    assert always.business_between(autumn, autumn + 48 * HOUR_MS) == 25 * HOUR_MS


def test_german_public_holiday_is_closed() -> None:
    # 2026-10-03 German Unity Day is a Saturday; Ascension Day 2026-05-14 a Thursday
    assert not BERLIN.is_open_day(date(2026, 5, 14))
    t = ms("Europe/Berlin", 2026, 5, 13, 16, 0)
    assert BERLIN.add_business(t, 2 * HOUR_MS) == ms("Europe/Berlin", 2026, 5, 15, 9, 0)


def test_uk_holiday_on_a_weekend_moves_to_a_weekday() -> None:
    london = BusinessCalendar(BusinessHours("Europe/London", country="GB", subdivision="ENG"))
    # Christmas 2027 is a Saturday, Boxing Day a Sunday: observed Monday 27 and Tuesday 28
    assert not london.is_open_day(date(2027, 12, 27))
    assert not london.is_open_day(date(2027, 12, 28))
    assert london.is_open_day(date(2027, 12, 29))


def test_year_end_with_a_closure_date() -> None:
    t = ms("Europe/Berlin", 2026, 12, 30, 16, 0)  # Wednesday
    assert BERLIN.add_business(t, 9 * HOUR_MS) == ms("Europe/Berlin", 2026, 12, 31, 16, 0)
    closed = BusinessCalendar(
        BusinessHours("Europe/Berlin", country="DE", closures=(date(2026, 12, 31),))
    )
    # 31 Dec closed, 1 Jan a holiday, then the weekend
    assert closed.add_business(t, 9 * HOUR_MS) == ms("Europe/Berlin", 2027, 1, 4, 16, 0)


def test_subdivision_holidays() -> None:
    bavaria = BusinessCalendar(BusinessHours("Europe/Berlin", country="DE", subdivision="BY"))
    assert not bavaria.is_open_day(date(2026, 1, 6))  # Epiphany in Bavaria
    assert BERLIN.is_open_day(date(2026, 1, 6))


def test_supported_country() -> None:
    assert supported_country("DE", "BY")
    assert not supported_country("DE", "XX")
    assert not supported_country("XX")


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError):
        BERLIN.add_business(T0, -1)


def test_always_open() -> None:
    assert ALWAYS_OPEN.add_business(T0, 5) == T0 + 5
    assert ALWAYS_OPEN.business_between(T0 + 5, T0) == -5


@settings(max_examples=150, deadline=None)
@given(calendars, instants, durations, durations)
def test_add_is_additive(cal: BusinessCalendar, t: int, a: int, b: int) -> None:
    assert cal.add_business(cal.add_business(t, a), b) == cal.add_business(t, a + b)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, durations)
def test_between_inverts_add(cal: BusinessCalendar, t: int, d: int) -> None:
    u = cal.add_business(t, d)
    assert u >= t
    assert cal.business_between(t, u) == d
    assert cal.business_between(u, t) == -d


@settings(max_examples=150, deadline=None)
@given(calendars, instants, instants)
def test_add_of_between_is_the_earliest_instant(cal: BusinessCalendar, a: int, b: int) -> None:
    a, b = min(a, b), max(a, b)
    u = cal.add_business(a, cal.business_between(a, b))
    assert a <= u <= b
    assert cal.business_between(u, b) == 0


@settings(max_examples=150, deadline=None)
@given(calendars, instants, instants, durations, durations)
def test_monotone(cal: BusinessCalendar, t1: int, t2: int, d1: int, d2: int) -> None:
    t1, t2 = min(t1, t2), max(t1, t2)
    d1, d2 = min(d1, d2), max(d1, d2)
    assert cal.add_business(t1, d1) <= cal.add_business(t1, d2)
    assert cal.add_business(t1, d1) <= cal.add_business(t2, d1)
    assert cal.business_between(t1, t2) >= 0


@settings(max_examples=150, deadline=None)
@given(calendars, instants, st.integers(min_value=1, max_value=12 * 9 * HOUR_MS))
def test_a_positive_deadline_lies_in_business_hours(
    cal: BusinessCalendar, t: int, d: int
) -> None:
    u = cal.add_business(t, d)
    interval = cal.opening(cal.local_date(u - 1))
    assert interval is not None and interval[0] < u <= interval[1]


@settings(max_examples=100, deadline=None)
@given(calendars, instants, instants, instants)
def test_between_splits_at_any_point(cal: BusinessCalendar, a: int, m: int, b: int) -> None:
    assert cal.business_between(a, b) == cal.business_between(a, m) + cal.business_between(m, b)
