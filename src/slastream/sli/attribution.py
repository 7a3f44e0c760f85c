"""Which tenant and application own a DevAddr's uplinks (docs/semantics.md#tenants).

The network-server side of an uplink carries only a DevAddr; who owns the device is known
on the application side. So the owner of each DevAddr is *learned*:

* from every delivery (``UplinkDelivered.tenant`` and ``.application``: ChirpStack's
  ``deviceInfo.tenantId`` and application id, The Things Stack's ``{application}@{tenant}``);
* from joins (``DeviceJoined``): a new session names its new DevAddr and its owner before
  any of its uplinks is delivered, so a device that rejoins and is then never delivered is
  still charged to its tenant;
* from the config: ``tenants.known[].devaddr_ranges`` give a tenant to every DevAddr of a
  block, and ``applications`` a tenant to an application whose messages name none.

What was learned wins over a configured block (it also names the application); the newest
learning of a DevAddr wins (a session change moves the DevAddr to its new owner). The
delivery SLI charges an uplink to, in this order: the owner its own delivery names; the
owner of its DevAddr when it was heard; the owner known when its deadline passes (so a
delivery or join arriving within the deadline attributes the uplinks before it); and
otherwise the ``unattributed`` scope.

State per DevAddr is 8 bytes: two sorted columns (DevAddr, owner index) searched by
bisection, under a dict of the changes since they were last merged (merged once it holds a
64th of them), so a million devices take about 8 MB. Owners not refreshed by a delivery,
join or lookup are forgotten: entries live in two generations, rotated every
``attribution_ttl_s`` of event time, and a lookup copies an entry of the previous generation
into the current one.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

import numpy as np
import numpy.typing as npt

from slastream.model.spec import ScopeBy, Tenants
from slastream.sli.state import State, get_array, get_int, get_strs, same_length

UNATTRIBUTED = "unattributed"
_MERGE_MIN = 1024


class _Table:
    """DevAddr → owner index: recent changes in a dict over sorted ``array`` columns."""

    __slots__ = ("keys", "recent", "vals")

    def __init__(self) -> None:
        self.recent: dict[int, int] = {}
        self.keys = array("I")  # sorted DevAddrs
        self.vals = array("i")  # their owner indexes

    def get(self, devaddr: int) -> int:
        """The owner index of ``devaddr``, -1 when it has none here."""
        idx = self.recent.get(devaddr)
        if idx is not None:
            return idx
        keys = self.keys
        i = bisect_left(keys, devaddr)
        return self.vals[i] if i < len(keys) and keys[i] == devaddr else -1

    def put(self, devaddr: int, idx: int) -> None:
        self.recent[devaddr] = idx
        if len(self.recent) > max(_MERGE_MIN, len(self.keys) >> 6):
            self.merge()

    def merge(self) -> None:
        """Fold the dict into the columns (a key of the dict wins over the columns)."""
        if not self.recent:
            return
        n = len(self.recent)
        keys = np.concatenate([np.frombuffer(self.keys, dtype=np.uint32),
                               np.fromiter(self.recent, dtype=np.uint32, count=n)])
        vals = np.concatenate([np.frombuffer(self.vals, dtype=np.int32),
                               np.fromiter(self.recent.values(), dtype=np.int32, count=n)])
        self.load(keys, vals)

    def load(self, keys: npt.NDArray[np.integer], vals: npt.NDArray[np.integer]) -> None:
        """Columns from unsorted ``keys`` and ``vals``; of equal keys the last wins."""
        order = np.argsort(keys, kind="stable")
        keys, vals = keys[order], vals[order]
        last = np.ones(len(keys), dtype=np.bool_)
        last[:-1] = keys[1:] != keys[:-1]
        self.keys = array("I", keys[last].astype(np.uint32).tobytes())
        self.vals = array("i", vals[last].astype(np.int32).tobytes())
        self.recent = {}

    def columns(self) -> tuple[list[int], list[int]]:
        self.merge()
        return self.keys.tolist(), self.vals.tolist()


class Attribution:
    """DevAddr → (tenant, application), learned and seeded as the module says."""

    def __init__(self, tenants: Tenants) -> None:
        self._generation_ms = tenants.attribution_ttl_s * 1000
        self._app_tenant = {app: t.id for t in tenants.known for app in t.applications}
        self._ranges = [(32 - bits, prefix >> (32 - bits), t.id)
                        for t in tenants.known for prefix, bits in t.devaddr_ranges]
        self._owners: list[tuple[str, str]] = []  # index → (tenant, application)
        self._owner_idx: dict[tuple[str, str], int] = {}
        self._current = _Table()
        self._previous = _Table()
        self._rotated_ms = -1

    # ---------------------------------------------------------------------------- learn
    def owner_index(self, tenant: str, application: str) -> int:
        """The index of an owner; a tenant left unsaid comes from the configured
        application owners (and stays "" when none names the application)."""
        if not tenant:
            tenant = self._app_tenant.get(application, "")
        key = (tenant, application)
        idx = self._owner_idx.get(key)
        if idx is None:
            idx = self._owner_idx[key] = len(self._owners)
            self._owners.append(key)
        return idx

    def learn(self, devaddr: int, tenant: str, application: str) -> int:
        """The session holding ``devaddr`` belongs to ``tenant`` and ``application``;
        returns the owner's index."""
        idx = self.owner_index(tenant, application)
        self.learn_index(devaddr, idx)
        return idx

    def learn_index(self, devaddr: int, idx: int) -> None:
        """``learn`` with the owner's index."""
        if self._current.get(devaddr) != idx:
            self._current.put(devaddr, idx)

    def rotate(self, now_ms: int) -> None:
        """Start a new generation once ``attribution_ttl_s`` of event time has passed."""
        if self._rotated_ms < 0:
            self._rotated_ms = now_ms
        elif now_ms - self._rotated_ms >= self._generation_ms:
            self._current.merge()
            self._previous = self._current
            self._current = _Table()
            self._rotated_ms = now_ms

    # --------------------------------------------------------------------------- lookup
    def learned(self, devaddr: int) -> int:
        """The index of the owner learned for ``devaddr``, -1 when none was."""
        idx = self._current.get(devaddr)
        if idx < 0:
            idx = self._previous.get(devaddr)
            if idx >= 0:
                self._current.put(devaddr, idx)
        return idx

    def owner_scope(self, idx: int, scope_by: ScopeBy) -> str | None:
        """The scope of a learned owner; ``None`` when its tenant is not known (a configured
        DevAddr block may still give one: ``scope`` decides)."""
        tenant, application = self._owners[idx]
        if not tenant:
            return None
        return tenant if scope_by == "tenant" else f"{tenant}/{application}"

    def owner(self, devaddr: int) -> tuple[str, str]:
        """``(tenant, application)``, "" for what is not known."""
        idx = self.learned(devaddr)
        if idx >= 0:
            tenant, application = self._owners[idx]
            return tenant or self._range_tenant(devaddr), application
        return self._range_tenant(devaddr), ""

    def _range_tenant(self, devaddr: int) -> str:
        for shift, want, tenant in self._ranges:
            if devaddr >> shift == want:
                return tenant
        return ""

    def scope(self, devaddr: int, scope_by: ScopeBy) -> str:
        """The scope of an uplink of ``devaddr``: its tenant, or ``{tenant}/{application}``;
        ``unattributed`` for what is not known."""
        tenant, application = self.owner(devaddr)
        if scope_by == "tenant":
            return tenant or UNATTRIBUTED
        if not tenant and not application:
            return UNATTRIBUTED
        return f"{tenant or UNATTRIBUTED}/{application or UNATTRIBUTED}"

    def __len__(self) -> int:
        """DevAddrs with a learned owner."""
        current, _ = self._current.columns()
        previous, _ = self._previous.columns()
        return len(set(current) | set(previous))

    # ---------------------------------------------------------------------- checkpoints
    def state(self) -> State:
        """Owners as two string columns; DevAddrs, owner indexes and generation (0 current,
        1 previous) as columns."""
        cur_keys, cur_vals = self._current.columns()
        prev_keys, prev_vals = self._previous.columns()
        return {
            "owner_tenants": [t for t, _ in self._owners],
            "owner_applications": [a for _, a in self._owners],
            "devaddr": np.array(cur_keys + prev_keys, dtype=np.int64),
            "owner": np.array(cur_vals + prev_vals, dtype=np.int64),
            "previous": np.array([False] * len(cur_keys) + [True] * len(prev_keys),
                                 dtype=np.bool_),
            "rotated_ms": self._rotated_ms,
        }

    def load_state(self, state: State) -> None:
        tenants = get_strs(state, "owner_tenants")
        apps = get_strs(state, "owner_applications")
        same_length("attribution owners", tenants, apps)
        self._owners = list(zip(tenants, apps, strict=True))
        self._owner_idx = {key: i for i, key in enumerate(self._owners)}
        devaddrs = get_array(state, "devaddr", np.int64)
        owners = get_array(state, "owner", np.int64)
        previous = get_array(state, "previous", np.bool_)
        same_length("attribution", devaddrs, owners, previous)
        if ((owners < 0) | (owners >= len(self._owners))).any() or (
                (devaddrs < 0) | (devaddrs >= 1 << 32)).any():
            raise ValueError("state of attribution: a DevAddr or owner index out of range")
        self._current, self._previous = _Table(), _Table()
        self._current.load(devaddrs[~previous], owners[~previous])
        self._previous.load(devaddrs[previous], owners[previous])
        self._rotated_ms = get_int(state, "rotated_ms")
