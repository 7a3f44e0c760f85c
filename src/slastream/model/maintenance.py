"""Maintenance calendars: the weekly windows maintenance is allowed in, and blackouts.

An exclusion policy may name allowed windows (recurring weekly, wall-clock time in an IANA
zone) and blackout periods (whole local days: a fixed range every year or once, or a rule
such as "the 4th Monday of November and the 12 days after it"). The fields keep the config
file's syntax (``days: [Sat, Sun]``, ``hours: "05:00-09:00"``, ``first: "12-11"``), so a
policy written back (``openslo/config_syntax.py``) reads in again unchanged; the loader
(``config/maintenance.py``) has validated them, and the methods here compute with them.
See docs/semantics.md#maintenance-calendars.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slastream.model.support import WEEKDAYS

DAY = timedelta(days=1)


def local_ms(day: date, minute: int, zone: ZoneInfo) -> int:
    """Epoch ms of wall-clock ``minute`` after midnight of ``day`` in ``zone``.

    A wall-clock time the clocks skip (spring forward) or repeat (fall back) is taken with
    the offset before the change (``fold=0``): a window from 01:00 on the night the clocks
    go back starts at the first 01:00, one from 01:00 on the night they go forward starts
    at the instant the clocks jump.
    """
    day, minute = day + timedelta(days=minute // 1440), minute % 1440
    wall = datetime.combine(day, time(minute // 60, minute % 60), zone)
    return int(wall.timestamp()) * 1000


def local_day(ms: int, zone: ZoneInfo) -> date:
    """The calendar day in ``zone`` of the instant ``ms``."""
    return datetime.fromtimestamp(ms // 1000, zone).date()


def hours_minutes(hours: str) -> tuple[int, int]:
    """``"05:00-09:00"`` as minutes after midnight ``(300, 540)``; ``24:00`` is 1440."""
    start, end = hours.split("-")
    h1, m1 = start.strip().split(":")
    h2, m2 = end.strip().split(":")
    return int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)


@dataclass(frozen=True)
class MaintenanceWindow:
    """Maintenance is allowed on ``days`` between ``hours`` (wall clock in ``timezone``)."""

    days: tuple[str, ...]  # of WEEKDAYS
    hours: str  # "HH:MM-HH:MM", start before end, end at most 24:00
    timezone: str = "UTC"

    def __str__(self) -> str:
        return f"{', '.join(self.days)} {self.hours} {self.timezone}"

    def occurrences(self, start_ms: int, end_ms: int) -> Iterator[tuple[int, int]]:
        """The window's ``[start, end)`` instants from the local day of ``start_ms`` to that
        of ``end_ms``, in order."""
        zone = ZoneInfo(self.timezone)
        wanted = {WEEKDAYS.index(d) for d in self.days}
        lo, hi = hours_minutes(self.hours)
        day, last = local_day(start_ms, zone), local_day(end_ms, zone)
        while day <= last:
            if day.weekday() in wanted:
                yield local_ms(day, lo, zone), local_ms(day, hi, zone)
            day += DAY


def inside_windows(windows: tuple[MaintenanceWindow, ...], start_ms: int, end_ms: int) -> bool:
    """Does the union of the windows' occurrences cover ``[start_ms, end_ms)``?

    Windows that touch (Saturday 22:00-24:00 and Sunday 00:00-02:00) cover the span
    across them, so a window over midnight is written as two.
    """
    spans = sorted(s for w in windows for s in w.occurrences(start_ms, end_ms))
    covered = start_ms
    for lo, hi in spans:
        if lo > covered:
            return False
        covered = max(covered, hi)
        if covered >= end_ms:
            return True
    return covered >= end_ms


@dataclass(frozen=True)
class NthWeekday:
    """The ``n``-th ``weekday`` of ``month`` (``n`` 1-5, or -1 for the last)."""

    n: int
    weekday: str  # of WEEKDAYS
    month: int

    def in_year(self, year: int) -> date | None:
        """The day in ``year``; ``None`` in a year where the month has no such day."""
        wd = WEEKDAYS.index(self.weekday)
        if self.n > 0:
            first = date(year, self.month, 1)
            day = first + timedelta(days=(wd - first.weekday()) % 7 + 7 * (self.n - 1))
        else:
            nxt = date(year + self.month // 12, self.month % 12 + 1, 1)
            last = nxt - DAY
            day = last - timedelta(days=(last.weekday() - wd) % 7)
        return day if day.month == self.month else None


@dataclass(frozen=True)
class Blackout:
    """Whole local days in ``timezone`` when maintenance is not excused.

    Either ``first`` and ``last`` (inclusive): ``"MM-DD"`` every year, where a ``last``
    before ``first`` runs into the next year (``12-11`` to ``01-04``), or ``"YYYY-MM-DD"``
    once; or ``nth_weekday`` and ``days``: that day and the days after it, ``days`` in all,
    the day itself included.
    """

    name: str | None = None
    first: str | None = None
    last: str | None = None
    nth_weekday: NthWeekday | None = None
    days: int | None = None
    timezone: str = "UTC"

    def periods(self, first_year: int, last_year: int) -> Iterator[tuple[date, date]]:
        """Every ``(first, last)`` day of the blackout starting in ``first_year-1`` to
        ``last_year`` (a period starting the year before may still run)."""
        if self.nth_weekday is not None:
            for year in range(first_year - 1, last_year + 1):
                start = self.nth_weekday.in_year(year)
                if start is not None:
                    yield start, start + timedelta(days=(self.days or 1) - 1)
            return
        a, b = self.first or "", self.last or ""
        if len(a) > 5:  # YYYY-MM-DD: once
            yield date.fromisoformat(a), date.fromisoformat(b)
            return
        (m1, d1), (m2, d2) = (int(x) for x in a.split("-")), (int(x) for x in b.split("-"))
        wraps = (m2, d2) < (m1, d1)
        for year in range(first_year - 1, last_year + 1):
            yield date(year, m1, d1), date(year + wraps, m2, d2)

    def hit(self, start_ms: int, end_ms: int) -> tuple[date, date] | None:
        """The first period of this blackout that ``[start_ms, end_ms)`` overlaps."""
        zone = ZoneInfo(self.timezone)
        y0, y1 = local_day(start_ms, zone).year, local_day(end_ms, zone).year
        for first, last in self.periods(y0, y1):
            if local_ms(first, 0, zone) < end_ms and start_ms < local_ms(last + DAY, 0, zone):
                return first, last
        return None

    def describe(self, period: tuple[date, date]) -> str:
        """``"the high-demand blackout 2026-11-23 to 2026-12-05"``."""
        what = f"the {self.name} blackout" if self.name else "a blackout"
        return f"{what} {period[0].isoformat()} to {period[1].isoformat()}"
