"""The delivery SLI's checkpoint state: its packed ints spelt out as named columns.

``DeliverySLI`` keeps a pending uplink as one int and a tombstone as another
(``sli/delivery.py``); a checkpoint stores neither packing but plain columns (keys, times,
scope indexes, delivered flags, time buckets), so any later layout can read it
(``checkpoint/``). Checkpoints of the layout before scopes were generic (regions in uint8)
are read too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from slastream.sli.attribution import UNATTRIBUTED
from slastream.sli.delivery import _NONE, _S, _S2, _T
from slastream.sli.state import (
    State,
    columns_to_groups,
    get_array,
    get_int,
    get_strs,
    groups_to_columns,
    same_length,
)

if TYPE_CHECKING:
    from slastream.sli.delivery import DeliverySLI


def state_of(sli: DeliverySLI) -> State:
    """The pending uplinks, tombstones and their time buckets as columns
    (a side not seen yet is -1), scopes by index, the attribution (scoped by tenant or
    application), outages, counters.

    Unpacked with array operations: a checkpoint's cost per uplink in flight is a few
    nanoseconds, not a Python loop (the pending packing exceeds 64 bits, so it is
    taken apart as an array of Python ints)."""
    n, m = len(sli._pending), len(sli._done)
    packed = np.fromiter(sli._pending.values(), dtype=object, count=n)
    times = packed // _S
    ns = (times // _T).astype(np.int64)
    app = (times % _T).astype(np.int64)
    ns[ns == _NONE] = -1
    app[app == _NONE] = -1
    # a MAC-only uplink's tombstone is -1 (see _leave_out): time -1, scope 0
    done = np.fromiter(sli._done.values(), dtype=np.int64, count=m)
    out: State = {
        "pending_key": np.fromiter(sli._pending, dtype=np.int64, count=n),
        "pending_ns_ms": ns,
        "pending_app_ms": app,
        "pending_scope": (packed % _S).astype(np.int64),
        "pending_buckets": groups_to_columns(sli._buckets),
        "done_key": np.fromiter(sli._done, dtype=np.int64, count=m),
        "done_ns_ms": done // _S2,
        "done_scope": np.where(done < 0, 0, done // 2 % _S).astype(np.int64),
        "done_delivered": (done % 2).astype(np.bool_),
        "done_buckets": groups_to_columns(sli._done_buckets),
        "scopes": list(sli._scopes),
        "outages_ms": np.array(sli._outages, dtype=np.int64).reshape(-1, 2),
        "foreign": sli.foreign,
        "mac_only": sli.mac_only,
        "unmatched_deliveries": sli.unmatched_deliveries,
        "outage_excluded": sli.outage_excluded,
    }
    if sli.attribution is not None:
        out["attribution"] = sli.attribution.state()
    return out

def load(sli: DeliverySLI, state: State) -> None:
    """``state_of`` read back into ``sli`` (checkpoints of earlier layouts included)."""
    # checkpoints written before scopes were generic name them regions, in uint8
    old = "scopes" not in state
    sli._scopes = get_strs(state, "regions" if old else "scopes")
    if sli._scoped and not sli._scopes:
        # taken while the SLO was not scoped: its uplinks keep their scope, or are
        # attributed when they are finalised
        sli._scopes = [UNATTRIBUTED if sli.attribution is not None else "network"]
    sli._owner_scopes = []
    sli._scope_idx = {name: i for i, name in enumerate(sli._scopes)}
    sli._region_idx = {}
    idx_type = np.uint8 if old else np.int64
    keys = get_array(state, "pending_key", np.int64).tolist()
    ns = get_array(state, "pending_ns_ms", np.int64).tolist()
    app = get_array(state, "pending_app_ms", np.int64).tolist()
    scope = get_array(state, "pending_region" if old else "pending_scope", idx_type).tolist()
    same_length("pending", keys, ns, app, scope)
    _check_scopes(sli, scope)
    sli._pending = {k: ((_NONE if n < 0 else n) * _T + (_NONE if a < 0 else a)) * _S + r
                     for k, n, a, r in zip(keys, ns, app, scope, strict=True)}
    sli._buckets = _sharing(columns_to_groups(state, "pending_buckets"), keys)
    keys = get_array(state, "done_key", np.int64).tolist()
    ns = get_array(state, "done_ns_ms", np.int64).tolist()
    scope = get_array(state, "done_region" if old else "done_scope", idx_type).tolist()
    delivered = get_array(state, "done_delivered", np.bool_).tolist()
    same_length("done", keys, ns, scope, delivered)
    _check_scopes(sli, scope)
    sli._done = {k: -1 if n < 0 else (n * _S + r) * 2 + int(d)
                  for k, n, r, d in zip(keys, ns, scope, delivered, strict=True)}
    sli._done_buckets = _sharing(columns_to_groups(state, "done_buckets"), keys)
    if sli.attribution is not None and "attribution" in state:
        attribution = state["attribution"]
        if not isinstance(attribution, dict):
            raise ValueError("state field 'attribution': not a mapping")
        sli.attribution.load_state(attribution)
    sli._outages = [(s, e) for s, e in
                     get_array(state, "outages_ms", np.int64, (None, 2)).tolist()]
    sli.foreign = get_int(state, "foreign")
    # absent from checkpoints written before MAC-only uplinks could be left out
    sli.mac_only = get_int(state, "mac_only") if "mac_only" in state else 0
    sli.unmatched_deliveries = get_int(state, "unmatched_deliveries")
    sli.outage_excluded = get_int(state, "outage_excluded")

def _check_scopes(sli: DeliverySLI, indexes: list[int]) -> None:
    if sli._scoped and max(indexes, default=0) >= len(sli._scopes):
        raise ValueError("state of delivery: a scope index without a scope")


def _sharing(groups: dict[int, list[int]], keys: list[int]) -> dict[int, list[int]]:
    """``groups`` with each item that is one of ``keys`` replaced by that very int object,
    as in the live SLI, where a bucket holds the dict's own key: a restored SLI then takes
    the memory the uninterrupted one did (an int of a DevAddr and FCnt is 32 bytes)."""
    if not keys:
        return groups
    column = np.array(keys, dtype=np.int64)
    order = np.argsort(column, kind="stable")
    ordered = column[order]
    for group, items in groups.items():
        wanted = np.array(items, dtype=np.int64)
        at = np.searchsorted(ordered, wanted).clip(max=len(ordered) - 1)
        found = (ordered[at] == wanted).tolist()
        groups[group] = [keys[i] if hit else item for i, hit, item in
                         zip(order[at].tolist(), found, items, strict=True)]
    return groups
