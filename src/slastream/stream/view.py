"""The whole picture on every worker: slices of all partitions merged, served as metrics.

Each worker reads the slices topic in full (not through its consumer group), so
``/api/ledger`` and ``/metrics`` on any worker show every partition, whichever it owns.
Batches are applied *first write wins* per ``(stream, partition)``: a partition emits its
batches with strictly increasing input offsets, and a replay after a crash re-emits
byte-identical batches at offsets already seen, which are dropped here. So nothing is
counted twice however often a partition is replayed or handed over.

The view implements ``export.metrics.MetricsSource``; like the engine, it is read and
mutated on the event loop only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slastream.model.events import BridgeOutage, Event, Exclusion, TicketEvent
from slastream.model.ledger import Inputs, Ledger, UsageSection
from slastream.model.spec import Settings
from slastream.model.time import MINUTE_MS, Month, now_ms
from slastream.sli.slices import SliceStore
from slastream.slo import figures
from slastream.slo.figures import Histogram, SliceFigures
from slastream.slo.ledger import build_ledger
from slastream.slo.sections import empty_usage_section, merge_usage
from slastream.stream.partition import stream_of
from slastream.stream.records import SliceBatch

PartitionId = tuple[str, int]
IngestTotals = Callable[[], dict[tuple[str, str], int]]
LocalFigures = Callable[[], dict[str, float]]


class LiveView:
    """Merged slices, progress per partition and the control topic's exclusions."""

    def __init__(self, settings: Settings, ingest: IngestTotals | None = None,
                 local: LocalFigures | None = None,
                 ignored: IngestTotals | None = None) -> None:
        self.settings = settings
        self.store = SliceStore()
        self.ingest = ingest
        self.ignored = ignored  # (source, reason class) -> messages, from a decoding bridge
        self.local = local  # figures of this worker's own partitions (lag, tracked uplinks)
        self.applied: dict[PartitionId, int] = {}
        self.as_of: dict[PartitionId, int] = {}
        self.watermarks: dict[PartitionId, int] = {}
        self.max_times: dict[PartitionId, int] = {}
        self.late: dict[PartitionId, int] = {}
        self.exclusions: dict[tuple[Any, ...], Exclusion] = {}
        self.tickets: dict[TicketEvent, None] = {}  # in arrival order, each once
        self.outages: dict[tuple[int, int, str], BridgeOutage] = {}
        # (contract, month) → the latest usage section of each partition counting it
        self.usage: dict[tuple[str, str], dict[PartitionId, UsageSection]] = {}
        self.figures = SliceFigures()  # what /metrics shows besides the ledger
        self.duplicates = 0
        self.version = 0
        self.ready = False  # set once the slices topic has been read to its end
        self._cache: dict[str, tuple[int, Ledger]] = {}

    # -------------------------------------------------------------------------- input
    def apply(self, batch: SliceBatch) -> bool:
        """Apply a batch unless this partition already emitted one at that offset or later."""
        pid = (batch.stream, batch.partition)
        if batch.offset <= self.applied.get(pid, -1):
            self.duplicates += 1
            return False
        self.applied[pid] = batch.offset
        if batch.as_of_minute is not None:
            self.as_of[pid] = batch.as_of_minute
        self.watermarks[pid] = batch.watermark_ms
        self.max_times[pid] = batch.max_time_ms
        self.late[pid] = batch.late
        for slo, scope, minute, values in batch.slices:
            self.store.add(slo, scope, minute, values)
            self.figures.add(slo, scope, values)
        for report in batch.usage:
            self.usage.setdefault((report.contract, report.month), {})[pid] = report.section
        self.version += 1
        return True

    def add_control(self, events: list[Event]) -> bool:
        """Exclusions, bridge outages and tickets from the control topic; True if any was
        new."""
        changed = False
        for ev in events:
            if isinstance(ev, Exclusion):
                # every version of an exclusion is kept; the ledger picks the latest
                if tuple(ev) not in self.exclusions:
                    self.exclusions[tuple(ev)] = ev
                    changed = True
            elif isinstance(ev, TicketEvent):
                if ev not in self.tickets:  # a redelivered event is the same event
                    self.tickets[ev] = None
                    changed = True
            elif isinstance(ev, BridgeOutage):
                key = (ev.start_ms, ev.end_ms, ev.bridge)
                if key not in self.outages:
                    self.outages[key] = ev
                    changed = True
        if changed:
            self.version += 1
        return changed

    # ----------------------------------------------------------------------- progress
    @property
    def as_of_minute(self) -> int:
        """Minutes before this one are final in every partition that has data."""
        return min(self.as_of.values()) if self.as_of else 0

    def stream_as_of(self, stream: str) -> int:
        """Minutes before this one are final in every partition of ``stream``.

        An SLO's slices come from one stream only, so a stream that lags (a backlog, a
        replayed history) does not hold back the others' SLOs. A stream without any data
        yet follows the others: its minutes so far are minutes without data.
        """
        marks = [m for (s, _), m in self.as_of.items() if s == stream]
        return min(marks) if marks else self.as_of_minute

    def current_month(self) -> Month:
        ms = self.as_of_minute * MINUTE_MS if self.as_of else now_ms()
        return Month.containing(ms, self.settings.timezone)

    def inputs(self) -> Inputs:
        totals = self.ingest() if self.ingest else {}
        return Inputs(
            messages=sum(totals.values()),
            rejected=sum(n for (_, o), n in totals.items() if o == "rejected"),
            late=sum(self.late.values()),
            ignored=sum(n for (_, o), n in totals.items() if o == "ignored"),
            partitions=len(self.as_of),
            ignored_reasons=None if self.ignored is None else tuple(
                (f"{source}: {reason}", n) for (source, reason), n in sorted(
                    self.ignored().items(), key=lambda item: -item[1])),
        )

    # ------------------------------------------------------------- MetricsSource
    def ledger(self, month: str | None = None) -> Ledger:
        """The ledger of ``month`` (default: the month of the merged watermark).

        Each SLO is evaluated as of its own stream's progress (``stream_as_of``), the
        period as of the oldest of them. Raises ``ValueError`` on a malformed month.
        Cached until the view changes.
        """
        m = (Month.parse(month, self.settings.timezone) if month
             else self.current_month())
        cached = self._cache.get(m.label)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        marks = {slo.name: self.stream_as_of(stream_of(slo)) for slo in self.settings.slos}
        oldest = min(marks.values(), default=self.as_of_minute)
        led = build_ledger(self.settings, self.store, self.exclusions.values(), m, oldest,
                           self.inputs(), lambda slo: marks[slo.name], tickets=self.tickets)
        led = self._with_usage(led, m)
        if len(self._cache) > 12:
            self._cache.clear()
        self._cache[m.label] = (self.version, led)
        return led

    def _with_usage(self, led: Ledger, month: Month) -> Ledger:
        """The contracts' usage sections from their partitions' reports
        (docs/semantics.md#usage)."""
        terms = {c.name: c.usage for c in self.settings.contracts if c.usage is not None}
        if not terms:
            return led
        contracts = []
        for entry in led.contracts:
            t = terms.get(entry.name)
            if t is not None:
                parts = self.usage.get((entry.name, month.label), {})
                section = (merge_usage(t, [parts[p] for p in sorted(parts)]) if parts
                           else empty_usage_section(t, self.settings.timezone, month))
                entry = replace(entry, usage=section)
            contracts.append(entry)
        return replace(led, contracts=tuple(contracts))

    def breaches(self) -> dict[tuple[str, str], bool]:
        """(slo, scope) → in an outage episode that reaches the last final minute of its
        SLO's stream (each SLO is evaluated as of its stream)."""
        return figures.breaches(self.ledger())

    def ingest_totals(self) -> dict[tuple[str, str], int]:
        return dict(self.ingest()) if self.ingest else {}

    def ignored_totals(self) -> dict[tuple[str, str], int]:
        """Ignored messages by (source, reason class), when the process's bridge counts them."""
        return dict(self.ignored()) if self.ignored else {}

    def sli_event_totals(self) -> dict[tuple[str, str, str], int]:
        return self.figures.sli_event_totals()

    def histograms(self) -> dict[tuple[str, str], Histogram]:
        return self.figures.histograms()

    def pipeline(self) -> dict[str, float]:
        extra = {"duplicate_batches_dropped": float(self.duplicates),
                 **(self.local() if self.local else {})}
        return figures.pipeline(
            ((w, self.max_times.get(pid, -1)) for pid, w in self.watermarks.items()),
            sum(self.late.values()), extra)
