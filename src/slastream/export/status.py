"""The status page: one server-rendered HTML page from a ledger, no scripts, no external assets.

Pure: ``render_status(ledger, breaches)`` → HTML text. Every text from the ledger is escaped,
because SLO, scope and exclusion texts come from config files and operators' messages.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from string import Template

from slastream.model.ledger import ContractEntry, Ledger, SLOEntry
from slastream.model.time import format_rfc3339_s

RECENT_EPISODES = 20


@cache
def _template() -> Template:
    text = resources.files("slastream.export").joinpath("status.html").read_text("utf-8")
    return Template(text)


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


def _episode_rows(slos: tuple[SLOEntry, ...]) -> str:
    episodes = [(ep, e) for e in slos for ep in e.episodes]
    episodes.sort(key=lambda pair: pair[0].start_ms, reverse=True)
    rows = []
    for ep, e in episodes[:RECENT_EPISODES]:
        end = "open" if ep.open else format_rfc3339_s(ep.end_ms)
        rows.append("<tr>" + "".join([
            _td(e.name), _td(e.scope), _td(format_rfc3339_s(ep.start_ms)),
            _td(end, "bad" if ep.open else ""), _td(_minutes(ep.minutes), "num"),
            _td("yes" if ep.excused else "no", "muted" if ep.excused else ""),
            _td(ep.reason),
        ]) + "</tr>")
    return "\n".join(rows) or '<tr><td colspan="7" class="muted">no episodes this month</td></tr>'


def render_status(ledger: Ledger, breaches: dict[tuple[str, str], bool]) -> str:
    """HTML for a ledger and the SLOs currently in an outage episode."""
    period = ledger.period
    start = format_rfc3339_s(period.start_ms)
    month = start[:7]
    open_now = sorted(key for key, inside in breaches.items() if inside)
    if open_now:
        items = "".join(f"<li class=\"bad\">{escape(slo)} ({escape(str(scope))})</li>"
                        for slo, scope in open_now)
        breach_html = f"<ul>{items}</ul>"
    else:
        breach_html = '<p class="ok">none</p>'
    contract_rows = "\n".join(_contract_row(c) for c in ledger.contracts) or (
        '<tr><td colspan="6" class="muted">no contracts in the config</td></tr>')
    slo_rows = "\n".join(
        _slo_row(e, (e.name, e.scope) in set(open_now)) for e in ledger.slos)
    period_line = (f"{start} – {format_rfc3339_s(period.end_ms)} ({period.timezone}), "
                   f"final up to {format_rfc3339_s(period.as_of_ms)}")
    return _template().substitute(
        month=escape(month), period_line=escape(period_line), breaches=breach_html,
        contract_rows=contract_rows, slo_rows=slo_rows, episode_rows=_episode_rows(ledger.slos),
    )
