"""``slastream run``: the bridge and the worker in one process, on one event loop.

The bridge's ingest counters feed the worker's ``slastream_ingest_messages_total`` and the
ledger's ``inputs`` directly (a worker alone does not see MQTT messages), and its health
and figures (broker links, inbox) show on the worker's ``/healthz`` and ``/metrics``.
Neither side exits on a broker outage: the bridge retries both brokers and the worker is
restarted in-process after a Kafka outage (``stream/supervisor.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

from slastream.errors import SlastreamError
from slastream.export.bridge_metrics import MqttErrorsCollector
from slastream.ingest.bridge import Bridge
from slastream.model.spec import Settings
from slastream.stream.partition import Timing
from slastream.stream.profile import PRODUCTION, KafkaProfile
from slastream.stream.worker import serve


def make_bridge(settings: Settings, profile: KafkaProfile = PRODUCTION,
                record_path: str | Path | None = None) -> Bridge:
    """The bridge ``pipeline`` runs, with the profile's producer setting."""
    return Bridge(settings, record_path,
                  one_record_per_batch=profile.bridge_one_record_per_batch)


async def pipeline(settings: Settings, stop: asyncio.Event, *,
                   record_path: str | Path | None = None,
                   profile: KafkaProfile = PRODUCTION, timing: Timing | None = None,
                   on_ready: Callable[[str], None] | None = None,
                   bridge: Bridge | None = None) -> str | None:
    """Bridge and worker until ``stop`` is set or one of them fails.

    Returns ``None`` after a requested stop, else a one-line reason. On the way out the
    bridge stops first (it drains what it read into Kafka), then the worker. Pass
    ``bridge`` (see ``make_bridge``) to wait on ``bridge.connected`` from outside.
    Raises ``SlastreamError`` when a broker cannot be reached at start.
    """
    bridge = bridge or make_bridge(settings, profile, record_path)
    worker_stop = asyncio.Event()
    bridge_task = asyncio.create_task(bridge.run(), name="bridge")
    worker_task = asyncio.create_task(
        serve(settings, worker_stop, profile=profile, timing=timing,
              ingest=bridge.ingest_totals, ignored=bridge.ignored_totals,
              on_ready=on_ready, health=bridge.health, figures=bridge.figures,
              collectors=[MqttErrorsCollector(lambda: bridge.stats().mqtt_errors)]),
        name="worker")
    stopping = asyncio.create_task(stop.wait())
    failure: str | None = None
    try:
        await asyncio.wait({bridge_task, worker_task, stopping},
                           return_when=asyncio.FIRST_COMPLETED)
        if bridge_task.done():
            exc = bridge_task.exception()
            failure = f"bridge: {exc}" if exc else "bridge stopped"
    finally:
        stopping.cancel()
        bridge.stop()
        with contextlib.suppress(SlastreamError):
            await bridge_task
        worker_stop.set()
        worker = await worker_task  # raises the worker's start-up error, if any
    return failure or worker.failure


async def command(settings: Settings, stop: asyncio.Event, record_path: str | None = None,
                  profile: KafkaProfile = PRODUCTION) -> int:
    """``slastream run -c CONFIG [--record FILE]``: bridge and worker until ``stop``; 0.

    Raises ``SlastreamError`` when a broker cannot be reached or either side fails.
    """

    def ready(url: str) -> None:
        print(f"slastream run: {settings.mqtt.url} → Kafka {settings.kafka.bootstrap} → "
              f"metrics on {url}/metrics" + (f"; recording to {record_path}" if record_path
                                             else ""), file=sys.stderr)

    failure = await pipeline(settings, stop, record_path=record_path, profile=profile,
                             on_ready=ready)
    if failure:
        raise SlastreamError(failure)
    return 0
