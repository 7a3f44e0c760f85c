"""The columnar event batch (version 2): every type round-trips, records of version 1
already in a topic still decode, and a malformed record is refused, never misread."""

from __future__ import annotations

import math

import numpy as np
import pytest

from slastream.model.events import (
    EVENT_TYPES,
    BridgeOutage,
    DeviceJoined,
    DownlinkAck,
    DownlinkCommand,
    DownlinkOutcome,
    Event,
    Exclusion,
    ProbeResult,
    RequestLog,
    TicketEvent,
    UplinkDelivered,
    UplinkReceived,
)
from slastream.transport import codec, columnar

T = 1_790_000_000_000

EVERY_TYPE: list[Event] = [
    UplinkReceived(T, 0x26000001, 7, "gw-1", "eu868", False, 3),
    UplinkDelivered(T + 300, 0x26000001, 65543, "app", "dev-1"),
    UplinkDelivered(T + 301, 0x26000003, 9, "app", "dev-3", "tenant-a"),
    DeviceJoined(T + 200, 0x26000004, "app", "dev-4", "tenant-b"),
    DownlinkCommand(T + 1000, "gw-1", 42, 0x26000001, (1000, -1), False),
    DownlinkCommand(T + 1001, "gw-2", 43, -1, (), True),
    DownlinkAck(T + 1100, "gw-1", 42, ("OK", "TOO_LATE")),
    DownlinkAck(T + 1101, "gw-2", 43, ()),
    DownlinkOutcome(T + 1200, "dev-1", True, "OK", "rx2", -1),
    ProbeResult(T, "api", True, 200, 12.5, "eu-west"),
    RequestLog(T, "api", 31.25, 503, "c1"),
    Exclusion("m1", "*", T, T + 60_000, -1, "maintenance", "ticket 7"),
    BridgeOutage(T - 5000, T - 1000, "bridge-1"),
    TicketEvent("t1", "opened", T, "S1", "net", "EU", "DE", "phone"),
    UplinkReceived(T + 1, 0x26000002, 8, "gw-é", "eu868", True, -1),  # not ASCII
]


def same(a: Event, b: Event) -> bool:
    """Equal, NaN equal to NaN, and of the same type."""
    return type(a) is type(b) and all(
        x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        for x, y in zip(a, b, strict=True))


def by_type(events: list[Event]) -> dict[type, list[Event]]:
    out: dict[type, list[Event]] = {}
    for ev in events:
        out.setdefault(type(ev), []).append(ev)
    return out


def test_every_event_type_round_trips_grouped_by_type_in_order() -> None:
    assert {type(ev) for ev in EVERY_TYPE} == set(EVENT_TYPES.values())
    value = codec.encode_batch(EVERY_TYPE)
    assert value.startswith(columnar.MAGIC)
    got = codec.decode_grouped(value)
    want = by_type(EVERY_TYPE)
    assert list(got) == list(want)  # types in order of first appearance
    for cls, events in want.items():
        assert got[cls] == events
        assert all(type(ev) is cls for ev in got[cls])
    assert isinstance(got[DownlinkCommand][0].delays_ms, tuple)
    assert got[UplinkReceived][0].confirmed is False
    assert got[DownlinkOutcome][0].ok is True


def test_an_unknown_probe_latency_stays_unknown() -> None:
    probe = ProbeResult(T, "api", False, -1, math.nan)
    [back] = codec.decode_batch(codec.encode_batch([probe]))
    assert same(back, probe)


def test_strings_holding_a_nul_and_an_empty_batch() -> None:
    events: list[Event] = [RequestLog(T, "a\x00b", 1.0, 200, ""), RequestLog(T, "", 2.0, 200, "x")]
    assert codec.decode_batch(codec.encode_batch(events)) == events
    assert codec.decode_batch(codec.encode_batch([])) == []
    assert codec.decode_grouped(codec.encode_batch([])) == {}


def test_a_version_1_record_of_an_earlier_release_still_decodes() -> None:
    # bytes as an earlier release wrote them into Kafka (fields before `fport` and
    # `location` existed, NaN as null)
    old = (b'{"v":1,"events":[["uplink_received",1790000000000,637534209,7,"gw-1","eu868",'
           b'false],["probe",1790000000000,"api",false,-1,null],["uplink_delivered",'
           b'1790000000300,637534209,7,"app","dev-1"],["uplink_received",1790000000001,'
           b'637534209,7,"gw-2","eu868",false]]}')
    events = codec.decode_batch(old)
    assert events[0] == UplinkReceived(T, 0x26000001, 7, "gw-1", "eu868", False)
    assert events[0].fport == -2
    assert same(events[1], ProbeResult(T, "api", False, -1, math.nan, ""))
    grouped = codec.decode_grouped(old)
    assert list(grouped) == [UplinkReceived, ProbeResult, UplinkDelivered]
    assert [ev.gateway for ev in grouped[UplinkReceived]] == [  # type: ignore[union-attr]
        "gw-1", "gw-2"]
    # and what the JSON encoder writes today reads back the same as the columnar record
    value = codec.encode_json_batch(EVERY_TYPE)
    assert codec.decode_grouped(value) == codec.decode_grouped(codec.encode_batch(EVERY_TYPE))


def short_uplink_record(rows: int) -> bytes:
    """A version 2 record whose uplink block lacks the trailing ``fport`` column, as one
    written before the field existed would."""
    out = columnar._Writer()
    name = b"uplink_received"
    out.put(bytes([len(name)]) + name + columnar._BLOCK.pack(rows, 6))
    for kind, column in zip(b"iiissb", ([T] * rows, [0x26000001] * rows, list(range(rows)),
                                          ["gw"] * rows, ["eu"] * rows, [True] * rows),
                            strict=True):
        columnar._column(out, bytes([kind]), column)
    return columnar._head(out, 1)


def test_a_block_short_of_trailing_fields_takes_their_defaults() -> None:
    events = codec.decode_batch(short_uplink_record(3))
    assert events == [UplinkReceived(T, 0x26000001, i, "gw", "eu", True) for i in range(3)]
    assert {ev.fport for ev in events} == {-2}  # type: ignore[union-attr]


def outage_record_with_string_index(index: int) -> bytes:
    out = columnar._Writer()
    name = b"bridge_outage"
    out.put(bytes([len(name)]) + name + columnar._BLOCK.pack(1, 3))
    columnar._column(out, b"i", [1])
    columnar._column(out, b"i", [2])
    out.put(b"s")
    out.array([index], np.dtype("<u4"), 1)
    out.indices(["bridge-1"])
    return columnar._head(out, 1)


def test_a_hand_built_record_decodes() -> None:  # the helper below writes valid records
    assert codec.decode_batch(outage_record_with_string_index(0)) == [
        BridgeOutage(1, 2, "bridge-1")]


@pytest.mark.parametrize("damage", ["truncated", "kind", "type", "version", "string index"])
def test_a_malformed_record_is_refused(damage: str) -> None:
    value = bytearray(codec.encode_batch(EVERY_TYPE[:2]))
    if damage == "truncated":
        value = value[:-5]
    elif damage == "kind":
        value[value.index(b"uplink_received") + 20] = ord("f")  # the first column's kind
    elif damage == "type":
        i = value.index(b"uplink_received")
        value[i:i + 6] = b"nosuch"
    elif damage == "version":
        value[4] = 9
    else:
        value = bytearray(outage_record_with_string_index(99))
    with pytest.raises(ValueError):
        codec.decode_grouped(bytes(value))


def test_string_tables_of_any_length() -> None:
    # the table's length moves the start of the columns, which stay aligned
    for n in range(10):
        events: list[Event] = [BridgeOutage(1, 2, "x" * n), BridgeOutage(3, 4, "y")]
        assert codec.decode_batch(codec.encode_batch(events)) == events


def test_records_over_the_size_limit_are_split_in_order() -> None:
    events: list[Event] = [RequestLog(T + i, "api", 1.0, 200, f"client-{i}-" + "x" * 100)
                           for i in range(40)]
    whole = codec.encode_records(events, 1 << 20)
    assert [n for n, _ in whole] == [40]
    parts = codec.encode_records(events, 1500)
    assert len(parts) > 4 and all(len(v) <= 1500 for _, v in parts)
    assert sum(n for n, _ in parts) == 40
    assert [ev for _, v in parts for ev in codec.decode_batch(v)] == events
    # a single event over the limit still goes out (the broker decides)
    assert [n for n, _ in codec.encode_records(events[:1], 10)] == [1]


def test_a_value_the_columns_cannot_hold_goes_out_as_version_1() -> None:
    events: list[Event] = [DownlinkAck(T, "gw", 2**63 + 5, ("OK",)), DownlinkAck(T, "gw", 1, ())]
    value = codec.encode_batch(events)
    assert value.startswith(b"{")
    assert codec.decode_batch(value) == events
