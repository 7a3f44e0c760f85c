"""Shared inputs for the stream tests: a small config and the bridge's record layout."""

from __future__ import annotations

from collections import defaultdict

from slastream.config import parse_settings
from slastream.model.events import Event
from slastream.model.spec import Settings
from slastream.simulate import Outages, Scenario, Window, generate
from slastream.sources import router
from slastream.sources.capture import Message
from slastream.transport import codec
from slastream.transport.kafka import Partitioner

CONFIG = {
    "timezone": "UTC",
    "lateness_s": 3,
    "lorawan": {"devaddr_prefixes": ["26000000/7"]},
    "slos": [
        {"name": "delivery", "sli": "delivery", "objective": 0.999, "deadline_s": 5,
         "downtime": {"bad_below": 0.75, "window_s": 60, "min_events": 5}},
        {"name": "rx2", "sli": "rx2", "source": "gateway", "objective": 0.999,
         "ack_timeout_s": 5, "downtime": {"bad_below": 0.5}},
        {"name": "api-probe", "sli": "probe", "component": "api", "objective": 0.999},
        {"name": "api-time", "sli": "response_time", "component": "api", "target_ms": 500,
         "downtime": {"min_events": 5}},
    ],
    "exclusion_policy": {"maintenance": {"notice_s": 172800, "cap_minutes": 60}},
    "contracts": [{"name": "net", "slos": ["delivery", "rx2", "api-probe"],
                   "objective": 0.999, "credit": {"kind": "tiers", "tiers": [
                       {"over_minutes": 1, "credit": 0.1}]}}],
    "kafka": {"partitions": 4, "app_id": "test-app"},
}
START_MS = 1_790_000_000_000 // 60_000 * 60_000  # a minute boundary in 2026
APP = "test-app"


def settings() -> Settings:
    return parse_settings(CONFIG, "test.yaml")


def scenario() -> Scenario:
    return Scenario(
        devices=120, uplink_interval_s=20, gateways=5, probe_components=("api",),
        probe_interval_s=5, request_batch_s=5,
        outages=Outages(delivery=(Window(60, 70),), downlink=(Window(100, 60),),
                        probe=(Window(90, 65, "api"),), slow=(Window(130, 60, "api"),),
                        maintenance=None))


def messages(duration_s: float = 240, seed: int = 3) -> list[Message]:
    return list(generate(scenario(), START_MS, duration_s, seed))


def partition_records(msgs: list[Message], partitions: int = 4, chunk: int = 200,
                      ) -> dict[tuple[str, int], list[bytes]]:
    """Event batches per (stream, partition), laid out as the bridge's producer does:
    messages decoded ``chunk`` at a time, events grouped by their route's partition."""
    hasher = Partitioner()
    out: dict[tuple[str, int], list[bytes]] = defaultdict(list)
    for i in range(0, len(msgs), chunk):
        events: list[Event] = []
        for m in msgs[i:i + chunk]:
            router.decode(m.topic, m.payload, m.received_ms, events)
        groups: dict[tuple[str, int], list[Event]] = defaultdict(list)
        for ev in events:
            for stream, key in codec.routes(ev):
                groups[(stream, hasher.hash(key) % partitions)].append(ev)
        for slot, group in groups.items():
            out[slot].append(codec.encode_batch(group))
    return dict(out)
