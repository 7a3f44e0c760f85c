"""Time helpers: RFC 3339 parsing on the hot path, minutes, calendar months in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

MINUTE_MS = 60_000

_second_cache: dict[str, int] = {}


def parse_rfc3339_ms(text: str) -> int:
    """Parse an RFC 3339 timestamp into epoch milliseconds (UTC).

    Accepts ``Z`` or a numeric offset, and 0 to 9 fractional digits (ChirpStack writes
    nanoseconds). The whole-second part is cached, because a capture holds thousands of
    messages per second and the date arithmetic is the slow part.
    Raises ``ValueError`` on anything else.
    """
    # fast path: the bridge's own format, 2026-10-01T00:00:01.250Z
    if len(text) == 24 and text[23] == "Z" and text[19] == ".":
        base = _second_cache.get(text[:19])
        if base is not None and text[20:23].isdigit():
            return base + int(text[20:23])
    if len(text) < 20 or text[10] not in "Tt ":
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    head = text[:19]
    rest = text[19:]
    frac_ms = 0
    if rest[0] == ".":
        i = 1
        n = len(rest)
        while i < n and rest[i].isdigit():
            i += 1
        digits = rest[1:i]
        if not digits:
            raise ValueError(f"empty fraction in timestamp: {text!r}")
        frac_ms = int((digits + "00")[:3])
        rest = rest[i:]
    if rest in ("Z", "z", "+00:00", "-00:00"):
        base = _second_cache.get(head)
        if base is None:
            base = int(datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp()) * 1000
            if len(_second_cache) > 100_000:
                _second_cache.clear()
            _second_cache[head] = base
        return base + frac_ms
    dt = datetime.fromisoformat(head + rest)
    if dt.tzinfo is None:
        raise ValueError(f"timestamp without offset: {text!r}")
    return int(dt.timestamp()) * 1000 + frac_ms


def format_rfc3339_ms(ms: int) -> str:
    """Format epoch milliseconds as ``2026-10-01T00:00:01.250Z``."""
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def format_rfc3339_s(ms: int) -> str:
    """Format epoch milliseconds as ``2026-10-01T00:00:00Z`` (whole seconds, for ledgers)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")



class Month:
    """A calendar month in an IANA time zone, as a half-open range of epoch minutes."""

    def __init__(self, year: int, month: int, timezone: str) -> None:
        self.year = year
        self.month = month
        self.timezone = timezone
        tz = ZoneInfo(timezone)
        start = datetime(year, month, 1, tzinfo=tz)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
        self.start_ms = int(start.timestamp()) * 1000
        self.end_ms = int(end.timestamp()) * 1000
        self.start_minute = self.start_ms // MINUTE_MS
        self.end_minute = self.end_ms // MINUTE_MS

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def parse(cls, label: str, timezone: str) -> Month:
        """``YYYY-MM`` → Month; raises ``ValueError`` on a bad label."""
        try:
            year_s, month_s = label.split("-")
            year, month = int(year_s), int(month_s)
        except ValueError:
            raise ValueError(f"month must be YYYY-MM, got {label!r}") from None
        if not 1 <= month <= 12 or not 1970 <= year <= 9999 or len(year_s) != 4:
            raise ValueError(f"month must be YYYY-MM, got {label!r}")
        return cls(year, month, timezone)

    @classmethod
    def containing(cls, ms: int, timezone: str) -> Month:
        local = datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(timezone))
        return cls(local.year, local.month, timezone)

    def next(self) -> Month:
        return Month(self.year + (self.month == 12), self.month % 12 + 1, self.timezone)

    def __repr__(self) -> str:
        return f"Month({self.label}, {self.timezone})"


def now_ms() -> int:
    return int(datetime.now(tz=UTC).timestamp() * 1000)

