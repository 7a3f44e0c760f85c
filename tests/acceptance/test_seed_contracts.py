"""`slastream replay` on hand-built captures per seed contract (docs/interfaces.md#ledger-json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance import scenarios

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "examples" / "contracts"


def replay(config: str, capture: Path, month: str) -> dict[str, Any]:
    """Run the real command line, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "slastream", "replay", "-c", str(CONTRACTS / config),
         str(capture), "--month", month],
        capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    ledger: dict[str, Any] = json.loads(proc.stdout)
    return ledger


def by_name(ledger: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in ledger["slos"]}


def test_mclimate_thresholds_notice_and_cap(tmp_path: Path) -> None:
    capture, exp = scenarios.mclimate(tmp_path)
    ledger = replay("mclimate.yaml", capture, "2026-09")
    assert ledger["period"] == {"start": "2026-09-01T00:00:00Z", "end": "2026-10-01T00:00:00Z",
                                "timezone": "UTC", "minutes": 43200,
                                "as_of": "2026-10-01T00:00:00Z"}
    slos = by_name(ledger)
    for name, minutes in exp["downtime"].items():
        assert slos[name]["downtime_minutes"] == minutes, name
        assert slos[name]["excused_minutes"] == exp["excused"][name], name
        assert slos[name]["total_minutes"] == 43200
    home = slos["home-app-availability"]
    assert home["availability"] == pytest.approx((43200 - 60 - 50) / (43200 - 60), abs=1e-6)
    assert home["met"] is False  # 50 min > 0.1 % of the month
    assert slos["enterprise-availability"]["met"] is True
    assert slos["api-availability"]["episodes"][0]["reason"].endswith(
        "mnt-api not excused: notice 47.0 h < required 48 h")
    assert [e["minutes"] for e in home["episodes"]] == [60.0, 30.0, 20.0]
    assert [e["excused"] for e in home["episodes"]] == [True, False, False]
    (contract,) = ledger["contracts"]
    assert contract["credit"] == exp["credit"]
    assert contract["availability"] == home["availability"]
    assert ledger["inputs"]["rejected"] == exp["rejected"]
    assert ledger["inputs"]["ignored"] == 1


def test_loriot_lorawan_day(tmp_path: Path) -> None:
    capture, exp = scenarios.loriot(tmp_path)
    ledger = replay("loriot.yaml", capture, "2026-10")
    assert ledger["period"]["minutes"] == exp["minutes"] == 44640
    slos = by_name(ledger)
    for name, minutes in exp["downtime"].items():
        assert slos[name]["downtime_minutes"] == minutes, name
        assert slos[name]["excused_minutes"] == exp["excused"][name], name
    delivery = slos["lorawan-delivery"]
    assert delivery["scope"] == "network"
    assert delivery["sli_value"] == pytest.approx(exp["delivery_ratio"], abs=1e-6)
    assert delivery["events"] == {"good": 2805, "total": 3000}
    (ep,) = delivery["episodes"]
    assert (ep["start"], ep["end"]) == ("2026-10-01T01:04:00Z", "2026-10-01T01:15:00Z")
    rx2 = slos["rx2-reach"]
    assert rx2["events"] == {"good": exp["rx2_good"], "total": exp["rx2_total"]}
    assert rx2["episodes"][0]["start"] == "2026-10-01T01:40:00Z"
    assert ledger["inputs"]["rejected"] == exp["rejected"]
    assert ledger["inputs"]["lorawan"]["foreign_frames"] == 120
    (contract,) = ledger["contracts"]
    assert contract["credit"] == 0.0
    assert contract["availability"] == pytest.approx(1 - 11 / 44640, abs=1e-6)


def test_evrythng_worked_example(tmp_path: Path) -> None:
    capture, exp = replay_args = scenarios.evrythng(tmp_path)
    del replay_args
    ledger = replay("evrythng.yaml", capture, "2026-09")
    slos = by_name(ledger)
    assert slos["uptime"]["availability"] == pytest.approx(0.995, abs=1e-9)
    assert slos["uptime"]["downtime_minutes"] == 216.0
    rt = slos["response-time"]
    assert rt["sli_value"] == pytest.approx(1000.0)
    assert rt["met"] is False
    assert rt["blocks"] == {"size": 1000, "count": 7, "over_target": 7, "worst_mean_ms": 1000.0}
    (contract,) = ledger["contracts"]
    assert contract["credit"] == pytest.approx(exp["credit"], abs=1e-6)
    assert round(contract["credit"], 3) == 0.018  # the seed's "1.8 %"


def test_cumulocity_average_of_components(tmp_path: Path) -> None:
    capture, exp = scenarios.cumulocity(tmp_path)
    ledger = replay("cumulocity.yaml", capture, "2026-10")
    slos = by_name(ledger)
    for name, minutes in exp["downtime"].items():
        assert slos[name]["downtime_minutes"] == minutes
        assert slos[name]["excused_minutes"] == exp["excused"][name]
    (contract,) = ledger["contracts"]
    assert contract["availability"] == pytest.approx(exp["overall"], abs=2e-6)


def test_default_month_is_month_of_first_message(tmp_path: Path) -> None:
    capture, _ = scenarios.cumulocity(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "slastream", "replay", "-c", str(CONTRACTS / "cumulocity.yaml"),
         str(capture)], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(proc.stdout)["period"]["start"] == "2026-10-01T00:00:00Z"


def test_other_month_of_the_capture_is_empty(tmp_path: Path) -> None:
    capture, _ = scenarios.cumulocity(tmp_path)
    ledger = replay("cumulocity.yaml", capture, "2026-11")
    assert ledger["period"]["minutes"] == 43200
    assert all(e["downtime_minutes"] == 0 for e in ledger["slos"])


def test_months_follow_the_configured_time_zone(tmp_path: Path) -> None:
    """October 2026 in Berlin starts at 22:00 UTC the day before and has 25 hours on the
    25th (clocks go back), so 44,700 minutes."""
    capture, _ = scenarios.cumulocity(tmp_path)
    text = (CONTRACTS / "cumulocity.yaml").read_text().replace("timezone: UTC",
                                                               "timezone: Europe/Berlin")
    config = tmp_path / "berlin.yaml"
    config.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "slastream", "replay", "-c", str(config), str(capture),
         "--month", "2026-10"], capture_output=True, text=True, check=True, cwd=ROOT)
    ledger = json.loads(proc.stdout)
    assert ledger["period"]["start"] == "2026-09-30T22:00:00Z"
    assert ledger["period"]["minutes"] == 44700
    api = by_name(ledger)["api-services"]
    assert api["total_minutes"] == 44700
    assert api["availability"] == pytest.approx((44700 - 60) / 44700, abs=1e-6)
