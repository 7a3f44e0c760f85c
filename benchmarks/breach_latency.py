"""Breach latency: from the watermark passing the minute that proves a breach to
``slastream_slo_breach 1`` on ``/metrics`` (and the same for the recovery, ``0``).

    .venv/bin/python benchmarks/breach_latency.py [--cycles N] [--kafka BOOTSTRAP]

A ``slastream worker`` process (embedded profile) runs against Tansu (started here unless
``--kafka``) with one probe SLO: a minute with a failed probe is bad, one bad minute is an
outage (``min_duration_s: 60``). Per cycle, straight into Kafka (the bridge is not part of
this path): a minute of failing probes, then one probe ``lateness_s`` past the end of that
minute, the record that moves the watermark past it. The clock starts when Kafka has
acknowledged that record and stops at the first scrape of ``/metrics`` (every 5 ms) that
shows the breach. Then a good minute and its closing probe, timed to ``0`` the same way.

Event times lie in the past, so the watermark moves only with these records (the idle
ticks would need ``lateness_s`` of idle wall time to move it). Target
(docs/architecture.md#performance): within 2 s. Numbers, never assertions.

A first cycle, not counted, lets the worker join its consumer group and the slices
topic's follower start: the gauge reads 0 from the moment ``/metrics`` is up, so the
good minute before it does not prove the worker is reading yet (uncounted, that cycle
takes about 6 s).

On Tansu the figure is dominated by the consumer's fetch: Tansu answers a waiting fetch
when its long-poll expires rather than when a record arrives, so a record waits up to the
worker's ``fetch_max_wait_ms`` (``KafkaProfile``, 100 ms; faust's own 1.5 s before) before
the worker sees it. A Kafka broker answers a waiting fetch as soon as data arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import yaml

from slastream.config import load_settings
from slastream.embedded import Tansu, free_port
from slastream.model.events import Event, ProbeResult
from slastream.model.spec import Settings
from slastream.model.time import MINUTE_MS, now_ms
from slastream.stream.worker import worker_topics
from slastream.transport.kafka import EventProducer, delivered, ensure_topics

TARGET_S = 2.0
LATENESS_S = 30
POLL_S = 0.005
ROOT = Path(__file__).resolve().parent.parent


def config(bootstrap: str, name: str, port: int) -> dict[str, object]:
    return {
        "timezone": "UTC", "lateness_s": LATENESS_S,
        "slos": [{"name": "api-availability", "sli": "probe", "component": "api",
                  "objective": 0.999,
                  "downtime": {"bad_below": 1.0, "min_duration_s": 60}}],
        "kafka": {"bootstrap": bootstrap, "topic_prefix": name, "partitions": 4,
                  "app_id": name},
        "http": {"host": "127.0.0.1", "port": port},
    }


def probes(start_ms: int, end_ms: int, ok: bool) -> list[Event]:
    """One probe of ``api`` every 5 s in ``[start, end)``."""
    return [ProbeResult(t, "api", ok, 200 if ok else 503, 80.0)
            for t in range(start_ms, end_ms, 5_000)]


def breach_value(url: str) -> float | None:
    with urllib.request.urlopen(url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith('slastream_slo_breach{scope="api",slo="api-availability"}'):
                return float(line.rsplit(" ", 1)[1])
    return None


async def wait_for(url: str, value: float, limit_s: float = 60.0) -> float:
    """Seconds until ``/metrics`` shows ``value`` (polled every 5 ms, off the loop)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        try:
            if await asyncio.to_thread(breach_value, url) == value:
                return time.perf_counter() - t0
        except OSError:
            pass
        await asyncio.sleep(POLL_S)
    raise SystemExit(f"/metrics did not show slastream_slo_breach {value:g} within "
                     f"{limit_s:g} s")


async def send(producer: EventProducer, settings: Settings, events: list[Event]) -> None:
    await delivered(await producer.send_events(events), settings.kafka.bootstrap)


@asynccontextmanager
async def kafka(bootstrap: str | None) -> AsyncIterator[str]:
    if bootstrap:
        yield bootstrap
        return
    async with Tansu() as broker:
        yield broker.bootstrap


async def amain(args: argparse.Namespace) -> int:
    async with kafka(args.kafka) as bootstrap:
        name = f"latency-{int(time.time())}"
        port = free_port()
        path = Path(tempfile.mkdtemp(prefix="slastream-latency-")) / "latency.yaml"
        path.write_text(yaml.safe_dump(config(bootstrap, name, port)))
        settings = load_settings(path)
        await ensure_topics(settings.kafka, worker_topics(settings))
        env = {**os.environ, "SLASTREAM_KAFKA_PROFILE": "embedded",
               "PYTHONPATH": str(ROOT / "src")}
        worker = subprocess.Popen([sys.executable, "-m", "slastream", "worker", "-c",
                                   str(path)], env=env, stdout=subprocess.DEVNULL)
        metrics = f"http://127.0.0.1:{port}/metrics"
        starts: list[float] = []
        ends: list[float] = []
        try:
            async with EventProducer(settings.kafka, create_topics=False) as producer:
                base = (now_ms() - 40 * MINUTE_MS) // MINUTE_MS * MINUTE_MS
                # a good minute first: the SLO exists, the worker has joined its group
                await send(producer, settings, probes(base - MINUTE_MS, base, True))
                await wait_for(metrics, 0.0, limit_s=120.0)
                for k in range(args.cycles + 1):  # the first: the warm-up, not counted
                    bad = base + 3 * k * MINUTE_MS
                    good = bad + MINUTE_MS
                    closer = LATENESS_S * 1000 + 1000
                    await send(producer, settings, probes(bad, good, False))
                    # the record that moves the watermark past the bad minute
                    await send(producer, settings,
                               [ProbeResult(good + closer, "api", True, 200, 80.0)])
                    starts.append(await wait_for(metrics, 1.0))
                    await send(producer, settings, probes(good + closer + 5000,
                                                          good + MINUTE_MS, True))
                    await send(producer, settings,  # ... and past the good one
                               [ProbeResult(good + MINUTE_MS + closer, "api", True, 200, 80.0)])
                    ends.append(await wait_for(metrics, 0.0))
                    label = f"cycle {k}" if k else "warm-up"
                    print(f"{label}: breach shown {starts[-1] * 1000:7.1f} ms, "
                          f"recovery shown {ends[-1] * 1000:7.1f} ms after the watermark "
                          "passed", flush=True)
                    if not k:
                        del starts[:], ends[:]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
    both = starts + ends
    print(f"breach: median {statistics.median(starts) * 1000:.0f} ms, max "
          f"{max(starts) * 1000:.0f} ms; recovery: median {statistics.median(ends) * 1000:.0f}"
          f" ms, max {max(ends) * 1000:.0f} ms ({args.cycles} cycles; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    verdict = "meets" if max(both) <= TARGET_S else "misses"
    print(f"target: on /metrics within {TARGET_S:g} s of the watermark: {verdict} "
          f"(worst {max(both):.2f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=8)
    p.add_argument("--kafka", metavar="BOOTSTRAP", help="use this broker, not a new Tansu")
    return asyncio.run(amain(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
