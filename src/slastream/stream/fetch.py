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
"""

from __future__ import annotations

from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as driver


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its fetcher: set before it starts
        consumer._fetch_max_wait_ms = cast(App, self.app).fetch_max_wait_ms
        return consumer


class _Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


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
