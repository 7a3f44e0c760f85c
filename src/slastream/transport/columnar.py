"""The columnar event batch: versions 2 and 3 of the Kafka record format
(docs/interfaces.md#event-batches).

A record holds its events column by column, one block per event type, so that both ends
convert whole columns at C speed (``numpy`` buffers, ``zip``, ``map``) instead of
building and parsing one JSON row per event. Layout, little-endian, every column's data
starting at a multiple of 8 bytes from the start of the record::

    magic   b"\\x00SLB"  (a JSON record starts with "{": the two never collide)
    u16     version (3; version 2 records are still read)
    u8      string table kind: 0 = strings joined by NUL, 1 = u32 lengths then the text
    u8      number of event type blocks
    u32     number of strings;  u32 length of the table in bytes;  the table (UTF-8)
    per block:
        u8 length of the type name, the name (``model/events.py``'s ``EVENT_TYPES``)
        u32 rows;  u8 columns
        per column: u8 kind, then
            i s b  (version 3) u8 width (0, 1, 2, 4 or 8), padding to 8, int64 base, then
                   ``width`` bytes a row: the unsigned offset of each value from the base
                   (width 0: every row is the base; width 8: the int64 values, base 0)
            i s b  (version 2) padding to 8, then int64[rows], uint32[rows] string
                   indices, bool[rows] (a byte, 0 or 1)
            f      padding to 8, float64[rows]
            I      padding, uint32[rows] lengths, padding, int64[sum]: a tuple of ints
            S      padding, uint32[rows] lengths, uint32[sum] string indices

Version 3 stores what a record of one partition holds in a few bytes a value: times a
few seconds apart, DevAddrs of one NetID, frame counters, gateway indices in a table of
a few hundred names, a region or a flag that is the same in every row. A LoRaWAN record
of the bridge takes 11-14 bytes an event instead of 42-44, which is what Kafka stores
and what the worker's consumer copies (docs/architecture.md#worker).

A block with fewer columns than its type has fields was written before the type gained
trailing fields with defaults: the defaults complete it (as in version 1). The column
kinds of each type follow its field annotations; a record whose kinds do not match is
refused with ``ValueError``, never misread.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from itertools import chain, compress, count, pairwise, repeat
from operator import is_
from typing import Any, NamedTuple, get_type_hints

import numpy as np
import numpy.typing as npt

from slastream.model.events import EVENT_NAMES, EVENT_TYPES, Event

MAGIC = b"\x00SLB"
VERSION = 3  # written; 2 is read too
READ_VERSIONS = (2, 3)
_NUL_JOINED, _LENGTHS = 0, 1
_HEAD = struct.Struct("<4sHBBII")  # magic, version, string table kind, blocks, strings, bytes
_BLOCK = struct.Struct("<IB")  # rows, columns
_BASE = struct.Struct("<q")
_INT64_MAX = (1 << 63) - 1
# a packed column's width byte and the padding after it, by width and padding length
_CONSTANT = {w: [bytes([w]) + bytes(n) for n in range(8)] for w in (0, 1, 2, 4, 8)}
_PACKED = frozenset(b"isb")  # kinds stored as base + offsets in version 3
_WIDTHS = {0: None, 1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4"),
           8: np.dtype("<i8")}

_KINDS: dict[Any, bytes] = {int: b"i", float: b"f", bool: b"b", str: b"s",
                            tuple[int, ...]: b"I", tuple[str, ...]: b"S"}
_DTYPES = {b"i": np.dtype("<i8"), b"f": np.dtype("<f8"), b"b": np.dtype("?"),
           b"s": np.dtype("<u4")}


def _schema(cls: type) -> bytes:
    """The column kinds of an event type, one byte per field, from its annotations."""
    hints = get_type_hints(cls)
    try:
        return b"".join(_KINDS[hints[f]] for f in cls._fields)  # type: ignore[attr-defined]
    except KeyError as exc:  # a new field type needs a column kind here
        raise TypeError(f"{cls.__name__}: no column kind for field type {exc}") from None


SCHEMAS: dict[type, bytes] = {cls: _schema(cls) for cls in EVENT_TYPES.values()}
DEFAULTS: dict[type, tuple[Any, ...]] = {
    cls: tuple(cls._field_defaults[f] for f in cls._fields
               if f in cls._field_defaults)
    for cls in EVENT_TYPES.values()}


def is_columnar(value: bytes) -> bool:
    return value[:4] == MAGIC


# ------------------------------------------------------------------------------ encode


class _Writer:
    """Appends aligned columns and collects the record's string table."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.strings: list[str] = []

    def put(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)

    def pad(self) -> None:
        if self.size % 8:
            self.put(bytes(8 - self.size % 8))

    def array(self, values: Iterable[Any], dtype: np.dtype[Any], count: int) -> None:
        self.pad()
        self.put(np.fromiter(values, dtype, count).tobytes())

    def packed(self, column: npt.NDArray[np.int64]) -> None:
        """A version 3 integer column: its width, its base (the smallest value), and each
        value's offset from the base in the fewest bytes that hold the largest offset."""
        if not len(column):
            self.constant(0)
            return
        low = int(column.min())
        span = int(column.max()) - low
        width = 0 if not span else 1 if span < 0x100 else 2 if span < 0x10000 else \
            4 if span < 0x100000000 else 8
        if width == 8:
            self.constant(0, width)
            self.put(column.tobytes())
            return
        self.constant(low, width)
        if width:
            if low:
                column -= low
            self.put(column.astype(_WIDTHS[width]).tobytes())

    def constant(self, base: int, width: int = 0) -> None:
        """The head of a version 3 integer column; alone (width 0), every row is ``base``."""
        self.put(_CONSTANT[width][-(self.size + 1) % 8] + _BASE.pack(base))

    def strings_column(self, values: Sequence[str]) -> None:
        if values and values.count(values[0]) == len(values):  # one value (a region, say)
            self.constant(len(self.strings))
            self.strings.append(values[0])
        else:
            self.packed(np.fromiter(self.indices(values), np.int64, len(values)))

    def indices(self, values: Sequence[str]) -> Iterable[int]:
        """Indices of ``values`` in the record's string table, which grows by the distinct
        ones (in C: one table per column, appended; a string in two columns is in the table
        twice, which costs a few bytes and no decoding)."""
        distinct = dict.fromkeys(values)
        index = dict(zip(distinct, count(len(self.strings)), strict=False))
        self.strings.extend(distinct)
        return map(index.__getitem__, values)


def encode(events: Sequence[Event]) -> bytes:
    """A version 3 record of ``events`` (any mix of types; order kept within a type)."""
    types = list(map(type, events))
    distinct = dict.fromkeys(types)  # in order of first appearance
    body = _Writer()
    for cls in distinct:
        # the rows of one type picked out in C (compress), not by a loop over the events
        rows = events if len(distinct) == 1 else list(
            compress(events, map(is_, types, repeat(cls))))
        name = EVENT_NAMES[cls].encode()
        schema = SCHEMAS[cls]
        body.put(bytes([len(name)]) + name + _BLOCK.pack(len(rows), len(schema)))
        for kind, column in zip(schema, zip(*rows, strict=True), strict=True):
            _column(body, bytes([kind]), column)
    return _head(body, len(distinct))


def _column(out: _Writer, kind: bytes, column: Sequence[Any]) -> None:
    out.put(kind)
    if kind == b"s":
        out.strings_column(column)
    elif kind == b"i":  # OverflowError on an integer outside 64 bits
        out.packed(np.fromiter(column, np.int64, len(column)))
    elif kind == b"b":  # 0 or 1, whatever a faulty decoder put there
        out.packed(np.fromiter(column, np.bool_, len(column)).astype(np.int64))
    elif kind in b"IS":
        out.array(map(len, column), _DTYPES[b"s"], len(column))
        flat = list(chain.from_iterable(column))
        out.array(out.indices(flat) if kind == b"S" else flat,
                  _DTYPES[b"s"] if kind == b"S" else _DTYPES[b"i"], len(flat))
    else:
        out.array(column, _DTYPES[kind], len(column))


def _head(body: _Writer, blocks: int) -> bytes:
    strings = body.strings
    text = "\x00".join(strings)
    if text.count("\x00") == max(len(strings) - 1, 0):
        kind, table = _NUL_JOINED, text.encode()
    else:  # a string holds a NUL: spell the lengths out
        kind = _LENGTHS
        encoded = [s.encode() for s in strings]
        table = np.array(list(map(len, encoded)), dtype="<u4").tobytes() + b"".join(encoded)
    head = _HEAD.pack(MAGIC, VERSION, kind, blocks, len(strings), len(table)) + table
    # the body was aligned as if it started at 0: start it at a multiple of 8 too
    head += bytes(-len(head) % 8)
    return head + b"".join(body.parts)


# ------------------------------------------------------------------------------ decode


class _Reader:
    def __init__(self, value: bytes, pos: int) -> None:
        self.value = value
        self.pos = pos
        self.base = pos  # the body's alignment is relative to its start

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.value):
            raise ValueError("truncated columnar event batch")
        data = self.value[self.pos:end]
        self.pos = end
        return data

    def array(self, dtype: np.dtype[Any], count: int) -> npt.NDArray[Any]:
        """The next aligned column, a view of the record's buffer (no copy)."""
        self.pos += -(self.pos - self.base) % 8
        if self.pos + count * dtype.itemsize > len(self.value):
            raise ValueError("truncated columnar event batch")
        out = np.frombuffer(self.value, dtype, count, self.pos)
        self.pos += count * dtype.itemsize
        return out


class Packed:
    """An integer, string-index or flag column as read: every row is ``base`` plus its
    entry in ``offsets`` (a view of the record's buffer), or ``base`` alone when
    ``offsets`` is None. A version 2 column is its array with base 0."""

    __slots__ = ("base", "offsets")

    def __init__(self, base: int, offsets: npt.NDArray[Any] | None) -> None:
        self.base = base
        self.offsets = offsets

    def max(self) -> int:
        """The largest value (the base in an empty column)."""
        if self.offsets is None or not len(self.offsets):
            return self.base
        return self.base + int(self.offsets.max())

    def tolist(self, rows: int) -> list[int]:
        if self.offsets is None:
            return [self.base] * rows
        if self.base:
            return (self.offsets.astype(np.int64) + self.base).tolist()  # type: ignore[no-any-return]
        return self.offsets.tolist()  # type: ignore[no-any-return]


Raw = npt.NDArray[Any] | Packed | tuple[npt.NDArray[Any], npt.NDArray[Any]]


class Block(NamedTuple):
    """One type's block as read: each column a view of the record's buffer (the tuple
    kinds as their lengths and flat values), and how many trailing fields it lacks."""

    cls: type
    rows: int
    columns: list[Raw]
    missing: int


def decode_columns(value: bytes) -> list[tuple[type, int, list[Iterable[Any]]]]:
    """``(event type, rows, columns)`` per block, each column a list of Python values
    (strings resolved, tuples built), trailing fields a record lacks as repeated defaults.

    Raises ``ValueError`` on a record that is not a well-formed columnar batch.
    """
    try:
        strings, blocks = read_blocks(value)
        return [(b.cls, b.rows, python_columns(b, strings)) for b in blocks]
    except (IndexError, struct.error) as exc:  # a string index or a length out of range
        raise ValueError(f"malformed columnar event batch: {exc}") from None


def read_blocks(value: bytes) -> tuple[list[str], list[Block]]:
    if len(value) < _HEAD.size:
        raise ValueError("truncated columnar event batch")
    magic, version, kind, blocks, n_strings, table_bytes = _HEAD.unpack_from(value)
    if magic != MAGIC or version not in READ_VERSIONS:
        raise ValueError(f"not a slastream event batch (v{'/v'.join(map(str, READ_VERSIONS))})")
    start = _HEAD.size
    strings = _strings(value[start:start + table_bytes], kind, n_strings)
    pos = start + table_bytes
    reader = _Reader(value, pos + (-pos % 8))
    out: list[Block] = []
    for _ in range(blocks):
        name = reader.take(reader.take(1)[0]).decode()
        cls = EVENT_TYPES.get(name)
        if cls is None:
            raise ValueError(f"unknown event type {name!r}")
        rows, n_cols = _BLOCK.unpack(reader.take(_BLOCK.size))
        schema = SCHEMAS[cls]
        if not len(schema) - len(DEFAULTS[cls]) <= n_cols <= len(schema):
            raise ValueError(f"{name} needs {len(schema)} fields, got {n_cols}")
        columns: list[Raw] = []
        for i in range(n_cols):
            kind_byte = reader.take(1)
            if kind_byte[0] != schema[i]:
                raise ValueError(f"{name} field {i}: column kind {kind_byte!r}, "
                                 f"expected {bytes([schema[i]])!r}")
            columns.append(_read_column(reader, kind_byte, rows, version))
        out.append(Block(cls, rows, columns, len(schema) - n_cols))
    return strings, out


def _strings(table: bytes, kind: int, count: int) -> list[str]:
    if kind == _NUL_JOINED:
        strings = table.decode().split("\x00") if count else []
    elif kind == _LENGTHS:
        lengths = np.frombuffer(table, "<u4", count).tolist()
        ends = np.cumsum([0, *lengths]).tolist()
        text = table[4 * count:]
        strings = [text[a:b].decode() for a, b in pairwise(ends)]
    else:
        raise ValueError(f"unknown string table kind {kind}")
    if len(strings) != count:
        raise ValueError("malformed string table")
    return strings


def _read_column(reader: _Reader, kind: bytes, rows: int, version: int) -> Raw:
    if kind in (b"I", b"S"):
        lengths = reader.array(_DTYPES[b"s"], rows)
        flat = reader.array(_DTYPES[b"s" if kind == b"S" else b"i"],
                            int(lengths.sum(dtype=np.int64)))
        return lengths, flat
    if kind[0] not in _PACKED:
        return reader.array(_DTYPES[kind], rows)
    if version == 2:
        return Packed(0, reader.array(_DTYPES[kind], rows))
    width = reader.take(1)[0]
    if width not in _WIDTHS:
        raise ValueError(f"column width {width}")
    reader.pos += -(reader.pos - reader.base) % 8
    (base,) = _BASE.unpack(reader.take(_BASE.size))
    dtype = _WIDTHS[width]
    column = Packed(base, None if dtype is None else reader.array(dtype, rows))
    if width == 8 and base:
        raise ValueError("a column of int64 values with a base")
    if width and width < 8 and base > _INT64_MAX - (1 << 8 * width) + 1 and \
            column.max() > _INT64_MAX:
        raise ValueError("column values past 64 bits")
    if kind != b"i" and (base < 0 or (kind == b"b" and column.max() > 1)):
        raise ValueError(f"column of kind {kind!r} out of range")
    return column


def python_columns(block: Block, strings: list[str]) -> list[Iterable[Any]]:
    """The block's columns as lists of Python values, defaults for the missing fields."""
    out: list[Iterable[Any]] = []
    rows = block.rows
    for kind, raw in zip(SCHEMAS[block.cls], block.columns, strict=False):
        if isinstance(raw, Packed):
            values = raw.tolist(rows)
            if kind == _KIND_s:
                out.append(list(map(strings.__getitem__, values)))
            elif kind == _KIND_b:
                out.append(list(map(bool, values)))
            else:
                out.append(values)
        elif isinstance(raw, tuple):
            lengths, flat_values = raw
            flat = flat_values.tolist()
            if kind == _KIND_S:
                flat = list(map(strings.__getitem__, flat))
            ends = np.cumsum([0, *lengths.tolist()]).tolist()
            out.append(list(map(tuple, map(flat.__getitem__, map(slice, ends, ends[1:])))))
        else:
            out.append(raw.tolist())
    if block.missing:
        defaults = DEFAULTS[block.cls]
        out.extend(repeat(d, rows) for d in defaults[len(defaults) - block.missing:])
    return out


_KIND_s, _KIND_S, _KIND_b = b"s"[0], b"S"[0], b"b"[0]


def decode(value: bytes) -> dict[type, list[Event]]:
    """Events of a columnar record by type, each list in the order written."""
    out: dict[type, list[Event]] = {}
    new = tuple.__new__
    for cls, rows, columns in decode_columns(value):
        # tuple.__new__ over zipped columns: the rows are built in C, no Python per event
        # (the columns' lengths are the block's row count by construction)
        events: list[Event] = list(map(new, repeat(cls, rows), zip(*columns, strict=True)))
        same = out.get(cls)
        if same is None:
            out[cls] = events
        else:
            same.extend(events)
    return out
