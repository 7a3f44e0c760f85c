"""The worker's per-batch path: a columnar record fed as rows (``transport/rows.py``,
``Engine.feed_columns``) leaves a partition exactly as the same events fed as tuples
(``Engine.feed``, what a version 1 record takes), checkpoint and slices alike."""

from __future__ import annotations

from copy import deepcopy
from functools import cache
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slastream.checkpoint import document
from slastream.config import parse_settings
from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from slastream.model.spec import Settings
from slastream.sources import columns, router
from slastream.stream.partition import PartitionState, Timing
from slastream.stream.records import SliceBatch
from slastream.transport import codec, columnar
from slastream.transport.kafka import Partitioner
from slastream.transport.rows import decode_record, decode_rows
from tests.stream import helpers
from tests.stream.helpers import APP
from tests.transport.test_columnar import EVERY_TYPE, T, same, short_uplink_record


def test_rows_hold_the_events_of_the_record() -> None:
    value = codec.encode_batch(EVERY_TYPE)
    batch = decode_rows(value)
    assert set(batch.columns) == {UplinkReceived, UplinkDelivered}
    got = columns.as_events(batch)
    want = codec.decode_grouped(value)
    assert list(got) == list(want)  # the types in the record's order
    for cls, events in want.items():
        assert len(got[cls]) == len(events)
        assert all(same(a, b) for a, b in zip(got[cls], events, strict=True))


def test_a_json_record_is_a_batch_of_tuples() -> None:
    value = codec.encode_json_batch(EVERY_TYPE)
    batch = decode_record(value)
    assert batch.columns == {}
    assert batch.events == codec.decode_grouped(value)
    assert batch.kinds == list(batch.events)


def test_trailing_fields_a_record_lacks_are_their_defaults() -> None:
    batch = decode_rows(short_uplink_record(3))
    assert columns.as_events(batch)[UplinkReceived] == [
        UplinkReceived(T, 0x26000001, i, "gw", "eu", True) for i in range(3)]
    # a string default (a delivery's tenant) is a name of the batch
    out = columnar._Writer()
    name = b"uplink_delivered"
    out.put(bytes([len(name)]) + name + columnar._BLOCK.pack(2, 5))
    for kind, column in zip(b"iiiss", ([T, T + 1], [1, 2], [3, 4], ["app"] * 2,
                                       ["dev-1", "dev-2"]), strict=True):
        columnar._column(out, bytes([kind]), column)
    events = columns.as_events(decode_rows(columnar._head(out, 1)))[UplinkDelivered]
    assert events == [UplinkDelivered(T, 1, 3, "app", "dev-1", ""),
                      UplinkDelivered(T + 1, 2, 4, "app", "dev-2", "")]


def test_a_string_index_out_of_range_is_refused() -> None:
    out = columnar._Writer()
    name = b"uplink_received"
    out.put(bytes([len(name)]) + name + columnar._BLOCK.pack(1, 7))
    for kind, column in zip(b"iii", ([T], [1], [2]), strict=True):
        columnar._column(out, bytes([kind]), column)
    for index in (0, 5):  # the gateway a name of the table, the region past its end
        out.put(b"s")
        out.constant(index)
    out.indices(["gw"])
    columnar._column(out, b"b", [False])
    columnar._column(out, b"i", [1])
    with pytest.raises(ValueError, match="malformed"):
        decode_rows(columnar._head(out, 1))


# -------------------------------------------------------------- rows against tuples

VARIANTS: dict[str, dict[str, Any]] = {
    "network": {},
    "region": {"scope_by": "region"},
    "tenant": {"scope_by": "tenant"},
    "mac-only left out": {"count_mac_only": False},
}


@cache
def variant(name: str) -> Settings:
    config = deepcopy(helpers.CONFIG)
    options = dict(VARIANTS[name])
    if "count_mac_only" in options:
        config["lorawan"]["count_mac_only"] = options.pop("count_mac_only")
    config["slos"][0].update(options)
    return parse_settings(config, "test.yaml")


@cache
def partition_events(stream: str) -> list[Event]:
    """The events of the stream's partition 0, in the order the bridge produced them."""
    hasher = Partitioner()
    events: list[Event] = []
    for m in helpers.messages(duration_s=400, seed=7):
        router.decode(m.topic, m.payload, m.received_ms, events)
    return [ev for ev in events for s, key in codec.routes(ev)
            if s == stream and hasher.hash(key) % 4 == 0]


def run(config: Settings, stream: str, records: list[bytes]
        ) -> tuple[list[SliceBatch | None], document.Document]:
    state = PartitionState.fresh(config, stream, 0, APP, Timing(), 0.0)
    batches = [state.apply(offset, b"k", value, 0.0) for offset, value in enumerate(records)]
    return batches, state._document()


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(VARIANTS)),
       stream=st.sampled_from([codec.LORAWAN, codec.GATEWAY]),
       cuts=st.lists(st.floats(0, 1), max_size=25))
def test_columnar_records_leave_the_state_tuples_leave(name: str, stream: str,
                                                       cuts: list[float]) -> None:
    events = partition_events(stream)
    bounds = sorted({0, len(events), *(int(c * len(events)) for c in cuts)})
    chunks = [events[a:b] for a, b in pairwise(bounds)]
    config = variant(name)
    rows = run(config, stream, [codec.encode_batch(c) for c in chunks])
    tuples = run(config, stream, [codec.encode_json_batch(c) for c in chunks])
    assert rows[0] == tuples[0]
    assert document.encode(rows[1]) == document.encode(tuples[1])
