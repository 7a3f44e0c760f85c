"""Tenants live: ChirpStack traffic of twelve tenants through a real Mosquitto, a bridge and
two workers on Tansu. Each worker's ledger equals the replay of the bridge's capture, tenant
by tenant, and only the tenant losing 30 % of its deliveries is charged
(docs/semantics.md#tenants).

The bridge stamps LoRaWAN events with its own receive time, so the traffic is published in
real time: 30 seconds, each device an uplink every 3 seconds, some devices rejoining with a
new DevAddr halfway (their first uplink after the rejoin of the broken tenant lost, charged
by the join alone). The downtime rule judges single minutes so that the short run shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
import yaml

from slastream.config import load_settings
from slastream.embedded import Mosquitto
from slastream.model.time import Month, now_ms
from tests.brokers import KafkaBroker
from tests.capture_builder import Capture
from tests.integration.ahead import Ahead, ahead
from tests.integration.live import replayed
from tests.integration.test_live import ROOT, Worker, comparable, get_json, workers

pytestmark = pytest.mark.integration

TENANTS, DEVICES, BROKEN = 12, 10, 5
SECONDS, EVERY_S = 30, 3
WAIT_S = 150.0


def config(tmp: Path, kafka: str, mqtt: str) -> Path:
    data: dict[str, Any] = {
        "timezone": "UTC", "lateness_s": 5,
        "lorawan": {"devaddr_prefixes": ["26000000/7"]},
        "slos": [{"name": "delivery", "sli": "delivery", "objective": 0.99, "deadline_s": 5,
                  "scope_by": "tenant", "coverage": {"min_ratio": 0},
                  "downtime": {"bad_below": 0.75, "window_s": 60, "min_events": 5}}],
        "contracts": [{"name": "lns", "slos": ["delivery"], "tenants": "all",
                       "monthly_fee": 100,
                       "credit": {"kind": "tiers",
                                  "tiers": [{"over_minutes": 0, "credit": 0.1}]}}],
        "kafka": {"bootstrap": kafka, "topic_prefix": "tenants", "partitions": 4,
                  "app_id": "tenants"},
        "mqtt": {"url": mqtt, "client_id": "bridge-tenants"},
    }
    path = tmp / "tenants.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def traffic() -> list[tuple[float, str, bytes]]:
    """``(offset s, topic, payload)`` in publishing order."""
    cap = Capture()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for t in range(TENANTS):
        tenant, app = f"tenant-{t:02d}", f"app-{t:02d}"
        for j in range(DEVICES):
            d = t * DEVICES + j
            eui = f"70b3d57ed0{d:06x}"
            for k in range(SECONDS // EVERY_S):
                when = t0 + timedelta(seconds=k * EVERY_S + j * 0.25)
                session = 1 if j % 3 == 0 and k >= 5 else 0
                devaddr = 0x26000000 | (session << 16) | d
                fcnt = k - 5 if session else k
                if session and k == 5:
                    cap.app_join(when - timedelta(seconds=1), devaddr, eui, app, tenant)
                cap.gw_up(when, f"gw-{d % 4}", devaddr, fcnt)
                lost = t == BROKEN and (j + k) % 10 < 3
                if not lost:
                    cap.app_up(when + timedelta(milliseconds=300), devaddr, fcnt, eui, app,
                               tenant)
    cap.lines.sort(key=lambda x: x[0])
    out = []
    for when, line in cap.lines:
        msg = orjson.loads(line)
        out.append(((when - t0).total_seconds(), msg["topic"], orjson.dumps(msg["payload"])))
    return out


async def publish(url: str, messages: list[tuple[float, str, bytes]]) -> None:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    async with aiomqtt.Client(host, int(port), identifier="tenants-publisher") as client:
        start = time.monotonic()
        for offset, topic, payload in messages:
            delay = start + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await client.publish(topic, payload, qos=1)


def tenants_of(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(comparable(ledger), key=lambda e: e["scope"])


@ahead("test_two_workers_charge_each_tenant_as_the_replay_does")
def two_workers(tansu: KafkaBroker,
                tmp_path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The replay of the bridge's capture, and each worker's ledger once it equals that
    (or the last one seen). On a Mosquitto of its own: it runs along other live tests."""
    mosquitto = Mosquitto()
    asyncio.run(mosquitto.start())
    try:
        return _two_workers(tansu, mosquitto.url, tmp_path)
    finally:
        asyncio.run(mosquitto.stop())


def _two_workers(tansu: KafkaBroker, mqtt: str,
                 tmp_path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    path = config(tmp_path, tansu.bootstrap, mqtt)
    load_settings(path)  # the config is valid before anything starts
    capture = tmp_path / "capture.jsonl"
    env = {**os.environ, "SLASTREAM_KAFKA_PROFILE": "embedded", "PYTHONPATH": str(ROOT / "src")}
    log = tmp_path / "bridge.log"
    bridge = subprocess.Popen(
        [sys.executable, "-m", "slastream", "bridge", "-c", str(path), "--record", str(capture)],
        stdout=subprocess.DEVNULL, stderr=log.open("ab"), env=env)
    try:
        deadline = time.monotonic() + 60
        while "subscribed" not in log.read_text() and time.monotonic() < deadline:
            assert bridge.poll() is None, log.read_text()
            time.sleep(0.2)
        with workers((path, tmp_path / "a.log"), (path, tmp_path / "b.log")) as pair:
            month = Month.containing(now_ms(), "UTC").label
            asyncio.run(publish(mqtt, traffic()))
            time.sleep(2.0)  # the bridge has the last messages in Kafka and its capture
            bridge.send_signal(signal.SIGTERM)
            bridge.wait(30)
            offline = replayed(path, capture, month, env)
            got = [wait_equal(w, month, tenants_of(offline)) for w in pair]
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.wait(10)
    return offline, got


def test_two_workers_charge_each_tenant_as_the_replay_does(ahead_runs: Ahead) -> None:
    offline, got = ahead_runs.result(two_workers)
    expected = tenants_of(offline)
    assert [e["scope"] for e in expected] == [f"tenant-{t:02d}" for t in range(TENANTS)]
    totals = {e["scope"]: e["events"]["total"] for e in expected}
    assert set(totals.values()) == {DEVICES * (SECONDS // EVERY_S)}
    broken = f"tenant-{BROKEN:02d}"
    assert {e["scope"] for e in expected if e["downtime_minutes"]} == {broken}
    for ledger in got:
        assert tenants_of(ledger) == expected
        charged = {c["tenant"]: c["credit_amount"] for c in ledger["contracts"] if c["credit"]}
        assert charged == {broken: 10.0}


def wait_equal(worker: Worker, month: str, expected: list[dict[str, Any]]) -> dict[str, Any]:
    """The worker's ledger once its tenants' entries equal ``expected`` (or the last one)."""
    deadline = time.monotonic() + WAIT_S
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            seen = get_json(f"{worker.url}/api/ledger?month={month}")
            if tenants_of(seen) == expected:
                return seen
        time.sleep(2.0)
    return seen
