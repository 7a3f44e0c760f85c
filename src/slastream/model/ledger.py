"""The monthly ledger as values: what ``slo/`` computes and every reader uses.

Times are epoch milliseconds here; :func:`ledger_json` is the one place that turns a ledger
into the interface's JSON (docs/interfaces.md): field names, their order, RFC 3339 times,
and the optional fields (response-time blocks, the engine's or the live view's input
counters) present only when they apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from slastream.model.spec import Combine, SliKind
from slastream.model.time import format_rfc3339_s

if TYPE_CHECKING:  # the sections' own modules compute them; the ledger only carries them
    from slastream.support.report import SupportReport
    from slastream.usage.report import UsageReport

Counts = tuple[tuple[str, int], ...]  # (name, count), in the order shown
Status = Literal["met", "not_met", "insufficient_data"]


def status_of(met: bool | None) -> Status:
    """``met`` as the ledger's ``status``: ``None`` is too little evidence to tell
    (docs/semantics.md#coverage)."""
    if met is None:
        return "insufficient_data"
    return "met" if met else "not_met"


@dataclass(frozen=True, slots=True)
class Period:
    """The calendar month in the config's time zone, and how far it is final."""

    start_ms: int
    end_ms: int
    timezone: str
    minutes: int
    as_of_ms: int  # minutes before this instant are final


@dataclass(frozen=True, slots=True)
class Episode:
    """A run of downtime minutes, split where the excused state changes."""

    start_ms: int
    end_ms: int
    minutes: float
    excused: bool
    reason: str
    open: bool  # still going: it reaches the last final minute


@dataclass(frozen=True, slots=True)
class EventCounts:
    good: int
    total: int


@dataclass(frozen=True, slots=True)
class Blocks:
    """Mean response time per block of ``size`` requests over the month."""

    size: int
    count: int
    over_target: int
    worst_mean_ms: float | None


@dataclass(frozen=True, slots=True)
class ResponseTime:
    """The extra fields of a response-time SLO."""

    target_ms: float | None
    blocks: Blocks


@dataclass(frozen=True, slots=True)
class SLOEntry:
    """One SLO in one scope over the period.

    ``met`` is ``None`` when the share of minutes with evidence (``coverage``) is below the
    SLO's ``min_coverage`` and the evidence there is does not already miss the objective.
    """

    name: str
    sli: SliKind
    scope: str
    objective: float | None
    total_minutes: int
    excused_minutes: float
    downtime_minutes: float
    availability: float
    met: bool | None
    error_budget_remaining: float | None
    sli_value: float | None  # a ratio, or the mean response time in ms
    episodes: tuple[Episode, ...]
    no_data_minutes: int
    events: EventCounts
    response_time: ResponseTime | None = None
    coverage: float = 1.0  # share of the period's minutes so far with evidence
    min_coverage: float = 0.0  # below it the month cannot be reported as met

    @property
    def status(self) -> Status:
        return status_of(self.met)


@dataclass(frozen=True, slots=True)
class SupportSection:
    """A contract's tickets of the month, judged as of the ledger's ``as_of``, and the lead
    time within which a pending deadline counts as near (for metrics and alerts)."""

    report: SupportReport
    near_deadline_ms: int


@dataclass(frozen=True, slots=True)
class UsageSection:
    """A contract's request allowance of the month, and its intensive-communication
    episodes counted per band (metrics carry bands, never client ids)."""

    report: UsageReport
    intensive_by_band: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class ContractEntry:
    """A contract over its SLOs. With too little evidence to tell, ``met`` and ``credit``
    are ``None`` and ``credit_basis`` says which SLO lacks it (docs/semantics.md#coverage)."""

    name: str
    availability: float
    combine: Combine
    objective: float | None
    met: bool | None
    credit: float | None  # share of the monthly fee
    credit_basis: str
    slos: tuple[str, ...]
    coverage: float = 1.0  # the lowest coverage of its SLOs
    claim_deadline_ms: int | None = None  # credits are to be claimed before this instant
    support: SupportSection | None = None  # contracts with support terms
    usage: UsageSection | None = None  # contracts with a request allowance
    tenant: str | None = None  # an instance of a per-tenant contract
    monthly_fee: float | None = None  # with a fee: the credit's amount
    credit_amount: float | None = None
    timezone: str | None = None  # its month, when not the ledger period's time zone

    @property
    def status(self) -> Status:
        return status_of(self.met)


@dataclass(frozen=True, slots=True)
class ExclusionEntry:
    """A declared exclusion overlapping the period, with the contract's verdict."""

    id: str
    kind: str
    scope: str
    start_ms: int
    end_ms: int
    accepted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Inputs:
    """Input counters. ``rejected_reasons``, ``ignored_reasons`` and ``lorawan`` come from
    an engine, ``partitions`` from the live view; a field that is ``None`` is left out of
    the JSON."""

    messages: int = 0
    rejected: int = 0
    late: int = 0
    ignored: int = 0
    rejected_reasons: Counts | None = None
    lorawan: Counts | None = None
    partitions: int | None = None
    ignored_reasons: Counts | None = None


@dataclass(frozen=True, slots=True)
class Ledger:
    period: Period
    slos: tuple[SLOEntry, ...]
    contracts: tuple[ContractEntry, ...]
    exclusions: tuple[ExclusionEntry, ...]
    inputs: Inputs


# ------------------------------------------------------------------------------ JSON
def ledger_json(ledger: Ledger) -> dict[str, Any]:
    """The ledger as the interface's JSON value (dicts in the interface's key order)."""
    p = ledger.period
    return {
        "period": {"start": format_rfc3339_s(p.start_ms), "end": format_rfc3339_s(p.end_ms),
                   "timezone": p.timezone, "minutes": p.minutes,
                   "as_of": format_rfc3339_s(p.as_of_ms)},
        "slos": [_slo_json(e) for e in ledger.slos],
        "contracts": [_contract_json(c) for c in ledger.contracts],
        "exclusions": [_exclusion_json(x) for x in ledger.exclusions],
        "inputs": _inputs_json(ledger.inputs),
    }


def _episode_json(ep: Episode) -> dict[str, Any]:
    return {"start": format_rfc3339_s(ep.start_ms), "end": format_rfc3339_s(ep.end_ms),
            "minutes": ep.minutes, "excused": ep.excused, "reason": ep.reason,
            "open": ep.open}


def _slo_json(e: SLOEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": e.name, "sli": e.sli, "scope": e.scope, "objective": e.objective,
        "total_minutes": e.total_minutes, "excused_minutes": e.excused_minutes,
        "downtime_minutes": e.downtime_minutes, "availability": e.availability,
        "met": e.met, "error_budget_remaining": e.error_budget_remaining,
        "sli_value": e.sli_value, "episodes": [_episode_json(ep) for ep in e.episodes],
        "no_data_minutes": e.no_data_minutes,
        "events": {"good": e.events.good, "total": e.events.total},
    }
    if e.response_time is not None:
        b = e.response_time.blocks
        out["target_ms"] = e.response_time.target_ms
        out["blocks"] = {"size": b.size, "count": b.count, "over_target": b.over_target,
                         "worst_mean_ms": b.worst_mean_ms}
    out["status"] = e.status
    out["coverage"] = e.coverage
    out["min_coverage"] = e.min_coverage
    return out


def _contract_json(c: ContractEntry) -> dict[str, Any]:
    out = {"name": c.name, "availability": c.availability, "combine": c.combine,
           "objective": c.objective, "met": c.met, "credit": c.credit,
           "credit_basis": c.credit_basis, "slos": list(c.slos), "status": c.status,
           "coverage": c.coverage}
    if c.claim_deadline_ms is not None:
        out["claim_deadline"] = format_rfc3339_s(c.claim_deadline_ms)
    if c.support is not None:
        out["support"] = c.support.report.to_json()
    if c.usage is not None:
        out["usage"] = c.usage.report.to_json()
    if c.tenant is not None:
        out["tenant"] = c.tenant
    if c.monthly_fee is not None:
        out["monthly_fee"] = c.monthly_fee
        out["credit_amount"] = c.credit_amount
    if c.timezone is not None:
        out["timezone"] = c.timezone
    return out


def _exclusion_json(x: ExclusionEntry) -> dict[str, Any]:
    return {"id": x.id, "kind": x.kind, "scope": x.scope,
            "start": format_rfc3339_s(x.start_ms), "end": format_rfc3339_s(x.end_ms),
            "accepted": x.accepted, "reason": x.reason}


def _inputs_json(i: Inputs) -> dict[str, Any]:
    out: dict[str, Any] = {"messages": i.messages, "rejected": i.rejected, "late": i.late,
                           "ignored": i.ignored}
    if i.rejected_reasons is not None:
        out["rejected_reasons"] = dict(i.rejected_reasons)
    if i.ignored_reasons is not None:
        out["ignored_reasons"] = dict(i.ignored_reasons)
    if i.lorawan is not None:
        out["lorawan"] = dict(i.lorawan)
    if i.partitions is not None:
        out["partitions"] = i.partitions
    return out
