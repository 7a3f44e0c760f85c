"""Service credits as a fraction of the monthly fee."""

from __future__ import annotations

import math
from typing import NamedTuple

from slastream.model.spec import Credit


class CreditResult(NamedTuple):
    credit: float
    basis: str


def tier_credit(credit: Credit, downtime_minutes: list[float]) -> CreditResult:
    """MClimate / LORIOT: a tier by monthly outage ("after 43 min to 8 h: 15 %", ...).

    ``basis: max_downtime`` takes the worst measurand (each is considered individually);
    ``total_downtime`` their sum. A tier applies when the outage exceeds its lower bound.
    """
    value = (sum(downtime_minutes) if credit.basis == "total_downtime"
             else max(downtime_minutes, default=0.0))
    label = "total" if credit.basis == "total_downtime" else "worst SLO"
    chosen = None
    for tier in credit.tiers:
        if value > tier.over_minutes:
            chosen = tier
    if chosen is None:
        return CreditResult(0.0, f"{label} downtime {value:.1f} min, no tier reached")
    return CreditResult(chosen.credit, f"{label} downtime {value:.1f} min > "
                        f"{chosen.over_minutes:g} min: {chosen.credit:.0%} of the fee")


def evrythng_credit(target_uptime: float, actual_uptime: float,
                    actual_response_ms: float | None) -> CreditResult:
    """EVRYTHNG: C = U × max(A, B), A = TU − AU, B = 1 / (1 + e^(−0.001 × (AR − 5000))).

    Claimable only when AU < TU. The seed's worked example (AU 99.5 %, TU 99.9 %,
    AR 1000 ms) gives A = 0.4 %, B = 1.8 %, C = 1.8 %.
    """
    if actual_uptime >= target_uptime:
        return CreditResult(0.0, f"uptime {actual_uptime:.4%} >= target {target_uptime:.2%}")
    a = target_uptime - actual_uptime
    b = 0.0
    if actual_response_ms is not None and not math.isnan(actual_response_ms):
        b = 1.0 / (1.0 + math.exp(-0.001 * (actual_response_ms - 5000.0)))
    ar = "n/a" if actual_response_ms is None else f"{actual_response_ms:.0f} ms"
    return CreditResult(max(a, b), f"max(A = TU - AU = {a:.2%}, B = sigmoid(AR {ar}) = {b:.2%})")
