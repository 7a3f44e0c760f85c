"""``slastream run``: the bridge and the worker in one process, on one event loop.

The bridge's ingest counters feed the worker's ``slastream_ingest_messages_total`` and the
ledger's ``inputs`` directly (a worker alone does not see MQTT messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from slastream.errors import SlastreamError
from slastream.ingest.bridge import Bridge
from slastream.model.spec import Settings
from slastream.stream.partition import Timing
from slastream.stream.profile import PRODUCTION, KafkaProfile, profile_from_env
from slastream.stream.worker import configure_logging, install_stop_signals, serve


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
              ingest=bridge.ingest_totals, on_ready=on_ready), name="worker")
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


async def _main(settings: Settings, record_path: str | None, profile: KafkaProfile) -> int:
    stop = asyncio.Event()
    install_stop_signals(stop)

    def ready(url: str) -> None:
        print(f"slastream run: {settings.mqtt.url} → Kafka {settings.kafka.bootstrap} → "
              f"metrics on {url}/metrics" + (f"; recording to {record_path}" if record_path
                                             else ""), file=sys.stderr)

    failure = await pipeline(settings, stop, record_path=record_path, profile=profile,
                             on_ready=ready)
    if failure:
        print(f"slastream run: {failure}", file=sys.stderr)
        return 1
    return 0


def main(settings: Settings, record_path: str | None) -> int:
    """``slastream run -c CONFIG [--record FILE]``: exit 0 after SIGINT/SIGTERM.

    The Kafka profile is ``production`` unless ``SLASTREAM_KAFKA_PROFILE=embedded``.
    """
    configure_logging()
    try:
        return asyncio.run(_main(settings, record_path, profile_from_env(os.environ)))
    except SlastreamError as exc:
        print(f"slastream run: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"slastream run: {exc.strerror or exc}", file=sys.stderr)
        return 1
