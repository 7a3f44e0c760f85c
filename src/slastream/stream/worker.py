"""``slastream worker``: the stream worker with its HTTP server, until asked to stop.

``serve`` is the reusable part (``run`` and the demo start it next to the bridge):
brokers checked, topics created, the HTTP server started, then the faust app runs under
``supervisor.supervise`` (restarted in-process after a Kafka outage) until a stop request
or a failure a restart does not cure, and everything shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence

from prometheus_client.registry import Collector

from slastream.errors import SlastreamError
from slastream.export.http import serve as serve_http
from slastream.export.metrics import build_registry
from slastream.health import HealthCheck
from slastream.model.spec import Settings
from slastream.runtime import configure_logging as configure_logging  # benchmarks/worker.py
from slastream.stream.app import INPUT_STREAMS, StreamWorker, slices_topic
from slastream.stream.partition import Timing
from slastream.stream.profile import PRODUCTION, KafkaProfile
from slastream.stream.supervisor import KafkaWatch, supervise
from slastream.stream.view import IngestTotals
from slastream.transport import codec
from slastream.transport.kafka import all_topics, ensure_topics, wait_ready
from slastream.transport.security import kafka_client_options

log = logging.getLogger(__name__)

BROKER_WAIT_S = 30.0
Figures = Callable[[], dict[str, float]]


def worker_topics(settings: Settings) -> list[str]:
    kafka = settings.kafka
    return [*all_topics(kafka), slices_topic(settings)]


async def serve(settings: Settings, stop: asyncio.Event, *,
                profile: KafkaProfile = PRODUCTION, timing: Timing | None = None,
                ingest: IngestTotals | None = None, ignored: IngestTotals | None = None,
                on_ready: Callable[[str], None] | None = None,
                health: HealthCheck | None = None, figures: Figures | None = None,
                collectors: Sequence[Collector] = ()) -> StreamWorker:
    """Run a worker and its HTTP server until ``stop`` is set or the worker fails for a
    reason other than Kafka (``supervisor.supervise``).

    ``on_ready`` gets the base URL of the HTTP server once it listens; ``health`` and
    ``figures`` add a bridge's problems to ``/healthz`` and its figures to ``/metrics``,
    ``collectors`` further metric families of other parts of the process (the bridge's).
    Returns the (stopped) worker; ``worker.failure`` says why it stopped on its own, if
    it did. Raises ``SlastreamError`` when Kafka cannot be reached at start.
    """
    await wait_ready(settings.kafka.bootstrap, BROKER_WAIT_S,
                     kafka_client_options(settings.kafka))
    await ensure_topics(settings.kafka, worker_topics(settings))
    watch = KafkaWatch(settings.kafka.bootstrap, kafka_client_options(settings.kafka))
    current = [StreamWorker(settings, profile, timing, ingest, ignored, kafka_link=watch.link)]
    view = current[0].view

    def make() -> StreamWorker:
        if current[0].stopped.is_set():
            current[0] = StreamWorker(settings, profile, timing, ingest, ignored, view=view,
                                      kafka_link=watch.link)
        return current[0]

    def local() -> dict[str, float]:
        return {**current[0].local_figures(), **(figures() if figures else {}),
                "kafka_connected": float(watch.link.connected)}

    def problems() -> list[str]:
        found = [p for p in (watch.link.problem(),) if p]
        if current[0].stopped.is_set():
            found.append(f"worker restarting: {current[0].failure}")
        return found + (health() if health else [])

    registry = build_registry(view)
    for collector in collectors:
        registry.register(collector)
    http = settings.http
    token = http.token.reveal() if http.token is not None else None
    watching = asyncio.create_task(watch.run(), name="kafka-watch")
    try:
        async with await serve_http(view, registry, http.host, http.port, token=token,
                                    protect=http.protect, health=problems) as server:
            if on_ready is not None:
                on_ready(server.url)
            return await supervise(make, watch, stop, lambda w: setattr(view, "local", local))
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


async def command(settings: Settings, stop: asyncio.Event,
                  profile: KafkaProfile = PRODUCTION) -> int:
    """``slastream worker -c CONFIG``: serve until ``stop`` is set; 0.

    Raises ``SlastreamError`` when a broker cannot be reached or the worker fails.
    """

    def ready(url: str) -> None:
        topics = ", ".join(codec.topic_name(settings.kafka.topic_prefix, s)
                           for s in INPUT_STREAMS)
        print(f"slastream worker {settings.kafka.app_id}: reading {topics} from "
              f"{settings.kafka.bootstrap}; metrics on {url}/metrics", file=sys.stderr)

    worker = await serve(settings, stop, profile=profile, on_ready=ready)
    if worker.failure:
        raise SlastreamError(worker.failure)
    return 0
