"""``slastream worker``: the stream worker with its HTTP server, until SIGINT or SIGTERM.

``serve`` is the reusable part (``run`` and the demo start it next to the bridge):
brokers checked, topics created, the faust app and the HTTP server started, then it waits
for a stop request or a failure, and shuts both down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable

from slastream.errors import SlastreamError
from slastream.export.http import serve as serve_http
from slastream.export.metrics import build_registry
from slastream.model.spec import Settings
from slastream.stream.app import INPUT_STREAMS, StreamWorker, slices_topic
from slastream.stream.partition import Timing
from slastream.stream.profile import PRODUCTION, KafkaProfile, profile_from_env
from slastream.stream.view import IngestTotals
from slastream.transport import codec
from slastream.transport.kafka import all_topics, ensure_topics, wait_ready

log = logging.getLogger(__name__)

BROKER_WAIT_S = 30.0


class _OneLine(logging.Formatter):
    """Log records as one line each, the message, never a traceback
    (docs/interfaces.md#exit-codes)."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return super().format(record).splitlines()[0]


def configure_logging(level: int = logging.WARNING) -> None:
    """One-line log records on stderr. faust and mode are chatty below ERROR; aiokafka
    logs an ERROR per failed connection attempt while a broker is away, which the
    worker reports itself, once, as a ``BrokerError``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("slastream %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("faust", "mode"):
        logging.getLogger(noisy).setLevel(max(level, logging.ERROR))
    logging.getLogger("aiokafka").setLevel(max(level, logging.CRITICAL))


def worker_topics(settings: Settings) -> list[str]:
    kafka = settings.kafka
    return [*all_topics(kafka), slices_topic(settings)]


async def serve(settings: Settings, stop: asyncio.Event, *,
                profile: KafkaProfile = PRODUCTION, timing: Timing | None = None,
                ingest: IngestTotals | None = None,
                on_ready: Callable[[str], None] | None = None) -> StreamWorker:
    """Run a worker and its HTTP server until ``stop`` is set or the worker fails.

    ``on_ready`` gets the base URL of the HTTP server once it listens. Returns the
    (stopped) worker; ``worker.failure`` says why it stopped on its own, if it did.
    Raises ``SlastreamError`` when a broker cannot be reached.
    """
    await wait_ready(settings.kafka.bootstrap, BROKER_WAIT_S)
    await ensure_topics(settings.kafka, worker_topics(settings))
    worker = StreamWorker(settings, profile, timing, ingest)
    registry = build_registry(worker.view)
    async with worker:
        http = settings.http
        async with await serve_http(worker.view, registry, http.host, http.port) as server:
            if on_ready is not None:
                on_ready(server.url)
            stopping = asyncio.create_task(stop.wait())
            failing = asyncio.create_task(worker.stopped.wait())
            await asyncio.wait({stopping, failing}, return_when=asyncio.FIRST_COMPLETED)
            for task in (stopping, failing):
                task.cancel()
    return worker


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop``; a second one gets the default handling, so a
    shutdown that hangs can still be interrupted."""
    loop = asyncio.get_running_loop()

    def first(sig: signal.Signals) -> None:
        stop.set()
        loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, first, sig)


async def _main(settings: Settings, profile: KafkaProfile) -> int:
    stop = asyncio.Event()
    install_stop_signals(stop)

    def ready(url: str) -> None:
        topics = ", ".join(codec.topic_name(settings.kafka.topic_prefix, s)
                           for s in INPUT_STREAMS)
        print(f"slastream worker {settings.kafka.app_id}: reading {topics} from "
              f"{settings.kafka.bootstrap}; metrics on {url}/metrics", file=sys.stderr)

    worker = await serve(settings, stop, profile=profile, on_ready=ready)
    if worker.failure:
        print(f"slastream worker: {worker.failure}", file=sys.stderr)
        return 1
    return 0


def main(settings: Settings, profile: KafkaProfile | None = None) -> int:
    """``slastream worker -c CONFIG``: exit 0 after SIGINT/SIGTERM, 1 on failure.

    The Kafka profile is ``production`` unless ``SLASTREAM_KAFKA_PROFILE=embedded``.
    """
    configure_logging()
    try:
        return asyncio.run(_main(settings, profile or profile_from_env(os.environ)))
    except SlastreamError as exc:
        print(f"slastream worker: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the HTTP port is taken
        print(f"slastream worker: {exc.strerror or exc}", file=sys.stderr)
        return 1
