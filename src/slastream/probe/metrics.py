"""The prober's own Prometheus metrics, in a registry it is given (never the global one).

``slastream_probe_runs_total{probe,component,location}``
``slastream_probe_failures_total{probe,component,location,reason}`` (``reason``: the
    small fixed set of ``slastream.probe.result.Cause``, never free text)
``slastream_probe_latency_seconds{probe,component,location}`` (last run)
``slastream_probe_last_success_timestamp_seconds{probe,component,location}``
``slastream_probe_sink_sent_total``, ``slastream_probe_sink_dropped_total``,
``slastream_probe_sink_buffered``, ``slastream_probe_sink_connected``
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client import Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from slastream.probe.result import ProbeReport
from slastream.probe.sinks import Sink

_LABELS = ("probe", "component", "location")


class _SinkCollector(Collector):
    def __init__(self, sink: Sink, prefix: str) -> None:
        self.sink = sink
        self.prefix = prefix

    def collect(self) -> Iterable[Metric]:
        p, s = self.prefix, self.sink
        yield CounterMetricFamily(f"{p}_sink_sent", "Messages handed to the sink and "
                                  "acknowledged (MQTT) or written (capture)", value=s.sent)
        yield CounterMetricFamily(f"{p}_sink_dropped", "Messages dropped because the buffer "
                                  "was full while the broker was away", value=s.dropped)
        yield GaugeMetricFamily(f"{p}_sink_buffered", "Messages waiting for the broker",
                                value=s.buffered())
        yield GaugeMetricFamily(f"{p}_sink_connected", "1 while connected to the broker",
                                value=1.0 if s.connected else 0.0)


def register_sink(registry: CollectorRegistry, sink: Sink, prefix: str) -> None:
    """Expose a sink's counters as ``{prefix}_sink_*`` in ``registry``."""
    registry.register(_SinkCollector(sink, prefix))


class ProberMetrics:
    """Counts runs and failures per probe; ``observe`` is called with every report."""

    def __init__(self, registry: CollectorRegistry, sink: Sink) -> None:
        self.runs = Counter("slastream_probe_runs", "Probe runs", _LABELS, registry=registry)
        self.failures = Counter("slastream_probe_failures", "Failed probe runs, by reason",
                                (*_LABELS, "reason"), registry=registry)
        self.latency = Gauge("slastream_probe_latency_seconds",
                             "Latency of the last run that got an answer", _LABELS,
                             registry=registry)
        self.last_success = Gauge("slastream_probe_last_success_timestamp_seconds",
                                  "Time of the last successful run (Unix seconds)", _LABELS,
                                  registry=registry)
        register_sink(registry, sink, "slastream_probe")

    def observe(self, report: ProbeReport) -> None:
        labels = (report.probe, report.component, report.location)
        self.runs.labels(*labels).inc()
        outcome = report.outcome
        if outcome.latency_ms is not None and math.isfinite(outcome.latency_ms):
            self.latency.labels(*labels).set(outcome.latency_ms / 1000)
        if outcome.ok:
            self.last_success.labels(*labels).set(report.time_ms / 1000)
        else:
            self.failures.labels(*labels, outcome.cause or "error").inc()
