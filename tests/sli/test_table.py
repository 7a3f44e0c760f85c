"""The tables of uplinks (sli/table.py): the C table and the dict one behave the same."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from slastream.sli import table as tables
from slastream.sli.table import entries, lookup, member, new_table, put, remove


def test_the_c_table_is_built() -> None:  # CI builds it: the fallback must not hide a break
    assert tables.native is not None
    assert type(new_table(1)).__module__ == "slastream.sli._table"


@pytest.mark.parametrize("pure", [False, True], ids=["c", "dict"])
def test_mapping(pure: bool) -> None:
    t = new_table(3, pure)
    assert len(t) == 0 and t.get(5) is None and 5 not in t
    t[5] = (1, 2, 3)
    t[1 << 47] = (-1, 1 << 62, 0)
    assert t[5] == (1, 2, 3) and t.get(1 << 47) == (-1, 1 << 62, 0) and 5 in t
    t[5] = (4, 5, 6)
    assert len(t) == 2 and t[5] == (4, 5, 6)
    del t[5]
    assert 5 not in t and len(t) == 1
    with pytest.raises(KeyError):
        t[5]
    with pytest.raises(KeyError):
        del t[5]
    with pytest.raises(ValueError):
        t[-1] = (0, 0, 0)
    with pytest.raises(ValueError):
        t[7] = (1, 2)
    assert -1 not in t and "x" not in t
    one = new_table(1, pure)
    one[3] = -7
    assert one[3] == -7 and one.get(4) is None


@pytest.mark.parametrize("pure", [False, True], ids=["c", "dict"])
def test_arrays(pure: bool) -> None:
    t = new_table(3, pure)
    keys = np.array([10, 20, 30, 20], dtype=np.int64)
    put(t, keys, np.array([1, 2, 3, 4]), np.array([5, 6, 7, 8]), np.array([0, 0, 1, 1]))
    assert len(t) == 3 and t[20] == (4, 8, 1)  # a later repeat of a key wins
    found, (a, b, c) = lookup(t, np.array([30, 40, 10], dtype=np.int64))
    assert found.tolist() == [True, False, True]
    assert a.tolist() == [3, 0, 1] and b.tolist() == [7, 0, 5] and c.tolist() == [1, 0, 0]
    assert member(t, np.array([40, 10, -1], dtype=np.int64)).tolist() == [False, True, False]
    assert remove(t, np.array([10, 40, 10], dtype=np.int64)) == 1
    keys_out, columns = entries(t)
    assert keys_out.tolist() == [20, 30] and [col.tolist() for col in columns] == [
        [4, 3], [8, 7], [1, 1]]
    with pytest.raises(ValueError):
        put(t, np.array([-5]), np.array([0]), np.array([0]), np.array([0]))
    with pytest.raises((TypeError, ValueError)):
        t.put(np.array([1], dtype=np.int64), np.array([1], dtype=np.int64))
    with pytest.raises(ValueError):
        t.find(np.array([1, 2], dtype=np.int64), np.empty(1, dtype=np.bool_),
               *(np.empty(2, dtype=np.int64) for _ in range(3)))


def test_the_c_table_takes_int64_arrays_only() -> None:  # never bits of another type
    t = new_table(1)
    for keys in (np.array([1.0, 2.0]), np.array([1, 2], dtype=np.uint64),
                 np.array([[1, 2]]), np.array([1, 2, 3, 4], dtype=np.int64)[::2]):
        with pytest.raises((ValueError, BufferError)):
            t.put(keys, np.array([1, 2], dtype=np.int64))
    with pytest.raises(ValueError):
        t.contains(np.array([1], dtype=np.int64), np.empty(1, dtype=np.float64))
    assert len(t) == 0


def _churn(pure: bool, seed: int) -> tuple[list[Any], Any]:
    """Random inserts, overwrites, lookups and removals, by key and by array, on one table
    and on a dict: every answer of the table, which must match the dict's."""
    rng = random.Random(seed)
    t = new_table(1, pure)
    ref: dict[int, int] = {}
    answers: list[Any] = []
    for step in range(3000):
        op = rng.random()
        keys = [rng.randrange(1 << 48) if rng.random() < 0.1 else rng.randrange(400)
                for _ in range(rng.randrange(1, 60))]
        arr = np.array(keys, dtype=np.int64)
        if op < 0.35:
            vals = [rng.randrange(-(1 << 62), 1 << 62) for _ in keys]
            put(t, arr, np.array(vals, dtype=np.int64))
            ref.update(zip(keys, vals, strict=True))
        elif op < 0.55:
            n = remove(t, arr)
            gone = {k for k in keys if k in ref}
            for k in gone:
                del ref[k]
            answers.append(n == len(gone))
        elif op < 0.7:
            k = keys[0]
            if rng.random() < 0.5:
                t[k] = step
                ref[k] = step
            elif k in ref:
                del t[k]
                del ref[k]
        else:
            found, (col,) = lookup(t, arr)
            answers.append(found.tolist() == [k in ref for k in keys])
            answers.append([int(v) for v, f in zip(col, found, strict=True) if f]
                           == [ref[k] for k in keys if k in ref])
        assert len(t) == len(ref)
    keys_out, (vals_out,) = entries(t)
    assert dict(zip(keys_out.tolist(), vals_out.tolist(), strict=True)) == ref
    return answers, t


@pytest.mark.parametrize("pure", [False, True], ids=["c", "dict"])
def test_random_operations_match_a_dict(pure: bool) -> None:
    for seed in range(4):
        answers, _ = _churn(pure, seed)
        assert answers and all(answers)


def test_memory_follows_the_entries() -> None:
    """Keys coming and going (uplinks in flight) do not grow the C table; after they are
    gone, it gives its memory back."""
    t = new_table(3)
    sizes = []
    for batch in range(200):
        keys = np.arange(batch * 5000, (batch + 1) * 5000, dtype=np.int64) * 7919
        put(t, keys, keys, keys, keys)
        if batch >= 20:  # about 100,000 held at any time
            remove(t, np.arange((batch - 20) * 5000, (batch - 19) * 5000,
                                dtype=np.int64) * 7919)
        sizes.append(t.nbytes)
    assert len(t) == 100_000
    assert max(sizes[40:]) <= 2 * sizes[40]  # no growth under churn
    assert t.nbytes <= 100_000 * 32 * 4  # at least 1/4 full
    remove(t, entries(t)[0])
    assert len(t) == 0 and t.nbytes <= 16 * 32
