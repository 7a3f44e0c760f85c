"""The delivery SLI's per-batch path: a batch of gateway uplinks or deliveries as rows.

``DeliverySLI.add`` walks events one by one; here the same batch is reduced with numpy
first (watermark bookkeeping, foreign frames, one group per (DevAddr, FCnt) key: its
earliest time, the scope of that earliest copy, the time of its first copy) and only the
groups touch the table of pending uplinks, as whole arrays (``sli/table.py``). The result
is the state ``add`` leaves: the same pending values, tombstones, time buckets (keys in
order of their first copy), scope indexes and counters. A gateway copy has 2.2 copies per
uplink on average in a simulated network, so the table work shrinks by that factor and the
per-event tuple work goes.

The scope is a generic index per row (the region, by the SLI's own index of region
names). SLOs scoped by tenant or application take the per-event path: their scope comes
from the attribution, learned and looked up event by event (``rows_apply``).

A batch with a MAC-only uplink while ``count_mac_only`` is false takes the per-event path:
such an uplink writes a tombstone that later copies in the same batch must see.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from slastream.model.time import MINUTE_MS
from slastream.sli.delivery import _NONE, _S
from slastream.sli.slices import (
    GOOD,
    HIST,
    LAT_COUNT,
    LAT_SUM,
    LATENCY_BOUNDS_MS,
    TOTAL,
    new_vector,
)
from slastream.sli.table import lookup, member, put, remove
from slastream.sources.columns import (
    DL_DEVADDR,
    DL_FCNT,
    DL_TIME,
    UP_DEVADDR,
    UP_FCNT,
    UP_FPORT,
    UP_REGION,
    UP_TIME,
    Rows,
)

if TYPE_CHECKING:
    from slastream.sli.delivery import DeliverySLI
_BUCKET_MS = 1000
_BOUNDS = np.array(LATENCY_BOUNDS_MS, dtype=np.float64)
Ints = npt.NDArray[np.int64]


def _seen(sli: DeliverySLI, t: Ints) -> None:
    """``add``'s watermark bookkeeping: late unless the event raises the maximum time."""
    before = np.maximum.accumulate(np.concatenate(([sli.max_time_ms], t)))[:-1]
    late = (t <= before) & (t < sli.watermark_ms)
    sli.late_events += int(np.count_nonzero(late))
    sli.max_time_ms = max(sli.max_time_ms, int(t.max()))


def _ours(sli: DeliverySLI, devaddr: Ints) -> npt.NDArray[np.bool_]:
    ours = np.zeros(len(devaddr), dtype=np.bool_) if sli._prefixes else np.ones(
        len(devaddr), dtype=np.bool_)
    for shift, want in sli._prefixes:
        ours |= (devaddr >> shift) == want
    return ours


def _groups(keys: Ints, t: Ints) -> tuple[Ints, Ints, Ints, Ints]:
    """Per distinct key, in order of its first row: the key, the row of its earliest time
    (the first such row on ties), that time, and the time of its first row."""
    if np.all(t[1:] >= t[:-1]):
        # rows in time order (a capture's, almost always): a key's first row is its
        # earliest, and one stable sort by key (half a lexsort) finds them
        by_key = np.argsort(keys, kind="stable")
        sorted_keys = keys[by_key]
        starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
        first_row = np.sort(by_key[starts])
        return keys[first_row], first_row, t[first_row], t[first_row]
    by_key = np.lexsort((t, keys))  # stable: ties keep row order
    sorted_keys = keys[by_key]
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    earliest = by_key[starts]
    first_row = np.minimum.reduceat(by_key, starts)
    order = np.argsort(first_row, kind="stable")
    earliest, first_row = earliest[order], first_row[order]
    return keys[earliest], earliest, t[earliest], t[first_row]


def _not_done(sli: DeliverySLI, keys: Ints) -> npt.NDArray[np.bool_]:
    if not len(sli._done):
        return np.ones(len(keys), dtype=np.bool_)
    return ~member(sli._done, keys)


def rows_apply(sli: DeliverySLI) -> bool:
    """Whether this path applies: not for an SLO scoped by tenant or application (each
    uplink's owner is looked up and learned event by event) nor with gateway diagnostics."""
    return sli.attribution is None and sli.diagnostics is None


def add_uplinks(sli: DeliverySLI, rows: Rows, names: list[str]) -> bool:
    """``sli.add`` of the batch's UplinkReceived rows; ``False`` to ask for ``add``."""
    if not rows_apply(sli):
        return False
    if not len(rows):
        return True
    devaddr = rows[:, UP_DEVADDR]
    ours = _ours(sli, devaddr)
    if not sli._lorawan.count_mac_only:
        fport = rows[:, UP_FPORT]
        if np.any(ours & ((fport == 0) | (fport == -1))):
            return False
    t = rows[:, UP_TIME]
    _seen(sli, t)
    sli.foreign += int(len(rows) - np.count_nonzero(ours))
    keys = (devaddr << 16) | rows[:, UP_FCNT]
    keep = ours.copy()
    keep[ours] = _not_done(sli, keys[ours])
    keys, t, names_at = keys[keep], t[keep], rows[keep, UP_REGION]
    if not len(keys):
        return True
    scope = _scope_index(sli, names_at, names)
    ukeys, earliest, tmin, tfirst = _groups(keys, t)
    sc = scope[earliest].astype(np.int64)
    found, (ns, app, _) = lookup(sli._pending, ukeys)
    # known keys (a copy or the delivery in an earlier batch) keep their application time;
    # new ones have none yet
    app[~found] = _NONE
    ns[~found] = _NONE
    # tracked at their first copy's second: new keys, and keys known from a delivery only
    tracked = ns == _NONE
    # the earliest copy and its scope are written where they are earlier than what is held
    moved = tracked | (tmin < ns)
    put(sli._pending, ukeys[moved], tmin[moved], app[moved], sc[moved])
    _track_rows(sli, ukeys[tracked].tolist(), tfirst[tracked])
    return True


def _track_rows(sli: DeliverySLI, keys: list[int], times: Ints) -> None:
    """``sli._track`` of each key at its time, in order: each second's keys appended to
    its bucket in row order, new buckets in order of their first row."""
    if not len(keys):
        return
    seconds = times // _BUCKET_MS
    order = np.argsort(seconds, kind="stable")
    in_order = seconds[order]
    starts = np.flatnonzero(np.concatenate(([True], in_order[1:] != in_order[:-1])))
    ends = [*starts[1:].tolist(), len(order)]
    begins = starts.tolist()
    firsts = in_order[starts].tolist()
    by_second = list(map(keys.__getitem__, order.tolist()))
    buckets = sli._buckets
    for g in np.argsort(order[starts], kind="stable").tolist():
        second = firsts[g]
        picked = by_second[begins[g]:ends[g]]
        bucket = buckets.get(second)
        if bucket is None:
            buckets[second] = picked
        else:
            bucket.extend(picked)


def _scope_index(sli: DeliverySLI, name_at: Ints, names: list[str]) -> npt.NDArray[np.int32]:
    """The SLI's scope index of each row (its region's, registered in order of first
    appearance as ``add`` registers them; 0 when the SLO is not scoped)."""
    if not sli.by_region:
        return np.zeros(len(name_at), dtype=np.int32)
    distinct, first = np.unique(name_at, return_index=True)
    lut = np.zeros(len(names), dtype=np.int32)
    for idx in distinct[np.argsort(first)].tolist():
        lut[idx] = sli._region(names[idx])
    return lut[name_at]


def add_deliveries(sli: DeliverySLI, rows: Rows) -> bool:
    """``sli.add`` of the batch's UplinkDelivered rows; ``False`` to ask for ``add``."""
    if not rows_apply(sli):
        return False
    if not len(rows):
        return True
    t = rows[:, DL_TIME]
    _seen(sli, t)
    devaddr = rows[:, DL_DEVADDR]
    known = devaddr >= 0  # the router found a session of the device to take it from
    sli.unmatched_deliveries += int(len(rows) - np.count_nonzero(known))
    keys = ((devaddr << 16) | (rows[:, DL_FCNT] & 0xFFFF))[known]
    t = t[known]
    if not len(keys):
        return True
    fresh = _not_done(sli, keys)
    if not fresh.all():
        done = sli._done
        for key, app_ms in zip(keys[~fresh].tolist(), t[~fresh].tolist(), strict=True):
            sli._late_delivery(key, done[key], app_ms)
        keys, t = keys[fresh], t[fresh]
        if not len(keys):
            return True
    ukeys, _, tmin, tfirst = _groups(keys, t)
    found, (ns, app, scope) = lookup(sli._pending, ukeys)
    # new keys: known from their delivery only, scope 0 (the per-event path's)
    ns[~found] = _NONE
    app[~found] = _NONE
    # an earlier delivery time wins
    moved = tmin < app
    put(sli._pending, ukeys[moved], ns[moved], tmin[moved], scope[moved])
    _track_rows(sli, ukeys[~found].tolist(), tfirst[~found])
    return True


# Below this many keys in the seconds to close, the per-key loop of ``DeliverySLI._close``
# is cheaper than setting up arrays (a live worker closes a second or two at a time).
CLOSE_MIN_KEYS = 256


def close(sli: DeliverySLI, seconds: list[int], watermark_ms: int) -> None:
    """``DeliverySLI._close`` of the buckets of ``seconds`` (sorted), with numpy: the same
    slices, tombstones, counters and re-tracked keys, in the same order."""
    lists = [sli._buckets.pop(second) for second in seconds]
    keys = np.fromiter(chain.from_iterable(lists), dtype=np.int64,
                       count=sum(map(len, lists)))
    live, (ns, app, region) = lookup(sli._pending, keys)  # not live: finalised already
    limit = watermark_ms - sli.deadline_ms
    moved = live & (np.minimum(ns, app) >= limit)
    for at in np.flatnonzero(moved).tolist():  # tracked again at its new time
        sli._track(int(keys[at]), min(int(ns[at]), int(app[at])))
    first = np.zeros(len(keys), dtype=np.bool_)
    first[np.unique(keys, return_index=True)[1]] = True  # a key's later copies find it gone
    final = live & ~moved & first
    remove(sli._pending, keys[final])
    unmatched = final & (ns == _NONE)
    sli.unmatched_deliveries += int(np.count_nonzero(unmatched))
    counted = final & ~unmatched
    if sli._outages:
        ends = ns + sli.deadline_ms
        hit = np.zeros(len(keys), dtype=np.bool_)
        for start_ms, end_ms in sli._outages:
            hit |= (start_ms < ends) & (ns < end_ms)
        sli.outage_excluded += int(np.count_nonzero(counted & hit))
        counted &= ~hit
    rows = np.flatnonzero(counted)
    ns, app, region = ns[rows], app[rows], region[rows]
    latency = app - ns
    delivered = (app != _NONE) & (latency <= sli.deadline_ms)
    _count(sli, ns, region, delivered, latency)
    _tombstones(sli, keys[rows], np.repeat(np.array(seconds, dtype=np.int64),
                                           [len(keys) for keys in lists])[rows],
                (ns * _S + region) * 2 + delivered)


def _count(sli: DeliverySLI, ns: Ints, region: Ints, delivered: npt.NDArray[np.bool_],
           latency: Ints) -> None:
    """``SLI._count`` of each row, per (scope, minute) in order of first appearance."""
    minute = ns // MINUTE_MS
    group = (region if sli.by_region else np.zeros_like(region)) << 32 | minute
    distinct, first, inverse = np.unique(group, return_index=True, return_inverse=True)
    n = len(distinct)
    timed = delivered & (latency >= 0)
    bucket = np.searchsorted(_BOUNDS, latency, side="left")
    total = np.bincount(inverse, minlength=n)
    good = np.bincount(inverse, weights=delivered.astype(np.float64), minlength=n)
    lat_sum = np.bincount(inverse, weights=np.where(timed, latency, 0), minlength=n)
    lat_count = np.bincount(inverse, weights=timed.astype(np.float64), minlength=n)
    hist = np.bincount(inverse[timed] * len(_BOUNDS) + bucket[timed],
                       minlength=n * len(_BOUNDS)).reshape(n, len(_BOUNDS))
    scopes = sli._scopes if sli.by_region else None
    for g in np.argsort(first, kind="stable").tolist():
        row = int(first[g])
        scope = scopes[int(region[row])] if scopes is not None else "network"
        vec = sli._open.setdefault((scope, int(minute[row])), new_vector())
        vec[TOTAL] += int(total[g])
        vec[GOOD] += int(good[g])
        vec[LAT_SUM] += int(lat_sum[g])
        vec[LAT_COUNT] += int(lat_count[g])
        for b in np.flatnonzero(hist[g]).tolist():
            vec[HIST + b] += int(hist[g, b])


def _tombstones(sli: DeliverySLI, keys: Ints, seconds: Ints, values: Ints) -> None:
    """Finalised uplinks' tombstones, and their keys under their bucket's second."""
    put(sli._done, keys, values)
    if not len(keys):
        return
    distinct, starts = np.unique(seconds, return_index=True)
    ends = [*starts[1:].tolist(), len(keys)]
    key_list = keys.tolist()
    for second, a, b in zip(distinct.tolist(), starts.tolist(), ends, strict=True):
        sli._done_buckets.setdefault(second, []).extend(key_list[a:b])
