"""The machine-readable formats: the ledger JSON of the reported contracts, and CSV with one
row per SLO and scope (columns in ``CSV_COLUMNS``, documented in docs/report.md#csv).

Values are as in the ledger: ratios 0..1 (never percent), minutes, RFC 3339 UTC times.
"""

from __future__ import annotations

import csv
import io

import orjson

from slastream.model.time import format_rfc3339_s
from slastream.report.content import ContractReport, Report, SloReport
from slastream.report.text import month_key

CSV_COLUMNS = (
    "month", "timezone", "period_start", "period_end", "as_of",
    "contract", "slo", "sli", "scope", "objective", "availability", "met", "status",
    "total_minutes", "downtime_minutes", "excused_minutes", "no_data_minutes", "coverage",
    "episodes", "error_budget_remaining", "sli_value",
    "contract_availability", "contract_met", "credit", "credit_basis", "claim_deadline",
)


def render_json(report: Report) -> bytes:
    return orjson.dumps(report.document, option=orjson.OPT_INDENT_2) + b"\n"


def _value(x: object) -> str:
    """CSV text: booleans as ``true``/``false``, None as empty, numbers as Python writes them."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


def status_of(s: SloReport) -> str:
    """The ledger's status, or the verdict in the ledger's words where it has none."""
    return s.extra.status or ("met" if s.entry.met else "not_met")


def _row(report: Report, c: ContractReport, s: SloReport) -> list[str]:
    p, e, ce = report.period, s.entry, c.entry
    return [_value(x) for x in (
        month_key(p), p.timezone, format_rfc3339_s(p.start_ms), format_rfc3339_s(p.end_ms),
        format_rfc3339_s(p.as_of_ms),
        ce.name if ce else None, e.name, e.sli, e.scope, e.objective, e.availability,
        None if s.extra.status == "insufficient_data" else e.met, status_of(s),
        e.total_minutes, e.downtime_minutes, e.excused_minutes, e.no_data_minutes,
        s.coverage, len(e.episodes), e.error_budget_remaining, e.sli_value,
        ce.availability if ce else None,
        None if ce is None or c.extra.status == "insufficient_data" else ce.met,
        ce.credit if ce else None, ce.credit_basis if ce else None, c.extra.claim_deadline,
    )]


def render_csv(report: Report) -> bytes:
    """Header and one row per SLO and scope of each contract (an SLO in two contracts
    appears once per contract)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for c in report.contracts:
        for s in c.slos:
            w.writerow(_row(report, c, s))
    return buf.getvalue().encode("utf-8")
