"""The bridge's MQTT connection problems on ``/metrics`` (``slastream run``, where the bridge
and the worker share a process): ``slastream_mqtt_connection_errors_total{reason}``.

``reason`` is the MQTT 5 Reason Code's name (docs/interfaces.md#prometheus-metrics): ``malformed
packet`` and ``packet too large`` when the bridge closed the connection over a packet the
broker sent, ``session taken over`` when the broker closed it because another client
connected with the bridge's client id. A bounded set: the names of the specification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

# Keys of the pipeline figures (``MetricsSource.pipeline()``) about the broker links and the
# bridge's queues: key → (metric name, type, help); part of ``metrics.PIPELINE_METRICS``.
LINK_METRICS: dict[str, tuple[str, str, str]] = {
    "kafka_connected": (
        "slastream_kafka_connected", "gauge",
        "1 while the worker's Kafka cluster answers, 0 during an outage."),
    "bridge_mqtt_connected": (
        "slastream_bridge_mqtt_connected", "gauge",
        "1 while the bridge is subscribed to its MQTT broker, 0 while it reconnects."),
    "bridge_kafka_connected": (
        "slastream_bridge_kafka_connected", "gauge",
        "1 while Kafka acknowledges the bridge's records, 0 while it retries."),
    "bridge_inbox_messages": (
        "slastream_bridge_inbox_messages", "gauge",
        "MQTT messages received and not yet handed to Kafka."),
    "bridge_in_flight_chunks": (
        "slastream_bridge_in_flight_chunks", "gauge",
        "Chunks of messages sent to Kafka and not yet acknowledged by it (their MQTT "
        "acknowledgements wait)."),
    "bridge_kafka_seconds_since_success": (
        "slastream_bridge_kafka_seconds_since_success", "gauge",
        "Seconds since Kafka last acknowledged a record of the bridge."),
}


class MqttErrorsCollector(Collector):
    """Reads ``totals()`` (reason → connections closed) at every scrape."""

    def __init__(self, totals: Callable[[], dict[str, int]]) -> None:
        self.totals = totals

    def describe(self) -> Iterable[Metric]:
        return [self._family({})]

    def collect(self) -> Iterable[Metric]:
        return [self._family(self.totals())]

    @staticmethod
    def _family(totals: dict[str, int]) -> Metric:
        family = CounterMetricFamily(
            "slastream_mqtt_connection_errors",
            "MQTT connections of the bridge closed over a protocol problem, by reason.",
            labels=["reason"])
        for reason, n in sorted(totals.items()):
            family.add_metric([reason], n)
        return family
