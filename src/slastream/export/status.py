"""The status page: one server-rendered HTML page from a ledger, no scripts, no external assets.

Pure: ``render_status(ledger, breaches)`` → HTML text. Every value from the ledger is escaped,
because SLO, scope and exclusion texts come from config files and operators' messages.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from string import Template
from typing import Any

RECENT_EPISODES = 20


@cache
def _template() -> Template:
    text = resources.files("slastream.export").joinpath("status.html").read_text("utf-8")
    return Template(text)


def _pct(value: Any, digits: int = 3) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value * 100:.{digits}f} %"


def _minutes(value: Any) -> str:
    if not isinstance(value, int | float):
        return "—"
    return f"{value:.0f} min" if float(value).is_integer() else f"{value:.1f} min"


def _sli_value(entry: dict[str, Any]) -> str:
    value = entry.get("sli_value")
    if not isinstance(value, int | float):
        return "—"
    return f"{value:.0f} ms" if entry.get("sli") == "response_time" else _pct(value, 2)


def _td(text: str, cls: str = "") -> str:
    return f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"


def _met(met: Any) -> str:
    if met is None:
        return _td("—")
    return _td("met", "ok") if met else _td("missed", "bad")


def _contract_row(c: dict[str, Any]) -> str:
    credit = c.get("credit")
    credit_cls = "bad" if isinstance(credit, int | float) and credit > 0 else ""
    return "<tr>" + "".join([
        _td(str(c.get("name", ""))), _td(_pct(c.get("availability")), "num"),
        _td(_pct(c.get("objective"), 2), "num"), _met(c.get("met")),
        _td(_pct(credit, 1), f"num {credit_cls}".strip()), _td(str(c.get("credit_basis", ""))),
    ]) + "</tr>"


def _slo_row(e: dict[str, Any], in_outage: bool) -> str:
    budget = e.get("error_budget_remaining")
    budget_cls = "bad" if isinstance(budget, int | float) and budget <= 0 else "num"
    state = _td("OUTAGE", "bad") if in_outage else _met(e.get("met"))
    return "<tr>" + "".join([
        _td(str(e.get("name", ""))), _td(str(e.get("sli", ""))), _td(str(e.get("scope") or "")),
        _td(_pct(e.get("availability")), "num"), _td(_pct(e.get("objective"), 2), "num"),
        _td(_minutes(e.get("downtime_minutes")), "num"),
        _td(_minutes(e.get("excused_minutes")), "num"),
        _td(_pct(budget, 1), "num" if budget_cls == "num" else f"num {budget_cls}"),
        _td(_sli_value(e), "num"), state,
    ]) + "</tr>"


def _episode_rows(slos: list[dict[str, Any]]) -> str:
    episodes = [(ep, e) for e in slos for ep in e.get("episodes", [])]
    episodes.sort(key=lambda pair: str(pair[0].get("start", "")), reverse=True)
    rows = []
    for ep, e in episodes[:RECENT_EPISODES]:
        end = "open" if ep.get("open") else str(ep.get("end", ""))
        rows.append("<tr>" + "".join([
            _td(str(e.get("name", ""))), _td(str(e.get("scope") or "")),
            _td(str(ep.get("start", ""))), _td(end, "bad" if ep.get("open") else ""),
            _td(_minutes(ep.get("minutes")), "num"),
            _td("yes" if ep.get("excused") else "no", "muted" if ep.get("excused") else ""),
            _td(str(ep.get("reason", ""))),
        ]) + "</tr>")
    return "\n".join(rows) or '<tr><td colspan="7" class="muted">no episodes this month</td></tr>'


def render_status(ledger: dict[str, Any], breaches: dict[tuple[str, str], bool]) -> str:
    """HTML for a ledger (docs/interfaces.md#ledger-json) and the SLOs now in an outage episode."""
    period = ledger.get("period", {})
    start = str(period.get("start", ""))
    month = start[:7] or "—"
    open_now = sorted(key for key, inside in breaches.items() if inside)
    slos = list(ledger.get("slos", []))
    if open_now:
        items = "".join(f"<li class=\"bad\">{escape(slo)} ({escape(str(scope))})</li>"
                        for slo, scope in open_now)
        breach_html = f"<ul>{items}</ul>"
    else:
        breach_html = '<p class="ok">none</p>'
    contract_rows = "\n".join(_contract_row(c) for c in ledger.get("contracts", [])) or (
        '<tr><td colspan="6" class="muted">no contracts in the config</td></tr>')
    slo_rows = "\n".join(
        _slo_row(e, (str(e.get("name")), str(e.get("scope"))) in set(open_now)) for e in slos)
    as_of = period.get("as_of")
    period_line = (f"{start} – {period.get('end', '')} ({period.get('timezone', '')})"
                   + (f", final up to {as_of}" if as_of else ""))
    return _template().substitute(
        month=escape(month), period_line=escape(period_line), breaches=breach_html,
        contract_rows=contract_rows, slo_rows=slo_rows, episode_rows=_episode_rows(slos),
    )
