"""The metric families of contracts' support and usage sections
(docs/interfaces.md#prometheus-metrics).

Read from the ledger like the other ledger families, labelled by contract and severity or
band only: ticket ids and client ids stay in the ledger, never in labels.

==============================================  =========  ==================================
metric                                           type       labels
==============================================  =========  ==================================
slastream_support_open_tickets                   gauge      contract, severity
slastream_support_near_deadline_tickets          gauge      contract, severity
slastream_support_missed_tickets                 gauge      contract, severity, period
slastream_usage_adis                             gauge      contract, band
slastream_usage_mean_requests_per_minute         gauge      contract, band
slastream_usage_over_allowance_adis              gauge      contract, band
slastream_usage_intensive_episodes               gauge      contract, band
slastream_usage_transfer_mb_per_1000_adis        gauge      contract, band
==============================================  =========  ==================================
"""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric

from slastream.model.ledger import ContractEntry, Ledger
from slastream.support.report import near_deadline, open_by_severity

PERIOD_MONTH = "month"


def _gauge(name: str, doc: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _support(contract: ContractEntry, open_: GaugeMetricFamily, near: GaugeMetricFamily,
             missed: GaugeMetricFamily) -> None:
    if contract.support is None:
        return
    report = contract.support.report
    for severity, n in open_by_severity(report).items():
        open_.add_metric([contract.name, severity], n)
    for severity, n in near_deadline(report, contract.support.near_deadline_ms).items():
        near.add_metric([contract.name, severity], n)
    for severity, summary in report.by_severity:
        missed.add_metric([contract.name, severity, PERIOD_MONTH], summary.missed)


def _usage(contract: ContractEntry, families: list[GaugeMetricFamily]) -> None:
    if contract.usage is None:
        return
    adis, mean, over, intensive, transfer = families
    episodes = dict(contract.usage.intensive_by_band)
    for band in contract.usage.report.bands:
        labels = [contract.name, band.band]
        adis.add_metric(labels, band.adis)
        mean.add_metric(labels, band.mean_per_minute)
        over.add_metric(labels, band.over_allowance)
        intensive.add_metric(labels, episodes.get(band.band, 0))
        if band.transfer_mb_per_1000 is not None:  # absent: no request had a size
            transfer.add_metric(labels, band.transfer_mb_per_1000)


def terms_families(ledger: Ledger | None = None) -> list[Metric]:
    """The support and usage families of ``ledger`` (without samples when None)."""
    open_ = _gauge("slastream_support_open_tickets",
                   "Support tickets not yet resolved, per severity.", "contract", "severity")
    near = _gauge("slastream_support_near_deadline_tickets",
                  "Tickets whose pending reaction or resolution deadline is within the "
                  "contract's near_deadline_s.", "contract", "severity")
    missed = _gauge("slastream_support_missed_tickets",
                    "Tickets of the period whose reaction deadline was missed.",
                    "contract", "severity", "period")
    usage = [
        _gauge("slastream_usage_adis",
               "ADIs operational on at least one complete day of the month, per band.",
               "contract", "band"),
        _gauge("slastream_usage_mean_requests_per_minute",
               "The highest daily mean of requests per ADI per minute this month, per band.",
               "contract", "band"),
        _gauge("slastream_usage_over_allowance_adis",
               "ADIs over their band's request allowance on a complete day this month.",
               "contract", "band"),
        _gauge("slastream_usage_intensive_episodes",
               "Intensive-communication episodes this month, per band of the device.",
               "contract", "band"),
        _gauge("slastream_usage_transfer_mb_per_1000_adis",
               "The highest daily data transfer this month in MB (2^20 bytes) per 1,000 "
               "operational ADIs, per band; absent while no request carried a size.",
               "contract", "band"),
    ]
    for contract in ledger.contracts if ledger else ():
        _support(contract, open_, near, missed)
        _usage(contract, usage)
    return [open_, near, missed, *usage]
