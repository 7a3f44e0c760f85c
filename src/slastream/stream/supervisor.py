"""Keeping a worker up through Kafka outages: a watch on the broker, and restarts.

faust and aiokafka ride out a short broker outage by themselves, but a longer one makes
sends fail (``KafkaTimeoutError``, ``NodeNotReadyError``) in the middle of the agent,
the changelog writes or the consumer group, and faust does not come back from all of
them. So ``supervise`` runs the worker, and when it stops on its own while Kafka is or
was unreachable (or with a Kafka error), it waits until Kafka answers again and starts a
new worker in the same process: a new faust app that restores each partition from its
checkpoint and replays from there, exactly as after a crash
(docs/architecture.md#state-and-recovery). The live view, the HTTP server and the
bridge of ``run`` stay up throughout; the replayed slice batches are dropped by the view
(first write wins), so nothing is counted twice.

``KafkaWatch`` asks the broker for its metadata every ``PROBE_PERIOD_S``; its ``link``
is what ``/healthz`` and ``/metrics`` report, and what stops the ticker from taking an
outage for idleness (``StreamWorker.kafka``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka.errors import KafkaError

from slastream.errors import BrokerError
from slastream.health import Backoff, Link, first_of, sleep_unless
from slastream.stream.app import StreamWorker
from slastream.transport.kafka import reachable

log = logging.getLogger("slastream.worker")

PROBE_PERIOD_S = 1.0
PROBE_TIMEOUT_S = 3.0
RESTART_BACKOFF_MAX_S = 30.0


class KafkaWatch:
    """Whether the Kafka cluster answers now (``link``), probed in the background."""

    def __init__(self, bootstrap: str, client_options: Mapping[str, Any] | None = None
                 ) -> None:
        self.bootstrap = bootstrap
        self._options = client_options
        self.link = Link(f"Kafka {bootstrap}", log)
        self.outages = 0  # times it went away
        self._changed = asyncio.Event()

    async def run(self) -> None:
        while True:
            problem = await reachable(self.bootstrap, PROBE_TIMEOUT_S, self._options)
            if problem is None:
                self.link.up()
            else:
                if self.link.connected:
                    self.outages += 1
                self.link.down(problem)
            self._changed.set()
            self._changed.clear()
            await asyncio.sleep(PROBE_PERIOD_S)

    async def wait_up(self) -> None:
        while not self.link.connected:
            await self._changed.wait()


async def supervise(make: Callable[[], StreamWorker], watch: KafkaWatch,
                    stop: asyncio.Event, started: Callable[[StreamWorker], None]
                    ) -> StreamWorker:
    """Run workers from ``make`` until ``stop``; restart one that stopped because of Kafka.

    Returns the last worker (stopped); its ``failure`` is set if it stopped on its own
    for a reason a restart does not cure (a bug, an unreadable checkpoint).
    """
    backoff = Backoff(1.0, RESTART_BACKOFF_MAX_S)
    while True:
        outages = watch.outages
        worker = make()
        async with worker:
            started(worker)
            await first_of(stop.wait(), worker.stopped.wait())
        if stop.is_set() or not _kafka_caused(worker, outages, watch):
            return worker
        log.warning("worker restarting after a Kafka outage (%s); it resumes from its "
                    "checkpoints", worker.failure)
        await first_of(stop.wait(), watch.wait_up())
        if stop.is_set():
            worker.failure = None  # stopped on request while waiting for Kafka
            return worker
        await sleep_unless(stop, backoff.next())


def _kafka_caused(worker: StreamWorker, outages: int, watch: KafkaWatch) -> bool:
    exc = worker.failure_exc
    kafka_error = isinstance(exc, KafkaError | BrokerError | OSError | TimeoutError)
    return kafka_error or watch.outages > outages or not watch.link.connected


