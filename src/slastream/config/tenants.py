"""The ``tenants`` section: known tenants, their DevAddr blocks and applications, and the
bounds of what is shown per tenant (docs/interfaces.md#tenants)."""

from __future__ import annotations

from typing import Any

from slastream.config.checker import Checker
from slastream.model.spec import Tenant, Tenants

_KEYS = {"known", "metrics_limit", "gateway_diagnostics", "gateway_metrics_limit",
         "gateways_top", "attribution_ttl_s"}
# scope names the attribution gives itself (docs/semantics.md#tenants)
RESERVED = ("unattributed", "overflow")


def devaddr_ranges(c: Checker, raw: Any, path: str) -> tuple[tuple[int, int], ...]:
    """``["26010000/16", ...]``: DevAddr prefixes of ``HEX8/BITS``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.fail(path, "must be a list like ['26000000/7']")
        return ()
    out = []
    for j, p in enumerate(raw):
        try:
            addr, bits = str(p).split("/")
            value, nbits = int(addr, 16), int(bits)
            if not (0 <= value < 2**32 and 1 <= nbits <= 32):
                raise ValueError
            out.append((value, nbits))
        except ValueError:
            c.fail(f"{path}[{j}]", f"must be HEX8/BITS like 26000000/7, got {p!r}")
    return tuple(out)


def _tenant(c: Checker, raw: Any, path: str) -> Tenant | None:
    d = c.mapping(raw, path)
    c.unknown(d, path, {"id", "devaddr_ranges", "applications"})
    tid = c.text(d, "id", path, None)
    if tid is None:
        c.fail(f"{path}.id", "is required")
        return None
    if tid in RESERVED or "/" in tid:
        c.fail(f"{path}.id", f"must not be {' or '.join(RESERVED)} nor contain '/'")
    apps = d.get("applications", [])
    if not isinstance(apps, list) or not all(isinstance(a, str) and a for a in apps):
        c.fail(f"{path}.applications", "must be a list of application ids")
        apps = []
    return Tenant(tid, devaddr_ranges(c, d.get("devaddr_ranges"), f"{path}.devaddr_ranges"),
                  tuple(apps))


def tenants(c: Checker, raw: Any) -> Tenants:
    """``tenants``: absent means no known tenants and the default bounds."""
    d = c.mapping(raw, "tenants")
    c.unknown(d, "tenants", _KEYS)
    known_raw = d.get("known", [])
    if not isinstance(known_raw, list):
        c.fail("tenants.known", "must be a list of tenants ({id, devaddr_ranges, applications})")
        known_raw = []
    known = [t for i, r in enumerate(known_raw)
             if (t := _tenant(c, r, f"tenants.known[{i}]")) is not None]
    ids = [t.id for t in known]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        c.fail("tenants.known", f"duplicate tenant {dup!r}")
    owners: dict[str, str] = {}
    for t in known:
        for app in t.applications:
            if owners.setdefault(app, t.id) != t.id:
                c.fail("tenants.known", f"application {app!r} belongs to two tenants")
    return Tenants(
        known=tuple(known),
        metrics_limit=int(c.num(d, "metrics_limit", "tenants", 100, 1, 100_000, integer=True)
                          or 100),
        gateway_diagnostics=c.flag(d, "gateway_diagnostics", "tenants", False),
        gateway_metrics_limit=int(c.num(d, "gateway_metrics_limit", "tenants", 0, 0, 100_000,
                                        integer=True) or 0),
        gateways_top=int(c.num(d, "gateways_top", "tenants", 10, 1, 1000, integer=True) or 10),
        attribution_ttl_s=int(c.num(d, "attribution_ttl_s", "tenants", 30 * 86400, 3600,
                                    366 * 86400, integer=True) or 30 * 86400),
    )
