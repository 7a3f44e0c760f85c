"""Evidence coverage: when a month may be reported as met (docs/semantics.md#coverage).

A month is never reported as met without evidence. An SLO whose share of minutes with
evidence (``coverage``) is below its ``coverage.min_ratio`` is ``insufficient_data``
unless the evidence there is already misses the objective: its minutes without evidence
count as up, so more evidence could only make it worse. A contract follows its SLOs; no
credit is computed for a contract whose verdict the evidence cannot carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slastream.model.ledger import SLOEntry
from slastream.model.spec import SLO
from slastream.model.time import Month


def slo_met(met: bool, coverage: float, slo: SLO) -> bool | None:
    """The SLO's verdict: ``None`` for a met SLO with too little evidence."""
    if met and coverage < slo.coverage.min_ratio:
        return None
    return met


def combine_met(verdicts: Sequence[bool | None]) -> bool | None:
    """All met: met; any missed: missed; otherwise (some unknown) unknown."""
    if any(v is False for v in verdicts):
        return False
    if any(v is None for v in verdicts):
        return None
    return True


def lacking(entries: Sequence[SLOEntry]) -> str:
    """Which SLOs lack evidence, for a contract's ``credit_basis``."""
    thin = [e for e in entries if e.coverage < e.min_coverage]
    return "; ".join(
        f"{e.name} ({e.scope}) has evidence for {e.coverage:.1%} of the minutes so far, "
        f"{e.min_coverage:.0%} needed" for e in thin)


def contract_verdict(met: bool | None, credit: float, basis: str,
                     mine: Sequence[SLOEntry]) -> tuple[bool | None, float | None, str]:
    """``met``, ``credit`` and ``credit_basis`` of a contract once coverage is considered.

    ``met`` is the contract's verdict on its evidence (``None`` already when an SLO it
    requires is unknown). A contract that the evidence shows as met, while one of its SLOs
    lacks evidence, is unknown: no credit is computed, and the basis says which SLO lacks
    it. A missed contract keeps its verdict and its credit, computed from the evidence
    there is (with minutes without evidence counted as up, a lower bound).
    """
    if met is False:
        return met, credit, basis
    why = lacking(mine)
    if not why:
        return met, credit, basis
    return None, None, f"not computed, too little evidence: {why}"


def claim_deadline_ms(month: Month, days: int | None) -> int | None:
    """End of the ``days``-th calendar day after the month, in the month's time zone."""
    if days is None:
        return None
    end = datetime.fromtimestamp(month.end_ms // 1000, tz=ZoneInfo(month.timezone))
    # wall-clock arithmetic on an aware datetime: whole local days across a DST change
    return int((end + timedelta(days=days)).timestamp()) * 1000
