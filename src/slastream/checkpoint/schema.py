"""The fields of a checkpoint document (version 2), and the engine's state in them.

A document is a mapping with:

* ``engine``: ``slis`` (per SLI: ``slo`` name, ``kind``, and the SLI's ``state()``),
  ``store`` (``SliceStore.state()``), ``exclusions``, ``outages`` and ``tickets`` (event rows of the
  Kafka record format, ``transport/codec.py``), the counters ``ingest``
  (``[source, outcome, n]``), ``rejections`` (``[reason, n]``), ``ignored``
  (``[source, reason class, n]``), ``sli_events``
  (``[slo, scope, good|bad, n]``) in their insertion order (the ledger lists reasons in
  it), ``bad_lines``, ``first_time_ms``, ``flushed`` and the ``pending_deltas`` not yet
  drained (columns ``slo``, ``scope``, ``minute``, ``values``), and ``usage`` (per contract
  with a request allowance: ``contract``, the ``UsageCounter.state()`` as ``state`` with
  other integer arrays as int64 and ``widened`` naming their own types; present only when
  there is such a contract, and absent from documents written before usage was counted,
  which load with empty counters);
* ``partition`` (a worker partition's checkpoint only): ``offset``, ``last_as_of``,
  ``outages`` (``[start_ms, end_ms, bridge]``), ``bad_records``, ``fingerprint``.

Settings are not part of it: the restoring process builds the engine from its own, and
each SLI takes over the state saved under its SLO's name (a new SLO starts empty).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from slastream.model.events import BridgeOutage, Exclusion, TicketEvent
from slastream.sli.slices import WIDTH, SliceDelta
from slastream.sli.state import State, get_array, get_int, get_list, get_strs, same_length
from slastream.transport.codec import event_from_row, event_row

if TYPE_CHECKING:
    from slastream.engine import Engine


def engine_state(engine: Engine) -> State:
    """The ``engine`` part of a document."""
    deltas = engine._pending_deltas
    out: State = {
        "slis": [{"slo": sli.slo.name, "kind": sli.slo.sli, "state": sli.state()}
                 for sli in engine.slis],
        "store": engine.store.state(),
        "exclusions": [event_row(e) for e in engine.exclusions],
        "tickets": [event_row(e) for e in engine.tickets],
        "outages": [event_row(e) for e in engine.outages],
        "ingest": [[source, outcome, n] for (source, outcome), n in engine.ingest.items()],
        "rejections": [[reason, n] for reason, n in engine.rejections.items()],
        "ignored": [[source, reason, n] for (source, reason), n in engine.ignored.items()],
        "sli_events": [[*key, n] for key, n in engine.figures.sli_events.items()],
        "latency": [[slo, scope, acc] for (slo, scope), acc in engine.figures.latency.items()],
        "bad_lines": engine.bad_lines,
        "first_time_ms": engine.first_time_ms,
        "flushed": engine.flushed,
        "pending_deltas": {
            "slo": [d[0] for d in deltas], "scope": [d[1] for d in deltas],
            "minute": np.array([d[2] for d in deltas], dtype=np.int64),
            "values": np.array([d[3] for d in deltas], dtype=np.float64).reshape(-1, WIDTH)},
    }
    if engine.usage:  # only engines with contracts (never a worker partition's) count usage
        out["usage"] = [{"contract": name, **_widened(counter.state())}
                        for name, counter in engine.usage.items()]
    return out


# array types a document holds as they are (``checkpoint/document.py``)
_KEPT = frozenset({np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.uint8),
                   np.dtype(np.bool_)})


def _widened(state: State) -> State:
    """``state`` with its other integer arrays (a counter's uint32 column) as int64, and
    their own types under ``widened``, so loading gives the counter back its columns."""
    widened = {k: v.dtype.str for k, v in state.items()
               if isinstance(v, np.ndarray) and v.dtype not in _KEPT}
    return {"state": {k: v.astype(np.int64) if k in widened else v for k, v in state.items()},
            "widened": widened}


def _narrowed(item: State) -> State:
    state: State = item["state"]
    widened = item.get("widened") or {}
    return {k: v.astype(np.dtype(str(widened[k]))) if k in widened else v
            for k, v in state.items()}


def load_engine(engine: Engine, doc: State) -> None:
    """Load the ``engine`` part of ``doc`` into a freshly built ``engine``.

    Raises ``ValueError`` ("unreadable checkpoint: ...") if the document is malformed.
    """
    try:
        _load(engine, doc["engine"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"unreadable checkpoint: {type(exc).__name__}: {exc}") from None


def _load(engine: Engine, state: State) -> None:
    saved = {str(item["slo"]): item for item in get_list(state, "slis")}
    for sli in engine.slis:
        item = saved.get(sli.slo.name)
        if item is not None and item["kind"] == sli.slo.sli:
            sli.load_state(item["state"])
    engine.store.load_state(state["store"])
    engine.exclusions = [_typed(Exclusion, row) for row in get_list(state, "exclusions")]
    # absent from documents written before tickets were kept
    engine.tickets = [_typed(TicketEvent, row) for row in get_list(state, "tickets")
                      ] if "tickets" in state else []
    engine.outages = [_typed(BridgeOutage, row) for row in get_list(state, "outages")]
    engine.ingest = Counter({(str(s), str(o)): int(n)
                             for s, o, n in get_list(state, "ingest")})
    engine.rejections = Counter({str(r): int(n) for r, n in get_list(state, "rejections")})
    # absent from documents written before ignored messages were counted by reason
    engine.ignored = Counter({(str(s), str(r)): int(n) for s, r, n in (
        get_list(state, "ignored") if "ignored" in state else [])})
    engine.figures.sli_events.update({(str(s), str(sc), str(k)): int(n)
                                      for s, sc, k, n in get_list(state, "sli_events")})
    # absent from documents written before the latency totals were kept with them
    for slo, scope, acc in get_list(state, "latency") if "latency" in state else []:
        engine.figures.latency[(str(slo), str(scope))] = [float(x) for x in acc]
    engine.bad_lines = get_int(state, "bad_lines")
    first = state["first_time_ms"]
    engine.first_time_ms = None if first is None else get_int(state, "first_time_ms")
    engine.flushed = bool(state["flushed"])
    engine._pending_deltas = _deltas(state["pending_deltas"])
    # absent from documents written before request allowances were counted; a contract
    # without a saved counter (new usage terms) starts empty
    for item in get_list(state, "usage") if "usage" in state else []:
        counter = engine.usage.get(str(item["contract"]))
        if counter is not None:
            counter.load_state(_narrowed(item))


def _typed(cls: type[Any], row: Any) -> Any:
    event = event_from_row(row)
    if type(event) is not cls:
        raise ValueError(f"a {type(event).__name__} where a {cls.__name__} belongs")
    return event


def _deltas(cols: State) -> list[SliceDelta]:
    slos = get_strs(cols, "slo")
    scopes = get_strs(cols, "scope")
    minutes = get_array(cols, "minute", np.int64).tolist()
    values = get_array(cols, "values", np.float64, (None, WIDTH)).tolist()
    same_length("pending deltas", slos, scopes, minutes, values)
    return [(slo, scope, minute, tuple(vec))
            for slo, scope, minute, vec in zip(slos, scopes, minutes, values, strict=True)]
