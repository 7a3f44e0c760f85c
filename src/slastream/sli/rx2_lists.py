"""The RX2 SLI's recent uplinks as lists of (time, region) per (gateway, DevAddr), newest
last: what a checkpoint's rows say entry by entry, for states written before the keyed table
and for tables that ``RecentUplinks`` cannot read with numpy (``sli/rx2_recent.py``)."""

from __future__ import annotations

import numpy as np

from slastream.sli.state import State, get_array, get_strs, same_length

Uplink = tuple[int, str]  # time, region
Lists = dict[tuple[str, int], list[Uplink]]


def lists_from_columns(state: State) -> Lists:
    gateways, regions = get_strs(state, "gateway_names"), get_strs(state, "region_names")
    cols = [get_array(state, f"recent_{k}", np.int64).tolist()
            for k in ("gateway", "devaddr", "time_ms", "region", "older")]
    older_t = get_array(state, "older_time_ms", np.int64).tolist()
    older_r = get_array(state, "older_region", np.int64).tolist()
    same_length("recent uplinks", *cols)
    same_length("older uplinks", older_t, older_r)
    g, _, _, r, k = cols
    if sum(k) != len(older_t) or min(k, default=0) < 0:
        raise ValueError("state of rx2: older uplink counts do not add up")
    for what, index, names in (("gateway", g, gateways), ("region", r + older_r, regions)):
        if index and (min(index) < 0 or max(index) >= len(names)):
            raise ValueError(f"state of rx2: a {what} index without a name")
    out: Lists = {}
    at = 0
    for gw, devaddr, t, region, n in zip(*cols, strict=True):
        entry = [(older_t[i], regions[older_r[i]]) for i in range(at, at + n)]
        entry.append((t, regions[region]))
        out[(gateways[gw], devaddr)] = entry
        at += n
    return out


def lists_from_uplink_columns(state: State) -> Lists:
    gateways = get_strs(state, "uplink_gateway")
    devaddrs = get_array(state, "uplink_devaddr", np.int64).tolist()
    counts = get_array(state, "uplink_count", np.int64).tolist()
    times = get_array(state, "uplink_time_ms", np.int64).tolist()
    regions = get_strs(state, "uplink_region")
    same_length("recent uplinks", gateways, devaddrs, counts)
    total = same_length("recent uplinks", times, regions)
    if total != sum(counts) or min(counts, default=1) < 1:
        raise ValueError("state of rx2: uplink counts do not add up")
    out: Lists = {}
    at = 0
    for gw, devaddr, n in zip(gateways, devaddrs, counts, strict=True):
        out[(gw, devaddr)] = list(zip(times[at:at + n], regions[at:at + n], strict=True))
        at += n
    return out
