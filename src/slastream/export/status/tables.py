"""The status page's tables of the month: contracts, SLOs and incidents, one row a line.

Every text from the ledger is escaped, because SLO, scope and exclusion texts come from
config files and operators' messages.
"""

from __future__ import annotations

from html import escape

from slastream.export.status.model import Incident
from slastream.model.ledger import ContractEntry, Ledger, SLOEntry
from slastream.model.time import format_rfc3339_s

MAX_INCIDENTS = 200


INCIDENT_COLUMNS = ("SLO", "scope", "start", "end", "minutes", "excused", "reason")
CONTRACT_COLUMNS = ("contract", "availability", "objective", "met", "credit", "basis")
SLO_COLUMNS = ("SLO", "SLI", "scope", "availability", "objective", "downtime", "excused",
               "budget left", "SLI value", "state")


def thead(*columns: str) -> str:
    """A header row of column headers."""
    cells = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def pct(value: float | None, digits: int = 3) -> str:
    """A ratio as a percentage; a dash when undefined."""
    return _pct(value, digits)


def _pct(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f} %"


def _minutes(value: float) -> str:
    return f"{value:.0f} min" if float(value).is_integer() else f"{value:.1f} min"


def _sli_value(entry: SLOEntry) -> str:
    value = entry.sli_value
    if value is None:
        return "—"
    return f"{value:.0f} ms" if entry.sli == "response_time" else _pct(value, 2)


def _td(text: str, cls: str = "") -> str:
    return f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"


def _met(met: bool | None, coverage: float) -> str:
    """The verdict; too little evidence is never shown as met (docs/semantics.md#coverage)."""
    if met is None:
        return _td(f"insufficient data (evidence {_pct(coverage, 1)})", "warn")
    return _td("met", "ok") if met else _td("missed", "bad")


def _contract_row(c: ContractEntry) -> str:
    credit_cls = "bad" if c.credit else ""
    return "<tr>" + "".join([
        _td(c.name), _td(_pct(c.availability), "num"),
        _td(_pct(c.objective, 2), "num"), _met(c.met, c.coverage),
        _td(_pct(c.credit, 1), f"num {credit_cls}".strip()), _td(c.credit_basis),
    ]) + "</tr>"


def _slo_row(e: SLOEntry, in_outage: bool) -> str:
    budget = e.error_budget_remaining
    budget_cls = "bad" if budget is not None and budget <= 0 else "num"
    state = _td("OUTAGE", "bad") if in_outage else _met(e.met, e.coverage)
    return "<tr>" + "".join([
        _td(e.name), _td(e.sli), _td(e.scope),
        _td(_pct(e.availability), "num"), _td(_pct(e.objective, 2), "num"),
        _td(_minutes(e.downtime_minutes), "num"),
        _td(_minutes(e.excused_minutes), "num"),
        _td(_pct(budget, 1), "num" if budget_cls == "num" else f"num {budget_cls}"),
        _td(_sli_value(e), "num"), state,
    ]) + "</tr>"


def incident_rows(incidents: tuple[Incident, ...]) -> str:
    """The month's episodes as table rows, open first, then newest first."""
    rows = []
    for i in incidents[:MAX_INCIDENTS]:
        ep = i.episode
        end = "open" if ep.open else format_rfc3339_s(ep.end_ms)
        rows.append("<tr>" + "".join([
            _td(i.slo), _td(i.scope), _td(format_rfc3339_s(ep.start_ms)),
            _td(end, "bad" if ep.open else ""), _td(_minutes(ep.minutes), "num"),
            _td("yes (maintenance)" if ep.excused else "no", "muted" if ep.excused else ""),
            _td(ep.reason),
        ]) + "</tr>")
    return "\n".join(rows) or '<tr><td colspan="7" class="muted">no incidents this month</td></tr>'


def contract_rows(ledger: Ledger) -> str:
    return "\n".join(_contract_row(c) for c in ledger.contracts) or (
        '<tr><td colspan="6" class="muted">no contracts in the config</td></tr>')


def slo_rows(ledger: Ledger, open_now: tuple[tuple[str, str], ...]) -> str:
    return "\n".join(_slo_row(e, (e.name, e.scope) in set(open_now)) for e in ledger.slos)


def support_section(ledger: Ledger) -> str:
    """Per contract with support terms: tickets by severity, then each ticket's reaction."""
    parts = []
    for c in ledger.contracts:
        if c.support is None:
            continue
        report = c.support.report
        counts = "".join(
            f"<tr><th scope=\"row\">{escape(sev)}</th><td>{n.tickets}</td><td>{n.met}</td>"
            f"<td>{n.missed}</td><td>{n.open}</td></tr>" for sev, n in report.by_severity)
        rows = "".join(
            f"<tr><td>{escape(t.id)}</td><td>{escape(t.severity)}</td>"
            f"<td>{format_rfc3339_s(t.opened_ms)}</td>"
            f"<td>{format_rfc3339_s(t.reaction.due_ms) if t.reaction.due_ms >= 0 else '—'}</td>"
            f"<td>{_verdict(t.reaction.met)}</td></tr>" for t in report.tickets)
        parts.append(
            f"<h3>{escape(c.name)}</h3><div class=\"table-wrap\"><table>"
            f"{thead('Severity', 'Tickets', 'Reaction met', 'Missed', 'Open')}"
            f"<tbody>{counts}</tbody></table></div>"
            f"<div class=\"table-wrap\"><table>"
            f"{thead('Ticket', 'Severity', 'Opened', 'Reaction due', 'Reaction')}"
            f"<tbody>{rows or '<tr><td colspan=5 class=muted>no tickets this month</td></tr>'}"
            f"</tbody></table></div>")
    return "".join(parts)


def _verdict(met: bool | None) -> str:
    if met is None:
        return "open, not yet due"
    return '<span class="ok">met</span>' if met else '<span class="bad">missed</span>'
