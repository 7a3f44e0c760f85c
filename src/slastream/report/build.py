"""A :class:`~slastream.report.content.Report` from a ledger, its JSON and the config.

The typed ledger and its JSON describe the same month (the JSON is either
``ledger_json(ledger)`` or what a worker served, from which the ledger was read), so their
SLO and contract entries correspond one to one, in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slastream.model.events import Exclusion
from slastream.model.ledger import ExclusionEntry, Ledger, SLOEntry
from slastream.model.spec import Settings
from slastream.report.content import ContractReport, Report, SloReport, extras_of
from slastream.report.daily import daily, no_data_by_day
from slastream.sli.slices import SliceStore
from slastream.slo.exclusions import applies_to

OUTSIDE = "Objectives outside any contract"


def _entries(doc: Mapping[str, Any], key: str, n: int) -> list[Mapping[str, Any]]:
    items = doc.get(key)
    out = [x if isinstance(x, Mapping) else {} for x in items] if isinstance(items, list) else []
    return (out + [{}] * n)[:n]


def _slo_report(settings: Settings, ledger: Ledger, e: SLOEntry, doc: Mapping[str, Any],
                store: SliceStore | None) -> SloReport:
    no_data = None
    if store is not None:
        try:
            no_data = no_data_by_day(settings.slo(e.name), e.scope, store, ledger.period)
        except KeyError:  # an SLO the config does not declare: no rule to judge its minutes
            no_data = None
    return SloReport(e, daily(ledger.period, e.episodes, no_data), extras_of(doc))


def _applies(x: ExclusionEntry, settings: Settings, slos: Sequence[SloReport]) -> bool:
    ex = Exclusion(x.id, x.scope, x.start_ms, x.end_ms, -1, x.kind, "")
    for s in slos:
        try:
            spec = settings.slo(s.entry.name)
        except KeyError:
            if x.scope in ("*", s.entry.name, s.entry.scope):
                return True
            continue
        if applies_to(ex, spec, s.entry.scope):
            return True
    return False


def _contracts(settings: Settings, ledger: Ledger, doc: Mapping[str, Any],
               slos: list[SloReport]) -> list[ContractReport]:
    terms = {c.name: c for c in settings.contracts}
    out = []
    covered: set[str] = set()
    for c, cdoc in zip(ledger.contracts, _entries(doc, "contracts", len(ledger.contracts)),
                       strict=True):
        mine = tuple(s for s in slos if s.entry.name in c.slos)
        covered.update(c.slos)
        out.append(ContractReport(
            c.name, c, terms.get(c.name), mine,
            tuple(x for x in ledger.exclusions if _applies(x, settings, mine)),
            extras_of(cdoc)))
    rest = tuple(s for s in slos if s.entry.name not in covered)
    if rest:
        out.append(ContractReport(
            OUTSIDE, None, None, rest,
            tuple(x for x in ledger.exclusions if _applies(x, settings, rest)), extras_of({})))
    return out


def _document(doc: Mapping[str, Any], ledger: Ledger,
              contracts: list[ContractReport]) -> dict[str, Any]:
    """The ledger JSON restricted to the reported contracts' SLOs and exclusions."""
    names = {s.entry.name for c in contracts for s in c.slos}
    ids = {x.id for c in contracts for x in c.exclusions}
    slos = _entries(doc, "slos", len(ledger.slos))
    excl = doc.get("exclusions")
    out = dict(doc)
    out["slos"] = [d for e, d in zip(ledger.slos, slos, strict=True) if e.name in names]
    if isinstance(excl, list):
        out["exclusions"] = [x for x in excl if isinstance(x, Mapping) and x.get("id") in ids]
    return out


def build_report(settings: Settings, ledger: Ledger, doc: Mapping[str, Any],
                 store: SliceStore | None, source: str) -> Report:
    """The report of every contract in ``ledger`` (plus the SLOs no contract covers).

    ``store`` holds the slices the ledger was built from (None for a ledger read from a
    worker: the days then carry no evidence figures).
    """
    slos = [_slo_report(settings, ledger, e, d, store)
            for e, d in zip(ledger.slos, _entries(doc, "slos", len(ledger.slos)), strict=True)]
    contracts = _contracts(settings, ledger, doc, slos)
    return Report(ledger.period, tuple(contracts), settings.exclusion_policy, ledger.inputs,
                  source, store is not None, _document(doc, ledger, contracts))
