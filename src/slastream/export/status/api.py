"""``GET /api/status``: the status page as JSON (docs/interfaces.md#http-endpoints)."""

from __future__ import annotations

from typing import Any

from slastream.export.status.model import ContractStatus, DayBar, SloStatus, StatusPage
from slastream.model.ledger import Episode, ExclusionEntry
from slastream.model.time import format_rfc3339_s


def _day(b: DayBar) -> dict[str, Any]:
    return {"date": b.date, "kind": b.kind, "availability": b.availability,
            "downtime_minutes": b.downtime_minutes, "excused_minutes": b.excused_minutes,
            "no_data_minutes": b.no_data_minutes}


def _slo(s: SloStatus) -> dict[str, Any]:
    e = s.entry
    return {"name": e.name, "scope": e.scope, "sli": e.sli, "state": s.state,
            "status": e.status, "objective": e.objective, "availability": e.availability,
            "coverage": e.coverage, "error_budget_remaining": e.error_budget_remaining,
            "days": [_day(b) for b in s.history]}


def _contract(c: ContractStatus) -> dict[str, Any]:
    e = c.entry
    return {"name": c.name, "state": c.state,
            "status": None if e is None else e.status,
            "availability": None if e is None else e.availability,
            "credit": None if e is None else e.credit,
            "slos": [{"name": s.entry.name, "scope": s.entry.scope} for s in c.slos]}


def _episode(slo: str, scope: str, ep: Episode) -> dict[str, Any]:
    return {"slo": slo, "scope": scope, "start": format_rfc3339_s(ep.start_ms),
            "end": format_rfc3339_s(ep.end_ms), "minutes": ep.minutes, "open": ep.open,
            "excused": ep.excused, "reason": ep.reason}


def _exclusion(x: ExclusionEntry) -> dict[str, Any]:
    return {"id": x.id, "kind": x.kind, "scope": x.scope,
            "start": format_rfc3339_s(x.start_ms), "end": format_rfc3339_s(x.end_ms),
            "reason": x.reason}


def status_json(page: StatusPage) -> dict[str, Any]:
    """The page's values as the API's JSON value."""
    p = page.ledger.period
    return {
        "month": page.month, "current": page.current,
        "previous": page.previous, "next": page.next,
        "period": {"start": format_rfc3339_s(p.start_ms), "end": format_rfc3339_s(p.end_ms),
                   "timezone": p.timezone, "as_of": format_rfc3339_s(p.as_of_ms)},
        "state": page.state,
        "contracts": [_contract(c) for c in page.contracts],
        "slos": [_slo(s) for s in page.slos],
        "incidents": [_episode(i.slo, i.scope, i.episode) for i in page.incidents],
        "maintenance": {"active": [_exclusion(x) for x in page.active],
                        "upcoming": [_exclusion(x) for x in page.upcoming]},
    }
