"""The compact device table: ids stay apart even when their hashes collide."""

from __future__ import annotations

import numpy as np
import pytest

from slastream.usage import devices as devices_module
from slastream.usage.devices import DeviceTable


def table() -> DeviceTable:
    return DeviceTable({"n": (np.uint32, 0)})


def test_numbers_in_first_seen_order_and_ids_round_trip() -> None:
    t = table()
    got, new = t.resolve(["b", "a", "b", "ü-1"])
    assert got.tolist() == [0, 1, 0, 2]
    assert new == ["b", "a", "ü-1"] and [t.id(i) for i in range(3)] == new
    again, new2 = t.resolve(["ü-1", "c", "a"])
    assert new2 == ["c"] and again.tolist() == [2, 3, 1]


def test_colliding_hashes_keep_ids_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a hash that only sees the length, every id of a length collides: each still
    gets its own device, now and after a checkpoint round trip."""
    monkeypatch.setattr(devices_module, "hash", len, raising=False)
    t = table()
    ids = ["aa", "bb", "cc", "d", "aa", "ee", "bb"]
    first, _ = t.resolve(ids[:3])
    second, _ = t.resolve(ids[3:])
    devices = first.tolist() + second.tolist()
    assert [t.id(d) for d in devices] == ids
    assert len(set(devices)) == 5
    restored = table()
    restored.load_state(t.state())
    again, new = restored.resolve(ids)
    assert new == [] and again.tolist() == devices


def test_columns_grow_with_the_table() -> None:
    t = table()
    got, _ = t.resolve([f"id-{i}" for i in range(1000)])
    t.col["n"][got] += 1
    assert t.size == 1000 and int(t.col["n"][:1000].sum()) == 1000
    assert len(t.col["n"]) >= 1000
