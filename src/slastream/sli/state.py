"""The plain-data form of an SLI's in-flight state, as checkpoints store it.

An SLI's ``state()`` is a flat mapping from names to plain values: ints, floats, strings,
lists of those, and numpy arrays of a fixed dtype (columns of the SLI's tables). It never
holds an object of ours, so renaming an attribute or moving a class leaves old checkpoints
readable; the names themselves are the schema (``slastream/checkpoint/``). ``load_state``
reads them back through the accessors below, which turn any surprise into ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

State = dict[str, Any]
I64 = npt.NDArray[np.int64]


def get_int(state: State, key: str) -> int:
    value = _get(state, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"state field {key!r}: not an integer")
    return value


def get_strs(state: State, key: str) -> list[str]:
    value = _get(state, key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"state field {key!r}: not a list of strings")
    return value


def get_list(state: State, key: str) -> list[Any]:
    value = _get(state, key)
    if not isinstance(value, list):
        raise ValueError(f"state field {key!r}: not a list")
    return value


def get_array(state: State, key: str, dtype: type[np.generic],
              shape: tuple[int | None, ...] = (None,)) -> npt.NDArray[Any]:
    """The array ``key``; its dtype must be ``dtype`` and its shape match (None: any)."""
    value = _get(state, key)
    if not isinstance(value, np.ndarray) or value.dtype != np.dtype(dtype):
        raise ValueError(f"state field {key!r}: not an array of {np.dtype(dtype)}")
    if value.ndim != len(shape) or any(w is not None and w != n
                                       for w, n in zip(shape, value.shape, strict=True)):
        raise ValueError(f"state field {key!r}: shape {value.shape}, expected {shape}")
    return value


def same_length(what: str, *columns: Sequence[Any] | npt.NDArray[Any]) -> int:
    """The common length of ``columns`` (``ValueError`` if they differ)."""
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        raise ValueError(f"state {what}: columns of different lengths {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def groups_to_columns(groups: dict[int, list[int]]) -> State:
    """``{group: [item, ...]}`` (in insertion order) as three int64 columns."""
    return {
        "groups": np.fromiter(groups, dtype=np.int64, count=len(groups)),
        "sizes": np.fromiter((len(v) for v in groups.values()), dtype=np.int64,
                             count=len(groups)),
        "items": np.fromiter(chain.from_iterable(groups.values()), dtype=np.int64),
    }


def columns_to_groups(state: State, key: str) -> dict[int, list[int]]:
    """Inverse of ``groups_to_columns`` stored under ``key``."""
    cols = _get(state, key)
    if not isinstance(cols, dict):
        raise ValueError(f"state field {key!r}: not a mapping")
    groups = get_array(cols, "groups", np.int64).tolist()
    sizes = get_array(cols, "sizes", np.int64).tolist()
    items = get_array(cols, "items", np.int64).tolist()
    same_length(key, groups, sizes)
    if sum(sizes) != len(items) or any(n < 0 for n in sizes):
        raise ValueError(f"state field {key!r}: sizes do not add up to its items")
    out: dict[int, list[int]] = {}
    at = 0
    for group, n in zip(groups, sizes, strict=True):
        out[group] = items[at:at + n]
        at += n
    return out


def _get(state: State, key: str) -> Any:
    try:
        return state[key]
    except KeyError:
        raise ValueError(f"state field {key!r} is missing") from None
