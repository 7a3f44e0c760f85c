"""A tenant's own ledger, status page and report: ``/api/ledger?tenant=``,
``/tenant/{id}`` and ``slastream report --tenant`` (docs/interfaces.md#tenants)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from slastream.config import parse_settings
from slastream.errors import SlastreamError
from slastream.export.http import serve
from slastream.export.metrics import build_registry
from slastream.replay import replay
from slastream.report.command import main as report_main
from tests.acceptance.scenarios import M
from tests.capture_builder import Capture, utc

CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "slos": [
        {"name": "delivery", "sli": "delivery", "objective": 0.99, "scope_by": "tenant",
         "downtime": {"bad_below": 0.75, "window_s": 60, "min_events": 1},
         "coverage": {"min_ratio": 0}},
        {"name": "api", "sli": "probe", "component": "api", "objective": 0.99,
         "coverage": {"min_ratio": 0}}],
    "contracts": [{"name": "lns", "slos": ["delivery", "api"], "tenants": "all",
                   "credit": {"kind": "tiers", "tiers": [{"over_minutes": 5, "credit": 0.1}]},
                   "overrides": {"globex": {"timezone": "Europe/Berlin"}}}],
}


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """acme delivers everything; globex loses its uplinks for ten minutes."""
    cap = Capture()
    start = utc(2026, 10, 1, 1)
    for m in range(30):
        for tenant, devaddr in (("acme", 0x26000001), ("globex", 0x26000002)):
            cap.gw_up(start + m * M, "gw-1", devaddr, m)
            if tenant == "acme" or not 10 <= m < 20:
                cap.app_up(start + m * M + M / 60, devaddr, m, tenant=tenant)
        cap.probe(start + m * M, "api", ok=True)
    return cap.write(tmp_path_factory.mktemp("tv") / "tenants.jsonl")


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        body = await r.text()
        return r.status, json.loads(body) if r.content_type == "application/json" else body


async def test_the_ledger_and_status_page_of_one_tenant(capture: Path) -> None:
    settings = parse_settings(CONFIG)
    engine = replay(settings, str(capture))
    async with await serve(engine, build_registry(engine), "127.0.0.1", 0) as srv:
        status, whole = await _get(f"{srv.url}/api/ledger")
        assert status == 200
        assert {c["name"] for c in whole["contracts"]} == {"lns@acme", "lns@globex"}
        status, mine = await _get(f"{srv.url}/api/ledger?tenant=globex")
        assert status == 200
        assert [(e["name"], e["scope"]) for e in mine["slos"]] == [("delivery", "globex"),
                                                                    ("api", "api")]
        (contract,) = mine["contracts"]
        assert (contract["tenant"], contract["credit"], contract["timezone"]) == (
            "globex", 0.1, "Europe/Berlin")
        status, page = await _get(f"{srv.url}/tenant/globex")
        assert status == 200 and "lns@globex" in page and "lns@acme" not in page
        # its links stay within the tenant's pages and data
        assert 'href="/tenant/globex/slo/delivery?month=' in page
        assert 'href="/slo/' not in page and "/api/ledger?tenant=globex&amp;month=" in page
        status, slo_page = await _get(f"{srv.url}/tenant/globex/slo/delivery")
        assert status == 200 and "globex" in slo_page and "acme" not in slo_page
        status, api = await _get(f"{srv.url}/api/status?tenant=globex")
        assert status == 200 and "acme" not in json.dumps(api)
        status, error = await _get(f"{srv.url}/api/ledger?tenant=nobody")
        assert status == 404 and "nobody" in error["error"]
        status, _ = await _get(f"{srv.url}/api/gateways")
        assert status == 404  # diagnostics are off in this config


async def test_the_gateways_of_one_tenant(capture: Path) -> None:
    settings = parse_settings({**CONFIG, "tenants": {"gateway_diagnostics": True}})
    engine = replay(settings, str(capture))
    async with await serve(engine, build_registry(engine), "127.0.0.1", 0) as srv:
        status, got = await _get(f"{srv.url}/api/gateways?tenant=globex&month=2026-10&top=3")
        assert status == 200
        assert got == {"month": "2026-10", "slos": [{
            "slo": "delivery", "scope": "globex", "heard": 30, "delivered": 20, "lost": 10,
            "gateways": 1, "top": [{"gateway": "gw-1", "heard": 30, "delivered": 20,
                                    "lost": 10, "loss_share": 1.0}]}]}
        status, error = await _get(f"{srv.url}/api/gateways?top=zero")
        assert status == 400 and "top" in error["error"]


def test_report_of_one_tenant(capture: Path, tmp_path: Path) -> None:
    settings = parse_settings(CONFIG)
    out = tmp_path / "acme.json"
    assert report_main(settings, "2026-10", str(capture), None, "json", str(out), "acme") == 0
    text = out.read_text()
    assert "lns@acme" in text and "lns@globex" not in text
    with pytest.raises(SlastreamError, match="nobody"):
        report_main(settings, "2026-10", str(capture), None, "json", str(out), "nobody")


def test_metrics_label_at_most_the_configured_tenants(capture: Path) -> None:
    from prometheus_client.exposition import generate_latest

    settings = parse_settings({**CONFIG, "tenants": {"known": [{"id": "globex"}],
                                                     "metrics_limit": 1}})
    engine = replay(settings, str(capture))
    text = generate_latest(build_registry(engine)).decode()
    assert 'slastream_sli_events_total{outcome="good",scope="globex",slo="delivery"}' in text
    # acme is past the limit: its events are in the overflow scope, its gauges left out
    assert 'scope="acme"' not in text and 'contract="lns@acme"' not in text
    assert ('slastream_sli_events_total{outcome="good",scope="overflow",slo="delivery"} 30.0'
            in text)
    assert 'slastream_tenants{state="overflow"} 1.0' in text
    assert ('slastream_tenant_contract_credit_ratio{contract="lns",period="month",'
            'tenant="globex"} 0.1') in text
