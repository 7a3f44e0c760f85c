"""The worker's HTTP endpoints, served for real on a free loopback port."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from slastream.export.http import HttpServer, serve
from slastream.export.metrics import build_registry

from .fakesource import FakeSource


@pytest.fixture
async def server() -> AsyncIterator[tuple[HttpServer, FakeSource]]:
    source = FakeSource()
    async with await serve(source, build_registry(source), "127.0.0.1", 0) as srv:
        yield srv, source


async def get(url: str, **headers: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


async def test_metrics_in_both_exposition_formats(server: tuple[HttpServer, FakeSource]) -> None:
    srv, _ = server
    status, ctype, body = await get(f"{srv.url}/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(body)}
    assert {"slastream_slo_breach", "slastream_sli_events",
            "slastream_slo_availability_ratio"} <= names
    # What Prometheus asks for: OpenMetrics, which ends with # EOF.
    status, ctype, body = await get(
        f"{srv.url}/metrics",
        Accept="application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
    assert status == 200 and ctype.startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")


async def test_healthz(server: tuple[HttpServer, FakeSource]) -> None:
    srv, _ = server
    assert await get(f"{srv.url}/healthz") == (200, "application/json", '{"status":"ok"}')


async def test_ledger_for_a_month(server: tuple[HttpServer, FakeSource]) -> None:
    srv, source = server
    async with aiohttp.ClientSession() as session, \
            session.get(f"{srv.url}/api/ledger?month=2026-10") as r:
        assert r.status == 200
        ledger = await r.json()
    assert source.months[-1] == "2026-10"
    assert ledger["contracts"][0]["credit"] == 0.15


@pytest.mark.parametrize("month,error", [
    ("2026-13", "month must be YYYY-MM, got '2026-13'"),
    ("oct", "month must be YYYY-MM, got 'oct'"),
    ("1999-01", "no data retained for 1999-01"),  # the source refuses it
])
async def test_bad_month_is_a_400_with_one_line_json(
        server: tuple[HttpServer, FakeSource], month: str, error: str) -> None:
    srv, _ = server
    async with aiohttp.ClientSession() as session, \
            session.get(f"{srv.url}/api/ledger", params={"month": month}) as r:
        assert r.status == 400
        body = await r.text()
    assert "\n" not in body
    assert json.loads(body) == {"error": error}


async def test_status_page_shows_contracts_slos_breaches_and_episodes(
        server: tuple[HttpServer, FakeSource]) -> None:
    srv, source = server
    source.breach = True
    status, ctype, html = await get(f"{srv.url}/")
    assert status == 200 and ctype.startswith("text/html")
    assert "slastream — 2026-10" in html
    assert "<td>fixture-sla</td>" in html and "15.0 %" in html  # contract and its credit
    assert "99.973 %" in html and "12 min" in html  # api availability, downtime
    assert "-35.0 %" in html  # delivery's overspent budget
    assert "420 ms" in html  # response time SLI
    assert '<li class="bad">api-probe (api)</li>' in html  # open outage
    assert "2026-10-03T10:00:00Z" in html  # the episode
    assert "probe &lt;b&gt;failed&lt;/b&gt;" in html  # operator text is escaped
    assert "http://" not in html and "https://" not in html  # no external assets


async def test_port_zero_binds_a_free_port_and_close_releases_it() -> None:
    source = FakeSource()
    srv = await serve(source, build_registry(source), "127.0.0.1", 0)
    assert srv.port > 0
    await srv.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"{srv.url}/healthz")


def test_status_page_shows_insufficient_data_instead_of_a_tick() -> None:
    from slastream.export.status import render_status

    from .test_metrics import ThinSource

    html = render_status(ThinSource().ledger(), {})
    assert html.count('<td class="warn">insufficient data (evidence 25.0 %)</td>') == 2
    row = next(line for line in html.splitlines() if "<td>delivery</td>" in line)
    assert 'class="ok"' not in row
    assert "<td>fixture-sla</td>" in html and "15.0 %" not in html  # no credit shown


async def test_status_api_from_a_source_without_slices(
        server: tuple[HttpServer, FakeSource]) -> None:
    srv, source = server
    source.breach = True
    async with aiohttp.ClientSession() as session, \
            session.get(f"{srv.url}/api/status") as r:
        assert r.status == 200
        doc = await r.json()
    assert (doc["month"], doc["current"], doc["state"]) == ("2026-10", True, "outage")
    probe = doc["slos"][0]
    assert probe["state"] == "outage" and len(probe["days"]) == 90
    # the source gives no other month: the days before October show no data
    assert probe["days"][0] == {"date": "2026-07-15", "kind": "no_data", "availability": None,
                                "downtime_minutes": 0.0, "excused_minutes": 0.0,
                                "no_data_minutes": None}
    assert doc["incidents"][0]["reason"] == "probe <b>failed</b>"
