"""Request allowances counted in the worker's partitions give replay's usage section
(docs/semantics.md#usage)."""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import replace
from typing import Any

import orjson

from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.model.events import Event, RequestLog
from slastream.model.ledger import ledger_json
from slastream.model.spec import Settings
from slastream.sources.decoder import group
from slastream.stream.partition import PartitionState, Timing, partition_usage
from slastream.stream.records import TICK_KEY, SliceBatch, encode_tick
from slastream.stream.view import LiveView
from slastream.transport import codec
from slastream.transport.kafka import Partitioner
from slastream.transport.routes import router
from tests.stream.helpers import APP, CONFIG
from tests.usage.helpers import ms

BANDS = {name: {"clients": [f"{name.lower()}-*"]} for name in ("Trial", "A")}
DAY = ms("2026-10-05T00:00:00")
MONTH = "2026-10"


def usage_settings(partitions: int = 4) -> Settings:
    raw: dict[str, Any] = copy.deepcopy(CONFIG)
    raw["kafka"]["partitions"] = partitions
    raw["contracts"] += [
        {"name": "api-only", "slos": ["api-probe"], "objective": 0.99,
         "usage": {"component": "api", "bands": BANDS}},
        {"name": "every", "slos": ["api-probe"], "objective": 0.99,
         "usage": {"bands": BANDS}},
    ]
    return parse_settings(raw, "test.yaml")


def traffic() -> list[Event]:
    """A device at 2 requests/s for 12 minutes (an intensive episode), others spread over
    the day on two components (each client on one component: disjoint devices)."""
    out: list[Event] = [RequestLog(DAY + 3_600_000 + i * 500, "api", 10.0, 200, "a-hot")
                        for i in range(12 * 60 * 2)]
    for c in range(6):
        component = ("api", "web", "ingest")[c % 3]
        out += [RequestLog(DAY + c * 1000 + i * 600_000, component, 10.0, 200, f"trial-{c}")
                for i in range(100)]
    out += [RequestLog(DAY + 7_200_000, "web", 10.0, 200, "")]  # no client: rejected
    return sorted(out, key=lambda e: e.time_ms)


def live(settings: Settings, events: list[Event], tick_ms: int) -> LiveView:
    hasher = Partitioner()
    states: dict[tuple[str, int], PartitionState] = {}
    view = LiveView(settings)
    records: dict[tuple[str, int], list[bytes]] = defaultdict(list)
    for i in range(0, len(events), 300):
        groups: dict[tuple[str, int], list[Event]] = defaultdict(list)
        for ev in events[i:i + 300]:
            for stream, key in router(settings)(ev):
                groups[(stream, hasher.hash(key) % settings.kafka.partitions)].append(ev)
        for slot, evs in groups.items():
            records[slot].append(codec.encode_batch(evs))
    for (stream, part), values in records.items():
        state = states[(stream, part)] = PartitionState.fresh(
            settings, stream, part, APP, Timing(), 0.0)
        marked = [(None, v) for v in values] + [(TICK_KEY, encode_tick(APP, tick_ms))]
        for offset, (key, value) in enumerate(marked):
            batch = state.apply(offset, key, value, 0.0)
            if batch is not None:
                assert view.apply(SliceBatch.decode(batch.encode()))
    return view


def replay(settings: Settings, events: list[Event]) -> Engine:
    engine = Engine(settings)
    engine.feed(group(events))
    engine.flush()
    return engine


def usage_of(ledger: dict[str, Any]) -> dict[str, Any]:
    return {c["name"]: c.get("usage") for c in ledger["contracts"]}


def test_the_worker_ledger_has_replays_usage_section() -> None:
    settings = usage_settings()
    events = traffic()
    view = live(settings, events, DAY + 86_400_000 + 3_600_000)
    expected = usage_of(ledger_json(replay(settings, events).ledger(MONTH)))
    got = usage_of(ledger_json(view.ledger(MONTH)))
    assert got == expected
    bands = {b["band"]: b for b in got["every"]["bands"]}
    assert bands["Trial"]["adis"] == 6 and bands["A"]["adis"] == 1
    assert [e["client"] for e in got["api-only"]["intensive"]] == ["a-hot"]
    assert got["every"]["rejected"] == {"no_client": 1}
    assert got["api-only"]["days"][0]["complete"] is True


def test_only_the_partition_of_the_component_counts_a_contract() -> None:
    """Without a contract counting every component, requests are keyed by component."""
    settings = usage_settings()
    settings = replace(settings, contracts=tuple(c for c in settings.contracts
                                                 if c.name != "every"))
    assert router(settings) is codec.routes
    holders = [p for p in range(4) if "api-only" in partition_usage(settings, "service", p)]
    assert holders == [Partitioner().hash("api") % 4]
    assert partition_usage(settings, "lorawan", 0) == {}


def test_with_a_contract_of_every_component_every_partition_counts_every_contract() -> None:
    settings = usage_settings()
    assert all(set(partition_usage(settings, "service", p)) == {"api-only", "every"}
               for p in range(4))
    assert partition_usage(settings, "lorawan", 0) == {}
    request = RequestLog(DAY, "api", 1.0, 200, "a-1")
    assert router(settings)(request) == [("service", "a-1")]
    assert router(settings)(request._replace(client="")) == [("service", "api")]


def test_a_client_calling_two_components_is_one_adi_and_one_run() -> None:
    """b-both calls api and ingest alternately every half second for 12 minutes, each
    component once a second: by component its requests would meet on two partitions (two
    ADIs, and runs of 1-second gaps, not intensive); by client they meet on one. The
    contract without a component sees one ADI and one intensive episode, as a replay does;
    the one counting api only sees api's requests of the same client."""
    hasher = Partitioner()
    assert hasher.hash("api") % 4 != hasher.hash("ingest") % 4
    start = DAY + 3_600_000
    events: list[Event] = [
        RequestLog(start + i * 500, ("api", "ingest")[i % 2], 10.0, 200, "a-both", 100)
        for i in range(12 * 60 * 2)]
    events += [RequestLog(DAY + i * 600_000, "ingest", 10.0, 200, "trial-1") for i in range(50)]
    settings = usage_settings()
    view = live(settings, events, DAY + 86_400_000 + 3_600_000)
    got = usage_of(ledger_json(view.ledger(MONTH)))
    assert got == usage_of(ledger_json(replay(settings, events).ledger(MONTH)))
    bands = {b["band"]: b for b in got["every"]["bands"]}
    assert (bands["A"]["adis"], bands["A"]["requests"], bands["Trial"]["adis"]) == (1, 1440, 1)
    assert bands["A"]["transfer_mb_per_1000"] == round(1440 * 100 / (1 << 20) * 1000, 3)
    assert [e["client"] for e in got["every"]["intensive"]] == ["a-both"]
    only_api = {b["band"]: b for b in got["api-only"]["bands"]}
    assert (only_api["A"]["adis"], only_api["A"]["requests"]) == (1, 720)
    assert got["api-only"]["intensive"] == []


def test_a_contract_without_requests_shows_the_empty_section_replay_shows() -> None:
    settings = usage_settings()
    view = LiveView(settings)
    expected = usage_of(ledger_json(replay(settings, []).ledger(MONTH)))
    assert usage_of(ledger_json(view.ledger(MONTH))) == expected


def test_a_restored_partition_emits_what_the_first_run_emitted() -> None:
    settings = usage_settings(partitions=1)
    values = [codec.encode_batch(traffic()[i:i + 500]) for i in range(0, 3000, 500)]
    first = PartitionState.fresh(settings, "service", 0, APP, Timing(), 0.0)
    out = [first.apply(i, None, v, 0.0) for i, v in enumerate(values[:3])]
    saved = first.checkpoint(0.0)
    out += [first.apply(i + 3, None, v, 0.0) for i, v in enumerate(values[3:])]
    again = PartitionState.restore(settings, "service", 0, APP, Timing(), saved, 0.0)
    rerun = [again.apply(i + 3, None, v, 0.0) for i, v in enumerate(values[3:])]
    assert [b.encode() if b else None for b in rerun] == [
        b.encode() if b else None for b in out[3:]]
    assert any(b is not None and b.usage for b in rerun)


def test_a_batch_without_usage_is_encoded_as_before_and_a_foreign_version_is_refused(
        ) -> None:
    plain = SliceBatch("service", 0, 5, 10, 600_000, 600_000, 0, ())
    body = orjson.loads(plain.encode())
    assert "usage" not in body and SliceBatch.decode(plain.encode()) == plain
    body["usage"] = {"v": 99, "reports": []}
    try:
        SliceBatch.decode(orjson.dumps(body))
    except ValueError as exc:
        assert "usage version" in str(exc)
    else:
        raise AssertionError("a foreign usage version decoded")


def test_a_service_partition_without_slos_reports_progress_from_its_counters() -> None:
    raw: dict[str, Any] = copy.deepcopy(CONFIG)
    raw["slos"] = raw["slos"][:1]
    raw["contracts"] = [{"name": "evt", "slos": ["delivery"], "objective": 0.99,
                         "usage": {"component": "api", "bands": BANDS}},
                        {"name": "web", "slos": ["delivery"], "objective": 0.99,
                         "usage": {"component": "web", "bands": BANDS}}]
    settings = parse_settings(raw, "test.yaml")
    events = [e for e in traffic() if isinstance(e, RequestLog) and e.component == "api"]
    view = live(settings, events, DAY + 86_400_000 + 60_000)
    assert min(view.as_of.values()) == (DAY + 86_400_000 + 60_000) // 60_000
    expected = usage_of(ledger_json(replay(settings, events).ledger(MONTH)))
    assert usage_of(ledger_json(view.ledger(MONTH))) == expected
