"""The ``contracts`` section: which SLOs a contract combines and the credit it owes."""

from __future__ import annotations

from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slastream.config.checker import Checker
from slastream.config.support import parse_support
from slastream.config.usage import parse_usage
from slastream.model import spec
from slastream.model.spec import Contract, Credit, CreditTier, TenantTerms


def _tiers(c: Checker, raw: Any, path: str) -> list[CreditTier]:
    tiers: list[CreditTier] = []
    if not isinstance(raw, list):
        c.fail(f"{path}.tiers", "must be a list")
        raw = []
    for j, t in enumerate(raw):
        tp = f"{path}.tiers[{j}]"
        td = c.mapping(t, tp)
        c.unknown(td, tp, {"over_minutes", "credit"})
        over = c.num(td, "over_minutes", tp, None, 0.0)
        credit = c.num(td, "credit", tp, None, 0.0, 1.0)
        if over is None or credit is None:
            c.fail(tp, "needs over_minutes and credit (a ratio of the fee)")
            continue
        tiers.append(CreditTier(float(over), float(credit)))
    return tiers


def _credit(c: Checker, raw: Any, path: str) -> Credit:
    d = c.mapping(raw, path)
    if not d:
        return Credit(kind="none")
    c.unknown(d, path, {"kind", "tiers", "basis", "uptime_slo", "response_slo", "target_uptime",
                        "claim_within_days"})
    kind = c.choice(d, "kind", path, "tiers", get_args(spec.CreditKind))
    tiers = _tiers(c, d.get("tiers", []), path)
    if kind == "tiers" and not tiers:
        c.fail(f"{path}.tiers", "is required for kind tiers")
    if [t.over_minutes for t in tiers] != sorted(t.over_minutes for t in tiers):
        c.fail(f"{path}.tiers", "must be sorted by over_minutes")
    return Credit(
        kind=kind, tiers=tuple(tiers),
        basis=c.choice(d, "basis", path, "max_downtime", get_args(spec.CreditBasis)),
        uptime_slo=c.text(d, "uptime_slo", path, None),
        response_slo=c.text(d, "response_slo", path, None),
        target_uptime=float(c.num(d, "target_uptime", path, 0.999, 0.0, 1.0) or 0.999),
        claim_within_days=_days(c.num(d, "claim_within_days", path, None, 1, 366, integer=True)),
    )


def _days(value: float | None) -> int | None:
    return None if value is None else int(value)


def _contract(c: Checker, raw: Any, i: int, slo_names: set[str]) -> Contract:
    path = f"contracts[{i}]"
    d = c.mapping(raw, path)
    c.unknown(d, path, {"name", "slos", "objective", "combine", "credit", "support", "usage",
                        "tenants", "overrides", "monthly_fee", "timezone"})
    name = c.text(d, "name", path, None)
    if name is None:
        c.fail(f"{path}.name", "is required")
    slos = d.get("slos", [])
    if not isinstance(slos, list) or not slos or not all(isinstance(s, str) for s in slos):
        c.fail(f"{path}.slos", "must be a non-empty list of SLO names")
        slos = []
    for s in slos:
        if s not in slo_names:
            c.fail(f"{path}.slos", f"unknown SLO {s!r}")
    credit = _credit(c, d.get("credit"), f"{path}.credit")
    for key in ("uptime_slo", "response_slo"):
        ref = getattr(credit, key)
        if credit.kind == "evrythng" and ref not in slo_names:
            c.fail(f"{path}.credit.{key}", f"must name an SLO of this file, got {ref!r}")
    return Contract(
        name=name or f"contract-{i}", slos=tuple(slos),
        objective=c.num(d, "objective", path, None, 0.0, 1.0),
        combine=c.choice(d, "combine", path, "min", get_args(spec.Combine)),
        credit=credit,
        support=None if d.get("support") is None
        else parse_support(d["support"], f"{path}.support", c.fail),
        usage=None if d.get("usage") is None
        else parse_usage(d["usage"], f"{path}.usage", c.fail, c.base_dir),
        tenants=_tenants(c, d.get("tenants"), path),
        overrides=_overrides(c, d.get("overrides"), path, "tenants" in d),
        monthly_fee=c.num(d, "monthly_fee", path, None, 0.0),
        timezone=_timezone(c, d, path),
    )


def _tenants(c: Checker, raw: Any, path: str) -> tuple[str, ...] | Literal["all"] | None:
    """``tenants: all`` or a list of tenant ids: the contract is a per-tenant template."""
    if raw is None:
        return None
    if raw == "all":
        return "all"
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) and t for t in raw):
        c.fail(f"{path}.tenants", "must be all or a non-empty list of tenant ids")
        return None
    return tuple(raw)


def _overrides(c: Checker, raw: Any, path: str,
               template: bool) -> tuple[tuple[str, TenantTerms], ...]:
    """``overrides: {tenant: {objective, credit, monthly_fee, support, timezone}}``."""
    d = c.mapping(raw, f"{path}.overrides")
    if d and not template:
        c.fail(f"{path}.overrides", "needs tenants (all or a list): only a per-tenant "
                                    "contract has overrides")
    out = []
    for tenant, value in d.items():
        op = f"{path}.overrides.{tenant}"
        o = c.mapping(value, op)
        c.unknown(o, op, {"objective", "credit", "monthly_fee", "support", "timezone"})
        out.append((str(tenant), TenantTerms(
            objective=c.num(o, "objective", op, None, 0.0, 1.0),
            credit=_credit(c, o["credit"], f"{op}.credit") if "credit" in o else None,
            monthly_fee=c.num(o, "monthly_fee", op, None, 0.0),
            support=None if o.get("support") is None
            else parse_support(o["support"], f"{op}.support", c.fail),
            timezone=_timezone(c, o, op))))
    return tuple(out)


def _timezone(c: Checker, d: dict[str, Any], path: str) -> str | None:
    name = c.text(d, "timezone", path, None)
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail(f"{path}.timezone", f"unknown time zone {name!r}")
        return None
    return name


def contracts(c: Checker, raw: Any, slo_names: set[str]) -> tuple[Contract, ...]:
    """Every contract of the ``contracts`` list; each names SLOs of this file."""
    if not isinstance(raw, list):
        c.fail("contracts", "must be a list")
        raw = []
    return tuple(_contract(c, r, i, slo_names) for i, r in enumerate(raw))
