"""Per-tenant delivery: 200 tenants, 20,000 devices, rejoins, one tenant losing 30 % of its
deliveries for an hour (tests/acceptance/tenants.py says what the capture holds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.model.ledger import ledger_json
from slastream.model.time import Month
from slastream.replay import replay
from slastream.slo.gateways import gateway_report
from slastream.slo.tenants import for_tenant
from tests.acceptance import tenants


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return tenants.build(tmp_path_factory.mktemp("tenants"))


SETTINGS = parse_settings(tenants.CONFIG, "tenants.yaml")


@pytest.fixture(scope="module")
def engine(built: tuple[Path, dict[str, Any]]) -> Engine:
    return replay(SETTINGS, str(built[0]))


@pytest.fixture(scope="module")
def ledger(engine: Engine) -> dict[str, Any]:
    return ledger_json(engine.ledger("2026-10"))


def test_each_tenant_counts_its_own_uplinks(built: tuple[Path, dict[str, Any]],
                                           ledger: dict[str, Any]) -> None:
    _, expected = built
    got = {e["scope"]: (e["events"]["good"], e["events"]["total"]) for e in ledger["slos"]}
    assert got.pop("unattributed") == (0, expected["unattributed"])
    assert got == expected["events"]
    assert len(got) == tenants.TENANTS


def test_only_the_broken_tenant_has_downtime(built: tuple[Path, dict[str, Any]],
                                            ledger: dict[str, Any]) -> None:
    _, expected = built
    down = {e["scope"]: e["downtime_minutes"] for e in ledger["slos"]
            if e["scope"] != "unattributed" and e["downtime_minutes"]}
    minutes = tenants.downtime_minutes(expected["broken_minutes"])
    assert 50 <= minutes <= 60  # the construction: one hour at 70 %, judged over 5 minutes
    assert down == {tenants.tenant_id(tenants.BROKEN): minutes}


def test_only_the_broken_tenant_is_charged(ledger: dict[str, Any]) -> None:
    contracts = {c["tenant"]: c for c in ledger["contracts"]}
    assert len(contracts) == tenants.TENANTS  # unattributed is nobody's contract
    broken = contracts.pop(tenants.tenant_id(tenants.BROKEN))
    assert broken["name"] == f"lns@{tenants.tenant_id(tenants.BROKEN)}"
    assert (broken["met"], broken["credit"], broken["credit_amount"]) == (False, 0.15, 15.0)
    assert {(c["met"], c["credit"], c["credit_amount"]) for c in contracts.values()} == {
        (True, 0.0, 0.0)}
    assert contracts["tenant-007"]["monthly_fee"] == 2500.0


def test_a_tenant_sees_its_own_ledger(engine: Engine) -> None:
    view = ledger_json(for_tenant(SETTINGS, engine.ledger("2026-10"), "tenant-042"))
    assert [(e["scope"], e["events"]["total"]) for e in view["slos"]] == [("tenant-042", 1000)]
    assert [c["name"] for c in view["contracts"]] == ["lns@tenant-042"]


def test_the_gateways_of_the_broken_tenant_share_its_losses(
        built: tuple[Path, dict[str, Any]], engine: Engine) -> None:
    _, expected = built
    broken = tenants.tenant_id(tenants.BROKEN)
    good, total = expected["events"][broken]
    report = gateway_report(SETTINGS, engine.store, Month(2026, 10, "UTC"), broken, 5)
    (entry,) = report["slos"]
    assert (entry["heard"], entry["lost"], entry["gateways"]) == (total, total - good, 50)
    assert len(entry["top"]) == 5
    assert sum(r["lost"] for r in entry["top"]) <= entry["lost"]
    healthy = gateway_report(SETTINGS, engine.store, Month(2026, 10, "UTC"), "tenant-000", 5)
    assert healthy["slos"][0]["lost"] == 0
