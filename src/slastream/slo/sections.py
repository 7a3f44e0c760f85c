"""A contract's support and usage sections of the ledger (docs/interfaces.md#ledger-json).

Support: the tickets opened within the month, each judged as of the ledger's ``as_of``
(``slastream.support.report``). Usage: the request allowance of the month from the
contract's ``UsageCounter`` (``slastream.usage.report``), with its intensive episodes counted
per band for the metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import astuple
from typing import Any

from slastream.model.events import TicketEvent
from slastream.model.ledger import SupportSection, UsageSection
from slastream.model.spec import Contract
from slastream.model.time import Month
from slastream.model.usage import UsageTerms
from slastream.support.report import evaluate_support
from slastream.usage.counter import UsageCounter
from slastream.usage.days import ADIS, BYTES, OVER, REQUESTS, SIZED, WIDTH
from slastream.usage.offenders import Offender
from slastream.usage.report import (
    BandDay,
    BandUsage,
    DayUsage,
    IntensiveEpisode,
    UsageReport,
    band_day,
    usage_report,
)


def support_section(contract: Contract, tickets: Iterable[TicketEvent], month: Month,
                    as_of_ms: int) -> SupportSection | None:
    """The tickets of ``contract`` opened in ``month``, as of ``as_of_ms``; None without
    support terms."""
    terms = contract.support
    if terms is None:
        return None
    report = evaluate_support(terms, contract.name, tickets, as_of_ms,
                              month.start_ms, month.end_ms)
    return SupportSection(report, terms.near_deadline_s * 1000)


def usage_section(counter: UsageCounter, month: Month) -> UsageSection:
    """The request allowance of ``month`` as of the counter's watermark."""
    report = usage_report(counter, month)
    by_band: Counter[str] = Counter()
    if report.intensive:
        # every episode's client is in the table already: resolving adds nothing
        devices, _ = counter.devices.resolve([e.client for e in report.intensive])
        names = [b.name for b in counter.terms.bands]
        for band in counter.devices.col["band"][devices].tolist():
            if band < len(names):
                by_band[names[band]] += 1
    return UsageSection(report, tuple((b.name, by_band[b.name])
                                      for b in counter.terms.bands))


def empty_usage_section(terms: UsageTerms, timezone: str, month: Month) -> UsageSection:
    """The section of a contract no request has reached yet (what replay shows then)."""
    return usage_section(UsageCounter(terms, timezone, 0), month)


def merge_usage(terms: UsageTerms, sections: Sequence[UsageSection]) -> UsageSection:
    """One section from the sections of partitions holding disjoint devices: their day
    totals, ADIs, episodes and rejections add, the band figures are judged again on the
    summed days (docs/semantics.md#usage)."""
    if len(sections) == 1:
        return sections[0]
    reports = [s.report for s in sections]
    by_start: dict[int, list[DayUsage]] = {}
    for r in reports:
        for d in r.days:
            by_start.setdefault(d.start_ms, []).append(d)
    days = tuple(_merged_day(terms, same) for _, same in sorted(by_start.items()))
    complete = [d for d in days if d.complete]
    bands = tuple(_merged_band(terms, i, complete, [r.bands[i] for r in reports])
                  for i in range(len(terms.bands)))
    episodes = sorted((e for r in reports for e in r.intensive),
                      key=lambda e: (e.start_ms, e.client))
    rejected: Counter[str] = Counter()
    by_band: Counter[str] = Counter()
    for s in sections:
        rejected.update(dict(s.report.rejected))
        by_band.update(dict(s.intensive_by_band))
    report = UsageReport(reports[0].month, reports[0].timezone,
                         min(r.as_of_ms for r in reports), bands, tuple(episodes), days,
                         tuple(sorted(rejected.items())))
    return UsageSection(report, tuple((b.name, by_band[b.name]) for b in terms.bands))


def _merged_day(terms: UsageTerms, same: list[DayUsage]) -> DayUsage:
    first = same[0]
    complete = all(d.complete for d in same)
    out = []
    for i, band in enumerate(terms.bands):
        row = [0] * WIDTH
        for d in same:
            b = d.bands[i]
            for col, value in ((ADIS, b.adis), (REQUESTS, b.requests), (SIZED, b.sized_requests),
                               (BYTES, b.transfer_bytes), (OVER, b.over_allowance)):
                row[col] += value
        # an open day is judged over the minutes the slowest partition has seen
        out.append(band_day(band, row, min(d.bands[i].minutes for d in same)))
    return DayUsage(first.date, first.start_ms, first.end_ms, complete, tuple(out))


def _merged_band(terms: UsageTerms, i: int, days: list[DayUsage],
                 parts: list[BandUsage]) -> BandUsage:
    band = terms.bands[i]
    mine = [(d.date, d.bands[i]) for d in days if d.bands[i].adis]
    peak = max(mine, key=lambda x: x[1].mean_per_minute, default=None)
    transfers = [b.transfer_mb_per_1000 for _, b in mine if b.transfer_mb_per_1000 is not None]
    offenders = sorted((o for p in parts for o in p.offenders),
                       key=lambda o: (-o.per_minute, o.client, o.day_ms))[:terms.top]
    return BandUsage(
        band.name, sum(p.adis for p in parts), band.per_minute,
        peak[1].mean_per_minute if peak is not None else 0.0,
        sum(p.over_allowance for p in parts), len(mine), sum(b.over for _, b in mine),
        peak[0] if peak is not None else None, sum(b.requests for _, b in mine),
        max(transfers, default=None), band.limits.transfer_mb_per_1000,
        sum(b.over_transfer for _, b in mine), tuple(offenders))


def usage_row(section: UsageSection) -> list[Any]:
    """``section`` as plain lists (lossless: ``usage_from_row`` gives it back)."""
    r = section.report
    return [r.month, r.timezone, r.as_of_ms,
            [[*astuple(b)[:-1], [list(o) for o in b.offenders]] for b in r.bands],
            [list(astuple(e)) for e in r.intensive],
            [[d.date, d.start_ms, d.end_ms, d.complete, [list(astuple(b)) for b in d.bands]]
             for d in r.days],
            [list(x) for x in r.rejected],
            [list(x) for x in section.intensive_by_band]]


def usage_from_row(row: list[Any]) -> UsageSection:
    """Inverse of ``usage_row``; raises ``ValueError``/``TypeError`` on a malformed row."""
    month, tz, as_of, bands, intensive, days, rejected, by_band = row
    report = UsageReport(
        str(month), str(tz), int(as_of),
        tuple(BandUsage(*[*b[:-1], tuple(Offender(str(c), int(d), int(n), int(m))
                                         for c, d, n, m in b[-1])]) for b in bands),
        tuple(IntensiveEpisode(str(c), int(s), int(e), bool(o)) for c, s, e, o in intensive),
        tuple(DayUsage(str(d), int(s), int(e), bool(c), tuple(BandDay(*b) for b in bs))
              for d, s, e, c, bs in days),
        tuple((str(k), int(n)) for k, n in rejected))
    return UsageSection(report, tuple((str(k), int(n)) for k, n in by_band))
