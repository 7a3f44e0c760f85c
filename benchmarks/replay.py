"""Replay throughput: a generated LoRaWAN day through ``slastream replay``, against baselines.

    .venv/bin/python benchmarks/replay.py [--hours H] [--devices N] [--seed S] [--runs N]
                                          [--config CONFIG] [--cache-dir DIR] [--fresh]

1. The simulator writes a capture of a LoRaWAN day (``slastream.simulate.lorawan_day``:
   10,000 Class-A devices every 10 minutes heard by 1-5 of 400 gateways, application
   deliveries, Class-A downlinks and acks, foreign frames, probes, request logs and the
   default outages), about five million lines (4.3 GB) for 24 hours. It is cached under
   the temp directory, keyed by the scenario and the generator's source, so later runs
   skip this step; only one capture is kept (generating another removes the previous one).
2. Baselines, in this process, on the same file: reading the lines and ``orjson.loads``
   of each (the floor of any JSON replay), and the capture parser (``parse_line``: JSON,
   RFC 3339, shape checks).
3. Stage costs, in this process: read, parse, decode, each SLI, the rest of the engine,
   the ledger (``benchmarks/replay_stages.py``).
4. The delivery counts by one DuckDB SQL query over the same file
   (``benchmarks/replay_sql.py``; DuckDB from the ``bench`` extra), checked against the
   ledger's.
5. ``slastream replay -c CONFIG CAPTURE`` as a user runs it: the real console script in a
   subprocess, timed from spawn to exit (imports, config, decoding in worker processes,
   SLIs, ledger), ``--runs`` times, the median kept. Also timed on a one-line capture, to
   show what start-up alone costs.

Prints messages/s for each, the replay's ratio to the baselines (to DuckDB: its time over
the replay's, above 1 when the replay is faster), and how the ledger's event counts
compare with the simulator's ground truth and with the SQL. Targets
(docs/architecture.md#performance): the whole replay process at >= 500,000 messages/s, and
faster than SQL computing the same counts. Numbers, never assertions: this is a
benchmark, not a test. The machine is shared: compare ratios from the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import orjson

from slastream.config import load_settings
from slastream.model.spec import Settings
from slastream.model.time import parse_rfc3339_ms
from slastream.simulate import GroundTruth, Scenario, lorawan_day, write_capture
from slastream.sources.capture import parse_line

from replay_sql import Counts, delivery_counts  # isort: skip  (this directory's module)
from replay_stages import stage_costs  # isort: skip

ROOT = Path(__file__).resolve().parent.parent
TARGET_MSG_S = 500_000
START = "2026-10-01T00:00:00Z"
CONTRACT_CONFIG = ROOT / "examples" / "contracts" / "loriot.yaml"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    scenario = lorawan_day()
    if args.devices:
        scenario = replace(scenario, devices=args.devices)
    duration_s = args.hours * 3600
    config = Path(args.config) if args.config else CONTRACT_CONFIG
    if not config.exists():
        print(f"replay benchmark: config {config} not found (pass --config)", file=sys.stderr)
        return 2
    capture, truth = cached_capture(scenario, duration_s, args.seed, Path(args.cache_dir),
                                    args.fresh)
    size_mb = capture.stat().st_size / 1e6
    print(f"capture: {capture} ({size_mb:,.0f} MB, {truth['messages']:,} messages, "
          f"{args.hours:g} h of {scenario.devices:,} devices)")
    print(f"config: {config.relative_to(ROOT) if config.is_relative_to(ROOT) else config}")

    lines, loads_s, loads_cpu = timed(baseline_orjson, capture)
    print(f"baseline orjson.loads: {lines:,} lines in {loads_s:.1f} s = "
          f"{lines / loads_s:,.0f} msg/s ({lines / loads_cpu:,.0f} per CPU second)")
    _, parse_s, parse_cpu = timed(baseline_parse_line, capture)
    print(f"baseline parse_line: {lines:,} lines in {parse_s:.1f} s = "
          f"{lines / parse_s:,.0f} msg/s ({lines / parse_cpu:,.0f} per CPU second)")

    settings = load_settings(config)
    print("stages, CPU seconds in this process (one pass, no worker processes):")
    for stage, seconds in stage_costs(settings, capture).items():
        print(f"  {stage:<44} {seconds:6.2f} s  {lines / max(seconds, 1e-9):>12,.0f} msg/s")

    exe = console_script()
    startup = run_replay(exe, config, tiny_capture(capture), 1)
    sql, by_jobs = alternate_runs(exe, config, capture, settings, args.runs)
    failed = [r for runs in by_jobs.values() for r in runs if not r.ok]
    if failed:
        print(f"replay: FAILED (exit {failed[0].returncode}): {failed[0].error}")
        print("replay: no throughput figure; the baselines above stand alone")
        return 1
    if sql is not None:
        print(f"DuckDB SQL, delivery counts (median of {args.runs}: "
              f"{', '.join(f'{r.wall_s:.1f}' for r in sql)} s): good/total "
              f"{median(sql).good:,}/{median(sql).total:,}; CPU {median(sql).cpu_s:.1f} s")
    for jobs, runs in by_jobs.items():
        report_replay(f"replay --jobs {jobs}", runs, lines, loads_s, loads_cpu, sql)
    if startup.ok:
        print(f"replay start-up (one-line capture): {startup.wall_s:.2f} s")
    result = median(by_jobs[1])
    compare_with_truth(result.ledger, truth, lines)
    if sql is not None and result.ledger is not None:
        compare_with_sql(result.ledger, median(sql))
    ledgers = {orjson.dumps(r.ledger) for runs in by_jobs.values() for r in runs}
    print(f"ledgers of every replay run: {'identical' if len(ledgers) == 1 else 'DIFFERENT'}")
    return 0


def alternate_runs(exe: str, config: Path, capture: Path, settings: Settings, runs: int
                   ) -> tuple[list[Counts] | None, dict[int, list[ReplayRun]]]:
    """SQL, one-pass replay and two-process replay in turn, ``runs`` rounds, so that the
    machine's other load falls on all three alike."""
    query = duckdb_query(settings)
    sql: list[Counts] | None = [] if query else None
    by_jobs: dict[int, list[ReplayRun]] = {1: [], 2: []}
    for _ in range(runs):
        if sql is not None and query is not None:
            sql.append(delivery_counts(capture, *query))
        for jobs, done in by_jobs.items():
            done.append(run_replay(exe, config, capture, jobs))
    return sql, by_jobs


def median(runs: list[Any]) -> Any:
    return sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]


def report_replay(label: str, runs: list[ReplayRun], lines: int, loads_s: float,
                  loads_cpu: float, sql_runs: list[Counts] | None) -> None:
    result = median(runs)
    print(f"{label} (median of {len(runs)}: {', '.join(f'{r.wall_s:.1f}' for r in runs)} s): "
          f"{lines:,} messages in {result.wall_s:.1f} s = {lines / result.wall_s:,.0f} msg/s "
          f"(target {TARGET_MSG_S:,}); CPU {result.cpu_s:.1f} s = "
          f"{lines / result.cpu_s:,.0f} per CPU second, peak RSS {result.max_rss_mb:,.0f} MB")
    # Wall-clock ratios move with whatever else runs on the machine; CPU ratios less so.
    print(f"  ratio to orjson.loads alone: {loads_s / result.wall_s:.2f} wall, "
          f"{loads_cpu / result.cpu_s:.2f} CPU")
    if sql_runs:
        sql = median(sql_runs)
        # each round's SQL run over the replay run right after it: the pair shares the
        # machine's load of the moment, so the median of these moves least with it
        paired = sorted(q.wall_s / r.wall_s for q, r in zip(sql_runs, runs, strict=True))
        print(f"  ratio to DuckDB SQL: {sql.wall_s / result.wall_s:.2f} wall (above 1: the "
              f"replay is faster; round by round {', '.join(f'{p:.2f}' for p in paired)}: "
              f"median {paired[len(paired) // 2]:.2f}), {sql.cpu_s / result.cpu_s:.2f} CPU")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    p.add_argument("--devices", type=int, help="devices (default: the LoRaWAN day's 10,000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--config", help="default: examples/contracts/loriot.yaml")
    p.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "slastream-bench"))
    p.add_argument("--fresh", action="store_true", help="regenerate the capture")
    p.add_argument("--runs", type=int, default=3,
                   help="runs of the replay and of the SQL baseline; medians (default 3)")
    return p


# ---------------------------------------------------------------------------- the capture


# Simulator modules that do not shape generated traffic (the command line, live publishing).
_NOT_GENERATION = {"__init__.py", "command.py", "publish.py"}


def simulator_fingerprint() -> str:
    """A hash of the generator's source: a changed generator invalidates cached captures."""
    import slastream.simulate as pkg

    digest = hashlib.sha256()
    for path in sorted(Path(pkg.__file__).parent.glob("*.py")):
        if path.name not in _NOT_GENERATION:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cached_capture(scenario: Scenario, duration_s: float, seed: int, cache_dir: Path,
                   fresh: bool) -> tuple[Path, dict[str, Any]]:
    key = hashlib.sha256(orjson.dumps(
        [asdict(scenario), START, duration_s, seed, simulator_fingerprint()],
        option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    cache_dir.mkdir(parents=True, exist_ok=True)
    capture = cache_dir / f"replay-{key}.jsonl"
    truth_path = cache_dir / f"replay-{key}.truth.json"
    if capture.exists() and truth_path.exists() and not fresh:
        return capture, json.loads(truth_path.read_text())
    for stale in cache_dir.glob("replay-*"):
        stale.unlink()  # captures of other scenarios or simulator versions: gigabytes each
    print(f"generating {duration_s / 3600:g} h of traffic (cached after this run) ...",
          flush=True)
    began = time.perf_counter()
    partial = capture.with_suffix(".partial")
    truth: GroundTruth = write_capture(partial, scenario, parse_rfc3339_ms(START), duration_s,
                                       seed)
    elapsed = time.perf_counter() - began
    print(f"generated {truth.messages:,} messages in {elapsed:.1f} s = "
          f"{truth.messages / elapsed:,.0f} msg/s")
    summary = truth.summary()
    os.replace(partial, capture)
    truth_path.write_text(json.dumps(summary))
    return capture, summary


def duckdb_query(settings: Settings) -> tuple[int, int, float] | None:
    """The DevAddr prefix and deadline of the delivery SLO for the SQL baseline, or None
    (no DuckDB, or an SLO the query does not cover)."""
    slo = next((s for s in settings.slos if s.sli == "delivery"), None)
    prefixes = settings.lorawan.devaddr_prefixes
    if slo is None or len(prefixes) != 1 or slo.scope_by != "network":
        print("DuckDB SQL: needs one network-wide delivery SLO and one DevAddr prefix")
        return None
    try:
        import duckdb  # noqa: F401
    except ImportError:
        print('DuckDB SQL: duckdb not installed (pip install -e ".[bench]")')
        return None
    (prefix, bits), = prefixes
    return prefix, bits, slo.deadline_s


def compare_with_sql(ledger: dict[str, Any], sql: Counts) -> None:
    for slo in ledger.get("slos", []):
        if slo.get("sli") == "delivery" and isinstance(slo.get("events"), dict):
            got = (slo["events"].get("good"), slo["events"].get("total"))
            verdict = ("identical to DuckDB SQL" if got == (sql.good, sql.total)
                       else f"DuckDB SQL says {(sql.good, sql.total)}")
            print(f"ledger {slo.get('name')}: good/total {got} {verdict}")


def tiny_capture(capture: Path) -> Path:
    tiny = capture.with_name(capture.stem + ".first-line.jsonl")
    if not tiny.exists():
        with capture.open("rb") as fh:
            tiny.write_bytes(fh.readline())
    return tiny


# ---------------------------------------------------------------------------- baselines


def timed(baseline: Callable[[Path], int], capture: Path) -> tuple[int, float, float]:
    """Lines, wall seconds and CPU seconds of one in-process baseline."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = baseline(capture)
    return n, time.perf_counter() - wall, time.process_time() - cpu


def baseline_orjson(capture: Path) -> int:
    """Read every line and parse its JSON: what any replay must at least pay."""
    loads = orjson.loads
    n = 0
    with capture.open("rb", buffering=1 << 20) as fh:
        for line in fh:
            loads(line)
            n += 1
    return n


def baseline_parse_line(capture: Path) -> int:
    """The capture parser (docs/interfaces.md#capture-files) on every line: JSON, times, shapes."""
    n = 0
    with capture.open("rb", buffering=1 << 20) as fh:
        for i, line in enumerate(fh, 1):
            parse_line(line, i)
            n += 1
    return n


# ---------------------------------------------------------------------------- the replay


class ReplayRun:
    def __init__(self, returncode: int, wall_s: float, cpu_s: float, max_rss_mb: float,
                 stdout: bytes, stderr: str) -> None:
        self.returncode = returncode
        self.wall_s = wall_s
        self.cpu_s = cpu_s
        self.max_rss_mb = max_rss_mb
        self.error = (stderr.strip().splitlines() or ["no output"])[-1][:300]
        self.ledger: dict[str, Any] | None = None
        if returncode == 0:
            try:
                parsed = orjson.loads(stdout)
            except orjson.JSONDecodeError:
                self.error = "stdout is not a JSON ledger"
            else:
                if isinstance(parsed, dict):
                    self.ledger = parsed
                else:
                    self.error = "stdout is not a JSON object"

    @property
    def ok(self) -> bool:
        return self.ledger is not None


def console_script() -> str:
    """The installed ``slastream`` next to this interpreter (the .venv's), as users run it."""
    exe = Path(sys.executable).parent / "slastream"
    return str(exe) if exe.exists() else "slastream"


# As an installed package runs: from its compiled bytecode (pip writes it at install), which
# a PYTHONDONTWRITEBYTECODE in this environment would have every run compile again (0.1 s).
_INSTALLED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_replay(exe: str, config: Path, capture: Path, jobs: int) -> ReplayRun:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    try:
        proc = subprocess.run([exe, "replay", "-c", str(config), str(capture), "--jobs",
                               str(jobs)], capture_output=True, check=False, env=_INSTALLED)
    except OSError as exc:
        return ReplayRun(127, 0.0, 0.0, 0.0, b"", f"cannot run {exe}: {exc.strerror}")
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest of any child so far (KiB on Linux)
    return ReplayRun(proc.returncode, wall, cpu, after.ru_maxrss / 1024, proc.stdout,
                     proc.stderr.decode(errors="replace"))


def compare_with_truth(ledger: dict[str, Any] | None, truth: dict[str, Any],
                       lines: int) -> None:
    """Print the ledger's event counts next to the simulator's construction."""
    if ledger is None:
        return
    inputs = ledger.get("inputs", {})
    print(f"ledger inputs: {inputs.get('messages', '?'):,} messages, "
          f"{inputs.get('rejected', '?')} rejected, {inputs.get('late', '?')} late "
          f"(capture: {lines:,} lines)")
    expected = {
        "delivery": (truth["uplinks_delivered"], truth["uplinks_received"]),
        "rx2": (truth["downlinks_reached"], truth["downlinks"]),
    }
    for slo in ledger.get("slos", []):
        events = slo.get("events")
        if not isinstance(events, dict):
            continue
        got = (events.get("good"), events.get("total"))
        sli = slo.get("sli")
        if sli in expected:
            want = expected[sli]
        elif sli == "probe" and slo.get("scope") in truth["probes"]:
            want = (truth["probes_ok"][slo["scope"]], truth["probes"][slo["scope"]])
        else:
            continue
        verdict = "matches construction" if got == want else f"construction says {want}"
        print(f"ledger {slo.get('name')}: good/total {got} {verdict}; "
              f"downtime {slo.get('downtime_minutes')} min")


if __name__ == "__main__":
    sys.exit(main())
