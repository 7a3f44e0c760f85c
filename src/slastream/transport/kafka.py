"""aiokafka at the edge: topic creation, the batching event producer, a reading helper.

Every aiokafka error is converted to ``slastream.errors.BrokerError`` here, so callers deal
with one exception type (house style: third-party errors converted at the adapter).

Producer settings, and why:

* ``acks="all"``: a record is acknowledged once the broker has it in every in-sync replica;
  the bridge acknowledges the MQTT messages only after that (at-least-once end to end).
* no idempotence, no transactions: Tansu refuses InitProducerId
  (docs/architecture.md#kafka-profiles), and the
  pipeline's correctness comes from idempotent state and replayable input instead.
* one record carries a batch of canonical events (``codec.encode_batch``), at most
  ``MAX_EVENTS_PER_RECORD``; records of one topic-partition are further batched by aiokafka
  (``linger_ms``, ``max_batch_size``).

A send that fails (the broker went away) fails its future; the caller keeps the
``OutRecord`` and sends it again (``EventProducer.send``) once the broker is back: the
bridge does so (``ingest/forward.py``). Every future's exception is retrieved, so none is
reported as "never retrieved" when a caller gives up on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NamedTuple, Self

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from slastream.errors import BrokerError
from slastream.model.events import Event
from slastream.model.spec import KafkaSettings
from slastream.transport import codec, grouping
from slastream.transport.routes import Router, table_of
from slastream.transport.security import kafka_client_options

# A faust worker pays a fixed cost per record: 2,000 columnar events (~90 kB of LoRaWAN
# events) amortise it; a record over MAX_RECORD_BYTES (long strings) is split in halves to
# stay under Kafka's default max.message.bytes (1 MB).
MAX_EVENTS_PER_RECORD = 2000
MAX_RECORD_BYTES = 900_000
LINGER_MS = 5
MAX_BATCH_BYTES = 1 << 20
MAX_REQUEST_BYTES = 4 << 20
TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error code
_PARTITION_CACHE_LIMIT = 1 << 20
STOP_TIMEOUT_S = 10.0  # stopping flushes; with the broker gone that would wait for expiry

SendFuture = asyncio.Future[Any]


@contextlib.contextmanager
def kafka_errors(what: str, bootstrap: str) -> Iterator[None]:
    """Turn aiokafka's errors into ``BrokerError`` with a one-line message."""
    try:
        yield
    except KafkaError as exc:
        raise BrokerError(f"Kafka at {bootstrap}: {what} failed: {exc}".rstrip(": ")) from exc


def all_topics(kafka: KafkaSettings) -> list[str]:
    """Every topic the pipeline uses: the event streams, dead letters and breaches."""
    streams = (*codec.EVENT_STREAMS, codec.DEADLETTER, codec.BREACHES)
    return [codec.topic_name(kafka.topic_prefix, s) for s in streams]


async def wait_ready(bootstrap: str, timeout_s: float,
                     client_options: Mapping[str, Any] | None = None) -> None:
    """Wait until a broker at ``bootstrap`` answers a metadata request.

    ``client_options``: TLS and SASL (``security.kafka_client_options``); none: plaintext.
    """
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000,
                                    **(client_options or {}))
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            last = exc
        finally:
            with contextlib.suppress(KafkaError, OSError):
                await admin.close()
        await asyncio.sleep(0.1)
    raise BrokerError(f"Kafka at {bootstrap} did not answer within {timeout_s:g} s: {last}")


async def reachable(bootstrap: str, timeout_s: float,
                    client_options: Mapping[str, Any] | None = None) -> str | None:
    """``None`` if a broker at ``bootstrap`` answers a metadata request within
    ``timeout_s``, else why not (one line); ``client_options`` as for ``wait_ready``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap,
                                request_timeout_ms=int(timeout_s * 1000),
                                **(client_options or {}))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await admin.list_topics()
        return None
    except (KafkaError, OSError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}".rstrip(": ")
    finally:
        with contextlib.suppress(KafkaError, OSError):
            await admin.close()


async def ensure_topics(kafka: KafkaSettings, topics: list[str] | None = None) -> None:
    """Create ``topics`` (default: ``all_topics``) with ``kafka.partitions``; keep existing ones.

    Existing topics keep their partition count: the producer asks the broker for it, so
    routing stays consistent with what is there.
    """
    wanted = topics if topics is not None else all_topics(kafka)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap,
                                **kafka_client_options(kafka))
    with kafka_errors("creating topics", kafka.bootstrap):
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                new = [NewTopic(t, num_partitions=kafka.partitions, replication_factor=1)
                       for t in missing]
                response = await admin.create_topics(new)
                for topic, code, *rest in response.topic_errors:
                    if code not in (0, TOPIC_ALREADY_EXISTS):
                        message = rest[0] if rest and rest[0] else f"error code {code}"
                        raise BrokerError(f"Kafka at {kafka.bootstrap}: cannot create topic "
                                          f"{topic}: {message}")
        finally:
            await admin.close()


class Partitioner:
    """Kafka's default partitioner (murmur2 of the key bytes), cached per key.

    The same function the Java client, aiokafka and faust use, so a record sent to an
    explicit partition lands where a keyed record would.
    """

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def hash(self, key: str) -> int:
        h = self._cache.get(key)
        if h is None:
            if len(self._cache) >= _PARTITION_CACHE_LIMIT:
                self._cache.clear()
            h = self._cache[key] = murmur2(key.encode()) & 0x7FFFFFFF
        return h


class OutRecord(NamedTuple):
    """One record to produce (kept by the caller until Kafka acknowledged it)."""

    stream: str
    value: bytes
    key: str | None
    partition: int | None
    events: int


def _retrieve(future: SendFuture) -> None:
    if not future.cancelled():
        future.exception()


@dataclass
class ProducerStats:
    """What the producer has handed to Kafka (counted when sent, not when acknowledged)."""

    records: int = 0
    events: int = 0
    bytes: int = 0
    per_stream: dict[str, int] = field(default_factory=dict)


class EventProducer:
    """The batching producer of canonical events, one record per batch of events.

    ``send_events`` groups events by ``(stream, partition)`` of their route key
    (``codec.routes``) and sends one record per group of at most ``MAX_EVENTS_PER_RECORD``,
    to that partition explicitly, keyed by the group's first route key. It returns the
    futures of the sends: awaiting them means "Kafka has it".
    """

    def __init__(self, kafka: KafkaSettings, *, client_id: str = "slastream-bridge",
                 linger_ms: int = LINGER_MS, create_topics: bool = True,
                 one_record_per_batch: bool = False, routes: Router = codec.routes) -> None:
        self.kafka = kafka
        self._routes = routes  # event -> (stream, key) pairs: routes.router(settings)
        self._table = table_of(routes)  # the same, type by type (None: a router of its own)
        self.stats = ProducerStats()
        self._create_topics = create_topics
        self._partitioner = Partitioner()
        self._partitions: dict[str, int] = {}
        self._client_id = client_id
        self._linger_ms = linger_ms
        self._one_record_per_batch = one_record_per_batch
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> Self:
        if self._create_topics:
            await ensure_topics(self.kafka)
        # one_record_per_batch: Tansu reports a wrong "latest" offset after a multi-record
        # batch (docs/architecture.md#kafka-profiles); a batch size of 1 byte makes every record a
        # batch of its own.
        producer = AIOKafkaProducer(
            bootstrap_servers=self.kafka.bootstrap, client_id=self._client_id, acks="all",
            enable_idempotence=False, linger_ms=self._linger_ms,
            max_batch_size=1 if self._one_record_per_batch else MAX_BATCH_BYTES,
            max_request_size=MAX_REQUEST_BYTES, **kafka_client_options(self.kafka),
        )
        with kafka_errors("starting the producer", self.kafka.bootstrap):
            try:
                await producer.start()
                for topic in all_topics(self.kafka):
                    parts = await producer.partitions_for(topic)
                    self._partitions[topic] = len(parts)
            except BaseException:
                await producer.stop()
                raise
        self._producer = producer
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with kafka_errors("stopping the producer", self.kafka.bootstrap), \
                    contextlib.suppress(TimeoutError):
                await asyncio.wait_for(producer.stop(), STOP_TIMEOUT_S)  # flushes

    def topic(self, stream: str) -> str:
        return codec.topic_name(self.kafka.topic_prefix, stream)

    def partition(self, stream: str, key: str) -> int:
        return self._partitioner.hash(key) % self._partitions[self.topic(stream)]

    def group(self, events: list[Event]) -> grouping.Groups:
        """``(stream, partition) -> (first key, events)`` in arrival order
        (``grouping.group_each``; whole columns at a time for a chunk of events)."""
        nparts = {s: self._partitions[self.topic(s)] for s in codec.EVENT_STREAMS}
        if self._table is not None and len(events) >= grouping.COLUMNS_FROM:
            return grouping.group_columns(events, self._table, nparts, self._partitioner.hash)
        return grouping.group_each(events, self._routes, nparts, self._partitioner.hash)

    def records(self, events: list[Event]) -> list[OutRecord]:
        """The records that carry ``events``: per ``(stream, partition)``, chunks of at
        most ``MAX_EVENTS_PER_RECORD`` events, keyed by the group's first route key."""
        out: list[OutRecord] = []
        for (stream, partition), (key, group) in self.group(events).items():
            for i in range(0, len(group), MAX_EVENTS_PER_RECORD):
                chunk = group[i:i + MAX_EVENTS_PER_RECORD]
                for n, value in codec.encode_records(chunk, MAX_RECORD_BYTES):
                    out.append(OutRecord(stream, value, key, partition, n))
        return out

    def raw_record(self, stream: str, value: bytes, key: str | None) -> OutRecord:
        """One raw record (dead letters), partitioned by ``key`` as Kafka would."""
        partition = self.partition(stream, key) if key is not None else None
        return OutRecord(stream, value, key, partition, 0)

    async def send_events(self, events: list[Event]) -> list[SendFuture]:
        """Send ``events``; returns one future per record."""
        return [await self.send(record) for record in self.records(events)]

    async def send_record(self, stream: str, value: bytes, key: str | None) -> SendFuture:
        """Send one raw record (dead letters); partition by ``key`` as Kafka would."""
        return await self.send(self.raw_record(stream, value, key))

    async def send(self, record: OutRecord) -> SendFuture:
        """Hand ``record`` to aiokafka; the future resolves once Kafka has it.

        ``BrokerError`` when it cannot even be queued (no metadata, buffer full for the
        request timeout): the broker is unreachable.
        """
        stream, value, key, partition, events = record
        topic = self.topic(stream)
        if self._producer is None:
            raise BrokerError("the Kafka producer is not started (use async with)")
        with kafka_errors(f"sending to {topic}", self.kafka.bootstrap):
            future: SendFuture = await self._producer.send(
                topic, value, key=key.encode() if key is not None else None,
                partition=partition)
        future.add_done_callback(_retrieve)
        self.stats.records += 1
        self.stats.events += events
        self.stats.bytes += len(value)
        self.stats.per_stream[stream] = self.stats.per_stream.get(stream, 0) + 1
        return future

    async def flush(self) -> None:
        if self._producer is not None:
            with kafka_errors("flushing", self.kafka.bootstrap):
                await self._producer.flush()


async def delivered(futures: list[SendFuture], bootstrap: str) -> None:
    """Wait until Kafka acknowledged every send in ``futures``; ``BrokerError`` if one failed."""
    with kafka_errors("producing", bootstrap):
        for future in futures:
            await future


@dataclass(frozen=True)
class Record:
    """One consumed record: where it was, its key and its raw value."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


class RecordReader:
    """Reads topics from the beginning, without a consumer group (no join wait on Tansu).

    For tests, tools and benchmarks; the worker reads through faust.
    """

    def __init__(self, bootstrap: str, topics: list[str],
                 client_options: Mapping[str, Any] | None = None) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self._consumer = AIOKafkaConsumer(
            *topics, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", max_partition_fetch_bytes=MAX_REQUEST_BYTES,
            **(client_options or {}),
        )

    async def __aenter__(self) -> Self:
        with kafka_errors("starting a consumer", self.bootstrap):
            await self._consumer.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        with kafka_errors("stopping a consumer", self.bootstrap):
            await self._consumer.stop()

    async def poll(self, timeout_s: float = 1.0, max_records: int | None = None) -> list[Record]:
        """Whatever arrived within ``timeout_s`` (possibly nothing)."""
        with kafka_errors("fetching", self.bootstrap):
            got: dict[TopicPartition, list[Any]] = await self._consumer.getmany(
                timeout_ms=int(timeout_s * 1000), max_records=max_records)
        return [Record(r.topic, r.partition, r.offset, r.key, r.value)
                for records in got.values() for r in records]

    async def records(self, idle_s: float = 1.0) -> AsyncIterator[Record]:
        """Records until none arrives for ``idle_s``."""
        while batch := await self.poll(idle_s):
            for record in batch:
                yield record
