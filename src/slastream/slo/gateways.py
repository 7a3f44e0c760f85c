"""The per-gateway diagnostics of a month (docs/semantics.md#gateway-diagnostics): per
scope of each delivery SLO, the uplinks its gateways heard and delivered and each
gateway's share of the scope's losses, the top gateways by losses first."""

from __future__ import annotations

from typing import Any

from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.sli.gateways import pseudo_slo, split_scope
from slastream.sli.slices import GOOD, TOTAL, SliceStore
from slastream.slo.tenants import tenant_of


def gateway_report(settings: Settings, store: SliceStore, month: Month, tenant: str | None,
                   top: int) -> dict[str, Any]:
    """``{"month", "slos": [{"slo", "scope", "heard", "delivered", "lost", "gateways",
    "top": [{"gateway", "heard", "delivered", "lost", "loss_share"}]}]}`` for the UTC
    calendar month of ``month``'s label, of ``tenant``'s scopes (every scope: ``None``)."""
    minute = Month(month.year, month.month, "UTC").start_minute
    out = []
    for slo in settings.slos:
        if slo.sli != "delivery":
            continue
        name = pseudo_slo(slo.name)
        by_scope: dict[str, list[tuple[str, int, int]]] = {}
        for full in store.scopes(name):
            scope, gateway = split_scope(full)
            if tenant is not None and tenant_of(slo, scope) != tenant:
                continue
            vec = store.matrix(name, full, minute, minute + 1)[0]
            if vec[TOTAL]:
                by_scope.setdefault(scope, []).append((gateway, int(vec[TOTAL]), int(vec[GOOD])))
        for scope, rows in sorted(by_scope.items()):
            heard = sum(h for _, h, _ in rows)
            delivered = sum(d for _, _, d in rows)
            lost = heard - delivered
            rows.sort(key=lambda r: (-(r[1] - r[2]), r[0]))
            out.append({"slo": slo.name, "scope": scope, "heard": heard, "delivered": delivered,
                        "lost": lost, "gateways": len(rows), "top": [
                            {"gateway": g, "heard": h, "delivered": d, "lost": h - d,
                             "loss_share": round((h - d) / lost, 6) if lost else 0.0}
                            for g, h, d in rows[:top]]})
    return {"month": month.label, "slos": out}
