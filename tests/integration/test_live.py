"""The live pipeline on real brokers (Mosquitto, Tansu): results do not depend on replay,
worker count or crashes (docs/semantics.md#determinism), and the demo shows a breach and recovery.

Workers run as real processes (``python -m slastream worker``) where a test needs to kill
or multiply them; ``SLASTREAM_KAFKA_PROFILE=embedded`` gives them the Tansu settings
(docs/architecture.md#kafka-profiles). Ledgers are compared on what does not depend on how
far the wall clock has moved the watermark since the data ended (total minutes and the
ratios derived from it
keep growing with every idle minute): downtime, excused minutes, SLI values, event counts
and the episodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.config import load_settings
from slastream.embedded import free_port
from slastream.engine import Engine
from slastream.model.events import Event
from slastream.model.ledger import ledger_json
from slastream.model.spec import Settings
from slastream.model.time import MINUTE_MS, Month, format_rfc3339_s, now_ms
from slastream.simulate import Outages, Scenario, Window, generate, publish
from slastream.sources import router
from slastream.sources.capture import Message
from slastream.sources.decoder import message_batches
from slastream.stream.partition import slos_for_stream
from slastream.transport import codec
from slastream.transport.kafka import EventProducer, Partitioner, RecordReader, delivered
from tests.brokers import KafkaBroker, MqttBroker
from tests.integration.ahead import Ahead, ahead
from tests.integration.live import live_pipeline, metric, replayed
from tests.stream.helpers import CONFIG

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPARED = ("name", "scope", "downtime_minutes", "excused_minutes", "sli_value", "events")
EPISODE = ("start", "end", "minutes", "excused")
WAIT_S = 150.0


# ----------------------------------------------------------------------------- helpers


def write_config(tmp: Path, kafka: str, name: str, mqtt: str = "mqtt://127.0.0.1:1883",
                 http_port: int = 0) -> Path:
    data = dict(CONFIG)
    data["kafka"] = {"bootstrap": kafka, "topic_prefix": name, "partitions": 4,
                     "app_id": name}
    data["mqtt"] = {"url": mqtt, "client_id": f"bridge-{name}"}
    data["http"] = {"host": "127.0.0.1", "port": http_port}
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def comparable(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for entry in ledger["slos"]:
        row = {k: entry[k] for k in COMPARED}
        row["episodes"] = [{k: ep[k] for k in EPISODE} for ep in entry["episodes"]]
        out.append(row)
    return out


def offline_ledger(settings: Settings, messages: list[Message], month: str) -> dict[str, Any]:
    engine = Engine(settings)
    for batch in message_batches(messages):
        engine.feed(batch)
        engine.advance()
    engine.flush()
    return ledger_json(engine.ledger(month))


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def partitions_with_data(settings: Settings, messages: list[Message]) -> int:
    """How many (stream, partition) of SLO-computing streams the messages reach."""
    hasher = Partitioner()
    events: list[Event] = []
    for m in messages:
        router.decode(m.topic, m.payload, m.received_ms, events)
    slots = {(stream, hasher.hash(key) % settings.kafka.partitions)
             for ev in events for stream, key in codec.routes(ev)
             if slos_for_stream(settings, stream)}
    return len(slots)


def wait_complete(base_url: str, month: str, end_ms: int, partitions: int,
                  deadline: float) -> dict[str, Any]:
    """The ledger once every partition reported and the watermark passed ``end_ms``,
    and two readings in a row agree."""
    last: list[dict[str, Any]] | None = None
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            seen = get_json(f"{base_url}/api/ledger?month={month}")
            done = (seen["inputs"]["partitions"] >= partitions
                    and seen["period"]["as_of"] >= format_rfc3339_s(end_ms))
            if done:
                now = comparable(seen)
                if now == last:
                    return seen
                last = now
        time.sleep(2.0)
    raise AssertionError(f"the live ledger did not complete: {seen.get('period')} "
                         f"{seen.get('inputs')}")


def produce(settings: Settings, messages: list[Message]) -> None:
    """What the bridge would produce for ``messages``, straight into Kafka."""
    async def run() -> None:
        events: list[Event] = []
        for m in messages:
            router.decode(m.topic, m.payload, m.received_ms, events)
        async with EventProducer(settings.kafka, one_record_per_batch=True) as producer:
            futures = []
            for i in range(0, len(events), 2000):
                futures += await producer.send_events(events[i:i + 2000])
            await delivered(futures, settings.kafka.bootstrap)
    asyncio.run(run())


def produce_newer_record(settings: Settings, events: list[Event]) -> None:
    """A record of ``events`` as a bridge of a later release with a record version this
    one does not read would write it, into the lorawan topic."""
    value = bytearray(codec.encode_batch(events))
    value[4] = 99  # the columnar record's version

    async def run() -> None:
        async with EventProducer(settings.kafka) as producer:
            await delivered([await producer.send_record(codec.LORAWAN, bytes(value),
                                                        "26000001")],
                            settings.kafka.bootstrap)
    asyncio.run(run())


def wait_skipped(urls: list[str], want: float, deadline: float) -> None:
    """Until the workers at ``urls`` have skipped ``want`` records between them."""
    name = "slastream_skipped_records_total"
    while (got := sum(metric(url, name) or 0.0 for url in urls)) != want:
        assert time.monotonic() < deadline, f"{name}: {got}, expected {want}"
        time.sleep(0.5)


def produce_slowly(settings: Settings, messages: list[Message], parts: int = 10) -> None:
    step = len(messages) // parts + 1
    for i in range(0, len(messages), step):
        produce(settings, messages[i:i + step])
        time.sleep(1.0)


async def breach_events(settings: Settings, app_id: str) -> set[tuple[str, str, str]]:
    """``(state, slo, episode start)`` of the breach events ``app_id`` published."""
    topic = codec.topic_name(settings.kafka.topic_prefix, codec.BREACHES)
    async with RecordReader(settings.kafka.bootstrap, [topic]) as reader:
        values = [json.loads(r.value) async for r in reader.records(2.0)]
    return {(v["state"], v["slo"], v["episode_start"]) for v in values if v["app"] == app_id}


class Worker:
    """``python -m slastream worker`` in its own process, with the embedded profile."""

    def __init__(self, config: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SLASTREAM_KAFKA_PROFILE": "embedded",
               "PYTHONPATH": str(ROOT / "src")}
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "slastream", "worker", "-c", str(config),
             "--http", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=log.open("ab"), env=env)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


@contextlib.contextmanager
def workers(*specs: tuple[Path, Path]) -> Iterator[list[Worker]]:
    started = [Worker(config, log) for config, log in specs]
    try:
        yield started
    finally:
        for w in started:
            w.stop()


def historic_messages(duration_s: int, seed: int) -> tuple[list[Message], int]:
    """A generated run ending on a minute boundary 3 minutes ago (so it is all past)."""
    end = now_ms() // MINUTE_MS * MINUTE_MS - 3 * MINUTE_MS
    start = end - duration_s * 1000
    scenario = Scenario(
        devices=150, uplink_interval_s=20, gateways=5, downlink_share=0.2,
        probe_components=("api",), probe_interval_s=5, request_batch_s=5,
        outages=Outages(delivery=(Window(60, 80),), downlink=(Window(90, 70),),
                        probe=(Window(100, 70, "api"),), slow=(Window(150, 70, "api"),),
                        maintenance=Window(200, 60, "api"), maintenance_notice_s=3 * 86400))
    return list(generate(scenario, start, duration_s, seed)), end


# ------------------------------------------------------------------------------- tests


@ahead("test_one_worker_and_two_workers_give_the_offline_ledger")
def one_and_two_workers(tansu: KafkaBroker, tmp_path: Path) -> dict[str, Any]:
    messages, end = historic_messages(300, seed=11)
    data = write_config(tmp_path, tansu.bootstrap, "onetwo")
    settings = load_settings(data)
    produce(settings, messages)
    # uplinks in a record this release cannot read: skipped, counted, the ledger unchanged
    unread: list[Event] = []
    for m in messages[:50]:
        router.decode(m.topic, m.payload, m.received_ms, unread)
    produce_newer_record(settings, unread)
    month = Month.containing(end - 1, "UTC").label
    expected = comparable(offline_ledger(settings, messages, month))
    parts = partitions_with_data(settings, messages)
    one = write_config(tmp_path, tansu.bootstrap, "onetwo")  # same topics ...
    two = tmp_path / "two.yaml"  # ... a second application reading them with 2 workers
    raw = yaml.safe_load(one.read_text())
    raw["kafka"]["app_id"] = "onetwo-pair"
    two.write_text(yaml.safe_dump(raw))
    deadline = time.monotonic() + WAIT_S
    with workers((one, tmp_path / "one.log"), (two, tmp_path / "two-a.log"),
                 (two, tmp_path / "two-b.log")) as (single, pair_a, pair_b):
        got_single = wait_complete(single.url, month, end, parts, deadline)
        got_a = wait_complete(pair_a.url, month, end, parts, deadline)
        got_b = wait_complete(pair_b.url, month, end, parts, deadline)
        wait_skipped([single.url], 1, deadline)
        wait_skipped([pair_a.url, pair_b.url], 1, deadline)
    return {"expected": expected, "single": got_single, "a": got_a, "b": got_b,
            "published": asyncio.run(breach_events(settings, "onetwo"))}


def test_one_worker_and_two_workers_give_the_offline_ledger(ahead_runs: Ahead) -> None:
    run = ahead_runs.result(one_and_two_workers)
    expected, got_single = run["expected"], run["single"]
    assert comparable(got_single) == expected
    assert comparable(run["a"]) == expected  # each worker of the pair shows the whole
    assert comparable(run["b"]) == expected
    assert any(e["downtime_minutes"] > 0 for e in got_single["slos"])
    assert any(e["excused_minutes"] > 0 for e in got_single["slos"])
    # every closed, not excused outage episode was announced on the breaches topic
    published = run["published"]
    for entry in got_single["slos"]:
        for ep in entry["episodes"]:
            if not ep["excused"] and not ep["open"]:
                key = (entry["name"], ep["start"])
                assert {("start", *key), ("end", *key)} <= published, (key, published)


@ahead("test_a_worker_killed_mid_stream_and_restarted_counts_everything_once")
def killed_and_restarted(tansu: KafkaBroker,
                         tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The offline ledger's comparable entries, and the restarted worker's ledger."""
    messages, end = historic_messages(300, seed=12)
    config = write_config(tmp_path, tansu.bootstrap, "killed")
    settings = load_settings(config)
    month = Month.containing(end - 1, "UTC").label
    expected = comparable(offline_ledger(settings, messages, month))
    parts = partitions_with_data(settings, messages)
    half = len(messages) // 2
    produce(settings, messages[:half])
    log = tmp_path / "killed.log"
    first = Worker(config, log)
    try:
        # wait until the first half is being processed, then feed the rest slowly and
        # kill the worker in the middle of it (records applied after its last checkpoint)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if get_json(f"{first.url}/api/ledger?month={month}")["inputs"]["partitions"]:
                    break
            time.sleep(1.0)
        feeder = threading.Thread(target=produce_slowly, args=(settings, messages[half:]))
        feeder.start()
        time.sleep(4.0)
        first.kill()
        assert first.proc.returncode == -signal.SIGKILL
        feeder.join()
    finally:
        first.stop()
    with workers((config, log)) as (second,):
        got = wait_complete(second.url, month, end, parts, time.monotonic() + WAIT_S)
    return expected, got


def test_a_worker_killed_mid_stream_and_restarted_counts_everything_once(
        ahead_runs: Ahead) -> None:
    expected, got = ahead_runs.result(killed_and_restarted)
    assert comparable(got) == expected


def test_live_equals_replay_of_the_bridge_capture(
        tansu: KafkaBroker, mosquitto: MqttBroker, tmp_path: Path) -> None:
    config = write_config(tmp_path, tansu.bootstrap, "livereplay", mosquitto.url)
    settings = load_settings(config)
    capture = tmp_path / "capture.jsonl"
    scenario = Scenario(
        devices=200, uplink_interval_s=10, gateways=6, downlink_share=0.2,
        probe_components=("api",), probe_interval_s=5, request_batch_s=5,
        outages=Outages(delivery=(Window(5, 25),), downlink=(Window(10, 20),),
                        probe=(Window(10, 25, "api"),), slow=(Window(20, 20, "api"),),
                        maintenance=None))

    async def run() -> tuple[dict[str, Any], int, str]:
        async with live_pipeline(settings, capture) as url:
            started = now_ms()
            await publish(scenario, settings.mqtt.url, 40.0, 1.0, asyncio.Event(), seed=5)
            end = now_ms()
            month = Month.containing(started, "UTC").label
            parts = max(1, await asyncio.to_thread(_count_partitions, url, month))
            ledger = await asyncio.to_thread(
                wait_complete, url, month, end, parts, time.monotonic() + WAIT_S)
        return ledger, end, month

    live_ledger, _, month = asyncio.run(run())
    offline = replayed(config, capture, month)
    assert comparable(live_ledger) == comparable(offline)
    assert offline["inputs"]["messages"] > 1000
    assert any(e["downtime_minutes"] > 0 for e in offline["slos"])


def _count_partitions(url: str, month: str) -> int:
    """Partitions that reported so far, once traffic has stopped for a moment."""
    time.sleep(3.0)
    return int(get_json(f"{url}/api/ledger?month={month}")["inputs"]["partitions"])


@ahead("test_demo_shows_a_breach_and_its_recovery")
def demo_run(_: KafkaBroker, tmp_path: Path) -> tuple[int, dict[str, list[float]], str, int]:
    """``slastream demo`` on brokers of its own: its exit code, the values each
    ``slastream_slo_breach`` series went through, its log, and its port."""
    port = free_port()
    log = tmp_path / "demo.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "slastream", "demo", "--duration", "60", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    history: dict[str, list[float]] = {}
    try:
        while proc.poll() is None:
            time.sleep(0.5)
            with contextlib.suppress(OSError):
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                              timeout=5).read().decode()
                for line in text.splitlines():
                    if line.startswith("slastream_slo_breach{"):
                        labels, value = line.rsplit(" ", 1)
                        seq = history.setdefault(labels, [])
                        if not seq or seq[-1] != float(value):
                            seq.append(float(value))
        returncode = proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return returncode, history, log.read_text(), port


def test_demo_shows_a_breach_and_its_recovery(ahead_runs: Ahead) -> None:
    returncode, history, log, port = ahead_runs.result(demo_run)
    assert returncode == 0, log
    went_through = [labels for labels, seq in history.items()
                    if any(a == 1.0 and b == 0.0 for a, b in itertools.pairwise(seq))]
    assert went_through, history
    assert f"http://127.0.0.1:{port}/metrics" in log
