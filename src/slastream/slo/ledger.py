"""The monthly ledger: per SLO and scope, then per contract with credits.

Everything is recomputed from slices and the current exclusion list, so the same inputs
give the same ledger whatever the batching, partitioning or arrival order, and late
annotations (an excused third-party outage declared a week later) are honoured. The result
is a :class:`~slastream.model.ledger.Ledger`; ``model.ledger.ledger_json`` gives its JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from slastream.model.events import Exclusion, TicketEvent
from slastream.model.ledger import (
    Blocks,
    ContractEntry,
    Episode,
    EventCounts,
    ExclusionEntry,
    Inputs,
    Ledger,
    Period,
    ResponseTime,
    SLOEntry,
)
from slastream.model.spec import SLO, Contract, DowntimeRule, Settings
from slastream.model.time import MINUTE_MS, Month
from slastream.sli.slices import GOOD, LAT_COUNT, LAT_SUM, TOTAL, FloatArray, SliceStore
from slastream.slo import coverage, downtime, tenants
from slastream.slo.credits import CreditResult, evrythng_credit, tier_credit
from slastream.slo.exclusions import BoolArray, applies_to, excused_mask, judge, latest_versions
from slastream.slo.sections import support_section, usage_section
from slastream.usage.counter import UsageCounter


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


@dataclass(frozen=True)
class _Window:
    """One SLO and scope's minutes around the month: rows ``lo`` .. ``hi`` of the store.

    It starts early enough for the trailing window and the minimum duration to see the
    month's first minute, and ends late enough to see whether an episode at the month's
    end lasted its minimum duration.
    """

    slo: SLO
    scope: str
    month: Month
    as_of_minute: int
    lo: int
    hi: int
    horizon: int  # minutes of the month before this one count
    matrix: FloatArray
    states: downtime.IntArray
    values: FloatArray

    @property
    def month_rows(self) -> FloatArray:
        return self.matrix[self.month.start_minute - self.lo:self.horizon - self.lo]


def _window(slo: SLO, scope: str, store: SliceStore, month: Month,
            as_of_minute: int, rule: DowntimeRule | None = None) -> _Window:
    rule = rule or slo.downtime
    lookback = rule.window_min + rule.min_duration_min
    horizon = min(month.end_minute, max(as_of_minute, month.start_minute))
    lo = month.start_minute - lookback
    hi = max(min(month.end_minute + rule.min_duration_min, as_of_minute), month.start_minute)
    matrix = store.matrix(slo.name, scope, lo, hi)
    states, values = downtime.minute_states(matrix, rule)
    return _Window(slo, scope, month, as_of_minute, lo, hi, horizon, matrix, states, values)


def _episodes(settings: Settings, w: _Window, exclusions: list[Exclusion],
              mask: BoolArray) -> list[Episode]:
    """The month's downtime episodes, split where the excused state changes."""
    rule = w.slo.downtime
    eps = downtime.episodes(w.states, w.values, rule.min_duration_min,
                            rule.bad_above_ms is not None)
    m0, m1 = w.month.start_minute - w.lo, w.horizon - w.lo
    out: list[Episode] = []
    for ep in eps:
        a, b = max(ep.start, m0), min(ep.end, m1)
        if b <= a:
            continue
        cuts = np.flatnonzero(np.diff(mask[a:b].astype(np.int8))) + 1
        for part in np.split(np.arange(a, b), cuts):
            excused = bool(mask[part[0]])
            start_ms = (w.lo + part[0]) * MINUTE_MS
            end_ms = (w.lo + part[-1] + 1) * MINUTE_MS
            out.append(Episode(
                int(start_ms), int(end_ms), float(len(part)), excused,
                _reason(settings, w.slo, w.scope, exclusions, ep.worst, excused,
                        start_ms, end_ms),
                # still going: it reaches the last final minute, and that is the watermark
                bool(w.lo + ep.end >= w.hi and w.hi >= w.as_of_minute)))
    return out


def _response_time(slo: SLO, month_rows: FloatArray) -> ResponseTime | None:
    if slo.sli != "response_time":
        return None
    blocks = _block_means(month_rows, slo.block_requests)
    target = slo.target_ms or math.inf
    return ResponseTime(slo.target_ms, Blocks(
        slo.block_requests, len(blocks), sum(1 for b in blocks if b > target),
        _round(max(blocks), 3) if blocks else None))


def _coverage(w: _Window, input_end_minute: int | None) -> float:
    """Share of the month's minutes so far with evidence (docs/semantics.md#coverage).

    So far is up to the SLO's last final minute, and in a replay, whose input ends long
    before that, up to the end of the input.
    """
    end = w.horizon if input_end_minute is None else min(w.horizon, input_end_minute)
    minutes = end - w.month.start_minute
    if minutes <= 0:
        return 0.0
    evidence = downtime.evidence(w.matrix, w.slo.downtime, w.slo.coverage.window_s)
    m0 = w.month.start_minute - w.lo
    return _round(int(np.count_nonzero(evidence[m0:m0 + minutes])) / minutes)


def evaluate_slo(
    settings: Settings, slo: SLO, scope: str, store: SliceStore, exclusions: list[Exclusion],
    month: Month, as_of_minute: int, input_end_minute: int | None = None,
) -> SLOEntry:
    """One ledger entry; ``input_end_minute`` bounds the minutes so far for its coverage."""
    w = _window(slo, scope, store, month, as_of_minute)
    covered = _coverage(w, input_end_minute)
    if covered < slo.coverage.min_ratio and slo.downtime.no_data == "downtime":
        # Too little evidence to tell a silent service from a silent feed: minutes without
        # data are not downtime then, only what the evidence shows.
        w = _window(slo, scope, store, month, as_of_minute,
                    replace(slo.downtime, no_data="ignore"))
    mask = excused_mask(exclusions, settings.exclusion_policy, slo, scope, w.lo, w.hi,
                        month.start_minute, month.end_minute)
    episodes = _episodes(settings, w, exclusions, mask)
    excused_min = sum(int(ep.minutes) for ep in episodes if ep.excused)
    down_min = sum(int(ep.minutes) for ep in episodes if not ep.excused)
    total = max(0, w.horizon - month.start_minute)
    denom = total - excused_min
    availability = (denom - down_min) / denom if denom > 0 else 1.0
    rows = w.month_rows
    good, events = float(rows[:, GOOD].sum()), float(rows[:, TOTAL].sum())
    lat_n, lat_s = float(rows[:, LAT_COUNT].sum()), float(rows[:, LAT_SUM].sum())
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
    m0 = month.start_minute - w.lo
    return SLOEntry(
        slo.name, slo.sli, scope, objective, total, float(excused_min), float(down_min),
        _round(availability), coverage.slo_met(bool(met), covered, slo),
        None if budget is None else _round(budget),
        None if sli_value is None else _round(sli_value), tuple(episodes),
        int(np.count_nonzero(w.states[m0:w.horizon - w.lo] == downtime.NO_DATA)),
        EventCounts(int(good), int(events)), _response_time(slo, rows), covered,
        slo.coverage.min_ratio)


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


def _credit(contract: Contract, mine: list[SLOEntry], rated: list[SLOEntry],
            ) -> CreditResult | None:
    credit = contract.credit
    if credit.kind == "tiers":
        return tier_credit(credit, [e.downtime_minutes for e in rated])
    if credit.kind == "evrythng":
        up = [e for e in mine if e.name == credit.uptime_slo]
        rt = [e for e in mine if e.name == credit.response_slo]
        au = min((e.availability for e in up), default=1.0)
        ar = rt[0].sli_value if rt else None
        return evrythng_credit(credit.target_uptime, au, ar)
    return None


def evaluate_contract(contract: Contract, entries: Iterable[SLOEntry],
                      month: Month | None = None) -> ContractEntry:
    """A contract over the entries of its SLOs (every scope of each); ``month`` dates the
    credit claim deadline."""
    mine = [e for e in entries if e.name in contract.slos]
    rated = [e for e in mine if e.objective is not None]
    avail = [e.availability for e in rated] or [1.0]
    availability = min(avail) if contract.combine == "min" else sum(avail) / len(avail)
    res = _credit(contract, mine, rated)
    objective = contract.objective
    met = (availability >= objective if objective is not None
           else coverage.combine_met([e.met for e in mine]))
    verdict, credit, basis = coverage.contract_verdict(
        met, _round(res.credit) if res else 0.0, res.basis if res else "no credit terms", mine)
    return ContractEntry(
        contract.name, _round(availability), contract.combine, objective, verdict, credit,
        basis, tuple(sorted({e.name for e in mine})),
        min((e.coverage for e in mine), default=1.0),
        None if month is None else coverage.claim_deadline_ms(
            month, contract.credit.claim_within_days))


def _exclusion_entries(settings: Settings, excl: list[Exclusion],
                       month: Month) -> tuple[ExclusionEntry, ...]:
    out = []
    for e in excl:
        if e.start_ms < month.end_ms and month.start_ms < e.end_ms:
            verdict = judge(e, settings.exclusion_policy)
            out.append(ExclusionEntry(e.id, e.kind, e.scope, e.start_ms, e.end_ms,
                                      verdict.accepted, verdict.reason))
    return tuple(out)


def build_ledger(
    settings: Settings, store: SliceStore, exclusions: Iterable[Exclusion], month: Month,
    as_of_minute: int, inputs: Inputs | None = None,
    slo_as_of: Callable[[SLO], int] | None = None,
    tickets: Iterable[TicketEvent] = (),
    usage: Mapping[str, UsageCounter] | None = None,
) -> Ledger:
    """The ledger of ``month`` from slices final before ``as_of_minute``.

    ``slo_as_of`` gives an SLO its own progress (the live view: each SLO as of its own
    stream); ``as_of_minute`` then is the oldest of them, which the period reports.
    Contracts with support terms judge ``tickets`` as of the period's ``as_of``; those with
    a counter in ``usage`` (by contract name) report their request allowance.
    """
    excl = latest_versions(list(settings_exclusions(settings)) + list(exclusions))
    input_end_minute = _input_end_minute(store)
    entries = []
    for slo in settings.slos:
        as_of = slo_as_of(slo) if slo_as_of is not None else as_of_minute
        for scope in store.scopes(slo.name) or [default_scope(slo)]:
            entries.append(evaluate_slo(settings, slo, scope, store, excl, month, as_of,
                                        input_end_minute))
    as_of_ms = min(month.end_minute, max(as_of_minute, month.start_minute)) * MINUTE_MS
    contracts = _contracts(settings, store, entries, excl, month, as_of_minute, as_of_ms,
                           slo_as_of, list(tickets), usage or {}, input_end_minute)
    return Ledger(
        Period(month.start_ms, month.end_ms, month.timezone, month.minutes, as_of_ms),
        tuple(entries), contracts, _exclusion_entries(settings, excl, month), inputs or Inputs())


def _contracts(settings: Settings, store: SliceStore, entries: list[SLOEntry],
               excl: list[Exclusion], month: Month, as_of_minute: int, as_of_ms: int,
               slo_as_of: Callable[[SLO], int] | None, ticket_list: list[TicketEvent],
               counters: Mapping[str, UsageCounter],
               input_end_minute: int) -> tuple[ContractEntry, ...]:
    """Every contract, a per-tenant template as one contract per tenant
    (``slo/tenants.py``); an instance with its own time zone over its own month."""
    tenant_ids = tenants.seen_tenants(settings, store)
    contracts = []
    for template in settings.contracts:
        for c in tenants.instances(template, tenant_ids):
            mine, c_month = tenants.rated_entries(settings, c, entries), month
            if c.timezone is not None and c.timezone != month.timezone:
                c_month = Month(month.year, month.month, c.timezone)
                mine = [evaluate_slo(settings, slo, e.scope, store, excl, c_month,
                                     slo_as_of(slo) if slo_as_of else as_of_minute,
                                     input_end_minute)
                        for e in mine for slo in settings.slos if slo.name == e.name]
            entry = evaluate_contract(c, mine, c_month)
            fee = c.monthly_fee
            contracts.append(replace(
                entry, support=support_section(c, ticket_list, c_month, as_of_ms),
                usage=usage_section(counters[c.name], month) if c.name in counters else None,
                tenant=c.tenant, monthly_fee=fee,
                credit_amount=None if fee is None or entry.credit is None
                else _round(entry.credit * fee, 2),
                timezone=c_month.timezone if c_month is not month else None))
    return tuple(contracts)


def _input_end_minute(store: SliceStore) -> int:
    """The minute after the newest slice of any SLO: the end of the input so far.

    A replay makes every minute final at the end of its input, though only the minutes up
    to that input were observed; coverage counts the month so far up to here
    (docs/semantics.md#coverage). Every slice counts at least one event.
    """
    return max((minute for (_, _, minute), _ in store.items()), default=-1) + 1


def settings_exclusions(settings: Settings) -> list[Exclusion]:
    """Exclusions declared in the config file (same fields as the MQTT message)."""
    return list(settings.exclusions)
