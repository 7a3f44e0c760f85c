"""Per-gateway diagnostics: uplinks heard and delivered per gateway and its share of a
tenant's losses (docs/semantics.md#gateway-diagnostics)."""

from __future__ import annotations

from typing import Any

from prometheus_client.exposition import generate_latest

from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.export.metrics import build_registry
from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.slo.gateways import gateway_report
from slastream.sources.decoder import group

T0 = 1_790_812_800_000  # 2026-10-01T00:00:00Z


def _settings(**tenants: Any) -> Settings:
    return parse_settings({
        "tenants": {"gateway_diagnostics": True, **tenants},
        "slos": [{"name": "d", "sli": "delivery", "objective": 0.99, "scope_by": "tenant"}]})


def _traffic() -> list[Event]:
    """acme: 10 uplinks first heard by gw-a (4 lost), 10 by gw-b (1 lost), each also heard
    later by gw-c; globex: 5 uplinks by gw-c, none lost; one foreign frame."""
    out: list[Event] = []
    for i in range(20):
        first = "gw-a" if i < 10 else "gw-b"
        lost = i < 4 or i == 10
        t = T0 + i * 1000
        out += [UplinkReceived(t + 50, 0x26000001, i, "gw-c", "eu868", False, 1),
                UplinkReceived(t, 0x26000001, i, first, "eu868", False, 1)]
        if not lost:
            out.append(UplinkDelivered(t + 500, 0x26000001, i, "app", "dev", "acme"))
    for i in range(5):
        t = T0 + i * 1000
        out += [UplinkReceived(t, 0x26000002, i, "gw-c", "eu868", False, 1),
                UplinkDelivered(t + 500, 0x26000002, i, "app", "dev2", "globex")]
    return out


def _engine(settings: Settings, events: list[Event]) -> Engine:
    engine = Engine(settings)
    for ev in events:
        engine.feed(group([ev]))
    engine.flush()
    return engine


def test_each_uplink_belongs_to_the_gateway_of_its_earliest_copy() -> None:
    engine = _engine(_settings(), _traffic())
    month = Month(2026, 10, "UTC")
    report = gateway_report(engine.settings, engine.store, month, "acme", 10)
    (acme,) = report["slos"]
    assert (acme["scope"], acme["heard"], acme["delivered"], acme["lost"]) == (
        "acme", 20, 15, 5)
    assert acme["top"] == [
        {"gateway": "gw-a", "heard": 10, "delivered": 6, "lost": 4, "loss_share": 0.8},
        {"gateway": "gw-b", "heard": 10, "delivered": 9, "lost": 1, "loss_share": 0.2}]
    assert gateway_report(engine.settings, engine.store, month, "acme", 1)["slos"][0][
        "top"][0]["gateway"] == "gw-a"
    whole = gateway_report(engine.settings, engine.store, month, None, 10)
    assert [s["scope"] for s in whole["slos"]] == ["acme", "globex"]
    # the ledger knows only the configured SLO, and counts what the diagnostics count
    assert [(e.scope, e.events.good, e.events.total) for e in engine.ledger("2026-10").slos] \
        == [("acme", 15, 20), ("globex", 5, 5)]


def test_the_diagnostics_survive_a_checkpoint() -> None:
    settings = _settings()
    events = _traffic()
    whole = _engine(settings, events)
    first = Engine(settings)
    for ev in events[:20]:
        first.feed(group([ev]))
    second = Engine.restore(settings, first.snapshot())
    for ev in events[20:]:
        second.feed(group([ev]))
    second.flush()
    month = Month(2026, 10, "UTC")
    assert gateway_report(settings, second.store, month, None, 10) == gateway_report(
        settings, whole.store, month, None, 10)


def test_gateway_metrics_only_within_the_bound() -> None:
    few = generate_latest(build_registry(_engine(_settings(gateway_metrics_limit=3),
                                                 _traffic()))).decode()
    assert ('slastream_gateway_uplinks_total{gateway="gw-a",outcome="lost",scope="acme",'
            'slo="d"} 4.0') in few
    assert 'slo="d#gateways"' not in few
    many = generate_latest(build_registry(_engine(_settings(gateway_metrics_limit=2),
                                                  _traffic()))).decode()
    assert "slastream_gateway_uplinks_total{" not in many and "gw-a" not in many
