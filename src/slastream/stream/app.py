"""The faust application: ``create_app(settings)``, and the worker runtime around it.

Data flow in one worker::

    {prefix}.lorawan|gateway|service  ──agent──►  PartitionState (engine per partition)
          ▲   (ticks, injects)                        │ finalised minute slices
          │                                           ▼
       ticker ◄── {prefix}.control ──┐      {prefix}.slices.{app_id}  (one batch per
                                      │           │                   offset that closed
                                      └─ follower ┴──► LiveView ──► /metrics, /api/ledger
                                                                └──► {prefix}.breaches

State and its recovery:

* ``checkpoints`` is a faust table (changelog topic, co-partitioned with the inputs):
  per input partition, the engine snapshot and the last applied offset. The agent acks
  a record (so faust may commit its offset) only once a checkpoint covers it: after a
  crash the consumer resumes at or before the checkpoint, and records at or below its
  offset are skipped, the others replayed.
* The slices topic is append-only and read in full by every worker. Replays re-emit
  identical batches, which readers drop (``LiveView.apply``).

faust is untyped: its objects are ``Any`` here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from types import TracebackType
from typing import Any, Self

from faust.types import TP

from slastream.errors import SlastreamError
from slastream.health import Link
from slastream.model.spec import Settings
from slastream.stream import fetch
from slastream.stream.breaches import BreachTracker
from slastream.stream.partition import PartitionState, Tick, Timing, slos_for_stream
from slastream.stream.profile import PRODUCTION, KafkaProfile
from slastream.stream.records import (
    INJECT_KEY,
    TICK_KEY,
    CheckpointHead,
    SliceBatch,
    encode_inject,
    encode_tick,
    read_checkpoint,
    write_checkpoint,
)
from slastream.stream.sending import SliceSender
from slastream.stream.view import IngestTotals, LiveView, PartitionId
from slastream.transport import codec
from slastream.transport.kafka import RecordReader
from slastream.transport.security import kafka_client_options

log = logging.getLogger(__name__)

INPUT_STREAMS = (codec.LORAWAN, codec.GATEWAY, codec.SERVICE)
TICKER_PERIOD_S = 0.25
FOLLOW_POLL_S = 0.1
APP_STOP_TIMEOUT_S = 30.0


class WorkerError(SlastreamError):
    """The worker cannot go on (unreadable checkpoint, broker failure, a bug)."""


def slices_topic(settings: Settings) -> str:
    """Per application: two apps on the same topics must not read each other's slices."""
    return f"{settings.kafka.topic_prefix}.slices.{settings.kafka.app_id}"


def create_app(settings: Settings, profile: KafkaProfile = PRODUCTION) -> Any:
    """The faust app (``faust.App``) of a worker, its agent and table defined."""
    return StreamWorker(settings, profile).app


class StreamWorker:
    """A faust app plus what runs beside it: the view, the ticker, the follower.

    ``async with StreamWorker(settings) as worker:`` starts everything; ``failure``
    holds a one-line reason once the worker has stopped on its own.
    """

    def __init__(self, settings: Settings, profile: KafkaProfile = PRODUCTION,
                 timing: Timing | None = None, ingest: IngestTotals | None = None,
                 ignored: IngestTotals | None = None, view: LiveView | None = None,
                 kafka_link: Link | None = None) -> None:
        self.settings = settings
        self.profile = profile
        self.timing = timing or Timing()
        self.app_id = settings.kafka.app_id
        self.topics = {codec.topic_name(settings.kafka.topic_prefix, s): s
                       for s in INPUT_STREAMS}
        self.topic_of = {s: t for t, s in self.topics.items()}
        self.computing = {s for s in INPUT_STREAMS if slos_for_stream(settings, s)}
        # a restarted worker keeps the view (first write wins: replays add nothing)
        self.view = view or LiveView(settings, ingest, None, ignored)
        self.view.local = self.local_figures
        # while Kafka is unreachable (stream/supervisor.py) no tick is written, and idle
        # time starts again when it is back: the bridge's backlog is not idleness
        self.kafka = kafka_link
        self.breaches = BreachTracker(self.app_id)
        self.partitions: dict[PartitionId, PartitionState] = {}
        self.heads: dict[PartitionId, CheckpointHead] = {}
        self.held: dict[PartitionId, list[Any]] = {}
        self.assigned: set[PartitionId] = set()
        self.failure: str | None = None
        self.failure_exc: BaseException | None = None
        self.stopped = asyncio.Event()
        self._woken: dict[PartitionId, float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._datadir = tempfile.mkdtemp(prefix="slastream-worker-")
        self.app: Any = fetch.App(self.app_id, fetch_max_wait_ms=profile.fetch_max_wait_ms,
                                  **profile.faust_options(settings, self._datadir))
        self._define()

    # --------------------------------------------------------------------- faust wiring
    def _define(self) -> None:
        app = self.app
        n = self.settings.kafka.partitions
        raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes,
                               "key_serializer": "raw", "value_serializer": "raw"}
        # bytes key and value types: faust derives the changelog's serializers ("raw")
        # from the types, not from a schema
        self.table: Any = app.Table(
            "checkpoints", partitions=n, key_type=bytes, value_type=bytes,
            help="engine snapshot and last applied offset per input partition")
        # only the streams an SLO is computed on: a worker without RX2 SLOs would otherwise
        # fetch the whole gateway topic (every uplink copy again) only to skip it, 8 % of
        # its CPU on the worker benchmark (docs/architecture.md#performance)
        read = [t for t, s in self.topics.items() if s in self.computing] or list(self.topics)
        self.inputs: Any = app.topic(*read, partitions=n, **raw)
        self.sender = SliceSender(app.topic(slices_topic(self.settings), **raw), self.view)
        self.markers_out: dict[str, Any] = {t: app.topic(t, **raw) for t in self.topics}
        self.breaches_out: Any = app.topic(
            codec.topic_name(self.settings.kafka.topic_prefix, codec.BREACHES), **raw)

        async def slices(stream: Any) -> None:
            manual = stream.noack()
            async for event in manual.events():
                try:
                    await self._on_event(manual, event)
                except Exception as exc:
                    self._fail(exc, "processing a record")
                    await asyncio.Event().wait()  # hold: faust must not move past it

        app.agent(self.inputs, name="slices", concurrency=1)(slices)
        app.on_partitions_revoked.connect(self._on_revoked)
        app.on_partitions_assigned.connect(self._on_assigned)

    async def _on_revoked(self, sender: Any, revoked: set[Any], **_: Any) -> None:
        for tp in revoked:
            pid = self._pid(tp)
            if pid is not None:
                # drop, do not checkpoint: the next owner replays from the last checkpoint
                self.partitions.pop(pid, None)
                self.heads.pop(pid, None)
                self.held.pop(pid, None)
                self.assigned.discard(pid)

    async def _on_assigned(self, sender: Any, assigned: set[Any], **_: Any) -> None:
        self.assigned = {pid for tp in assigned if (pid := self._pid(tp)) is not None}
        for pid in [p for p in self.partitions if p not in self.assigned]:
            self.partitions.pop(pid, None)
            self.heads.pop(pid, None)
            self.held.pop(pid, None)
        self._woken.clear()

    def _pid(self, tp: Any) -> PartitionId | None:
        stream = self.topics.get(tp.topic)
        return None if stream is None else (stream, int(tp.partition))

    # ------------------------------------------------------------------------ records
    async def _on_event(self, stream: Any, event: Any) -> None:
        msg = event.message
        pid: PartitionId = (self.topics[msg.topic], int(msg.partition))
        state = self.partitions.get(pid)
        if state is None:
            if pid[0] not in self.computing:
                await stream.ack(event)
                return
            state = self._load(pid)
        if msg.offset <= state.offset:  # already in the restored checkpoint
            await stream.ack(event)
            return
        now = time.monotonic()
        batch = state.apply(msg.offset, msg.key, msg.value, now)
        self.held.setdefault(pid, []).append(event)
        if batch is not None:
            await self.sender.send(batch)
            if self.partitions.get(pid) is not state:
                return  # revoked while sending: the new owner takes it from here
        if state.checkpoint_due(now):
            await self.sender.flush()  # Kafka has every slice batch it covers
            if self.partitions.get(pid) is not state:
                return
            self._checkpoint(pid, state, now)
            for held in self.held.pop(pid, []):
                await stream.ack(held)

    def _load(self, pid: PartitionId) -> PartitionState:
        stream, partition = pid
        now = time.monotonic()
        where = f"{self.topic_of[stream]}[{partition}]"
        try:
            stored = read_checkpoint(self.table, stream, partition)
        except ValueError as exc:
            raise WorkerError(f"checkpoint of {where} is {exc}") from None
        if stored is None:
            state = PartitionState.fresh(self.settings, stream, partition, self.app_id,
                                         self.timing, now)
        else:
            head, base, deltas = stored
            try:
                state = PartitionState.restore(self.settings, stream, partition, self.app_id,
                                               self.timing, base, now, deltas)
            except ValueError as exc:
                raise WorkerError(f"checkpoint of {where}: {exc}") from None
            self.heads[pid] = head
            if state.config_changed(self.settings):
                log.warning("%s: SLO definitions changed since the checkpoint; its uplinks "
                            "and minutes still open are judged by the new definitions", where)
        self.partitions[pid] = state
        return state

    def _checkpoint(self, pid: PartitionId, state: PartitionState, now: float) -> None:
        """Write the state into the table (changelog): a base or a delta of the chain
        (``records.write_checkpoint``). Runs in the agent, for the event's partition."""
        stream, partition = pid
        self.heads[pid] = write_checkpoint(self.table, stream, partition, self.heads.get(pid),
                                           state.checkpoint_piece(now), state.offset)

    # ------------------------------------------------------------------ background
    async def _tick_loop(self) -> None:
        """Ticks for idle partitions, injects of bridge outages, wake-ups after assignment."""
        recovering_since: float | None = None
        while True:
            await asyncio.sleep(TICKER_PERIOD_S)
            now = time.monotonic()
            if getattr(self.app, "crash_reason", None) is not None:
                self._fail(self.app.crash_reason, "faust")
                return
            if getattr(self.app, "in_recovery", False):
                recovering_since = recovering_since or now
                if now - recovering_since > self.profile.recovery_limit_s:
                    self._fail(f"the checkpoint table has not recovered after "
                               f"{self.profile.recovery_limit_s:g} s", "faust")
                    return
            else:
                recovering_since = None
            if self.kafka is not None and (not self.kafka.connected or
                                           self.kafka.since > now - self.timing.idle_s):
                for state in self.partitions.values():
                    state.last_record_s = max(state.last_record_s, now)
                continue
            for pid in sorted(self.assigned):
                await self._tick_partition(pid, now)

    async def _tick_partition(self, pid: PartitionId, now: float) -> None:
        stream, partition = pid
        topic = self.topic_of[stream]
        state = self.partitions.get(pid)
        if state is None:
            if stream in self.computing and now - self._woken.get(pid, -1e9) > \
                    self.timing.marker_timeout_s:
                # a wake-up loads the checkpoint, so open minutes close without new input
                self._woken[pid] = now
                await self._marker(topic, partition, TICK_KEY, encode_tick(self.app_id, None))
            return
        tick: Tick | None = state.tick_due(now, self._caught_up(topic, partition, state))
        if tick is not None:
            await self._marker(topic, partition, TICK_KEY,
                               encode_tick(self.app_id, tick.watermark_ms))
        if stream == codec.LORAWAN and self.view.outages:
            missing = state.missing_outages(self.view.outages, now)
            if missing:
                await self._marker(topic, partition, INJECT_KEY,
                                   encode_inject(self.app_id, missing))

    def local_figures(self) -> dict[str, float]:
        """Consumer lag (records not yet applied), uplinks held in delivery state and
        records skipped as unreadable, over the partitions this worker holds."""
        lag = 0
        for (stream, partition), state in list(self.partitions.items()):
            highwater = self.app.consumer.highwater(TP(self.topic_of[stream], partition))
            if highwater is not None:
                lag += max(0, int(highwater) - 1 - state.offset)
        tracked = sum(st.engine.pipeline().get("tracked_uplinks", 0.0)
                      for st in self.partitions.values())
        skipped = sum(st.bad_records for st in self.partitions.values())
        return {"consumer_lag_messages": float(lag), "tracked_uplinks": float(tracked),
                "skipped_records_total": float(skipped)}

    def _caught_up(self, topic: str, partition: int, state: PartitionState) -> bool:
        highwater = self.app.consumer.highwater(TP(topic, partition))
        return highwater is not None and state.offset >= int(highwater) - 1

    async def _marker(self, topic: str, partition: int, key: bytes, value: bytes) -> None:
        await self.markers_out[topic].send(key=key, value=value, partition=partition)

    async def _follow(self) -> None:
        """Read the slices topic and the control topic in full, forever."""
        control = codec.topic_name(self.settings.kafka.topic_prefix, codec.CONTROL)
        started = time.monotonic()
        async with RecordReader(self.settings.kafka.bootstrap,
                                [slices_topic(self.settings), control],
                                kafka_client_options(self.settings.kafka)) as reader:
            while True:
                records = await reader.poll(FOLLOW_POLL_S)
                if not records and time.monotonic() - started > 1.0:
                    self.view.ready = True
                for r in records:
                    if r.topic == control:
                        try:
                            self.view.add_control(codec.decode_batch(r.value))
                        except (ValueError, KeyError, TypeError, IndexError):
                            log.warning("control topic: skipping a record that is not an "
                                        "event batch (offset %d)", r.offset)
                        continue
                    try:
                        batch = SliceBatch.decode(r.value)
                    except (ValueError, KeyError, TypeError):
                        log.warning("slices topic: skipping a foreign record (offset %d)",
                                    r.offset)
                        continue
                    self.view.apply(batch)

    async def _breach_loop(self) -> None:
        """Publish outage episode starts and ends (only the owner of lorawan[0] does)."""
        version = -1
        while True:
            await asyncio.sleep(TICKER_PERIOD_S)
            if not self.view.ready or self.view.version == version:
                continue
            version = self.view.version
            leader = (codec.LORAWAN, 0) in self.assigned
            for key, value in self.breaches.update(self.view.ledger(), leader):
                await self.breaches_out.send(key=key, value=value)

    def _fail(self, exc: BaseException | str, where: str) -> None:
        if self.failure is None:
            self.failure_exc = None if isinstance(exc, str) else exc
            what = exc if isinstance(exc, str) else (
                str(exc) if isinstance(exc, SlastreamError) else f"{type(exc).__name__}: {exc}")
            self.failure = f"{where}: {what}".splitlines()[0]
            log.error("worker stopping: %s", self.failure, exc_info=not isinstance(
                exc, str | SlastreamError))
        self.stopped.set()

    def _guard(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._fail(task.exception() or RuntimeError("?"), task.get_name())

    # ---------------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> Self:
        await self.app.start()
        for name, coro in (("ticker", self._tick_loop()), ("follower", self._follow()),
                           ("breaches", self._breach_loop())):
            task = asyncio.create_task(coro, name=name)
            task.add_done_callback(self._guard)
            self._tasks.append(task)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        try:
            # faust commits and leaves the group on the way out; with the broker gone
            # that would wait for every request to time out
            await asyncio.wait_for(self.app.stop(), APP_STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("faust did not stop within %g s (Kafka unreachable?)",
                        APP_STOP_TIMEOUT_S)
        finally:
            shutil.rmtree(self._datadir, ignore_errors=True)
