"""Incremental checkpoints (``checkpoint/chain.py``, ``delta.py``, ``records.py``): a base
and its deltas restore to exactly the state a full snapshot holds, compaction starts a new
chain, and a crash at any write leaves a chain that continues like the uninterrupted run."""

from __future__ import annotations

import functools
import zlib
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slastream.checkpoint import delta, document
from slastream.checkpoint.chain import ChainWriter, Piece
from slastream.checkpoint.schema import engine_state
from slastream.sli.delivery import DeliverySLI
from slastream.sli.state import groups_to_columns
from slastream.sli.table import entries
from slastream.stream import records
from slastream.stream.partition import PartitionState, Timing
from slastream.stream.records import (
    TICK_KEY,
    CheckpointHead,
    encode_tick,
    read_checkpoint,
    write_checkpoint,
)
from slastream.transport import codec
from tests.stream import helpers

TIMING = Timing(idle_s=1.0, checkpoint_interval_s=5.0, marker_timeout_s=5.0)
FLUSH = 2**62
Records = tuple[tuple[bytes, bytes], ...]


# --------------------------------------------------------------------------- documents

_ops = st.lists(st.tuples(st.sampled_from(["set", "del", "grow", "pop", "touch"]),
                          st.integers(0, 40), st.integers(-3, 3)), max_size=60)


def _doc(table: dict[int, tuple[int, int]], groups: dict[int, list[int]],
         extra: Any, by_key: bool = False) -> dict[str, Any]:
    """A document shaped like an SLI state: a keyed table (in the dict's order, or in
    increasing key order as the delivery SLI's tables), groups, other fields."""
    rows = sorted(table.items()) if by_key else list(table.items())
    return {"engine": {"slis": [{
        "rows_key": np.array([k for k, _ in rows], dtype=np.int64),
        "rows_time": np.array([v[0] for _, v in rows], dtype=np.int64),
        "rows_pair": np.array([list(v) for _, v in rows], dtype=np.float64).reshape(-1, 2),
        "rows_flag": np.array([v[1] % 2 for _, v in rows], dtype=np.bool_),
        "buckets": groups_to_columns(groups),
        "counter": extra, "names": [str(k) for k in groups]}]}}


def _run(ops: list[tuple[str, int, int]], table: dict[int, tuple[int, int]],
         groups: dict[int, list[int]]) -> Any:
    extra: Any = 0
    for op, key, value in ops:
        if op == "set":
            table[key] = (value, key + value)
        elif op == "del":
            table.pop(key, None)
        elif op == "grow":
            groups.setdefault(key % 7, []).append(value)
        elif op == "pop":
            groups.pop(key % 7, None)
        else:
            extra = value if value else [value, "x", 1.5]
    return extra


@pytest.mark.parametrize("by_key", [False, True], ids=["dict-order", "key-order"])
@settings(max_examples=150, deadline=None)
@given(first=_ops, steps=st.lists(_ops, min_size=1, max_size=4))
def test_a_chain_of_deltas_decodes_to_the_last_document(
        by_key: bool, first: list[tuple[str, int, int]],
        steps: list[list[tuple[str, int, int]]]) -> None:
    table: dict[int, tuple[int, int]] = {}
    groups: dict[int, list[int]] = {}
    writer = ChainWriter(compact_ratio=1e9)  # never compacts: every step is a delta
    base = writer.next(_doc(table, groups, _run(first, table, groups), by_key))
    assert base.kind == "base"
    deltas = []
    for ops in steps:
        doc = _doc(table, groups, _run(ops, table, groups), by_key)
        piece = writer.next(doc)
        assert piece.kind == "delta"
        deltas.append(piece.data)
        assert document.encode(document.decode_chain(base.data, deltas)) == \
            document.encode(doc)


def test_a_chain_compacts_after_at_most_max_deltas() -> None:
    table = {k: (k, k) for k in range(1000)}
    writer = ChainWriter(compact_ratio=1.0, max_deltas=3)
    kinds = []
    for step in range(9):
        table[step] = (step, -step)  # a change far smaller than the table
        kinds.append(writer.next(_doc(table, {}, 0)).kind)
        assert writer.deltas <= 3
    assert kinds == ["base", "delta", "delta", "delta"] * 2 + ["base"]


@pytest.mark.parametrize("by_key", [False, True], ids=["dict-order", "key-order"])
def test_a_delta_holds_the_rows_that_changed_not_the_table(by_key: bool) -> None:
    table = {2 * k: (k, k) for k in range(100_000)}
    groups = {s: list(range(s * 1000, s * 1000 + 1000)) for s in range(100)}
    old = _doc(table, groups, 0, by_key)
    for k in range(100):
        del table[2 * k]
        table[1001 + 2 * k] = (1, 1)  # between kept keys
    table[500] = (7, 7)
    groups[99].append(5)
    groups.pop(0)
    new = _doc(table, groups, 0, by_key)
    change = delta.diff(old, new)
    assert change is not None and "rows_" in change[delta.DICT]["engine"][delta.DICT][
        "slis"][delta.LIST][0][delta.ROWS]
    base = document.encode(old)
    data = document.encode_delta(change, base, 1)
    assert len(data) < len(base) / 50
    assert document.encode(document.decode_chain(base, [data])) == document.encode(new)
    assert delta.diff(new, new) is None


# -------------------------------------------------------------------------- partitions


@functools.cache
def _records(stream: str, partition: int) -> Records:
    values = helpers.partition_records(helpers.messages(180))[(stream, partition)]
    return (*((b"k", v) for v in values), (TICK_KEY, encode_tick(helpers.APP, FLUSH)))


def _fresh(stream: tuple[str, int], compact_ratio: float = 1.0) -> PartitionState:
    state = PartitionState.fresh(helpers.settings(), *stream, helpers.APP, TIMING, 0.0)
    state.chain = ChainWriter(compact_ratio)
    return state


def _restore(stream: tuple[str, int], base: bytes, deltas: list[bytes]) -> PartitionState:
    return PartitionState.restore(helpers.settings(), *stream, helpers.APP, TIMING, base,
                                  0.0, deltas)


def _batches(state: PartitionState, recs: Records, first: int) -> list[bytes]:
    out = []
    for offset, (key, value) in enumerate(recs[first:], start=first):
        batch = state.apply(offset, key, value, 0.0)
        if batch is not None:
            out.append(batch.encode())
    return out


STREAMS = [(codec.LORAWAN, 1), (codec.GATEWAY, 0), (codec.SERVICE, 0)]


@pytest.mark.parametrize("stream", STREAMS)
def test_base_and_deltas_restore_what_a_full_snapshot_holds(stream: tuple[str, int]) -> None:
    recs = _records(*stream)
    state = _fresh(stream, compact_ratio=0.6)
    base, deltas, kinds = b"", [], []
    for offset, (key, value) in enumerate(recs):
        state.apply(offset, key, value, 0.0)
        piece = state.checkpoint_piece(0.0)
        kinds.append(piece.kind)
        base, deltas = (piece.data, []) if piece.kind == "base" else (base, [*deltas,
                                                                              piece.data])
        restored = _restore(stream, base, deltas)
        assert restored.checkpoint(0.0) == state.checkpoint(0.0)
        assert not state.dirty
    # deltas, and compactions into a new base when they outgrow it
    assert kinds[0] == "base" and "delta" in kinds and kinds.count("base") > 1


def test_the_delivery_tables_are_stored_by_the_rows_that_changed() -> None:
    recs = _records(codec.LORAWAN, 1)
    state = _fresh((codec.LORAWAN, 1))
    n = len(recs) // 2
    for offset, (key, value) in enumerate(recs[:n]):
        state.apply(offset, key, value, 0.0)
    before = engine_state(state.engine)
    state.apply(n, *recs[n], 0.0)
    change = delta.diff(before, engine_state(state.engine))
    assert change is not None
    sli = change[delta.DICT]["slis"][delta.LIST][0][delta.DICT]["state"]
    assert set(sli[delta.ROWS]) == {"pending_", "done_"}
    assert not [k for k in sli.get(delta.DICT, {}) if k.startswith(("pending_", "done_"))
                and not k.endswith("buckets")]
    assert delta.GROUPS in sli[delta.DICT]["done_buckets"]
    assert len(before["slis"][0]["state"]["done_key"]) > 50  # tombstones in flight
    added = sli[delta.ROWS]["done_"]["added"]["done_key"]
    assert len(added) < len(before["slis"][0]["state"]["done_key"])


def test_the_rx2_recent_uplinks_are_stored_by_the_rows_that_changed() -> None:
    recs = _records(codec.GATEWAY, 0)
    state = _fresh((codec.GATEWAY, 0))
    n = len(recs) // 2
    for offset, (key, value) in enumerate(recs[:n]):
        state.apply(offset, key, value, 0.0)
    before = engine_state(state.engine)
    rows = before["slis"][0]["state"]
    assert len(rows["recent_key"]) > 100 and len(rows["older_time_ms"]) > 50
    state.apply(n, *recs[n], 0.0)
    change = delta.diff(before, engine_state(state.engine))
    assert change is not None
    sli = change[delta.DICT]["slis"][delta.LIST][0][delta.DICT]["state"]
    assert set(sli[delta.ROWS]) == {"recent_"}
    assert len(sli[delta.ROWS]["recent_"]["added"]["recent_key"]) < len(rows["recent_key"])


def test_an_rx2_state_with_an_index_out_of_its_names_is_unreadable() -> None:
    recs = _records(codec.GATEWAY, 0)
    state = _fresh((codec.GATEWAY, 0))
    for offset, (key, value) in enumerate(recs[:10]):
        state.apply(offset, key, value, 0.0)
    doc = state._document()
    doc["engine"]["slis"][0]["state"]["gateway_names"] = []
    with pytest.raises(ValueError, match=r"unreadable checkpoint: .*gateway index"):
        _restore((codec.GATEWAY, 0), document.encode(doc), [])


def test_a_restored_delivery_sli_holds_the_same_uplinks() -> None:
    recs = _records(codec.LORAWAN, 1)
    state = _fresh((codec.LORAWAN, 1))
    for offset, (key, value) in enumerate(recs[:len(recs) // 2]):
        state.apply(offset, key, value, 0.0)
    restored = _restore((codec.LORAWAN, 1), state.checkpoint(0.0), [])
    live, back = state.engine.slis[0], restored.engine.slis[0]
    assert isinstance(live, DeliverySLI) and isinstance(back, DeliverySLI)
    for table, groups in (("_pending", "_buckets"), ("_done", "_done_buckets")):
        held, again = entries(getattr(live, table)), entries(getattr(back, table))
        assert len(held[0]) and held[0].tolist() == again[0].tolist()
        assert [c.tolist() for c in held[1]] == [c.tolist() for c in again[1]]
        assert getattr(live, groups) == getattr(back, groups)


# ------------------------------------------------------------------------------ crashes


class Crash(Exception):
    pass


class CrashingTable(dict[bytes, bytes]):
    """The checkpoint table; the write after ``budget`` writes never happens."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if self.budget == 0:
            raise Crash
        self.budget -= 1
        super().__setitem__(key, value)


def _live(stream: tuple[str, int], table: CrashingTable, recs: Records,
          every: int) -> tuple[Piece, CheckpointHead | None] | None:
    """A worker checkpointing every ``every`` records until the table stops taking
    writes: the piece and head it was writing then (``None``: it never crashed)."""
    state = _fresh(stream, compact_ratio=2.0)  # small states: deltas and compactions
    head: CheckpointHead | None = None
    for offset, (key, value) in enumerate(recs):
        state.apply(offset, key, value, 0.0)
        if offset % every == every - 1:
            piece = state.checkpoint_piece(0.0)
            try:
                head = write_checkpoint(table, *stream, head, piece, state.offset)
            except Crash:
                return piece, head
    return None


@pytest.mark.parametrize("stream", [(codec.LORAWAN, 1), (codec.GATEWAY, 0)])
def test_a_crash_at_any_write_restores_and_continues_like_the_uninterrupted_run(
        stream: tuple[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "CHUNK_BYTES", 700)  # several chunks a record
    recs = _records(*stream)
    whole = _fresh(stream)
    reference = {offset: batch for offset, batch in
                 ((o, whole.apply(o, k, v, 0.0)) for o, (k, v) in enumerate(recs))
                 if batch is not None}
    every = 3
    writes = 0
    seen = {"delta": 0, "base": 0, "compaction": 0}
    while True:
        table = CrashingTable(writes)
        crashed = _live(stream, table, recs, every)
        if crashed is None:
            break
        piece, head = crashed
        seen["compaction" if piece.kind == "base" and head and head.deltas else piece.kind] += 1
        stored = read_checkpoint(table, *stream)
        if stored is None:
            first, restored = 0, _fresh(stream)
        else:
            _, base, deltas = stored
            restored = _restore(stream, base, deltas)
            first = restored.offset + 1
        assert _batches(restored, recs, first) == [
            b.encode() for o, b in reference.items() if o >= first]
        writes += 1
    assert all(seen.values()), seen


# ------------------------------------------------------------------- unreadable chains


def _chain() -> tuple[bytes, list[bytes]]:
    recs = _records(codec.LORAWAN, 1)
    state = _fresh((codec.LORAWAN, 1), compact_ratio=1e9)
    pieces = []
    for offset, (key, value) in enumerate(recs[:12]):
        state.apply(offset, key, value, 0.0)
        if offset % 4 == 3:
            pieces.append(state.checkpoint_piece(0.0).data)
    return pieces[0], pieces[1:]


def _broken() -> list[tuple[str, bytes, list[bytes]]]:
    base, (d1, d2) = _chain()
    other_base = document.encode({"engine": {}})
    body = zlib.decompress(d1[6:])
    return [
        ("a delta alone", d1, []),
        ("out of order", base, [d2, d1]),
        ("a delta missing", base, [d2]),
        ("another base's delta", other_base, [d1]),
        ("a truncated delta", base, [d1[:-4]]),
        ("a base where a delta belongs", base, [base]),
        ("an unknown version", base, [d1[:4] + b"\x00\x07" + d1[6:]]),
        ("a delta that does not fit", document.encode({"engine": {"x": 1}}), [
            document.encode_delta({delta.GROUPS: {"drop": np.array([1])}},
                                  document.encode({"engine": {"x": 1}}), 1)]),
        ("a patch of another shape", base, [document.encode_delta({delta.LIST: [None]},
                                                                  base, 1)]),
        ("a garbled delta", base, [d1[:6] + zlib.compress(b"\0\0\0\2{}" + body[6:], 1)]),
    ]


@pytest.mark.parametrize(("what", "base", "deltas"), _broken(), ids=lambda x: str(x)[:20])
def test_a_broken_chain_is_a_one_line_value_error(what: str, base: bytes,
                                                    deltas: list[bytes]) -> None:
    with pytest.raises(ValueError, match=r"^unreadable checkpoint: [^\n]*$"):
        _restore((codec.LORAWAN, 1), base, deltas)


def test_a_head_written_before_deltas_reads_as_a_base_alone() -> None:
    old = b'{"offset":10,"slot":1,"chunks":3,"generation":9}'
    assert CheckpointHead.decode(old) == CheckpointHead(10, 1, 3, 9)
    head = CheckpointHead(10, 1, 3, 9, ((10, 1), (11, 2)))
    assert CheckpointHead.decode(head.encode()) == head


def test_a_tenant_scoped_delivery_state_restores_from_base_and_deltas() -> None:
    # the attribution (a nested mapping of sorted DevAddr/owner columns) travels in deltas
    s = helpers.settings()
    tenant = replace(s, slos=tuple(replace(x, scope_by="tenant") if x.sli == "delivery" else x
                                   for x in s.slos))
    stream = (codec.LORAWAN, 1)
    state = PartitionState.fresh(tenant, *stream, helpers.APP, TIMING, 0.0)
    state.chain = ChainWriter(0.6)
    base, deltas, kinds = b"", [], []
    for offset, (key, value) in enumerate(_records(*stream)):
        state.apply(offset, key, value, 0.0)
        piece = state.checkpoint_piece(0.0)
        kinds.append(piece.kind)
        base, deltas = (piece.data, []) if piece.kind == "base" else (base, [*deltas,
                                                                              piece.data])
        restored = PartitionState.restore(tenant, *stream, helpers.APP, TIMING, base, 0.0,
                                          deltas)
        assert restored.checkpoint(0.0) == state.checkpoint(0.0)
    assert "delta" in kinds
    sli = next(x for x in state.engine.slis if isinstance(x, DeliverySLI))
    assert sli.attribution is not None and any(n != "unattributed" for n in sli._scopes)
