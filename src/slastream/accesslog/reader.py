"""Access-log lines → ``slastream/request/{component}`` batches, over MQTT or to a capture.

Requests are published as JSON arrays of ``{"time", "duration_ms", "status", "client"}``
(and ``"bytes"`` where the log gives the response size),
at most ``batch_max`` per message and at least every ``flush_s`` while lines come in. Lines
that do not parse are counted per reason (``ReaderStats.rejected``) and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from slastream.accesslog.follow import Lines, follow_file, read_stream, stdin
from slastream.accesslog.formats import PRESETS, LogFormat, Rejection, log_format, parse_line
from slastream.errors import SlastreamError
from slastream.probe.scheduler import SystemClock
from slastream.probe.sinks import CaptureSink, MqttSink, Sink

REQUEST_TOPIC = "slastream/request/{component}"
DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
CLOSE_GRACE_S = 5.0


@dataclass
class ReaderStats:
    lines: int = 0
    requests: int = 0
    batches: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    dropped: int = 0  # messages the sink dropped (its buffer was full, the broker away)

    def summary(self) -> str:
        why = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.rejected.items()))
        return (f"{self.lines} lines: {self.requests} requests in {self.batches} messages, "
                f"{sum(self.rejected.values())} rejected" + (f" ({why})" if why else "")
                + (f", {self.dropped} messages dropped" if self.dropped else ""))


async def publish_lines(lines: Lines, component: str, fmt: LogFormat, sink: Sink,
                        stats: ReaderStats, batch_max: int = 500, flush_s: float = 1.0) -> None:
    """Parse lines from ``lines`` until its ``None`` and send batches to ``sink``."""
    topic = REQUEST_TOPIC.format(component=component)
    batch: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + flush_s

    def flush() -> None:
        nonlocal batch
        if batch:
            sink.send(topic, batch)
            stats.batches += 1
            batch = []

    while True:
        try:
            line = await asyncio.wait_for(lines.get(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            flush()
            deadline = loop.time() + flush_s
            continue
        if line is None:
            break
        stats.lines += 1
        parsed = parse_line(line, fmt)
        if isinstance(parsed, Rejection):
            stats.rejected[parsed.reason] += 1
            continue
        stats.requests += 1
        batch.append(parsed.payload())
        if len(batch) >= batch_max:
            flush()
    flush()


async def run_reader(source: str, component: str, fmt: LogFormat, sink: Sink,
                     stop: asyncio.Event, *, from_start: bool = False, follow: bool = True,
                     batch_max: int = 500, flush_s: float = 1.0) -> ReaderStats:
    """Read ``source`` (a path, or ``-`` for stdin) until its end or ``stop``; the sink
    delivers what it holds before this returns (within a grace period)."""
    stats = ReaderStats()
    lines: Lines = asyncio.Queue(maxsize=10_000)
    sink_task = asyncio.create_task(sink.run())
    if source == "-":
        producer = asyncio.create_task(read_stream(stdin(), lines))
    else:
        producer = asyncio.create_task(follow_file(source, lines, stop, from_start=from_start,
                                                   follow=follow))
    stopper = asyncio.create_task(stop.wait())
    consumer = asyncio.create_task(publish_lines(lines, component, fmt, sink, stats,
                                                 batch_max, flush_s))
    try:
        await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not consumer.done():  # stdin cannot be interrupted: end the batch here
            await lines.put(None)
            await consumer
        if producer.done():
            await producer  # re-raises a failure to open the log
        else:
            await _cancel(producer)
    finally:
        stopper.cancel()
        sink.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sink_task, CLOSE_GRACE_S)
        stats.dropped = sink.dropped + sink.buffered()  # not delivered within the grace
    return stats


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def reader_format(fmt: str, fields: dict[str, str] | None = None) -> LogFormat:
    """The log format of preset ``fmt`` (``combined``, ``json``, ``nginx-json``,
    ``envoy-json``) with ``fields`` renaming JSON fields (``time_field``,
    ``duration_field``, ``duration_unit``, ``status_field``, ``client_field``,
    ``bytes_field``).
    Raises ``SlastreamError`` with a one-line reason."""
    if fmt not in PRESETS:
        raise SlastreamError(f"unknown log format {fmt!r}; known: {', '.join(PRESETS)}")
    try:
        chosen = log_format(fmt, **(fields or {}))
    except TypeError as exc:
        raise SlastreamError(f"bad log format fields: {exc}") from None
    if chosen.duration_unit not in ("ms", "s"):
        raise SlastreamError("duration_unit must be ms or s")
    return chosen


async def command(source: str, component: str, fmt: LogFormat, stop: asyncio.Event, *,
                  mqtt: str | None = None, capture: str | None = None,
                  from_start: bool = False, follow: bool = True) -> int:
    """``slastream accesslog``: ``source`` (a log file or ``-``) → requests of
    ``component`` on MQTT (or a capture) until the end of the input or ``stop``."""
    if not component or any(c in component for c in "/+#"):
        raise SlastreamError(
            f"component must be a topic level without /, + or #, got {component!r}")
    sink: Sink = (CaptureSink(capture, SystemClock().now_ms) if capture
                  else MqttSink(mqtt or DEFAULT_MQTT, "slastream-accesslog"))
    stats = await run_reader(source, component, fmt, sink, stop, from_start=from_start,
                             follow=follow)
    print(stats.summary(), file=sys.stderr)
    return 0
