"""Packet delivery ratio: valid uplinks received by the network server vs. delivered.

LORIOT's measurand: availability is lost while fewer than 75 % of the valid LoRaWAN packets
received by the network server arrive at the consuming application. So:

* the denominator is logical uplinks on the NS-ingress side (gateway topics), one per
  (DevAddr, 16-bit FCnt) however many gateways heard it and however often a confirmed
  uplink was retransmitted (retransmissions reuse FCnt and the NS forwards them once);
* the numerator is those that reached the application within ``deadline_s``; the
  application reports a 32-bit FCnt, matched on its low 16 bits (the frame carries 16);
* frames whose DevAddr is outside our NetID prefixes are foreign: not "valid packets";
* the MIC is not part of the key: the application side does not carry it, and in
  LoRaWAN 1.1 a confirmed retransmission has a new MIC for the same FCnt;
* times are the bridge's receive times on both sides (one clock); gateway clocks drift;
* an uplink whose delivery deadline overlaps a bridge outage is left out: QoS-0 traffic
  lost while we were disconnected is our loss, not the network server's;
* a delivery that does not say its DevAddr (a The Things Stack ``up`` without
  ``end_device_ids.dev_addr``) was given its device's session DevAddr by the router when it
  was decoded; one still without is an unmatched delivery
  (docs/semantics.md#the-things-stack).

State per tracked uplink is one dict entry ``int key -> int value`` (about 120 bytes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slastream.model.events import BridgeOutage, Event, UplinkDelivered, UplinkReceived
from slastream.model.spec import SLO, Settings
from slastream.sli.base import SLI
from slastream.sli.slices import GOOD, new_vector
from slastream.sli.state import (
    State,
    columns_to_groups,
    get_array,
    get_int,
    get_strs,
    groups_to_columns,
    same_length,
)
from slastream.sources.columns import Rows

# A pending uplink is one int: ``(ns_ms * _T + app_ms) * 256 + region`` ("_pack" in the
# comments of ``add``), a side not seen yet holding _NONE. A tombstone is
# ``(ns_ms * 256 + region) * 2 + delivered``. Checkpoints store neither packing: ``state``
# spells both out as columns.
_NONE = (1 << 42) - 1  # "not seen" marker in a packed time field
_T = 1 << 42
_BUCKET_MS = 1000


class DeliverySLI(SLI):
    consumes = (UplinkReceived, UplinkDelivered, BridgeOutage)

    def __init__(self, slo: SLO, settings: Settings) -> None:
        super().__init__(slo, settings)
        self.deadline_ms = int(slo.deadline_s * 1000)
        self.horizon_ms = self.deadline_ms
        self.by_region = slo.scope_by == "region"
        lw = settings.lorawan
        self._lorawan = lw
        # one prefix (the common case) is checked inline in add(); several go to is_ours
        self._prefixes = [(32 - bits, prefix >> (32 - bits)) for prefix, bits in
                          lw.devaddr_prefixes]
        self._pending: dict[int, int] = {}
        self._buckets: dict[int, list[int]] = {}  # second of first sighting → keys
        # recently finalised uplinks (tombstones): key → (ns_ms * 256 + region) * 2 + delivered
        self._done: dict[int, int] = {}
        self._done_buckets: dict[int, list[int]] = {}
        self._regions: list[str] = []
        self._region_idx: dict[str, int] = {}
        self._outages: list[tuple[int, int]] = []
        self.foreign = 0
        # MAC-only uplinks left out (lorawan.count_mac_only false), one per (DevAddr, FCnt)
        self.mac_only = 0
        self.unmatched_deliveries = 0
        self.outage_excluded = 0

    # ----------------------------------------------------------------------------- input
    def _region(self, name: str) -> int:
        idx = self._region_idx.get(name)
        if idx is None:
            if len(self._regions) >= 255:
                return 0
            idx = self._region_idx[name] = len(self._regions)
            self._regions.append(name)
        return idx

    def _track(self, key: int, time_ms: int) -> None:
        bucket = self._buckets.get(time_ms // _BUCKET_MS)
        if bucket is None:
            self._buckets[time_ms // _BUCKET_MS] = [key]
        else:
            bucket.append(key)

    # One function on purpose, longer than the usual limit: it is the replay's hot loop, and
    # splitting it costs a call per event.
    def add(self, events: Sequence[Event]) -> None:
        # One pass, state and helpers in locals, _pack and _track inlined, events
        # unpacked as tuples (a NamedTuple attribute is a descriptor call).
        pending = self._pending
        done = self._done
        buckets = self._buckets
        prefixes = self._prefixes
        shift, want = prefixes[0] if len(prefixes) == 1 else (-1, 0)
        by_region = self.by_region
        max_t = self.max_time_ms
        watermark = self.watermark_ms
        late = foreign = mac_only = 0
        # MAC-only uplinks (FPort 0, or no FPort and so no FRMPayload: LoRaWAN 1.0.x
        # §4.3.2) never reach the application; count_mac_only false leaves them out.
        skip_mac = not self._lorawan.count_mac_only
        none = _NONE
        tt = _T
        for ev in events:
            if type(ev) is UplinkReceived:
                t, devaddr, fcnt16, _, region_name, _, fport = ev
                if t > max_t:
                    max_t = t
                elif t < watermark:
                    late += 1
                if shift >= 0:
                    if devaddr >> shift != want:
                        foreign += 1
                        continue
                elif prefixes and not self._lorawan.is_ours(devaddr):
                    foreign += 1
                    continue
                key = (devaddr << 16) | fcnt16
                if key in done:
                    continue  # a straggling copy of an uplink already counted
                if skip_mac and (fport == 0 or fport == -1):
                    mac_only += self._leave_out(key, t)
                    continue
                v = pending.get(key)
                region = self._region(region_name) if by_region else 0
                if v is None:
                    pending[key] = (t * tt + none) * 256 + region  # _pack(t, _NONE, region)
                    bucket = buckets.get(t // _BUCKET_MS)  # _track(key, t)
                    if bucket is None:
                        buckets[t // _BUCKET_MS] = [key]
                    else:
                        bucket.append(key)
                else:
                    ns = v // 256 // tt
                    if ns == none or t < ns:
                        pending[key] = (t * tt + v // 256 % tt) * 256 + region
                        if ns == none:
                            self._track(key, t)
            elif type(ev) is UplinkDelivered:
                t, devaddr, fcnt, _, _ = ev
                if t > max_t:
                    max_t = t
                elif t < watermark:
                    late += 1
                if devaddr < 0:  # the router found no session of the device to take it from
                    self.unmatched_deliveries += 1
                    continue
                key = (devaddr << 16) | (fcnt & 0xFFFF)
                d = done.get(key)
                if d is not None:
                    self._late_delivery(key, d, t)
                    continue
                v = pending.get(key)
                if v is None:
                    pending[key] = (none * tt + t) * 256  # _pack(_NONE, t, 0)
                    self._track(key, t)
                else:
                    app = v // 256 % tt
                    if t < app:
                        pending[key] = (v // 256 // tt * tt + t) * 256 + v % 256
            elif type(ev) is BridgeOutage:
                self._outages.append((ev.start_ms, ev.end_ms))
            else:  # not consumed, but its time still moves the watermark
                t = ev.time_ms  # type: ignore[union-attr]
                if t > max_t:
                    max_t = t
                elif t < watermark:
                    late += 1
        self.max_time_ms = max_t
        self.late_events += late
        self.foreign += foreign
        self.mac_only += mac_only

    def add_columns(self, cls: type, rows: Rows, names: list[str]) -> bool:
        """Uplinks and deliveries as rows: the per-batch path (``sli/delivery_rows.py``)."""
        from slastream.sli import delivery_rows  # it builds on this module's packing

        if cls is UplinkReceived:
            return delivery_rows.add_uplinks(self, rows, names)
        if cls is UplinkDelivered:
            return delivery_rows.add_deliveries(self, rows)
        return False

    def _leave_out(self, key: int, ns_ms: int) -> int:
        """Leave a MAC-only uplink out of the count; 1 when it is newly left out.

        Its tombstone keeps later gateway copies and any delivery of it out too, and a
        delivery seen first is no unmatched delivery. The tombstone is -1: to
        ``_late_delivery`` an uplink already delivered (odd) at a time before any delivery,
        so a delivery never turns it into a good packet.
        """
        v = self._pending.get(key)
        if v is not None:
            if v // 256 // _T != _NONE:
                return 0  # the counter is in use by an uplink already tracked: that one counts
            del self._pending[key]
        self._done[key] = -1
        self._done_buckets.setdefault(ns_ms // _BUCKET_MS, []).append(key)
        return 1

    def _late_delivery(self, key: int, d: int, app_ms: int) -> None:
        """A delivery that arrived after its uplink was finalised as lost: correct it."""
        ns_ms, region, delivered = d // 512, d // 2 % 256, d % 2
        if not delivered and 0 <= app_ms - ns_ms <= self.deadline_ms:
            self._done[key] = d + 1
            scope = self._regions[region] if self.by_region else "network"
            vec = self._open.setdefault((scope, ns_ms // 60_000), new_vector())
            vec[GOOD] += 1

    # ------------------------------------------------------------------------ finalise
    def _in_outage(self, start_ms: int, end_ms: int) -> bool:
        return any(s < end_ms and start_ms < e for s, e in self._outages)

    def _close(self, watermark_ms: int) -> None:
        cutoff_s = (watermark_ms - self.deadline_ms) // _BUCKET_MS
        ready = [s for s in self._buckets if s < cutoff_s]
        if not ready:
            return
        from slastream.sli import delivery_rows  # it builds on this module's packing

        if sum(len(self._buckets[s]) for s in ready) >= delivery_rows.CLOSE_MIN_KEYS:
            delivery_rows.close(self, sorted(ready), watermark_ms)
        else:
            self._close_each(sorted(ready), watermark_ms)
        self._forget((watermark_ms - self.deadline_ms - self.lateness_ms) // _BUCKET_MS - 60)

    def _close_each(self, ready: list[int], watermark_ms: int) -> None:
        """Finalise the buckets of the ``ready`` seconds key by key."""
        pending = self._pending
        done = self._done
        deadline = self.deadline_ms
        limit = watermark_ms - deadline
        by_region = self.by_region
        count = self._count
        for second in ready:
            finalised = None
            for key in self._buckets.pop(second):
                v = pending.get(key)
                if v is None:
                    continue
                ns, app, region = v // 256 // _T, v // 256 % _T, v % 256
                first = min(ns, app)
                if first >= limit:  # moved: tracked again at its new time
                    self._track(key, first)
                    continue
                del pending[key]
                if ns == _NONE:
                    self.unmatched_deliveries += 1
                    continue
                if self._outages and self._in_outage(ns, ns + deadline):
                    self.outage_excluded += 1
                    continue
                latency = app - ns
                delivered = app != _NONE and latency <= deadline
                count(self._regions[region] if by_region else "network", ns, delivered,
                      float(latency) if delivered else -1.0)
                done[key] = (ns * 256 + region) * 2 + delivered
                if finalised is None:
                    finalised = self._done_buckets.setdefault(second, [])
                finalised.append(key)

    def _forget(self, before_s: int) -> None:
        """Drop tombstones of uplinks too old to receive stragglers within lateness."""
        for second in [s for s in self._done_buckets if s < before_s]:
            for key in self._done_buckets.pop(second):
                self._done.pop(key, None)

    # ---------------------------------------------------------------------- checkpoints
    def state(self) -> State:
        """Base state plus pending uplinks, tombstones and their time buckets as columns
        (a side not seen yet is -1), regions by index, outages, counters."""
        pending = list(self._pending.items())
        done = list(self._done.items())
        unpacked = [(v // 256 // _T, v // 256 % _T) for _, v in pending]
        return {
            **super().state(),
            "pending_key": np.array([k for k, _ in pending], dtype=np.int64),
            "pending_ns_ms": np.array([-1 if ns == _NONE else ns for ns, _ in unpacked],
                                      dtype=np.int64),
            "pending_app_ms": np.array([-1 if app == _NONE else app for _, app in unpacked],
                                       dtype=np.int64),
            "pending_region": np.array([v % 256 for _, v in pending], dtype=np.uint8),
            "pending_buckets": groups_to_columns(self._buckets),
            "done_key": np.array([k for k, _ in done], dtype=np.int64),
            # a MAC-only uplink's tombstone is -1 (see _leave_out): time -1, region 0
            "done_ns_ms": np.array([d // 512 for _, d in done], dtype=np.int64),
            "done_region": np.array([0 if d < 0 else d // 2 % 256 for _, d in done],
                                    dtype=np.uint8),
            "done_delivered": np.array([d % 2 for _, d in done], dtype=np.bool_),
            "done_buckets": groups_to_columns(self._done_buckets),
            "regions": list(self._regions),
            "outages_ms": np.array(self._outages, dtype=np.int64).reshape(-1, 2),
            "foreign": self.foreign,
            "mac_only": self.mac_only,
            "unmatched_deliveries": self.unmatched_deliveries,
            "outage_excluded": self.outage_excluded,
        }

    def load_state(self, state: State) -> None:
        super().load_state(state)
        self._regions = get_strs(state, "regions")
        if self.by_region and not self._regions:
            # taken while the SLO was not scoped by region: its uplinks keep their scope
            self._regions = ["network"]
        self._region_idx = {name: i for i, name in enumerate(self._regions)}
        keys = get_array(state, "pending_key", np.int64).tolist()
        ns = get_array(state, "pending_ns_ms", np.int64).tolist()
        app = get_array(state, "pending_app_ms", np.int64).tolist()
        region = get_array(state, "pending_region", np.uint8).tolist()
        same_length("pending", keys, ns, app, region)
        self._check_regions(region)
        self._pending = {k: ((_NONE if n < 0 else n) * _T + (_NONE if a < 0 else a)) * 256 + r
                         for k, n, a, r in zip(keys, ns, app, region, strict=True)}
        self._buckets = columns_to_groups(state, "pending_buckets")
        keys = get_array(state, "done_key", np.int64).tolist()
        ns = get_array(state, "done_ns_ms", np.int64).tolist()
        region = get_array(state, "done_region", np.uint8).tolist()
        delivered = get_array(state, "done_delivered", np.bool_).tolist()
        same_length("done", keys, ns, region, delivered)
        self._check_regions(region)
        self._done = {k: -1 if n < 0 else (n * 256 + r) * 2 + int(d)
                      for k, n, r, d in zip(keys, ns, region, delivered, strict=True)}
        self._done_buckets = columns_to_groups(state, "done_buckets")
        self._outages = [(s, e) for s, e in
                         get_array(state, "outages_ms", np.int64, (None, 2)).tolist()]
        self.foreign = get_int(state, "foreign")
        # absent from checkpoints written before MAC-only uplinks could be left out
        self.mac_only = get_int(state, "mac_only") if "mac_only" in state else 0
        self.unmatched_deliveries = get_int(state, "unmatched_deliveries")
        self.outage_excluded = get_int(state, "outage_excluded")

    def _check_regions(self, indexes: list[int]) -> None:
        if self.by_region and max(indexes, default=0) >= len(self._regions):
            raise ValueError("state of delivery: a region index without a region")

    @property
    def tracked(self) -> int:
        return len(self._pending)
