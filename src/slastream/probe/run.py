"""``slastream probe``: run the declared probes and publish every result.

``run_prober`` is the whole prober for callers that built their own specs and sink (the
demo, tests); ``main`` reads a config file and is what the command line calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.registry import CollectorRegistry

from slastream.config.probes import parse_prober_settings, parse_probes
from slastream.model.probes import ProberSettings, ProbeSpec
from slastream.probe.checks import Checker
from slastream.probe.http import StatusServer
from slastream.probe.metrics import ProberMetrics
from slastream.probe.result import ProbeReport
from slastream.probe.scheduler import CheckFn, Clock, Scheduler, SystemClock
from slastream.probe.sinks import CaptureSink, MqttSink, Sink

DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
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


def load_probe_config(path: str) -> tuple[tuple[ProbeSpec, ...], ProberSettings, str | None,
                                          list[str]]:
    """The probes, the prober settings and ``mqtt.url`` of a config file, and its problems
    (one ``FILE: KEY: what is wrong`` line each; the rest of the file is not checked)."""
    problems: list[str] = []

    def fail(key: str, what: str) -> None:
        problems.append(f"{path}: {key}: {what}")

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        return (), ProberSettings(), None, [f"{path}: (file): cannot read: {exc.strerror}"]
    except yaml.YAMLError as exc:
        return (), ProberSettings(), None, [f"{path}: (yaml): invalid YAML: {exc}".splitlines()[0]]
    if not isinstance(data, dict):
        return (), ProberSettings(), None, [f"{path}: (top level): must be a mapping"]
    specs = parse_probes(data.get("probes"), "probes", fail)
    settings = parse_prober_settings(data.get("probe"), "probe", fail)
    if not specs and not problems:
        fail("probes", "no probes declared")
    mqtt = data.get("mqtt")
    url = mqtt.get("url") if isinstance(mqtt, dict) else None
    return specs, settings, url if isinstance(url, str) else None, problems


def main(config_path: str, mqtt: str | None, capture: str | None) -> int:
    """``slastream probe -c CONFIG [--mqtt URL] [--capture FILE]``: 0 after a clean stop
    (Ctrl-C, SIGTERM), 2 on a bad config, 1 when it cannot start."""
    specs, settings, config_url, problems = load_probe_config(config_path)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(specs, settings, capture, mqtt or config_url or DEFAULT_MQTT))
    except OSError as exc:
        print(f"slastream probe: {exc}", file=sys.stderr)
        return 1


async def _serve(specs: tuple[ProbeSpec, ...], settings: ProberSettings, capture: str | None,
                 url: str) -> int:
    clock = SystemClock()
    sink: Sink = (CaptureSink(capture, clock.now_ms) if capture
                  else MqttSink(url, settings.client_id, settings.buffer))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ready: asyncio.Future[StatusServer | None] = loop.create_future()
    task = asyncio.create_task(run_prober(specs, settings, sink, stop, clock=clock,
                                          ready=ready))
    waits: set[asyncio.Future[Any]] = {task, ready}
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        server = ready.result()
        where = capture if capture else url
        status = f"; /metrics and /healthz on {server.url}" if server is not None else ""
        print(f"probing {len(specs)} probes from {settings.location} into {where}{status}",
              file=sys.stderr)
    await task
    return 0
