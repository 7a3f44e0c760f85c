"""The difference between two checkpoint documents, and applying it: ``patch(a, diff(a, b))``
is ``b``, field for field, array for array (same dtypes, same row order).

A patch mirrors the document. A value that changed is stored whole (``$set``), except in
the two shapes in-flight state takes when it is large:

* a **keyed table**: in a mapping, a one-dimensional int64 column ``P_key`` of unique keys
  makes every array ``P_*`` of the same length a table of rows (the delivery SLI's pending
  uplinks and tombstones, ``sli/delivery.py``). Its patch (``$rows``) holds the keys of the
  rows dropped, the positions and values of the rows that changed, and the rows added at
  the end: what changed since the older document, not what is in flight;
* **groups** (``sli/state.py``: ``groups``, ``sizes``, ``items``, a dict of lists by
  another name): a group that only grew stores the items it gained (``$groups``).

Row order is part of the result: the patch describes the newer document as the older one
with rows dropped, rows changed in place and rows appended, which is how a Python dict
changes, or, when both documents hold the table in increasing key order (the delivery
SLI's tables, ``sli/table.py``), with the added rows merged into their place (``merge``).
When the newer document's order is neither, the table is stored whole instead, so a patch
is exact for any pair of documents.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

Patch = dict[str, Any]
Array = npt.NDArray[Any]

SET, DICT, DROP, LIST, ROWS, GROUPS = "$set", "$dict", "$drop", "$list", "$rows", "$groups"
_KEY = "_key"  # a table P's key column is P_key, its columns P_*
_GROUP_FIELDS = frozenset({"groups", "sizes", "items"})


def diff(old: Any, new: Any) -> Patch | None:
    """The patch from ``old`` to ``new``; ``None`` when they are equal."""
    if isinstance(old, dict) and isinstance(new, dict):
        if _is_groups(old) and _is_groups(new):
            return _diff_groups(old, new)
        return _diff_dict(old, new)
    if (isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
            and any(isinstance(v, dict | list) for v in new)):
        items = [diff(o, n) for o, n in zip(old, new, strict=True)]
        return None if all(i is None for i in items) else {LIST: items}
    return None if equal(old, new) else {SET: new}


def patch(old: Any, change: Patch | None) -> Any:
    """``old`` with ``change`` applied (a new object; ``old`` is left as it is).

    Raises ``ValueError`` if ``change`` does not fit ``old``.
    """
    if change is None:
        return old
    if not isinstance(change, dict):
        raise ValueError(f"a patch of type {type(change).__name__}")
    if SET in change:
        return change[SET]
    if LIST in change:
        items = change[LIST]
        if not isinstance(old, list) or not isinstance(items, list) or len(items) != len(old):
            raise ValueError("a list patch that does not fit its list")
        return [patch(o, c) for o, c in zip(old, items, strict=True)]
    if GROUPS in change:
        return _patch_groups(old, change[GROUPS])
    if not isinstance(old, dict):
        raise ValueError("a mapping patch on something else")
    dropped = set(change.get(DROP, ()))
    out = {k: v for k, v in old.items() if k not in dropped}
    for prefix, rows in change.get(ROWS, {}).items():
        out.update(_patch_rows(out, prefix, rows))
    for k, c in change.get(DICT, {}).items():
        out[k] = patch(out.get(k), c)
    return out


def equal(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are stored alike: arrays of the same dtype, shape and values,
    other values with the same JSON (``1`` and ``1.0`` differ, a tuple and a list do not:
    a restored document has lists)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b)))
    try:
        return orjson.dumps(a) == orjson.dumps(b)
    except TypeError:  # holds arrays
        pass
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return False


# ------------------------------------------------------------------------------ mappings


def _diff_dict(old: dict[str, Any], new: dict[str, Any]) -> Patch | None:
    handled: set[str] = set()
    rows: dict[str, Patch] = {}
    for prefix in _tables(old).keys() & _tables(new).keys():
        columns = _columns(new, prefix)
        if columns != _columns(old, prefix):
            continue
        fits, change = _diff_rows(old, new, prefix, columns)
        if fits:
            handled.update(columns)
            if change is not None:
                rows[prefix] = change
    fields: dict[str, Patch] = {}
    for k, v in new.items():
        if k in handled:
            continue
        c = diff(old[k], v) if k in old else {SET: v}
        if c is not None:
            fields[k] = c
    dropped = [k for k in old if k not in new]
    out: Patch = {}
    if dropped:
        out[DROP] = dropped
    if rows:
        out[ROWS] = rows
    if fields:
        out[DICT] = fields
    return out or None


def _tables(doc: dict[str, Any]) -> dict[str, int]:
    """Prefix → row count of the keyed tables of a mapping."""
    out = {}
    for k, v in doc.items():
        if (k.endswith(_KEY) and isinstance(v, np.ndarray) and v.ndim == 1
                and v.dtype == np.int64):
            out[k[:-len(_KEY) + 1]] = len(v)  # "pending_key" → "pending_"
    return out


def _columns(doc: dict[str, Any], prefix: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The columns of a table: name → (dtype, shape of a row)."""
    n = len(doc[prefix + _KEY[1:]])
    return {k: (v.dtype.str, v.shape[1:]) for k, v in doc.items()
            if k.startswith(prefix) and isinstance(v, np.ndarray) and v.ndim >= 1
            and v.shape[0] == n}


# ---------------------------------------------------------------------------- keyed rows


def _diff_rows(old: dict[str, Any], new: dict[str, Any], prefix: str,
               columns: dict[str, Any]) -> tuple[bool, Patch | None]:
    """Whether the change of one table is a rows patch (keys unique, the newer order
    "drop, change in place, append", or both in increasing key order: "drop, change in
    place, merge"), and that patch (``None``: no change)."""
    key = prefix + _KEY[1:]
    ok, nk = old[key], new[key]
    merge = bool(np.all(ok[1:] > ok[:-1]) and np.all(nk[1:] > nk[:-1]))
    order = np.arange(len(ok)) if merge else np.argsort(ok, kind="stable")
    sorted_old = ok[order]
    if not merge and (np.any(np.diff(np.sort(nk)) == 0) or np.any(np.diff(sorted_old) == 0)):
        return False, None  # keys that are not unique
    at = np.searchsorted(sorted_old, nk)
    at[at == len(ok)] = 0
    found = sorted_old[at] == nk if len(ok) else np.zeros(len(nk), np.bool_)
    r = int(found.sum())
    rows = np.flatnonzero(found) if merge else np.arange(r)  # the new rows kept
    source = order[at[rows]]  # row of the old table each kept row comes from
    if not merge and (not found[:r].all() or np.any(np.diff(source) <= 0)):
        return False, None
    kept = np.zeros(len(ok), np.bool_)
    kept[source] = True
    changed = np.zeros(r, np.bool_)
    for name in columns:
        if name != key:
            ne = new[name][rows] != old[name][source]
            if ne.ndim > 1:  # a row differs if any of its values does
                ne = ne.reshape(r, -1).any(axis=1) if ne.size else np.zeros(r, np.bool_)
            changed |= ne
    if kept.all() and not changed.any() and r == len(nk):
        return True, None
    where = np.flatnonzero(changed)
    added = np.flatnonzero(~found) if merge else np.arange(r, len(nk))
    out = {"drop": ok[~kept], "at": where.astype(np.int64),
           "changed": {n: new[n][rows[where]] for n in columns if n != key},
           "added": {n: new[n][added] for n in columns}}
    if merge:
        out["merge"] = True
    return True, out


def _patch_rows(old: dict[str, Any], prefix: str, rows: Patch) -> dict[str, Any]:
    key = prefix + _KEY[1:]
    ok = old.get(key)
    added, changed = rows["added"], rows["changed"]
    if not isinstance(ok, np.ndarray) or set(added) != {key, *changed}:
        raise ValueError(f"a rows patch of {key!r} that does not fit its table")
    drop = np.asarray(rows["drop"], dtype=np.int64)
    keep = ~np.isin(ok, drop)
    if int((~keep).sum()) != len(drop):
        raise ValueError(f"a rows patch of {key!r} drops rows it does not have")
    at = np.asarray(rows["at"], dtype=np.int64)
    r = int(keep.sum())
    if len(at) and (at.min() < 0 or at.max() >= r):
        raise ValueError(f"a rows patch of {key!r} changes rows it does not have")
    out = {}
    for name, tail in added.items():
        column = old.get(name)
        if not isinstance(column, np.ndarray) or len(column) != len(ok):
            raise ValueError(f"a rows patch of {name!r} without its column")
        head = column[keep]
        if name != key:
            head[at] = changed[name]
        out[name] = np.concatenate([head, np.asarray(tail, dtype=column.dtype)])
    if rows.get("merge"):  # the added rows into their place in increasing key order
        order = np.argsort(out[key], kind="stable")
        if np.any(np.diff(out[key][order]) == 0):
            raise ValueError(f"a rows patch of {key!r} adds keys it has")
        out = {name: column[order] for name, column in out.items()}
    return out


# -------------------------------------------------------------------------------- groups


def _is_groups(doc: dict[str, Any]) -> bool:
    return doc.keys() == _GROUP_FIELDS and all(isinstance(v, np.ndarray) for v in doc.values())


def _diff_groups(old: dict[str, Array], new: dict[str, Array]) -> Patch | None:
    """Groups dropped, items appended to the kept ones, groups added at the end; the
    whole mapping when the newer one is not that."""
    olds, news = _group_lists(old), _group_lists(new)
    if olds is None or news is None or len(olds) != len(old["groups"]) \
            or len(news) != len(new["groups"]):
        return None if equal(old, new) else {SET: new}
    kept = [g for g in olds if g in news]
    order = list(news)
    if order[:len(kept)] != kept:
        return {SET: new}
    grown: list[int] = []
    gained: list[Array] = []
    for i, g in enumerate(kept):
        before, after = olds[g], news[g]
        if len(after) < len(before) or not np.array_equal(after[:len(before)], before):
            return {SET: new}
        if len(after) > len(before):
            grown.append(i)
            gained.append(after[len(before):])
    added = order[len(kept):]
    dropped = [g for g in olds if g not in news]
    if not (grown or added or dropped):
        return None
    return {GROUPS: {
        "drop": np.array(dropped, dtype=np.int64),
        "grown": np.array(grown, dtype=np.int64),
        "gained": np.array([len(a) for a in gained], dtype=np.int64),
        "gained_items": _concat(gained),
        "added": np.array(added, dtype=np.int64),
        "added_sizes": np.array([len(news[g]) for g in added], dtype=np.int64),
        "added_items": _concat([news[g] for g in added])}}


def _patch_groups(old: Any, change: Patch) -> dict[str, Array]:
    groups = _group_lists(old) if isinstance(old, dict) and _is_groups(old) else None
    if groups is None:
        raise ValueError("a groups patch on something else")
    for g in np.asarray(change["drop"]).tolist():
        if groups.pop(g, None) is None:
            raise ValueError(f"a groups patch drops group {g} it does not have")
    kept = list(groups)
    grown, gained = change["grown"].tolist(), change["gained"].tolist()
    items = change["gained_items"]
    at = 0
    for i, n in zip(grown, gained, strict=True):
        if not 0 <= i < len(kept) or n < 0:
            raise ValueError("a groups patch grows a group it does not have")
        groups[kept[i]] = np.concatenate([groups[kept[i]], items[at:at + n]])
        at += n
    at = 0
    for g, n in zip(change["added"].tolist(), change["added_sizes"].tolist(), strict=True):
        if g in groups:
            raise ValueError(f"a groups patch adds group {g} twice")
        groups[g] = change["added_items"][at:at + n]
        at += n
    return {"groups": np.array(list(groups), dtype=np.int64),
            "sizes": np.array([len(v) for v in groups.values()], dtype=np.int64),
            "items": _concat(list(groups.values()))}


def _group_lists(doc: dict[str, Array]) -> dict[int, Array] | None:
    sizes = doc["sizes"]
    if sizes.dtype != np.int64 or doc["groups"].dtype != np.int64 \
            or len(sizes) != len(doc["groups"]) or int(sizes.sum()) != len(doc["items"]) \
            or np.any(sizes < 0):
        return None
    ends = np.cumsum(sizes).tolist()
    starts = [0, *ends[:-1]] if ends else []
    items = doc["items"]
    return {g: items[s:e] for g, s, e in zip(doc["groups"].tolist(), starts, ends,
                                              strict=True)}


def _concat(arrays: list[Array]) -> Array:
    return np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, np.int64)
