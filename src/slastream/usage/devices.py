"""Client ids → dense device numbers, with per-device columns, in compact numpy arrays.

A dict from id strings to objects costs some 150 bytes per device before it counts
anything; a request-allowance counter must hold a million ADIs. So the ids live as one UTF-8
byte string with an end offset per device, found through a sorted array of their 64-bit
hashes (the interpreter's string hash, cached on the string: computing it per request is
cheap; it differs between processes, so the index is rebuilt on ``load_state``). A hash hit
is checked against the stored bytes, and an id whose hash is already another id's goes to a
small dict: two ids never share a device.

Per-device values are named numpy columns that grow together (by a quarter at a time),
indexed by device number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from slastream.sli.state import State, get_array

I64 = npt.NDArray[np.int64]
Column = npt.NDArray[Any]


class DeviceTable:
    """Devices numbered 0, 1, ... in the order they were first seen."""

    def __init__(self, columns: dict[str, tuple[type[np.generic], int]]) -> None:
        """``columns``: name → (dtype, value of a new device)."""
        self._spec = dict(columns)
        self._reset()

    def _reset(self) -> None:
        self.size = 0
        self.col: dict[str, Column] = {
            name: np.zeros(0, dtype) for name, (dtype, _) in self._spec.items()}
        self._ends = np.zeros(0, np.uint32)  # end offset of each id in _blob (< 4 GiB of ids)
        self._blob = bytearray()
        self._keys = np.zeros(0, np.int64)  # sorted hashes of the ids ...
        self._slots = np.zeros(0, np.int32)  # ... and the device of each
        self._odd: dict[str, int] = {}  # ids whose hash is already another id's

    def id(self, device: int) -> str:
        start = int(self._ends[device - 1]) if device else 0
        return self._blob[start:int(self._ends[device])].decode()

    def resolve(self, clients: Sequence[str]) -> tuple[I64, list[str]]:
        """The device number of each client, adding the new ones; and the new clients, in
        the order of their numbers (``size`` before the call is the first one's)."""
        n = len(clients)
        if n == 0:
            return np.zeros(0, np.int64), []
        hashes = np.fromiter(map(hash, clients), np.int64, n)
        uniq, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        reps = [clients[j] for j in first.tolist()]
        found = self._find(uniq, reps)
        new: list[str] = []
        fresh = np.flatnonzero(found == -1)  # in hash order; numbered in order of arrival
        if fresh.size:
            seen = fresh[np.argsort(first[fresh], kind="stable")]
            new = [reps[j] for j in seen.tolist()]
            base = self._store(new)
            found[seen] = np.arange(base, base + len(new), dtype=np.int64)
            self._insert(uniq[fresh], found[fresh])
        for j in np.flatnonzero(found == -2).tolist():
            found[j] = self._odd_device(reps[j], new)
        out: I64 = found[inverse.reshape(-1)]
        # a client whose hash another client of this batch has: rare, found one by one
        for i, (client, j) in enumerate(zip(clients, inverse.reshape(-1).tolist(), strict=True)):
            if client is not reps[j] and client != reps[j]:
                out[i] = self._odd_device(client, new)
        return out, new

    def _find(self, uniq: I64, reps: list[str]) -> I64:
        """Device of each hash in ``uniq``; -1: hash unknown; -2: hash of another id."""
        found = np.full(len(uniq), -1, np.int64)
        if not len(self._keys):
            return found
        pos = np.minimum(np.searchsorted(self._keys, uniq), len(self._keys) - 1)
        hit = np.flatnonzero(self._keys[pos] == uniq)
        found[hit] = self._slots[pos[hit]]
        for j in hit.tolist():
            if self.id(int(found[j])) != reps[j]:
                found[j] = self._odd.get(reps[j], -2)
        return found

    def _odd_device(self, client: str, new: list[str]) -> int:
        device = self._odd.get(client)
        if device is None:
            device = self._odd[client] = self._store([client])
            new.append(client)
        return device

    def _insert(self, hashes: I64, devices: I64) -> None:
        """Index new devices (``hashes`` sorted, distinct and not yet known)."""
        pos = np.searchsorted(self._keys, hashes)
        self._keys = np.insert(self._keys, pos, hashes)
        self._slots = np.insert(self._slots, pos, devices.astype(np.int32))

    def _store(self, clients: list[str]) -> int:
        """Room and ids for new devices; the first one's number."""
        first = self.size
        encoded = [c.encode() for c in clients]
        self.reserve(first + len(encoded))
        base = int(self._ends[first - 1]) if first else 0
        lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
        self._ends[first:first + len(encoded)] = base + np.cumsum(lengths)
        self._blob += b"".join(encoded)
        self.size += len(encoded)
        return first

    def reserve(self, n: int) -> None:
        """Room for ``n`` devices in every column."""
        if n <= len(self._ends):
            return
        capacity = max(n, len(self._ends) + len(self._ends) // 4 + 64)
        self._ends = _grown(self._ends, capacity, self.size, 0)
        for name, (_, fill) in self._spec.items():
            self.col[name] = _grown(self.col[name], capacity, self.size, fill)

    def state(self) -> State:
        """Ids and columns as plain arrays (see ``sli/state.py``)."""
        out: State = {
            "ids": np.frombuffer(bytes(self._blob), np.uint8).copy(),
            "id_ends": self._ends[:self.size].astype(np.int64),
        }
        for name in self._spec:
            out[name] = self.col[name][:self.size].copy()
        return out

    def load_state(self, state: State) -> None:
        """Take over ``state()``; ``ValueError`` if malformed. Rebuilds the hash index."""
        blob = get_array(state, "ids", np.uint8).tobytes()
        ends = get_array(state, "id_ends", np.int64)
        n = len(ends)
        if n and (np.any(np.diff(ends) < 0) or ends[0] < 0 or ends[-1] != len(blob)):
            raise ValueError("state field 'id_ends': not the ends of the ids")
        columns = {name: get_array(state, name, dtype, (n,))
                   for name, (dtype, _) in self._spec.items()}
        starts = np.concatenate([[0], ends[:-1]]).tolist() if n else []
        try:
            ids = [blob[s:e].decode() for s, e in zip(starts, ends.tolist(), strict=True)]
        except UnicodeDecodeError:
            raise ValueError("state field 'ids': not UTF-8") from None
        self._reset()
        self.reserve(n)
        self._blob = bytearray(blob)
        self._ends[:n] = ends
        for name, values in columns.items():
            self.col[name][:n] = values
        self.size = n
        self._index(ids)

    def _index(self, ids: list[str]) -> None:
        hashes = np.fromiter(map(hash, ids), np.int64, len(ids))
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        again = np.zeros(len(ids), bool)
        again[1:] = ordered[1:] == ordered[:-1]
        self._keys = ordered[~again]
        self._slots = order[~again].astype(np.int32)
        self._odd = {ids[d]: d for d in order[again].tolist()}


def _grown(arr: Column, capacity: int, used: int, fill: int) -> Column:
    out = np.full(capacity, fill, arr.dtype)
    out[:used] = arr[:used]
    return out
