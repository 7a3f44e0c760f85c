"""Checkpoints (``slastream/checkpoint/``): a restored engine or partition continues exactly
where the original was, whether the checkpoint was written by this release (version 2) or
by the one that pickled objects (version 1, ``fixtures/checkpoint-v1-*.bin``)."""

from __future__ import annotations

import functools
import json
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slastream.checkpoint import document, v1
from slastream.checkpoint.chain import ChainWriter
from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.model.ledger import ledger_json
from slastream.sli.delivery import DeliverySLI
from slastream.sli.rx2 import RX2SLI
from slastream.sources.capture import Message
from slastream.sources.decoder import message_batches
from slastream.stream.partition import PartitionState, Timing
from slastream.stream.records import TICK_KEY, encode_tick
from slastream.transport import codec
from tests.stream import helpers

FIXTURES = Path(__file__).parent / "fixtures"
TIMING = Timing(idle_s=1.0, checkpoint_interval_s=5.0, marker_timeout_s=5.0)
FLUSH = 2**62


# ----------------------------------------------------------------------------- version 1


def _fixture() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / "checkpoint-v1.json").read_text())
    return doc


@pytest.mark.parametrize("stream", [codec.LORAWAN, codec.GATEWAY, codec.SERVICE])
def test_a_version_1_checkpoint_continues_like_the_uninterrupted_run(stream: str) -> None:
    fixture = _fixture()
    part = next(p for p in fixture["partitions"] if p["stream"] == stream)
    s = parse_settings(fixture["config"], "fixture.yaml")
    data = (FIXTURES / f"checkpoint-v1-{stream}.bin").read_bytes()
    state = PartitionState.restore(s, stream, part["partition"], fixture["app_id"], TIMING,
                                   data, 0.0)
    assert state.offset == part["first_offset"] - 1
    assert not state.config_changed(s)
    out = []
    for offset, (key, value) in enumerate(part["records"], start=part["first_offset"]):
        batch = state.apply(offset, key.encode(), value.encode(), 0.0)
        if batch is not None:
            out.append(batch.encode().decode())
    assert out == part["batches"]
    assert len(out) > 1


def test_the_version_1_fixture_has_everything_in_flight() -> None:
    fixture = _fixture()
    s = parse_settings(fixture["config"], "fixture.yaml")
    restored = {stream: PartitionState.restore(
        s, stream, 0, fixture["app_id"], TIMING,
        (FIXTURES / f"checkpoint-v1-{stream}.bin").read_bytes(), 0.0)
        for stream in (codec.LORAWAN, codec.GATEWAY, codec.SERVICE)}
    delivery = restored[codec.LORAWAN].engine.slis[0]
    assert isinstance(delivery, DeliverySLI)
    assert delivery.tracked and delivery.state()["outages_ms"].tolist()
    assert restored[codec.LORAWAN].outages and restored[codec.LORAWAN].engine.outages
    rx2 = restored[codec.GATEWAY].engine.slis[0]
    assert isinstance(rx2, RX2SLI) and rx2.state()["commands"]
    assert all(sli.state()["open_scopes"] for sli in restored[codec.SERVICE].engine.slis)


def test_a_version_1_engine_snapshot_alone_is_read_too() -> None:
    fixture = _fixture()
    s = parse_settings(fixture["config"], "fixture.yaml")
    data = (FIXTURES / f"checkpoint-v1-{codec.LORAWAN}.bin").read_bytes()
    state = PartitionState.restore(s, codec.LORAWAN, 0, fixture["app_id"], TIMING, data, 0.0)
    inner = v1.migrate(data)["engine"]
    engine_bytes = pickle.loads(zlib.decompress(data))["engine"]  # our own fixture
    engine = Engine.restore(state.engine.settings, engine_bytes)
    assert engine.snapshot() == state.engine.snapshot() == document.encode({"engine": inner})


def test_a_version_1_checkpoint_may_not_name_other_classes() -> None:
    inner = pickle.dumps({"slis": [print]}, protocol=pickle.HIGHEST_PROTOCOL)
    outer = {"version": 1, "offset": 1, "last_as_of": None, "outages": [],
             "bad_records": 0, "fingerprint": "x", "engine": inner}
    data = zlib.compress(pickle.dumps(outer, protocol=pickle.HIGHEST_PROTOCOL), 1)
    with pytest.raises(ValueError, match=r"builtins\.print is not allowed"):
        document.decode(data)


# ----------------------------------------------------------------------------- version 2


@functools.cache
def _records(stream: str, partition: int) -> tuple[tuple[bytes, bytes], ...]:
    values = helpers.partition_records(helpers.messages(180))[(stream, partition)]
    flush = (TICK_KEY, encode_tick(helpers.APP, FLUSH))
    return (*((b"k", v) for v in values), flush)


def _apply(state: PartitionState, records: tuple[tuple[bytes, bytes], ...],
           first: int) -> list[bytes]:
    out = []
    for offset, (key, value) in enumerate(records, start=first):
        batch = state.apply(offset, key, value, 0.0)
        if batch is not None:
            out.append(batch.encode())
    return out


@settings(max_examples=12, deadline=None)
@given(stream=st.sampled_from([(codec.LORAWAN, 1), (codec.GATEWAY, 0), (codec.SERVICE, 0)]),
       cut=st.integers(0, 1000))
def test_restore_anywhere_then_continue_gives_the_same_batches(stream: tuple[str, int],
                                                                cut: int) -> None:
    records = _records(*stream)
    cut %= len(records) + 1
    s = helpers.settings()
    fresh = functools.partial(PartitionState.fresh, s, *stream, helpers.APP, TIMING, 0.0)
    whole = _apply(fresh(), records, 0)
    first = fresh()
    before = _apply(first, records[:cut], 0)
    data = first.checkpoint(0.0)
    restored = PartitionState.restore(s, *stream, helpers.APP, TIMING, data, 0.0)
    assert restored.checkpoint(0.0) == data
    assert before + _apply(restored, records[cut:], cut) == whole
    assert whole
    # the same from an incremental chain: a base half way, a delta at the cut
    chained = fresh()
    chained.chain = ChainWriter(compact_ratio=1e9)  # a delta even where a base is smaller
    before = _apply(chained, records[:cut // 2], 0)
    base = chained.checkpoint_piece(0.0)
    before += _apply(chained, records[cut // 2:cut], cut // 2)
    step = chained.checkpoint_piece(0.0)
    assert (base.kind, step.kind) == ("base", "delta")
    restored = PartitionState.restore(s, *stream, helpers.APP, TIMING, base.data, 0.0,
                                      [step.data])
    assert restored.checkpoint(0.0) == data
    assert before + _apply(restored, records[cut:], cut) == whole


@settings(max_examples=6, deadline=None)
@given(cuts=st.lists(st.integers(0, 10**6), min_size=1, max_size=4))
def test_an_engine_snapshot_restores_to_the_same_ledger(cuts: list[int]) -> None:
    msgs = _messages()
    bounds = sorted(c % len(msgs) for c in cuts)
    assert _ledger(msgs, bounds, restore=True) == _ledger(msgs, bounds, restore=False)


@functools.cache
def _messages() -> tuple[Message, ...]:
    return tuple(helpers.messages(120))


def _ledger(msgs: tuple[Message, ...], cuts: list[int], restore: bool) -> dict[str, Any]:
    s = helpers.settings()
    engine = Engine(s)
    start = 0
    for cut in cuts:
        for batch in message_batches(msgs[start:cut]):
            engine.feed(batch)
        if restore:
            snapshot = engine.snapshot()
            engine = Engine.restore(s, snapshot)
            assert engine.snapshot() == snapshot
        start = cut
    for batch in message_batches(msgs[start:]):
        engine.feed(batch)
    engine.flush()
    return ledger_json(engine.ledger())


def _malformed() -> list[bytes]:
    good = Engine(helpers.settings()).snapshot()
    body = zlib.decompress(good[6:])
    (size,) = struct.unpack_from(">I", body)
    header = json.loads(body[4:4 + size])
    header["arrays"][0][0] = "|O"
    evil = json.dumps(header).encode()
    return [
        b"", b"SLCK", good[:-3], good[:6] + b"not zlib",
        good[:6] + zlib.compress(body + b"extra", 1),
        good[:6] + zlib.compress(struct.pack(">I", len(evil)) + evil + body[4 + size:], 1),
        document.encode({"engine": {"slis": "nothing"}}),
        document.encode({"no engine": 1}),
    ]


@pytest.mark.parametrize("data", _malformed())
def test_a_malformed_checkpoint_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="unreadable checkpoint"):
        Engine.restore(helpers.settings(), data)


def test_an_unknown_version_is_a_value_error() -> None:
    data = Engine(helpers.settings()).snapshot()
    with pytest.raises(ValueError, match="version 9 is not supported"):
        Engine.restore(helpers.settings(), data[:4] + b"\x00\x09" + data[6:])
