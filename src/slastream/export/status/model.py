"""What the status page shows, as values: states, daily bars, incidents, maintenance.

States (docs/interfaces.md#http-endpoints), worst first:

* ``outage``: an episode of counted downtime reaches the last final minute;
* ``maintenance``: an accepted exclusion covers the last final minute, or an excused
  episode is still open;
* ``degraded``: no outage episode, but the SLI over the month is below its target;
* ``no_data``: not one minute of the month had evidence (the ledger's ``coverage`` is 0);
* ``insufficient_data``: the ledger's ``status`` (docs/semantics.md#coverage);
* ``operational``: none of the above.

A contract takes the worst state of its SLOs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from slastream.model.events import Exclusion
from slastream.model.ledger import ContractEntry, Episode, ExclusionEntry, Ledger, SLOEntry
from slastream.model.spec import Settings
from slastream.report.daily import Day
from slastream.slo.exclusions import applies_to

State = Literal["outage", "maintenance", "degraded", "no_data", "insufficient_data",
                "operational"]
STATES: tuple[State, ...] = ("outage", "maintenance", "degraded", "no_data",
                             "insufficient_data", "operational")  # worst first
STATE_TEXT: dict[State, str] = {
    "outage": "Outage", "degraded": "Degraded", "maintenance": "Under maintenance",
    "no_data": "No data", "insufficient_data": "Insufficient data",
    "operational": "Operational"}

DayKind = Literal["ok", "downtime", "below", "maintenance", "no_data"]
DAY_TEXT: dict[DayKind, str] = {
    "ok": "no downtime", "downtime": "downtime within the target",
    "below": "below the target", "maintenance": "excused maintenance",
    "no_data": "no data"}


@dataclass(frozen=True, slots=True)
class DayBar:
    """One day of one SLO in the 90-day history; ``availability`` None: no data."""

    date: str  # YYYY-MM-DD in the config's time zone
    start_ms: int
    availability: float | None
    downtime_minutes: float
    excused_minutes: float
    no_data_minutes: int | None
    kind: DayKind


@dataclass(frozen=True, slots=True)
class SloStatus:
    entry: SLOEntry
    state: State
    history: tuple[DayBar, ...]  # the last 90 days, oldest first
    days: tuple[Day, ...]  # the shown month's days (report.daily)


@dataclass(frozen=True, slots=True)
class ContractStatus:
    """A contract and its SLOs; ``entry`` None for the SLOs no contract covers."""

    name: str
    state: State
    entry: ContractEntry | None
    slos: tuple[SloStatus, ...]


@dataclass(frozen=True, slots=True)
class Incident:
    slo: str
    scope: str
    episode: Episode


@dataclass(frozen=True, slots=True)
class StatusPage:
    """The page of one month; ``current`` when it is the month the source is in."""

    month: str
    current: bool
    previous: str
    next: str | None
    ledger: Ledger
    breaches: tuple[tuple[str, str], ...]  # (slo, scope) in an outage right now
    contracts: tuple[ContractStatus, ...]
    slos: tuple[SloStatus, ...]
    incidents: tuple[Incident, ...]  # open first, then newest first
    active: tuple[ExclusionEntry, ...]  # accepted exclusions covering the last final minute
    upcoming: tuple[ExclusionEntry, ...]  # accepted exclusions starting later
    tenant: str | None = None  # one tenant's page: its links stay under /tenant/{id}

    @property
    def root(self) -> str:
        """The path the page's own links start with: "" or ``/tenant/{id}``."""
        return "" if self.tenant is None else f"/tenant/{quote(self.tenant, safe='')}"

    @property
    def api_query(self) -> str:
        """What the page's JSON links add to their query (escaped for an HTML attribute):
        ``tenant={id}&amp;`` or nothing."""
        return "" if self.tenant is None else f"tenant={quote(self.tenant, safe='')}&amp;"

    @property
    def state(self) -> State:
        return worst(s.state for s in self.slos)


def worst(states: Iterable[State]) -> State:
    found = set(states)
    return next((s for s in STATES if s in found), "operational")


def covers(x: ExclusionEntry, e: SLOEntry, settings: Settings | None) -> bool:
    """Whether exclusion ``x`` applies to the SLO ``e`` (its scope rule, slo/exclusions.py)."""
    if settings is not None:
        try:
            spec = settings.slo(e.name)
        except KeyError:
            spec = None
        if spec is not None:
            return applies_to(Exclusion(x.id, x.scope, x.start_ms, x.end_ms, -1, x.kind, ""),
                              spec, e.scope)
    return x.scope in ("*", e.name, e.scope)


def below_target(e: SLOEntry) -> bool:
    """The SLI over the month is worse than its target."""
    if e.sli_value is None:
        return False
    if e.sli == "response_time":
        target = e.response_time.target_ms if e.response_time is not None else None
        return target is not None and e.sli_value > target
    return e.objective is not None and e.sli_value < e.objective


def slo_state(e: SLOEntry, in_outage: bool, in_maintenance: bool) -> State:
    """The state of one SLO (the module's docstring gives the rules)."""
    if in_outage or any(ep.open and not ep.excused for ep in e.episodes):
        return "outage"
    if in_maintenance or any(ep.open and ep.excused for ep in e.episodes):
        return "maintenance"
    if below_target(e):
        return "degraded"
    if e.coverage <= 0:
        return "no_data"
    if e.status == "insufficient_data":
        return "insufficient_data"
    return "operational"


def day_kind(day: Day, objective: float | None, no_data: bool) -> DayKind:
    if no_data or day.availability is None:
        return "no_data"
    if objective is not None and day.availability < objective:
        return "below"
    if day.downtime_minutes > 0:
        return "downtime"
    if day.excused_minutes > 0:
        return "maintenance"
    return "ok"
