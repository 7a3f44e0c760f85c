"""End to end: slastream's HTTP endpoint → real Prometheus with the generated rules → real
Alertmanager → a webhook in this test.

The source behind the endpoint is the real engine (``slastream.engine.Engine``) fed canonical
``ProbeResult`` events: one simulated minute of probes every quarter second, so the
contract's minutes pass quickly while Prometheus scrapes and evaluates every second. The
SLO's ``alerting`` block shrinks the burn-rate windows to seconds (the mechanism users have
for their own windows), which keeps the test well under two minutes.

The second test loads every query of the shipped Grafana dashboards into the same kind of
Prometheus and checks that each one returns data.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from slastream.config import load_settings, parse_settings
from slastream.engine import Engine
from slastream.export.http import serve
from slastream.export.metrics import build_registry
from slastream.export.rules import render
from slastream.model.events import ProbeResult
from slastream.replay import replay
from slastream.sources.decoder import group
from tests.export.fakesource import FakeSource
from tests.export.grafana_queries import panel_queries, variable_queries
from tests.export.promtools import REPO, Service, alertmanager, prometheus
from tests.export.test_tenant_views import CONFIG as TENANT_CONFIG
from tests.export.test_tenant_views import write_capture

pytestmark = pytest.mark.integration

SLO_NAME = "api-availability"
CONFIG = {
    "lateness_s": 0,
    "slos": [{
        "name": SLO_NAME, "sli": "probe", "component": "api", "objective": 0.95,
        "downtime": {"bad_below": 1.0, "min_duration_s": 60},
        "alerting": {
            # 10 × the 5 % budget: pages while over half of the probes fail in both windows.
            "period": "1h", "page": [{"long": "12s", "short": "4s", "factor": 10}],
            "ticket": [], "no_data": False, "budget_exhausted": False,
        },
    }],
    "contracts": [{"name": "acme", "slos": [SLO_NAME]}],
}


class Probes:
    """Feeds the engine one simulated minute of probe results (6 checks) per step."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.failing = False
        self.minute = 0
        self.start_ms = (int(time.time()) // 60) * 60_000

    def step(self) -> None:
        t = self.start_ms + self.minute * 60_000
        ok = not self.failing
        self.engine.feed(group([ProbeResult(t + k * 10_000, "api", ok, 200 if ok else 503,
                                            40.0) for k in range(6)]))
        self.minute += 1
        self.engine.advance(t + 60_000)

    async def run(self) -> None:
        while True:
            self.step()
            await asyncio.sleep(0.25)


@contextlib.asynccontextmanager
async def webhook() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """An Alertmanager webhook receiver; yields its URL and the payloads received."""
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook", received
    finally:
        await runner.cleanup()


async def poll(predicate: Callable[[], Any], timeout_s: float, what: str,
               *services: Service) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.25)
    logs = "\n".join(f"--- {s.log_path.name}\n{s.log()}" for s in services)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}\n{logs}")


async def query(session: aiohttp.ClientSession, prom: Service, expr: str) -> list[Any]:
    async with session.get(f"{prom.url}/api/v1/query", params={"query": expr}) as r:
        data = await r.json()
    assert data["status"] == "success", (expr, data)
    result: list[Any] = data["data"]["result"]
    return result


def burn_alerts(received: list[dict[str, Any]], status: str) -> list[dict[str, Any]]:
    return [a for payload in received for a in payload["alerts"]
            if a["status"] == status and a["labels"].get("alertname") == "SLOErrorBudgetBurn"
            and a["labels"].get("slo") == SLO_NAME]


async def test_outage_pages_through_alertmanager_and_recovery_resolves(tmp_path: Path) -> None:
    settings = parse_settings(CONFIG, str(tmp_path / "acme.yaml"))
    rules = tmp_path / "rules.yaml"
    rules.write_text(render(settings))
    engine = Engine(settings)
    probes = Probes(engine)
    for _ in range(4):
        probes.step()  # some healthy history before Prometheus starts
    async with webhook() as (hook_url, received), \
            await serve(engine, build_registry(engine), "127.0.0.1", 0) as server:
        with contextlib.ExitStack() as stack:
            am = stack.enter_context(alertmanager(tmp_path, hook_url))
            prom = stack.enter_context(
                prometheus(tmp_path, [f"127.0.0.1:{server.port}"], [rules], am.url))
            feeder = asyncio.create_task(probes.run())
            try:
                async with aiohttp.ClientSession() as session:
                    ratio = f'slo:sli_error:ratio_rate4s{{slo="{SLO_NAME}"}}'

                    async def healthy() -> bool:
                        return [v["value"][1] for v in await query(session, prom, ratio)] == ["0"]

                    await poll(healthy, 30, "a healthy error ratio in Prometheus", prom)
                    assert burn_alerts(received, "firing") == []

                    probes.failing = True
                    firing = await poll(lambda: burn_alerts(received, "firing"), 45,
                                        "the page to reach the webhook", prom, am)
                    probes.failing = False
                    resolved = await poll(lambda: burn_alerts(received, "resolved"), 45,
                                          "the resolution to reach the webhook", prom, am)
            finally:
                feeder.cancel()
    labels = firing[0]["labels"]
    assert (labels["slo"], labels["scope"], labels["severity"], labels["tier"]) == (
        SLO_NAME, "api", "page", "1")
    assert labels["sloth_service"] == "acme"
    annotations = firing[0]["annotations"]
    assert annotations["summary"] == f"{SLO_NAME} (api) is burning its error budget 10× too fast"
    assert annotations["runbook_url"].endswith("#runbook-sloerrorbudgetburn")
    assert resolved[0]["labels"] == labels


async def test_every_dashboard_query_returns_data(tmp_path: Path) -> None:
    """Each panel query and variable of grafana/dashboards/*.json, against a Prometheus that
    scrapes a slastream endpoint (every metric populated) with the fixture's rules loaded."""
    source = FakeSource()
    rules = tmp_path / "rules.yaml"
    rules.write_text(render(load_settings(REPO / "tests" / "export" / "fixture.yaml")))
    # a second target: an engine over a capture of two tenants, one of them owed a credit,
    # for the tenant dashboard and the tenant variable
    tenant_config = {**TENANT_CONFIG, "contracts": [
        {**c, "monthly_fee": 1000} for c in TENANT_CONFIG["contracts"]]}
    tenants = replay(parse_settings(tenant_config),
                     str(write_capture(tmp_path / "tenants.jsonl")))
    queries = [(where, expr) for where, expr in panel_queries(rate_interval="10s")]
    queries += [(where, sel) for where, sel, _ in variable_queries()]
    async with await serve(source, build_registry(source), "127.0.0.1", 0) as server, \
            await serve(tenants, build_registry(tenants), "127.0.0.1", 0) as tenant_server:
        with prometheus(tmp_path, [f"127.0.0.1:{server.port}",
                                   f"127.0.0.1:{tenant_server.port}"], [rules]) as prom:
            async with aiohttp.ClientSession() as session:

                async def empty() -> list[str]:
                    return [f"{where}: {expr}" for where, expr in queries
                            if not await query(session, prom, expr)]

                missing: list[str] = []

                async def all_answer() -> bool:
                    missing[:] = await empty()
                    return not missing

                deadline = time.monotonic() + 40
                while not await all_answer() and time.monotonic() < deadline:
                    await asyncio.sleep(1)
    assert missing == [], "queries without data:\n" + "\n".join(missing)
