"""The columnar event batch (version 3): every type round-trips, records of versions 1 and
2 already in a topic still decode, and a malformed record is refused, never misread."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    """A record whose uplink block lacks the trailing ``fport`` column, as one written
    before the field existed would."""
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
    out.constant(index)
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
    parts = codec.encode_records(events, 1000)
    assert len(parts) > 4 and all(len(v) <= 1000 for _, v in parts)
    assert sum(n for n, _ in parts) == 40
    assert [ev for _, v in parts for ev in codec.decode_batch(v)] == events
    # a single event over the limit still goes out (the broker decides)
    assert [n for n, _ in codec.encode_records(events[:1], 10)] == [1]


def test_a_value_the_columns_cannot_hold_goes_out_as_version_1() -> None:
    events: list[Event] = [DownlinkAck(T, "gw", 2**63 + 5, ("OK",)), DownlinkAck(T, "gw", 1, ())]
    value = codec.encode_batch(events)
    assert value.startswith(b"{")
    assert codec.decode_batch(value) == events


# ----------------------------------------------------------------------- version 3

GOLDEN = Path(__file__).parent.parent / "golden" / "records"


@pytest.mark.parametrize("name", ["every_type", "lorawan"])
def test_a_version_2_record_of_an_earlier_release_still_decodes(name: str) -> None:
    # bytes as the release before version 3 wrote them, beside the same events in JSON
    old = (GOLDEN / f"{name}.v2.bin").read_bytes()
    assert old[4:6] == b"\x02\x00"
    want = codec.decode_grouped((GOLDEN / f"{name}.v1.json").read_bytes())
    got = codec.decode_grouped(old)
    assert list(got) == list(want)
    for cls, events in want.items():
        assert all(same(a, b) for a, b in zip(got[cls], events, strict=True))
    # and written again today, they are version 3 and read back the same
    again = codec.encode_batch([ev for evs in want.values() for ev in evs])
    assert again[4:6] == b"\x03\x00"
    assert codec.decode_grouped(again) == got


def test_a_lorawan_record_takes_a_quarter_of_the_bytes_it_took() -> None:
    old = (GOLDEN / "lorawan.v2.bin").read_bytes()
    events = codec.decode_batch(old)
    new = codec.encode_batch(events)
    assert len(old) / len(events) > 40
    assert len(new) / len(events) < 14  # time, DevAddr, FCnt, gateway: 2 bytes each here


SPANS = [0, 1, 255, 256, 65_535, 65_536, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1]


@pytest.mark.parametrize("span", SPANS)
@pytest.mark.parametrize("low", [-(2**63), -1, 0, 1_790_000_000_000])
def test_integer_columns_of_every_width_round_trip(low: int, span: int) -> None:
    high = low + span
    if high >= 2**63:
        return
    values = [low, high, low + span // 2, high, low]
    events: list[Event] = [DownlinkAck(v, "gw", v, ()) for v in values]
    assert codec.decode_batch(codec.encode_batch(events)) == events


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.booleans(),
                          st.sampled_from(["a", "b", "c", "é"])), max_size=40))
def test_any_integers_flags_and_strings_round_trip(rows: list[tuple[int, bool, str]]) -> None:
    events: list[Event] = [UplinkReceived(v, v, 7, gw, "eu868", flag, -1)
                           for v, flag, gw in rows]
    value = codec.encode_batch(events)
    assert value.startswith(columnar.MAGIC)
    assert codec.decode_batch(value) == events
    assert all(type(ev.confirmed) is bool for ev in codec.decode_batch(value))  # type: ignore[union-attr]


def outage_record(column: bytes) -> bytes:
    """A bridge outage record whose first column is ``column`` (kind, width, base, data)."""
    out = columnar._Writer()
    name = b"bridge_outage"
    out.put(bytes([len(name)]) + name + columnar._BLOCK.pack(2, 3))
    out.put(column[:2])
    out.pad()
    out.put(column[2:])
    columnar._column(out, b"i", [5, 6])
    columnar._column(out, b"s", ["bridge-1", "bridge-1"])
    return columnar._head(out, 1)


def test_a_hand_built_version_3_column_decodes() -> None:
    column = b"i\x02" + struct.pack("<q", 1000) + struct.pack("<HH", 0, 65_535)
    assert codec.decode_batch(outage_record(column)) == [
        BridgeOutage(1000, 5, "bridge-1"), BridgeOutage(66_535, 6, "bridge-1")]


@pytest.mark.parametrize("column", [
    b"i\x03" + struct.pack("<q", 0) + bytes(8),  # no such width
    b"i\x08" + struct.pack("<q", 1) + bytes(16),  # int64 values with a base
    b"i\x01" + struct.pack("<q", 2**63 - 10) + bytes([0, 200]),  # past 64 bits
    b"i\x04" + struct.pack("<q", 0) + bytes(4),  # a row short
])
def test_a_malformed_version_3_column_is_refused(column: bytes) -> None:
    with pytest.raises(ValueError):
        codec.decode_batch(outage_record(column))


def test_flags_past_one_and_negative_string_indices_are_refused() -> None:
    out = columnar._Writer()
    name = b"uplink_received"
    out.put(bytes([len(name)]) + name + columnar._BLOCK.pack(2, 7))
    for kind, column in zip(b"iiiss", ([T, T], [1, 1], [2, 2], ["gw", "gw"], ["eu", "eu"]),
                            strict=True):
        columnar._column(out, bytes([kind]), column)
    good = columnar._Writer()
    good.parts, good.size, good.strings = list(out.parts), out.size, list(out.strings)
    good.put(b"b")
    good.constant(1)
    columnar._column(good, b"i", [1, 1])
    assert len(codec.decode_batch(columnar._head(good, 1))) == 2
    out.put(b"b")
    out.constant(0, width=1)
    out.put(bytes([0, 2]))
    columnar._column(out, b"i", [1, 1])
    with pytest.raises(ValueError):
        codec.decode_batch(columnar._head(out, 1))
    bad_index = columnar._Writer()
    bad_index.put(bytes([len(b"bridge_outage")]) + b"bridge_outage" + columnar._BLOCK.pack(1, 3))
    columnar._column(bad_index, b"i", [1])
    columnar._column(bad_index, b"i", [2])
    bad_index.put(b"s")
    bad_index.constant(-1)
    bad_index.indices(["bridge-1"])
    with pytest.raises(ValueError):
        codec.decode_batch(columnar._head(bad_index, 1))


def test_a_flag_holding_another_truthy_value_is_written_as_one() -> None:
    # a faulty decoder's 2 in a bool field: stored as 1, never as a record readers refuse
    events: list[Event] = [UplinkReceived(T, 1, 2, "gw", "eu868", 2, -1),  # type: ignore[arg-type]
                           UplinkReceived(T, 1, 3, "gw", "eu868", 0, -1)]  # type: ignore[arg-type]
    assert [ev.confirmed for ev in codec.decode_batch(codec.encode_batch(events))] == [  # type: ignore[union-attr]
        True, False]
