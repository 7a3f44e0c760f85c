"""The streaming core: messages or canonical events in, slices and ledgers out.

The same object runs offline (``slastream replay``) and inside each worker partition, so
live and replayed results cannot diverge. It is incremental and batch-at-a-time: feed any
split of the input, advance the watermark whenever convenient, and the slices (and so the
ledger) come out the same.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from slastream.checkpoint import document
from slastream.checkpoint.schema import engine_state, load_engine
from slastream.model.events import (
    BridgeOutage,
    Event,
    Exclusion,
)
from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.sli.base import SLI
from slastream.sli.delivery import DeliverySLI
from slastream.sli.rx2 import RX2SLI
from slastream.sli.service import ProbeSLI, ResponseTimeSLI
from slastream.sli.slices import (
    GOOD,
    HIST,
    LAT_COUNT,
    LAT_SUM,
    LATENCY_BOUNDS_MS,
    TOTAL,
    SliceDelta,
    SliceStore,
)
from slastream.slo.ledger import build_ledger
from slastream.sources import fastpath, router
from slastream.sources.capture import BadLine, Message, parse_line

_SLI_CLASSES: dict[str, type[SLI]] = {
    "delivery": DeliverySLI, "rx2": RX2SLI, "probe": ProbeSLI, "response_time": ResponseTimeSLI,
}
_CHUNK = 8192


class Engine:
    """Pure SLI/SLO engine for one stream of input (a capture, or one partition)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.slis: list[SLI] = [_SLI_CLASSES[slo.sli](slo, settings) for slo in settings.slos]
        self.store = SliceStore()
        self.exclusions: list[Exclusion] = []
        self.outages: list[BridgeOutage] = []  # as received, for the worker's bookkeeping
        self.ingest: Counter[tuple[str, str]] = Counter()
        self.rejections: Counter[str] = Counter()
        self.sli_events: Counter[tuple[str, str, str]] = Counter()
        self.bad_lines = 0
        self.first_time_ms: int | None = None
        self.flushed = False
        self._pending_deltas: list[SliceDelta] = []
        self._routes: dict[type, list[SLI]] = {}
        for sli in self.slis:
            for cls in sli.consumes:
                self._routes.setdefault(cls, []).append(sli)

    # ---------------------------------------------------------------------------- input
    def feed(self, messages: Iterable[Message | BadLine]) -> None:
        """Decode raw messages (capture lines or MQTT) and feed their events."""
        out: list[Event] = []
        decode = router.decode
        ingest = self.ingest
        n = 0
        for msg in messages:
            if isinstance(msg, BadLine):
                self.bad_lines += 1
                ingest[("capture", router.REJECTED)] += 1
                self.rejections[f"capture: {msg.reason}"] += 1
                continue
            if self.first_time_ms is None:
                self.first_time_ms = msg.received_ms
            source, outcome, reason = decode(msg.topic, msg.payload, msg.received_ms, out)
            ingest[(source, outcome)] += 1
            if outcome == router.REJECTED:
                self.rejections[f"{source}: {reason.split(':')[0]}"] += 1
            n += 1
            if n >= _CHUNK:
                self.feed_events(out)
                self.advance()
                out = []
                n = 0
        if out:
            self.feed_events(out)
        self.advance()

    def feed_capture(self, lines: Iterable[bytes], fast: bool = True) -> None:
        """Feed raw capture lines (docs/interfaces.md#capture-files): the replay hot path.

        Equivalent to ``feed(parse_line(line) for line in lines)``; lines that are not
        valid are counted as rejected and skipped. ``fast`` decodes the dominant LoRaWAN
        shapes inline (``sources/fastpath.py``); ``fast=False`` keeps the plain loop, the
        reference the fast path is tested against.
        """
        if not fast:
            self._feed_capture_plain(lines)
            return
        for batch in fastpath.batches(lines, _CHUNK):
            if self.first_time_ms is None:
                self.first_time_ms = batch.first_time_ms
            self.ingest.update(batch.ingest)
            self.rejections.update(batch.rejections)
            self.bad_lines += batch.bad_lines
            if batch.events:
                self._feed_by_type(batch.events)
            self.advance()

    def _feed_capture_plain(self, lines: Iterable[bytes]) -> None:
        self.feed(parse_line(line, i) for i, line in enumerate(lines, 1) if line.strip())

    def feed_events(self, events: Sequence[Event]) -> None:
        """Feed canonical events (any order within the configured lateness)."""
        by_type: dict[type, list[Event]] = {}
        for ev in events:
            lst = by_type.get(type(ev))
            if lst is None:
                lst = by_type[type(ev)] = []
            lst.append(ev)
        self._feed_by_type(by_type)

    def _feed_by_type(self, by_type: dict[type, list[Event]]) -> None:
        """Events grouped by type (input order within each type, types in order of first
        appearance): each SLI gets the lists of the types it consumes."""
        excl = by_type.pop(Exclusion, None)
        if excl:
            self.exclusions.extend(e for e in excl if isinstance(e, Exclusion))
        outages = by_type.get(BridgeOutage)
        if outages:
            self.outages.extend(e for e in outages if isinstance(e, BridgeOutage))
        # outages first: they decide about uplinks that later events may finalise
        for cls in sorted(by_type, key=lambda c: c is not BridgeOutage):
            for sli in self._routes.get(cls, ()):
                sli.add(by_type[cls])

    # ------------------------------------------------------------------------ progress
    def advance(self, watermark_ms: int | None = None) -> None:
        """Finalise what the watermark proves (default: each SLI's max time − lateness)."""
        for sli in self.slis:
            self._take(sli.advance(watermark_ms))

    def flush(self) -> None:
        """End of input: everything in flight is final."""
        for sli in self.slis:
            self._take(sli.flush())
        self.flushed = True

    def _take(self, deltas: list[SliceDelta]) -> None:
        if not deltas:
            return
        self.store.add_deltas(deltas)
        self._pending_deltas.extend(deltas)
        for slo, scope, _minute, values in deltas:
            self.sli_events[(slo, scope, "good")] += int(values[GOOD])
            self.sli_events[(slo, scope, "bad")] += int(values[TOTAL] - values[GOOD])

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

    def inputs(self) -> dict[str, Any]:
        messages = sum(self.ingest.values())
        return {
            "messages": messages,
            "rejected": sum(n for (_, o), n in self.ingest.items() if o == router.REJECTED),
            "late": self.late_events,
            "ignored": sum(n for (_, o), n in self.ingest.items() if o == router.IGNORED),
            "rejected_reasons": dict(self.rejections.most_common(20)),
            "lorawan": self._lorawan_counters(),
        }

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

    def ledger(self, month: str | None = None) -> dict[str, Any]:
        """The ledger of ``month`` (``YYYY-MM``; default: month of the first message)."""
        m = Month.parse(month, self.settings.timezone) if month else self.default_month()
        return build_ledger(self.settings, self.store, self.exclusions, m, self.as_of_minute,
                            self.inputs())

    # ---------------------------------------------------- MetricsSource (export/metrics.py)
    def ingest_totals(self) -> dict[tuple[str, str], int]:
        return dict(self.ingest)

    def sli_event_totals(self) -> dict[tuple[str, str, str], int]:
        return dict(self.sli_events)

    def breaches(self) -> dict[tuple[str, str], bool]:
        led = self.ledger(self._current_month())
        return {(e["name"], e["scope"]): any(ep["open"] and not ep["excused"]
                                             for ep in e["episodes"]) for e in led["slos"]}

    def _current_month(self) -> str:
        wm = self.watermark_ms
        return Month.containing(max(wm, 0), self.settings.timezone).label

    def histograms(self) -> dict[tuple[str, str], tuple[list[float], list[int], float]]:
        out: dict[tuple[str, str], tuple[list[float], list[int], float]] = {}
        sums: dict[tuple[str, str], list[float]] = {}
        for (slo, scope, _m), vec in self.store.items():
            acc = sums.setdefault((slo, scope), [0.0] * (len(vec) - LAT_SUM))
            for i in range(LAT_SUM, len(vec)):
                acc[i - LAT_SUM] += float(vec[i])
        for key, acc in sums.items():
            if acc[LAT_COUNT - LAT_SUM] == 0:
                continue
            buckets = acc[HIST - LAT_SUM:]
            cumulative, running = [], 0.0
            for b in buckets:
                running += b
                cumulative.append(int(running))
            out[key] = (list(LATENCY_BOUNDS_MS), cumulative, acc[0])
        return out

    def pipeline(self) -> dict[str, float]:
        marks = [s.max_time_ms - s.watermark_ms for s in self.slis if s.max_time_ms >= 0]
        return {
            "watermark_delay_seconds": max(marks) / 1000 if marks else math.nan,
            "late_events_total": float(self.late_events),
            "rejected_total": float(self.inputs()["rejected"]),
            "tracked_uplinks": float(sum(s.tracked for s in self.slis
                                         if isinstance(s, DeliverySLI))),
        }

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
