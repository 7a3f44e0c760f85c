"""A flood of messages with random ids adds no Prometheus series: the exposition of an
engine and of a live view fed the same traffic plus thousands of messages with random
gateways, devices, DevAddrs, applications, tenants, regions, components, clients, ticket
and exclusion ids, statuses and topics has exactly the series of the traffic alone, except
for ingest counters of fixed sources and reason classes (docs/interfaces.md#bounds)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.export.metrics import MetricsSource, build_registry
from slastream.model.events import BridgeOutage, Event, Exclusion, TicketEvent
from slastream.model.ledger import ledger_json
from slastream.model.spec import OTHER_REGION, Settings
from slastream.simulate import Scenario, generate
from slastream.sli import rx2 as rx2_sli
from slastream.sources import router
from slastream.sources.capture import Message, format_line
from slastream.sources.decoder import capture_batches
from slastream.stream.records import SliceBatch
from slastream.stream.view import LiveView
from slastream.transport.routes import stream_of

from . import flood

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [*sorted((ROOT / "examples/contracts").glob("*.yaml")),
           ROOT / "tests/export/fixture.yaml"]
START_MS = 1_790_812_800_000  # 2026-10-01T00:00:00Z
FLOOD = 4000
SOURCES = {"chirpstack_gateway", "chirpstack", "tts", "probe", "request", "canonical",
           "capture", "unknown"}
IGNORED_CLASSES = {
    "topic not understood", "session change", "log", "not a Class-A downlink",
    "confirmation is not an RX-window signal", "downlink failed", "downlink queued",
    "simulated uplink", "bad CRC", "not a data uplink", "unknown LoRaWAN major version",
    "not a data-down or join-accept frame", "empty batch"}
INGEST = ("slastream_ingest_messages_total", "slastream_ingest_ignored_messages_total")

Series = set[tuple[str, frozenset[tuple[str, str]]]]


def _traffic(settings: Settings) -> list[Message]:
    """Simulated traffic of configured ids, an hour of it, with probes and requests of the
    config's components."""
    scenario = Scenario(devices=20, gateways=3, uplink_interval_s=120.0)
    out = list(generate(scenario, START_MS, 3600.0, seed=3))
    for component in {s.component for s in settings.slos if s.component}:
        for minute in range(0, 60, 2):
            ms = START_MS + minute * 60_000
            out += [Message(ms, f"slastream/probe/{component}",
                            {"time": flood.stamp(ms), "ok": True, "latency_ms": 120.0}),
                    Message(ms, f"slastream/request/{component}",
                            {"time": flood.stamp(ms), "duration_ms": 80.0, "status": 200,
                             "client": "a-client-1"})]
    return out


def _flood(settings: Settings) -> list[Message]:
    components = [s.component for s in settings.slos if s.component]
    contracts = [c.name for c in settings.contracts]
    rng = random.Random(11)
    return [Message(ms, topic, payload) for ms, topic, payload in
            flood.messages(rng, FLOOD, START_MS, components, contracts)]


def _engine(settings: Settings, messages: list[Message]) -> Engine:
    lines = [format_line(m) for m in sorted(messages, key=lambda m: m.received_ms)]
    engine = Engine(settings)
    for batch in capture_batches(lines, rt=router.for_settings(settings)):
        engine.feed(batch)
        engine.advance()
    engine.flush()
    return engine


def _view(settings: Settings, engine: Engine) -> LiveView:
    """What a worker would show: the engine's slices by stream, its control events."""
    view = LiveView(settings, engine.ingest_totals, ignored=engine.ignored_totals)
    streams = {slo.name: stream_of(slo) for slo in settings.slos}
    deltas = [(slo, scope, minute, tuple(values))
              for (slo, scope, minute), values in engine.store.as_dict().items()]
    for i, stream in enumerate(sorted(set(streams.values()))):
        mine = tuple(d for d in deltas if streams[d[0]] == stream)
        view.apply(SliceBatch(stream, 0, i, 2**40, engine.watermark_ms,
                              max(s.max_time_ms for s in engine.slis), 0, mine))
    control: list[Event] = [*engine.exclusions, *engine.tickets, *engine.outages]
    assert all(isinstance(e, Exclusion | TicketEvent | BridgeOutage) for e in control)
    view.add_control(control)
    return view


def _series(source: MetricsSource) -> Series:
    text = generate_latest(build_registry(source)).decode()
    return {(s.name, frozenset(s.labels.items()))
            for family in text_string_to_metric_families(text) for s in family.samples}


def _values(series: Series) -> set[tuple[str, str]]:
    """Label names and values outside the ingest counters (and the histogram bounds)."""
    return {(k, v) for name, labels in series if name not in INGEST
            for k, v in labels if k != "le"}


def _check_ingest(series: Series) -> None:
    for name, labels in series:
        if name in INGEST:
            values = dict(labels)
            assert values["source"] in SOURCES, (name, values)
            allowed = IGNORED_CLASSES if "ignored" in name else {"ok", "ignored", "rejected"}
            assert values["outcome"] in allowed, (name, values)


@pytest.mark.parametrize("config", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_random_ids_add_no_series(config: Path) -> None:
    settings = load_settings(config)
    if any(slo.scope_by == "region" for slo in settings.slos):
        # the regions of the network are declared: others are the one scope "other"
        settings = replace(settings, lorawan=replace(settings.lorawan,
                                                     regions=(Scenario().region,)))
    quiet = _engine(settings, _traffic(settings))
    flooded = _engine(settings, _traffic(settings) + _flood(settings))
    assert sum(flooded.ingest.values()) == sum(quiet.ingest.values()) + FLOOD
    for name, build in (("engine", lambda e: e), ("view", lambda e: _view(settings, e))):
        before, after = _series(build(quiet)), _series(build(flooded))
        _check_ingest(after)
        # A series may appear once the traffic gives it a value (a credit once enough
        # minutes have evidence), but only with the label values of the configured ids.
        assert _values(after) <= _values(before) | {("scope", OTHER_REGION)}, (
            name, sorted(_values(after) - _values(before))[:20])
        assert len(after) <= len(before) + 250, name
    _check_ledger_inputs(ledger_json(flooded.ledger("2026-10")))


def _check_ledger_inputs(ledger: dict[str, Any]) -> None:
    """The ledger's counters are bounded too: reason classes, RX2 statuses."""
    inputs = ledger["inputs"]
    assert len(inputs["rejected_reasons"]) <= 20
    assert {k.split(": ", 1)[1] for k in inputs["ignored_reasons"]} <= IGNORED_CLASSES
    rx2 = [k for k in inputs["lorawan"] if k.startswith("rx2 ")]
    assert len(rx2) <= rx2_sli.MAX_REASONS + len(rx2_sli._KNOWN_REASONS) + 1
    assert not rx2 or f"rx2 {rx2_sli.OTHER_REASON}" in rx2  # the flood reached the bound
