"""A real HTTP server scripted to fail for 7 minutes of (virtual) time gives 7 minutes of
downtime in the ledger of ``slastream replay`` on what the prober wrote."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from slastream.model.probes import HttpCheck, ProberSettings, ProbeSpec
from slastream.probe.conditions import parse_condition
from slastream.probe.run import run_prober
from slastream.probe.sinks import CaptureSink
from tests.probe.clock import VirtualClock
from tests.probe.replaying import probe_config, replay_ledger, slo_entry

START_MS = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
MIN_MS = 60_000
# 00:10 to 00:17: four minutes of 503, then three of 200 with {"status": "DOWN"}
OUTAGE_503 = (START_MS + 10 * MIN_MS, START_MS + 14 * MIN_MS)
OUTAGE_DOWN = (START_MS + 14 * MIN_MS, START_MS + 17 * MIN_MS)
END_MS = START_MS + 30 * MIN_MS


async def scripted_server(clock: VirtualClock) -> AsyncIterator[str]:
    async def health(request: web.Request) -> web.Response:
        now = clock.now_ms()
        if OUTAGE_503[0] <= now < OUTAGE_503[1]:
            return web.json_response({"status": "DOWN"}, status=503)
        if OUTAGE_DOWN[0] <= now < OUTAGE_DOWN[1]:
            return web.json_response({"status": "DOWN"})
        return web.json_response({"status": "UP", "checks": [{"db": "UP"}]})

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/health"
    finally:
        await runner.cleanup()


@pytest.fixture
async def clock_and_url() -> AsyncIterator[tuple[VirtualClock, str]]:
    clock = VirtualClock(START_MS)
    async for url in scripted_server(clock):
        yield clock, url


async def test_seven_minutes_of_failing_http_are_seven_minutes_of_downtime(
        clock_and_url: tuple[VirtualClock, str], tmp_path: Path) -> None:
    clock, url = clock_and_url
    spec = ProbeSpec(
        name="api-health", component="api", kind="http",
        check=HttpCheck(url=url, conditions=(parse_condition("[BODY].status == UP"),
                                             parse_condition("[BODY].checks.0.db == UP"))),
        interval_s=20, timeout_s=5)
    capture = tmp_path / "probes.jsonl"
    sink = CaptureSink(str(capture), clock.now_ms)
    stop = asyncio.Event()
    settings = ProberSettings(location="lab", http_port=None)
    task = asyncio.create_task(run_prober((spec,), settings, sink, stop, clock=clock,
                                          rng=random.Random(7)))
    await clock.advance(END_MS, tasks=1)
    stop.set()
    await task

    lines = [orjson.loads(line) for line in capture.read_bytes().splitlines()]
    payloads = [line["payload"] for line in lines]
    assert {line["topic"] for line in lines} == {"slastream/probe/api"}
    failed = [p for p in payloads if not p["ok"]]
    assert {p["status"] for p in failed} == {503, 200}
    assert any(p["reason"] == "status 503, expected 200" for p in failed)
    assert any(p["reason"] == 'condition [BODY].status == UP failed: got "DOWN"' for p in failed)
    assert all(p["location"] == "lab" for p in payloads)

    ledger = replay_ledger(probe_config("api"), capture, tmp_path)
    slo = slo_entry(ledger, "api-availability")
    assert slo["downtime_minutes"] == 7.0
    assert [(e["start"], e["end"]) for e in slo["episodes"]] == [
        ("2026-10-01T00:10:00Z", "2026-10-01T00:17:00Z")]
