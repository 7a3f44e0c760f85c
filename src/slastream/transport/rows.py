"""A columnar record (``columnar.py``) as the engine's column batch, for the live worker.

Gateway uplinks and deliveries, almost every event of the ``lorawan`` and ``gateway``
topics, go to the SLIs as the int64 row arrays the replay decodes captures into
(``sources/columns.py``): the record's columns are copied into the rows in C, strings
stay indexes into the record's string table, and an SLI with a per-batch path
(``SLI.add_columns``) takes them whole, so no tuple is built per event. The other
types are tuples as ``columnar.decode`` makes them. ``Engine.feed_columns`` of the batch
leaves an engine exactly as ``Engine.feed`` of the decoded events does (the contract of
``add_columns``), which is also what makes the live worker's state equal the replay's.
"""

from __future__ import annotations

import struct
from collections import Counter
from itertools import repeat
from typing import Any

import numpy as np

from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from slastream.sources.columns import DL_WIDTH, UP_WIDTH, ColumnBatch, Rows
from slastream.transport import codec, columnar

# rows hold an event's fields in order, then the message ordinal (``sources/columns.py``)
_WIDTH = {UplinkReceived: UP_WIDTH, UplinkDelivered: DL_WIDTH}
_STRING, _INT, _BOOL = b"s"[0], b"i"[0], b"b"[0]
for _cls, _width in _WIDTH.items():
    assert len(_cls._fields) == _width - 1  # type: ignore[attr-defined]
    assert set(columnar.SCHEMAS[_cls]) <= {_STRING, _INT, _BOOL}


def decode_rows(value: bytes) -> ColumnBatch:
    """The events of a columnar record (version 2 or 3) as a column batch without input
    counters, the types in the record's order. Every row comes from the one record: its
    message ordinal is 0.

    Raises ``ValueError`` on a record that is not a well-formed columnar batch.
    """
    try:
        strings, blocks = columnar.read_blocks(value)
        names = list(strings)
        kinds: list[type] = []
        columns: dict[type, Rows] = {}
        events: dict[type, list[Event]] = {}
        new = tuple.__new__
        for block in blocks:
            cls = block.cls
            if cls not in kinds:
                kinds.append(cls)
            if cls in _WIDTH:
                rows = _rows(block, names, len(strings))
                same = columns.get(cls)
                columns[cls] = rows if same is None else np.concatenate((same, rows))
            else:
                fields = columnar.python_columns(block, strings)
                events.setdefault(cls, []).extend(
                    map(new, repeat(cls, block.rows), zip(*fields, strict=True)))
    except (IndexError, struct.error) as exc:
        raise ValueError(f"malformed columnar event batch: {exc}") from None
    return ColumnBatch(kinds, columns, events, {cls: [0] * len(evs) for cls, evs in
                                                events.items()},
                       names, 0, Counter(), Counter(), 0, None, Counter())


def _rows(block: columnar.Block, names: list[str], n_strings: int) -> Rows:
    """The block's columns side by side in one int64 array; a missing trailing field is
    its default (a string default an index of ``names``, appended once)."""
    out = np.zeros((block.rows, _WIDTH[block.cls]), dtype=np.int64)
    for i, (kind, raw) in enumerate(zip(columnar.SCHEMAS[block.cls], block.columns,
                                        strict=False)):
        assert isinstance(raw, columnar.Packed)  # only such kinds in these types (above)
        if kind == _STRING and block.rows and raw.max() >= n_strings:
            raise IndexError("string index out of range")
        if raw.offsets is None:
            out[:, i] = raw.base
        else:
            out[:, i] = raw.offsets
            if raw.base:
                out[:, i] += raw.base
    if block.missing:
        defaults = columnar.DEFAULTS[block.cls]
        first = len(columnar.SCHEMAS[block.cls]) - block.missing
        for i, default in enumerate(defaults[len(defaults) - block.missing:], first):
            out[:, i] = _default_value(default, names)
    return out


def _default_value(default: Any, names: list[str]) -> int:
    if isinstance(default, str):
        if default not in names:
            names.append(default)
        return names.index(default)
    return int(default)


def decode_record(value: bytes) -> ColumnBatch:
    """The events of a record of any version as a column batch (``Engine.feed_columns``):
    columnar ones by ``decode_rows``, version 1 (JSON, the markers' format) as tuples.

    Raises what ``codec.decode_grouped`` raises on a record of another format.
    """
    if columnar.is_columnar(value):
        return decode_rows(value)
    events = codec.decode_grouped(value)
    return ColumnBatch(list(events), {}, events, {cls: [0] * len(evs) for cls, evs in
                                                  events.items()},
                       [], 0, Counter(), Counter(), 0, None, Counter())
