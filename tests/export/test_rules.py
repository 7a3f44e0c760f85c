"""`slastream rules`: golden files, promtool check/test with the real promtool, CLI behaviour."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from slastream.cli import main as cli
from slastream.config import load_settings
from slastream.export.rules import render, rule_groups

from .promtools import REPO, binary, run

HERE = Path(__file__).resolve().parent
GOLDEN = REPO / "tests" / "golden" / "rules"
CONFIGS = {
    "fixture": HERE / "fixture.yaml",
    **{p.stem: p for p in sorted((REPO / "examples" / "contracts").glob("*.yaml"))},
}
UPDATE = os.environ.get("SLASTREAM_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_rules_match_golden_file(name: str) -> None:
    """Generated rules are reviewed as files: a change to a rule shows up in the diff.

    Regenerate with ``SLASTREAM_UPDATE_GOLDEN=1 pytest tests/export/test_rules.py``.
    """
    text = render(load_settings(CONFIGS[name]))
    golden = GOLDEN / f"{name}.yaml"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; generate it with SLASTREAM_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_every_shipped_contract_has_a_golden_file() -> None:
    for name in ("loriot", "mclimate", "evrythng", "cumulocity"):
        assert name in CONFIGS, f"examples/contracts/{name}.yaml is missing"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_promtool_accepts_generated_rules(name: str, tmp_path: Path) -> None:
    promtool = binary("promtool")
    path = tmp_path / f"{name}.rules.yaml"
    path.write_text(render(load_settings(CONFIGS[name])), encoding="utf-8")
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests(tmp_path: Path) -> None:
    """Fast burn pages, slow burn tickets, a blip fires nothing, no data fires, recovery
    resolves: promtool evaluates the generated rules over synthetic series."""
    promtool = binary("promtool")
    source = HERE / "promtool"
    (tmp_path / "rules.yaml").write_text(render(load_settings(source / "config.yaml")))
    shutil.copy(source / "alerts_test.yaml", tmp_path)
    result = run(promtool, "test", "rules", "alerts_test.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_slo_gets_sloth_recordings_and_its_alerts() -> None:
    settings = load_settings(CONFIGS["loriot"])
    groups = rule_groups(settings)
    records = {(r["labels"].get("sloth_slo"), r["record"])
               for g in groups for r in g["rules"] if "record" in r}
    for slo in settings.slos:
        for name in ("slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate30m",
                     "slo:sli_error:ratio_rate1h", "slo:sli_error:ratio_rate2h",
                     "slo:sli_error:ratio_rate6h", "slo:sli_error:ratio_rate1d",
                     "slo:sli_error:ratio_rate3d", "slo:sli_error:ratio_rate30d",
                     "slo:objective:ratio", "slo:error_budget:ratio",
                     "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio",
                     "slo:period_error_budget_remaining:ratio", "sloth_slo_info"):
            assert (slo.name, name) in records, (slo.name, name)
    alerts = [r for g in groups for r in g["rules"] if "alert" in r]
    burn = [a for a in alerts if a["alert"] == "SLOErrorBudgetBurn"
            and a["labels"]["slo"] == "rx2-reach"]
    assert [(a["labels"]["severity"], a["labels"]["tier"]) for a in burn] == [
        ("page", "1"), ("page", "2"), ("ticket", "3"), ("ticket", "4")]
    assert all(set(a["annotations"]) == {"summary", "description", "runbook_url"}
               for a in alerts)


def test_response_time_slo_without_objective_alerts_on_its_mean() -> None:
    groups = rule_groups(load_settings(CONFIGS["evrythng"]))
    rules = [r for g in groups for r in g["rules"] if r.get("labels", {}).get("slo")
             == "response-time"]
    assert {r.get("alert") for r in rules} == {"SLOOutage", "SLOResponseTimeHigh", "SLONoData"}
    mean = next(r for r in rules if r.get("alert") == "SLOResponseTimeHigh")
    assert "[1d]" in mean["expr"] and mean["expr"].endswith("> 0.5")  # 500 ms over 24 h


def test_cli_prints_rules_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["rules", "-c", str(CONFIGS["fixture"])]) == 0
    out = capsys.readouterr().out
    assert [g["name"] for g in yaml.safe_load(out)["groups"]] == [
        "slastream-slo-fixture-sla-delivery", "slastream-slo-fixture-delivery-region",
        "slastream-slo-fixture-sla-rx2", "slastream-slo-fixture-sla-api-probe",
        "slastream-slo-fixture-api-response", "slastream-contracts", "slastream-pipeline",
    ]


def test_cli_reports_a_bad_alerting_block_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "slos:\n"
        "  - {name: api, sli: probe, component: api, objective: 0.999,\n"
        "     alerting: {page: [{long: 1h, short: 5minutes, factor: 14.4}], pager: x}}\n")
    assert cli(["rules", "-c", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{config}: slos[0].alerting.pager: unknown key",
        f"{config}: slos[0].alerting.page[0].short: must be a duration like 5m, 1h or 30d, "
        "got '5minutes'",
    ]
