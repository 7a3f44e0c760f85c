"""Per-tenant contracts (docs/semantics.md#tenant-contracts): a contract template with
``tenants`` becomes one contract per tenant, each rating its tenant's scopes of the SLOs
scoped by tenant or application and every scope of its other SLOs; and a ledger seen by
one tenant.

An instance is named ``{template}@{tenant}``; support tickets name the instance as their
contract. The ``unattributed`` scope is never a tenant: no contract is charged for it, and
the ledger lists it as an SLO entry of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from slastream.model.ledger import Ledger, SLOEntry
from slastream.model.spec import SLO, Contract, Settings, TenantTerms
from slastream.sli.attribution import UNATTRIBUTED
from slastream.sli.slices import SliceStore

OWNER_SCOPES = ("tenant", "application")


def tenant_of(slo: SLO, scope: str) -> str | None:
    """The tenant an SLO entry belongs to; ``None`` for a scope of no single tenant (the
    network, a region, a component) and for ``unattributed``."""
    if slo.scope_by == "tenant":
        tenant = scope
    elif slo.scope_by == "application":
        tenant = scope.split("/", 1)[0]
    else:
        return None
    return None if tenant == UNATTRIBUTED else tenant


def instance_name(template: str, tenant: str) -> str:
    return f"{template}@{tenant}"


def seen_tenants(settings: Settings, store: SliceStore | None) -> list[str]:
    """Tenants known from the config and those of the slices, sorted, each once."""
    found = set(settings.tenants.ids())
    for slo in settings.slos:
        if store is not None and slo.scope_by in OWNER_SCOPES:
            found.update(t for scope in store.scopes(slo.name)
                         if (t := tenant_of(slo, scope)) is not None)
    return sorted(found)


def instances(contract: Contract, tenants: Iterable[str]) -> list[Contract]:
    """The contracts a template stands for: itself when it is not per tenant."""
    if contract.tenants is None:
        return [contract]
    ids = list(tenants) if contract.tenants == "all" else list(contract.tenants)
    overrides = dict(contract.overrides)
    out = []
    for tenant in ids:
        o = overrides.get(tenant, TenantTerms())
        out.append(replace(
            contract, name=instance_name(contract.name, tenant), tenant=tenant,
            tenants=None, overrides=(), usage=None,
            objective=contract.objective if o.objective is None else o.objective,
            credit=o.credit or contract.credit,
            monthly_fee=contract.monthly_fee if o.monthly_fee is None else o.monthly_fee,
            support=o.support or contract.support,
            timezone=o.timezone or contract.timezone))
    return out


def rated_entries(settings: Settings, contract: Contract,
                  entries: Iterable[SLOEntry]) -> list[SLOEntry]:
    """The entries of ``contract``'s SLOs it rates: an instance takes its own tenant's
    scopes of owner-scoped SLOs and every scope of the others."""
    scoped = {s.name: s for s in settings.slos if s.scope_by in OWNER_SCOPES}
    out = []
    for e in entries:
        if e.name not in contract.slos:
            continue
        slo = scoped.get(e.name)
        if slo is not None and tenant_of(slo, e.scope) != contract.tenant:
            continue
        out.append(e)
    return out


def for_tenant(settings: Settings, ledger: Ledger, tenant: str) -> Ledger:
    """The ledger as one tenant sees it: its own entries of owner-scoped SLOs, the entries
    of the other SLOs (the network it shares), and its contracts."""
    scoped = {s.name: s for s in settings.slos if s.scope_by in OWNER_SCOPES}
    slos = tuple(e for e in ledger.slos if e.name not in scoped
                 or tenant_of(scoped[e.name], e.scope) == tenant)
    contracts = tuple(c for c in ledger.contracts if c.tenant == tenant)
    return replace(ledger, slos=slos, contracts=contracts)


class TenantSource:
    """A metrics source (``export/metrics.py``) as one tenant sees it: its ledgers through
    ``for_tenant`` and its breaches. What the status page of a tenant is built from."""

    def __init__(self, source: Any, settings: Settings, tenant: str) -> None:
        self._source = source
        self.settings = settings
        self.tenant = tenant
        self.store = getattr(source, "store", None)

    def ledger(self, month: str | None = None) -> Ledger:
        return for_tenant(self.settings, self._source.ledger(month), self.tenant)

    def breaches(self) -> dict[tuple[str, str], bool]:
        scoped = {s.name: s for s in self.settings.slos if s.scope_by in OWNER_SCOPES}
        return {(slo, scope): inside for (slo, scope), inside in self._source.breaches().items()
                if slo not in scoped or tenant_of(scoped[slo], scope) == self.tenant}
