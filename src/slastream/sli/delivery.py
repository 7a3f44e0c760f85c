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
* scoped by tenant or application, an uplink is charged to the owner of its DevAddr
  known when its deadline passes (``sli/attribution.py``, docs/semantics.md#tenants);
* a delivery that does not say its DevAddr (a The Things Stack ``up`` without
  ``end_device_ids.dev_addr``) was given its device's session DevAddr by the router when it
  was decoded; one still without is an unmatched delivery
  (docs/semantics.md#the-things-stack).

State per tracked uplink is one entry of a table of int64s (``sli/table.py``): 32 bytes a
pending uplink, 16 a tombstone, in tables kept between 1/8 and 5/8 full.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from slastream.model.events import (
    BridgeOutage,
    DeviceJoined,
    Event,
    UplinkDelivered,
    UplinkReceived,
)
from slastream.model.spec import OTHER_REGION, SLO, Settings
from slastream.sli.attribution import UNATTRIBUTED, Attribution
from slastream.sli.base import SLI
from slastream.sli.gateways import GatewaySLI
from slastream.sli.slices import GOOD, new_vector
from slastream.sli.state import (
    State,
)
from slastream.sli.table import Table, new_table
from slastream.sources.columns import Rows

# A pending uplink is three values under its key: ``(ns_ms, app_ms, scope)``, a side not
# seen yet holding _NONE (later than any time: the earliest of two sides is a min). A
# tombstone is one: ``(ns_ms * _S + scope) * 2 + delivered``. ``scope`` indexes
# ``_scopes``: the region (known when the uplink is heard), or the tenant or application
# (the owner named by the uplink's delivery or known for its DevAddr when heard; 0,
# ``unattributed``, until then and resolved again when it is finalised). Checkpoints spell
# both out as columns (delivery_state.py).
_NONE = (1 << 42) - 1  # "not seen" marker of a time
_SCOPE_BITS = 20
_S = 1 << _SCOPE_BITS
_S2 = 2 * _S
_BUCKET_MS = 1000


class DeliverySLI(SLI):
    consumes = (UplinkReceived, UplinkDelivered, DeviceJoined, BridgeOutage)

    def __init__(self, slo: SLO, settings: Settings) -> None:
        super().__init__(slo, settings)
        self.deadline_ms = int(slo.deadline_s * 1000)
        self.horizon_ms = self.deadline_ms
        self.by_region = slo.scope_by == "region"
        # scoped by owner: the DevAddr's tenant or application, resolved at finalisation
        self.attribution = (Attribution(settings.tenants)
                            if slo.scope_by in ("tenant", "application") else None)
        self._scoped = slo.scope_by != "network"
        # per-gateway counts of what this SLI finalises (sli/gateways.py), when configured
        self.diagnostics: GatewaySLI | None = None
        lw = settings.lorawan
        self._lorawan = lw
        # one prefix (the common case) is checked inline in add(); several go to is_ours
        self._prefixes = [(32 - bits, prefix >> (32 - bits)) for prefix, bits in
                          lw.devaddr_prefixes]
        self._pending: Table[tuple[int, int, int]] = new_table(3)  # key → (ns, app, scope)
        self._buckets: dict[int, list[int]] = {}  # second of first sighting → keys
        # recently finalised uplinks (tombstones): key → (ns_ms * _S + scope) * 2 + delivered
        self._done: Table[int] = new_table(1)
        self._done_buckets: dict[int, list[int]] = {}
        self._scopes: list[str] = []
        self._scope_idx: dict[str, int] = {}
        self._region_idx: dict[str, int] = {}  # region name → scope index (bounded cache)
        self._owner_scopes: list[int] = []  # attribution owner index → scope index (0: none)
        if self.attribution is not None:
            self._scope(UNATTRIBUTED)  # index 0: not attributed (yet)
        self._outages: list[tuple[int, int]] = []
        self.foreign = 0
        # MAC-only uplinks left out (lorawan.count_mac_only false), one per (DevAddr, FCnt)
        self.mac_only = 0
        self.unmatched_deliveries = 0
        self.outage_excluded = 0

    # ----------------------------------------------------------------------------- input
    def _region(self, name: str) -> int:
        """The scope index of a region: regions lorawan.regions does not list, and any past
        the 254th, share the scope "other" (a flood of invented regions adds no series)."""
        idx = self._region_idx.get(name)
        if idx is None:
            scope = self._lorawan.region_scope(name)
            if scope not in self._scope_idx and len(self._scopes) >= 254:
                scope = OTHER_REGION
            idx = self._scope(scope)
            if len(self._region_idx) < 4096:  # names seen, bounded too
                self._region_idx[name] = idx
        return idx

    def _scope(self, name: str) -> int:
        idx = self._scope_idx.get(name)
        if idx is None:
            if len(self._scopes) >= _S - 1:
                return 0
            idx = self._scope_idx[name] = len(self._scopes)
            self._scopes.append(name)
        return idx

    def _owner_scope(self, idx: int) -> int:
        """The scope index of a learned owner; 0 (unattributed) for none or no tenant."""
        scopes = self._owner_scopes
        if idx < 0:
            return 0
        if idx >= len(scopes):
            assert self.attribution is not None
            for i in range(len(scopes), idx + 1):
                name = self.attribution.owner_scope(i, self.slo.scope_by)
                scopes.append(0 if name is None else self._scope(name))
        return scopes[idx]

    def _track(self, key: int, time_ms: int) -> None:
        bucket = self._buckets.get(time_ms // _BUCKET_MS)
        if bucket is None:
            self._buckets[time_ms // _BUCKET_MS] = [key]
        else:
            bucket.append(key)

    # One function on purpose, longer than the usual limit: it is the replay's hot loop, and
    # splitting it costs a call per event.
    def add(self, events: Sequence[Event]) -> None:
        # One pass, state and helpers in locals, _track inlined, events unpacked as tuples
        # (a NamedTuple attribute is a descriptor call).
        pending = self._pending
        done = self._done
        buckets = self._buckets
        prefixes = self._prefixes
        shift, want = prefixes[0] if len(prefixes) == 1 else (-1, 0)
        by_region = self.by_region
        attribution = self.attribution
        max_t = self.max_time_ms
        watermark = self.watermark_ms
        late = foreign = mac_only = 0
        # MAC-only uplinks (FPort 0, or no FPort and so no FRMPayload: LoRaWAN 1.0.x
        # §4.3.2) never reach the application; count_mac_only false leaves them out.
        skip_mac = not self._lorawan.count_mac_only
        none = _NONE
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
                if by_region:
                    scope = self._region(region_name)
                elif attribution is None:
                    scope = 0
                elif v is not None and v[2]:
                    scope = v[2]  # named by its delivery
                else:
                    scope = self._owner_scope(attribution.learned(devaddr))
                if v is None:
                    pending[key] = (t, none, scope)
                    bucket = buckets.get(t // _BUCKET_MS)  # _track(key, t)
                    if bucket is None:
                        buckets[t // _BUCKET_MS] = [key]
                    else:
                        bucket.append(key)
                else:
                    ns = v[0]
                    if ns == none or t < ns:
                        pending[key] = (t, v[1], scope)
                        if ns == none:
                            self._track(key, t)
            elif type(ev) is UplinkDelivered:
                t, devaddr, fcnt, application, _, tenant = ev
                if t > max_t:
                    max_t = t
                elif t < watermark:
                    late += 1
                if devaddr < 0:  # the router found no session of the device to take it from
                    self.unmatched_deliveries += 1
                    continue
                key = (devaddr << 16) | (fcnt & 0xFFFF)
                v = pending.get(key)
                owner = 0
                if attribution is not None:
                    idx = attribution.owner_index(tenant, application)
                    owner = self._owner_scope(idx)
                    # an uplink heard under this owner: its DevAddr's owner is known already
                    if v is None or v[2] != owner:
                        attribution.learn_index(devaddr, idx)
                d = done.get(key)
                if d is not None:
                    self._late_delivery(key, d, t)
                    continue
                if v is None:
                    pending[key] = (none, t, owner)
                    self._track(key, t)
                else:
                    app = v[1]
                    if t < app or (owner and owner != v[2]):
                        pending[key] = (v[0], min(t, app), owner or v[2])
            elif type(ev) is BridgeOutage:
                self._outages.append((ev.start_ms, ev.end_ms))
            elif type(ev) is DeviceJoined:
                t = ev.time_ms
                if t > max_t:
                    max_t = t
                elif t < watermark:
                    late += 1
                if attribution is not None:
                    attribution.learn(ev.devaddr, ev.tenant, ev.application)
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
            if v[0] != _NONE:
                return 0  # the counter is in use by an uplink already tracked: that one counts
            del self._pending[key]
        self._done[key] = -1
        self._done_buckets.setdefault(ns_ms // _BUCKET_MS, []).append(key)
        return 1

    def _late_delivery(self, key: int, d: int, app_ms: int) -> None:
        """A delivery that arrived after its uplink was finalised as lost: correct it."""
        ns_ms, idx, delivered = d // _S2, d // 2 % _S, d % 2
        if not delivered and 0 <= app_ms - ns_ms <= self.deadline_ms:
            self._done[key] = d + 1
            scope = self._scopes[idx] if self._scoped else "network"
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

        if (delivery_rows.rows_apply(self)
                and sum(len(self._buckets[s]) for s in ready) >= delivery_rows.CLOSE_MIN_KEYS):
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
        scoped = self._scoped
        attribution = self.attribution
        if attribution is not None:
            attribution.rotate(watermark_ms)
        scope_by = self.slo.scope_by
        diagnostics = self.diagnostics
        count = self._count
        for second in ready:
            finalised = None
            for key in self._buckets.pop(second):
                v = pending.get(key)
                if v is None:
                    continue
                ns, app, scope = v
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
                if attribution is not None and not scope:
                    scope = self._scope(attribution.scope(key >> 16, scope_by))
                name = self._scopes[scope] if scoped else "network"
                count(name, ns, delivered, float(latency) if delivered else -1.0)
                if diagnostics is not None:
                    diagnostics.final(key, ns, name, delivered)
                done[key] = (ns * _S + scope) * 2 + delivered
                if finalised is None:
                    finalised = self._done_buckets.setdefault(second, [])
                finalised.append(key)

    def _forget(self, before_s: int) -> None:
        """Drop tombstones of uplinks too old to receive stragglers within lateness."""
        old = [self._done_buckets.pop(s) for s in [s for s in self._done_buckets
                                                   if s < before_s]]
        if old:
            self._done.remove(np.fromiter(chain.from_iterable(old), dtype=np.int64,
                                          count=sum(map(len, old))))

    # ---------------------------------------------------------------------- checkpoints
    def state(self) -> State:
        """Base state plus pending uplinks, tombstones and their time buckets as columns
        (``sli/delivery_state.py``)."""
        from slastream.sli import delivery_state  # it builds on this module's packing

        return {**super().state(), **delivery_state.state_of(self)}

    def load_state(self, state: State) -> None:
        from slastream.sli import delivery_state

        super().load_state(state)
        delivery_state.load(self, state)

    @property
    def tracked(self) -> int:
        return len(self._pending)

