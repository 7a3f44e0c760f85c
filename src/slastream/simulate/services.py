"""Service traffic: synthetic-probe results, request logs and the maintenance announcement.

Topics and fields (docs/interfaces.md#mqtt-topics): ``slastream/probe/{component}``,
``slastream/request/{component}`` (JSON arrays, one per batch) and ``slastream/exclusion``.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from slastream.simulate.timefmt import iso_ms

if TYPE_CHECKING:
    from slastream.simulate.generator import Simulation

PROBE_TIMEOUT_MS = 10_000  # a probe without answer reports after its timeout, status null
_CLIENTS = tuple(f"client-{i:02d}" for i in range(40))


def start(sim: Simulation) -> None:
    """Schedule probes, request batches and the maintenance announcement of the run."""
    sc = sim.scenario
    probe_ms = int(sc.probe_interval_s * 1000)
    for i, component in enumerate(sc.probe_components):
        # Stagger components inside the interval, as independent probers would be.
        first = sim.start_ms + (i * probe_ms) // max(1, len(sc.probe_components))
        sim.schedule(first, _probe_action(sim, component, probe_ms))
    batch_ms = int(sc.request_batch_s * 1000)
    for component in sc.request_components:
        sim.schedule(sim.start_ms + batch_ms, _request_action(sim, component, batch_ms))
    if sc.outages.maintenance is not None:
        sim.schedule(sim.start_ms + 500, lambda ms: _announce(sim, ms))


def _probe_action(sim: Simulation, component: str, every_ms: int) -> Any:
    def action(ms: int) -> None:
        probe(sim, component, ms)
        sim.schedule(ms + every_ms, action)
    return action


def _request_action(sim: Simulation, component: str, every_ms: int) -> Any:
    def action(ms: int) -> None:
        request_batch(sim, component, ms - every_ms, ms)
        sim.schedule(ms + every_ms, action)
    return action


def _lognormal(rng: random.Random, median: float, sigma: float = 0.5) -> float:
    return round(rng.lognormvariate(math.log(median), sigma), 1)


def _failing(sim: Simulation, component: str, ms: int) -> bool:
    return sim.active("probe", ms, component) or sim.active("maintenance", ms, component)


def probe(sim: Simulation, component: str, ms: int) -> None:
    """One check of ``component`` started at ``ms``, published when it finished."""
    rng = sim.rng
    status: int | None
    latency: float | None
    if _failing(sim, component, ms):
        ok = False
        if rng.random() < 0.5:
            status, latency = 503, _lognormal(rng, 40.0)
        else:
            status, latency = None, None  # timeout: no status, no latency
    else:
        ok, status = True, 200
        slow = sim.active("slow", ms, component)
        latency = _lognormal(rng, sim.scenario.outages.slow_median_ms if slow else 80.0)
    done_ms = ms + (PROBE_TIMEOUT_MS if latency is None else int(latency)) + sim.between(1, 20)
    payload = {"time": iso_ms(ms), "ok": ok, "status": status, "latency_ms": latency}
    if sim.emit(done_ms, f"slastream/probe/{component}", payload):
        sim.truth.probes[component] += 1
        sim.truth.probes_ok[component] += ok


def request_batch(sim: Simulation, component: str, from_ms: int, to_ms: int) -> None:
    """The access log of ``[from_ms, to_ms)``, shipped as one JSON array."""
    sc = sim.scenario
    rng = sim.rng
    out = sc.outages
    n = poisson(rng, sc.requests_per_s * (to_ms - from_ms) / 1000)
    times = sorted(from_ms + int(rng.random() * (to_ms - from_ms)) for _ in range(n))
    batch: list[dict[str, Any]] = []
    total_ms = 0.0
    for t in times:
        slow = sim.active("slow", t, component)
        duration = _lognormal(rng, out.slow_median_ms if slow else sc.request_median_ms)
        r = rng.random()
        status = 200 if r < 0.97 else 404 if r < 0.985 else 500 if r < 0.995 else 503
        batch.append({"time": iso_ms(t), "duration_ms": duration, "status": status,
                      "client": _CLIENTS[int(rng.random() * len(_CLIENTS))]})
        total_ms += duration
    if batch and sim.emit(to_ms + sim.between(10, 200), f"slastream/request/{component}",
                          batch):
        sim.truth.requests[component] += len(batch)
        sums = sim.truth.request_duration_ms_sum
        sums[component] = sums.get(component, 0.0) + total_ms


def _announce(sim: Simulation, ms: int) -> None:
    """Publish the maintenance before it starts, carrying the time it was announced."""
    out = sim.scenario.outages
    maint = out.maintenance
    if maint is None:
        return
    start, end = sim.absolute(maint)
    announced = start - int(out.maintenance_notice_s * 1000)
    sim.emit(ms, "slastream/exclusion", {
        "id": f"maintenance-{iso_ms(start)[:16]}",
        "scope": maint.scope or "*",
        "start": iso_ms(start), "end": iso_ms(end), "announced_at": iso_ms(announced),
        "kind": "maintenance",
        "evidence": "https://status.example.com/maintenance (announced to customers by e-mail)",
    })


def poisson(rng: random.Random, mu: float) -> int:
    """A Poisson draw (Knuth below a mean of 30, the normal approximation above)."""
    if mu <= 0:
        return 0
    if mu > 30:
        return max(0, round(rng.gauss(mu, math.sqrt(mu))))
    limit = math.exp(-mu)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
