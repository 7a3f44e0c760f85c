"""Wire formats of the worker's own records."""

from __future__ import annotations

from slastream.model.events import BridgeOutage
from slastream.stream.records import (
    CHUNK_BYTES,
    CheckpointHead,
    SliceBatch,
    encode_inject,
    encode_tick,
    join_chunks,
    marker_app,
    split_chunks,
)
from slastream.transport.codec import decode_batch


def test_slice_batch_round_trip() -> None:
    batch = SliceBatch("lorawan", 3, 42, 1000, 60_000_000, 60_005_000, 7,
                       (("delivery", "network", 999, (3.0, 4.0, 1.5, 2.0)),))
    assert SliceBatch.decode(batch.encode()) == batch
    assert batch.key == b"lorawan/3/42"


def test_checkpoint_chunks_reassemble_only_whole_and_of_one_generation() -> None:
    data = bytes(range(256)) * (3 * CHUNK_BYTES // 256 + 7)
    pieces = split_chunks(data, 5)
    assert len(pieces) == 4
    assert join_chunks(list(pieces), 5) == data
    assert join_chunks([*pieces[:2], None, pieces[3]], 5) is None
    older = split_chunks(data, 4)
    assert join_chunks([pieces[0], older[1], *pieces[2:]], 5) is None
    assert join_chunks(split_chunks(b"", 1), 1) == b""


def test_head_round_trip() -> None:
    head = CheckpointHead(offset=10, slot=1, chunks=3, generation=9)
    assert CheckpointHead.decode(head.encode()) == head


def test_markers_are_valid_event_batches_for_any_reader() -> None:
    assert decode_batch(encode_tick("app", 5)) == []
    outage = BridgeOutage(1, 2, "b")
    assert decode_batch(encode_inject("app", [outage])) == [outage]
    assert marker_app(encode_tick("app", None))[0] == "app"
    assert marker_app(b"not json")[0] == ""
