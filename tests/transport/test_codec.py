"""The event record format: rows written by an older release still decode."""

from __future__ import annotations

import math
from typing import NamedTuple

import pytest

from slastream.model.events import EVENT_TYPES, ProbeResult, UplinkReceived
from slastream.transport import codec


class _Sample(NamedTuple):
    time_ms: int
    gateway: str
    fport: int = -1
    note: str = ""


def test_a_row_short_of_trailing_fields_takes_their_defaults(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EVENT_TYPES, "sample", _Sample)  # type: ignore[arg-type]
    monkeypatch.setitem(codec._ARITY, _Sample, 4)  # type: ignore[arg-type]
    monkeypatch.setitem(codec._DEFAULTS, _Sample, (-1, ""))  # type: ignore[arg-type]
    assert codec.event_from_row(["sample", 5, "gw"]) == _Sample(5, "gw", -1, "")
    assert codec.event_from_row(["sample", 5, "gw", 2]) == _Sample(5, "gw", 2, "")
    assert codec.event_from_row(["sample", 5, "gw", 2, "x"]) == _Sample(5, "gw", 2, "x")
    with pytest.raises(ValueError, match="needs 4 fields, got 1"):
        codec.event_from_row(["sample", 5])
    with pytest.raises(ValueError, match="needs 4 fields, got 5"):
        codec.event_from_row(["sample", 5, "gw", 2, "x", "y"])


def test_a_version_1_uplink_row_decodes() -> None:
    # the six fields an uplink had when the record format was introduced
    row = ["uplink_received", 1_790_000_000_000, 0x26000001, 7, "gw-1", "eu", False]
    [event] = codec.decode_batch(codec.encode_batch([codec.event_from_row(row)]))
    assert isinstance(event, UplinkReceived)
    assert list(event[:6]) == row[1:]
    assert event[6:] == tuple(UplinkReceived._field_defaults[f]
                              for f in UplinkReceived._fields[6:])


def test_event_rows_round_trip() -> None:
    probe = ProbeResult(1, "api", False, -1, math.nan)
    back = codec.event_from_row(codec.event_row(probe))
    assert isinstance(back, ProbeResult) and back[:4] == probe[:4]
    assert math.isnan(back.latency_ms)
