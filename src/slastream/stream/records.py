"""Records the worker itself writes to Kafka, and how it recognises them.

Besides the event batches the bridge produces (``transport/codec.py``), the worker writes:

* **markers** into its own input partitions: a *tick* (advance the watermark to a value
  decided while the partition was idle) and an *inject* (bridge outages read from the
  control topic). A marker travels through the partition like any record, so a replay
  after a crash meets it at the same offset and recomputes exactly what the first run
  computed; that is what makes the slice output deterministic. Markers carry the app id:
  another application reading the same topics (a staging deployment, a second test run)
  ignores them and makes its own;
* **slice batches** to ``{prefix}.slices.{app_id}``: the slices one partition finalised
  after one input offset, plus that partition's progress and, when its request-allowance
  counters changed, their usage sections (``usage``, absent otherwise, so a batch without
  them is encoded as before). Key ``stream/partition/offset``;
  a replayed batch is byte-identical to the original, and readers keep the first;
* **checkpoints** into a faust table (changelog-backed): the engine state and the last
  applied offset as a chain of a base and deltas (``checkpoint/chain.py``), each record
  split into chunks under the broker's message size limit; a base goes into the slot the
  head does not point at, a delta next to its base, and the head is written last, so that
  a crash in the middle of a write leaves the previous checkpoint whole;
* **breach events** to ``{prefix}.breaches``: an outage episode started or ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, Protocol

import orjson

from slastream.checkpoint.chain import Piece
from slastream.model.events import BridgeOutage, Event
from slastream.model.ledger import UsageSection
from slastream.sli.slices import SliceDelta
from slastream.slo.sections import usage_from_row, usage_row
from slastream.transport.codec import JSON_VERSION, encode_json_batch

# The worker's own records are JSON, version 1 (markers are version 1 event batches too):
# a change of the event batch format (transport/codec.py) leaves them as they are.
FORMAT_VERSION = 1

TICK_KEY = b"\x00slastream-tick"
INJECT_KEY = b"\x00slastream-inject"
MARKER_KEYS = (TICK_KEY, INJECT_KEY)

# Kafka's default max.message.bytes is 1 MB (and aiokafka's max_request_size 1,000,000);
# chunks stay well below it, leaving room for the key and batch overhead.
CHUNK_BYTES = 512 * 1024


# ------------------------------------------------------------------------------- markers


def encode_tick(app_id: str, watermark_ms: int | None) -> bytes:
    """A tick: advance the partition's watermark to ``watermark_ms``.

    ``None`` only wakes the partition up (loads its checkpoint) without advancing.
    The value is also a valid, empty event batch for any reader that does not know ticks.
    """
    return orjson.dumps({"v": JSON_VERSION, "events": [], "app": app_id,
                         "tick_ms": watermark_ms})


def encode_inject(app_id: str, outages: list[BridgeOutage]) -> bytes:
    """Bridge outages from the control topic, injected into one partition's log."""
    events: list[Event] = [*outages]
    body = orjson.loads(encode_json_batch(events))
    body["app"] = app_id
    return orjson.dumps(body)


def marker_app(value: bytes) -> tuple[str, dict[str, Any]]:
    """``(app id, body)`` of a marker record; app id ``""`` when malformed."""
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        return "", {}
    if not isinstance(body, dict):
        return "", {}
    app = body.get("app")
    return (app if isinstance(app, str) else ""), body


# ------------------------------------------------------------------------- slice batches


USAGE_VERSION = 1  # of a slice batch's ``usage`` field


class UsageReportRow(NamedTuple):
    """A partition's current usage section of one contract for one month."""

    contract: str
    month: str  # YYYY-MM
    section: UsageSection


@dataclass(frozen=True)
class SliceBatch:
    """What one partition finalised after applying the record at ``offset``.

    ``as_of_minute``: minutes before it are final in this partition (None: no data yet).
    ``late``: events of this partition that arrived behind its watermark, so far.
    ``usage``: the partition's usage sections, when they changed with this record.
    """

    stream: str
    partition: int
    offset: int
    as_of_minute: int | None
    watermark_ms: int
    max_time_ms: int
    late: int
    slices: tuple[SliceDelta, ...]
    usage: tuple[UsageReportRow, ...] = ()

    @property
    def key(self) -> bytes:
        return f"{self.stream}/{self.partition}/{self.offset}".encode()

    def encode(self) -> bytes:
        body: dict[str, Any] = {
            "v": FORMAT_VERSION, "stream": self.stream, "partition": self.partition,
            "offset": self.offset, "as_of_minute": self.as_of_minute,
            "watermark_ms": self.watermark_ms, "max_time_ms": self.max_time_ms,
            "late": self.late,
            "slices": [[slo, scope, minute, list(values)]
                       for slo, scope, minute, values in self.slices],
        }
        if self.usage:
            body["usage"] = {"v": USAGE_VERSION, "reports": [
                [r.contract, r.month, usage_row(r.section)] for r in self.usage]}
        return orjson.dumps(body)

    @classmethod
    def decode(cls, value: bytes) -> SliceBatch:
        """Raises ``ValueError`` (or ``KeyError``/``TypeError``) on a foreign record."""
        d = orjson.loads(value)
        if not isinstance(d, dict) or d.get("v") != FORMAT_VERSION:
            raise ValueError("not a slice batch (v1)")
        return cls(
            stream=str(d["stream"]), partition=int(d["partition"]), offset=int(d["offset"]),
            as_of_minute=None if d["as_of_minute"] is None else int(d["as_of_minute"]),
            watermark_ms=int(d["watermark_ms"]), max_time_ms=int(d["max_time_ms"]),
            late=int(d["late"]),
            slices=tuple((str(s), str(sc), int(m), tuple(float(x) for x in v))
                         for s, sc, m, v in d["slices"]),
            usage=_usage(d.get("usage")),
        )


def _usage(field: Any) -> tuple[UsageReportRow, ...]:
    """The ``usage`` field (absent from batches written before it existed)."""
    if field is None:
        return ()
    if not isinstance(field, dict) or field.get("v") != USAGE_VERSION:
        raise ValueError(f"unknown usage version in a slice batch: {field!r:.40}")
    return tuple(UsageReportRow(str(c), str(m), usage_from_row(row))
                 for c, m, row in field["reports"])


# --------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class CheckpointHead:
    """Points at a partition's latest complete checkpoint: the base in ``slot`` (its
    ``chunks``, tagged with ``generation``) and the deltas after it, each as
    ``(generation, chunks)`` (absent from heads written before deltas: none)."""

    offset: int
    slot: int
    chunks: int
    generation: int
    deltas: tuple[tuple[int, int], ...] = ()

    def encode(self) -> bytes:
        return orjson.dumps({"offset": self.offset, "slot": self.slot, "chunks": self.chunks,
                             "generation": self.generation,
                             **({"deltas": self.deltas} if self.deltas else {})})

    @classmethod
    def decode(cls, value: bytes) -> CheckpointHead:
        d = orjson.loads(value)
        return cls(int(d["offset"]), int(d["slot"]), int(d["chunks"]), int(d["generation"]),
                   tuple((int(g), int(n)) for g, n in d.get("deltas", ())))

    @property
    def last_generation(self) -> int:
        return self.deltas[-1][0] if self.deltas else self.generation


class Table(Protocol):
    """What checkpoints need of the faust table (a dict does too)."""

    def get(self, key: bytes) -> bytes | None: ...

    def __setitem__(self, key: bytes, value: bytes) -> None: ...


def write_checkpoint(table: Table, stream: str, partition: int, head: CheckpointHead | None,
                     piece: Piece, offset: int) -> CheckpointHead:
    """Store ``piece`` (taken at ``offset``) after the chain ``head`` points at; the new
    head, written last."""
    generation = head.last_generation + 1 if head else 1
    chunks = split_chunks(piece.data, generation)
    if piece.kind == "base" or head is None:
        if piece.kind != "base":
            raise ValueError("a checkpoint delta without a base to follow")
        slot = 1 - head.slot if head else 0
        keys = [chunk_key(stream, partition, slot, i) for i in range(len(chunks))]
        head = CheckpointHead(offset, slot, len(chunks), generation)
    else:
        n = len(head.deltas)
        keys = [delta_key(stream, partition, head.slot, n, i) for i in range(len(chunks))]
        head = replace(head, offset=offset, deltas=(*head.deltas, (generation, len(chunks))))
    for key, chunk in zip(keys, chunks, strict=True):
        table[key] = chunk
    table[head_key(stream, partition)] = head.encode()
    return head


def read_checkpoint(table: Table, stream: str, partition: int
                    ) -> tuple[CheckpointHead, bytes, list[bytes]] | None:
    """The head, base and deltas of a partition's checkpoint; ``None`` if it has none.

    Raises ``ValueError`` if a record the head points at is missing or from another
    generation (the changelog lost records).
    """
    raw = table.get(head_key(stream, partition))
    if raw is None:
        return None
    head = CheckpointHead.decode(raw)
    records = [(head.generation, [chunk_key(stream, partition, head.slot, i)
                                  for i in range(head.chunks)])]
    records += [(gen, [delta_key(stream, partition, head.slot, n, i) for i in range(chunks)])
                for n, (gen, chunks) in enumerate(head.deltas)]
    out = []
    for generation, keys in records:
        data = join_chunks([table.get(k) for k in keys], generation)
        if data is None:
            raise ValueError(f"incomplete (generation {generation}): its changelog lost "
                             f"records")
        out.append(data)
    return head, out[0], out[1:]


def head_key(stream: str, partition: int) -> bytes:
    return f"{stream}/{partition}".encode()


def chunk_key(stream: str, partition: int, slot: int, index: int) -> bytes:
    return f"{stream}/{partition}/{slot}/{index}".encode()


def delta_key(stream: str, partition: int, slot: int, delta: int, index: int) -> bytes:
    return f"{stream}/{partition}/{slot}/d{delta}/{index}".encode()


def split_chunks(data: bytes, generation: int) -> list[bytes]:
    """``data`` in pieces, each prefixed with the generation (8 bytes) it belongs to."""
    tag = generation.to_bytes(8, "big")
    pieces = [data[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
    return [tag + p for p in pieces]


def join_chunks(pieces: Sequence[bytes | None], generation: int) -> bytes | None:
    """Reassemble; ``None`` if a piece is missing or from another generation."""
    tag = generation.to_bytes(8, "big")
    out = []
    for p in pieces:
        if p is None or p[:8] != tag:
            return None
        out.append(p[8:])
    return b"".join(out)


# ------------------------------------------------------------------------- breach events


def encode_breach(app_id: str, slo: str, scope: str, state: str, episode_start: str,
                  episode_end: str | None, as_of: str) -> tuple[bytes, bytes]:
    """``(key, value)`` of a breach event; ``state`` is ``"start"`` or ``"end"``."""
    key = f"{slo}/{scope}/{episode_start}".encode()
    value = orjson.dumps({"v": FORMAT_VERSION, "app": app_id, "slo": slo, "scope": scope,
                          "state": state, "episode_start": episode_start,
                          "episode_end": episode_end, "as_of": as_of})
    return key, value
