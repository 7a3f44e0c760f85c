"""Business calendars: weekly hours in an IANA zone, public holidays, closure dates.

Times are epoch milliseconds, like every other time in slastream. Business time is real
elapsed time inside the opening intervals, so a day whose hours straddle a DST change
counts what the wall clock really showed. Public holidays come from the ``holidays``
package (observed days included, e.g. a UK Boxing Day on a Saturday moves to Monday).

``add_business(t, d)`` is the earliest instant ``u >= t`` with ``business_between(t, u)
== d``: a deadline that uses up a day's last minute falls at closing time (Friday 17:00),
not at the next opening. With that choice ``add`` is additive and the exact inverse of
``between``, which the property tests check.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import ModuleType
from typing import Protocol
from zoneinfo import ZoneInfo

from slastream.model.support import DAY_MS, BusinessHours

_ONE_DAY = timedelta(days=1)
_MAX_DAYS = 366 * 50  # far beyond any deadline; a calendar with no open day ends here


class Clock(Protocol):
    """How a deadline elapses: every millisecond, or business hours only."""

    @property
    def day_ms(self) -> int:
        """Length of "1 day" on this clock."""

    def add_business(self, t_ms: int, duration_ms: int) -> int:
        """The earliest instant at which ``duration_ms`` of clock time has elapsed since t."""

    def business_between(self, a_ms: int, b_ms: int) -> int:
        """Clock time from a to b (negative when b is before a)."""

    def is_business_day(self, t_ms: int) -> bool:
        """Whether t falls on a business day (its local date)."""


class AlwaysOpen:
    """The 24x7 clock."""

    day_ms = DAY_MS

    def add_business(self, t_ms: int, duration_ms: int) -> int:
        return t_ms + duration_ms

    def business_between(self, a_ms: int, b_ms: int) -> int:
        return b_ms - a_ms

    def is_business_day(self, t_ms: int) -> bool:
        return True


ALWAYS_OPEN = AlwaysOpen()


class BusinessCalendar:
    """Business hours of one region for one holiday country (see ``BusinessHours``)."""

    def __init__(self, hours: BusinessHours) -> None:
        self.hours = hours
        self.day_ms = hours.day_ms
        self._tz = ZoneInfo(hours.timezone)
        self._days = frozenset(hours.days)
        self._closures = frozenset(hours.closures)
        self._holidays = (
            _holidays().country_holidays(hours.country, subdiv=hours.subdivision)
            if hours.country
            else None
        )
        self._open: dict[date, tuple[int, int] | None] = {}

    def local_date(self, t_ms: int) -> date:
        return datetime.fromtimestamp(t_ms / 1000, tz=self._tz).date()

    def is_open_day(self, d: date) -> bool:
        """A business day: an opening weekday, not a public holiday, not a closure."""
        if d.weekday() not in self._days or d in self._closures:
            return False
        return self._holidays is None or d not in self._holidays

    def is_business_day(self, t_ms: int) -> bool:
        return self.is_open_day(self.local_date(t_ms))

    def opening(self, d: date) -> tuple[int, int] | None:
        """The open interval ``[start, end)`` of a local date in epoch ms, or None."""
        if d in self._open:
            return self._open[d]
        interval: tuple[int, int] | None = None
        if self.is_open_day(d):
            start = self._ms(d, self.hours.start_min)
            end = self._ms(d, self.hours.end_min)
            if end > start:  # a DST jump inside very short hours can leave nothing
                interval = (start, end)
        self._open[d] = interval
        return interval

    def _ms(self, d: date, minute: int) -> int:
        day, minute = divmod(minute, 1440)  # end_min 1440 is next midnight
        local = datetime.combine(d + timedelta(days=day), time(minute // 60, minute % 60))
        return int(local.replace(tzinfo=self._tz).timestamp() * 1000)

    def business_between(self, a_ms: int, b_ms: int) -> int:
        if b_ms < a_ms:
            return -self.business_between(b_ms, a_ms)
        total = 0
        d = self.local_date(a_ms)
        last = self.local_date(b_ms)
        while d <= last:
            interval = self.opening(d)
            if interval is not None:
                lo = max(interval[0], a_ms)
                hi = min(interval[1], b_ms)
                if hi > lo:
                    total += hi - lo
            d += _ONE_DAY
        return total

    def add_business(self, t_ms: int, duration_ms: int) -> int:
        if duration_ms < 0:
            raise ValueError("duration must not be negative")
        if duration_ms == 0:
            return t_ms
        remaining = duration_ms
        d = self.local_date(t_ms)
        for _ in range(_MAX_DAYS):
            interval = self.opening(d)
            if interval is not None:
                start = max(interval[0], t_ms)
                if start < interval[1]:
                    available = interval[1] - start
                    if remaining <= available:
                        return start + remaining
                    remaining -= available
            d += _ONE_DAY
        raise ValueError(f"no business hours within {_MAX_DAYS} days of {self.hours}")


def _holidays() -> ModuleType:
    """The ``holidays`` package, imported on first use: 40 ms of start-up that only
    contracts with business hours need."""
    import holidays

    return holidays


@lru_cache(maxsize=256)
def calendar_for(hours: BusinessHours) -> BusinessCalendar:
    """One calendar per distinct ``BusinessHours`` (their caches are worth keeping)."""
    return BusinessCalendar(hours)


def supported_country(country: str, subdivision: str | None = None) -> bool:
    """Whether the ``holidays`` package knows this country (and subdivision)."""
    subdivisions = _holidays().list_supported_countries().get(country)
    if subdivisions is None:
        return False
    return subdivision is None or subdivision in subdivisions
