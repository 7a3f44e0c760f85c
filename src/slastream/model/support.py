"""Support terms of a contract as frozen values: severities, clocks, targets, regions.

Built by ``slastream.config.support.parse_support`` from a contract's ``support`` mapping and
read by ``slastream.support.evaluate``. Durations are integer milliseconds on the clock they
run on; "day" on a business clock is one business day's nominal hours (see ``Target``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

ClockKind = Literal["24x7", "business"]
TimeUnit = Literal["minutes", "hours", "days"]
# What starts the reaction clock: the opening; or, where the customer must phone on
# non-business days (Cumulocity 4.1.5), also the phone contact made on such a day.
ClockStart = Literal["opened", "contact_on_non_business_days"]
StopEvent = Literal["response", "plan", "resolved"]

CLOCK_KINDS: tuple[ClockKind, ...] = ("24x7", "business")
CLOCK_STARTS: tuple[ClockStart, ...] = ("opened", "contact_on_non_business_days")
STOP_EVENTS: tuple[StopEvent, ...] = ("response", "plan", "resolved")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Target:
    """A contractual duration such as "30 minutes", "2 hours", "5 business days".

    ``clock`` says how it elapses: "24x7" counts every millisecond, "business" only the
    business hours of the ticket's region. A day on the 24x7 clock is 24 h; on the business
    clock it is one business day's nominal hours (9 h for 08:00-17:00), so "1 business day
    after 16:50 on Friday" is 16:50 on the next business day when no holiday intervenes.
    """

    amount: float
    unit: TimeUnit
    clock: ClockKind

    def to_ms(self, business_day_ms: int) -> int:
        """The duration in milliseconds of this target's clock."""
        if self.unit == "minutes":
            per = MINUTE_MS
        elif self.unit == "hours":
            per = HOUR_MS
        else:
            per = business_day_ms if self.clock == "business" else DAY_MS
        return round(self.amount * per)

    @property
    def text(self) -> str:
        """How the contract writes it: ``2 business days``, ``30 minutes``."""
        amount = f"{self.amount:g}"
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{amount} {'business ' if self.clock == 'business' else ''}{unit}"


@dataclass(frozen=True)
class Obligation:
    """A deadline: ``within`` of the clock start, met by the first ``stops`` event."""

    within: Target
    stops: StopEvent


@dataclass(frozen=True)
class EscalationStep:
    """One rung of a management escalation ladder: after ``after``, escalate ``to``."""

    after: Target
    to: str


@dataclass(frozen=True)
class SeverityTerms:
    """What a contract promises for one severity (its own name, e.g. "Crisis")."""

    name: str
    clock: ClockKind
    reaction: Obligation
    starts: ClockStart = "opened"
    resolution: Obligation | None = None
    escalation: tuple[EscalationStep, ...] = ()


@dataclass(frozen=True)
class BusinessHours:
    """Weekly opening hours in an IANA zone, minus public holidays and closure dates.

    ``days`` are weekday numbers (0 = Monday); ``start_min``/``end_min`` minutes after local
    midnight (``end_min`` up to 1440). ``country``/``subdivision`` select the public holidays
    (ISO 3166 codes as the ``holidays`` package knows them); ``None``: no public holidays.
    """

    timezone: str
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start_min: int = 8 * 60
    end_min: int = 17 * 60
    country: str | None = None
    subdivision: str | None = None
    closures: tuple[date, ...] = ()

    @property
    def day_ms(self) -> int:
        """Nominal length of one business day: what "1 business day" means."""
        return (self.end_min - self.start_min) * MINUTE_MS


@dataclass(frozen=True)
class Region:
    """A support region: its hub's business hours.

    ``customer_holidays``: public holidays are those of the customer's country (the ticket's
    ``country``, else ``hours.country``), as in Cumulocity's "Business Day" definition; when
    false, always ``hours.country`` (EVRYTHNG: US holidays for the Americas, UK otherwise).
    """

    name: str
    hours: BusinessHours
    customer_holidays: bool = False


@dataclass(frozen=True)
class SupportTerms:
    """A contract's support obligations. ``severities`` are ordered most severe first."""

    severities: tuple[SeverityTerms, ...]
    regions: tuple[Region, ...]
    default_region: str
    near_deadline_s: int = 1800

    def severity(self, name: str) -> SeverityTerms | None:
        for s in self.severities:
            if s.name == name:
                return s
        return None

    def region(self, name: str | None) -> Region:
        """The named region, or the default one for a missing or unknown name."""
        for r in self.regions:
            if r.name == name:
                return r
        for r in self.regions:
            if r.name == self.default_region:
                return r
        raise KeyError(self.default_region)
