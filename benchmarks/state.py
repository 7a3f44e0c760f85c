"""State at scale: a partition engine holding 1,000,000 devices, its checkpoints and its
recovery after SIGKILL, full snapshots against incremental checkpoints in the same run.

    PYTHONPATH=src python benchmarks/state.py [--devices N] [--minutes M] [--repeat R]
                                              [--stream lorawan|gateway]

Every device sends one uplink every 10 minutes, heard by three gateways; 97 % of them
reach the application 0.3-1 s later. Time is simulated: the input of ``--minutes`` of
traffic is generated once into a log file (the partition, as Kafka would hold it: one
record per 100 ms of traffic, as the bridge batches), then read as fast as a worker can.
The delivery SLO is LORIOT's (deadline 30 s, lateness 120 s), on one ``lorawan``
partition holding every device: the worst case for one worker. ``--stream gateway`` runs
LORIOT's RX2 SLO on the ``gateway`` partition instead, fed the gateway copies (it keeps
the recent uplinks of every gateway and DevAddr, one entry per copy at this fleet size).

Per mode (``full``: a full snapshot at every checkpoint, what the worker wrote before;
``incremental``: ``checkpoint/chain.py``, a delta of what changed, compacted into a new
base when the deltas outgrow it), a child process runs the partition engine
(``stream/partition.py``, the code the worker runs) over the log, checkpointing every
5 s of traffic into a checkpoint table on disk (``records.write_checkpoint``, the
worker's layout). At ``--kill-at`` of the log it is SIGKILLed; a new child restores
from the table and replays the log from the checkpoint's offset to where the first one
stood. Printed, against the targets (docs/architecture.md#performance):

* worker RSS (peak, of the first child): <= 1 GiB;
* bytes per tracked uplink: the delivery SLI's tables (their slots), bucket dicts, lists
  and int objects (``sys.getsizeof``, each object once) over the entries it holds (pending
  uplinks and the tombstones of finalised ones): <= 150 B;
* checkpoint bytes and time per checkpoint in steady state (medians, and the mean with
  compactions);
* recovery after SIGKILL, from the new child's start until it has caught up: <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from slastream.checkpoint.chain import ChainWriter
from slastream.config import parse_settings
from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from slastream.model.spec import Settings
from slastream.sli.delivery import DeliverySLI
from slastream.sli.rx2 import RX2SLI
from slastream.stream.partition import PartitionState, Timing
from slastream.stream.records import read_checkpoint, write_checkpoint
from slastream.transport import codec

START_MS = 1_790_000_000_000 // 60_000 * 60_000
PERIOD_MS = 600_000  # one uplink per device every 10 minutes
RECORD_MS = 100  # traffic per log record
CHECKPOINT_MS = 5_000  # traffic between checkpoints (the worker's 5 s)
WARMUP_MS = 300_000  # deadline + lateness + tombstone memory, and then some
APP = "bench"
TIMING = Timing()
LEN = struct.Struct(">I")
TARGETS = {"rss_mib": 1024, "bytes_per_uplink": 150, "recovery_s": 30}
SLOS: dict[str, dict[str, Any]] = {
    codec.LORAWAN: {"name": "lorawan-delivery", "sli": "delivery", "objective": 0.999,
                    "deadline_s": 30, "downtime": {"bad_below": 0.75, "window_s": 300,
                                                    "min_events": 20}},
    codec.GATEWAY: {"name": "rx2-reach", "sli": "rx2", "objective": 0.999,
                    "source": "gateway", "rx1_delay_s": 1},
}


def settings(stream: str) -> Settings:
    return parse_settings({
        "timezone": "UTC", "lateness_s": 120,
        "lorawan": {"devaddr_prefixes": ["26000000/7"]},
        "slos": [SLOS[stream]], "kafka": {"partitions": 1, "app_id": APP}},
        "state-benchmark.yaml")


# --------------------------------------------------------------------------------- input


def traffic(devices: int, minutes: float, deliveries: bool = True
            ) -> Iterator[list[Event]]:
    """The events of each 100 ms of traffic, in time order within a record."""
    later: dict[int, list[Event]] = {}
    records = int(minutes * 60_000 // RECORD_MS)
    for r in range(records):
        lo, hi = r * RECORD_MS, (r + 1) * RECORD_MS
        events: list[Event] = later.pop(r, [])
        cycle = lo // PERIOD_MS
        first = -(-(lo - cycle * PERIOD_MS) * devices // PERIOD_MS)
        last = -(-(hi - cycle * PERIOD_MS) * devices // PERIOD_MS)
        for d in range(first, min(last, devices)):
            t = START_MS + cycle * PERIOD_MS + d * PERIOD_MS // devices
            devaddr = 0x26000000 + d
            fcnt = cycle + d % 1000
            for g, lag in ((d % 500, 0), ((d + 1) % 500, 3), ((d + 2) % 500, 9)):
                events.append(UplinkReceived(t + lag, devaddr, fcnt & 0xFFFF, f"gw{g}",
                                             "eu868", False, 1))
            if deliveries and d % 33:  # about 97 % delivered
                at = t + 300 + d % 700
                later.setdefault((at - START_MS) // RECORD_MS, []).append(
                    UplinkDelivered(at, devaddr, fcnt, "app", f"dev{d}"))
        events.sort(key=lambda e: e.time_ms)
        yield events


def write_log(path: Path, devices: int, minutes: float, stream: str) -> tuple[int, int]:
    records = events = 0
    with path.open("wb") as out:
        for batch in traffic(devices, minutes, deliveries=stream == codec.LORAWAN):
            value = codec.encode_batch(batch)
            out.write(LEN.pack(len(value)) + value)
            records += 1
            events += len(batch)
    return records, events


def read_log(f: IO[bytes]) -> Iterator[bytes]:
    while head := f.read(LEN.size):
        (n,) = LEN.unpack(head)
        yield f.read(n)


class DirTable:
    """The checkpoint table on disk (a worker's table is backed the same way)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: bytes) -> Path:
        return self.root / key.decode().replace("/", "_")

    def get(self, key: bytes) -> bytes | None:
        p = self._path(key)
        return p.read_bytes() if p.exists() else None

    def __setitem__(self, key: bytes, value: bytes) -> None:
        tmp = self._path(key).with_suffix(".tmp")
        tmp.write_bytes(value)
        tmp.replace(self._path(key))


# -------------------------------------------------------------------------------- children


def state_bytes(sli: DeliverySLI) -> tuple[int, int]:
    """Bytes of the delivery SLI's per-uplink structures (each object counted once) and the
    entries they hold (pending uplinks and tombstones)."""
    seen: set[int] = set()
    total = sli._pending.nbytes + sli._done.nbytes  # tables of int64 slots (sli/table.py)
    for holder in (sli._buckets, sli._done_buckets):
        total += sys.getsizeof(holder)
        for k, v in holder.items():
            for obj in (k, v, *(v if isinstance(v, list) else ())):
                if id(obj) not in seen:
                    seen.add(id(obj))
                    total += sys.getsizeof(obj)
    return total, len(sli._pending) + len(sli._done)


def report(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def run_child(log: Path, store: Path, stream: str, mode: str, measure_at: int) -> None:
    """Apply the log, checkpointing every 5 s of traffic, until killed."""
    state = PartitionState.fresh(settings(stream), stream, 0, APP, TIMING, 0.0)
    state.chain = ChainWriter(0.0 if mode == "full" else 1.0)
    table, head = DirTable(store), None
    every = CHECKPOINT_MS // RECORD_MS
    warm = WARMUP_MS // RECORD_MS
    with log.open("rb") as f:
        for offset, value in enumerate(read_log(f)):
            state.apply(offset, b"", value, 0.0)
            if offset % every == every - 1:
                began = time.perf_counter()
                piece = state.checkpoint_piece(0.0)
                encoded = time.perf_counter()
                head = write_checkpoint(table, stream, 0, head, piece, state.offset)
                if offset >= warm:
                    report(kind=piece.kind, bytes=len(piece.data),
                           encode_s=encoded - began, write_s=time.perf_counter() - encoded)
            if offset == measure_at:
                sli = state.engine.slis[0]
                if isinstance(sli, DeliverySLI):
                    size, entries = state_bytes(sli)
                    report(state_bytes=size, entries=entries, pending=sli.tracked)
                elif isinstance(sli, RX2SLI):
                    report(entries=len(sli._recent))
            if offset % 10 == 0:
                report(applied=offset)


def recover_child(log: Path, store: Path, stream: str, until: int) -> None:
    """Restore the latest checkpoint, replay the log after it up to ``until``."""
    began = time.perf_counter()
    stored = read_checkpoint(DirTable(store), stream, 0)
    assert stored is not None
    _, base, deltas = stored
    read = time.perf_counter()
    state = PartitionState.restore(settings(stream), stream, 0, APP, TIMING, base, 0.0,
                                   deltas)
    restored = time.perf_counter()
    replayed = 0
    with log.open("rb") as f:
        for offset, value in enumerate(read_log(f)):
            if offset > until:
                break
            if offset > state.offset:
                state.apply(offset, b"", value, 0.0)
                replayed += 1
    report(caught_up=until, read_s=read - began, restore_s=restored - read,
           replay_s=time.perf_counter() - restored, replayed=replayed,
           checkpoint_bytes=len(base) + sum(map(len, deltas)), deltas=len(deltas))


# ---------------------------------------------------------------------------------- parent


def _child(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE,
                            text=True, env=env)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_mode(log: Path, stream: str, mode: str, records: int, kill_at: float
             ) -> dict[str, Any]:
    """One mode: run until SIGKILL, then recover. Figures of both children."""
    with tempfile.TemporaryDirectory(prefix="state-bench-") as tmp:
        store = Path(tmp)
        target = int(records * kill_at)
        child = _child("--child", "run", str(log), str(store), stream, mode, str(target - 20))
        assert child.stdout is not None
        checkpoints, applied, out = [], -1, {}
        for line in child.stdout:
            item = json.loads(line)
            if "kind" in item:
                checkpoints.append(item)
            elif "entries" in item:
                out.update(item)
            applied = item.get("applied", applied)
            if applied >= target:
                break
        out["rss_mib"] = _peak_rss_mib(child.pid)
        child.send_signal(signal.SIGKILL)
        child.wait()
        began = time.perf_counter()
        again = _child("--child", "recover", str(log), str(store), stream, str(applied))
        stdout, _ = again.communicate()
        out["recovery_s"] = time.perf_counter() - began
        out.update(json.loads(stdout.strip().splitlines()[-1]))
        out["checkpoints"] = checkpoints
        return out


def _summary(ck: list[dict[str, Any]]) -> dict[str, float]:
    total = [c["encode_s"] + c["write_s"] for c in ck]
    deltas = [c for c in ck if c["kind"] == "delta"] or ck
    return {"n": len(ck), "bases": sum(c["kind"] == "base" for c in ck),
            "median_bytes": statistics.median(c["bytes"] for c in deltas),
            "median_s": statistics.median(c["encode_s"] + c["write_s"] for c in deltas),
            "mean_bytes": statistics.mean(c["bytes"] for c in ck),
            "mean_s": statistics.mean(total)}


def _row(name: str, full: float, inc: float, unit: str, target: str = "") -> None:
    ratio = f"{inc / full:6.3f}x" if full else ""
    print(f"{name:<40} {full:>14,.{2 if unit == 's' else 0}f} {inc:>14,.2f} {ratio:>8}  "
          f"{unit:<6} {target}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--devices", type=int, default=1_000_000)
    p.add_argument("--minutes", type=float, default=12.0)
    p.add_argument("--kill-at", type=float, default=0.9)
    p.add_argument("--repeat", type=int, default=1, help="recoveries per mode (median)")
    p.add_argument("--stream", choices=[codec.LORAWAN, codec.GATEWAY], default=codec.LORAWAN)
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        kind, log, store, stream, *rest = a.child
        if kind == "run":
            run_child(Path(log), Path(store), stream, rest[0], int(rest[1]))
        else:
            recover_child(Path(log), Path(store), stream, int(rest[0]))
        return
    with tempfile.TemporaryDirectory(prefix="state-log-") as tmp:
        log = Path(tmp) / f"{a.stream}-0.log"
        began = time.perf_counter()
        records, events = write_log(log, a.devices, a.minutes, a.stream)
        print(f"{a.devices:,} devices, {a.minutes:g} simulated minutes, {a.stream} stream: "
              f"{records:,} records, "
              f"{events:,} events, log of {log.stat().st_size / 2**20:,.0f} MiB "
              f"(generated in {time.perf_counter() - began:.0f} s)")
        runs = {mode: [run_mode(log, a.stream, mode, records, a.kill_at)
                       for _ in range(a.repeat)] for mode in ("full", "incremental")}
    print_results(runs)


def print_results(runs: dict[str, list[dict[str, Any]]]) -> None:
    full, inc = runs["full"], runs["incremental"]
    f, i = _summary(full[0]["checkpoints"]), _summary(inc[0]["checkpoints"])
    med = statistics.median
    print(f"\n{'':<40} {'full snapshot':>14} {'incremental':>14} {'ratio':>8}  unit   target")
    _row("checkpoint bytes (median of deltas)", f["median_bytes"], i["median_bytes"], "B")
    _row("checkpoint time (median of deltas)", f["median_s"], i["median_s"], "s")
    _row("checkpoint bytes (mean, with bases)", f["mean_bytes"], i["mean_bytes"], "B")
    _row("checkpoint time (mean, with bases)", f["mean_s"], i["mean_s"], "s")
    _row("bytes restored (base + deltas)", med(r["checkpoint_bytes"] for r in full),
         med(r["checkpoint_bytes"] for r in inc), "B")
    _row("worker RSS, peak", med(r["rss_mib"] for r in full), med(r["rss_mib"] for r in inc),
         "MiB", f"<= {TARGETS['rss_mib']}")
    _row("recovery after SIGKILL (caught up)", med(r["recovery_s"] for r in full),
         med(r["recovery_s"] for r in inc), "s", f"<= {TARGETS['recovery_s']}")
    for name, rs in runs.items():
        r = rs[0]
        print(f"  {name}: {f['n'] if name == 'full' else i['n']} steady-state checkpoints "
              f"({f['bases'] if name == 'full' else i['bases']} bases); recovery: read "
              f"{r['read_s']:.2f} s, restore {r['restore_s']:.2f} s ({r['deltas']} deltas), "
              f"replay {r['replayed']} records {r['replay_s']:.2f} s")
    r = inc[0]
    if "state_bytes" not in r:
        print(f"RX2 state: {r['entries']:,} recent (gateway, DevAddr) entries")
        return
    per = r["state_bytes"] / r["entries"]
    print(f"delivery state: {r['state_bytes'] / 2**20:,.1f} MiB for {r['entries']:,} entries "
          f"({r['pending']:,} pending uplinks, {r['entries'] - r['pending']:,} tombstones): "
          f"{per:.1f} bytes per tracked uplink (target <= {TARGETS['bytes_per_uplink']})")


if __name__ == "__main__":
    main()
