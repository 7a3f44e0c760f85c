"""The streaming core: batches of canonical events in, slices and ledgers out.

The same object runs offline (``slastream replay``) and inside each worker partition, so
live and replayed results cannot diverge. It is incremental and batch-at-a-time: feed any
split of the input (``sources/decoder.py`` makes the batches), advance the watermark
whenever convenient, and the slices (and so the ledger) come out the same.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from slastream.checkpoint import document
from slastream.checkpoint.schema import engine_state, load_engine
from slastream.model.events import BridgeOutage, Event, Exclusion, RequestLog, TicketEvent
from slastream.model.ledger import Inputs, Ledger
from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.sli.base import SLI
from slastream.sli.delivery import DeliverySLI
from slastream.sli.gateways import GatewaySLI
from slastream.sli.rx2 import RX2SLI
from slastream.sli.service import ProbeSLI, ResponseTimeSLI
from slastream.sli.slices import SliceDelta, SliceStore
from slastream.slo import figures
from slastream.slo.figures import Histogram, SliceFigures
from slastream.slo.ledger import build_ledger
from slastream.sources import columns, router
from slastream.sources.columns import ColumnBatch
from slastream.sources.decoder import Batch
from slastream.usage.bands import read_mapping
from slastream.usage.counter import UsageCounter

_SLI_CLASSES: dict[str, type[SLI]] = {
    "delivery": DeliverySLI, "rx2": RX2SLI, "probe": ProbeSLI, "response_time": ResponseTimeSLI,
}


class Engine:
    """Pure SLI/SLO engine for one stream of input (a capture, or one partition)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.slis: list[SLI] = [_SLI_CLASSES[slo.sli](slo, settings) for slo in settings.slos]
        if settings.tenants.gateway_diagnostics:  # after their delivery SLIs: see advance
            for sli in list(self.slis):
                if isinstance(sli, DeliverySLI):
                    sli.diagnostics = GatewaySLI(sli.slo, settings)
                    self.slis.append(sli.diagnostics)
        self.store = SliceStore()
        self.exclusions: list[Exclusion] = []
        self.tickets: list[TicketEvent] = []  # support desks' events, for the ledger
        self.outages: list[BridgeOutage] = []  # as received, for the worker's bookkeeping
        self.usage = usage_counters(settings)  # contract name → its request allowance
        self.ingest: Counter[tuple[str, str]] = Counter()
        self.rejections: Counter[str] = Counter()
        self.ignored: Counter[tuple[str, str]] = Counter()  # (source, reason class)
        self.figures = SliceFigures()  # what /metrics shows besides the ledger
        self.sli_events: Counter[tuple[str, str, str]] = self.figures.sli_events
        self.bad_lines = 0
        self.first_time_ms: int | None = None
        self.flushed = False
        self._pending_deltas: list[SliceDelta] = []
        self._routes: dict[type, list[SLI]] = {}
        for sli in self.slis:
            for cls in sli.consumes:
                self._routes.setdefault(cls, []).append(sli)

    # ---------------------------------------------------------------------------- input
    def feed(self, batch: Batch) -> None:
        """Add a batch's input counters and hand its events to the SLIs.

        Events may come in any order within the configured lateness; each SLI gets the
        lists of the types it consumes. Nothing is final until the watermark advances.
        """
        self._inputs(batch)
        by_type = batch.events
        self._special(by_type)
        # outages first: they decide about uplinks that later events may finalise
        for cls in sorted(by_type, key=lambda c: c is not BridgeOutage):
            self._route(cls, by_type[cls])

    def feed_columns(self, batch: ColumnBatch) -> None:
        """``feed`` for a batch whose uplinks and deliveries are columns
        (``sources/columns.py``): an SLI with a per-batch path takes the rows whole, any
        other consumer the same tuples ``feed`` would hand it."""
        self._inputs(batch)
        self._special(batch.events)
        for cls in sorted(batch.kinds, key=lambda c: c is not BridgeOutage):
            block = batch.columns.get(cls)
            if block is None:
                self._route(cls, batch.events[cls])
                continue
            events: list[Event] | None = None
            for sli in self._routes.get(cls, ()):
                if sli.add_columns(cls, block, batch.names):
                    continue
                if events is None:
                    events = columns.materialise(cls, block, batch.names)
                sli.add(events)

    def _inputs(self, batch: Batch | ColumnBatch) -> None:
        if self.first_time_ms is None:
            self.first_time_ms = batch.first_time_ms
        self.ingest.update(batch.ingest)
        self.rejections.update(batch.rejections)
        self.ignored.update(batch.ignored)
        self.bad_lines += batch.bad_lines

    def _special(self, by_type: dict[type, list[Event]]) -> None:
        """Exclusions, tickets, request logs and outages, which the engine keeps itself."""
        excl = by_type.get(Exclusion)
        if excl:
            self.exclusions.extend(e for e in excl if isinstance(e, Exclusion))
        tickets = by_type.get(TicketEvent)
        if tickets:
            self.tickets.extend(e for e in tickets if isinstance(e, TicketEvent))
        requests = by_type.get(RequestLog)
        if requests and self.usage:
            logs = [e for e in requests if isinstance(e, RequestLog)]
            for counter in self.usage.values():
                counter.feed(logs)
        outages = by_type.get(BridgeOutage)
        if outages:
            self.outages.extend(e for e in outages if isinstance(e, BridgeOutage))

    def _route(self, cls: type, events: list[Event]) -> None:
        for sli in self._routes.get(cls, ()):
            sli.add(events)

    # ------------------------------------------------------------------------ progress
    def advance(self, watermark_ms: int | None = None, hold_ms: int | None = None) -> None:
        """Finalise what the watermark proves (default: each SLI's max time − lateness);
        ``hold_ms`` caps every SLI's watermark (an open bridge outage, see
        ``stream/partition.py``)."""
        for sli in self.slis:
            mark = watermark_ms
            if hold_ms is not None:
                mark = min(sli.max_time_ms - sli.lateness_ms if mark is None else mark,
                           hold_ms)
            self._take(sli.advance(mark))
        for counter in self.usage.values():
            counter.advance(watermark_ms)

    def flush(self) -> None:
        """End of input: everything in flight is final."""
        for sli in self.slis:
            self._take(sli.flush())
        for counter in self.usage.values():
            counter.flush()
        self.flushed = True

    def _take(self, deltas: list[SliceDelta]) -> None:
        if not deltas:
            return
        self.store.add_deltas(deltas)
        self._pending_deltas.extend(deltas)
        for slo, scope, _minute, values in deltas:
            self.figures.add(slo, scope, values)

    def drain_slices(self) -> list[SliceDelta]:
        """Slice deltas finalised since the last call (additive across partitions)."""
        out, self._pending_deltas = self._pending_deltas, []
        return out

    @property
    def watermark_ms(self) -> int:
        marks = [s.watermark_ms for s in self.slis if s.max_time_ms >= 0]
        return min(marks) if marks else -1

    @property
    def as_of_minute(self) -> int:
        """Minutes before this one are final in every SLI."""
        if self.flushed:
            return 2**40
        finals = [s.final_minute for s in self.slis if s.max_time_ms >= 0]
        return min(finals) if finals else 0

    @property
    def late_events(self) -> int:
        return sum(s.late_events for s in self.slis)

    # -------------------------------------------------------------------------- output
    def default_month(self) -> Month:
        tz = self.settings.timezone
        if self.first_time_ms is not None:
            return Month.containing(self.first_time_ms, tz)
        marks = [s.max_time_ms for s in self.slis if s.max_time_ms >= 0]
        return Month.containing(max(marks) if marks else 0, tz)

    def inputs(self) -> Inputs:
        return Inputs(
            messages=sum(self.ingest.values()),
            rejected=sum(n for (_, o), n in self.ingest.items() if o == router.REJECTED),
            late=self.late_events,
            ignored=sum(n for (_, o), n in self.ingest.items() if o == router.IGNORED),
            rejected_reasons=tuple(self.rejections.most_common(20)),
            lorawan=tuple(self._lorawan_counters().items()),
            # reason classes are a bounded set: all of them, most frequent first
            ignored_reasons=tuple((f"{source}: {reason}", n)
                                  for (source, reason), n in self.ignored.most_common()),
        )

    def _lorawan_counters(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for sli in self.slis:
            if isinstance(sli, DeliverySLI):
                out["foreign_frames"] += sli.foreign
                out["unmatched_deliveries"] += sli.unmatched_deliveries
                out["bridge_outage_uplinks"] += sli.outage_excluded
            elif isinstance(sli, RX2SLI):
                out["downlinks_not_rx2_attempts"] += sli.excluded
                for reason, n in sli.reasons.items():
                    out[f"rx2 {reason}"] += n
        return dict(out)

    def ledger(self, month: str | None = None) -> Ledger:
        """The ledger of ``month`` (``YYYY-MM``; default: month of the first message)."""
        m = Month.parse(month, self.settings.timezone) if month else self.default_month()
        return build_ledger(self.settings, self.store, self.exclusions, m, self.as_of_minute,
                            self.inputs(), tickets=self.tickets, usage=self.usage)

    # ---------------------------------------------------- MetricsSource (export/metrics.py)
    def ingest_totals(self) -> dict[tuple[str, str], int]:
        return dict(self.ingest)

    def ignored_totals(self) -> dict[tuple[str, str], int]:
        return dict(self.ignored)

    def sli_event_totals(self) -> dict[tuple[str, str, str], int]:
        return self.figures.sli_event_totals()

    def breaches(self) -> dict[tuple[str, str], bool]:
        """As of the watermark, in the watermark's month (once flushed, the month of the
        newest event: the watermark is then past any date)."""
        now = (max((s.max_time_ms for s in self.slis), default=0) if self.flushed
               else self.watermark_ms)
        month = Month.containing(max(now, 0), self.settings.timezone)
        return figures.breaches(self.ledger(month.label))

    def histograms(self) -> dict[tuple[str, str], Histogram]:
        return self.figures.histograms()

    def pipeline(self) -> dict[str, float]:
        tracked = sum(s.tracked for s in self.slis if isinstance(s, DeliverySLI))
        return figures.pipeline(
            ((s.watermark_ms, s.max_time_ms) for s in self.slis), self.late_events,
            {"rejected_total": float(self.inputs().rejected), "tracked_uplinks": float(tracked)})

    # --------------------------------------------------------------------- checkpoints
    def snapshot(self) -> bytes:
        """In-flight state and counters as a checkpoint document (``slastream/checkpoint/``),
        for checkpointing next to an input offset."""
        return document.encode({"engine": engine_state(self)})

    @classmethod
    def restore(cls, settings: Settings, data: bytes) -> Engine:
        """An engine built from ``settings`` that continues where ``snapshot()`` stopped.

        Raises ``ValueError`` on an unknown version or a malformed document.
        """
        engine = cls(settings)
        load_engine(engine, document.decode(data))
        return engine


def usage_counters(settings: Settings) -> dict[str, UsageCounter]:
    """One empty request-allowance counter per contract with usage terms, its mapping file
    loaded (an unreadable file is counted as ``mapping_unreadable``, not raised: the config
    check reports it)."""
    out: dict[str, UsageCounter] = {}
    for contract in settings.contracts:
        terms = contract.usage
        if terms is None:
            continue
        counter = UsageCounter(terms, settings.timezone, settings.lateness_s)
        if terms.mapping_file:
            try:
                counter.load_mapping(list(read_mapping(Path(terms.mapping_file), terms)))
            except (OSError, UnicodeDecodeError):
                counter.rejected["mapping_unreadable"] += 1
        out[contract.name] = counter
    return out
