"""A contract's support section: every ticket judged as of a time, summed per severity.

The per-ticket rules are in ``slastream.support.evaluate``; this module picks the tickets,
sums them, counts the ones near a deadline (for metrics and alerts) and writes the
ledger's ``support`` section.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from slastream.model.events import TicketEvent
from slastream.model.support import SupportTerms
from slastream.model.time import format_rfc3339_s
from slastream.support.evaluate import TicketResult, evaluate_ticket
from slastream.support.tickets import fold, group


@dataclass(frozen=True)
class SeveritySummary:
    tickets: int
    met: int
    missed: int
    open: int  # reaction still pending and not yet due


@dataclass(frozen=True)
class SupportReport:
    """A contract's tickets as of a time, in the order of their opening."""

    as_of_ms: int
    tickets: tuple[TicketResult, ...]
    by_severity: tuple[tuple[str, SeveritySummary], ...]  # the contract's severity order
    unknown_severity: tuple[str, ...]  # ids of tickets whose severity is not the contract's
    incomplete: int  # tickets with events but no "opened" yet

    def to_json(self) -> dict[str, Any]:
        """The ledger's ``support`` section."""
        return {
            "tickets": [_ticket_json(t) for t in self.tickets],
            "by_severity": {
                name: {"tickets": s.tickets, "met": s.met, "missed": s.missed, "open": s.open}
                for name, s in self.by_severity
            },
            "unknown_severity": list(self.unknown_severity),
            "incomplete": self.incomplete,
        }


def _time(ms: int) -> str | None:
    return format_rfc3339_s(ms) if ms >= 0 else None


def _ticket_json(t: TicketResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.id,
        "severity": t.severity,
        "opened": _time(t.opened_ms),
        "clock": t.reaction.clock,
        "reaction_deadline": _time(t.reaction.due_ms),
        "reacted": _time(t.reaction.done_ms),
        "met": t.reaction.met,
        "region": t.region,
        "resolved": _time(t.resolved_ms),
    }
    if t.resolution is not None:
        out["resolution"] = {
            "stops": t.resolution_stops,
            "clock": t.resolution.clock,
            "deadline": _time(t.resolution.due_ms),
            "done": _time(t.resolution.done_ms),
            "met": t.resolution.met,
        }
    if t.escalation:
        out["escalation"] = [
            {"after": e.after, "to": e.to, "due": _time(e.due_ms), "reached": e.reached}
            for e in t.escalation
        ]
    return out


def evaluate_support(
    terms: SupportTerms,
    contract: str,
    events: Iterable[TicketEvent],
    as_of_ms: int,
    opened_from_ms: int | None = None,
    opened_to_ms: int | None = None,
) -> SupportReport:
    """All tickets of ``contract`` opened in ``[opened_from_ms, opened_to_ms)`` (either
    bound may be None), judged as of ``as_of_ms`` with the events up to that time."""
    results: list[TicketResult] = []
    unknown: list[str] = []
    incomplete = 0
    for (name, _), ticket_events in group(events).items():
        if name != contract:
            continue
        state = fold(ticket_events, as_of_ms)
        if state is None:
            incomplete += 1
            continue
        if (opened_from_ms is not None and state.opened_ms < opened_from_ms) or (
            opened_to_ms is not None and state.opened_ms >= opened_to_ms
        ):
            continue
        result = evaluate_ticket(state, terms, as_of_ms)
        if result is None:
            unknown.append(state.id)
        else:
            results.append(result)
    results.sort(key=lambda t: (t.opened_ms, t.id))
    return SupportReport(
        as_of_ms, tuple(results), _summaries(terms, results), tuple(sorted(unknown)), incomplete
    )


def _summaries(
    terms: SupportTerms, results: list[TicketResult]
) -> tuple[tuple[str, SeveritySummary], ...]:
    out: list[tuple[str, SeveritySummary]] = []
    for severity in terms.severities:
        mine = [t.reaction.met for t in results if t.severity == severity.name]
        out.append((severity.name, SeveritySummary(
            len(mine), mine.count(True), mine.count(False), mine.count(None)
        )))
    return tuple(out)


def open_by_severity(report: SupportReport) -> dict[str, int]:
    """Unresolved tickets per severity (a gauge; no ticket ids)."""
    counts = {name: 0 for name, _ in report.by_severity}
    for t in report.tickets:
        if t.is_open:
            counts[t.severity] += 1
    return counts


def near_deadline(report: SupportReport, lead_ms: int) -> dict[str, int]:
    """Tickets per severity with a pending deadline (reaction or resolution) due within
    ``lead_ms`` of the report's time: not yet missed, but about to be."""
    counts = {name: 0 for name, _ in report.by_severity}
    for t in report.tickets:
        pending = [d for d in (t.reaction, t.resolution) if d is not None and d.met is None]
        if any(d.due_ms - report.as_of_ms <= lead_ms for d in pending):
            counts[t.severity] += 1
    return counts
