"""The worker supervisor: a worker that stops because of Kafka is replaced by a new one once
Kafka answers; one that stops for another reason is not (its failure is the answer).

Workers are stand-ins here (the restart decision is pure logic); the integration tests stop
a real broker under a real worker (tests/integration/test_outages.py)."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, cast

from aiokafka.errors import KafkaTimeoutError

from slastream.stream.app import StreamWorker
from slastream.stream.supervisor import KafkaWatch, supervise


class FakeWorker:
    def __init__(self, fail_with: BaseException | None) -> None:
        self.fail_with = fail_with
        self.stopped = asyncio.Event()
        self.failure: str | None = None
        self.failure_exc: BaseException | None = None
        self.entered = False

    async def __aenter__(self) -> FakeWorker:
        self.entered = True
        if self.fail_with is not None:
            asyncio.get_running_loop().call_later(0.05, self._fail)
        return self

    def _fail(self) -> None:
        self.failure, self.failure_exc = str(self.fail_with), self.fail_with
        self.stopped.set()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        pass


async def run(first_failure: BaseException) -> tuple[list[FakeWorker], Any]:
    watch = KafkaWatch("kafka:9092")
    watch.link.up()
    made: list[FakeWorker] = []

    def make() -> StreamWorker:
        made.append(FakeWorker(first_failure if not made else None))
        return cast(StreamWorker, made[-1])

    stop = asyncio.Event()
    task = asyncio.create_task(supervise(make, watch, stop, lambda w: None))
    await asyncio.sleep(2.0)  # the first fails at 0.05 s; a restart waits about 1 s
    stop.set()
    return made, await asyncio.wait_for(task, 5)


async def test_a_worker_stopped_by_kafka_is_restarted() -> None:
    made, last = await run(KafkaTimeoutError())
    assert len(made) == 2 and all(w.entered for w in made)
    assert last is made[1] and last.failure is None


async def test_a_worker_stopped_by_a_bug_is_not_restarted() -> None:
    made, last = await run(ValueError("a bug"))
    assert len(made) == 1
    assert last is made[0] and last.failure == "a bug"
