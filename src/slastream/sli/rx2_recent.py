"""The RX2 SLI's recent uplinks per (gateway, DevAddr), kept as small ints.

A gateway partition hears every copy of every uplink, and almost every copy opens an entry
of its own (a device is heard again by the same gateway only after its period, when the
entry is usually pruned already), so this table is what the RX2 SLI spends its time and
memory on (docs/architecture.md#replay). An entry is:

* its key: one int, the gateway's index in a table of names shifted left 32 bits, or'ed
  with the DevAddr (a DevAddr is 32 bits; any other value, which only a hand-written event
  or checkpoint can carry, is keyed by the tuple (gateway index, DevAddr));
* its newest uplink: one int, the time shifted left by ``shift`` bits, or'ed with the
  region's index in a table of names; ordering these ints orders the uplinks by time;
* its older uplinks, oldest first, in a second dict, only for the few entries that have
  any.

So a batch of rows becomes two int64 columns with numpy, and the entries it opens go into
the dict in one pass; pruning compares ints. The checkpoint is the keyed table the
per-uplink lists were stored as, row for row (``rx2.py``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from slastream.sli.rx2_lists import Lists, Uplink, lists_from_columns, lists_from_uplink_columns
from slastream.sli.state import State, get_array, get_strs, same_length
from slastream.sources.columns import Names

Key = int | tuple[int, int]

_DEVADDR_BITS = 32
_LOW32 = 0xFFFFFFFF
# the narrowest packing of an uplink: times up to 2**47 ms (year 6429) fit in an int64
# with 65,536 region names; a longer table or an odd time takes the per-uplink path
_SHIFT = 16
_MAX_FAST_TIME = 1 << (63 - _SHIFT)


class RecentUplinks:
    """Uplink times and regions per (gateway, DevAddr), newest last."""

    def __init__(self) -> None:
        self.newest: dict[Key, int] = {}  # in the order the entries were opened
        self.older: dict[Key, list[int]] = {}  # entries with several uplinks only
        self.shift = _SHIFT
        self.gateway_names = Names()  # gateway ids by index
        self.regions: list[str] = []
        self.region_ids: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.newest)

    @property
    def gateways(self) -> list[str]:
        """The gateway ids by index."""
        return self.gateway_names.names

    # ---------------------------------------------------------------------- names
    def region_id(self, name: str) -> int:
        rid = self.region_ids.get(name)
        if rid is None:
            rid = self.region_ids[name] = len(self.regions)
            self.regions.append(name)
            if rid >> self.shift:
                self._widen()
        return rid

    def _widen(self) -> None:
        """More region names than the packing holds: repack every uplink with room for
        twice as many bits of region index."""
        old, new = self.shift, self.shift * 2
        mask = (1 << old) - 1
        self.newest = {k: (v >> old) << new | (v & mask) for k, v in self.newest.items()}
        self.older = {k: [(v >> old) << new | (v & mask) for v in vs]
                      for k, vs in self.older.items()}
        self.shift = new

    def unpack(self, packed: int) -> Uplink:
        return packed >> self.shift, self.regions[packed & ((1 << self.shift) - 1)]

    # ---------------------------------------------------------------------- adding
    def add(self, time_ms: int, devaddr: int, gateway: str, region: str) -> None:
        """One gateway copy of an uplink (a copy of a time already held adds nothing)."""
        gid = self.gateway_names.index.get(gateway)
        if gid is None:
            gid = self.gateway_names.of(gateway)
        rid = self.region_ids.get(region)
        if rid is None:
            rid = self.region_id(region)
        key: Key = gid << 32 | devaddr if 0 <= devaddr <= _LOW32 else (gid, devaddr)
        self.put(key, time_ms << self.shift | rid)

    def put(self, key: Key, packed: int) -> None:
        newest = self.newest
        v = newest.get(key)
        if v is None:
            newest[key] = packed
        elif v >> self.shift < packed >> self.shift:
            older = self.older.get(key)
            if older is None:
                self.older[key] = [v]
            else:
                older.append(v)
            newest[key] = packed
        else:
            self._insert(key, v, packed)

    def _insert(self, key: Key, newest: int, packed: int) -> None:
        """An uplink not after the newest: kept in time order unless its time is held."""
        shift = self.shift
        t = packed >> shift
        held = [*self.older.get(key, ()), newest]
        if any(x >> shift == t for x in held):
            return
        held.append(packed)
        # by time, then region name: the order of (time, region) pairs
        held.sort(key=lambda x: (x >> shift, self.regions[x & ((1 << shift) - 1)]))
        self.newest[key] = held[-1]
        self.older[key] = held[:-1]

    def add_rows(self, times: npt.NDArray[np.int64], devaddrs: npt.NDArray[np.int64],
                 gateways: npt.NDArray[np.int64], regions: npt.NDArray[np.int64],
                 names: list[str]) -> None:
        """Uplink copies as columns (name columns index ``names``): what ``add`` of each
        row in turn leaves."""
        if not len(times):
            return
        g_lut = self._lut(gateways, names, self.gateway_names.index, self.gateway_names.of)
        r_lut = self._lut(regions, names, self.region_ids, self.region_id)
        if (self.shift != _SHIFT or int(times.min()) < 0 or int(times.max()) >= _MAX_FAST_TIME
                or int(devaddrs.min()) < 0 or int(devaddrs.max()) > _LOW32):
            for t, d, g, r in zip(times.tolist(), devaddrs.tolist(), gateways.tolist(),
                                  regions.tolist(), strict=True):
                self.add(t, d, names[g], names[r])
            return
        keys = g_lut[gateways] << 32 | devaddrs
        packed = times << _SHIFT | r_lut[regions]
        key_list, packed_list = keys.tolist(), packed.tolist()
        # One pass opens the entries, in the order they first appear, each with its first
        # row, and gives every other row the newest uplink its entry held then. A row equal
        # to it repeats a time that is held (nothing is pruned meanwhile): it adds nothing.
        # The other rows go one by one, in input order.
        opened = map(self.newest.setdefault, key_list, packed_list)
        try:
            held = np.fromiter(opened, dtype=np.int64, count=len(key_list))
        except OverflowError:  # an odd time held: the same pass again (it is idempotent)
            later = [i for i, (h, p) in enumerate(zip(
                map(self.newest.setdefault, key_list, packed_list), packed_list,
                strict=True)) if h != p]
        else:
            later = np.flatnonzero(held != packed).tolist()
        for i in later:
            self.put(key_list[i], packed_list[i])

    @staticmethod
    def _lut(column: npt.NDArray[np.int64], names: list[str], ids: dict[str, int],
             index: Callable[[str], int]) -> npt.NDArray[np.int64]:
        """This table's index (``ids``, ``index`` adding a name) of each batch name the
        column uses, by batch index."""
        used = np.flatnonzero(np.bincount(column)).tolist()
        lut = np.zeros(used[-1] + 1, dtype=np.int64)
        found = [ids.get(names[i], -1) for i in used]
        lut[used] = [index(names[i]) for i in used] if -1 in found else found
        return lut

    # ---------------------------------------------------------------------- reading
    def newest_at(self, gateway: str, devaddr: int, time_ms: int) -> Uplink | None:
        """The newest uplink of (gateway, DevAddr) at or before ``time_ms``."""
        gid = self.gateway_names.index.get(gateway)
        if gid is None:
            return None
        key: Key = gid << 32 | devaddr if 0 <= devaddr <= _LOW32 else (gid, devaddr)
        v = self.newest.get(key)
        if v is None:
            return None
        if v >> self.shift <= time_ms:
            return self.unpack(v)
        for x in reversed(self.older.get(key, ())):
            if x >> self.shift <= time_ms:
                return self.unpack(x)
        return None

    # ---------------------------------------------------------------------- pruning
    def prune(self, keep_ms: int) -> None:
        """Drop the uplinks before ``keep_ms``, and the entries left without any."""
        floor = keep_ms << self.shift  # an uplink is kept iff its packed int is >= floor
        # a comprehension beats np.fromiter and a mask here: few entries are kept
        self.newest = {k: v for k, v in self.newest.items() if v >= floor}
        older = {}
        for k, vs in self.older.items():
            if k in self.newest:
                left = vs if vs[0] >= floor else [v for v in vs if v >= floor]
                if left:
                    older[k] = left
        self.older = older
        if len(self.gateways) + len(self.regions) > 2 * len(self.newest) + 1024:
            self._compact()

    def _compact(self) -> None:
        """Name tables only grow as entries come and go: rebuild them from what is held."""
        fresh = RecentUplinks()
        fresh.extend(self.lists())
        self.__dict__.update(fresh.__dict__)

    # ---------------------------------------------------------------------- as lists
    def lists(self) -> Lists:
        """Every entry as (gateway, DevAddr) -> [(time, region), ...], oldest first."""
        out: Lists = {}
        older = self.older
        for k, v in self.newest.items():
            gid, devaddr = (k >> 32, k & _LOW32) if isinstance(k, int) else k
            out[(self.gateways[gid], devaddr)] = [
                *map(self.unpack, older.get(k, ())), self.unpack(v)]
        return out

    def extend(self, lists: Lists) -> None:
        """Take over entries as ``lists`` gives them (each list as it is, newest last)."""
        for (gateway, devaddr), uplinks in lists.items():
            if not uplinks:
                continue
            gid = self.gateway_names.of(gateway)
            rids = [self.region_id(r) for _, r in uplinks]  # may widen the packing first
            packed = [t << self.shift | rid for (t, _), rid in zip(uplinks, rids, strict=True)]
            key: Key = gid << 32 | devaddr if 0 <= devaddr <= _LOW32 else (gid, devaddr)
            self.newest[key] = packed[-1]
            if len(packed) > 1:
                self.older[key] = packed[:-1]
            else:
                self.older.pop(key, None)

    # ---------------------------------------------------------------------- checkpoints
    def columns(self) -> State:
        """The entries as a keyed table (docs/architecture.md#checkpoints), one row per
        (gateway, DevAddr) in the order they were opened: ``recent_key`` (from the
        gateway's CRC-32 and the DevAddr: unique in practice, and only used to store the
        changed rows of a checkpoint delta), the gateway and the newest uplink's region as
        indexes into the sorted ``gateway_names`` and ``region_names``, the DevAddr, the
        newest uplink's time and the number of older uplinks, those in ``older_time_ms`` /
        ``older_region`` entry by entry, oldest first."""
        keys = list(self.newest)
        n = len(keys)
        try:
            packed_keys = np.fromiter(keys, dtype=np.int64, count=n)
        except (TypeError, ValueError):  # some keyed by tuple: an odd DevAddr
            pairs = [(k >> 32, k & _LOW32) if isinstance(k, int) else k for k in keys]
            gids = np.fromiter((g for g, _ in pairs), dtype=np.int64, count=n)
            devaddrs = np.fromiter((d for _, d in pairs), dtype=np.int64, count=n)
        else:
            gids, devaddrs = packed_keys >> 32, packed_keys & _LOW32
        times, rids = self._split(list(self.newest.values()))
        if self.older:
            lists = list(map(self.older.get, keys))
            counts = np.fromiter((len(u) if u else 0 for u in lists), dtype=np.int64, count=n)
            older_t, older_r = self._split([x for u in lists if u for x in u])
        else:
            counts = np.zeros(n, dtype=np.int64)
            older_t, older_r = self._split([])
        gateway_names, g_index = _sorted_names(self.gateways, gids)
        region_names, r_index = _sorted_names(
            self.regions, np.concatenate([rids, older_r]))
        g_key = np.array([zlib.crc32(g.encode()) >> 1 << 32 for g in gateway_names],
                         dtype=np.int64)
        return {
            "gateway_names": gateway_names, "region_names": region_names,
            "recent_key": g_key[g_index[gids]] | devaddrs & _LOW32,
            "recent_gateway": g_index[gids],
            "recent_devaddr": devaddrs,
            "recent_time_ms": times,
            "recent_region": r_index[rids],
            "recent_older": counts,
            "older_time_ms": older_t,
            "older_region": r_index[older_r],
        }

    def _split(self, packed: list[int]
               ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Packed uplinks as their times and region indexes."""
        shift, mask = self.shift, (1 << self.shift) - 1
        try:
            values = np.fromiter(packed, dtype=np.int64, count=len(packed))
        except OverflowError:  # an odd time
            return (np.fromiter((v >> shift for v in packed), dtype=np.int64,
                                count=len(packed)),
                    np.fromiter((v & mask for v in packed), dtype=np.int64,
                                count=len(packed)))
        return values >> shift, values & mask

    @classmethod
    def from_state(cls, state: State) -> RecentUplinks:
        """The entries of ``columns()``, or of the per-uplink columns of states written
        before the keyed table."""
        recent = cls()
        if "recent_key" not in state:
            recent.extend(lists_from_uplink_columns(state))
        elif not recent._load_columns(state):
            recent = cls()
            recent.extend(lists_from_columns(state))
        return recent

    def _load_columns(self, state: State) -> bool:
        """``columns()`` read back with numpy; ``False`` (and this half filled) for a
        table that needs the per-entry path: a row keyed twice, an odd DevAddr or time,
        more region names than the packing holds."""
        gateways, regions = get_strs(state, "gateway_names"), get_strs(state, "region_names")
        g, devaddrs, times, r, counts = [get_array(state, f"recent_{k}", np.int64) for k in (
            "gateway", "devaddr", "time_ms", "region", "older")]
        older_t = get_array(state, "older_time_ms", np.int64)
        older_r = get_array(state, "older_region", np.int64)
        n = same_length("recent uplinks", g, devaddrs, times, r, counts)
        same_length("older uplinks", older_t, older_r)
        if (n and int(counts.min()) < 0) or sum(counts.tolist()) != len(older_t):
            raise ValueError("state of rx2: older uplink counts do not add up")
        for what, index, names in (("gateway", g, gateways),
                                   ("region", np.concatenate([r, older_r]), regions)):
            if len(index) and (int(index.min()) < 0 or int(index.max()) >= len(names)):
                raise ValueError(f"state of rx2: a {what} index without a name")
        all_times = np.concatenate([times, older_t])
        if n and (int(devaddrs.min()) < 0 or int(devaddrs.max()) > _LOW32
                  or int(all_times.min()) < 0 or int(all_times.max()) >= _MAX_FAST_TIME
                  or len(regions) > 1 << _SHIFT):
            return False
        g_lut = np.array([self.gateway_names.of(name) for name in gateways], dtype=np.int64)
        r_lut = np.array([self.region_id(name) for name in regions], dtype=np.int64)
        keys = (g_lut[g] << 32 | devaddrs).tolist() if n else []
        self.newest = dict(zip(keys, (times << _SHIFT | r_lut[r]).tolist() if n else [],
                               strict=True))
        if len(self.newest) < n:
            return False
        if len(older_t):
            packed = (older_t << _SHIFT | r_lut[older_r]).tolist()
            at = 0
            for i, k in zip(np.flatnonzero(counts).tolist(), counts[counts > 0].tolist(),
                            strict=True):
                self.older[keys[i]] = packed[at:at + k]
                at += k
        return True


def _sorted_names(table: list[str], used: npt.NDArray[np.int64]
                  ) -> tuple[list[str], npt.NDArray[np.int64]]:
    """The names of the indexes ``used``, sorted, and each table index's place among them."""
    ids = np.unique(used).tolist()
    names = sorted(table[i] for i in ids)
    place = {name: i for i, name in enumerate(names)}
    lut = np.zeros(len(table), dtype=np.int64)
    lut[ids] = [place[table[i]] for i in ids]
    return names, lut
