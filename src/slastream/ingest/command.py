"""``slastream bridge``: the command, and its ``/healthz`` and ``/metrics`` (``--http``).

``/healthz`` answers 200 ``{"ok": true, "status": "ok"}``, or 503 with
``"status": "unhealthy"`` and one line per broker the bridge cannot use
(docs/interfaces.md#http-endpoints). ``/metrics`` has the bridge's gauges (the same names
as on a ``slastream run`` worker) and its ingest counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from slastream.export.metrics import PIPELINE_METRICS
from slastream.ingest.bridge import Bridge
from slastream.model.spec import Settings
from slastream.probe.http import StatusServer

log = logging.getLogger("slastream.bridge")


class _BridgeCollector(Collector):
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    def collect(self) -> Iterable[Any]:
        for key, value in self.bridge.figures().items():
            name, _, doc = PIPELINE_METRICS[key]
            yield GaugeMetricFamily(name, doc, value=value)
        ingest = CounterMetricFamily("slastream_ingest_messages", "MQTT messages by outcome.",
                                     labels=["source", "outcome"])
        for (source, outcome), n in sorted(self.bridge.ingest_totals().items()):
            ingest.add_metric([source, outcome], n)
        yield ingest


@contextlib.asynccontextmanager
async def serve_status(bridge: Bridge, host: str, port: int) -> AsyncIterator[StatusServer]:
    registry = CollectorRegistry()
    registry.register(_BridgeCollector(bridge))

    def health() -> tuple[bool, dict[str, Any]]:
        problems = bridge.health()
        if problems:
            return False, {"status": "unhealthy", "problems": problems}
        return True, {"status": "ok"}

    server = StatusServer(registry, health, host, port)
    await server.start()
    log.info("bridge: /healthz and /metrics on %s", server.url)
    try:
        yield server
    finally:
        await server.close()


async def command(settings: Settings, stop: asyncio.Event,
                  record_path: str | None = None, http_port: int | None = None) -> int:
    """``slastream bridge -c CONFIG [--record FILE] [--http PORT]``: run until ``stop`` is
    set, drain; with ``--http``, ``/healthz`` and ``/metrics`` on ``http.host:PORT``.

    Returns 0 after a requested stop; raises ``BrokerError`` when the bridge cannot go on
    (see ``Bridge.run``).
    """
    bridge = Bridge(settings, record_path)
    if http_port is not None:
        async with serve_status(bridge, settings.http.host, http_port):
            return await _serve(bridge, settings, stop, record_path)
    return await _serve(bridge, settings, stop, record_path)


async def _serve(bridge: Bridge, settings: Settings, stop: asyncio.Event,
                 record_path: str | None) -> int:
    log.info("bridge %r: %s → Kafka %s (topics %s.*)%s", bridge.client_id, bridge.address,
             settings.kafka.bootstrap, settings.kafka.topic_prefix,
             f", recording to {record_path}" if record_path else "")
    running = asyncio.create_task(bridge.run(), name="bridge")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        bridge.stop()
    await running
    s = bridge.stats()
    log.info("bridge stopped: %d messages, %d events, %d dead letters, %d outages",
             s.received, s.events, s.deadlettered, len(s.outages))
    return 0
