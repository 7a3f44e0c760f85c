"""The 24-hour periods the allowance is measured over: the calendar days of the contract's
time zone, and the per-band totals of one day.

"Measuring of Request Allowance shall be as an average against a Customer's operational ADIs
by the relevant ADI Bands over 24 hour periods" (EVRYTHNG, Acceptable Use). The periods are
the local calendar days of the configured time zone, so every month is a whole number of
them and a day never straddles two months; on a daylight-saving change a day has 23 or 25
hours, and its means are per minute of the day it really had (1,380 or 1,500 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from slastream.model.time import MINUTE_MS

# columns of a day's per-band totals
ADIS, REQUESTS, SIZED, BYTES, OVER = range(5)
WIDTH = 5


def day_of(ms: int, timezone: str) -> tuple[int, int]:
    """The local calendar day containing ``ms``: its start and end (epoch ms, end exclusive)."""
    tz = ZoneInfo(timezone)
    local = datetime.fromtimestamp(ms // 1000, tz).date()
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    following = local + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=tz)
    return int(start.timestamp()) * 1000, int(end.timestamp()) * 1000


@dataclass
class DayTotals:
    """One day of one contract: per band (rows, in the terms' order) the operational ADIs,
    requests, requests with a known size, their bytes, and ADIs over the allowance. ADIs
    and the ADIs over are filled in when the day closes."""

    start_ms: int
    end_ms: int
    stats: npt.NDArray[np.int64]  # shape (bands, WIDTH)

    @classmethod
    def empty(cls, start_ms: int, end_ms: int, bands: int) -> DayTotals:
        return cls(start_ms, end_ms, np.zeros((bands, WIDTH), np.int64))

    @property
    def minutes(self) -> int:
        return (self.end_ms - self.start_ms) // MINUTE_MS
