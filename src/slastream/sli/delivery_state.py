"""The delivery SLI's checkpoint state: its tables spelt out as named columns.

``DeliverySLI`` keeps pending uplinks and tombstones in tables of int64s
(``sli/delivery.py``, ``sli/table.py``); a checkpoint stores plain columns (keys in
increasing order, times, scope indexes, delivered flags, time buckets), not the tombstone's
packing nor the tables' layout, so any later layout can read it (``checkpoint/``).
Checkpoints of the layout before scopes were generic (regions in uint8) are read too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from slastream.sli.attribution import UNATTRIBUTED
from slastream.sli.delivery import _NONE, _S, _S2
from slastream.sli.state import (
    State,
    columns_to_groups,
    get_array,
    get_int,
    get_strs,
    groups_to_columns,
    same_length,
)
from slastream.sli.table import entries, new_table, put

if TYPE_CHECKING:
    from slastream.sli.delivery import DeliverySLI


def state_of(sli: DeliverySLI) -> State:
    """The pending uplinks, tombstones and their time buckets as columns
    (a side not seen yet is -1), scopes by index, the attribution (scoped by tenant or
    application), outages, counters.

    Array operations: a checkpoint's cost per uplink in flight is a few nanoseconds, not
    a Python loop."""
    pending_key, (ns, app, scope) = entries(sli._pending)
    ns[ns == _NONE] = -1
    app[app == _NONE] = -1
    # a MAC-only uplink's tombstone is -1 (see _leave_out): time -1, scope 0
    done_key, (done,) = entries(sli._done)
    out: State = {
        "pending_key": pending_key,
        "pending_ns_ms": ns,
        "pending_app_ms": app,
        "pending_scope": scope,
        "pending_buckets": groups_to_columns(sli._buckets),
        "done_key": done_key,
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
    keys = get_array(state, "pending_key", np.int64)
    ns = get_array(state, "pending_ns_ms", np.int64)
    app = get_array(state, "pending_app_ms", np.int64)
    scope = get_array(state, "pending_region" if old else "pending_scope",
                      idx_type).astype(np.int64)
    same_length("pending", keys, ns, app, scope)
    _check_keys("pending", keys)
    _check_scopes(sli, scope)
    sli._pending = new_table(3)
    put(sli._pending, keys, np.where(ns < 0, _NONE, ns), np.where(app < 0, _NONE, app), scope)
    sli._buckets = columns_to_groups(state, "pending_buckets")
    keys = get_array(state, "done_key", np.int64)
    ns = get_array(state, "done_ns_ms", np.int64)
    scope = get_array(state, "done_region" if old else "done_scope", idx_type).astype(np.int64)
    delivered = get_array(state, "done_delivered", np.bool_)
    same_length("done", keys, ns, scope, delivered)
    _check_keys("done", keys)
    _check_scopes(sli, scope)
    sli._done = new_table(1)
    put(sli._done, keys, np.where(ns < 0, -1, (ns * _S + scope) * 2 + delivered))
    sli._done_buckets = columns_to_groups(state, "done_buckets")
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

def _check_keys(what: str, keys: npt.NDArray[np.int64]) -> None:
    """A key twice would be one entry of the table (the last); a negative key the table
    refuses itself."""
    if len(np.unique(keys)) < len(keys):
        raise ValueError(f"state of delivery: {what} keys repeated")


def _check_scopes(sli: DeliverySLI, indexes: npt.NDArray[np.int64]) -> None:
    if sli._scoped and int(indexes.max(initial=0)) >= len(sli._scopes):
        raise ValueError("state of delivery: a scope index without a scope")
