"""Prometheus exposition of a running engine: one collector, evaluated at scrape time.

Every metric slastream exposes is declared here (docs/interfaces.md): namespace
``slastream_``, base units, ``_total`` on counters, labels bounded by the config (SLO, scope,
contract, source, outcome) and never a device, DevAddr or gateway. Nothing is stored between
scrapes: each scrape asks a :class:`MetricsSource` (an engine, or a worker's live view) for
its numbers, so the registry holds no copy that could drift from the ledger. The registry
is always injected; the process-wide default registry is never touched.

==============================================  =========  ==================================
metric                                           type       labels
==============================================  =========  ==================================
slastream_slo_availability_ratio                 gauge      slo, scope, period
slastream_slo_downtime_minutes                   gauge      slo, scope, period
slastream_slo_excused_minutes                    gauge      slo, scope, period
slastream_slo_no_data_minutes                    gauge      slo, scope, period
slastream_slo_error_budget_remaining_ratio       gauge      slo, scope, period
slastream_slo_coverage_ratio                     gauge      slo, scope, period
slastream_slo_insufficient_data                  gauge      slo, scope
slastream_slo_objective_ratio                    gauge      slo, scope
slastream_sli_value                              gauge      slo, scope, period
slastream_slo_breach                             gauge      slo, scope
slastream_slo_info                               info       slo, scope, sli
slastream_sli_events_total                       counter    slo, scope, outcome (good, bad)
slastream_sli_latency_seconds                    histogram  slo, scope
slastream_contract_availability_ratio            gauge      contract, period
slastream_contract_credit_ratio                  gauge      contract, period
slastream_contract_slo_info                      info       contract, slo
slastream_contract_insufficient_data             gauge      contract
slastream_ingest_messages_total                  counter    source, outcome
slastream_ingest_ignored_messages_total          counter    source, outcome (why ignored)
slastream_watermark_delay_seconds                gauge
slastream_late_events_total                      counter
slastream_consumer_lag_messages                  gauge      (when the source reports it)
slastream_tracked_uplinks                        gauge      (when the source reports it)
slastream_skipped_records_total                  counter    (when the source reports it)
slastream_collector_errors_total                 counter    section
slastream_mqtt_connection_errors_total           counter    reason (bridge in the process only)
==============================================  =========  ==================================

Contracts' support and usage sections add the families of
:mod:`slastream.export.terms_metrics` (per severity and per band); tenants, bounded by the
config, those of :mod:`slastream.export.tenant_metrics`.

``period`` is ``"month"``: the calendar month to date in the config's time zone.
``slastream_sli_value`` is the SLI over that period: a ratio for delivery, RX2 and probe
SLOs, the mean response time in seconds for response-time SLOs.
``slastream_slo_insufficient_data`` and ``slastream_contract_insufficient_data`` are 1 while
the ledger's status is ``insufficient_data`` (docs/semantics.md#coverage), else 0. The
``outcome`` of ignored messages is why they were ignored: the class of the decoder's reason
(``session change``, ``not a Class-A downlink``, ``log``, ...), a bounded set.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from slastream.export.bridge_metrics import LINK_METRICS
from slastream.export.tenant_metrics import TenantBound, empty_families, settings_of
from slastream.export.terms_metrics import terms_families
from slastream.model.ledger import ContractEntry, Ledger, SLOEntry

log = logging.getLogger(__name__)

PERIOD_MONTH = "month"
OUTCOMES = ("good", "bad")

# Keys of MetricsSource.pipeline() that become metrics: key → (metric name, type, help).
# Other keys are ignored, so a source can report more without changing the exposition.
PIPELINE_METRICS: dict[str, tuple[str, str, str]] = {
    "watermark_delay_seconds": (
        "slastream_watermark_delay_seconds", "gauge",
        "How far the event-time watermark trails the newest event time seen."),
    "late_events_total": (
        "slastream_late_events", "counter",
        "Events that arrived after the watermark passed them (applied as corrections)."),
    "consumer_lag_messages": (
        "slastream_consumer_lag_messages", "gauge",
        "Kafka records not yet consumed by this worker, over its partitions."),
    "tracked_uplinks": (
        "slastream_tracked_uplinks", "gauge",
        "Uplinks held in delivery-matching state, waiting for their deadline."),
    "skipped_records_total": (
        "slastream_skipped_records", "counter",
        "Kafka records skipped as not an event batch this release reads (another producer "
        "on the topic, or a record version of a newer release), over this worker's "
        "partitions."),
    **LINK_METRICS,
}


class MetricsSource(Protocol):
    """What the exposition reads at every scrape.

    Implemented by ``slastream.engine.Engine`` and ``slastream.stream.view.LiveView``, both
    with the figures of ``slastream.slo.figures``.

    The methods are called on the event-loop thread that serves ``/metrics``, one after the
    other, so a source needs no locking as long as it is only mutated on that loop.
    """

    def ledger(self, month: str | None = None) -> Ledger:
        """Month-to-date ledger (default month), or the ledger of ``month`` (YYYY-MM)."""
        ...

    def ingest_totals(self) -> dict[tuple[str, str], int]:
        """(source, outcome) → messages; outcome is ok, ignored or rejected."""
        ...

    def ignored_totals(self) -> dict[tuple[str, str], int]:
        """(source, reason class) → messages ignored (understood, not relevant)."""
        ...

    def sli_event_totals(self) -> dict[tuple[str, str, str], int]:
        """(slo, scope, outcome) → final SLI events; outcome is good or bad."""
        ...

    def breaches(self) -> dict[tuple[str, str], bool]:
        """(slo, scope) → inside an outage episode right now."""
        ...

    def histograms(self) -> dict[tuple[str, str], tuple[list[float], list[int], float]]:
        """(slo, scope) → (upper bounds in ms ascending, cumulative counts, sum in ms).

        The last bound should be ``inf``; without it, the count at the largest bound is
        taken as the total count.
        """
        ...

    def pipeline(self) -> dict[str, float]:
        """Pipeline health figures; see :data:`PIPELINE_METRICS` for the keys exposed."""
        ...


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


class SlastreamCollector(Collector):
    """Reads a :class:`MetricsSource` at every scrape and yields slastream's metric families.

    A section that raises (say the ledger) is logged and counted in
    ``slastream_collector_errors_total{section}``; the other sections are still exposed, so
    one bug does not blank every dashboard and fire every no-data alert.
    """

    def __init__(self, source: MetricsSource) -> None:
        self.source = source
        self._errors: Counter[str] = Counter()

    def describe(self) -> Iterable[Metric]:
        """The families without samples, so a registry can refuse duplicate names."""
        return list(self._families_for_names())

    def _families_for_names(self) -> Iterator[Metric]:
        yield from _ledger_families()
        yield from _event_families()
        yield _latency_family()
        yield from _pipeline_families(None)
        if settings_of(self.source) is not None:
            yield from empty_families()

    def collect(self) -> Iterable[Metric]:
        """Evaluate the source now and return every family; tenants bounded by the config
        (``export/tenant_metrics.py``) when the source has one."""
        out: list[Metric] = []
        settings, src = settings_of(self.source), self.source
        bound: list[TenantBound] = []  # the ledger section chooses the scrape's tenants

        def ledger() -> list[Metric]:
            led, breaches = src.ledger(), src.breaches()
            if settings is not None:
                bound.append(TenantBound(settings, led))
                led, breaches = bound[0].ledger(led), bound[0].breaches(breaches)
            return [*_ledger_families(led, breaches), *(bound[0].families(led) if bound else ())]

        sections: list[tuple[str, Callable[[], Iterable[Metric]]]] = [
            ("ledger", ledger),
            ("events", lambda: _event_families(
                bound[0].events(src.sli_event_totals()) if bound else src.sli_event_totals(),
                src.ingest_totals(), src.ignored_totals())),
            ("histograms", lambda: [_latency_family(
                bound[0].histograms(src.histograms()) if bound else src.histograms())]),
            ("pipeline", lambda: _pipeline_families(src.pipeline())),
            ("gateways", lambda: bound[0].gateway_families() if bound else [])]
        for name, build in sections:
            try:
                out.extend(build())
            except Exception:
                log.exception("metrics: the %s section failed; exposing the others", name)
                self._errors[name] += 1
        errors = CounterMetricFamily(
            "slastream_collector_errors", "Scrapes in which a section of the metrics failed.",
            labels=["section"])
        for name, _build in sections:
            errors.add_metric([name], self._errors[name])
        out.append(errors)
        return out


@dataclass(frozen=True)
class _LedgerFamilies:
    """The families made from a ledger, empty until entries are added."""

    gauges: dict[str, GaugeMetricFamily]  # SLOEntry attribute → family
    objective: GaugeMetricFamily
    sli_value: GaugeMetricFamily
    info: InfoMetricFamily
    breach: GaugeMetricFamily
    c_avail: GaugeMetricFamily
    c_credit: GaugeMetricFamily
    c_slos: InfoMetricFamily
    insufficient: GaugeMetricFamily
    c_insufficient: GaugeMetricFamily

    def all(self) -> list[Metric]:
        return [*self.gauges.values(), self.objective, self.sli_value, self.info, self.breach,
                self.c_avail, self.c_credit, self.c_slos, self.insufficient,
                self.c_insufficient]


def _new_ledger_families() -> _LedgerFamilies:
    slo_labels = ["slo", "scope", "period"]
    return _LedgerFamilies(
        gauges={
            "availability": GaugeMetricFamily(
                "slastream_slo_availability_ratio",
                "Availability over the period: (total − excused − downtime) / (total − excused).",
                labels=slo_labels),
            "downtime_minutes": GaugeMetricFamily(
                "slastream_slo_downtime_minutes",
                "Minutes of downtime under the contract's rule in the period.",
                labels=slo_labels),
            "excused_minutes": GaugeMetricFamily(
                "slastream_slo_excused_minutes",
                "Minutes excused by maintenance or other exclusions in the period.",
                labels=slo_labels),
            "no_data_minutes": GaugeMetricFamily(
                "slastream_slo_no_data_minutes",
                "Minutes without enough events to judge the SLI in the period.",
                labels=slo_labels),
            "error_budget_remaining": GaugeMetricFamily(
                "slastream_slo_error_budget_remaining_ratio",
                "Share of the period's error budget not yet spent (negative when overspent).",
                labels=slo_labels),
            "coverage": GaugeMetricFamily(
                "slastream_slo_coverage_ratio",
                "Share of the period's minutes so far with evidence to judge the SLO.",
                labels=slo_labels),
        },
        objective=GaugeMetricFamily(
            "slastream_slo_objective_ratio", "The SLO's objective.", labels=["slo", "scope"]),
        sli_value=GaugeMetricFamily(
            "slastream_sli_value",
            "SLI over the period: a ratio, or the mean response time in seconds.",
            labels=slo_labels),
        info=InfoMetricFamily(
            "slastream_slo",
            "The SLI kind behind each SLO (delivery, rx2, probe, response_time).",
            labels=["slo", "scope"]),
        breach=GaugeMetricFamily(
            "slastream_slo_breach", "1 while the SLO is in an outage episode, else 0.",
            labels=["slo", "scope"]),
        c_avail=GaugeMetricFamily(
            "slastream_contract_availability_ratio", "Contract availability over the period.",
            labels=["contract", "period"]),
        c_credit=GaugeMetricFamily(
            "slastream_contract_credit_ratio",
            "Service credit owed, as a share of the monthly fee.", labels=["contract", "period"]),
        c_slos=InfoMetricFamily(
            "slastream_contract_slo", "Which SLOs a contract is made of.",
            labels=["contract", "slo"]),
        insufficient=GaugeMetricFamily(
            "slastream_slo_insufficient_data",
            "1 while the period so far has too little evidence to report the SLO as met.",
            labels=["slo", "scope"]),
        c_insufficient=GaugeMetricFamily(
            "slastream_contract_insufficient_data",
            "1 while an SLO of the contract has too little evidence to report it as met.",
            labels=["contract"]),
    )


def _add_slo(f: _LedgerFamilies, entry: SLOEntry) -> None:
    slo, scope = entry.name, entry.scope
    f.info.add_metric([slo, scope], {"sli": entry.sli})
    f.insufficient.add_metric([slo, scope], 1.0 if entry.met is None else 0.0)
    for key, family in f.gauges.items():
        value = _finite(getattr(entry, key))
        if value is not None:
            family.add_metric([slo, scope, PERIOD_MONTH], value)
    if (value := _finite(entry.objective)) is not None:
        f.objective.add_metric([slo, scope], value)
    if (value := _finite(entry.sli_value)) is not None:
        # the ledger gives response time in ms; Prometheus wants base units.
        scale = 0.001 if entry.sli == "response_time" else 1.0
        f.sli_value.add_metric([slo, scope, PERIOD_MONTH], value * scale)


def _add_contract(f: _LedgerFamilies, contract: ContractEntry) -> None:
    if (value := _finite(contract.availability)) is not None:
        f.c_avail.add_metric([contract.name, PERIOD_MONTH], value)
    if (value := _finite(contract.credit)) is not None:
        f.c_credit.add_metric([contract.name, PERIOD_MONTH], value)
    for slo in contract.slos:
        f.c_slos.add_metric([contract.name, slo], {})
    f.c_insufficient.add_metric([contract.name], 1.0 if contract.met is None else 0.0)


def _ledger_families(ledger: Ledger | None = None,
                     breaches: dict[tuple[str, str], bool] | None = None) -> list[Metric]:
    families = _new_ledger_families()
    for entry in ledger.slos if ledger else ():
        _add_slo(families, entry)
    for (slo, scope), inside in sorted((breaches or {}).items()):
        families.breach.add_metric([slo, scope], 1.0 if inside else 0.0)
    for contract in ledger.contracts if ledger else ():
        _add_contract(families, contract)
    return [*families.all(), *terms_families(ledger)]


def _event_families(events: dict[tuple[str, str, str], int] | None = None,
                    ingest: dict[tuple[str, str], int] | None = None,
                    ignored: dict[tuple[str, str], int] | None = None) -> list[Metric]:
    sli = CounterMetricFamily(
        "slastream_sli_events", "Final SLI events by outcome (what burn-rate alerts divide).",
        labels=["slo", "scope", "outcome"])
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for (slo, scope, outcome), n in (events or {}).items():
        counts.setdefault((slo, scope), {})[outcome] = int(n)
    for (slo, scope), by_outcome in sorted(counts.items()):
        # Both outcomes always, 0 included: the error ratio bad / (good + bad) is empty,
        # not 0, while the bad series does not exist, and burn-rate alerts would miss the
        # first burst of errors.
        for outcome in OUTCOMES:
            sli.add_metric([slo, scope, outcome], by_outcome.get(outcome, 0))
    messages = CounterMetricFamily(
        "slastream_ingest_messages", "Messages seen by source and outcome (ok, ignored, rejected).",
        labels=["source", "outcome"])
    for (source, outcome), n in sorted((ingest or {}).items()):
        messages.add_metric([source, outcome], int(n))
    why = CounterMetricFamily(
        "slastream_ingest_ignored_messages",
        "Messages understood and ignored, by source and why (the class of the reason).",
        labels=["source", "outcome"])
    for (source, reason), n in sorted((ignored or {}).items()):
        why.add_metric([source, reason], int(n))
    return [sli, messages, why]


def _latency_family(
    histograms: dict[tuple[str, str], tuple[list[float], list[int], float]] | None = None,
) -> Metric:
    family = HistogramMetricFamily(
        "slastream_sli_latency_seconds",
        "Response time (response-time SLOs) and downlink latency (RX2 SLOs).",
        labels=["slo", "scope"])
    for (slo, scope), (bounds_ms, cumulative, sum_ms) in sorted((histograms or {}).items()):
        buckets = [(_le(bound / 1000.0), float(n)) for bound, n in zip(bounds_ms, cumulative,
                                                                        strict=True)]
        if not bounds_ms or not math.isinf(bounds_ms[-1]):
            buckets.append(("+Inf", float(cumulative[-1]) if cumulative else 0.0))
        family.add_metric([slo, scope], buckets, sum_ms / 1000.0)
    return family


def _le(seconds: float) -> str:
    return "+Inf" if math.isinf(seconds) else repr(seconds)


def _pipeline_families(pipeline: dict[str, float] | None) -> list[Metric]:
    out: list[Metric] = []
    for key, (name, kind, doc) in PIPELINE_METRICS.items():
        family: Metric
        family = CounterMetricFamily(name, doc) if kind == "counter" else \
            GaugeMetricFamily(name, doc)
        if pipeline is not None:
            value = _finite(pipeline.get(key))
            if value is None:
                continue
            family.add_metric([], value)
        out.append(family)
    return out


def build_registry(source: MetricsSource) -> CollectorRegistry:
    """A fresh registry holding one :class:`SlastreamCollector` over ``source``."""
    registry = CollectorRegistry()
    registry.register(SlastreamCollector(source))
    return registry
