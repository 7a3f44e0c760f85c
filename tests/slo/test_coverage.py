"""A month is never reported as met without evidence (docs/semantics.md#coverage).

Whole-month captures through the real replay: a feed whose every gateway message is
rejected, a network too sparse for LORIOT's rule, a per-minute rule on rare downlinks with
and without an evidence window, and a rule that counts missing data as downtime.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.config import load_settings, parse_settings
from slastream.errors import ConfigError
from slastream.model.ledger import ledger_json
from slastream.model.spec import Settings
from slastream.model.time import Month, format_rfc3339_s
from slastream.replay import replay
from slastream.slo.coverage import claim_deadline_ms
from tests.capture_builder import Capture, utc

ROOT = Path(__file__).resolve().parents[2]
LORIOT = ROOT / "examples" / "contracts" / "loriot.yaml"
OCTOBER = utc(2026, 10, 1)
MONTH_MIN = 44640
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def run(settings: Settings, cap: Capture, tmp: Path) -> dict[str, Any]:
    engine = replay(settings, str(cap.write(tmp / "capture.jsonl")))
    return ledger_json(engine.ledger("2026-10"))


def slo(ledger: dict[str, Any], name: str) -> dict[str, Any]:
    (entry,) = [e for e in ledger["slos"] if e["name"] == name]
    return entry


def loriot_with(tmp: Path, **slo_overrides: dict[str, Any]) -> Settings:
    """The LORIOT example with some SLOs' keys replaced."""
    doc = yaml.safe_load(LORIOT.read_text())
    for entry in doc["slos"]:
        entry.update(slo_overrides.get(entry["name"], {}))
    path = tmp / "loriot.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_settings(path)


def probes_every(cap: Capture, minutes: int) -> None:
    for m in range(0, MONTH_MIN, minutes):
        for component in ("api", "dashboard"):
            cap.probe(OCTOBER + m * M, component, ok=True)


def test_a_month_of_rejected_gateway_messages_is_not_met(tmp_path: Path) -> None:
    """Every gateway uplink of October is undecodable (5 devices, every 5 minutes); the
    application side is fine. Without
    coverage this month read availability 1.0, met true, sli_value null."""
    cap = Capture()
    for m in range(0, MONTH_MIN, 5):
        for i in range(5):
            t = OCTOBER + m * M + i * S
            cap.msg(t, "eu868/gateway/gw-a/event/up",
                    {"phyPayload": "!!notbase64", "rxInfo": {"gatewayId": "gw-a"}})
            cap.app_up(t + 300 * timedelta(milliseconds=1), 0x26000100 + i, m)
    probes_every(cap, 1)
    ledger = run(load_settings(LORIOT), cap, tmp_path)

    delivery = slo(ledger, "lorawan-delivery")
    assert delivery["sli_value"] is None and delivery["events"]["total"] == 0
    assert delivery["met"] is None and delivery["status"] == "insufficient_data"
    assert delivery["coverage"] == 0.0 and delivery["min_coverage"] == 0.9
    assert delivery["availability"] == 1.0  # no downtime seen, which proves nothing
    assert slo(ledger, "api-availability")["status"] == "met"
    (contract,) = ledger["contracts"]
    assert (contract["met"], contract["status"], contract["credit"]) == (
        None, "insufficient_data", None)
    assert contract["credit_basis"].startswith("not computed, too little evidence: "
                                               "lorawan-delivery (network) has evidence for 0.0%")
    assert contract["coverage"] == 0.0
    assert ledger["inputs"]["rejected"] == MONTH_MIN
    assert ledger["inputs"]["rejected_reasons"] == {
        "chirpstack_gateway: phyPayload is not valid base64": MONTH_MIN}


def sparse_network(cap: Capture) -> None:
    """25 devices, 3 uplinks every 5 minutes between them, all delivered, all month."""
    n = 0
    for m in range(0, MONTH_MIN, 5):
        for k in range(3):
            devaddr = 0x26000100 + n % 25
            t = OCTOBER + m * M + (20 * k) * S
            cap.gw_up(t, "gw-a", devaddr, n // 25)
            cap.app_up(t + 300 * timedelta(milliseconds=1), devaddr, n // 25)
            n += 1


def test_a_network_too_sparse_for_the_rule_is_not_met(tmp_path: Path) -> None:
    """LORIOT judges delivery over 5 minutes with at least 20 uplinks; 3 never get there."""
    cap = Capture()
    sparse_network(cap)
    ledger = run(load_settings(LORIOT), cap, tmp_path)
    delivery = slo(ledger, "lorawan-delivery")
    assert delivery["sli_value"] == 1.0  # every uplink delivered ...
    assert delivery["no_data_minutes"] == MONTH_MIN  # ... and no minute judged
    assert (delivery["met"], delivery["status"], delivery["coverage"]) == (
        None, "insufficient_data", 0.0)
    assert ledger["contracts"][0]["status"] == "insufficient_data"


def test_a_rule_that_fits_the_sparse_network_judges_it(tmp_path: Path) -> None:
    """The same network under a rule that can see it: 20 uplinks over an hour."""
    settings = loriot_with(tmp_path, **{"lorawan-delivery": {"downtime": {
        "bad_below": 0.75, "window_s": 3600, "min_events": 20}}})
    cap = Capture()
    sparse_network(cap)
    delivery = slo(run(settings, cap, tmp_path), "lorawan-delivery")
    # the trailing hour holds 3 uplinks per 5 minutes since the 1st: 18 at 00:29, 21 at 00:30
    assert delivery["coverage"] == round((MONTH_MIN - 30) / MONTH_MIN, 6)
    assert (delivery["met"], delivery["status"]) == (True, "met")


def rare_downlinks(cap: Capture, hours: int) -> None:
    """One Class-A downlink every 30 minutes, acknowledged, over the first hours of the
    month; uplinks every minute keep the feed alive."""
    for m in range(hours * 60):
        cap.gw_up(OCTOBER + m * M, "gw-a", 0x26000102, m)
        if m % 30 == 0:
            cap.gw_down(OCTOBER + m * M + 300 * timedelta(milliseconds=1), "gw-a", m, 0x26000102)
            cap.gw_ack(OCTOBER + m * M + 400 * timedelta(milliseconds=1), "gw-a", m,
                       ("OK", "IGNORED"))


def test_an_evidence_window_covers_a_per_minute_rule_on_rare_events(tmp_path: Path) -> None:
    """The RX2 rule judges a minute on one downlink; with one every 30 minutes that is a
    minute in 30. With ``coverage.window_s: 3600`` a minute whose last hour holds a downlink
    has evidence; ``min_events`` still decides what is judged for downtime."""
    cap = Capture()
    rare_downlinks(cap, 6)
    plain = slo(run(load_settings(LORIOT), cap, tmp_path), "rx2-reach")
    assert plain["events"] == {"good": 12, "total": 12}
    assert plain["status"] == "insufficient_data"
    assert plain["coverage"] == pytest.approx(12 / 360, abs=1e-3)

    settings = loriot_with(tmp_path, **{"rx2-reach": {"coverage": {"window_s": 3600}}})
    windowed = slo(run(settings, cap, tmp_path), "rx2-reach")
    assert (windowed["met"], windowed["status"], windowed["coverage"]) == (True, "met", 1.0)
    assert windowed["no_data_minutes"] == plain["no_data_minutes"]


NO_DATA_CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "slos": [{"name": "api", "sli": "probe", "component": "api", "objective": 0.99,
              "downtime": {"bad_below": 1.0, "no_data": "downtime"}}],
    "contracts": [{"name": "c", "slos": ["api"], "objective": 0.99,
                   "credit": {"kind": "tiers", "tiers": [{"over_minutes": 60,
                                                          "credit": 0.5}]}}],
}


def test_missing_data_is_not_downtime_when_the_feed_is_gone(tmp_path: Path) -> None:
    """Probes for the first day, then only one more on the 31st: counting the silent month
    as downtime would claim a 50 % credit from no evidence."""
    cap = Capture()
    for m in range(1440):
        cap.probe(OCTOBER + m * M, "api", ok=not 100 <= m < 110)
    cap.probe(OCTOBER + (MONTH_MIN - 1) * M, "api", ok=True)
    ledger = run(parse_settings(NO_DATA_CONFIG), cap, tmp_path)
    api = slo(ledger, "api")
    assert api["downtime_minutes"] == 10.0  # the ten failed minutes, nothing else
    assert (api["status"], api["coverage"]) == ("insufficient_data", round(1441 / MONTH_MIN, 6))
    (contract,) = ledger["contracts"]
    assert (contract["status"], contract["credit"]) == ("insufficient_data", None)


def test_with_enough_evidence_missing_data_is_downtime_as_the_rule_says(
        tmp_path: Path) -> None:
    cap = Capture()
    for m in range(MONTH_MIN):
        if not 100 <= m < 200:  # 100 silent minutes: 0.2 % of the month
            cap.probe(OCTOBER + m * M, "api", ok=True)
    ledger = run(parse_settings(NO_DATA_CONFIG), cap, tmp_path)
    api = slo(ledger, "api")
    assert api["downtime_minutes"] == 100.0 and api["status"] == "met"
    assert ledger["contracts"][0]["credit"] == 0.5


def test_a_miss_on_thin_evidence_stays_a_miss(tmp_path: Path) -> None:
    """More evidence could only add downtime: a missed SLO is not_met at any coverage, and
    its contract's credit is computed from what was seen."""
    config = {**NO_DATA_CONFIG, "slos": [{**NO_DATA_CONFIG["slos"][0], "downtime": {
        "bad_below": 1.0}}]}
    cap = Capture()
    for m in range(1440):  # one day: 500 failed minutes
        cap.probe(OCTOBER + m * M, "api", ok=m >= 500)
    ledger = run(parse_settings(config), cap, tmp_path)
    api = slo(ledger, "api")
    assert (api["met"], api["status"]) == (False, "not_met")
    assert api["coverage"] == 1.0  # the month so far ends with the input: one day
    (contract,) = ledger["contracts"]
    assert (contract["met"], contract["credit"]) == (False, 0.5)


def test_the_month_so_far_starts_at_the_first_of_the_month(tmp_path: Path) -> None:
    """A worker that saw only the month's last week cannot report the month as met."""
    cap = Capture()
    for m in range(MONTH_MIN - 7 * 1440, MONTH_MIN):
        cap.probe(OCTOBER + m * M, "api", ok=True)
    api = slo(run(parse_settings(NO_DATA_CONFIG), cap, tmp_path), "api")
    assert api["status"] == "insufficient_data"
    assert api["coverage"] == round(7 * 1440 / MONTH_MIN, 6)


def test_claim_deadline_counts_local_calendar_days() -> None:
    assert format_rfc3339_s(claim_deadline_ms(Month(2026, 9, "UTC"), 30) or 0) == (
        "2026-10-31T00:00:00Z")
    # October in Berlin ends at 23:00 UTC (CET); 30 local days later is still local midnight
    assert format_rfc3339_s(claim_deadline_ms(Month(2026, 10, "Europe/Berlin"), 30) or 0) == (
        "2026-11-30T23:00:00Z")
    assert claim_deadline_ms(Month(2026, 10, "UTC"), None) is None


def test_evrythng_contract_has_its_claim_deadline(tmp_path: Path) -> None:
    settings = load_settings(ROOT / "examples" / "contracts" / "evrythng.yaml")
    assert settings.contracts[0].credit.claim_within_days == 30
    cap = Capture()
    cap.probe(OCTOBER, "api", ok=True)
    (contract,) = run(settings, cap, tmp_path)["contracts"]
    assert contract["claim_deadline"] == "2026-12-01T00:00:00Z"


@pytest.mark.parametrize("slo_keys,credit_keys,problem", [
    ({"coverage": {"min_ratio": 1.5}}, {}, "slos[0].coverage.min_ratio: must be between"),
    ({"coverage": {"window_s": 30}}, {}, "slos[0].coverage.window_s: must be between"),
    ({"coverage": {"ratio": 0.5}}, {}, "slos[0].coverage.ratio: unknown key"),
    ({"coverage": "high"}, {}, "slos[0].coverage: must be a mapping"),
    ({}, {"claim_within_days": 0}, "contracts[0].credit.claim_within_days: must be between"),
    ({}, {"claim_within_days": 2.5}, "contracts[0].credit.claim_within_days: must be a whole"),
])
def test_the_checker_validates_coverage_and_claim_keys(
        slo_keys: dict[str, Any], credit_keys: dict[str, Any], problem: str) -> None:
    config = {**NO_DATA_CONFIG,
              "slos": [{**NO_DATA_CONFIG["slos"][0], **slo_keys}],
              "contracts": [{**NO_DATA_CONFIG["contracts"][0], "credit": {
                  **NO_DATA_CONFIG["contracts"][0]["credit"], **credit_keys}}]}
    with pytest.raises(ConfigError) as err:
        parse_settings(config, "x.yaml")
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_coverage_keys_reach_the_spec() -> None:
    config = {**NO_DATA_CONFIG, "slos": [{**NO_DATA_CONFIG["slos"][0],
                                          "coverage": {"min_ratio": 0.5, "window_s": 600}}]}
    (api,) = parse_settings(config).slos
    assert (api.coverage.min_ratio, api.coverage.window_s) == (0.5, 600)
    (default,) = parse_settings(NO_DATA_CONFIG).slos
    assert (default.coverage.min_ratio, default.coverage.window_s) == (0.9, None)


def test_coverage_and_claim_keys_survive_the_openslo_round_trip(tmp_path: Path) -> None:
    from slastream.openslo import export_main, import_main

    doc = yaml.safe_load(LORIOT.read_text())
    doc["slos"][0]["coverage"] = {"min_ratio": 0.5}
    doc["slos"][1]["coverage"] = {"window_s": 3600}
    doc["contracts"][0]["credit"]["claim_within_days"] = 30
    settings = parse_settings(doc, "x.yaml")
    exported = tmp_path / "openslo.yaml"
    exported.write_text(export_main(settings), encoding="utf-8")
    text, problems = import_main([str(exported)])
    assert problems == []
    assert parse_settings(yaml.safe_load(text), "x.yaml") == settings
