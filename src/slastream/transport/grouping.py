"""Grouping a chunk of events by ``(stream, partition)``: what ``EventProducer`` sends as
one record (or a few) per group.

``group_each`` is the definition: for each event in arrival order, for each of its routes
in order, append it to the group of ``(stream, partition of the route key)``; a group is
keyed by the route key of its first event, and the groups come in order of first
appearance. ``group_columns`` gives the same groups with the per-event work in C: the
events of each type are picked out at once, their route keys read by a C callable per
route (``operator.attrgetter``, ``str.format``: ``routes.EVENT_ROUTES``), the partition is
computed once per distinct key, and one stable ``numpy`` sort puts every group's events
together in arrival order (benchmarks/bridge.py: "route + group").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import compress, repeat
from operator import is_
from typing import Any

import numpy as np

from slastream.model.events import Event
from slastream.transport.routes import Route, Router

Groups = dict[tuple[str, int], tuple[str, list[Event]]]
# below this many events the sort's fixed cost is more than the per-event loop's
COLUMNS_FROM = 64


def group_each(events: list[Event], routes: Router, nparts: Mapping[str, int],
               hash_key: Callable[[str], int]) -> Groups:
    """``(stream, partition) -> (first key, events)``, event by event."""
    out: Groups = {}
    for ev in events:
        for stream, key in routes(ev):
            slot = (stream, hash_key(key) % nparts[stream])
            group = out.get(slot)
            if group is None:
                out[slot] = (key, [ev])
            else:
                group[1].append(ev)
    return out


def group_columns(events: list[Event], table: Mapping[type, tuple[Route, ...]],
                  nparts: Mapping[str, int], hash_key: Callable[[str], int]) -> Groups:
    """``group_each`` with the routes of ``table`` (the router's routes, type by type);
    ``TypeError`` for an event of a type it has no routes for, as ``routes.routes``."""
    types = list(map(type, events))
    streams = {stream: i for i, stream in enumerate(nparts)}
    width = max(nparts.values())
    slots: list[Any] = []  # per route of each type: the slot number of its events
    where: list[Any] = []  # the events' positions in ``events``
    rank: list[Any] = []  # the route's position among its type's routes
    keys: list[str] = []  # the route keys, in the order of the entries above
    distinct = dict.fromkeys(types)
    for cls in distinct:
        cls_routes = table.get(cls)
        if cls_routes is None:
            raise TypeError(f"not a canonical event: {events[types.index(cls)]!r}")
        if len(distinct) == 1:
            rows, positions = events, np.arange(len(events))
        else:
            mask = list(map(is_, types, repeat(cls)))
            rows = list(compress(events, mask))
            positions = np.flatnonzero(np.array(mask, dtype=bool))
        for r, (stream, key_of) in enumerate(cls_routes):
            cls_keys = list(map(key_of, rows))
            n = nparts[stream]
            base = streams[stream] * width
            slot_of = {k: base + hash_key(k) % n for k in dict.fromkeys(cls_keys)}
            slots.append(np.fromiter(map(slot_of.__getitem__, cls_keys), np.int64,
                                     len(cls_keys)))
            where.append(positions)
            rank.append(np.full(len(rows), r, np.int64))
            keys.extend(cls_keys)
    slot = np.concatenate(slots)
    at = np.concatenate(where)
    order = np.lexsort((at, slot))  # by slot, then arrival
    ordered = slot[order]
    starts = np.flatnonzero(np.diff(ordered, prepend=-1))
    ends = [*starts[1:].tolist(), len(order)]
    firsts = order[starts]
    # groups in order of first appearance: their first event's position, then route rank
    appearance = np.lexsort((np.concatenate(rank)[firsts], at[firsts]))
    names = list(nparts)
    out: Groups = {}
    starts_l, firsts_l, slots_l = starts.tolist(), firsts.tolist(), ordered[starts].tolist()
    for g in appearance.tolist():
        stream_no, partition = divmod(slots_l[g], width)
        members = at[order[starts_l[g]:ends[g]]].tolist()
        out[(names[stream_no], partition)] = (keys[firsts_l[g]],
                                              list(map(events.__getitem__, members)))
    return out
