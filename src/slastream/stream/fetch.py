"""The worker's faust application, with a shorter fetch long-poll than faust's.

aiokafka keeps one fetch request in flight per broker, for the assigned partitions that
have no records buffered, and faust asks the broker to hold such a request for up to
1.5 s (a constant in its aiokafka driver) until data arrives. When some partitions have
been read to their end and the others still have a backlog (a worker catching up after
a restart, a benchmark's input), the request for the drained ones waits out those 1.5 s,
and the partitions with a backlog cannot be fetched until it returns: measured on the
worker benchmark, two such stalls took 2.6 s of a 3.8 s run of a million events. With the
long-poll at ``KafkaProfile.fetch_max_wait_ms`` the stall is that short; the price is
an idle worker asking each broker that often whether there is more
(docs/architecture.md#performance).

faust has no setting for it, so the application swaps in a transport whose consumer
thread sets aiokafka's own option before the consumer starts.

The same consumer hands each record to faust's conductor with less machinery. faust's
fetch loop races every record's delivery against "flow suspended" (a rebalance), with
four asyncio tasks a record (the delivery and waits on three events), each cancelled or
finished by a step of the event loop: 0.1 us an event of the worker benchmark, a third
of the worker's CPU outside its engine, as a record runs cold after its 2,000 events of
SLI work. Here the delivery runs in the fetch loop's own task, and one task per consumer
watches the three events and interrupts a delivery still waiting when one fires: the
same outcome (the record abandoned; after the rebalance faust seeks back to the
committed offsets) without a task per record.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as driver
from mode.services import WaitResults


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its fetcher: set before it starts
        consumer._fetch_max_wait_ms = cast(App, self.app).fetch_max_wait_ms
        return consumer


class _Consumer(driver.Consumer):
    _delivering: asyncio.Task[Any] | None = None  # the fetch loop, while it delivers
    _interrupted: asyncio.Task[Any] | None = None  # ... and once the watcher cancelled it
    _watcher: asyncio.Future[Any] | None = None

    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        """faust's fetch loop calls ``wait_first(callback(message), suspend_flow.wait())``
        for each record (its only call here); any other call is mode's own."""
        if timeout is None and len(coros) == 2 and self._waits_on_flow(coros[1]):
            return await self._deliver(coros[0], coros[1])
        return await super().wait_first(*coros, timeout=timeout)

    def _waits_on_flow(self, coro: Any) -> bool:
        frame = getattr(coro, "cr_frame", None) if inspect.iscoroutine(coro) else None
        return frame is not None and frame.f_locals.get("self") is self.suspend_flow

    def _halted(self) -> bool:
        return bool(self.suspend_flow.is_set() or self._stopped.is_set()
                    or self._crashed.is_set())

    async def _deliver(self, delivery: Coroutine[Any, Any, Any],
                       flow_wait: Coroutine[Any, Any, Any]) -> Any:
        """What ``wait_first`` returns for the pair: the delivery's result, or "stopped"
        when flow is suspended or the consumer stops before it completes."""
        flow_wait.close()
        if self._halted():
            delivery.close()
            return WaitResults([], [], True)
        if self._watcher is None or self._watcher.done():
            self._watcher = self.add_future(self._watch())
        me = asyncio.current_task()
        assert me is not None  # the fetch loop is a task
        self._delivering = me
        try:
            result = await delivery
        except asyncio.CancelledError:
            if self._interrupted is not me:
                raise
            self._interrupted = None
            if me.uncancel():
                raise  # cancelled from outside as well: the fetch loop stops
            return WaitResults([], [], True)
        finally:
            self._delivering = None
        if self._interrupted is me:  # the delivery swallowed the interruption
            self._interrupted = None
            me.uncancel()
        return WaitResults([delivery], [result], False)

    async def _watch(self) -> None:
        """Interrupt a delivery in progress when flow is suspended or the consumer stops
        or crashes (the events ``wait_first`` raced each record against)."""
        while not (self._stopped.is_set() or self._crashed.is_set()):
            waits = [asyncio.ensure_future(e.wait()) for e in
                     (self.suspend_flow, self._stopped, self._crashed)]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            target = self._delivering
            if target is not None and not target.done() and self._interrupted is None:
                self._interrupted = target
                target.cancel()
            if self.suspend_flow.is_set():
                await self.can_resume_flow.wait()


class _Transport(driver.Transport):
    Consumer = _Consumer


class App(faust.App):
    """``faust.App`` whose worker consumer long-polls for at most ``fetch_max_wait_ms``."""

    def __init__(self, app_id: str, *, fetch_max_wait_ms: int, **options: Any) -> None:
        self.fetch_max_wait_ms = fetch_max_wait_ms
        super().__init__(app_id, **options)

    def _new_transport(self) -> Any:
        # what faust.App does, with the transport above instead of the one of the URL's
        # scheme (``kafka://``: the same aiokafka driver)
        return _Transport(self.conf.broker_consumer, self)
