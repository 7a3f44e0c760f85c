"""Where a replay's time goes, stage by stage, in this process (``benchmarks/replay.py``).

CPU seconds (``time.process_time``) of each stage on the whole capture, each stage timed
alone over the output of the one before, with the cyclic collector paused as
``slastream replay`` runs:

* read: the file's lines;
* parse: the byte reader of the C loop (``sources/_scan_json.h``) over every line: each
  line it takes (most of a capture) is checked as JSON and its fields picked out, in the
  replay as here;
* decode: ``fastpath.column_batches`` beyond that (the C loop of ``sources/_scan.c``:
  topics, timestamps, PHYPayload headers, column rows and downlink events; the typed read
  of the lines the byte reader declines; ``orjson`` and the router for the rest);
* one row per SLI: its ``add`` / ``add_columns`` and ``advance`` (windows, finalisation,
  and the flush at the end);
* engine: the rest of ``feed_columns`` (input counters, routing, tuples for SLIs without a
  per-batch path);
* ledger: the rest of ``flush``, the ledger and its JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slastream.engine import Engine
from slastream.model.ledger import ledger_json
from slastream.model.spec import Settings
from slastream.replay import collector_paused
from slastream.sources import _scan, fastpath, router
from slastream.sources.columns import ColumnBatch
from slastream.sources.decoder import CHUNK


def stage_costs(settings: Settings, capture: Path) -> dict[str, float]:
    """CPU seconds per stage, in pipeline order."""
    costs: dict[str, float] = {}
    with collector_paused():
        costs["read"] = _cpu(lambda: _read(capture))
        taken: list[int] = []
        parse = _cpu(lambda: taken.append(_parse(capture)))
        costs[f"parse (the byte reader; it takes {taken[0]:,} lines)"] = parse - costs["read"]
        batches: list[ColumnBatch] = []
        decode = _cpu(lambda: batches.extend(_decode(settings, capture)))
        costs["decode (beyond that: the C loop, the typed read and Python for the rest)"] = \
            decode - parse
        engine = Engine(settings)
        per_sli = _timed_slis(engine)
        feed = _cpu(lambda: _feed(engine, batches))
        sli_in_feed = sum(per_sli.values())
        ledger = _cpu(lambda: _ledger(engine))
    for name, seconds in sorted(per_sli.items(), key=lambda kv: -kv[1]):
        costs[f"SLI {name}"] = seconds
    costs["engine besides the SLIs"] = feed - sli_in_feed
    costs["flush and ledger besides the SLIs"] = ledger - (sum(per_sli.values()) - sli_in_feed)
    return costs


def _cpu(step: Callable[[], Any]) -> float:
    began = time.process_time()
    step()
    return time.process_time() - began


def _read(capture: Path) -> int:
    with capture.open("rb", buffering=1 << 20) as fh:
        return sum(1 for _ in fh)


def _parse(capture: Path) -> int:
    """The byte reader (``sources/_scan_json.h``) over every line: the lines it takes are
    parsed this way in a replay; the rest are read by the typed read, within decode."""
    with capture.open("rb", buffering=1 << 20) as fh:
        return _scan.scan(fh)


def _decode(settings: Settings, capture: Path) -> list[ColumnBatch]:
    with capture.open("rb", buffering=1 << 20) as fh:
        return list(fastpath.column_batches(fh, CHUNK, router.for_settings(settings)))


def _feed(engine: Engine, batches: list[ColumnBatch]) -> None:
    for batch in batches:
        engine.feed_columns(batch)
        engine.advance()


def _ledger(engine: Engine) -> None:
    engine.flush()
    ledger_json(engine.ledger())


def _timed_slis(engine: Engine) -> dict[str, float]:
    """Wrap each SLI's entry points so that their CPU time adds up per SLI (``flush``
    goes through ``advance``)."""
    spent: dict[str, float] = {}
    for sli in engine.slis:
        name = f"{sli.slo.sli} ({sli.slo.name})"
        for method in ("add", "add_columns", "advance"):
            setattr(sli, method, _timer(getattr(sli, method), spent, name))
    return spent


def _timer(fn: Callable[..., Any], spent: dict[str, float], name: str) -> Callable[..., Any]:
    def timed(*args: Any) -> Any:
        began = time.process_time()
        try:
            return fn(*args)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - began
    return timed
