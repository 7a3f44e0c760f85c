"""The columnar event batch: version 2 of the Kafka record format
(docs/interfaces.md#event-batches).

A record holds its events column by column, one block per event type, so that both ends
convert whole columns at C speed (``numpy`` buffers, ``zip``, ``map``) instead of
building and parsing one JSON row per event. Layout, little-endian, every column's data
starting at a multiple of 8 bytes from the start of the record::

    magic   b"\\x00SLB"  (a JSON record starts with "{": the two never collide)
    u16     version (2)
    u8      string table kind: 0 = strings joined by NUL, 1 = u32 lengths then the text
    u8      number of event type blocks
    u32     number of strings;  u32 length of the table in bytes;  the table (UTF-8)
    per block:
        u8 length of the type name, the name (``model/events.py``'s ``EVENT_TYPES``)
        u32 rows;  u8 columns
        per column: u8 kind, padding to 8, then the data
            i  int64[rows]       f  float64[rows]       b  bool[rows] (a byte, 0 or 1)
            s  uint32[rows]: index into the record's string table
            I  uint32[rows] lengths, padding, int64[sum]: a tuple of ints per row
            S  uint32[rows] lengths, uint32[sum] string indices: a tuple of strings per row

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
VERSION = 2
_NUL_JOINED, _LENGTHS = 0, 1
_HEAD = struct.Struct("<4sHBBII")  # magic, version, string table kind, blocks, strings, bytes
_BLOCK = struct.Struct("<IB")  # rows, columns

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

    def strings_column(self, values: Sequence[str]) -> None:
        if values and values.count(values[0]) == len(values):  # one value (a region, say)
            self.pad()
            self.put(np.full(len(values), len(self.strings), _DTYPES[b"s"]).tobytes())
            self.strings.append(values[0])
        else:
            self.array(self.indices(values), _DTYPES[b"s"], len(values))

    def indices(self, values: Sequence[str]) -> Iterable[int]:
        """Indices of ``values`` in the record's string table, which grows by the distinct
        ones (in C: one table per column, appended; a string in two columns is in the table
        twice, which costs a few bytes and no decoding)."""
        distinct = dict.fromkeys(values)
        index = dict(zip(distinct, count(len(self.strings)), strict=False))
        self.strings.extend(distinct)
        return map(index.__getitem__, values)


def encode(events: Sequence[Event]) -> bytes:
    """A version 2 record of ``events`` (any mix of types; order kept within a type)."""
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


Raw = npt.NDArray[Any] | tuple[npt.NDArray[Any], npt.NDArray[Any]]


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

    Raises ``ValueError`` on a record that is not a well-formed version 2 batch.
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
    if magic != MAGIC or version != VERSION:
        raise ValueError(f"not a slastream event batch (v{VERSION})")
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
            columns.append(_read_column(reader, kind_byte, rows))
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


def _read_column(reader: _Reader, kind: bytes, rows: int) -> Raw:
    if kind in (b"I", b"S"):
        lengths = reader.array(_DTYPES[b"s"], rows)
        flat = reader.array(_DTYPES[b"s" if kind == b"S" else b"i"],
                            int(lengths.sum(dtype=np.int64)))
        return lengths, flat
    return reader.array(_DTYPES[kind], rows)


def python_columns(block: Block, strings: list[str]) -> list[Iterable[Any]]:
    """The block's columns as lists of Python values, defaults for the missing fields."""
    out: list[Iterable[Any]] = []
    for kind, raw in zip(SCHEMAS[block.cls], block.columns, strict=False):
        if isinstance(raw, tuple):
            lengths, values = raw
            flat = values.tolist()
            if kind == _KIND_S:
                flat = list(map(strings.__getitem__, flat))
            ends = np.cumsum([0, *lengths.tolist()]).tolist()
            out.append(list(map(tuple, map(flat.__getitem__, map(slice, ends, ends[1:])))))
        elif kind == _KIND_s:
            out.append(list(map(strings.__getitem__, raw.tolist())))
        else:
            out.append(raw.tolist())
    if block.missing:
        defaults = DEFAULTS[block.cls]
        out.extend(repeat(d, block.rows) for d in defaults[len(defaults) - block.missing:])
    return out


_KIND_s, _KIND_S = b"s"[0], b"S"[0]


def decode(value: bytes) -> dict[type, list[Event]]:
    """Events of a version 2 record by type, each list in the order written."""
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
