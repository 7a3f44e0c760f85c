"""Events as columns: the replay's batches of gateway uplinks and deliveries as arrays.

A LoRaWAN capture is almost all gateway copies of uplinks and integration deliveries.
``sources/fastpath.py`` decodes those two types into the rows of one int64 array each
instead of one tuple per event; strings (gateway ids, regions, application ids, devEUIs)
become indexes into a table of names. The SLIs that consume them take the columns whole
(``SLI.add_columns``); any other consumer gets the same tuples the per-event path makes
(:func:`materialise`). Every other event type stays a list of tuples.

Each row also carries the ordinal of the message it came from, so that batches decoded
from byte ranges of a capture in several processes can be cut again at exactly the
message counts a single pass would have cut them (:func:`rechunk`, used by
``slastream replay``; docs/architecture.md#performance).
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from slastream.model.events import Event, UplinkDelivered, UplinkReceived

Rows = npt.NDArray[np.int64]

# Columns of an UplinkReceived row: the event's fields, strings as name indexes, then the
# ordinal of the message within its batch (or byte range).
UP_TIME, UP_DEVADDR, UP_FCNT, UP_GATEWAY, UP_REGION, UP_CONFIRMED, UP_FPORT, UP_MESSAGE = \
    range(8)
UP_WIDTH = 8
# Columns of an UplinkDelivered row.
DL_TIME, DL_DEVADDR, DL_FCNT, DL_APPLICATION, DL_DEVICE, DL_TENANT, DL_MESSAGE = range(7)
DL_WIDTH = 7

# One row as bytes (native int64s), appended to a batch's buffer as it is decoded.
UP_ROW = struct.Struct(f"={UP_WIDTH}q")
DL_ROW = struct.Struct(f"={DL_WIDTH}q")
_NAME_COLUMNS = {UplinkReceived: (UP_GATEWAY, UP_REGION),
                 UplinkDelivered: (DL_APPLICATION, DL_DEVICE, DL_TENANT)}
_MESSAGE_COLUMN = {UplinkReceived: UP_MESSAGE, UplinkDelivered: DL_MESSAGE}


class Names:
    """Strings by index, each string once (gateway ids, regions, applications, devices)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def of(self, name: str) -> int:
        idx = self.index.get(name)
        if idx is None:
            idx = self.index[name] = len(self.names)
            self.names.append(name)
        return idx

    def of_all(self, names: list[str]) -> list[int]:
        """``of`` of each name, in order: the known ones looked up in one ``map`` (another
        byte range's table holds thousands of device ids, almost all known)."""
        found: list[int | None] = list(map(self.index.get, names))
        if None in found:
            for i in [i for i, idx in enumerate(found) if idx is None]:
                found[i] = self.of(names[i])
        return found  # type: ignore[return-value]  # every None replaced


class ColumnBatch(NamedTuple):
    """What ``fastpath.column_batches`` decoded: like ``decoder.Batch``, with gateway
    uplinks and deliveries as row arrays. ``kinds`` is the type order of first appearance."""

    kinds: list[type]
    columns: dict[type, Rows]  # UplinkReceived / UplinkDelivered rows, input order
    events: dict[type, list[Event]]  # every other type, input order
    others_at: dict[type, list[int]]  # message ordinal of each event in ``events``
    names: list[str]  # the strings the name columns index
    messages: int
    ingest: Counter[tuple[str, str]]
    rejections: Counter[str]
    bad_lines: int
    first_time_ms: int | None
    ignored: Counter[tuple[str, str]]


def rows(packed: bytes | bytearray, width: int) -> Rows:
    """Rows packed with :data:`UP_ROW` or :data:`DL_ROW` as an array (sharing the buffer)."""
    return np.frombuffer(packed, dtype=np.int64).reshape(-1, width)


def materialise(cls: type, block: Rows, names: list[str]) -> list[Event]:
    """The tuples the per-event path makes for these rows (same values, same order)."""
    if cls is UplinkReceived:
        return [UplinkReceived(t, d, f, names[g], names[r], bool(c), p)
                for t, d, f, g, r, c, p, _ in block.tolist()]
    return [UplinkDelivered(t, d, f, names[a], names[v], names[n])
            for t, d, f, a, v, n, _ in block.tolist()]


def as_events(batch: ColumnBatch) -> dict[type, list[Event]]:
    """All events of a batch as tuples, by type, in the type order of first appearance."""
    out: dict[type, list[Event]] = {}
    for cls in batch.kinds:
        block = batch.columns.get(cls)
        out[cls] = (materialise(cls, block, batch.names) if block is not None
                    else batch.events[cls])
    return out


def renamed(part: ColumnBatch, lut: npt.NDArray[np.int64], names: Names) -> ColumnBatch:
    """``part`` with each name index ``i`` of its rows replaced by ``lut[i]``, an index into
    ``names``."""
    columns = {}
    for cls, block in part.columns.items():
        block = block.copy()
        for col in _NAME_COLUMNS[cls]:
            block[:, col] = lut[block[:, col]]
        columns[cls] = block
    return part._replace(columns=columns, names=names.names)


def rechunk(parts: Iterable[ColumnBatch], chunk: int) -> Iterator[ColumnBatch]:
    """Cut consecutive decoded byte ranges into batches of ``chunk`` messages, exactly where
    one pass over the whole input closes its batches (``fastpath.column_batches``).

    The parts share one table of names (:func:`renamed`), which the batches share too. A
    part's input counters go with the batch that holds its first message: the engine only
    adds them up. The last batch may be short or empty, as in one pass.

    What is left of a part after a cut keeps the part's rows and ordinals as they are,
    with the count of its messages already taken (``_Held``): a cut copies nothing, and
    the ordinals are made relative to the batch once, when it is put together (``_merge``).
    """
    names: list[str] = []
    pending: list[_Held] = []  # parts (or what is left of them) not yet yielded, in order
    held = 0
    for part in parts:
        names = part.names
        pending.append((part, 0))
        held += part.messages
        while held >= chunk:
            taken, pending = _take(pending, chunk)
            held -= chunk
            yield taken
    yield _merge(pending, names)


# a part, or what is left of it after a cut (``messages`` then counts what is left), and how
# many of its messages were taken before: its ordinals start there
_Held = tuple[ColumnBatch, int]


def _take(parts: list[_Held], n: int) -> tuple[ColumnBatch, list[_Held]]:
    """The first ``n`` messages of ``parts`` as one batch, and what is left."""
    head: list[_Held] = []
    for i, (part, skip) in enumerate(parts):
        if part.messages < n:
            head.append((part, skip))
            n -= part.messages
            continue
        first, rest = _split(part, skip, n)
        left = parts[i + 1:] if rest[0].messages == 0 and not rest[0].events else [
            rest, *parts[i + 1:]]
        return _merge([*head, first], part.names), left
    raise AssertionError("not enough messages held")


def _split(part: ColumnBatch, skip: int, n: int) -> tuple[_Held, _Held]:
    """A part's first ``n`` messages (with all its counters), and the rest; neither copied
    nor renumbered (``skip``: the part's messages taken before)."""
    cut = skip + n
    cols_a, cols_b = {}, {}
    for cls, block in part.columns.items():
        at = int(np.searchsorted(block[:, _MESSAGE_COLUMN[cls]], cut))
        cols_a[cls], cols_b[cls] = block[:at], block[at:]
    ev_a: dict[type, list[Event]] = {}
    ev_b: dict[type, list[Event]] = {}
    at_a: dict[type, list[int]] = {}
    at_b: dict[type, list[int]] = {}
    for cls, evs in part.events.items():
        ordinals = part.others_at[cls]
        at = bisect_left(ordinals, cut)
        if at:
            ev_a[cls], at_a[cls] = evs[:at], ordinals[:at]
        if at < len(evs):
            ev_b[cls], at_b[cls] = evs[at:], ordinals[at:]
    first = part._replace(columns=cols_a, events=ev_a, others_at=at_a, messages=n)
    rest = ColumnBatch([], cols_b, ev_b, at_b, part.names, part.messages - n, Counter(),
                       Counter(), 0, None, Counter())
    return (_with_kinds(first), skip), (_with_kinds(rest), cut)


def _with_kinds(part: ColumnBatch) -> ColumnBatch:
    """Recompute the type order of first appearance from the message ordinals."""
    firsts: list[tuple[int, int, type]] = []
    for cls, block in part.columns.items():
        if len(block):
            firsts.append((int(block[0, _MESSAGE_COLUMN[cls]]), part.kinds.index(cls)
                           if cls in part.kinds else 0, cls))
    for cls, ordinals in part.others_at.items():
        if ordinals:
            firsts.append((ordinals[0], part.kinds.index(cls) if cls in part.kinds else 0,
                           cls))
    return part._replace(kinds=[cls for _, _, cls in sorted(firsts, key=lambda f: f[:2])])


def _merge(parts: list[_Held], names: list[str]) -> ColumnBatch:
    """Consecutive parts as one batch, its ordinals from 0 and continuing across them."""
    if len(parts) == 1 and parts[0][1] == 0:
        return parts[0][0]._replace(names=names)
    columns: dict[type, list[Rows]] = {}
    events: dict[type, list[Event]] = {}
    others_at: dict[type, list[int]] = {}
    firsts: dict[type, tuple[int, int]] = {}
    ingest: Counter[tuple[str, str]] = Counter()
    rejections: Counter[str] = Counter()
    ignored: Counter[tuple[str, str]] = Counter()
    base = bad = 0
    first: int | None = None
    for p, (part, skip) in enumerate(parts):
        shift = base - skip
        for rank, cls in enumerate(part.kinds):
            firsts.setdefault(cls, (p, rank))
        for cls, block in part.columns.items():
            shifted = block.copy()
            shifted[:, _MESSAGE_COLUMN[cls]] += shift
            columns.setdefault(cls, []).append(shifted)
        for cls, evs in part.events.items():
            events.setdefault(cls, []).extend(evs)
            others_at.setdefault(cls, []).extend(
                part.others_at[cls] if not shift else [o + shift for o in part.others_at[cls]])
        ingest.update(part.ingest)
        rejections.update(part.rejections)
        ignored.update(part.ignored)
        bad += part.bad_lines
        if first is None:
            first = part.first_time_ms
        base += part.messages
    kinds = sorted(firsts, key=lambda cls: firsts[cls])
    return ColumnBatch(kinds, {cls: np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
                               for cls, blocks in columns.items()},
                       events, others_at, names, base, ingest, rejections, bad, first,
                       ignored)
