"""The RX2 SLI's recent uplinks as ints (``sli/rx2_recent.py``) hold what lists of (time,
region) per (gateway, DevAddr) held, in the same order and as the same checkpoint rows,
however the copies come: one by one, as rows, in batches split anywhere."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.events import DownlinkAck, DownlinkCommand, Event, UplinkReceived
from slastream.sli import rx2
from slastream.sli.rx2_lists import lists_from_columns
from slastream.sli.rx2_recent import RecentUplinks
from slastream.sli.state import State
from slastream.sources.columns import UP_ROW, UP_WIDTH, ColumnBatch, Names, rows
from slastream.sources.decoder import group

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_790_000_000_000 // 60_000 * 60_000

GATEWAYS = ["gw-a", "gw-b", "eui-0016c001ff10a235"]
# DevAddrs of 31 and 32 bits; the odd ones (only a hand-written event or checkpoint has
# them) are keyed apart
DEVADDRS = [0x26000001, 0x26000002, 0xFE000001, 0, 0xFFFFFFFF]
ODD_DEVADDRS = [-1, 1 << 40]
REGIONS = ["eu868", "us915", "as923-1"]
# copies of a time, and times on both sides of the pruning bound of the tests below
_DT = st.one_of(st.sampled_from([0, 1, 2_000, 7_000, 62_000, 62_001]),
                st.integers(min_value=0, max_value=400_000))
_COPY = st.tuples(st.builds(lambda dt: T0 + dt, _DT), st.sampled_from(DEVADDRS),
                  st.sampled_from(GATEWAYS), st.sampled_from(REGIONS))
_ODD_COPY = st.tuples(st.sampled_from([T0, -5, 1 << 50, T0 + 1]),
                      st.sampled_from([*DEVADDRS, *ODD_DEVADDRS]), st.sampled_from(GATEWAYS),
                      st.sampled_from(REGIONS))

Copy = tuple[int, int, str, str]


class Lists:
    """The representation before: (gateway, DevAddr) -> [(time, region), ...], newest last."""

    def __init__(self) -> None:
        self.d: dict[tuple[str, int], list[tuple[int, str]]] = {}

    def add(self, t: int, devaddr: int, gateway: str, region: str) -> None:
        recent = self.d.get((gateway, devaddr))
        if recent is None:
            self.d[(gateway, devaddr)] = [(t, region)]
        elif recent[-1][0] < t:
            recent.append((t, region))
        elif all(x != t for x, _ in recent):
            recent.append((t, region))
            recent.sort()

    def prune(self, keep: int) -> None:
        self.d = {k: [u for u in r if u[0] >= keep] for k, r in self.d.items()
                  if r[-1][0] >= keep}

    def newest_at(self, gateway: str, devaddr: int, time_ms: int) -> tuple[int, str] | None:
        for t, region in reversed(self.d.get((gateway, devaddr), ())):
            if t <= time_ms:
                return (t, region)
        return None

    def columns(self) -> State:
        """The keyed table as the lists were stored."""
        keys, lists = list(self.d), list(self.d.values())
        newest = [u[-1] for u in lists]
        older = [x for u in lists if len(u) > 1 for x in u[:-1]]
        gateways = sorted({gw for gw, _ in keys})
        regions = sorted({r for _, r in newest} | {r for _, r in older})
        g_index = {g: i for i, g in enumerate(gateways)}
        r_index = {r: i for i, r in enumerate(regions)}
        g_key = {g: zlib.crc32(g.encode()) >> 1 << 32 for g in gateways}

        def col(values: list[int]) -> Any:
            return np.array(values, dtype=np.int64)
        return {
            "gateway_names": gateways, "region_names": regions,
            "recent_key": col([g_key[g] | d & 0xFFFFFFFF for g, d in keys]),
            "recent_gateway": col([g_index[g] for g, _ in keys]),
            "recent_devaddr": col([d for _, d in keys]),
            "recent_time_ms": col([t for t, _ in newest]),
            "recent_region": col([r_index[r] for _, r in newest]),
            "recent_older": col([len(u) - 1 for u in lists]),
            "older_time_ms": col([t for t, _ in older]),
            "older_region": col([r_index[r] for _, r in older]),
        }


def _same(recent: RecentUplinks, lists: Lists) -> None:
    assert list(recent.lists().items()) == list(lists.d.items())
    got, want = recent.columns(), lists.columns()
    assert list(got) == list(want)
    for name, value in want.items():
        if isinstance(value, np.ndarray):
            assert got[name].dtype == np.int64 and got[name].tolist() == value.tolist(), name
        else:
            assert got[name] == value, name
    again = RecentUplinks.from_state(got)
    assert list(again.lists().items()) == list(lists.d.items())


def _add_rows(recent: RecentUplinks, copies: list[Copy]) -> None:
    names = Names()
    names.of("device-name")  # name columns index a table shared with other columns
    block = np.array([[t, d, names.of(g), names.of(r)] for t, d, g, r in copies],
                     dtype=np.int64).reshape(-1, 4)
    recent.add_rows(block[:, 0], block[:, 1], block[:, 2], block[:, 3], names.names)


_STEP = st.one_of(
    st.tuples(st.just("rows"), st.lists(_COPY, max_size=24)),
    st.tuples(st.just("one"), st.lists(st.one_of(_COPY, _ODD_COPY), max_size=6)),
    st.tuples(st.just("odd rows"), st.lists(st.one_of(_COPY, _ODD_COPY), max_size=6)),
    st.tuples(st.just("prune"), st.integers(min_value=-10, max_value=400_000)))


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(_STEP, max_size=8),
       queries=st.lists(st.tuples(st.sampled_from([*GATEWAYS, "gw-unheard"]),
                                  st.sampled_from([*DEVADDRS, *ODD_DEVADDRS]), _DT), max_size=8))
def test_the_entries_are_those_the_lists_held(steps: list[tuple[str, Any]],
                                             queries: list[tuple[str, int, int]]) -> None:
    recent, lists = RecentUplinks(), Lists()
    for kind, arg in steps:
        if kind == "prune":
            recent.prune(T0 + arg)
            lists.prune(T0 + arg)
        else:
            if kind == "one":
                for copy in arg:
                    recent.add(*copy)
            else:
                _add_rows(recent, arg)
            for copy in arg:
                lists.add(*copy)
        _same(recent, lists)
        for gw, devaddr, dt in queries:
            assert recent.newest_at(gw, devaddr, T0 + dt) == lists.newest_at(gw, devaddr,
                                                                            T0 + dt)


def test_region_names_past_the_packing_widen_it() -> None:
    recent, lists = RecentUplinks(), Lists()
    copies = [(T0 + i % 7, i % 3, "gw", f"r{i}") for i in range(70_000)]
    _add_rows(recent, copies[:100])
    for copy in copies[100:]:
        recent.add(*copy)
    for copy in copies:
        lists.add(*copy)
    assert recent.shift > 16
    _add_rows(recent, [*copies[-5:], (T0 + 9, 5, "gw", "eu868")])  # rows go one by one
    lists.add(T0 + 9, 5, "gw", "eu868")
    _same(recent, lists)


def test_the_name_tables_shrink_as_the_entries_go() -> None:
    recent, lists = RecentUplinks(), Lists()
    for i in range(3_000):
        copy = (T0 + i, 7, f"gw-{i}", f"region-{i}")
        recent.add(*copy)
        lists.add(*copy)
    recent.prune(T0 + 2_990)
    lists.prune(T0 + 2_990)
    assert len(recent.gateways) == len(recent.regions) == 10
    _same(recent, lists)


# ------------------------------------------------------------- the SLI, per event and per batch

_ID = st.integers(min_value=0, max_value=5)
_COMMAND = st.builds(
    lambda dt, gw, i, d, delays, ja: DownlinkCommand(T0 + dt, gw, i, d, delays, ja),
    _DT, st.sampled_from(GATEWAYS), _ID, st.sampled_from(DEVADDRS),
    st.sampled_from([(1_000, 2_000), (2_000,), (5_000, 6_000), (-1,)]), st.booleans())
_ACK = st.builds(lambda dt, gw, i, s: DownlinkAck(T0 + dt, gw, i, s),
                 _DT, st.sampled_from(GATEWAYS), _ID,
                 st.sampled_from([("OK",), ("TOO_LATE", "OK"), ("TOO_EARLY",), ()]))
_UPLINK = st.builds(lambda c, fcnt: UplinkReceived(c[0], c[1], fcnt, c[2], c[3], False),
                    _COPY, st.integers(min_value=0, max_value=3))
_EVENTS = st.lists(st.one_of(_UPLINK, _UPLINK, _COMMAND, _ACK), max_size=20)


def _engine() -> Engine:
    base = load_settings(ROOT / "examples/contracts/loriot.yaml")
    return Engine(replace(base, slos=(base.slo("rx2-reach"),), contracts=()))


def _as_rows(events: list[Event]) -> ColumnBatch:
    """Events as the replay's fast path hands them over: the uplinks as rows."""
    names = Names()
    packed = bytearray()
    others: dict[type, list[Event]] = {}
    for n, ev in enumerate(events):
        if isinstance(ev, UplinkReceived):
            packed += UP_ROW.pack(ev.time_ms, ev.devaddr, ev.fcnt16, names.of(ev.gateway),
                                  names.of(ev.region), ev.confirmed, ev.fport, n)
        else:
            others.setdefault(type(ev), []).append(ev)
    block = rows(packed, UP_WIDTH)
    kinds = [cls for cls in group(events).events
             if cls is not UplinkReceived or len(block)]
    return ColumnBatch(kinds, {UplinkReceived: block} if len(block) else {}, others,
                       {cls: [0] * len(evs) for cls, evs in others.items()}, names.names,
                       len(events), Counter(), Counter(), 0, None, Counter())


@contextmanager
def _pruning_after(uplinks: int) -> Iterator[None]:
    saved = rx2.PRUNE_AFTER
    rx2.PRUNE_AFTER = uplinks
    try:
        yield
    finally:
        rx2.PRUNE_AFTER = saved


@pytest.mark.parametrize("prune_after", [0, 3, 10_000])
@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.tuples(_EVENTS, st.booleans()), max_size=6))
def test_rows_leave_the_state_add_leaves(prune_after: int,
                                         batches: list[tuple[list[Event], bool]]) -> None:
    """Batches in any order within and past lateness, advancing or not in between, pruning
    at every chance or never: the rows end in the checkpoint the tuples end in."""
    per_event, per_batch = _engine(), _engine()
    with _pruning_after(prune_after):
        for events, advance in batches:
            per_event.feed(group(events))
            per_batch.feed_columns(_as_rows(events))
            if advance:
                per_event.advance()
                per_batch.advance()
            assert per_batch.snapshot() == per_event.snapshot()
        per_event.flush()
        per_batch.flush()
    assert per_batch.snapshot() == per_event.snapshot()
    assert per_batch.store.as_dict() == per_event.store.as_dict()


@settings(max_examples=100, deadline=None)
@given(events=st.lists(st.one_of(_UPLINK, _UPLINK, _UPLINK, _COMMAND), max_size=40),
       cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=5))
def test_any_split_of_a_batch_leaves_the_same_state(events: list[Event],
                                                     cuts: list[int]) -> None:
    whole, split, one_by_one = _engine(), _engine(), _engine()
    whole.feed_columns(_as_rows(events))
    bounds = [0, *sorted(cuts), len(events)]
    for a, b in pairwise(bounds):
        split.feed_columns(_as_rows(events[a:b]))
    for ev in events:
        one_by_one.feed(group([ev]))
    assert split.snapshot() == whole.snapshot() == one_by_one.snapshot()
    restored = Engine.restore(whole.settings, whole.snapshot())
    assert restored.snapshot() == whole.snapshot()


def test_a_restored_entry_holding_a_time_twice_sorts_as_its_list_did() -> None:
    """Only a hand-written checkpoint holds a time twice in an entry: an earlier uplink
    sorts it by time, then region name, as the list of pairs sorted."""
    recent, lists = RecentUplinks(), Lists()
    held = {("gw", 7): [(T0 + 5, "us915"), (T0 + 5, "eu868"), (T0 + 9, "as923-1")]}
    recent.extend({k: list(v) for k, v in held.items()})
    lists.d = {k: list(v) for k, v in held.items()}
    recent.add(T0 + 1, 7, "gw", "eu868")
    lists.add(T0 + 1, 7, "gw", "eu868")
    _same(recent, lists)


@pytest.mark.parametrize("second_older", [0, 1])
def test_a_restored_table_keying_an_entry_twice_reads_as_the_rows_did(
        second_older: int) -> None:
    """Only a hand-written checkpoint keys an entry twice: the entry stays where it first
    was, with what its last row holds."""
    lists = Lists()
    for copy in [(T0, 1, "gw", "eu868"), (T0 + 5, 1, "gw", "us915"), (T0 + 1, 2, "gw", "eu868"),
                 (T0 + 2, 3, "gw", "eu868"), (T0 + 7, 3, "gw", "eu868")][:5 - 2 * second_older]:
        lists.add(*copy)
    state = lists.columns()
    state["recent_devaddr"][-1] = state["recent_devaddr"][0]
    state["recent_key"][-1] = state["recent_key"][0]
    want = lists_from_columns(state)
    assert len(want) == len(lists.d) - 1
    assert list(RecentUplinks.from_state(state).lists().items()) == list(want.items())
