"""A contract's request allowance for a month: per band and per day, intensive episodes.

The month's headline per band is judged on its complete days (the allowance is measured
per 24-hour period): ``mean_per_minute`` is the highest daily mean of the month (the day
that came closest to, or went over, the allowance), ``adis`` the ADIs operational on at
least one complete day, ``over_allowance`` the ADIs whose own requests per minute exceeded
the allowance on at least one complete day. A band mean exactly at the allowance is not
over. The day still open is listed (``complete`` false) with figures so far: its mean per
minute elapsed, and as "over" only the ADIs already past the whole day's allowance.

An intensive episode belongs to every month it overlaps, with its full start and end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from slastream.model.time import MINUTE_MS, Month, format_rfc3339_s
from slastream.model.usage import MB, Band
from slastream.usage import runs
from slastream.usage.counter import UsageCounter
from slastream.usage.days import ADIS, BYTES, OVER, REQUESTS, SIZED, DayTotals
from slastream.usage.offenders import Offender


@dataclass(frozen=True)
class BandDay:
    """One band on one day."""

    band: str
    adis: int  # operational ADIs: at least one request that day
    requests: int
    minutes: float  # the day's minutes (so far, for the open day)
    over_allowance: int  # ADIs whose own requests per minute exceeded the allowance
    over: bool  # the band's mean exceeded the allowance
    sized_requests: int  # requests whose size was known
    transfer_bytes: int
    transfer_mb_per_1000: float | None  # None: no request of the day had a size
    over_transfer: bool

    @property
    def mean_per_minute(self) -> float:
        return self.requests / (self.adis * self.minutes) if self.adis else 0.0


@dataclass(frozen=True)
class DayUsage:
    date: str  # the local date, YYYY-MM-DD
    start_ms: int
    end_ms: int
    complete: bool
    bands: tuple[BandDay, ...]


@dataclass(frozen=True)
class BandUsage:
    """One band over the complete days of a month."""

    band: str
    adis: int
    allowance_per_minute: float
    mean_per_minute: float  # the highest daily mean
    over_allowance: int
    days: int  # complete days with operational ADIs
    days_over: int  # complete days whose mean exceeded the allowance
    peak_day: str | None  # local date of the highest daily mean
    requests: int
    transfer_mb_per_1000: float | None  # the highest daily figure with sizes known
    transfer_allowance_mb_per_1000: float | None
    days_over_transfer: int
    offenders: tuple[Offender, ...]


@dataclass(frozen=True)
class IntensiveEpisode:
    client: str
    start_ms: int
    end_ms: int
    ongoing: bool  # the run may still go on (its last request is under a second old)

    @property
    def minutes(self) -> float:
        return (self.end_ms - self.start_ms) / MINUTE_MS


@dataclass(frozen=True)
class UsageReport:
    month: str
    timezone: str
    as_of_ms: int
    bands: tuple[BandUsage, ...]
    intensive: tuple[IntensiveEpisode, ...]
    days: tuple[DayUsage, ...]
    rejected: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, Any]:
        """The ledger's ``usage`` section."""
        return {
            "bands": [_band_json(b) for b in self.bands],
            "intensive": [{"client": e.client, "start": format_rfc3339_s(e.start_ms),
                           "end": format_rfc3339_s(e.end_ms), "minutes": round(e.minutes, 2),
                           "ongoing": e.ongoing} for e in self.intensive],
            "timezone": self.timezone,
            "days": [_day_json(d) for d in self.days],
            "rejected": dict(self.rejected),
        }


def _band_json(b: BandUsage) -> dict[str, Any]:
    return {
        "band": b.band, "adis": b.adis, "allowance_per_minute": b.allowance_per_minute,
        "mean_per_minute": round(b.mean_per_minute, 6), "over_allowance": b.over_allowance,
        "days": b.days, "days_over": b.days_over, "peak_day": b.peak_day,
        "requests": b.requests,
        "transfer_mb_per_1000": _round(b.transfer_mb_per_1000),
        "transfer_allowance_mb_per_1000": b.transfer_allowance_mb_per_1000,
        "days_over_transfer": b.days_over_transfer,
        "offenders": [{"client": o.client, "day_start": format_rfc3339_s(o.day_ms),
                       "requests": o.requests, "per_minute": round(o.per_minute, 6)}
                      for o in b.offenders],
    }


def _day_json(d: DayUsage) -> dict[str, Any]:
    return {
        "date": d.date, "start": format_rfc3339_s(d.start_ms), "end": format_rfc3339_s(d.end_ms),
        "complete": d.complete,
        "bands": [{"band": b.band, "adis": b.adis, "requests": b.requests,
                   "mean_per_minute": round(b.mean_per_minute, 6), "over": b.over,
                   "over_allowance": b.over_allowance,
                   "transfer_mb_per_1000": _round(b.transfer_mb_per_1000),
                   "over_transfer": b.over_transfer} for b in d.bands],
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def band_day(band: Band, row: list[int], minutes: float) -> BandDay:
    """A band's day from its totals row (``usage/days.py`` columns)."""
    adis, requests, sized, size = row[ADIS], row[REQUESTS], row[SIZED], row[BYTES]
    allowance = band.allowance
    over = bool(adis) and requests * allowance.denominator > (
        allowance.numerator * adis * Fraction(minutes))
    limit = band.limits.transfer_mb_per_1000
    transfer = size / MB * 1000 / adis if sized and adis else None
    over_transfer = transfer is not None and limit is not None and (
        size * 1000 > Fraction(repr(limit)) * MB * adis)
    return BandDay(band.name, adis, requests, minutes, row[OVER], over, sized, size,
                   transfer, over_transfer)


def _local_date(ms: int, timezone: str) -> str:
    return datetime.fromtimestamp(ms // 1000, ZoneInfo(timezone)).date().isoformat()


def _day(counter: UsageCounter, day: DayTotals, complete: bool) -> DayUsage:
    minutes: float = day.minutes
    stats = day.stats
    if not complete:  # figures so far; the ADIs over: already past the whole day's allowance
        stats = counter.open_day_totals()
        minutes = max(min(counter.watermark_ms, day.end_ms) - day.start_ms, MINUTE_MS) \
            / MINUTE_MS
    rows = stats.tolist()
    return DayUsage(_local_date(day.start_ms, counter.timezone), day.start_ms, day.end_ms,
                    complete, tuple(band_day(b, rows[i], minutes)
                                    for i, b in enumerate(counter.terms.bands)))


def usage_report(counter: UsageCounter, month: Month) -> UsageReport:
    """The request allowance of ``month`` as of the counter's watermark."""
    tz = counter.timezone
    days = [_day(counter, d, True) for d in counter.closed
            if month.start_ms <= d.start_ms < month.end_ms]
    if counter.day is not None and month.start_ms <= counter.day.start_ms < month.end_ms:
        days.append(_day(counter, counter.day, False))
    if counter.month == month.label:
        adis, over = counter.month_counts()
    else:
        zeros = np.zeros(counter.bands, np.int64)
        adis, over = counter.month_adis.get(month.label, (zeros, zeros))
    offenders = counter.offenders.get(month.label)
    bands = tuple(
        _band_usage(band, i, [d for d in days if d.complete], int(adis[i]), int(over[i]),
                    offenders[i] if offenders is not None else ())
        for i, band in enumerate(counter.terms.bands))
    return UsageReport(month.label, tz, counter.watermark_ms, bands,
                       _episodes(counter, month), tuple(days),
                       tuple(sorted(counter.rejected.items())))


def _band_usage(band: Band, i: int, days: list[DayUsage], adis: int, over: int,
                offenders: tuple[Offender, ...]) -> BandUsage:
    mine = [(d.date, d.bands[i]) for d in days if d.bands[i].adis]
    peak = max(mine, key=lambda x: x[1].mean_per_minute, default=None)
    transfers = [b.transfer_mb_per_1000 for _, b in mine if b.transfer_mb_per_1000 is not None]
    return BandUsage(
        band.name, adis, band.per_minute,
        peak[1].mean_per_minute if peak is not None else 0.0, over,
        len(mine), sum(b.over for _, b in mine), peak[0] if peak is not None else None,
        sum(b.requests for _, b in mine), max(transfers, default=None),
        band.limits.transfer_mb_per_1000, sum(b.over_transfer for _, b in mine), offenders)


def _episodes(counter: UsageCounter, month: Month) -> tuple[IntensiveEpisode, ...]:
    col, size = counter.devices.col, counter.devices.size
    terms = counter.terms.intensive
    found = [(d, s, e, False) for d, s, e in counter.episodes]
    still = runs.open_episodes(col["last"], col["start"], size, terms.max_ms)
    found.extend((d, s, e, counter.watermark_ms - e < terms.gap_ms) for d, s, e in zip(
        still.devices.tolist(), still.starts.tolist(), still.ends.tolist(), strict=True))
    out = [IntensiveEpisode(counter.devices.id(d), s, e, ongoing)
           for d, s, e, ongoing in found if s < month.end_ms and e >= month.start_ms]
    return tuple(sorted(out, key=lambda x: (x.start_ms, x.client)))


@dataclass(frozen=True)
class UsageFigures:
    """What /metrics shows per band (no ids): the day open now (figures so far) and the
    last complete day; intensive runs going on now and episodes of this month."""

    today: tuple[BandDay, ...]
    last_day: tuple[BandDay, ...]
    allowance_per_minute: tuple[tuple[str, float], ...]
    intensive_ongoing: int
    intensive_episodes: int
    rejected: tuple[tuple[str, int], ...]


def usage_figures(counter: UsageCounter) -> UsageFigures:
    """Label-safe figures of ``counter`` as of its watermark."""
    today = _day(counter, counter.day, False).bands if counter.day is not None else ()
    last = _day(counter, counter.closed[-1], True).bands if counter.closed else ()
    month = Month.containing(max(counter.watermark_ms, 0), counter.timezone)
    episodes = _episodes(counter, month)
    return UsageFigures(
        today, last, tuple((b.name, b.per_minute) for b in counter.terms.bands),
        sum(e.ongoing for e in episodes), len(episodes), tuple(sorted(counter.rejected.items())))
