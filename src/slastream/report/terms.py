"""The report's sections about the contract's terms: exclusions with their notice verdicts
and the monthly cap, and the service credit with the contract's formula."""

from __future__ import annotations

from collections.abc import Mapping

from slastream.model.ledger import Period
from slastream.model.spec import Contract, ExclusionPolicy
from slastream.report.content import ContractReport
from slastream.report.markup import Cell, num, para, table, verdict, when
from slastream.report.text import DASH, local, local_rfc3339, pct2, pct4

KIND_NAMES = {"maintenance": "planned maintenance", "emergency": "emergency maintenance",
              "third_party": "third-party outage", "force_majeure": "force majeure",
              "customer": "customer cause"}


def _hours(seconds: int) -> str:
    if not seconds:
        return "none"
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day" + ("s" if days != 1 else "")
    return f"{seconds / 3600:g} h"


def policy_table(policy: Mapping[str, ExclusionPolicy]) -> str:
    rows: list[list[Cell]] = []
    for kind, rule in policy.items():
        cap = (f"{rule.cap_minutes:g} min per calendar month" if rule.cap_minutes is not None
               else "no cap")
        rows.append([KIND_NAMES.get(kind, kind), "yes" if rule.excused else "no",
                     _hours(rule.notice_s) if rule.excused else DASH,
                     cap if rule.excused else DASH,
                     "yes" if rule.evidence_required else "no"])
    if not rows:
        return para("The contract excuses no downtime.")
    return table("Exclusion terms", ["Kind", "Excused", "Notice required", "Monthly cap",
                                     "Evidence required"], rows)


def exclusions_section(c: ContractReport, policy: Mapping[str, ExclusionPolicy],
                       period: Period) -> str:
    parts = ["<h3>Exclusions</h3>"]
    if c.exclusions:
        rows: list[list[Cell]] = [[x.id, KIND_NAMES.get(x.kind, x.kind), x.scope,
                 when(f"{local(x.start_ms, period)} to {local(x.end_ms, period)}"),
                 verdict("accepted" if x.accepted else "not accepted"), x.reason]
                for x in c.exclusions]
        parts.append(table("Declared exclusions in the period",
                           ["ID", "Kind", "Scope", "Window", "Verdict", "Why"], rows))
        capped = [f"{KIND_NAMES.get(k, k)}: at most {r.cap_minutes:g} min"
                  for k, r in policy.items() if r.excused and r.cap_minutes is not None]
        if capped:
            parts.append(para(
                "Monthly cap (" + "; ".join(capped) + "): minutes of accepted exclusions past "
                "the cap count as downtime; the episodes below say where.", "note"))
    else:
        parts.append(para("No exclusions were declared for these measurands in the period."))
    parts.append(policy_table(policy))
    return "".join(parts)


def _tiers(terms: Contract, applied: str) -> str:
    credit = terms.credit
    what = ("the sum of all measurands' downtime" if credit.basis == "total_downtime"
            else "the worst measurand's downtime (each considered individually)")
    rows: list[list[Cell]] = [[f"more than {t.over_minutes:g} min", num(pct2(t.credit))]
                              for t in credit.tiers]
    return (para(f"Credit by monthly downtime, measured as {what}; the highest tier whose "
                 "lower bound is exceeded applies.")
            + table("Credit tiers", ["Monthly downtime", num("Credit (of the monthly fee)")],
                    rows)
            + para(f"This month: {applied}."))


def _evrythng(terms: Contract, applied: str) -> str:
    credit = terms.credit
    return (para("C = U × max(A, B), where A = TU − AU and B = 1 / (1 + e^(−0.001 × "
                 "(AR − 5000))); TU is the target uptime, AU the achieved uptime of "
                 f"{credit.uptime_slo}, AR the mean response time of {credit.response_slo} "
                 "in ms; C is a share of the monthly fee U, claimable only when AU < TU.")
            + para(f"TU = {pct4(credit.target_uptime)}. This month: {applied}."))


def credit_section(c: ContractReport, period: Period) -> str:
    parts = ["<h3>Service credit</h3>"]
    entry, terms = c.entry, c.terms
    if entry is None:
        return ""
    if terms is None:
        parts.append(para("The contract's terms are not in the configuration used for this "
                          f"report; the ledger states: {entry.credit_basis}."))
    elif terms.credit.kind == "tiers":
        parts.append(_tiers(terms, entry.credit_basis))
    elif terms.credit.kind == "evrythng":
        parts.append(_evrythng(terms, entry.credit_basis))
    else:
        parts.append(para("The contract grants no service credits."))
    parts.append(f'<p><strong>Credit: {pct2(entry.credit)} of the monthly fee.</strong></p>')
    if c.extra.claim_deadline:
        parts.append(para("Claims must reach the provider by "
                          f"{local_rfc3339(c.extra.claim_deadline, period)} "
                          f"({period.timezone})."))
    return "".join(parts)
