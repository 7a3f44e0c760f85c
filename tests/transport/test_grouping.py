"""Grouping whole columns gives exactly the event-by-event groups: same groups, same first
keys, same order of groups and of events within each (so the same records go to Kafka)."""

from __future__ import annotations

import math
from typing import Any, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slastream.model.events import EVENT_TYPES, Event, RequestLog
from slastream.model.spec import KafkaSettings
from slastream.transport import codec, grouping, routes
from slastream.transport.kafka import EventProducer, Partitioner

_strings = st.sampled_from(["", "a", "b", "gw-1", "gw-2", "api", "db", "c/d", "ü"])
_VALUES: dict[Any, st.SearchStrategy[Any]] = {
    int: st.one_of(st.integers(-2, 40), st.integers(-(2**40), 2**40)),
    float: st.one_of(st.floats(0, 100), st.just(math.nan)),
    bool: st.booleans(),
    str: _strings,
    tuple[int, ...]: st.lists(st.integers(0, 9), max_size=2).map(tuple),
    tuple[str, ...]: st.lists(_strings, max_size=2).map(tuple),
}


@st.composite
def event(draw: st.DrawFn) -> Event:
    cls = draw(st.sampled_from(sorted(EVENT_TYPES.values(), key=lambda c: c.__name__)))
    hints = get_type_hints(cls)
    fields = [draw(_VALUES[hints[name]]) for name in cls._fields]
    made: Event = cls(*fields)
    return made


def _partition_counts(stream_parts: list[int]) -> dict[str, int]:
    return dict(zip(codec.EVENT_STREAMS, stream_parts, strict=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(event(), max_size=300), st.lists(st.integers(1, 7), min_size=4, max_size=4),
       st.booleans())
def test_columns_group_as_events_do(events: list[Event], parts: list[int],
                                    by_client: bool) -> None:
    router = routes._by_client if by_client else routes.routes
    table = routes.table_of(router)
    assert table is not None
    nparts = _partition_counts(parts)
    hash_key = Partitioner().hash
    expected = grouping.group_each(events, router, nparts, hash_key)
    if not events:
        return
    got = grouping.group_columns(events, table, nparts, hash_key)
    assert list(got) == list(expected)
    for slot, (key, group) in expected.items():
        assert got[slot][0] == key
        assert [id(e) for e in got[slot][1]] == [id(e) for e in group]


def test_one_type_of_many_events_and_the_producer() -> None:
    """The producer groups a chunk by columns and a few events one by one: same result."""
    events: list[Event] = [RequestLog(i, f"c{i % 5}", 1.0, 200, f"k{i % 3}", -1)
                           for i in range(500)]
    producer = EventProducer(KafkaSettings(bootstrap="k:9092", partitions=3),
                             create_topics=False)
    producer._partitions = {producer.topic(s): 3 for s in codec.EVENT_STREAMS}
    nparts = _partition_counts([3, 3, 3, 3])
    assert producer.group(events) == grouping.group_each(events, routes.routes, nparts,
                                                         Partitioner().hash)
    assert producer.group(events[:3]) == grouping.group_each(events[:3], routes.routes,
                                                             nparts, Partitioner().hash)


def test_an_unknown_type_is_refused_either_way() -> None:
    with pytest.raises(TypeError, match="not a canonical event"):
        grouping.group_columns([("x",)], routes.EVENT_ROUTES,  # type: ignore[list-item]
                               _partition_counts([1, 1, 1, 1]), Partitioner().hash)
    with pytest.raises(TypeError, match="not a canonical event"):
        grouping.group_each([("x",)], routes.routes,  # type: ignore[list-item]
                            _partition_counts([1, 1, 1, 1]), Partitioner().hash)


@settings(max_examples=200, deadline=None)
@given(event())
def test_route_keys_are_spelled_as_before(ev: Event) -> None:
    """The keys, read by C callables now, are the strings the per-event lambdas made."""
    expected = {
        "UplinkReceived": lambda e: [("lorawan", f"{e.devaddr:08x}"), ("gateway", e.gateway)],
        "UplinkDelivered": lambda e: [("lorawan", f"{e.devaddr:08x}")],
        "DeviceJoined": lambda e: [("lorawan", f"{e.devaddr:08x}")],
        "DownlinkCommand": lambda e: [("gateway", e.gateway)],
        "DownlinkAck": lambda e: [("gateway", e.gateway)],
        "DownlinkOutcome": lambda e: [("lorawan", e.device)],
        "ProbeResult": lambda e: [("service", e.component)],
        "RequestLog": lambda e: [("service", e.component)],
        "Exclusion": lambda e: [("control", e.id)],
        "BridgeOutage": lambda e: [("control", e.bridge)],
        "TicketEvent": lambda e: [("control", f"{e.contract}/{e.id}")],
    }[type(ev).__name__]
    assert routes.routes(ev) == expected(ev)
    if type(ev) is RequestLog:
        assert routes._by_client(ev) == [("service", ev.client or ev.component)]
