"""PartitionState: per-partition engines add up to the offline engine, and a replay from a
checkpoint re-emits exactly what the first run emitted (what makes restarts harmless)."""

from __future__ import annotations

import pytest

from slastream.engine import Engine
from slastream.model.events import BridgeOutage, RequestLog
from slastream.sli.delivery import DeliverySLI
from slastream.sli.slices import TOTAL
from slastream.sources.decoder import message_batches
from slastream.stream.partition import PartitionState, Timing, slos_for_stream, stream_of
from slastream.stream.records import (
    INJECT_KEY,
    TICK_KEY,
    SliceBatch,
    encode_inject,
    encode_tick,
)
from slastream.stream.view import LiveView
from slastream.transport import codec
from tests.stream.helpers import APP, messages, partition_records, settings

FLUSH = 2**62
TIMING = Timing(idle_s=1.0, checkpoint_interval_s=5.0, marker_timeout_s=5.0)


def run_partition(stream: str, partition: int, values: list[bytes],
                  state: PartitionState | None = None, first: int = 0,
                  flush: bool = True) -> tuple[PartitionState, list[SliceBatch]]:
    s = settings()
    state = state or PartitionState.fresh(s, stream, partition, APP, TIMING, 0.0)
    out = []
    for offset, value in enumerate(values[first:], start=first):
        batch = state.apply(offset, b"k", value, 0.0)
        if batch is not None:
            out.append(batch)
    if flush:
        batch = state.apply(len(values), TICK_KEY, encode_tick(APP, FLUSH), 0.0)
        if batch is not None:
            out.append(batch)
    return state, out


def test_every_slo_runs_on_exactly_one_stream() -> None:
    s = settings()
    names = [slo.name for st in (codec.LORAWAN, codec.GATEWAY, codec.SERVICE)
             for slo in slos_for_stream(s, st)]
    assert sorted(names) == sorted(slo.name for slo in s.slos)
    for slo in s.slos:
        assert slo in slos_for_stream(s, stream_of(slo))
    assert slos_for_stream(s, codec.CONTROL) == ()


def test_partitions_add_up_to_the_offline_engine() -> None:
    msgs = messages()
    view = LiveView(settings())
    for (stream, partition), values in partition_records(msgs).items():
        if slos_for_stream(settings(), stream):
            for batch in run_partition(stream, partition, values)[1]:
                assert view.apply(batch)
    offline = Engine(settings())
    for b in message_batches(msgs):
        offline.feed(b)
        offline.advance()
    offline.flush()
    live, want = view.store.as_dict(), offline.store.as_dict()
    assert live.keys() == want.keys() and live
    for key in want:
        # RX2 latency (uplink → downlink command) depends on how the engine's input is
        # split (it regroups a batch by event type), so only its counts are compared
        width = TOTAL + 1 if key[0] == "rx2" else len(want[key])
        assert live[key][:width] == want[key][:width], key


def test_replay_from_a_checkpoint_re_emits_identical_batches() -> None:
    records = partition_records(messages())
    stream, partition = codec.LORAWAN, 1
    values = records[(stream, partition)]
    cut = len(values) // 2
    s = settings()
    first = PartitionState.fresh(s, stream, partition, APP, TIMING, 0.0)
    run_partition(stream, partition, values[:cut], first, flush=False)
    snapshot = first.checkpoint(0.0)
    _, rest = run_partition(stream, partition, values, first, first=cut)
    # the "crash": a new worker restores the checkpoint and replays from its offset
    restored = PartitionState.restore(s, stream, partition, APP, TIMING, snapshot, 0.0)
    assert restored.offset == cut - 1
    _, replayed = run_partition(stream, partition, values, restored, first=cut)
    assert [b.encode() for b in replayed] == [b.encode() for b in rest]
    assert rest


def test_records_at_or_below_the_checkpoint_are_skipped() -> None:
    values = partition_records(messages())[(codec.SERVICE, 0)]
    state, _ = run_partition(codec.SERVICE, 0, values[:5], flush=False)
    before = state.engine.snapshot()
    assert state.apply(3, b"k", values[3], 0.0) is None
    assert state.engine.snapshot() == before


def test_a_caught_up_idle_partition_ticks_and_its_minutes_close() -> None:
    values = partition_records(messages(120))[(codec.SERVICE, 0)]
    s = settings()
    state = PartitionState.fresh(s, codec.SERVICE, 0, APP, TIMING, 0.0)
    for offset, value in enumerate(values):
        state.apply(offset, b"k", value, 100.0)
    open_minute = state.engine.as_of_minute
    assert state.tick_due(100.5, caught_up=True) is None  # not idle long enough
    assert state.tick_due(200.0, caught_up=False) is None  # still reading: never tick
    tick = state.tick_due(200.0, caught_up=True)
    assert tick is not None and tick.watermark_ms == \
        state.max_time_ms + 100_000 - s.lateness_s * 1000
    assert state.tick_due(200.1, caught_up=True) is None  # one tick in flight at a time
    batch = state.apply(len(values), TICK_KEY, encode_tick(APP, tick.watermark_ms), 200.2)
    assert batch is not None and batch.as_of_minute is not None
    assert batch.as_of_minute > open_minute
    assert batch.slices


def test_markers_of_another_application_are_ignored() -> None:
    values = partition_records(messages(120))[(codec.SERVICE, 0)]
    state, _ = run_partition(codec.SERVICE, 0, values, flush=False)
    wm = state.engine.watermark_ms
    assert state.apply(len(values), TICK_KEY, encode_tick("other-app", FLUSH), 0.0) is None
    assert state.engine.watermark_ms == wm
    assert state.apply(len(values) + 1, TICK_KEY, encode_tick(APP, None), 0.0) is None
    assert state.engine.watermark_ms == wm


def test_bridge_outages_are_injected_once() -> None:
    s = settings()
    state = PartitionState.fresh(s, codec.LORAWAN, 0, APP, TIMING, 0.0)
    outage = BridgeOutage(1000, 2000, "bridge-1")
    known = {(1000, 2000, "bridge-1"): outage}
    assert state.missing_outages(known, 0.0) == [outage]
    assert state.missing_outages(known, 1.0) == []  # sent, waiting for it to come back
    state.apply(0, INJECT_KEY, encode_inject(APP, [outage]), 2.0)
    state.apply(1, INJECT_KEY, encode_inject(APP, [outage]), 2.0)
    assert state.engine.outages == [outage]
    assert state.missing_outages(known, 100.0) == []


def test_an_unreadable_checkpoint_is_an_error() -> None:
    with pytest.raises(ValueError, match="unreadable checkpoint"):
        PartitionState.restore(settings(), codec.SERVICE, 0, APP, TIMING, b"garbage", 0.0)


def test_a_record_that_is_not_an_event_batch_is_counted_and_skipped() -> None:
    values = partition_records(messages(120))[(codec.SERVICE, 0)]
    state = PartitionState.fresh(settings(), codec.SERVICE, 0, APP, TIMING, 0.0)
    state.apply(0, b"k", b"not json", 0.0)
    state.apply(1, b"k", b'{"v": 99}', 0.0)
    for offset, value in enumerate(values, start=2):
        state.apply(offset, b"k", value, 0.0)
    assert state.bad_records == 2
    assert state.offset == len(values) + 1
    assert state.has_data


def test_only_what_an_sli_computes_changes_the_fingerprint() -> None:
    from slastream.config import parse_settings
    from slastream.stream.partition import PartitionState, Timing

    def state(slo: dict[str, object]) -> PartitionState:
        doc = {"slos": [{"name": "d", "sli": "delivery", "objective": 0.999, **slo}]}
        return PartitionState.fresh(parse_settings(doc), "lorawan", 0, "app", Timing(), 0.0)

    base = state({})
    same = parse_settings({"slos": [{"name": "d", "sli": "delivery", "objective": 0.9999,
                                     "description": "x", "alerting": {"period": "28d"}}]})
    assert not base.config_changed(same)
    other = parse_settings({"slos": [{"name": "d", "sli": "delivery", "objective": 0.999,
                                      "deadline_s": 10}]})
    assert base.config_changed(other)


def _slices(batches: list[SliceBatch]) -> dict[tuple[str, str, int], tuple[float, ...]]:
    out: dict[tuple[str, str, int], tuple[float, ...]] = {}
    for batch in batches:
        for slo, scope, minute, values in batch.slices:
            old = out.get((slo, scope, minute), (0.0,) * len(values))
            out[(slo, scope, minute)] = tuple(a + b for a, b in zip(old, values, strict=True))
    return out


def test_an_open_bridge_outage_holds_the_watermark_until_it_closes() -> None:
    """Ticks (and records) do not judge uplinks an outage may cover while it is open;
    once it closes the partition gives what it gives with the whole window known at once,
    also after a restore from a checkpoint taken in between."""
    s = settings()
    values = partition_records(messages())[(codec.LORAWAN, 0)]
    cut = len(values) // 3
    # the bridge loses the broker after the records before ``cut``: the outage starts at
    # their newest event time and lasts far longer than the lateness
    start = run_partition(codec.LORAWAN, 0, values[:cut], flush=False)[0].max_time_ms
    end = start + 60_000
    opened, closed = BridgeOutage(start, -1, "b"), BridgeOutage(start, end, "b")
    assert opened.open and not closed.open

    def run(markers: list[tuple[int, bytes, bytes]], restore_at: int | None = None
            ) -> tuple[PartitionState, list[SliceBatch]]:
        state = PartitionState.fresh(s, codec.LORAWAN, 0, APP, TIMING, 0.0)
        out: list[SliceBatch] = []
        offset = 0
        for i, value in enumerate([*values, None]):
            for key, marker in [(k, v) for at, k, v in markers if at == i]:
                if (batch := state.apply(offset, key, marker, 0.0)) is not None:
                    out.append(batch)
                offset += 1
            if restore_at == i:
                state = PartitionState.restore(s, codec.LORAWAN, 0, APP, TIMING,
                                               state.checkpoint(0.0), 0.0)
            if value is not None:
                if (batch := state.apply(offset, b"k", value, 0.0)) is not None:
                    out.append(batch)
                offset += 1
        return state, out

    whole = [(cut, INJECT_KEY, encode_inject(APP, [closed])),
             (len(values), TICK_KEY, encode_tick(APP, FLUSH))]
    held = [(cut, INJECT_KEY, encode_inject(APP, [opened])),
            (cut + 1, TICK_KEY, encode_tick(APP, FLUSH)),
            (len(values) - 1, TICK_KEY, encode_tick(APP, FLUSH)),
            (len(values), INJECT_KEY, encode_inject(APP, [closed])),
            (len(values), TICK_KEY, encode_tick(APP, FLUSH))]
    unheld = [(cut + 1, TICK_KEY, encode_tick(APP, FLUSH)),
              (len(values), INJECT_KEY, encode_inject(APP, [closed])),
              (len(values), TICK_KEY, encode_tick(APP, FLUSH))]
    expected = _slices(run(whole)[1])
    for restore_at in (None, cut, len(values) - 1):
        state, batches = run(held[:3], restore_at)
        assert state.hold_ms == start
        assert state.engine.watermark_ms <= start
        state.last_record_s = -1000.0  # long idle: no tick goes past the start
        tick = state.tick_due(0.0, caught_up=True)
        assert tick is None or (tick.watermark_ms or 0) <= start
        state, batches = run(held, restore_at)
        assert state.hold_ms is None
        assert _slices(batches) == expected
        assert sum(sli.outage_excluded for sli in state.engine.slis
                   if isinstance(sli, DeliverySLI)) > 0
    # without the announcement, the ticks judged the uplinks before the window was known
    assert _slices(run(unheld)[1]) != expected


def test_a_record_of_a_newer_version_is_counted_logged_and_skipped(
        caplog: pytest.LogCaptureFixture) -> None:
    # what a worker of this release does with a bridge's record of a later version
    newer = bytearray(codec.encode_batch([RequestLog(1_790_000_000_000, "api", 1.0, 200, "c")]))
    newer[4] = 4
    state = PartitionState.fresh(settings(), codec.SERVICE, 0, APP, TIMING, 0.0)
    with caplog.at_level("WARNING", logger="slastream.stream.partition"):
        state.apply(0, b"k", bytes(newer), 0.0)
        state.apply(1, b"k", bytes(newer), 0.0)
    assert state.bad_records == 2 and not state.has_data
    [line] = [r.getMessage() for r in caplog.records]  # the first of a run, not each
    assert "service[0] offset 0: skipped a record" in line and "v2/v3" in line
