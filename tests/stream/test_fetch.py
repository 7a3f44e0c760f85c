"""The worker consumer's delivery of a record (``stream/fetch.py``): what faust's
``wait_first(callback(message), suspend_flow.wait())`` returned, without a task per record.

The consumer is faust's; these tests give the two methods the events they read (flow
suspended, stopped, crashed, flow resumable) and run them on a real event loop. The live
worker's tests (tests/integration) run them inside faust, rebalances included.
"""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

import pytest
from mode.services import WaitResults

from slastream.stream.fetch import _Consumer


class Flow(SimpleNamespace):
    """The state of a faust consumer that delivery reads, and the watcher task it runs."""

    def __init__(self) -> None:
        super().__init__(suspend_flow=asyncio.Event(), can_resume_flow=asyncio.Event(),
                         _stopped=asyncio.Event(), _crashed=asyncio.Event(),
                         _delivering=None, _interrupted=None, _watcher=None)
        self.can_resume_flow.set()
        self.futures: list[asyncio.Future[Any]] = []

    def add_future(self, coro: Any) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.ensure_future(coro)
        self.futures.append(fut)
        return fut

    def stop_flow(self) -> None:  # what faust's Consumer.stop_flow does
        self.can_resume_flow.clear()
        self.suspend_flow.set()

    def resume_flow(self) -> None:
        self.can_resume_flow.set()
        self.suspend_flow.clear()

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        return await _Consumer.wait_first(self, *coros, timeout=timeout)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        method = getattr(_Consumer, name)
        return method.__get__(self)

    async def close(self) -> None:
        for fut in self.futures:
            fut.cancel()
        await asyncio.gather(*self.futures, return_exceptions=True)


async def settle() -> None:
    """A few steps of the event loop: the watcher wakes and the fetch loop resumes."""
    for _ in range(10):
        await asyncio.sleep(0)


async def deliver_to(queue: asyncio.Queue[int], value: int) -> str:
    await queue.put(value)
    return "delivered"


def full_queue() -> asyncio.Queue[int]:
    """A stream buffer with no room: a delivery into it waits."""
    queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
    queue.put_nowait(0)
    return queue


async def waiting_delivery(flow: Flow, queue: asyncio.Queue[int],
                           value: int) -> asyncio.Task[Any]:
    """The fetch loop's task, delivering ``value`` into the full ``queue``, waiting."""
    task = asyncio.create_task(flow.wait_first(deliver_to(queue, value),
                                               flow.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    assert not task.done()
    return task


async def test_a_delivery_that_completes_returns_its_result() -> None:
    flow = Flow()
    queue: asyncio.Queue[int] = asyncio.Queue()
    delivery = deliver_to(queue, 1)
    result = await flow.wait_first(delivery, flow.suspend_flow.wait())
    assert result == WaitResults([delivery], ["delivered"], False)
    assert queue.get_nowait() == 1
    await flow.close()


async def test_with_flow_suspended_the_record_is_not_delivered() -> None:
    flow = Flow()
    flow.stop_flow()
    queue: asyncio.Queue[int] = asyncio.Queue()
    result = await flow.wait_first(deliver_to(queue, 1), flow.suspend_flow.wait())
    assert result == WaitResults([], [], True)
    assert queue.empty()
    await flow.close()


@pytest.mark.parametrize("event", ["suspend_flow", "_stopped", "_crashed"])
async def test_a_waiting_delivery_is_abandoned_when_flow_stops(event: str) -> None:
    flow = Flow()
    queue = full_queue()

    async def fetch_loop() -> tuple[Any, str]:
        first = await flow.wait_first(deliver_to(queue, 1), flow.suspend_flow.wait())
        return first, "went on"

    loop_task = asyncio.create_task(fetch_loop())
    await asyncio.sleep(0.01)
    assert not loop_task.done()
    getattr(flow, event).set()
    await settle()
    assert loop_task.done()  # interrupted, not timed out
    first, after = loop_task.result()
    # the fetch loop itself is not cancelled: it goes on, as after faust's wait_first
    assert (first, after) == (WaitResults([], [], True), "went on")
    assert not loop_task.cancelled() and loop_task.cancelling() == 0
    assert queue.qsize() == 1 and queue.get_nowait() == 0  # the record never got in
    await flow.close()


async def test_after_the_flow_resumes_records_are_delivered_and_interrupted_again() -> None:
    flow = Flow()
    queue = full_queue()
    waiting = await waiting_delivery(flow, queue, 1)
    flow.stop_flow()
    await settle()
    assert waiting.done() and waiting.result() == WaitResults([], [], True)
    flow.resume_flow()
    queue.get_nowait()
    delivery = deliver_to(queue, 2)
    assert await flow.wait_first(delivery, flow.suspend_flow.wait()) == WaitResults(
        [delivery], ["delivered"], False)
    # the watcher is armed again: a second suspension interrupts the next waiting delivery
    waiting = await waiting_delivery(flow, queue, 3)
    flow.stop_flow()
    await settle()
    assert waiting.done() and waiting.result() == WaitResults([], [], True)
    assert queue.get_nowait() == 2
    await flow.close()


async def test_cancelling_the_fetch_loop_still_cancels_it() -> None:
    flow = Flow()
    loop_task = await waiting_delivery(flow, full_queue(), 1)
    loop_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop_task
    await flow.close()


async def test_cancelled_from_outside_while_interrupted_it_stops() -> None:
    flow = Flow()
    loop_task = await waiting_delivery(flow, full_queue(), 1)
    flow._stopped.set()
    await asyncio.sleep(0)  # the watcher runs and interrupts the delivery ...
    loop_task.cancel()  # ... and the app stops the fetcher in the same step
    with pytest.raises(asyncio.CancelledError):
        await loop_task
    await flow.close()


async def test_only_the_fetch_loops_race_is_taken_over() -> None:
    """Any other ``wait_first`` (none in faust's consumer today) stays mode's."""
    flow = Flow()
    ours, other = flow.suspend_flow.wait(), asyncio.Event().wait()
    assert flow._waits_on_flow(ours) and not flow._waits_on_flow(other)
    assert not flow._waits_on_flow(flow.suspend_flow)
    ours.close()
    other.close()
    await flow.close()


def test_fausts_fetch_loop_still_races_each_delivery_against_suspended_flow() -> None:
    """The call this consumer takes over: should a faust release change it, the worker
    would fall back to mode's ``wait_first`` (correct, four tasks a record again), and
    this test says so."""
    from faust.transport.consumer import Consumer

    source = inspect.getsource(Consumer._drain_messages)
    assert "self.wait_first(" in source
    assert "callback(message), self.suspend_flow.wait()" in " ".join(source.split())
