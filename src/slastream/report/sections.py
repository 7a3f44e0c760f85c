"""The report's sections about evidence and the contract's other obligations: data
coverage, support and usage.

Support and usage are rendered from the ledger's JSON of the contract entry
(docs/interfaces.md#ledger-json); they appear only when the ledger has them, which
depends on the contract declaring support terms or a request allowance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slastream.model.ledger import Inputs, Period
from slastream.report.content import ContractReport
from slastream.report.markup import Cell, num, para, table, verdict, when
from slastream.report.text import DASH, local_rfc3339, minutes, pct2


def coverage_section(c: ContractReport, inputs: Inputs, days_have_evidence: bool) -> str:
    rows: list[list[Cell]] = []
    for s in c.slos:
        e = s.entry
        rows.append([e.name, e.scope, num(minutes(e.total_minutes)),
                     num(minutes(e.no_data_minutes)), num(pct2(s.coverage)),
                     num(f"{e.events.good} / {e.events.total}")])
    parts = ["<h3>Data coverage</h3>",
             para("Minutes without enough evidence for the downtime rule neither count as "
                  "downtime nor prove availability, unless the contract's rule says "
                  "otherwise; coverage is the share of the judged minutes with evidence."),
             table("Evidence per measurand",
                   ["Measurand", "Scope", num("Minutes judged"), num("Without evidence"),
                    num("Coverage"), num("Good / all events")], rows)]
    if c.extra.coverage is not None:
        parts.append(para(f"Contract coverage: {pct2(c.extra.coverage)}."))
    parts.append(para(
        f"Input: {inputs.messages} messages, {inputs.rejected} rejected as malformed, "
        f"{inputs.ignored} ignored (not understood), {inputs.late} events too late.", "note"))
    if not days_have_evidence:
        parts.append(para("These figures were read from a running worker's ledger, which "
                          "has no per-day evidence: the daily charts show availability only.",
                          "note"))
    return "".join(parts)


def _text(x: Any) -> str:
    return DASH if x is None else str(x)


def support_section(support: Mapping[str, Any] | None, period: Period) -> str:
    """Tickets and their reaction deadlines, when the contract has support terms."""
    if support is None:
        return ""
    tickets = [t for t in support.get("tickets") or [] if isinstance(t, Mapping)]
    rows: list[list[Cell]] = [
        [_text(t.get("id")), _text(t.get("severity")), _when(t.get("opened"), period),
         _text(t.get("clock")), _when(t.get("reaction_deadline"), period),
         _when(t.get("reacted"), period), verdict(_met(t.get("met")))] for t in tickets]
    sev = support.get("by_severity")
    sev_rows: list[list[Cell]] = [
        [str(name), num(_text(v.get("tickets"))), num(_text(v.get("met"))),
         num(_text(v.get("missed"))), num(_text(v.get("open")))]
        for name, v in (sev.items() if isinstance(sev, Mapping) else ())
        if isinstance(v, Mapping)]
    parts = ["<h3>Support</h3>"]
    parts.append(table("Tickets by severity", ["Severity", num("Tickets"), num("Met"),
                                               num("Missed"), num("Open")], sev_rows)
                 if sev_rows else para("No tickets in the period."))
    if rows:
        parts.append(table("Tickets", ["ID", "Severity", "Opened", "Clock", "Reaction due",
                                       "Reacted", "Verdict"], rows))
    return "".join(parts)


def usage_section(usage: Mapping[str, Any] | None, period: Period) -> str:
    """Requests against the allowance, when the contract has one."""
    if usage is None:
        return ""
    bands: list[list[Cell]] = [[_text(b.get("band")), num(_text(b.get("adis"))),
              num(_text(b.get("allowance_per_minute"))), num(_text(b.get("mean_per_minute"))),
              num(_text(b.get("over_allowance")))]
             for b in usage.get("bands") or [] if isinstance(b, Mapping)]
    intensive: list[list[Cell]] = [[_text(x.get("client")), _when(x.get("start"), period),
                  _when(x.get("end"), period), num(_text(x.get("minutes")))]
                 for x in usage.get("intensive") or [] if isinstance(x, Mapping)]
    parts = ["<h3>Usage</h3>",
             table("Requests per band", ["Band", num("Devices"), num("Allowance / min"),
                                         num("Mean / min"), num("Minutes over")], bands)]
    if intensive:
        parts.append(table("Intensive use", ["Client", "Start", "End", num("Minutes")],
                           intensive))
    return "".join(parts)


def _when(x: Any, period: Period) -> Cell:
    return when(local_rfc3339(x, period)) if isinstance(x, str) else DASH


def _met(x: Any) -> str:
    return "met" if x is True else "missed" if x is False else "open"
