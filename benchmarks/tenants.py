"""Series on /metrics and generated rules at 10, 200 and 2,000 tenants, and memory per
attributed DevAddr.

An engine with a delivery SLO scoped by tenant, a probe SLO and a per-tenant contract
template is fed 10 minutes of uplinks of 5 devices per tenant (one tenant losing half of
them), then scraped once. The figures: tenants labelled and in the overflow bucket, samples
on /metrics, rule groups and rules, and promtool's verdict on the rules, once with the
default bound (``tenants.metrics_limit`` 100) and once with a bound above the tenant count
(what the series would grow to without one). Rules do not depend on the tenant count at all.
Last, the same events through an engine scoped by network (the baseline) and by tenant,
alternating, five times each: the median ratio is what attribution costs the SLI.

    PYTHONPATH=src python benchmarks/tenants.py [TENANTS ...]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from typing import Any

from prometheus_client.exposition import generate_latest

from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.export.metrics import build_registry
from slastream.export.rules import render, rule_groups
from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from slastream.model.spec import Settings
from slastream.sli.attribution import Attribution
from slastream.sources.decoder import group

T0 = 1_790_812_800_000  # 2026-10-01T00:00:00Z
DEVICES = 5


def _settings(limit: int) -> Settings:
    return parse_settings({
        "tenants": {"metrics_limit": limit},
        "slos": [{"name": "delivery", "sli": "delivery", "objective": 0.999,
                  "scope_by": "tenant",
                  "downtime": {"bad_below": 0.75, "window_s": 300, "min_events": 20}},
                 {"name": "api", "sli": "probe", "component": "api", "objective": 0.999}],
        "contracts": [{"name": "lns", "slos": ["delivery", "api"], "tenants": "all",
                       "monthly_fee": 100,
                       "credit": {"kind": "tiers",
                                  "tiers": [{"over_minutes": 5, "credit": 0.1}]}}],
    })


def _events(tenants: int) -> list[Event]:
    out: list[Event] = []
    for t in range(tenants):
        for d in range(DEVICES):
            devaddr = 0x26000000 | (t << 4) | d
            for m in range(10):
                at = T0 + m * 60_000 + d * 1000
                out.append(UplinkReceived(at, devaddr, m, "gw", "eu868", False, 1))
                if t != 0 or m % 2:
                    out.append(UplinkDelivered(at + 500, devaddr, m, "app", f"d{d}",
                                               f"tenant-{t:04d}"))
    out.sort(key=lambda e: e.time_ms)  # in time order, as a stream has them
    return out


def _samples(settings: Settings, events: list[Event]) -> tuple[int, int, int]:
    engine = Engine(settings)
    engine.feed(group(events))
    engine.flush()
    text = generate_latest(build_registry(engine)).decode()
    samples = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    tenant = sum(1 for line in text.splitlines() if 'scope="tenant-' in line
                 or 'tenant="tenant-' in line or 'contract="lns@' in line)
    overflow = next(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
                    if line.startswith('slastream_tenants{state="overflow"}'))
    return samples, tenant, overflow


def _promtool(settings: Settings) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as fh:
        fh.write(render(settings))
        fh.flush()
        done = subprocess.run(["promtool", "check", "rules", fh.name], capture_output=True,
                              text=True, check=False)
    return "ok" if done.returncode == 0 else done.stdout + done.stderr


def _bytes_per_devaddr(n: int = 200_000) -> float:
    attr = Attribution(_settings(100).tenants)
    for t in range(200):
        attr.owner_index(f"tenant-{t}", "app")
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(n):
        attr.learn(0x26000000 + i, f"tenant-{i % 200}", "app")
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / n


def _feed_s(settings: Settings, events: list[Event]) -> float:
    engine = Engine(settings)
    began = time.perf_counter()
    for i in range(0, len(events), 20_000):
        engine.feed(group(events[i:i + 20_000]))
        engine.advance()
    engine.flush()
    return time.perf_counter() - began


def _scope_cost(events: list[Event]) -> str:
    tenant = _settings(100)
    network = replace(tenant, slos=tuple(replace(s, scope_by="network") if s.sli == "delivery"
                                         else s for s in tenant.slos), contracts=())
    times: dict[str, list[float]] = {"network": [], "tenant": []}
    for _ in range(5):
        times["network"].append(_feed_s(network, events))
        times["tenant"].append(_feed_s(tenant, events))
    net, ten = statistics.median(times["network"]), statistics.median(times["tenant"])
    return (f"{len(events)} events: by network {len(events) / net:,.0f}/s, by tenant "
            f"{len(events) / ten:,.0f}/s (median of 5; tenant/network time {ten / net:.2f})")


def main(counts: list[int]) -> None:
    print(f"{'tenants':>8} {'bound':>6} {'labelled':>8} {'overflow':>8} {'samples':>8} "
          f"{'tenant samples':>14} {'groups':>6} {'rules':>5}  promtool")
    for n in counts:
        events = _events(n)
        for limit in (100, n + 1):
            settings = _settings(limit)
            samples, tenant, overflow = _samples(settings, events)
            groups: list[dict[str, Any]] = rule_groups(settings)
            rules = sum(len(g["rules"]) for g in groups)
            print(f"{n:>8} {limit:>6} {n - overflow:>8} {overflow:>8} {samples:>8} "
                  f"{tenant:>14} {len(groups):>6} {rules:>5}  {_promtool(settings)}")
    print(f"attribution: {_bytes_per_devaddr():.1f} bytes per attributed DevAddr (bound 150)")
    print(f"delivery SLI: {_scope_cost(_events(max(counts)))}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 200, 2000])
