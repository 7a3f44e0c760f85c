"""The prober as a whole: its /metrics and /healthz, and ``main`` on a config file."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web
from prometheus_client.registry import CollectorRegistry

from slastream.model.probes import HttpCheck, ProberSettings, ProbeSpec
from slastream.probe.http import StatusServer
from slastream.probe.run import run_prober
from slastream.probe.sinks import CaptureSink
from tests.probe.replaying import SRC


async def test_metrics_and_health_of_a_running_prober(tmp_path: Path) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="fine")

    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    specs = (
        ProbeSpec(name="good", component="api", kind="http",
                  check=HttpCheck(f"http://127.0.0.1:{port}/"), interval_s=0.05, timeout_s=1),
        ProbeSpec(name="bad", component="api", kind="http",
                  check=HttpCheck(f"http://127.0.0.1:{port}/missing"), interval_s=0.05,
                  timeout_s=1, location="elsewhere"),
    )
    registry = CollectorRegistry()
    sink = CaptureSink(str(tmp_path / "c.jsonl"), lambda: 0)
    stop = asyncio.Event()
    ready: asyncio.Future[StatusServer | None] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_prober(
        specs, ProberSettings(location="lab", http_port=0), sink, stop, registry=registry,
        ready=ready))
    server = await ready
    assert server is not None
    while (registry.get_sample_value("slastream_probe_runs_total", {
            "probe": "bad", "component": "api", "location": "elsewhere"}) or 0) < 3:
        await asyncio.sleep(0.01)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/metrics") as resp:
            text = await resp.text()
        async with http.get(f"{server.url}/healthz") as resp:
            health = (resp.status, await resp.json())
    stop.set()
    await task
    assert ('slastream_probe_failures_total{component="api",location="elsewhere",'
            'probe="bad",reason="status"}') in text
    assert 'slastream_probe_last_success_timestamp_seconds{component="api",location="lab",' \
           'probe="good"}' in text
    assert "slastream_probe_sink_dropped_total 0.0" in text
    assert health[0] == 200 and health[1]["probes"] == 2 and health[1]["location"] == "lab"
    await runner.cleanup()


SLO = "slos: [{name: api, sli: probe, component: api, objective: 0.999}]\n"


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "slastream", *args], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(SRC)}, check=False, timeout=60)


def test_the_command_reports_every_config_problem_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(SLO + "probe: {concurrency: 0}\nprobes:\n  - {name: a, component: api}\n")
    done = _cli("probe", "-c", str(config))
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        f"{config}: probes[0]: needs exactly one of http, tcp, mqtt, got 0",
        f"{config}: probe.concurrency: must be a whole number from 1 to 10000, got 0",
    ]
    assert _cli("probe", "-c", str(tmp_path / "missing.yaml")).returncode == 2
    config.write_text(SLO)
    done = _cli("probe", "-c", str(config))
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        f"slastream probe: {config}: probes: no probes declared"]


def test_the_command_writes_a_capture_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "probes.yaml"
    capture = tmp_path / "out.jsonl"
    config.write_text(
        SLO +
        "probe: {location: lab, http_port: 0}\n"
        "probes:\n"
        "  - {name: closed, component: api, interval_s: 1, timeout_s: 1,\n"
        "     tcp: {host: 127.0.0.1, port: 9}}\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "slastream", "probe", "-c", str(config), "--capture",
         str(capture)],
        env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (capture.exists() and capture.read_bytes().count(b"\n") >= 2):
            assert time.monotonic() < deadline, "no probe results written"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()
    assert err.decode().startswith("probing 1 probes from lab into ")
    line = orjson.loads(capture.read_bytes().splitlines()[0])
    assert line["topic"] == "slastream/probe/api"
    assert line["payload"]["ok"] is False
    assert line["payload"]["reason"] == "connection refused"
    assert line["payload"]["status"] is None and line["payload"]["location"] == "lab"
