"""Reading version-1 checkpoints: pickled objects, turned into a version-2 document.

Version 1 was ``zlib(pickle({"version": 1, "offset": ..., "engine": pickle(engine
attributes)}))``, the engine's attributes holding SLI, settings and store objects. Those
are never rebuilt: a restricted unpickler maps every class of ours to a plain holder (its
constructor arguments and attribute dict), allows numpy arrays and ``Counter`` and nothing
else, and the attributes as version 1 named them are converted to the version-2 fields
(``schema.py``, the SLIs' ``state()``).
"""

from __future__ import annotations

import io
import pickle
import zlib
from collections import Counter
from typing import Any

import numpy as np

from slastream.model.events import EVENT_TYPES

State = dict[str, Any]
_EVENT_NAMES = {cls.__name__: name for name, cls in EVENT_TYPES.items()}
_NONE = (1 << 42) - 1  # version 1's "not seen" in a packed delivery time
_T = 1 << 42
_WIDTH = 17  # slice vector width of version 1


class Holder:
    """An object of one of our classes as version 1 pickled it."""

    qualname = ""

    def __new__(cls, *args: Any) -> Holder:
        obj = object.__new__(cls)
        obj.args = args
        obj.attrs = {}
        return obj

    args: tuple[Any, ...]
    attrs: dict[str, Any]

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"state of {self.qualname}: {type(state).__name__}")
        self.attrs = state


def _frombuffer(buf: Any, dtype: Any, shape: tuple[int, ...], order: Any, *_: Any) -> Any:
    """numpy's own array reconstructor, for arrays of numbers only."""
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise pickle.UnpicklingError("array of objects in a checkpoint")
    return np.frombuffer(bytes(buf), dtype=dtype).reshape(shape, order=order)


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "Counter"): Counter,
    ("numpy", "dtype"): np.dtype,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self._holders: dict[str, type[Holder]] = {}

    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        if module == "slastream" or module.startswith("slastream."):
            qualname = f"{module}.{name}"
            holder = self._holders.get(qualname)
            if holder is None:
                holder = self._holders[qualname] = type(name, (Holder,),
                                                        {"qualname": qualname})
            return holder
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a checkpoint")


def recognises(data: bytes) -> bool:
    """A partition checkpoint (zlib level 1) or an engine snapshot (pickle) of version 1."""
    return data[:2] == b"x\x01" or data[:1] == b"\x80"


def migrate(data: bytes) -> State:
    """The version-2 document equivalent to the version-1 ``data``."""
    try:
        if data[:1] == b"\x80":  # an engine snapshot on its own
            return {"engine": _engine(_load(data))}
        outer = _load(zlib.decompress(data))
        if outer.get("version") != 1:
            raise ValueError(f"version {outer.get('version')!r}")
        partition = {k: outer[k] for k in ("offset", "last_as_of", "bad_records")}
        # version 1 hashed the SLOs' repr, which changes with the code: not comparable
        partition["fingerprint"] = ""
        partition["outages"] = [list(k) for k in outer["outages"]]
        return {"partition": partition, "engine": _engine(_load(outer["engine"]))}
    except (zlib.error, pickle.UnpicklingError, EOFError, KeyError, AttributeError,
            TypeError, IndexError, ValueError) as exc:
        raise ValueError(f"unreadable checkpoint (version 1): {type(exc).__name__}: "
                         f"{exc}") from None


def _load(data: bytes) -> dict[str, Any]:
    obj = _Unpickler(data).load()
    if not isinstance(obj, dict):
        raise ValueError(f"a {type(obj).__name__}, not a mapping")
    return obj


def _event_row(holder: Holder) -> list[Any]:
    return [_EVENT_NAMES[type(holder).__name__], *holder.args]


def _engine(d: dict[str, Any]) -> State:
    deltas = d["_pending_deltas"]
    return {
        "slis": [_sli(sli) for sli in d["slis"]],
        "store": {"series": [
            {"slo": slo, "scope": scope, "minutes": np.array(list(series), dtype=np.int64),
             "values": np.array(list(series.values()), dtype=np.float64).reshape(-1, _WIDTH)}
            for (slo, scope), series in d["store"].attrs["_series"].items()]},
        "exclusions": [_event_row(e) for e in d["exclusions"]],
        "tickets": [],
        "outages": [_event_row(e) for e in d["outages"]],
        "ingest": [[s, o, n] for (s, o), n in d["ingest"].items()],
        "rejections": [[r, n] for r, n in d["rejections"].items()],
        "ignored": [],
        "sli_events": [[s, sc, k, n] for (s, sc, k), n in d["sli_events"].items()],
        "latency": [],
        "bad_lines": d["bad_lines"],
        "first_time_ms": d["first_time_ms"],
        "flushed": d["flushed"],
        "pending_deltas": {
            "slo": [x[0] for x in deltas], "scope": [x[1] for x in deltas],
            "minute": np.array([x[2] for x in deltas], dtype=np.int64),
            "values": np.array([x[3] for x in deltas], dtype=np.float64).reshape(-1, _WIDTH)},
    }


def _sli(holder: Holder) -> State:
    a = holder.attrs
    slo = a["slo"].attrs
    kind = type(holder).__name__
    state = _base(a)
    if kind == "DeliverySLI":
        state.update(_delivery(a))
    elif kind == "RX2SLI":
        state.update(_rx2(a))
    elif kind not in ("ProbeSLI", "ResponseTimeSLI"):
        raise ValueError(f"unknown SLI {kind}")
    return {"slo": slo["name"], "kind": slo["sli"], "state": state}


def _base(a: dict[str, Any]) -> State:
    keys = list(a["_open"])
    return {
        "max_time_ms": a["max_time_ms"], "watermark_ms": a["watermark_ms"],
        "late_events": a["late_events"], "open_scopes": [scope for scope, _ in keys],
        "open_minutes": np.array([m for _, m in keys], dtype=np.int64),
        "open_values": np.array([a["_open"][k] for k in keys],
                                dtype=np.float64).reshape(-1, _WIDTH),
    }


def _groups(groups: dict[int, list[int]]) -> State:
    return {"groups": np.array(list(groups), dtype=np.int64),
            "sizes": np.array([len(v) for v in groups.values()], dtype=np.int64),
            "items": np.array([x for v in groups.values() for x in v], dtype=np.int64)}


def _delivery(a: dict[str, Any]) -> State:
    # version 1 packed a pending uplink as (ns_ms * 2**42 + app_ms) * 256 + region and a
    # tombstone as (ns_ms * 256 + region) * 2 + delivered; tables in increasing key order,
    # as the delivery SLI writes them now (sli/table.py)
    pending = sorted(a["_pending"].items())
    done = sorted(a["_done"].items())
    times = [(v // 256 // _T, v // 256 % _T) for _, v in pending]
    return {
        "pending_key": np.array([k for k, _ in pending], dtype=np.int64),
        "pending_ns_ms": np.array([-1 if n == _NONE else n for n, _ in times], dtype=np.int64),
        "pending_app_ms": np.array([-1 if p == _NONE else p for _, p in times],
                                   dtype=np.int64),
        "pending_scope": np.array([v % 256 for _, v in pending], dtype=np.int64),
        "pending_buckets": _groups(a["_buckets"]),
        "done_key": np.array([k for k, _ in done], dtype=np.int64),
        "done_ns_ms": np.array([d // 512 for _, d in done], dtype=np.int64),
        "done_scope": np.array([d // 2 % 256 for _, d in done], dtype=np.int64),
        "done_delivered": np.array([d % 2 for _, d in done], dtype=np.bool_),
        "done_buckets": _groups(a["_done_buckets"]),
        "scopes": list(a["_regions"]),
        "outages_ms": np.array(a["_outages"], dtype=np.int64).reshape(-1, 2),
        "foreign": a["foreign"], "mac_only": 0,
        "unmatched_deliveries": a["unmatched_deliveries"],
        "outage_excluded": a["outage_excluded"],
    }


def _rx2(a: dict[str, Any]) -> State:
    recent = list(a["_last_uplink"].items())
    return {
        "uplink_gateway": [gw for (gw, _), _ in recent],
        "uplink_devaddr": np.array([d for (_, d), _ in recent], dtype=np.int64),
        "uplink_count": np.array([len(u) for _, u in recent], dtype=np.int64),
        "uplink_time_ms": np.array([t for _, u in recent for t, _ in u], dtype=np.int64),
        "uplink_region": [r for _, u in recent for _, r in u],
        # DownlinkCommand(time_ms, gateway, downlink_id, devaddr, delays_ms, join_accept)
        "commands": [[*c.args[:4], list(c.args[4]), c.args[5]]
                     for c in a["_commands"].values()],
        # DownlinkAck(time_ms, gateway, downlink_id, statuses)
        "acks": [[*k.args[:3], list(k.args[3])] for k in a["_acks"].values()],
        "remembered": a["_remembered"], "excluded": a["excluded"],
        "reasons": [[r, n] for r, n in a["reasons"].items()],
    }
