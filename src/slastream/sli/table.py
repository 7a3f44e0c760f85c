"""Tables of uplinks: int64 keys (DevAddr << 16 | FCnt) to a fixed number of int64 values.

The delivery SLI holds every uplink in flight (pending) and every recently finalised one
(tombstones) in such a table: hundreds of thousands of keys, each looked up, written and
removed several times. A Python dict of Python ints costs an object per key and per value
and a Python-level step per key even when driven from numpy; the table in ``_table.c``
keeps keys and values as plain int64 slots (32 bytes an entry of three values) and takes
whole arrays of keys at once, so the per-batch path stays in C from the numpy arrays to
the slots and back.

One interface, two implementations with the same behaviour: the C ``Table`` (built with
the package, setup.py) and :class:`DictTable` on a dict, for a build without a C compiler
(tests/sli/test_table.py holds them to each other):

* a mapping for the per-event path: ``t.get(key)``, ``t[key]``, ``t[key] = value``,
  ``del t[key]``, ``key in t``, ``len(t)``; a value is an int (width 1) or a tuple of
  ``width`` ints;
* whole arrays for the per-batch path: ``find``, ``contains``, ``put``, ``remove``,
  ``dump`` (wrapped below as :func:`lookup`, :func:`member`, :func:`entries`).

Keys are >= 0 (the C table marks a free slot with -1).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from itertools import repeat
from typing import Any, Literal, Protocol, TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
V = TypeVar("V")


class Table(Protocol[V]):
    """What both implementations offer (``V``: int for width 1, else a tuple of ints)."""

    @property
    def width(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __getitem__(self, key: int, /) -> V: ...
    def __setitem__(self, key: int, value: V, /) -> None: ...
    def __delitem__(self, key: int, /) -> None: ...
    def get(self, key: int, /) -> V | None: ...
    def find(self, keys: Ints, found: Bools, /, *columns: Ints) -> None: ...
    def contains(self, keys: Ints, out: Bools, /) -> None: ...
    def put(self, keys: Ints, /, *columns: Ints) -> None: ...
    def remove(self, keys: Ints, /) -> int: ...
    def dump(self, keys: Ints, /, *columns: Ints) -> None: ...


class DictTable(dict[int, Any]):
    """The table on a dict: the same results as the C table, a Python step per key.

    It does not give memory back after many removals (a dict keeps its size), which the C
    table does; only a build without a C compiler uses it."""

    __slots__ = ("_width",)

    def __init__(self, width: int) -> None:
        super().__init__()
        if not 1 <= width <= 4:
            raise ValueError("width: 1 to 4 values a key")
        self._width = width

    @property
    def width(self) -> int:
        return self._width

    @property
    def nbytes(self) -> int:
        return sys.getsizeof(self)

    def __setitem__(self, key: int, value: Any) -> None:
        if key < 0:
            raise ValueError("a table key is >= 0")
        if self._width > 1:
            value = tuple(map(int, value))
            if len(value) != self._width:
                raise ValueError(f"a table value has {self._width} ints")
        super().__setitem__(key, int(value) if self._width == 1 else value)

    def find(self, keys: Ints, found: Bools, /, *columns: Ints) -> None:
        self._columns(keys, columns)
        values = list(map(self.get, keys.tolist()))
        hit = np.fromiter(map(_is_not, values, repeat(None)), dtype=np.bool_,
                          count=len(values))
        found[:] = hit
        held = [v for v in values if v is not None]
        if not held:
            return
        at = np.flatnonzero(hit)
        if self._width == 1:
            columns[0][at] = held
        else:
            columns_at = np.array(held, dtype=np.int64).reshape(len(held), self._width)
            for c, column in enumerate(columns):
                column[at] = columns_at[:, c]

    def contains(self, keys: Ints, out: Bools, /) -> None:
        out[:] = np.fromiter(map(self.__contains__, keys.tolist()), dtype=np.bool_,
                             count=len(keys))

    def put(self, keys: Ints, /, *columns: Ints) -> None:
        self._columns(keys, columns)
        if len(keys) and int(keys.min()) < 0:
            raise ValueError("a table key is >= 0")
        if self._width == 1:
            self.update(zip(keys.tolist(), columns[0].tolist(), strict=True))
        else:
            self.update(zip(keys.tolist(), zip(*(c.tolist() for c in columns), strict=True),
                            strict=True))

    def remove(self, keys: Ints, /) -> int:
        before = len(self)
        for key in keys.tolist():
            self.pop(key, None)
        return before - len(self)

    def dump(self, keys: Ints, /, *columns: Ints) -> None:
        self._columns(keys, columns)
        if len(keys) != len(self):
            raise ValueError(f"dump: arrays of {len(self)} items")
        keys[:] = np.fromiter(self.keys(), dtype=np.int64, count=len(self))
        if self._width == 1:
            columns[0][:] = np.fromiter(self.values(), dtype=np.int64, count=len(self))
        elif len(self):
            values = np.array(list(self.values()), dtype=np.int64)
            for c, column in enumerate(columns):
                column[:] = values[:, c]

    def _columns(self, keys: Ints, columns: tuple[Ints, ...]) -> None:
        if len(columns) != self._width:
            raise TypeError(f"{self._width} columns")
        if any(len(c) != len(keys) for c in columns):
            raise ValueError("a column's length is not the keys'")


def _is_not(a: object, b: object) -> bool:
    return a is not b


native: Callable[[int], Table[Any]] | None
try:  # the C table, built with the package (setup.py); without it, the dict
    from slastream.sli._table import Table as _CTable
except ImportError:  # pragma: no cover - a build without a C compiler
    native = None
else:
    native = _CTable


@overload
def new_table(width: Literal[1], pure: bool = False) -> Table[int]: ...
@overload
def new_table(width: Literal[3], pure: bool = False) -> Table[tuple[int, int, int]]: ...
def new_table(width: int, pure: bool = False) -> Table[Any]:
    """A new empty table of ``width`` values a key: the C table when built, unless
    ``pure`` (the dict, for the tests that compare the two)."""
    if native is None or pure:
        return cast(Table[Any], DictTable(width))
    return native(width)


def lookup(table: Table[Any], keys: Ints) -> tuple[Bools, list[Ints]]:
    """Whether each key is held, and its values column by column (0 where not held)."""
    found = np.empty(len(keys), dtype=np.bool_)
    columns = [np.zeros(len(keys), dtype=np.int64) for _ in range(table.width)]
    table.find(np.ascontiguousarray(keys, dtype=np.int64), found, *columns)
    return found, columns


def member(table: Table[Any], keys: Ints) -> Bools:
    """Whether each key is held."""
    out = np.empty(len(keys), dtype=np.bool_)
    table.contains(np.ascontiguousarray(keys, dtype=np.int64), out)
    return out


def entries(table: Table[Any]) -> tuple[Ints, list[Ints]]:
    """Every key, in increasing order, and its values column by column: the same arrays
    whatever the table's history (a checkpoint of it does not depend on the order in which
    uplinks came and went)."""
    n = len(table)
    keys = np.empty(n, dtype=np.int64)
    columns = [np.empty(n, dtype=np.int64) for _ in range(table.width)]
    table.dump(keys, *columns)
    order = np.argsort(keys, kind="stable")
    return keys[order], [c[order] for c in columns]


def put(table: Table[Any], keys: Ints, *columns: Ints) -> None:
    """``table.put`` of arrays of any int dtype and layout."""
    table.put(np.ascontiguousarray(keys, dtype=np.int64),
              *(np.ascontiguousarray(c, dtype=np.int64) for c in columns))


def remove(table: Table[Any], keys: Ints) -> int:
    """``table.remove`` of an array of any int dtype and layout."""
    return table.remove(np.ascontiguousarray(keys, dtype=np.int64))
