"""Excused downtime: which declared exclusions a contract accepts, and for which minutes.

Rules from the seed contracts: planned maintenance needs notice (EVRYTHNG and MClimate two
days, LORIOT seven) and at most one hour per calendar month is excused (minutes past the
cap are not, so they count as downtime when the service was down); Cumulocity also
excludes emergency maintenance; hosting / third-party outages and force majeure are excused
where the contract says so, with evidence. A policy may also require maintenance inside
allowed weekly windows and outside blackout periods (EVRYTHNG: Saturday or Sunday
05:00-09:00 GMT, not in its High Demand periods). Exclusions may arrive after the fact: the
month is recomputed from slices and the current list, so a late annotation changes the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from slastream.model.events import Exclusion
from slastream.model.maintenance import inside_windows
from slastream.model.spec import SLO, ExclusionPolicy
from slastream.model.time import MINUTE_MS

BoolArray = npt.NDArray[np.bool_]


class Verdict(NamedTuple):
    exclusion: Exclusion
    accepted: bool
    reason: str


def judge(exclusion: Exclusion, policy: dict[str, ExclusionPolicy]) -> Verdict:
    """Is this exclusion acceptable under the contract's policy (before any cap)?"""
    rule = policy.get(exclusion.kind)
    if rule is None or not rule.excused:
        return Verdict(exclusion, False, f"{exclusion.kind} is not excused by the contract")
    if rule.notice_s:
        notice_ms = exclusion.start_ms - exclusion.announced_ms
        if exclusion.announced_ms < 0 or notice_ms < rule.notice_s * 1000:
            have = "none" if exclusion.announced_ms < 0 else f"{notice_ms / 3_600_000:.1f} h"
            return Verdict(exclusion, False,
                           f"notice {have} < required {rule.notice_s / 3600:.0f} h")
    if rule.evidence_required and not exclusion.evidence.strip():
        return Verdict(exclusion, False, "evidence required")
    refused = _calendar(exclusion, rule)
    if refused:
        return Verdict(exclusion, False, refused)
    return Verdict(exclusion, True, "accepted")


def _calendar(exclusion: Exclusion, rule: ExclusionPolicy) -> str | None:
    """Why the exclusion's time breaks the policy's maintenance calendar, if it does.

    The whole exclusion is refused when any part of it lies outside the allowed windows or
    in a blackout (docs/semantics.md#maintenance-calendars).
    """
    start, end = exclusion.start_ms, exclusion.end_ms
    if rule.windows is not None and not inside_windows(rule.windows, start, end):
        shown = "; ".join(str(w) for w in rule.windows)
        return f"outside the allowed maintenance window ({shown})"
    for blackout in rule.blackouts or ():
        period = blackout.hit(start, end)
        if period is not None:
            return f"in {blackout.describe(period)}"
    return None


def applies_to(exclusion: Exclusion, slo: SLO, scope: str) -> bool:
    return exclusion.scope in ("*", slo.name, scope) or (
        slo.component is not None and exclusion.scope == slo.component)


def latest_versions(exclusions: Iterable[Exclusion]) -> list[Exclusion]:
    """An exclusion re-sent with the same id replaces the earlier version."""
    by_id: dict[str, Exclusion] = {}
    for ex in exclusions:
        by_id[ex.id] = ex
    return sorted(by_id.values(), key=lambda e: (e.start_ms, e.id))


def excused_mask(
    exclusions: Iterable[Exclusion], policy: dict[str, ExclusionPolicy], slo: SLO, scope: str,
    start_minute: int, end_minute: int, month_start: int, month_end: int,
) -> BoolArray:
    """Minutes in ``[start_minute, end_minute)`` covered by accepted exclusions.

    A kind with ``cap_minutes`` is excused for at most that many minutes per calendar month,
    counted over the declared windows in chronological order.
    """
    n = end_minute - start_minute
    mask = np.zeros(n, dtype=bool)
    capped: dict[str, BoolArray] = {}
    for ex in exclusions:
        if not applies_to(ex, slo, scope) or not judge(ex, policy).accepted:
            continue
        a = max(ex.start_ms // MINUTE_MS, start_minute)
        b = min(-(-ex.end_ms // MINUTE_MS), end_minute)
        if b <= a:
            continue
        rule = policy[ex.kind]
        if rule.cap_minutes is None:
            mask[a - start_minute:b - start_minute] = True
        else:
            cm = capped.setdefault(ex.kind, np.zeros(n, dtype=bool))
            cm[a - start_minute:b - start_minute] = True
    for kind, cm in capped.items():
        cap = int(policy[kind].cap_minutes or 0)
        # the cap is per calendar month: count from the start of the month
        lo = max(month_start - start_minute, 0)
        hi = min(month_end - start_minute, n)
        idx = np.flatnonzero(cm[lo:hi]) + lo
        mask[idx[:cap]] = True
    return mask
