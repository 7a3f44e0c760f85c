"""Delivery SLI details that the acceptance captures do not isolate."""

from __future__ import annotations

import random
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.events import BridgeOutage, Event, UplinkDelivered, UplinkReceived
from slastream.model.ledger import ledger_json
from slastream.sli import delivery_rows
from slastream.sli import table as tables
from slastream.sli.delivery import DeliverySLI
from slastream.sli.table import entries
from slastream.sources import router
from slastream.sources.columns import (
    DL_ROW,
    DL_WIDTH,
    UP_ROW,
    UP_WIDTH,
    ColumnBatch,
    Names,
    rows,
)
from slastream.sources.decoder import group
from tests.sources import phy

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_790_000_000_000 // 60_000 * 60_000


def _engine() -> Engine:
    return Engine(load_settings(ROOT / "examples/contracts/loriot.yaml"))


def _delivery(engine: Engine) -> dict[str, int]:
    (entry,) = [e for e in ledger_json(engine.ledger(None))["slos"]
                if e["name"] == "lorawan-delivery"]
    return dict(entry["events"])


def test_bridge_outage_is_not_charged_to_the_network() -> None:
    """Uplinks whose delivery fell into our own disconnection are left out, not lost."""
    eng = _engine()
    ups = [UplinkReceived(T0 + i * 1000, 0x26000000 + i, 7, "gw", "eu868", False)
           for i in range(100)]
    # deliveries for the first 50 only; the bridge was disconnected from +60 s to +130 s
    dels = [UplinkDelivered(T0 + i * 1000 + 200, 0x26000000 + i, 7, "app", "d")
            for i in range(50)]
    eng.feed(group([*ups, *dels, BridgeOutage(T0 + 60_000, T0 + 130_000, "b1")]))
    eng.flush()
    # uplinks at 31..99 s have 30-s deadlines reaching into the outage: left out
    assert _delivery(eng) == {"good": 31, "total": 31}
    assert dict(eng.inputs().lorawan or ())["bridge_outage_uplinks"] == 69


def test_late_delivery_after_finalisation_is_a_correction() -> None:
    eng = _engine()
    eng.feed(group([UplinkReceived(T0, 0x26000001, 1, "gw", "eu868", False)]))
    eng.feed(group([UplinkReceived(T0 + 300_000, 0x26000002, 1, "gw", "eu868", False)]))
    eng.advance()  # watermark = T0 + 300 s − 120 s: the first uplink is final, undelivered
    assert _delivery(eng) == {"good": 0, "total": 1}
    # its delivery (within the 30 s deadline) arrives late: applied as a correction
    eng.feed(group([UplinkDelivered(T0 + 5_000, 0x26000001, 1, "app", "d")]))
    eng.feed(group([UplinkDelivered(T0 + 300_500, 0x26000002, 1, "app", "d")]))
    eng.flush()
    assert _delivery(eng) == {"good": 2, "total": 2}
    assert eng.late_events == 1


def test_state_per_tracked_uplink_is_small() -> None:
    """docs/architecture.md#performance: at most 150 bytes per tracked uplink (dedup/match)."""
    eng = _engine()
    sli = eng.slis[0]
    n = 200_000
    events = [UplinkReceived(T0 + i, 0x26000000 + i, i & 0xFFFF, "gw", "eu868", False)
              for i in range(n)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sli.add(events)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert sli.tracked == n  # type: ignore[attr-defined]
    assert (after - before) / n <= 150


def test_breach_is_open_while_the_outage_lasts_and_closes_on_recovery() -> None:
    from slastream.config import load_settings as load
    from slastream.model.events import ProbeResult

    eng = Engine(load(ROOT / "examples/contracts/mclimate.yaml"))
    key = ("api-availability", "api")

    def minute(m: int, ok: bool) -> None:
        eng.feed(group([ProbeResult(T0 + m * 60_000 + s, "api", ok, 200, 50.0)
                        for s in (0, 30_000)]))
        eng.advance(T0 + (m + 1) * 60_000)

    for m in range(10):
        minute(m, True)
    for m in range(10, 14):
        minute(m, False)
    assert eng.breaches()[key] is False  # 4 bad minutes: under the 5-minute rule
    minute(14, False)
    assert eng.breaches()[key] is True
    minute(15, False)
    assert eng.breaches()[key] is True
    minute(16, True)
    assert eng.breaches()[key] is False


# ---- lorawan.count_mac_only: MAC-only uplinks (FPort 0, or no FPort) as valid packets

GW1, GW2 = "0016c001f153a14c", "50303541b0344750"
# Real PHYPayloads (LoRaWAN 1.0.x §4.3): a LinkCheckReq (CID 0x02) in FRMPayload on FPort 0;
# the same command in FOpts with no FPort at all; application data on FPort 1.
MAC_FRAMES = {
    "fport 0": dict(fport=0, payload=b"\x02"),
    "no fport": dict(fctrl=0x80, fopts=b"\x02"),
}
APP_FRAME = dict(fport=1, payload=b"\x01\x02\x03")


def _uplink_events(devaddr: int, fcnt: int, frame_args: dict[str, Any], t: int) -> list[Event]:
    """One uplink heard by two gateways, through the real ChirpStack gateway decoder."""
    frame = phy.data_frame(phy.UNCONF_UP, devaddr, fcnt, **frame_args)
    out: list[Event] = []
    for i, gw in enumerate((GW1, GW2)):
        payload = {"phyPayload": phy.b64(frame), "rxInfo": {"gatewayId": gw,
                                                             "crcStatus": "CRC_OK"}}
        assert router.decode(f"eu868/gateway/{gw}/event/up", payload, t + i * 40, out)[1] == "ok"
    return out


def _mac_only_engine(count_mac_only: bool) -> Engine:
    settings = load_settings(ROOT / "examples/contracts/loriot.yaml")
    return Engine(replace(settings, lorawan=replace(settings.lorawan,
                                                    count_mac_only=count_mac_only)))


def _mixed_uplinks(deliver_mac_only: bool) -> list[Event]:
    """20 uplinks with application data, delivered; 5 of each MAC-only kind, delivered only
    when ``deliver_mac_only`` (ChirpStack and The Things Stack do not forward them)."""
    events: list[Event] = []
    kinds = [("app", APP_FRAME)] * 20 + [(k, a) for k, a in MAC_FRAMES.items() for _ in range(5)]
    for i, (kind, args) in enumerate(kinds):
        t = T0 + i * 2_000
        events += _uplink_events(0x26000100 + i, 40 + i, args, t)
        if kind == "app" or deliver_mac_only:
            events.append(UplinkDelivered(t + 300, 0x26000100 + i, 40 + i, "app", "d"))
    return events


def test_decoders_report_the_frames_fport() -> None:
    ports = {name: {e.fport for e in _uplink_events(0x26000001, 1, args, T0)
                    if isinstance(e, UplinkReceived)}
             for name, args in [*MAC_FRAMES.items(), ("app", APP_FRAME)]}
    assert ports == {"fport 0": {0}, "no fport": {-1}, "app": {1}}


@pytest.mark.parametrize(("count_mac_only", "good", "total"), [(True, 20, 30), (False, 20, 20)])
def test_mac_only_uplinks_not_forwarded_count_only_when_configured(
        count_mac_only: bool, good: int, total: int) -> None:
    """Undelivered MAC-only uplinks are losses when they count, and nothing when not."""
    eng = _mac_only_engine(count_mac_only)
    eng.feed(group(_mixed_uplinks(deliver_mac_only=False)))
    eng.flush()
    assert _delivery(eng) == {"good": good, "total": total}
    (entry,) = [e for e in eng.ledger(None).slos if e.name == "lorawan-delivery"]
    assert entry.sli_value == pytest.approx(good / total)
    sli = eng.slis[0]
    assert isinstance(sli, DeliverySLI)
    assert sli.mac_only == (0 if count_mac_only else 10)  # one per uplink, not per copy
    assert sli.unmatched_deliveries == 0


@pytest.mark.parametrize("count_mac_only", [True, False])
def test_forwarded_mac_only_uplinks_are_left_out_on_the_application_side_too(
        count_mac_only: bool) -> None:
    """An application server that does forward them: with count_mac_only false their
    deliveries are neither good packets nor unmatched deliveries."""
    eng = _mac_only_engine(count_mac_only)
    eng.feed(group(_mixed_uplinks(deliver_mac_only=True)))
    eng.flush()
    want = {"good": 30, "total": 30} if count_mac_only else {"good": 20, "total": 20}
    assert _delivery(eng) == want
    assert dict(eng.inputs().lorawan or ())["unmatched_deliveries"] == 0


def test_delivery_seen_before_its_mac_only_uplink_is_not_unmatched() -> None:
    eng = _mac_only_engine(False)
    eng.feed(group([UplinkDelivered(T0, 0x26000001, 3, "app", "d")]))
    eng.feed(group(_uplink_events(0x26000001, 3, MAC_FRAMES["fport 0"], T0 + 100)))
    eng.feed(group(_uplink_events(0x26000002, 4, APP_FRAME, T0 + 200)))
    eng.flush()
    assert _delivery(eng) == {"good": 0, "total": 1}
    assert dict(eng.inputs().lorawan or ())["unmatched_deliveries"] == 0


def test_uplinks_whose_source_does_not_report_fport_still_count() -> None:
    """Events without the field (a canonical publisher that leaves it out) count as data."""
    eng = _mac_only_engine(False)
    eng.feed(group([UplinkReceived(T0 + i * 1000, 0x26000000 + i, 7, "gw", "eu868", False)
                    for i in range(10)]))
    eng.flush()
    assert _delivery(eng) == {"good": 0, "total": 10}


def test_a_mac_only_frame_reusing_a_tracked_counter_does_not_drop_that_uplink() -> None:
    eng = _mac_only_engine(False)
    eng.feed(group(_uplink_events(0x26000001, 3, APP_FRAME, T0)))
    eng.feed(group(_uplink_events(0x26000001, 3, MAC_FRAMES["no fport"], T0 + 500)))
    eng.feed(group([UplinkDelivered(T0 + 900, 0x26000001, 3, "app", "d")]))
    eng.flush()
    assert _delivery(eng) == {"good": 1, "total": 1}


@pytest.mark.parametrize("scope_by", ["network", "region"])
def test_mac_only_tombstones_survive_a_checkpoint(scope_by: str) -> None:
    """Snapshot half-way, restore, continue: the same counts as one uninterrupted engine,
    and the MAC-only uplinks left out before the snapshot stay left out after it."""
    settings = load_settings(ROOT / "examples/contracts/loriot.yaml")
    settings = replace(settings, lorawan=replace(settings.lorawan, count_mac_only=False),
                       slos=tuple(replace(s, scope_by=scope_by) if s.sli == "delivery" else s
                                  for s in settings.slos))
    events = _mixed_uplinks(deliver_mac_only=True)
    whole = Engine(settings)
    whole.feed(group(events))
    whole.flush()
    cut = len(events) - 6  # the last MAC-only uplinks are in flight at the snapshot
    first = Engine(settings)
    first.feed(group(events[:cut]))
    assert isinstance(first.slis[0], DeliverySLI)
    assert -1 in entries(first.slis[0]._done)[1][0].tolist()
    resumed = Engine.restore(settings, first.snapshot())
    resumed.feed(group(events[cut:]))
    resumed.flush()
    assert _delivery(resumed) == _delivery(whole) == {"good": 20, "total": 20}
    sli = resumed.slis[0]
    assert isinstance(sli, DeliverySLI) and sli.mac_only == 10


# ------------------------------------------------------- the per-batch path (rows)

_KEYS = st.tuples(st.sampled_from([0x26000001, 0x26000002, 0x27FFFFFF, 0x01000001, -1]),
                  st.integers(min_value=0, max_value=3))
# times whose differences hit the latency buckets' bounds and the 30-s deadline exactly
_DT = st.one_of(st.sampled_from([0, 50, 100, 300, 1_000, 5_000, 30_000, 30_001, 130_000]),
                st.integers(min_value=0, max_value=400_000))
_UPLINK = st.builds(lambda k, dt, region, fport: UplinkReceived(
    T0 + dt, max(k[0], 0), k[1], "gw", region, False, fport),
    _KEYS, _DT, st.sampled_from(["eu868", "us915"]),
    st.sampled_from([1, 1, 1, 0, -1, -2]))
_DELIVERY = st.builds(lambda k, dt: UplinkDelivered(T0 + dt, k[0], k[1] + 0x10000, "a", "d"),
                      _KEYS, _DT)


_OUTAGE = st.builds(lambda dt, length: BridgeOutage(T0 + dt, T0 + dt + length, "b"),
                    st.integers(min_value=0, max_value=400_000),
                    st.integers(min_value=1, max_value=60_000))


_BOUNDARY_LATENCIES = [  # 300 ms and 100 ms: on the bounds of two latency buckets
    UplinkReceived(T0, 0x26000001, 0, "gw", "eu868", False, 1),
    UplinkReceived(T0 + 40, 0x26000001, 0, "gw2", "us915", False, 1),
    UplinkDelivered(T0 + 300, 0x26000001, 0x10000, "a", "d"),
    UplinkDelivered(T0 + 5_100, 0x26000002, 1, "a", "d"),
    UplinkReceived(T0 + 5_000, 0x26000002, 1, "gw", "eu868", False, 1)]


# in time order, as a capture's rows almost always are: keys first heard in another order
# than they sort, heard again, in a tie, and in two regions
_IN_TIME_ORDER = [
    UplinkReceived(T0, 0x26000002, 3, "gw", "us915", False, 1),
    UplinkReceived(T0, 0x26000001, 0, "gw", "eu868", False, 1),
    UplinkReceived(T0 + 40, 0x26000002, 3, "gw2", "eu868", False, 1),
    UplinkReceived(T0 + 40, 0x26000001, 1, "gw2", "eu868", False, 1),
    UplinkReceived(T0 + 40, 0x26000001, 0, "gw3", "us915", False, 1),
    UplinkDelivered(T0 + 300, 0x26000001, 0x10000, "a", "d"),
    UplinkReceived(T0 + 1_200, 0x26000001, 1, "gw", "us915", False, 1),
    UplinkDelivered(T0 + 1_300, 0x26000002, 0x10003, "a", "d")]


@settings(max_examples=100, deadline=None)
@example(batches=[(_BOUNDARY_LATENCIES, True)], scope_by="region", mac_only=True,
         prefixes=((0x26000000, 7),))
@example(batches=[(_IN_TIME_ORDER[:5], False), (_IN_TIME_ORDER[5:], True)],
         scope_by="region", mac_only=True, prefixes=((0x26000000, 7),))
@example(batches=[(_IN_TIME_ORDER[5:6], False), (_IN_TIME_ORDER, True)],
         scope_by="region", mac_only=True, prefixes=())
@given(batches=st.lists(st.tuples(st.lists(st.one_of(_UPLINK, _DELIVERY, _OUTAGE), max_size=16),
                                  st.booleans()), max_size=6),
       scope_by=st.sampled_from(["network", "region"]), mac_only=st.booleans(),
       prefixes=st.sampled_from([((0x26000000, 7),), ((0x26000000, 8), (0x01000000, 8)), ()]))
def test_rows_leave_the_state_add_leaves(batches: list[tuple[list[Event], bool]],
                                         scope_by: str, mac_only: bool,
                                         prefixes: tuple[tuple[int, int], ...]) -> None:
    """Any batches, in any order within and past lateness, advancing or not in between:
    ``add_columns`` of the rows ends in the state (checkpoint) ``add`` of the tuples does;
    the per-event engine on the dict tables, the per-batch one on the C tables."""
    settings = load_settings(ROOT / "examples/contracts/loriot.yaml")
    settings = replace(settings, lorawan=replace(settings.lorawan, count_mac_only=mac_only,
                                                 devaddr_prefixes=prefixes),
                       slos=tuple(replace(s, scope_by=scope_by) if s.sli == "delivery" else s
                                  for s in settings.slos))
    with mock.patch.object(tables, "native", None):  # the dict tables, as without C
        per_event = Engine(settings)
    per_batch = Engine(settings)
    assert isinstance(per_event.slis[0], DeliverySLI)
    assert isinstance(per_event.slis[0]._pending, tables.DictTable)
    for events, advance in batches:
        _each(partial(per_event.feed, group(events)))
        _rows(partial(per_batch.feed_columns, _as_rows(events)))
        if advance:
            _each(per_event.advance)
            _rows(per_batch.advance)
    assert per_batch.snapshot() == per_event.snapshot()
    assert per_batch.store.as_dict() == per_event.store.as_dict()
    _each(per_event.flush)
    _rows(per_batch.flush)
    for events, _ in batches[:1]:  # after the end of input, later than anything before
        after = [e._replace(time_ms=e.time_ms + 1_000_000) for e in events
                 if not isinstance(e, BridgeOutage)]
        _each(partial(per_event.feed, group(after)))
        _rows(partial(per_batch.feed_columns, _as_rows(after)))
    assert per_batch.snapshot() == per_event.snapshot()
    assert per_batch.store.as_dict() == per_event.store.as_dict()


def test_the_per_batch_path_on_dict_tables_leaves_the_state_of_the_c_tables() -> None:
    """The fallback of a build without a C compiler, on the per-batch path: thousands of
    uplinks heard by several gateways, delivered or not, closed by the thousand."""
    rng = random.Random(7)
    events: list[Event] = []
    for i in range(6000):
        t = T0 + i * 40
        devaddr, fcnt = 0x26000000 + rng.randrange(500), rng.randrange(1 << 16)
        for gw in range(rng.randrange(1, 4)):
            events.append(UplinkReceived(t + gw, devaddr, fcnt, f"gw{gw}", "eu868", False, 1))
        if rng.random() < 0.9:
            events.append(UplinkDelivered(t + rng.randrange(50, 40_000), devaddr,
                                          fcnt + 0x10000, "a", "d"))
    with mock.patch.object(tables, "native", None):  # the dict tables, as without C
        pure = _engine()
    native = _engine()
    for at in range(0, len(events), 1500):
        for engine in (pure, native):
            _rows(partial(engine.feed_columns, _as_rows(events[at:at + 1500])))
            _rows(engine.advance)
    assert pure.snapshot() == native.snapshot()
    _rows(pure.flush)
    _rows(native.flush)
    assert pure.snapshot() == native.snapshot()
    assert _delivery(pure) == _delivery(native) and _delivery(native)["total"] > 5_000


def _each(step: Callable[[], None]) -> None:
    """``step`` with the delivery SLI closing its seconds key by key."""
    _with_close_min(1 << 60, step)


def _rows(step: Callable[[], None]) -> None:
    """``step`` with the delivery SLI closing its seconds with numpy, however few keys."""
    _with_close_min(0, step)


def _with_close_min(keys: int, step: Callable[[], None]) -> None:
    saved = delivery_rows.CLOSE_MIN_KEYS
    delivery_rows.CLOSE_MIN_KEYS = keys
    try:
        step()
    finally:
        delivery_rows.CLOSE_MIN_KEYS = saved


def _as_rows(events: list[Event]) -> ColumnBatch:
    """Events as the column batch the replay's fast path would make of them."""
    names = Names()
    received = bytearray()
    delivered = bytearray()
    outages = [e for e in events if isinstance(e, BridgeOutage)]
    for n, ev in enumerate(events):
        if isinstance(ev, UplinkReceived):
            received += UP_ROW.pack(ev.time_ms, ev.devaddr, ev.fcnt16, names.of(ev.gateway),
                                    names.of(ev.region), ev.confirmed, ev.fport, n)
        elif isinstance(ev, UplinkDelivered):
            delivered += DL_ROW.pack(ev.time_ms, ev.devaddr, ev.fcnt, names.of(ev.application),
                                     names.of(ev.device), names.of(ev.tenant), n)
    blocks = {UplinkReceived: rows(received, UP_WIDTH), UplinkDelivered: rows(delivered, DL_WIDTH)}
    kinds = [cls for cls in group(events).events if cls is BridgeOutage or len(blocks[cls])]
    others = {BridgeOutage: list(outages)} if outages else {}
    at = {BridgeOutage: [0] * len(outages)} if outages else {}
    return ColumnBatch(kinds, {cls: blocks[cls] for cls in kinds if cls in blocks}, others, at,
                       names.names, 0, Counter(), Counter(), 0, None, Counter())
