"""How the human formats (HTML, PDF) write numbers and times.

Availability is a percentage with four decimals (``99.8843 %``); the ledger's ratios are
rounded to six decimals, so nothing is lost. Times are local to the period's time zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from slastream.model.ledger import Period
from slastream.model.time import parse_rfc3339_ms

DASH = "—"


def pct4(value: float | None) -> str:
    """An availability or a target: ``99.8843 %``."""
    return DASH if value is None else f"{value * 100:.4f} %"


def pct2(value: float | None) -> str:
    """A credit or a coverage: ``15.00 %``."""
    return DASH if value is None else f"{value * 100:.2f} %"


def minutes(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.0f} min" if float(value).is_integer() else f"{value:.1f} min"


def local(ms: int, period: Period, seconds: bool = False) -> str:
    """``2026-09-01 12:00`` in the period's time zone."""
    dt = datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(period.timezone))
    return dt.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_rfc3339(text: str, period: Period) -> str:
    """An RFC 3339 time from the ledger's JSON, local; unchanged when it is not one."""
    try:
        return local(parse_rfc3339_ms(text), period)
    except ValueError:
        return text


def day_label(ms: int, period: Period) -> str:
    """``Tue 1 Sep``."""
    dt = datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(period.timezone))
    return f"{dt:%a} {dt.day} {dt:%b}"


def month_label(period: Period) -> str:
    """``September 2026``."""
    return datetime.fromtimestamp(period.start_ms / 1000, tz=ZoneInfo(period.timezone)) \
        .strftime("%B %Y")


def month_key(period: Period) -> str:
    """``2026-09``."""
    return datetime.fromtimestamp(period.start_ms / 1000, tz=ZoneInfo(period.timezone)) \
        .strftime("%Y-%m")


def met_text(met: bool | None, status: str | None) -> str:
    """The verdict in words (never a colour alone)."""
    if status == "insufficient_data":
        return "insufficient data"
    if met is None:
        return DASH
    return "met" if met else "not met"
