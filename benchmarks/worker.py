"""Worker throughput: Kafka → SLI slices, the batch worker against a per-event faust agent.

    .venv/bin/python benchmarks/worker.py [--events N] [--per-event-events M]
                                          [--kafka BOOTSTRAP] [--checkpoint-s S]

One run, one Tansu (started here unless ``--kafka``), two faust applications:

1. the slastream worker (``stream.app.StreamWorker``, embedded profile) on the delivery
   SLI of LORIOT's contract (deadline 30 s, lateness 120 s): N canonical events (uplink
   copies heard by 1-3 gateways, 95 % of them delivered), produced as the bridge does, one
   Kafka record per batch of up to 2,000 events of a partition. Timed from its first
   applied record to the last, checkpoints and slice output included;
2. a straightforward faust agent doing the same delivery-ratio computation one event per
   Kafka record: ``async for`` over the stream, a dict of received uplinks, good and total
   per minute. Its state is in memory only (no table write per event), the most favourable
   case for the per-event design.

The pure core (the worker's own records, each partition's through that partition's state,
in this process, no Kafka) runs on columnar records (version 3) and on JSON records
(version 1) of the same events, with the cost of
each stage of a record: decode, feed, advance/finalise, emit. Then ``--rounds`` rounds of
the worker, each between two runs of the pure core (each worker a new consumer group over
the same records): the worker's share of its pure core is the median of the rounds'
shares, per CPU-second, each against the mean of the core's runs around it, so a
neighbour's load on the shared machine weighs on both sides of a ratio.

Prints events/s of each and their ratios, and each round's CPU per event split into the
engine (``PartitionState.apply``), the rest of the main thread (faust's fetch loop,
conductor and stream, the agent, slice output, the event loop) and the other threads (the
consumer's fetching). Targets (docs/architecture.md#performance):
>= 600,000 events/s per worker process and >= 80 % of its pure core, ahead of the
per-event agent. Numbers, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import faust

from slastream.config import parse_settings
from slastream.embedded import Tansu
from slastream.model.events import Event, UplinkDelivered, UplinkReceived
from slastream.model.spec import Settings
from slastream.stream.app import StreamWorker
from slastream.stream.partition import PartitionState, Timing
from slastream.stream.profile import EMBEDDED
from slastream.stream.worker import configure_logging, worker_topics
from slastream.transport import codec
from slastream.transport.kafka import (
    MAX_EVENTS_PER_RECORD,
    EventProducer,
    delivered,
    ensure_topics,
)
from slastream.transport.rows import decode_record

TARGET_EVENTS_S = 600_000
TARGET_CORE_SHARE = 0.80  # of the pure core's events per CPU-second
START_MS = 1_790_000_000_000 // 60_000 * 60_000
DEADLINE_MS = 30_000
CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "lateness_s": 120,
    "lorawan": {"devaddr_prefixes": ["26000000/7"]},
    "slos": [{"name": "lorawan-delivery", "sli": "delivery", "objective": 0.999,
              "deadline_s": DEADLINE_MS // 1000,
              "downtime": {"bad_below": 0.75, "window_s": 300, "min_events": 20}}],
    "kafka": {"partitions": 4},
    "http": {"host": "127.0.0.1", "port": 0},
}


def synthetic_events(n: int, seed: int = 1, devices: int = 50_000) -> list[Event]:
    """Uplinks of ``devices`` devices, ~300 a second of event time, each heard by 1-3
    gateways and delivered 300 ms later (95 %), in arrival order."""
    rng = random.Random(seed)
    fcnt = [0] * devices
    out: list[Event] = []
    t = START_MS
    while len(out) < n:
        dev = rng.randrange(devices)
        devaddr = 0x26000000 + dev
        f = fcnt[dev]
        fcnt[dev] += 1
        for g in range(1 + rng.randrange(3)):
            out.append(UplinkReceived(t + g, devaddr, f & 0xFFFF, f"gw-{(dev + g) % 400}",
                                      "eu868", False))
        if rng.random() < 0.95:
            out.append(UplinkDelivered(t + 300, devaddr, f, "app-1", f"dev-{dev}"))
        t += 3
    return out[:n]


Chunks = dict[int, list[list[Event]]]  # partition → the events of each of its records
Records = dict[int, list[bytes]]  # partition → its records' values


async def produce_batches(settings: Settings,
                          events: list[Event]) -> tuple[dict[int, int], Chunks]:
    """Events into the lorawan topic, one record per partition chunk (as the bridge does);
    returns the last offset per partition and the events of each record."""
    last: dict[int, int] = {}
    chunks: Chunks = {}
    async with EventProducer(settings.kafka, create_topics=False) as producer:
        futures = []
        for i in range(0, len(events), 20_000):
            part = events[i:i + 20_000]
            for (stream, partition), (_, group) in producer.group(part).items():
                if stream == codec.LORAWAN:  # as producer.records cuts them
                    chunks.setdefault(partition, []).extend(
                        group[j:j + MAX_EVENTS_PER_RECORD]
                        for j in range(0, len(group), MAX_EVENTS_PER_RECORD))
            futures += await producer.send_events(part)
        await delivered(futures, settings.kafka.bootstrap)
        for f in futures:
            meta = f.result()
            if meta.topic.endswith(f".{codec.LORAWAN}"):
                last[meta.partition] = max(last.get(meta.partition, -1), meta.offset)
    return last, chunks


async def produce_singles(settings: Settings, events: list[Event]) -> None:
    """One record per event, keyed by DevAddr, into the lorawan topic of ``settings``."""
    async with EventProducer(settings.kafka, create_topics=False) as producer:
        futures = []
        for ev in events:
            key = f"{ev.devaddr:08x}"  # type: ignore[union-attr]
            futures.append(await producer.send_record(codec.LORAWAN, codec.encode_batch([ev]),
                                                      key))
        await delivered(futures, settings.kafka.bootstrap)


# ------------------------------------------------------------------------ batch worker


def cpu_seconds() -> float:
    """CPU time of this process, all threads (faust's consumer runs in its own thread):
    on a shared machine, events per CPU-second is steadier than per wall second."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ApplyClock:
    """CPU time of this thread spent in ``PartitionState.apply`` (the worker's engine),
    read around each call: two clock reads a record, not an event."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._apply = PartitionState.apply

    def __enter__(self) -> ApplyClock:
        clock, apply = time.thread_time, self._apply

        def timed(state: PartitionState, *args: Any) -> Any:
            t = clock()
            try:
                return apply(state, *args)
            finally:
                self.seconds += clock() - t

        PartitionState.apply = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *_: object) -> None:
        PartitionState.apply = self._apply  # type: ignore[method-assign]


def engine_share(fig: dict[str, float]) -> float:
    """The engine's part of a worker run's CPU: the share of its pure core it would reach
    were the engine as fast inside the worker as alone, measured within one run, so the
    machine's drift between runs does not enter it."""
    return fig["apply_s"] / (fig["apply_s"] + fig["main_other_s"] + fig["threads_s"])


async def run_batch_worker(settings: Settings, n_events: int, last: dict[int, int],
                           checkpoint_s: float) -> tuple[float, float, dict[str, float]]:
    """(events/s, seconds, figures) of the slastream worker over the ``n_events`` events
    already in Kafka (``last``: the last offset of each partition). The figures split
    its CPU: the engine (``apply``), the rest of the main thread (faust, the event loop,
    slice output) and the other threads (the consumer's)."""
    worker = StreamWorker(settings, EMBEDDED, Timing(checkpoint_interval_s=checkpoint_s))
    with ApplyClock() as engine:
        async with worker:
            first: float | None = None
            cpu0 = main0 = engine0 = 0.0
            while True:
                await asyncio.sleep(0.01)
                if worker.failure:
                    raise SystemExit(f"worker failed: {worker.failure}")
                states = {p: s for (st, p), s in worker.partitions.items()
                          if st == codec.LORAWAN}
                if first is None and states:
                    first, cpu0, main0 = time.perf_counter(), cpu_seconds(), time.thread_time()
                    engine0 = engine.seconds
                if len(states) == len(last) and all(
                        states[p].offset >= off for p, off in last.items()):
                    done, cpu = time.perf_counter(), cpu_seconds() - cpu0
                    main, applied = time.thread_time() - main0, engine.seconds - engine0
                    break
            assert first is not None
            # untimed: the slice batches still on their way to Kafka reach the local view
            await worker.sender.flush()
            ledger_totals = Counter[str]()
            for (_slo, _scope, outcome), n in worker.view.sli_event_totals().items():
                ledger_totals[outcome] += n
            tracked = sum(s.engine.pipeline()["tracked_uplinks"] for s in states.values())
    seconds = done - first
    good, bad = ledger_totals["good"], ledger_totals["bad"]
    return n_events / seconds, seconds, {
        "records": sum(o + 1 for o in last.values()),
        "final_uplinks": good + bad, "ratio": good / (good + bad) if good + bad else 0.0,
        "tracked_uplinks": tracked, "cpu_s": cpu, "apply_s": applied,
        "main_other_s": main - applied, "threads_s": max(0.0, cpu - main),
    }


def in_turn(settings: Settings,
            records: Records) -> list[tuple[PartitionState, int, bytes]]:
    """A fresh state per partition, and each record with its state and offset, the
    partitions in turn (record 0 of each, then record 1, ...) as a worker fetching all of
    them meets them."""
    states = {p: PartitionState.fresh(settings, codec.LORAWAN, p, "bench", Timing(), 0.0)
              for p in records}
    turns = [(i, p, value) for p, values in records.items() for i, value in enumerate(values)]
    return [(states[p], i, value) for i, p, value in sorted(turns, key=lambda x: x[:2])]


def run_pure_core(settings: Settings, records: Records, n_events: int) -> tuple[float, float]:
    """(events/s, events per CPU-second) of the worker's records through their
    partitions' states in this process, no Kafka: decoding and the engine, what bounds
    the worker."""
    work = in_turn(settings, records)
    t, cpu = time.perf_counter(), cpu_seconds()
    for state, offset, value in work:
        state.apply(offset, None, value, 0.0)
    return n_events / (time.perf_counter() - t), n_events / (cpu_seconds() - cpu)


STAGES = ("decode record", "feed", "advance/finalise", "emit")


def stage_costs(settings: Settings, records: Records, n_events: int) -> dict[str, float]:
    """CPU microseconds per event of each stage of ``PartitionState.apply`` over
    ``records`` (the stages it runs, one by one, each timed around its own call, in CPU
    time of this thread: other processes on a loaded machine do not count)."""
    spent = dict.fromkeys(STAGES, 0.0)
    clock = time.thread_time
    for state, offset, value in in_turn(settings, records):
        engine = state.engine
        t0 = clock()
        batch = decode_record(value)
        t1 = clock()
        engine.feed_columns(batch)
        t2 = clock()
        engine.advance()
        t3 = clock()
        state._emit(offset)
        t4 = clock()
        spent["decode record"] += t1 - t0
        spent["feed"] += t2 - t1
        spent["advance/finalise"] += t3 - t2
        spent["emit"] += t4 - t3
    return {stage: seconds / n_events * 1e6 for stage, seconds in spent.items()}


def median_core(settings: Settings, records: Records, n_events: int,
                repeat: int) -> tuple[float, float]:
    """Median of ``repeat`` runs of ``run_pure_core``."""
    runs = [run_pure_core(settings, records, n_events) for _ in range(repeat)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))


def report_core(settings: Settings, records: Records, json_records: Records,
                n: int, repeat: int) -> tuple[float, float]:
    """Print the pure core on columnar and on JSON records, and the cost of each stage;
    returns the columnar core's (events/s, events per CPU-second)."""
    core_rate, core_cpu = median_core(settings, records, n, repeat)
    json_rate, json_cpu = median_core(settings, json_records, n, repeat)
    costs = stage_costs(settings, records, n)
    json_costs = stage_costs(settings, json_records, n)
    print(f"pure core:        {core_rate:>10,.0f} events/s  (decode + engine of the same "
          f"records, each partition's in its state, no Kafka; {core_cpu:,.0f} per "
          f"CPU-second; "
          f"median of {repeat})", flush=True)
    print(f"  same, JSON records (version 1): {json_rate:,.0f} events/s "
          f"({json_cpu:,.0f} per CPU-second); columnar / JSON {core_cpu / json_cpu:.2f}x",
          flush=True)
    print("  per-stage CPU cost, us/event  columnar    JSON", flush=True)
    for stage in STAGES:
        print(f"    {stage:<26} {costs[stage]:>8.3f} {json_costs[stage]:>7.3f}", flush=True)
    print(f"    {'total':<26} {sum(costs.values()):>8.3f} "
          f"{sum(json_costs.values()):>7.3f}", flush=True)
    return core_rate, core_cpu


# --------------------------------------------------------------------- per-event agent


def per_event_app(settings: Settings, n: int, done: asyncio.Event,
                  marks: dict[str, float], counts: Counter[str]) -> Any:
    """The straightforward design: one event per record, state updated event by event."""
    options = EMBEDDED.faust_options(settings, tempfile.mkdtemp(prefix="bench-per-event-"))
    app = faust.App(settings.kafka.app_id, **options)
    topic = app.topic(codec.topic_name(settings.kafka.topic_prefix, codec.LORAWAN),
                      key_type=bytes, value_type=bytes)
    received: dict[tuple[int, int], int] = {}
    matched: set[tuple[int, int]] = set()

    async def agent(stream: Any) -> None:
        async for value in stream:
            if "first" not in marks:
                marks["first"] = time.perf_counter()
            ev = codec.decode_batch(value)[0]
            if isinstance(ev, UplinkReceived):
                key = (ev.devaddr, ev.fcnt16)
                if key not in received:
                    received[key] = ev.time_ms
                    counts[f"total/{ev.time_ms // 60_000}"] += 1
            elif isinstance(ev, UplinkDelivered):
                key = (ev.devaddr, ev.fcnt & 0xFFFF)
                sent = received.get(key)
                if sent is not None and key not in matched and ev.time_ms - sent <= DEADLINE_MS:
                    matched.add(key)
                    counts[f"good/{sent // 60_000}"] += 1
            counts["events"] += 1
            if counts["events"] >= n:
                marks["done"] = time.perf_counter()
                done.set()

    app.agent(topic, name="per-event")(agent)
    return app


async def run_per_event(settings: Settings, n_events: int) -> tuple[float, float, float]:
    """(events/s, seconds, delivery ratio) of the per-event agent over the ``n_events``
    single-event records already in Kafka."""
    done = asyncio.Event()
    marks: dict[str, float] = {}
    counts: Counter[str] = Counter()
    app = per_event_app(settings, n_events, done, marks, counts)
    await app.start()
    try:
        await asyncio.wait_for(done.wait(), 3600)
    finally:
        await app.stop()
    seconds = marks["done"] - marks["first"]
    good = sum(v for k, v in counts.items() if k.startswith("good/"))
    total = sum(v for k, v in counts.items() if k.startswith("total/"))
    return n_events / seconds, seconds, good / total if total else 0.0


# --------------------------------------------------------------------------------- main


@asynccontextmanager
async def kafka(bootstrap: str | None) -> AsyncIterator[str]:
    if bootstrap:
        yield bootstrap
        return
    async with Tansu() as broker:
        yield broker.bootstrap


async def amain(args: argparse.Namespace) -> int:
    base = parse_settings(CONFIG, "benchmarks/worker.py")
    stamp = int(time.time())
    async with kafka(args.kafka) as bootstrap:
        print(f"Kafka: {bootstrap} ({'given' if args.kafka else 'Tansu, started here'}); "
              f"events: {args.events:,} (batch) / {args.per_event_events:,} "
              f"(per-event)", flush=True)
        t = time.perf_counter()
        events = synthetic_events(args.events)
        print(f"generated {len(events):,} events in {time.perf_counter() - t:.1f} s",
              flush=True)

        def at(name: str) -> Settings:
            return replace(base, kafka=replace(base.kafka, bootstrap=bootstrap,
                                               topic_prefix=f"bench-{name}-{stamp}",
                                               app_id=f"bench-{name}-{stamp}"))

        batch, single = at("batch"), at("per-event")
        for settings in (batch, single):
            await ensure_topics(settings.kafka, worker_topics(settings))
        t = time.perf_counter()
        last, chunks = await produce_batches(batch, events)
        produce_s = time.perf_counter() - t
        sample = events[:args.per_event_events]
        await produce_singles(single, sample)
        n, n_sample = len(events), len(sample)
        # the worker's own records: the same chunks of the same partitions
        records = {p: [codec.encode_batch(c) for c in cs] for p, cs in chunks.items()}
        json_records = {p: [codec.encode_json_batch(c) for c in cs] for p, cs in chunks.items()}
        assert {p: len(v) - 1 for p, v in records.items()} == last, "records as produced"
        # the generated events are in Kafka now: drop them, or every collection of the
        # cyclic GC would walk millions of tuples that a real worker does not hold
        del events, sample, chunks
        gc.collect()
        gc.freeze()
        core_rate, _ = report_core(batch, records, json_records, n, args.repeat)
        del json_records
        # rounds of the worker between two runs of the pure core, each worker a new
        # consumer group reading the same records: a round's share is the worker's rate
        # against the mean of the core's just before and just after, a ratio measured under
        # the same load, and its median over rounds is steadier than one run against another
        rounds: list[tuple[float, float, dict[str, float]]] = []  # rate, share, figures
        before = run_pure_core(batch, records, n)[1]
        for r in range(args.rounds):
            group = replace(batch, kafka=replace(batch.kafka,
                                                 app_id=f"{batch.kafka.app_id}-{r}"))
            rate, seconds, fig = await run_batch_worker(group, n, last, args.checkpoint_s)
            after = run_pure_core(batch, records, n)[1]
            rounds.append((rate, n / fig["cpu_s"] / ((before + after) / 2), fig))
            print(f"  round {r + 1}: worker {rate:,.0f} events/s, {n / fig['cpu_s']:,.0f} "
                  f"per CPU-second ({seconds:.2f} s, {fig['cpu_s']:.2f} CPU-s); pure core "
                  f"{before:,.0f} before and {after:,.0f} after, per CPU-second; share "
                  f"{rounds[-1][1]:.0%}", flush=True)
            print(f"           CPU us an event: engine (apply) {fig['apply_s'] / n * 1e6:.3f}, "
                  f"rest of the main thread {fig['main_other_s'] / n * 1e6:.3f}, other "
                  f"threads {fig['threads_s'] / n * 1e6:.3f}; the engine's share of the "
                  f"worker's CPU {engine_share(fig):.1%}", flush=True)
            before = after
        del records
        rate = statistics.median(r[0] for r in rounds)
        share = statistics.median(r[1] for r in rounds)
        in_run = statistics.median(engine_share(r[2]) for r in rounds)
        cpu_rate = statistics.median(n / r[2]["cpu_s"] for r in rounds)
        fig = rounds[-1][2]
        print(f"batch worker:     {rate:>10,.0f} events/s  (median of {len(rounds)} rounds "
              f"of {n:,} events; {fig['records']:,} records of <= {MAX_EVENTS_PER_RECORD} "
              f"events; produced in {produce_s:.1f} s; checkpoint every "
              f"{args.checkpoint_s:g} s)", flush=True)
        print(f"                  {cpu_rate:>10,.0f} events per CPU-second of the worker "
              f"process (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
              flush=True)
        print(f"                  delivery ratio over final minutes {fig['ratio']:.4f} "
              f"({fig['final_uplinks']:,} uplinks final, "
              f"{fig['tracked_uplinks']:,.0f} still within deadline + lateness)", flush=True)
        pe_rate, pe_seconds, pe_ratio = await run_per_event(single, n_sample)
        print(f"per-event agent:  {pe_rate:>10,.0f} events/s  ({n_sample:,} events in "
              f"{pe_seconds:.2f} s; one record per event; delivery ratio {pe_ratio:.4f})",
              flush=True)
        verdict = "meets" if rate >= TARGET_EVENTS_S else "misses"
        print(f"worker / pure core: {rate / core_rate:.0%} (events/s, against the core's "
              f"median above), {share:.0%} (per CPU-second, median of the rounds' shares; "
              f"target >= {TARGET_CORE_SHARE:.0%}: "
              f"{'meets' if share >= TARGET_CORE_SHARE else 'misses'}; within the runs, "
              f"the engine's share of the worker's CPU {in_run:.1%}); "
              f"ratio batch / per-event: {rate / pe_rate:.1f}x; target "
              f">= {TARGET_EVENTS_S:,} events/s per worker process: {verdict} "
              f"({rate / TARGET_EVENTS_S:.0%})", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--per-event-events", type=int, default=200_000)
    p.add_argument("--kafka", metavar="BOOTSTRAP", help="use this broker, not a new Tansu")
    p.add_argument("--checkpoint-s", type=float, default=5.0)
    p.add_argument("--repeat", type=int, default=3, help="runs of the pure core (median)")
    p.add_argument("--rounds", type=int, default=3,
                   help="worker runs, each between two runs of the pure core (median share)")
    args = p.parse_args(argv)
    configure_logging()
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
