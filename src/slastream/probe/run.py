"""``slastream probe``: run the declared probes and publish every result.

``run_prober`` is the whole prober for callers that built their own specs and sink (the
demo, tests); ``command`` is what the command line runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
from typing import Any

from prometheus_client.registry import CollectorRegistry

from slastream.errors import SlastreamError
from slastream.model.probes import ProberSettings, ProbeSpec
from slastream.model.spec import Settings
from slastream.probe.checks import Checker
from slastream.probe.http import StatusServer
from slastream.probe.metrics import ProberMetrics
from slastream.probe.result import ProbeReport
from slastream.probe.scheduler import CheckFn, Clock, Scheduler, SystemClock
from slastream.probe.sinks import CaptureSink, MqttSink, Sink

CLOSE_GRACE_S = 5.0  # on stop, how long buffered results may take to reach the broker


async def run_prober(specs: tuple[ProbeSpec, ...], settings: ProberSettings, sink: Sink,
                     stop_event: asyncio.Event, *, registry: CollectorRegistry | None = None,
                     clock: Clock | None = None, check: CheckFn | None = None,
                     rng: random.Random | None = None,
                     ready: asyncio.Future[StatusServer | None] | None = None) -> None:
    """Probe until ``stop_event`` is set, then let the sink deliver what it holds.

    ``registry`` receives the prober's metrics (a fresh one if None); ``clock``, ``check``
    and ``rng`` are for tests; ``ready`` gets the status server (None without one) once it
    listens.
    """
    registry = registry if registry is not None else CollectorRegistry()
    metrics = ProberMetrics(registry, sink)

    async def report(r: ProbeReport) -> None:
        metrics.observe(r)
        sink.send(r.topic, r.payload())

    def health() -> tuple[bool, dict[str, Any]]:
        return sink.connected, {"probes": len(specs), "location": settings.location,
                                "sink_connected": sink.connected,
                                "buffered": sink.buffered(), "dropped": sink.dropped}

    server = None
    if settings.http_port is not None:
        server = StatusServer(registry, health, settings.http_host, settings.http_port)
    sink_task = asyncio.create_task(sink.run())
    try:
        async with Checker() as checker:
            if server is not None:
                await server.start()
            if ready is not None and not ready.done():
                ready.set_result(server)
            scheduler = Scheduler(specs, check or checker.run, report, settings.location,
                                  settings.concurrency, settings.jitter,
                                  clock or SystemClock(), rng)
            await scheduler.run(stop_event)
    finally:
        sink.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sink_task, CLOSE_GRACE_S)
        if server is not None:
            await server.close()


async def command(settings: Settings, stop: asyncio.Event, capture: str | None) -> int:
    """``slastream probe``: the probes of ``settings`` until ``stop``, their results on
    ``settings.mqtt.url`` (or written to ``capture``)."""
    if not settings.probes:
        raise SlastreamError(f"{settings.source}: probes: no probes declared")
    clock = SystemClock()
    prober = settings.prober
    sink: Sink = (CaptureSink(capture, clock.now_ms) if capture
                  else MqttSink(settings.mqtt.url, prober.client_id, prober.buffer))
    ready: asyncio.Future[StatusServer | None] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_prober(settings.probes, prober, sink, stop, clock=clock,
                                          ready=ready))
    waits: set[asyncio.Future[Any]] = {task, ready}
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        server = ready.result()
        where = capture if capture else settings.mqtt.url
        status = f"; /metrics and /healthz on {server.url}" if server is not None else ""
        print(f"probing {len(settings.probes)} probes from {prober.location} into "
              f"{where}{status}", file=sys.stderr)
    await task
    return 0
