"""Raw input to engine batches: canonical events grouped by type, plus the input counters.

The engine takes one kind of input, a :class:`Batch` (``Engine.feed``). This module makes
them from MQTT messages or capture lines (decoded by ``router.decode``, or for capture lines
by default by the inline decoder ``fastpath.batches``), and from canonical events that are
already decoded (a worker partition's Kafka records). Batches close after ``chunk``
decoded messages, so a caller that advances the watermark after each batch advances it at
the same points whichever path decoded the input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from slastream.model.events import Event
from slastream.sources import fastpath, router
from slastream.sources.capture import BadLine, Message, parse_line
from slastream.sources.fastpath import Batch

__all__ = ["CHUNK", "Batch", "capture_batches", "group", "message_batches"]

CHUNK = 8192


def group(events: Iterable[Event]) -> Batch:
    """Already decoded events as a batch without input counters.

    Grouped by type, each list in input order, the types in order of first appearance.
    """
    by_type: dict[type, list[Event]] = {}
    for ev in events:
        same = by_type.get(type(ev))
        if same is None:
            same = by_type[type(ev)] = []
        same.append(ev)
    return Batch(by_type, 0, Counter(), Counter(), 0, None, Counter())


def message_batches(messages: Iterable[Message | BadLine], chunk: int | None = None,
                    rt: router.Router = router.DEFAULT) -> Iterator[Batch]:
    """Decode messages (MQTT, or parsed capture lines) ``chunk`` (default :data:`CHUNK`)
    at a time with ``rt``; the last batch may be short or empty. A bad line or a message
    no decoder accepts is counted, and so is a message ignored, by its reason's class."""
    chunk = chunk or CHUNK
    out: list[Event] = []
    ingest: Counter[tuple[str, str]] = Counter()
    rejections: Counter[str] = Counter()
    ignored: Counter[tuple[str, str]] = Counter()
    n = bad = 0
    first: int | None = None
    decode = rt.decode
    for msg in messages:
        if isinstance(msg, BadLine):
            bad += 1
            ingest[("capture", router.REJECTED)] += 1
            rejections[router.rejection_class("capture", msg.reason)] += 1
            continue
        if first is None:
            first = msg.received_ms
        source, outcome, reason = decode(msg.topic, msg.payload, msg.received_ms, out)
        ingest[(source, outcome)] += 1
        if outcome == router.REJECTED:
            rejections[router.rejection_class(source, reason)] += 1
        elif outcome == router.IGNORED:
            ignored[(source, router.ignored_class(reason))] += 1
        n += 1
        if n >= chunk:
            yield group(out)._replace(messages=n, ingest=ingest, rejections=rejections,
                                      bad_lines=bad, first_time_ms=first, ignored=ignored)
            out, ingest, rejections, ignored = [], Counter(), Counter(), Counter()
            n = bad = 0
            first = None
    yield group(out)._replace(messages=n, ingest=ingest, rejections=rejections,
                              bad_lines=bad, first_time_ms=first, ignored=ignored)


def capture_batches(lines: Iterable[bytes], fast: bool = True, chunk: int | None = None,
                    rt: router.Router = router.DEFAULT) -> Iterator[Batch]:
    """Decode capture lines; blank lines are skipped, invalid ones counted as rejected.

    ``fast`` decodes the dominant LoRaWAN shapes inline (``fastpath.batches``);
    ``fast=False`` parses every line with ``parse_line`` and decodes it with the router,
    the reference the fast path is tested against. Both give the same batches.
    """
    chunk = chunk or CHUNK
    if fast:
        return fastpath.batches(lines, chunk, rt)
    return message_batches(
        (parse_line(line, i, rt.max_line_bytes) for i, line in enumerate(lines, 1)
         if line.strip()), chunk, rt)
