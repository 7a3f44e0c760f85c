"""The monthly ledger (docs/interfaces.md#ledger-json): per SLO and scope, then per
contract with credits.

Everything is recomputed from slices and the current exclusion list, so the same inputs
give the same ledger whatever the batching, partitioning or arrival order, and late
annotations (an excused third-party outage declared a week later) are honoured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from slastream.model.events import Exclusion
from slastream.model.spec import SLO, Contract, Settings
from slastream.model.time import MINUTE_MS, Month, format_rfc3339_s
from slastream.sli.slices import GOOD, LAT_COUNT, LAT_SUM, TOTAL, FloatArray, SliceStore
from slastream.slo import downtime
from slastream.slo.credits import evrythng_credit, tier_credit
from slastream.slo.exclusions import applies_to, excused_mask, judge, latest_versions


def default_scope(slo: SLO) -> str:
    return slo.component if slo.component else "network"


def _round(x: float, digits: int = 6) -> float:
    return float(round(x, digits))


def _describe(slo: SLO, worst: float) -> str:
    rule = slo.downtime
    window = f"{rule.window_min} min" if rule.window_min > 1 else "the minute"
    if math.isnan(worst):
        return "no data (counted as downtime by the rule)"
    if rule.bad_above_ms is not None:
        return f"mean response time up to {worst:.0f} ms > {rule.bad_above_ms:g} ms over {window}"
    what = {"delivery": "delivery ratio", "rx2": "RX2 reach ratio",
            "probe": "probe success ratio"}.get(slo.sli, "SLI")
    return f"{what} down to {worst:.3f} < {rule.bad_below:g} over {window}"


def _block_means(matrix: FloatArray, block: int) -> list[float]:
    """Mean latency per block of ``block`` requests, block edges aligned to minutes."""
    counts, sums = matrix[:, LAT_COUNT], matrix[:, LAT_SUM]
    out, c, s = [], 0.0, 0.0
    for n, total in zip(counts, sums, strict=True):
        c += n
        s += total
        if c >= block:
            out.append(s / c)
            c, s = 0.0, 0.0
    return out


def evaluate_slo(
    settings: Settings, slo: SLO, scope: str, store: SliceStore, exclusions: list[Exclusion],
    month: Month, as_of_minute: int,
) -> dict[str, Any]:
    """One ledger entry."""
    rule = slo.downtime
    lookback = rule.window_min + rule.min_duration_min
    horizon = min(month.end_minute, max(as_of_minute, month.start_minute))
    lo = month.start_minute - lookback
    hi = max(min(month.end_minute + rule.min_duration_min, as_of_minute), month.start_minute)
    matrix = store.matrix(slo.name, scope, lo, hi)
    states, values = downtime.minute_states(matrix, rule)
    higher_is_worse = rule.bad_above_ms is not None
    eps = downtime.episodes(states, values, rule.min_duration_min, higher_is_worse)
    mask = excused_mask(exclusions, settings.exclusion_policy, slo, scope, lo, hi,
                        month.start_minute, month.end_minute)
    m0, m1 = month.start_minute - lo, horizon - lo
    episodes: list[dict[str, Any]] = []
    down_min = excused_min = 0
    for ep in eps:
        a, b = max(ep.start, m0), min(ep.end, m1)
        if b <= a:
            continue
        seg = mask[a:b]
        cuts = np.flatnonzero(np.diff(seg.astype(np.int8))) + 1
        for part in np.split(np.arange(a, b), cuts):
            excused = bool(mask[part[0]])
            n = len(part)
            if excused:
                excused_min += n
            else:
                down_min += n
            start_ms, end_ms = (lo + part[0]) * MINUTE_MS, (lo + part[-1] + 1) * MINUTE_MS
            episodes.append({
                "start": format_rfc3339_s(start_ms), "end": format_rfc3339_s(end_ms),
                "minutes": float(n), "excused": excused,
                "reason": _reason(settings, slo, scope, exclusions, ep.worst, excused,
                                  start_ms, end_ms),
                # still going: it reaches the last final minute, and that is the watermark
                "open": bool(lo + ep.end >= hi and hi >= as_of_minute),
            })
    total = max(0, horizon - month.start_minute)
    denom = total - excused_min
    availability = (denom - down_min) / denom if denom > 0 else 1.0
    month_rows = matrix[m0:m1]
    good, events = float(month_rows[:, GOOD].sum()), float(month_rows[:, TOTAL].sum())
    lat_n, lat_s = float(month_rows[:, LAT_COUNT].sum()), float(month_rows[:, LAT_SUM].sum())
    if slo.sli == "response_time":
        sli_value = lat_s / lat_n if lat_n else None
    else:
        sli_value = good / events if events else None
    objective = slo.objective
    met = availability >= objective if objective is not None else True
    if slo.sli == "response_time" and slo.target_ms is not None and sli_value is not None:
        met = met and sli_value <= slo.target_ms
    budget = None
    if objective is not None and denom > 0:
        budget = 1.0 - down_min / ((1.0 - objective) * denom)
    entry: dict[str, Any] = {
        "name": slo.name, "sli": slo.sli, "scope": scope, "objective": objective,
        "total_minutes": total, "excused_minutes": float(excused_min),
        "downtime_minutes": float(down_min), "availability": _round(availability),
        "met": bool(met),
        "error_budget_remaining": None if budget is None else _round(budget),
        "sli_value": None if sli_value is None else _round(sli_value),
        "episodes": episodes,
        "no_data_minutes": int(np.count_nonzero(states[m0:m1] == downtime.NO_DATA)),
        "events": {"good": int(good), "total": int(events)},
    }
    if slo.sli == "response_time":
        blocks = _block_means(month_rows, slo.block_requests)
        target = slo.target_ms or math.inf
        entry["target_ms"] = slo.target_ms
        entry["blocks"] = {"size": slo.block_requests, "count": len(blocks),
                           "over_target": sum(1 for b in blocks if b > target),
                           "worst_mean_ms": _round(max(blocks), 3) if blocks else None}
    return entry


def _reason(settings: Settings, slo: SLO, scope: str, exclusions: list[Exclusion],
            worst: float, excused: bool, start_ms: int, end_ms: int) -> str:
    base = _describe(slo, worst)
    notes = []
    for ex in exclusions:
        if ex.start_ms < end_ms and start_ms < ex.end_ms and applies_to(ex, slo, scope):
            verdict = judge(ex, settings.exclusion_policy)
            if excused and verdict.accepted:
                notes.append(f"excused: {ex.kind} {ex.id}")
            elif not excused and verdict.accepted:
                notes.append(f"{ex.kind} {ex.id} past the monthly cap")
            elif not excused:
                notes.append(f"{ex.kind} {ex.id} not excused: {verdict.reason}")
    return "; ".join([base, *notes])


def evaluate_contract(contract: Contract, entries: list[dict[str, Any]],
                      settings: Settings) -> dict[str, Any]:
    mine = [e for e in entries if e["name"] in contract.slos]
    rated = [e for e in mine if e["objective"] is not None]
    avail = [e["availability"] for e in rated] or [1.0]
    availability = min(avail) if contract.combine == "min" else sum(avail) / len(avail)
    credit = contract.credit
    if credit.kind == "tiers":
        res = tier_credit(credit, [e["downtime_minutes"] for e in rated])
    elif credit.kind == "evrythng":
        up = [e for e in mine if e["name"] == credit.uptime_slo]
        rt = [e for e in mine if e["name"] == credit.response_slo]
        au = min((e["availability"] for e in up), default=1.0)
        ar = rt[0]["sli_value"] if rt else None
        res = evrythng_credit(credit.target_uptime, au, ar)
    else:
        res = None
    objective = contract.objective
    met = availability >= objective if objective is not None else all(e["met"] for e in mine)
    return {
        "name": contract.name, "availability": _round(availability),
        "combine": contract.combine, "objective": objective, "met": bool(met),
        "credit": _round(res.credit) if res else 0.0,
        "credit_basis": res.basis if res else "no credit terms",
        "slos": sorted({e["name"] for e in mine}),
    }


def build_ledger(
    settings: Settings, store: SliceStore, exclusions: Iterable[Exclusion], month: Month,
    as_of_minute: int, inputs: dict[str, Any],
) -> dict[str, Any]:
    """The ledger of ``month`` from slices final before ``as_of_minute``."""
    excl = latest_versions(list(settings_exclusions(settings)) + list(exclusions))
    entries = []
    for slo in settings.slos:
        for scope in store.scopes(slo.name) or [default_scope(slo)]:
            entries.append(evaluate_slo(settings, slo, scope, store, excl, month, as_of_minute))
    return {
        "period": {"start": format_rfc3339_s(month.start_ms),
                   "end": format_rfc3339_s(month.end_ms),
                   "timezone": month.timezone, "minutes": month.minutes,
                   "as_of": format_rfc3339_s(min(month.end_minute, max(
                       as_of_minute, month.start_minute)) * MINUTE_MS)},
        "slos": entries,
        "contracts": [evaluate_contract(c, entries, settings) for c in settings.contracts],
        "exclusions": [{"id": e.id, "kind": e.kind, "scope": e.scope,
                        "start": format_rfc3339_s(e.start_ms), "end": format_rfc3339_s(e.end_ms),
                        **dict(zip(("accepted", "reason"),
                                   judge(e, settings.exclusion_policy)[1:], strict=True))}
                       for e in excl if e.start_ms < month.end_ms and month.start_ms < e.end_ms],
        "inputs": inputs,
    }


def settings_exclusions(settings: Settings) -> list[Exclusion]:
    """Exclusions declared in the config file (same fields as the MQTT message)."""
    return list(settings.exclusions)
