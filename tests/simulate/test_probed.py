"""The demo's probing parts: the time-lapse clock, and the scripted local service checked by
the real prober (its outage window becomes the same minutes of downtime in the ledger)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson

from slastream.model.probes import HttpCheck, MqttCheck, ProberSettings
from slastream.model.time import MINUTE_MS
from slastream.probe.run import run_prober
from slastream.probe.sinks import CaptureSink
from slastream.simulate.lapse import LapseClock
from slastream.simulate.probed import ROUNDTRIP_TOPIC, ScriptedService
from slastream.simulate.scenario import Window
from tests.probe.clock import VirtualClock
from tests.probe.replaying import probe_config, replay_ledger, slo_entry

T0 = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)


def test_the_lapse_starts_in_the_past_runs_faster_and_then_is_the_wall_clock() -> None:
    clock = LapseClock(180, 4.0)
    assert clock.start_ms % MINUTE_MS == 0
    assert clock.wall0_ms - 240_000 < clock.start_ms <= clock.wall0_ms - 180_000
    assert clock.at(0) == clock.start_ms
    assert clock.at(10_000) == clock.start_ms + 40_000
    catch_up = (clock.wall0_ms - clock.start_ms) / 3
    assert clock.at(catch_up + 5_000) == clock.wall0_ms + catch_up + 5_000
    for elapsed in (0.0, 1_000.0, catch_up, catch_up + 1.0, 600_000.0):
        assert abs(clock.wall_ms(clock.at(elapsed)) - (clock.wall0_ms + elapsed)) < 1e-6


async def test_the_service_fails_in_its_windows_only() -> None:
    now = [T0]
    service = ScriptedService(("api", "dashboard"), (Window(60, 60, "api"),),
                              lambda: now[0], T0)
    statuses = []
    async with service, aiohttp.ClientSession() as session:
        for offset_s, component in ((30, "api"), (60, "api"), (119, "api"),
                                    (120, "api"), (90, "dashboard"), (90, "other")):
            now[0] = T0 + offset_s * 1000
            async with session.get(service.url(component)) as resp:
                statuses.append(resp.status)
    assert statuses == [200, 503, 503, 200, 200, 404]
    specs = service.probes(5.0, "mqtt://127.0.0.1:1883")
    assert [(s.name, s.component, s.kind) for s in specs] == [
        ("api-http", "api", "http"), ("dashboard-http", "dashboard", "http"),
        ("mqtt-roundtrip", "mqtt", "mqtt")]
    assert isinstance(specs[0].check, HttpCheck) and specs[0].check.conditions
    assert isinstance(specs[2].check, MqttCheck) and specs[2].check.topic == ROUNDTRIP_TOPIC


async def test_a_seven_minute_window_is_seven_minutes_of_downtime(tmp_path: Path) -> None:
    clock = VirtualClock(T0)
    capture = tmp_path / "probes.jsonl"
    stop = asyncio.Event()
    async with ScriptedService(("api",), (Window(600, 420, "api"),), clock.now_ms,
                               T0) as service:
        task = asyncio.create_task(run_prober(
            service.probes(20.0), ProberSettings(location="lab", http_port=None),
            CaptureSink(str(capture), clock.now_ms), stop, clock=clock,
            rng=random.Random(3)))
        await clock.advance(T0 + 30 * MINUTE_MS, tasks=1)
        stop.set()
        await task
    payloads = [orjson.loads(line)["payload"] for line in capture.read_bytes().splitlines()]
    assert {p["location"] for p in payloads} == {"lab"}
    slo = slo_entry(replay_ledger(probe_config("api"), capture, tmp_path), "api-availability")
    assert slo["downtime_minutes"] == 7.0
    assert [(e["start"], e["end"]) for e in slo["episodes"]] == [
        ("2026-10-01T00:10:00Z", "2026-10-01T00:17:00Z")]
