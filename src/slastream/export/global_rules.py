"""The alerting rules that are not about one SLO: contracts and the measuring pipeline.

Both groups follow the SLO groups of :mod:`slastream.export.rules`. Besides a credit that is
due and a stale watermark, they ticket when the month so far has too little evidence to be
reported as met (docs/semantics.md#coverage): a broken or undecodable feed, or a network too
sparse for the contract's downtime rule, must not pass for a good month.
"""

from __future__ import annotations

import re
from typing import Any

from slastream.export.alerting import DEFAULT_RUNBOOK_URL, runbook_link
from slastream.model.spec import Contract, Settings

# Missing evidence is investigated like missing data: the prober, the bridge (its rejected
# and ignored messages by reason), the workers. Both alerts share that runbook.
_EVIDENCE_RUNBOOK = runbook_link(DEFAULT_RUNBOOK_URL, "SLONoData")
# The ledger's status is month to date: an hour keeps a month's first minutes, or a worker
# catching up, from opening a ticket.
_EVIDENCE_FOR = "1h"


def _contract(c: Contract) -> str:
    """The matcher of a contract's series: a per-tenant template matches every instance
    (``{template}@{tenant}``), so its rules stay one per template however many tenants
    there are (docs/interfaces.md#tenant-metrics)."""
    if c.tenants is None:
        return f'contract="{c.name}"'
    return f'contract=~"{re.escape(c.name)}@.+"'


def _labels(c: Contract, **extra: str) -> dict[str, str]:
    """A rule's labels; an instance's own ``contract`` label is left to the series."""
    return {"severity": "ticket", **({} if c.tenants is not None else {"contract": c.name}),
            **extra}


def _credit_due(c: Contract) -> dict[str, Any]:
    return {
        "alert": "SLAContractCreditDue",
        "expr": (f'max by (contract) (slastream_contract_credit_ratio{{{_contract(c)}, '
                 f'period="month"}}) > 0'),
        "labels": _labels(c),
        "annotations": {
            "summary": "Contract {{ $labels.contract }} owes a service credit this month",
            "description": ("Month-to-date availability puts contract {{ $labels.contract }} in "
                            "a credit tier of {{ $value | humanizePercentage }} of the fee."),
            "runbook_url": runbook_link(DEFAULT_RUNBOOK_URL, "SLAContractCreditDue"),
        },
    }


def _contract_insufficient(c: Contract) -> dict[str, Any]:
    return {
        "alert": "SLAContractInsufficientData",
        "expr": (f'max by (contract) (slastream_contract_insufficient_data{{{_contract(c)}}})'
                 " > 0"),
        "for": _EVIDENCE_FOR,
        "labels": _labels(c),
        "annotations": {
            "summary": "Contract {{ $labels.contract }} cannot be judged this month",
            "description": ("An SLO of contract {{ $labels.contract }} has too little evidence "
                            "this month: the ledger reports it as insufficient_data, with no "
                            "credit computed, until the evidence is there."),
            "runbook_url": _EVIDENCE_RUNBOOK,
        },
    }


def _by_ticket_severity(expr: str) -> str:
    # the alert's own ``severity`` label (page, ticket) replaces the metric's, so the
    # ticket's severity travels as ``ticket_severity``
    return f'label_replace({expr}, "ticket_severity", "$1", "severity", "(.*)")'


def _support_alerts(c: Contract) -> list[dict[str, Any]]:
    if c.support is None:
        return []
    lead = c.support.near_deadline_s
    near = _by_ticket_severity(
        f'max by (contract, severity) (slastream_support_near_deadline_tickets'
        f'{{{_contract(c)}}})')
    missed = _by_ticket_severity(
        f'max by (contract, severity) (delta(slastream_support_missed_tickets'
        f'{{{_contract(c)}, period="month"}}[1h]))')
    return [{
        "alert": "SupportReactionDeadlineNear",
        "expr": f"{near} > 0",
        "labels": {**_labels(c), "severity": "page"},
        "annotations": {
            "summary": ("{{ $value }} {{ $labels.ticket_severity }} ticket(s) of contract "
                        "{{ $labels.contract }} near their deadline"),
            "description": (f"A reaction or resolution deadline falls within {lead}s "
                            "(support near_deadline_s) and the ticket has no answer yet."),
            "runbook_url": runbook_link(DEFAULT_RUNBOOK_URL, "SupportReactionDeadlineNear"),
        },
    }, {
        "alert": "SupportReactionMissed",
        "expr": f"{missed} > 0",
        "labels": _labels(c),
        "annotations": {
            "summary": ("A {{ $labels.ticket_severity }} ticket of contract "
                        "{{ $labels.contract }} missed its reaction time"),
            "description": ("The month's count of tickets that missed their reaction deadline "
                            "went up in the last hour; the ledger's support section names "
                            "them."),
            "runbook_url": runbook_link(DEFAULT_RUNBOOK_URL, "SupportReactionMissed"),
        },
    }]


def _usage_alerts(c: Contract) -> list[dict[str, Any]]:
    if c.usage is None:
        return []
    return [{
        "alert": "UsageOverAllowance",
        # a band mean at the allowance is not over it (docs/semantics.md#usage)
        "expr": (f'max by (contract, band) (slastream_usage_mean_requests_per_minute'
                 f'{{contract="{c.name}", band="{band.name}"}}) > {band.per_minute:g}'),
        # one rule per band: the band label keeps the rules apart (promtool refuses two
        # rules of one name and the same labels)
        "labels": {"severity": "ticket", "contract": c.name, "band": band.name},
        "annotations": {
            "summary": ("Band {{ $labels.band }} of contract {{ $labels.contract }} is over "
                        "its request allowance"),
            "description": ("A complete day this month averaged {{ $value }} requests per ADI "
                            f"per minute in the band; its allowance is {band.per_minute:g}."),
            "runbook_url": runbook_link(DEFAULT_RUNBOOK_URL, "UsageOverAllowance"),
        },
    } for band in c.usage.bands]


def contract_group(settings: Settings) -> dict[str, Any] | None:
    """Tickets per contract: a credit is owed this month (someone has to tell the customer),
    or the month cannot be judged for lack of evidence; support deadlines near or missed,
    and request-allowance bands over their allowance."""
    rules = [_credit_due(c) for c in settings.contracts if c.credit.kind != "none"]
    rules += [_contract_insufficient(c) for c in settings.contracts]
    for c in settings.contracts:
        rules += _support_alerts(c) + _usage_alerts(c)
    return {"name": "slastream-contracts", "rules": rules} if rules else None


def _slo_insufficient() -> dict[str, Any]:
    return {
        "alert": "SLOInsufficientData",
        "expr": ('max by (slo, scope) (slastream_slo_coverage_ratio{period="month"})\n'
                 "and on (slo, scope)\n"
                 "(max by (slo, scope) (slastream_slo_insufficient_data) > 0)"),
        "for": _EVIDENCE_FOR,
        "labels": {"severity": "ticket"},
        "annotations": {
            "summary": "{{ $labels.slo }} ({{ $labels.scope }}) has too little evidence this "
                       "month",
            "description": ("Only {{ $value | humanizePercentage }} of this month's minutes so "
                            "far have evidence: the ledger reports the SLO as "
                            "insufficient_data instead of met. Check that its feed arrives and "
                            "decodes (rejected and ignored messages by reason)."),
            "runbook_url": _EVIDENCE_RUNBOOK,
        },
    }


def pipeline_group(settings: Settings) -> dict[str, Any]:
    """The measuring pipeline itself: a stalled watermark freezes every SLO above, and an SLO
    without enough evidence cannot be reported as met."""
    threshold_s = settings.lateness_s + 300
    return {"name": "slastream-pipeline", "rules": [{
        "alert": "SlastreamWatermarkDelayHigh",
        "expr": f"slastream_watermark_delay_seconds > {threshold_s}",
        "for": "5m",
        "labels": {"severity": "ticket"},
        "annotations": {
            "summary": "slastream worker {{ $labels.instance }} is behind",
            "description": ("The event-time watermark trails by {{ $value | humanizeDuration }}"
                            f" (allowed lateness {settings.lateness_s}s + 5m): SLO numbers and "
                            "alerts are stale."),
            "runbook_url": runbook_link(DEFAULT_RUNBOOK_URL, "SlastreamWatermarkDelayHigh"),
        },
    }, _slo_insufficient()]}
