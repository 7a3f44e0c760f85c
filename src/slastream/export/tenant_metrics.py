"""Tenants on /metrics, bounded by the config (docs/interfaces.md#tenant-metrics).

The SLO families carry a tenant in their ``scope`` label (``acme``, or ``acme/meters`` for
SLOs scoped by application). At most ``tenants.metrics_limit`` tenants get label values of
their own: the configured ``tenants.known`` first, in their order, then the others in name
order. The others are not dropped: their SLI event counters and latency histograms are summed
into the scope ``overflow``, their gauges (ratios do not add up) are left out, and
``slastream_tenants{state="overflow"}`` says how many they are.

Families added here:

==============================================  =========  ==================================
metric                                           type       labels
==============================================  =========  ==================================
slastream_tenants                                gauge      state (labelled, overflow)
slastream_tenant_contract_availability_ratio     gauge      contract, tenant, period
slastream_tenant_contract_credit_ratio           gauge      contract, tenant, period
slastream_tenant_contract_credit_amount          gauge      contract, tenant, period
slastream_gateway_uplinks_total                  counter    slo, scope, gateway, outcome
==============================================  =========  ==================================

``slastream_gateway_uplinks_total`` (``outcome`` delivered or lost) counts per-gateway
diagnostics (``sli/gateways.py``) of labelled scopes, and only while the gateways are at
most ``tenants.gateway_metrics_limit`` (0, the default: never); otherwise the family is
empty and ``/api/gateways`` has the figures.

``contract`` is the template's name; ``slastream_contract_*`` carry the instance
(``{template}@{tenant}``) as before. The credit amount is there for contracts with a
``monthly_fee``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from slastream.model.ledger import Ledger
from slastream.model.spec import Settings
from slastream.sli.attribution import UNATTRIBUTED
from slastream.sli.gateways import SUFFIX, split_scope
from slastream.slo.tenants import OWNER_SCOPES, tenant_of

OVERFLOW = "overflow"
Histogram = tuple[list[float], list[int], float]


def settings_of(source: object) -> Settings | None:
    """The config of a metrics source that has one (an engine, the live view)."""
    settings = getattr(source, "settings", None)
    return settings if isinstance(settings, Settings) else None


class TenantBound:
    """One scrape's choice of the tenants that get label values of their own."""

    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        self._scoped = {s.name: s for s in settings.slos if s.scope_by in OWNER_SCOPES}
        seen = sorted({t for e in ledger.slos if e.name in self._scoped
                       and (t := tenant_of(self._scoped[e.name], e.scope)) is not None}
                      | {c.tenant for c in ledger.contracts if c.tenant is not None})
        known = list(settings.tenants.ids())
        order = known + [t for t in seen if t not in set(known)]
        limit = settings.tenants.metrics_limit
        self.labelled = set(order[:limit])
        self.overflow = len(set(seen) - self.labelled)
        self._gateway_limit = settings.tenants.gateway_metrics_limit
        self._gateways: dict[tuple[str, str, str, str], int] = {}

    def _keeps(self, slo: str, scope: str) -> bool:
        spec = self._scoped.get(slo)
        if spec is None or scope == UNATTRIBUTED:
            return True
        return tenant_of(spec, scope) in self.labelled

    def ledger(self, ledger: Ledger) -> Ledger:
        return replace(
            ledger, slos=tuple(e for e in ledger.slos if self._keeps(e.name, e.scope)),
            contracts=tuple(c for c in ledger.contracts
                            if c.tenant is None or c.tenant in self.labelled))

    def breaches(self, breaches: dict[tuple[str, str], bool]) -> dict[tuple[str, str], bool]:
        return {k: v for k, v in breaches.items() if self._keeps(*k)}

    def events(self, events: dict[tuple[str, str, str], int]) -> dict[tuple[str, str, str], int]:
        out: dict[tuple[str, str, str], int] = {}
        for (slo, scope, outcome), n in events.items():
            if slo.endswith(SUFFIX):  # per-gateway diagnostics: never an SLO's series
                head, gateway = split_scope(scope)
                name = slo.removesuffix(SUFFIX)
                if self._keeps(name, head):
                    self._gateways[(name, head, gateway, outcome)] = n
                continue
            key = (slo, scope if self._keeps(slo, scope) else OVERFLOW, outcome)
            out[key] = out.get(key, 0) + n
        return out

    def histograms(self, histograms: dict[tuple[str, str], Histogram]
                   ) -> dict[tuple[str, str], Histogram]:
        out: dict[tuple[str, str], Histogram] = {}
        for (slo, scope), (bounds, cumulative, total) in histograms.items():
            key = (slo, scope if self._keeps(slo, scope) else OVERFLOW)
            have = out.get(key)
            if have is None:
                out[key] = (list(bounds), list(cumulative), total)
            else:  # every histogram of an SLO has the same bounds
                out[key] = (have[0], [a + b for a, b in zip(have[1], cumulative, strict=True)],
                            have[2] + total)
        return out

    def families(self, ledger: Ledger) -> list[Metric]:
        """``slastream_tenants`` and the per-tenant contract families (of the bounded
        ledger)."""
        count = GaugeMetricFamily("slastream_tenants",
                                  "Tenants with label values of their own, and those summed "
                                  "into the overflow scope.", labels=["state"])
        count.add_metric(["labelled"], float(len(self.labelled)))
        count.add_metric(["overflow"], float(self.overflow))
        return [count, *contract_families(ledger)]


    def gateway_families(self) -> list[Metric]:
        """Per-gateway uplinks (after ``events``), while the gateways are few enough."""
        family = CounterMetricFamily("slastream_gateway_uplinks",
                                     "Uplinks first heard by a gateway, delivered or lost.",
                                     labels=["slo", "scope", "gateway", "outcome"])
        if 0 < len({k[2] for k in self._gateways}) <= self._gateway_limit:
            for (slo, scope, gateway, outcome), n in sorted(self._gateways.items()):
                family.add_metric([slo, scope, gateway,
                                   "delivered" if outcome == "good" else "lost"], n)
        return [family]


def contract_families(ledger: Ledger | None = None) -> list[Metric]:
    labels = ["contract", "tenant", "period"]
    avail = GaugeMetricFamily("slastream_tenant_contract_availability_ratio",
                              "A tenant's contract availability over the period.", labels=labels)
    credit = GaugeMetricFamily("slastream_tenant_contract_credit_ratio",
                               "Service credit owed to a tenant, as a share of its monthly fee.",
                               labels=labels)
    amount = GaugeMetricFamily("slastream_tenant_contract_credit_amount",
                               "Service credit owed to a tenant, in the currency of its fee.",
                               labels=labels)
    for c in ledger.contracts if ledger else ():
        if c.tenant is None:
            continue
        template = c.name.removesuffix(f"@{c.tenant}")
        for family, value in ((avail, c.availability), (credit, c.credit),
                              (amount, c.credit_amount)):
            if value is not None and math.isfinite(value):
                family.add_metric([template, c.tenant, "month"], value)
    return [avail, credit, amount]


def empty_families() -> Iterable[Metric]:
    """The families without samples (for ``describe``)."""
    yield GaugeMetricFamily("slastream_tenants", "", labels=["state"])
    yield CounterMetricFamily("slastream_gateway_uplinks", "",
                              labels=["slo", "scope", "gateway", "outcome"])
    yield from contract_families()
