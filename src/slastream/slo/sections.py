"""A contract's support and usage sections of the ledger (docs/interfaces.md#ledger-json).

Support: the tickets opened within the month, each judged as of the ledger's ``as_of``
(``slastream.support.report``). Usage: the request allowance of the month from the
contract's ``UsageCounter`` (``slastream.usage.report``), with its intensive episodes counted
per band for the metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from slastream.model.events import TicketEvent
from slastream.model.ledger import SupportSection, UsageSection
from slastream.model.spec import Contract
from slastream.model.time import Month
from slastream.support.report import evaluate_support
from slastream.usage.counter import UsageCounter
from slastream.usage.report import usage_report


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
