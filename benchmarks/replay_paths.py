"""Replay decode paths side by side, on one capture, in one run.

    .venv/bin/python benchmarks/replay_paths.py [--hours H] [--seed S] [--capture FILE]
                                                [--config CONFIG] [--rounds N] [--no-process]

Rows (messages per CPU second of this process, ``time.process_time``; the machine has two
cores and is shared, so CPU time is steadier than wall time, and every row is measured in
each of ``--rounds`` interleaved rounds and the best round is kept):

* ``orjson.loads``: every line parsed and dropped, the floor of any JSON replay;
* ``full path``: ``decoder.capture_batches(fast=False)`` (orjson, ``router.decode`` per
  line, regrouping per event) into ``Engine.feed``, then flush and ledger;
* ``fast path``: ``decoder.capture_batches()`` (``sources/fastpath.py``) into
  ``Engine.feed``, then flush and ledger;
  the in-process rows run with the cyclic garbage collector paused, as ``slastream replay``
  does (``--gc`` keeps it running);
* ``process``: ``slastream replay -c CONFIG CAPTURE`` as a user runs it, wall and CPU time
  from spawn to exit (start-up, reading the file and printing the ledger included).

The capture is a simulated LoRaWAN network (``slastream.simulate.lorawan_day``) over
``--hours``, cached in the temp directory, or any capture given with ``--capture``. The
ledgers of both paths are compared: the figures mean nothing if they differ.
Numbers, never assertions: a benchmark, not a test (target: docs/architecture.md#performance).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.spec import Settings
from slastream.model.time import parse_rfc3339_ms
from slastream.replay import collector_paused
from slastream.simulate import lorawan_day, write_capture
from slastream.sources.decoder import capture_batches

ROOT = Path(__file__).resolve().parent.parent
TARGET_MSG_S = 500_000
START = "2026-10-01T00:00:00Z"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = Path(args.config)
    settings = load_settings(config)
    capture = Path(args.capture) if args.capture else simulated_capture(args.hours, args.seed)
    lines = capture.read_bytes().splitlines(keepends=True)
    print(f"capture: {capture} ({len(lines):,} lines, "
          f"{sum(map(len, lines)) / max(len(lines), 1):,.0f} bytes a line)")
    print(f"config: {config}")

    results: dict[str, Any] = {}
    rows: dict[str, Callable[[], Any]] = {
        "orjson.loads": lambda: loads_only(lines),
        "full path": lambda: run_engine(settings, lines, fast=False),
        "fast path": lambda: run_engine(settings, lines, fast=True),
    }
    best = dict.fromkeys(rows, float("inf"))
    for _ in range(args.rounds):
        for name, row in rows.items():
            # as `slastream replay` runs (replay.collector_paused), unless told otherwise
            with collector_paused() if not args.gc else nullcontext():
                began = time.process_time()
                results[name] = row()
                best[name] = min(best[name], time.process_time() - began)
    n = len(lines)
    base = n / best["orjson.loads"]
    for name, cpu_s in best.items():
        rate = n / cpu_s
        print(f"{name:14s} {rate:>11,.0f} msg/s  ({cpu_s:6.2f} s CPU; "
              f"{rate / base:.2f} x orjson.loads)")
    print(f"fast / full: {best['full path'] / best['fast path']:.2f} x")
    same = results["full path"] == results["fast path"]
    print(f"ledgers and counters of both paths: {'identical' if same else 'DIFFERENT'}")
    if not args.no_process:
        process_row(config, capture, n, base)
    print(f"target: {TARGET_MSG_S:,} msg/s")
    return 0 if same else 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hours", type=float, default=1.5, help="simulated hours (default 1.5)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--capture", help="an existing capture instead of a simulated one")
    p.add_argument("--config", default=str(ROOT / "examples" / "contracts" / "loriot.yaml"))
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    p.add_argument("--no-process", action="store_true", help="skip the `slastream replay` run")
    p.add_argument("--gc", action="store_true",
                   help="keep the cyclic garbage collector running in the in-process rows")
    return p


def simulated_capture(hours: float, seed: int) -> Path:
    """The LoRaWAN day's network over ``hours``, generated once and cached."""
    import slastream.simulate as pkg

    scenario = lorawan_day()
    digest = hashlib.sha256(orjson.dumps([asdict(scenario), START, hours, seed]))
    for source in sorted(Path(pkg.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    cache = Path(tempfile.gettempdir()) / "slastream-bench"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"replay-paths-{digest.hexdigest()[:16]}.jsonl"
    if not path.exists():
        print(f"generating {hours:g} h of traffic (cached after this run) ...", flush=True)
        partial = path.with_suffix(".partial")
        write_capture(partial, scenario, parse_rfc3339_ms(START), hours * 3600, seed)
        os.replace(partial, path)
    return path


def loads_only(lines: list[bytes]) -> None:
    loads = orjson.loads
    for line in lines:
        loads(line)


def run_engine(settings: Settings, lines: list[bytes], fast: bool) -> Any:
    """A replay in this process; returns what must not depend on the path."""
    engine = Engine(settings)
    for batch in capture_batches(lines, fast=fast):
        engine.feed(batch)
        engine.advance()
    engine.flush()
    return (engine.ledger(), dict(engine.ingest), dict(engine.rejections),
            dict(engine.sli_events), engine.store.as_dict())


def process_row(config: Path, capture: Path, n: int, base: float) -> None:
    exe = Path(sys.executable).parent / "slastream"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run([str(exe), "replay", "-c", str(config), str(capture)],
                          capture_output=True, check=False)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        print(f"process: FAILED (exit {proc.returncode}): "
              f"{proc.stderr.decode(errors='replace').strip()[-300:]}")
        return
    print(f"{'process':14s} {n / wall:>11,.0f} msg/s wall, {n / cpu:,.0f} msg/s CPU "
          f"({wall:.2f} s wall, {cpu:.2f} s CPU; {n / cpu / base:.2f} x orjson.loads)")


if __name__ == "__main__":
    sys.exit(main())
