"""The alerting rules that are not about one SLO: contracts and the measuring pipeline.

Both groups follow the SLO groups of :mod:`slastream.export.rules`. Besides a credit that is
due and a stale watermark, they ticket when the month so far has too little evidence to be
reported as met (docs/semantics.md#coverage): a broken or undecodable feed, or a network too
sparse for the contract's downtime rule, must not pass for a good month.
"""

from __future__ import annotations

from typing import Any

from slastream.export.alerting import DEFAULT_RUNBOOK_URL, runbook_link
from slastream.model.spec import Contract, Settings

# Missing evidence is investigated like missing data: the prober, the bridge (its rejected
# and ignored messages by reason), the workers. Both alerts share that runbook.
_EVIDENCE_RUNBOOK = runbook_link(DEFAULT_RUNBOOK_URL, "SLONoData")
# The ledger's status is month to date: an hour keeps a month's first minutes, or a worker
# catching up, from opening a ticket.
_EVIDENCE_FOR = "1h"


def _credit_due(c: Contract) -> dict[str, Any]:
    return {
        "alert": "SLAContractCreditDue",
        "expr": (f'max by (contract) (slastream_contract_credit_ratio{{contract="{c.name}", '
                 f'period="month"}}) > 0'),
        "labels": {"severity": "ticket", "contract": c.name},
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
        "expr": (f'max by (contract) (slastream_contract_insufficient_data{{contract="{c.name}"}})'
                 " > 0"),
        "for": _EVIDENCE_FOR,
        "labels": {"severity": "ticket", "contract": c.name},
        "annotations": {
            "summary": "Contract {{ $labels.contract }} cannot be judged this month",
            "description": ("An SLO of contract {{ $labels.contract }} has too little evidence "
                            "this month: the ledger reports it as insufficient_data, with no "
                            "credit computed, until the evidence is there."),
            "runbook_url": _EVIDENCE_RUNBOOK,
        },
    }


def contract_group(settings: Settings) -> dict[str, Any] | None:
    """Tickets per contract: a credit is owed this month (someone has to tell the customer),
    or the month cannot be judged for lack of evidence."""
    rules = [_credit_due(c) for c in settings.contracts if c.credit.kind != "none"]
    rules += [_contract_insufficient(c) for c in settings.contracts]
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
