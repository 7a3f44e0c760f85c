"""The bridge's MQTT connection errors as a Prometheus counter family."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from slastream.export.bridge_metrics import MqttErrorsCollector
from slastream.export.metrics import build_registry

from .fakesource import FakeSource


def test_connection_errors_are_counted_by_reason_next_to_the_other_families() -> None:
    totals = {"session taken over": 1, "malformed packet": 2}
    registry: CollectorRegistry = build_registry(FakeSource())
    registry.register(MqttErrorsCollector(lambda: totals))
    text = generate_latest(registry).decode()
    assert 'slastream_mqtt_connection_errors_total{reason="malformed packet"} 2.0' in text
    assert 'slastream_mqtt_connection_errors_total{reason="session taken over"} 1.0' in text
    totals["malformed packet"] = 3  # read at every scrape
    assert 'reason="malformed packet"} 3.0' in generate_latest(registry).decode()
