"""One input partition's state: an engine, the last applied offset, and when to tick.

Pure (no Kafka): the faust agent hands every record of a partition to ``apply`` in offset
order and writes whatever comes back. Everything ``apply`` returns is a function of the
records of the partition since its checkpoint, so a replay after a crash (restore the
checkpoint, re-read the records after its offset) returns the very same slice batches:
the slices topic's readers keep the first copy of each and the ledger never counts a
record twice.

Two inputs do not come from the partition's own records, and both are turned into
records of the partition before they take effect (see ``records.py``):

* the wall clock: a partition that has caught up and stays idle asks for a *tick*, a
  watermark computed as its latest event time plus the idle wall time minus the allowed
  lateness, so its minutes close although no event follows
  (docs/semantics.md#corrections: events later than that are applied as corrections, not dropped);
* bridge outages from the control topic: the delivery SLI must know them before it
  finalises the uplinks whose deadline overlaps them, and every replay must see them at
  the same point. The bridge announces an outage when it begins (``end_ms`` open) and
  again when it ends; between the two the partition holds its watermark at the start,
  for ticks and records alike, so nothing the outage may cover is judged before the
  window is known (docs/architecture.md#outage-injection).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import orjson

from slastream.checkpoint import document
from slastream.checkpoint.chain import ChainWriter, Piece
from slastream.checkpoint.schema import engine_state, load_engine
from slastream.engine import Engine, usage_counters
from slastream.model.events import OUTAGE_OPEN, BridgeOutage, RequestLog
from slastream.model.spec import SLO, Settings
from slastream.model.time import MINUTE_MS, Month
from slastream.sli.slices import SliceStore
from slastream.slo.sections import usage_section
from slastream.sources.decoder import group
from slastream.stream.records import (
    INJECT_KEY,
    TICK_KEY,
    SliceBatch,
    UsageReportRow,
    marker_app,
)
from slastream.transport.codec import decode_batch
from slastream.transport.kafka import Partitioner
from slastream.transport.routes import EVENT_ROUTES, requests_by_client
from slastream.transport.routes import slos_for_stream as slos_for_stream
from slastream.transport.routes import stream_of as stream_of
from slastream.transport.rows import decode_record
from slastream.usage.counter import UsageCounter

log = logging.getLogger(__name__)
OutageKey = tuple[int, int, str]


def outage_key(ev: BridgeOutage) -> OutageKey:
    return (ev.start_ms, ev.end_ms, ev.bridge)


# The SLO fields that change what an SLI computes (alerting, descriptions and objectives do
# not): the fingerprint is over their values, so a refactoring of the spec types keeps it.
_COMPUTED = ("name", "sli", "component", "deadline_s", "scope_by", "source", "rx1_delay_s",
             "missing_ack", "ack_timeout_s", "target_ms", "block_requests")


def _fingerprint(slos: tuple[SLO, ...]) -> str:
    rows = [[getattr(slo, f) for f in _COMPUTED] + [sorted(vars(slo.downtime).items())]
            for slo in slos]
    return hashlib.sha256(orjson.dumps(rows)).hexdigest()[:16]


class Tick(NamedTuple):
    """A tick to write: the watermark it carries (``None``: only load and checkpoint)."""

    watermark_ms: int | None


@dataclass(frozen=True)
class Timing:
    """Wall-clock knobs of a partition (they never change a result, only its latency).

    ``idle_s``: a caught-up partition without records for this long asks for a tick.
    ``checkpoint_interval_s``: how often the engine snapshot is written (recovery replays
    at most this much input); acks (and so committed offsets) follow the checkpoints.
    ``marker_timeout_s``: how long to wait for a tick or inject to come back before asking
    again (a marker can be lost when the partition moves to another worker).
    """

    idle_s: float = 1.0
    checkpoint_interval_s: float = 5.0
    marker_timeout_s: float = 5.0


@dataclass
class PartitionState:
    """Engine and bookkeeping of one (stream, partition) of one application."""

    stream: str
    partition: int
    app_id: str
    timing: Timing
    engine: Engine
    lateness_ms: int
    fingerprint: str
    offset: int = -1
    last_as_of: int | None = None
    outages: set[OutageKey] = field(default_factory=set)
    bad_records: int = 0
    # wall clock, not checkpointed
    last_record_s: float = 0.0
    last_checkpoint_s: float = 0.0
    dirty: bool = False
    tick_wait_until_s: float = 0.0
    inject_wait_until_s: dict[OutageKey, float] = field(default_factory=dict)
    # what the last emitted usage reports were computed from (a function of the state)
    usage_mark: tuple[tuple[int, ...], ...] = ()
    # the checkpoint chain this process has written (a restored partition starts a new one)
    chain: ChainWriter = field(default_factory=ChainWriter)

    # ------------------------------------------------------------------- construction
    @classmethod
    def fresh(cls, settings: Settings, stream: str, partition: int, app_id: str,
              timing: Timing, now_s: float) -> PartitionState:
        slos = slos_for_stream(settings, stream)
        engine = Engine(_engine_settings(settings, slos))
        engine.usage = partition_usage(settings, stream, partition)
        return cls(stream, partition, app_id, timing, engine, settings.lateness_s * 1000,
                   _fingerprint(slos), last_record_s=now_s, last_checkpoint_s=now_s)

    @classmethod
    def restore(cls, settings: Settings, stream: str, partition: int, app_id: str,
                timing: Timing, data: bytes, now_s: float,
                deltas: Sequence[bytes] = ()) -> PartitionState:
        """Rebuild from ``checkpoint()`` output (or a version-1 checkpoint), or from the
        base and deltas of a ``checkpoint_piece()`` chain.

        Raises ``ValueError`` if unreadable (an unknown version, a malformed document, a
        delta that does not follow its chain).
        """
        doc = document.decode_chain(data, deltas)
        engine = Engine(_engine_settings(settings, slos_for_stream(settings, stream)))
        engine.usage = partition_usage(settings, stream, partition)
        load_engine(engine, doc)
        try:
            p = doc["partition"]
            outages = {(int(s), int(e), str(b)) for s, e, b in p["outages"]}
            last_as_of = None if p["last_as_of"] is None else int(p["last_as_of"])
            state = cls(stream, partition, app_id, timing, engine,
                        settings.lateness_s * 1000, str(p["fingerprint"]),
                        offset=int(p["offset"]), last_as_of=last_as_of, outages=outages,
                        bad_records=int(p["bad_records"]), last_record_s=now_s,
                        last_checkpoint_s=now_s)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"unreadable checkpoint: {type(exc).__name__}: {exc}") from None
        # every change of the usage state was emitted before the checkpoint was taken
        state.usage_mark = state._usage_mark()
        return state

    def config_changed(self, settings: Settings) -> bool:
        """Whether the SLO definitions differ from those the checkpoint was taken with.

        A checkpoint carries no definitions: its in-flight state is loaded into SLIs built
        from the current ones (an SLO it does not know starts empty).
        """
        if not self.fingerprint:  # migrated from version 1: nothing to compare with
            return False
        return self.fingerprint != _fingerprint(slos_for_stream(settings, self.stream))

    # -------------------------------------------------------------------------- input
    def apply(self, offset: int, key: bytes | None, value: bytes | None,
              now_s: float) -> SliceBatch | None:
        """Apply the record at ``offset``; the slice batch it finalised, if any.

        Records at or below the checkpointed offset are already in the state: skipped.
        """
        if offset <= self.offset:
            return None
        self.offset = offset
        self.dirty = True
        if key in (TICK_KEY, INJECT_KEY):
            self._marker(key, value or b"", now_s)
        else:
            self.last_record_s = now_s
            try:
                # uplinks and deliveries as rows straight from the record's columns, for
                # the SLIs' per-batch paths (transport/rows.py)
                batch = decode_record(value or b"")
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                # the bridge dead-letters malformed input; a record that is not even a
                # batch (another producer on our topic, a bridge of a newer release with
                # a record version this one does not read) is counted and skipped
                self.bad_records += 1
                if self.bad_records == 1 or self.bad_records % 1000 == 0:
                    log.warning("%s[%d] offset %d: skipped a record that is not an event "
                                "batch this release reads (%s); %d skipped so far",
                                self.stream, self.partition, offset,
                                str(exc).partition("\n")[0][:200] or type(exc).__name__,
                                self.bad_records)
                batch = None
            if batch is not None and batch.kinds:
                self.engine.feed_columns(batch)
                self.engine.advance(hold_ms=self.hold_ms)
        return self._emit(offset)

    def _marker(self, key: bytes | None, value: bytes, now_s: float) -> None:
        app, body = marker_app(value)
        if app != self.app_id:
            return  # another application's marker: it decides its own ticks
        if key == TICK_KEY:
            self.tick_wait_until_s = 0.0
            tick = body.get("tick_ms")
            if isinstance(tick, int):
                self.engine.advance(tick, self.hold_ms)
            return
        try:
            events = decode_batch(value)
        except (ValueError, KeyError, TypeError, IndexError):
            self.bad_records += 1
            return
        fresh = []
        for ev in events:
            if isinstance(ev, BridgeOutage) and outage_key(ev) not in self.outages:
                self.outages.add(outage_key(ev))
                self.inject_wait_until_s.pop(outage_key(ev), None)
                if not ev.open:
                    fresh.append(ev)
        if fresh:
            self.engine.feed(group(fresh))
            self.engine.advance(hold_ms=self.hold_ms)  # a close releases what it held

    def _emit(self, offset: int) -> SliceBatch | None:
        engine = self.engine
        deltas = engine.drain_slices()
        if deltas:
            # The merged store lives in every worker's view (from the slices topic);
            # keeping finalised slices here too would grow every snapshot for a month.
            engine.store = SliceStore()
        as_of = self._as_of() if self.has_data else None
        mark = self._usage_mark()
        if not deltas and as_of == self.last_as_of and mark == self.usage_mark:
            return None
        usage = self._usage_reports() if mark != self.usage_mark else ()
        self.last_as_of, self.usage_mark = as_of, mark
        return SliceBatch(self.stream, self.partition, offset, as_of, self._watermark(),
                          self.max_time_ms, engine.late_events, tuple(deltas), usage)

    # ---------------------------------------------------------------------------- usage
    def _as_of(self) -> int:
        if any(s.max_time_ms >= 0 for s in self.engine.slis):
            return self.engine.as_of_minute
        # only request allowances here: minutes before the counters' watermark are final
        return self._watermark() // MINUTE_MS

    def _watermark(self) -> int:
        marks = [c.watermark_ms for c in self.engine.usage.values() if c.max_time_ms >= 0]
        if any(s.max_time_ms >= 0 for s in self.engine.slis) or not marks:
            return self.engine.watermark_ms
        return min(marks)

    def _usage_mark(self) -> tuple[tuple[int, ...], ...]:
        """Per counter, the figures every change of its report moves (the watermark,
        days closed, requests counted in the open day, episodes, rejections)."""
        return tuple(
            (c.watermark_ms, len(c.closed), -1 if c.day is None else int(c.day.stats.sum()),
             len(c.episodes), sum(c.rejected.values()))
            for c in self.engine.usage.values() if c.max_time_ms >= 0 or c.rejected)

    def _usage_reports(self) -> tuple[UsageReportRow, ...]:
        """The usage sections of the months still changing: the open day's and the last
        closed day's (a month whose days are all closed keeps its last report)."""
        out = []
        for name, c in self.engine.usage.items():
            if c.max_time_ms < 0 and not c.rejected:
                continue
            days = [*c.closed[-1:], *([c.day] if c.day is not None else [])]
            labels = sorted({Month.containing(d.start_ms, c.timezone).label for d in days})
            for label in labels or [Month.containing(max(c.max_time_ms, 0), c.timezone).label]:
                out.append(UsageReportRow(name, label,
                                          usage_section(c, Month.parse(label, c.timezone))))
        return tuple(out)

    # ----------------------------------------------------------------------- progress
    @property
    def hold_ms(self) -> int | None:
        """The earliest start of an outage announced open and not yet closed (same start
        and bridge): the watermark may not pass it. A function of the applied outages, so
        a restored checkpoint holds exactly where the original did."""
        closed = {(s, b) for s, e, b in self.outages if e != OUTAGE_OPEN}
        starts = [s for s, e, b in self.outages if e == OUTAGE_OPEN and (s, b) not in closed]
        return min(starts) if starts else None

    @property
    def has_data(self) -> bool:
        return self.max_time_ms >= 0

    @property
    def max_time_ms(self) -> int:
        return max((*(s.max_time_ms for s in self.engine.slis),
                    *(c.max_time_ms for c in self.engine.usage.values())), default=-1)

    def tick_due(self, now_s: float, caught_up: bool) -> Tick | None:
        """The tick to write into this partition now, or ``None``.

        Only a partition that has read everything there is may tick: a partition still
        behind (a backlog, a slow consumer) would otherwise turn its own backlog late.
        A tick is due when the extrapolated watermark would close a minute, or when
        applied records wait for a checkpoint (their acks, and so the committed offset,
        wait for it) and no record is coming to trigger one.
        """
        if not caught_up or now_s < self.tick_wait_until_s:
            return None
        idle_s = now_s - self.last_record_s
        if idle_s < self.timing.idle_s:
            return None
        flush = self.checkpoint_due(now_s)
        if not self.has_data:
            return self._ticking(now_s, Tick(None)) if flush else None
        target = self.max_time_ms + int(idle_s * 1000) - self.lateness_ms
        hold = self.hold_ms
        if hold is not None:
            target = min(target, hold)
        closes = any((target - s.horizon_ms) // MINUTE_MS > s.final_minute
                     for s in self.engine.slis) or any(
            target // MINUTE_MS > c.watermark_ms // MINUTE_MS
            for c in self.engine.usage.values() if c.max_time_ms >= 0)
        return self._ticking(now_s, Tick(target)) if closes or flush else None

    def _ticking(self, now_s: float, tick: Tick) -> Tick:
        self.tick_wait_until_s = now_s + self.timing.marker_timeout_s
        return tick

    def missing_outages(self, known: dict[OutageKey, BridgeOutage],
                        now_s: float) -> list[BridgeOutage]:
        """Known bridge outages this partition has not applied (nor been sent lately)."""
        out = []
        for k, ev in known.items():
            if k in self.outages or self.inject_wait_until_s.get(k, 0.0) > now_s:
                continue
            self.inject_wait_until_s[k] = now_s + self.timing.marker_timeout_s
            out.append(ev)
        return out

    # -------------------------------------------------------------------- checkpoints
    def checkpoint_due(self, now_s: float) -> bool:
        return self.dirty and now_s - self.last_checkpoint_s >= self.timing.checkpoint_interval_s

    def checkpoint(self, now_s: float) -> bytes:
        """Serialised state as of ``offset`` (``slastream/checkpoint/``), a full snapshot;
        marks the partition clean."""
        data = document.encode(self._document())
        self._clean(now_s)
        return data

    def checkpoint_piece(self, now_s: float) -> Piece:
        """The next record of this partition's checkpoint chain (``checkpoint/chain.py``):
        a delta of what changed since the previous one, or a new base; marks the
        partition clean. Every piece must be stored, in order."""
        piece = self.chain.next(self._document())
        self._clean(now_s)
        return piece

    def _document(self) -> document.Document:
        return {
            "partition": {"offset": self.offset, "last_as_of": self.last_as_of,
                          "outages": [list(k) for k in sorted(self.outages)],
                          "bad_records": self.bad_records, "fingerprint": self.fingerprint},
            "engine": engine_state(self.engine),
        }

    def _clean(self, now_s: float) -> None:
        self.dirty = False
        self.last_checkpoint_s = now_s


def partition_usage(settings: Settings, stream: str, partition: int
                    ) -> dict[str, UsageCounter]:
    """The request-allowance counters this partition keeps: those of the contracts whose
    requests it carries. Requests keyed by component (``transport/routes.router``): a
    contract's component reaches one partition. Keyed by client (a contract counts every
    component): every partition counts every contract, each for its own ADIs, disjoint from
    the other partitions'."""
    if stream not in {r.stream for r in EVENT_ROUTES[RequestLog]}:
        return {}
    if requests_by_client(settings):
        return usage_counters(settings)
    hasher = Partitioner()
    mine = tuple(c for c in settings.contracts if c.usage is not None and (
        c.usage.component is None
        or hasher.hash(c.usage.component) % settings.kafka.partitions == partition))
    return usage_counters(replace(settings, contracts=mine)) if mine else {}


def _engine_settings(settings: Settings, slos: tuple[SLO, ...]) -> Settings:
    # contracts are evaluated on the merged slices (the view), never per partition
    return replace(settings, slos=slos, contracts=())
