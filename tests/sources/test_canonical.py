"""slastream's own topics: golden cases plus the rules a user would notice."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slastream.errors import Rejected
from slastream.model.events import Event, ProbeResult, UplinkReceived
from slastream.model.time import format_rfc3339_ms
from slastream.sources import canonical, router

from .golden import load_cases, run_case

CASES = load_cases("canonical")


def decode(topic: str, payload: Any, received_ms: int = 5_000) -> tuple[str, str, list[Event]]:
    out: list[Event] = []
    _, outcome, reason = router.decode(topic, payload, received_ms, out)
    return outcome, reason, out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden(case: dict[str, Any]) -> None:
    run_case(case)


def test_probe_without_latency_is_unknown_not_zero() -> None:
    _, _, out = decode("slastream/probe/api", {"time": "2026-10-01T00:00:00Z", "ok": False})
    (probe,) = out
    assert isinstance(probe, ProbeResult)
    assert probe.status == -1
    assert math.isnan(probe.latency_ms)


def test_bad_batch_leaves_nothing_behind() -> None:
    # The router discards partial output, but the decoder itself must not leak either.
    out: list[Event] = []
    good = {"time": "2026-10-01T00:00:00Z", "ok": True}
    with pytest.raises(Rejected, match="item 2"):
        canonical.decode_probe(["slastream", "probe", "api"], [good, good, {"ok": True}], 0, out)
    assert out == []


@given(
    st.lists(
        st.tuples(
            st.integers(0, 4_102_444_800_000),
            st.booleans(),
            st.one_of(st.none(), st.integers(0, 999)),
            st.one_of(st.none(), st.floats(0, 1e7, allow_nan=False)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_probe_batches_round_trip(rows: list[tuple[int, bool, int | None, float | None]]) -> None:
    payload = [
        {"time": format_rfc3339_ms(t), "ok": ok, "status": status, "latency_ms": latency}
        for t, ok, status, latency in rows
    ]
    outcome, _, out = decode("slastream/probe/mqtt", payload)
    assert outcome == "ok"
    assert [(e.time_ms, e.ok, e.status) for e in out if isinstance(e, ProbeResult)] == [
        (t, ok, -1 if status is None else status) for t, ok, status, _ in rows
    ]
    for event, (_, _, _, latency) in zip(out, rows, strict=True):
        assert isinstance(event, ProbeResult)
        if latency is None:
            assert math.isnan(event.latency_ms)
        else:
            assert event.latency_ms == latency


def test_uplink_received_reduces_32_bit_counter_to_the_frame_bits() -> None:
    _, _, out = decode("slastream/uplink/received", {"devaddr": "260B5972", "fcnt": 0x1_0005})
    assert [e.fcnt16 for e in out if isinstance(e, UplinkReceived)] == [5]


@pytest.mark.parametrize("latency", [1e308 * 10, -0.5, "12", True])
def test_downlink_latency_must_be_a_sane_number(latency: Any) -> None:
    outcome, reason, _ = decode(
        "slastream/downlink", {"device": "d", "ok": True, "latency_ms": latency}
    )
    assert (outcome, reason) == ("rejected", "latency_ms must be a finite number >= 0")


@pytest.mark.parametrize(("fields", "fport"), [
    ({"fport": 0}, 0), ({"fport": 1}, 1), ({"fport": 255}, 255), ({"fport": -1}, -1),
    ({"f_port": 0}, 0), ({"f_port": 224}, 224), ({"fport": 3, "f_port": 4}, 3),
    ({}, -2), ({"fport": None}, -2), ({"fport": None, "f_port": 2}, 2)])
def test_uplink_received_fport_is_optional(fields: dict[str, Any], fport: int) -> None:
    """Absent, the publisher does not say (-2): such an uplink always counts as data."""
    _, _, out = decode("slastream/uplink/received", {"devaddr": "260B5972", "fcnt": 1, **fields})
    assert [e.fport for e in out if isinstance(e, UplinkReceived)] == [fport]


@pytest.mark.parametrize(("fields", "reason"), [
    ({"fport": 256}, "fport must be an integer from 0 to 255, or -1 for no FPort"),
    ({"fport": -2}, "fport must be an integer from 0 to 255, or -1 for no FPort"),
    ({"fport": "1"}, "fport must be an integer from 0 to 255, or -1 for no FPort"),
    ({"fport": True}, "fport must be an integer from 0 to 255, or -1 for no FPort"),
    ({"f_port": 1.0}, "f_port must be an integer from 0 to 255, or -1 for no FPort")])
def test_uplink_received_bad_fport_is_rejected(fields: dict[str, Any], reason: str) -> None:
    payload = [{"devaddr": "260B5972", "fcnt": 1}, {"devaddr": "260B5972", "fcnt": 2, **fields}]
    assert decode("slastream/uplink/received", payload)[:2] == ("rejected", f"item 1: {reason}")
