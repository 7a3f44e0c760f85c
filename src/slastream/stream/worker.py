"""``slastream worker``: the stream worker with its HTTP server, until asked to stop.

``serve`` is the reusable part (``run`` and the demo start it next to the bridge):
brokers checked, topics created, the faust app and the HTTP server started, then it waits
for a stop request or a failure, and shuts both down.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Sequence

from prometheus_client.registry import Collector

from slastream.errors import SlastreamError
from slastream.export.http import serve as serve_http
from slastream.export.metrics import build_registry
from slastream.model.spec import Settings
from slastream.runtime import configure_logging as configure_logging  # benchmarks/worker.py
from slastream.stream.app import INPUT_STREAMS, StreamWorker, slices_topic
from slastream.stream.partition import Timing
from slastream.stream.profile import PRODUCTION, KafkaProfile
from slastream.stream.view import IngestTotals
from slastream.transport import codec
from slastream.transport.kafka import all_topics, ensure_topics, wait_ready
from slastream.transport.security import kafka_client_options

log = logging.getLogger(__name__)

BROKER_WAIT_S = 30.0


def worker_topics(settings: Settings) -> list[str]:
    kafka = settings.kafka
    return [*all_topics(kafka), slices_topic(settings)]


async def serve(settings: Settings, stop: asyncio.Event, *,
                profile: KafkaProfile = PRODUCTION, timing: Timing | None = None,
                ingest: IngestTotals | None = None, ignored: IngestTotals | None = None,
                on_ready: Callable[[str], None] | None = None,
                collectors: Sequence[Collector] = ()) -> StreamWorker:
    """Run a worker and its HTTP server until ``stop`` is set or the worker fails.

    ``collectors`` add metric families of other parts of the process (the bridge's) to
    ``/metrics``. ``on_ready`` gets the base URL of the HTTP server once it listens. Returns the
    (stopped) worker; ``worker.failure`` says why it stopped on its own, if it did.
    Raises ``SlastreamError`` when a broker cannot be reached.
    """
    await wait_ready(settings.kafka.bootstrap, BROKER_WAIT_S,
                     kafka_client_options(settings.kafka))
    await ensure_topics(settings.kafka, worker_topics(settings))
    worker = StreamWorker(settings, profile, timing, ingest, ignored)
    registry = build_registry(worker.view)
    for collector in collectors:
        registry.register(collector)
    async with worker:
        http = settings.http
        token = http.token.reveal() if http.token is not None else None
        async with await serve_http(worker.view, registry, http.host, http.port,
                                    token=token, protect=http.protect) as server:
            if on_ready is not None:
                on_ready(server.url)
            stopping = asyncio.create_task(stop.wait())
            failing = asyncio.create_task(worker.stopped.wait())
            await asyncio.wait({stopping, failing}, return_when=asyncio.FIRST_COMPLETED)
            for task in (stopping, failing):
                task.cancel()
    return worker


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
