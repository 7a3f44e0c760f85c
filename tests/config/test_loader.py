"""The loader: one pass, one checker, every problem of every section (alerting included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slastream.config import load_settings, parse_settings
from slastream.errors import ConfigError
from slastream.export.alerting import plan_all, plan_slo
from slastream.model.alerting import AlertPolicy

ROOT = Path(__file__).resolve().parents[2]
SLO = {"name": "api", "sli": "probe", "component": "api", "objective": 0.999}


def problems(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_settings(data, "t.yaml")
    return info.value.problems


def test_config_and_alerting_problems_are_reported_together_in_file_order() -> None:
    assert problems({
        "lateness_s": -1,
        "slos": [{**SLO, "deadline_s": 0, "alerting": {"page": "often"}},
                 {**SLO, "name": "b", "alerting": {"labels": {"slo": "x"}, "pager": 1}}],
        "contracts": [{"name": "c", "slos": ["nope"]}],
        "http": {"port": 70000},
    }) == [
        "t.yaml: lateness_s: must be between 0 and 86400, got -1",
        "t.yaml: slos[0].alerting.page: must be a list of {long, short, budget_percent | factor}"
        " pairs",
        "t.yaml: slos[0].deadline_s: must be between 0.1 and 3600, got 0",
        "t.yaml: slos[1].alerting.pager: unknown key",
        "t.yaml: slos[1].alerting.labels.slo: is set by slastream and cannot be overridden",
        "t.yaml: contracts[0].slos: unknown SLO 'nope'",
        "t.yaml: http.port: must be between 0 and 65535, got 70000",
    ]


def test_the_alerting_block_is_a_typed_value_with_its_service_resolved() -> None:
    settings = parse_settings({
        "slos": [SLO, {**SLO, "name": "own", "alerting": {"service": "ops"}}],
        "contracts": [{"name": "first", "slos": ["api"]}, {"name": "second", "slos": ["api"]}],
    }, "configs/acme.yaml")
    api, own = settings.slos
    assert isinstance(api.alerting, AlertPolicy)
    assert (api.alerting.service, own.alerting.service) == ("first", "ops")
    alone = parse_settings({"slos": [SLO]}, "configs/acme.yaml")
    assert alone.slos[0].alerting.service == "acme"


def test_plans_are_the_loaded_policies_bound_to_their_slo() -> None:
    settings = parse_settings({"slos": [SLO, {**SLO, "name": "b"}]}, "x.yaml")
    plans = plan_all(settings)
    assert [(p.slo, p.windows, p.service) for p in plans] == [
        (s, s.alerting.windows, s.alerting.service) for s in settings.slos]
    assert plan_slo(settings, 1) == (plans[1], [])


def test_a_broken_slo_is_not_also_blamed_for_its_default_burn_rates() -> None:
    # 90 % leaves a 10 % budget, under which the default 14.4× page could never fire; that is
    # reported for a valid SLO, but not on top of the SLO's own problem.
    valid = problems({"slos": [{**SLO, "objective": 0.9}]})
    assert valid == ["t.yaml: slos[0].alerting.page: factor 14.4 × error budget 0.1 is at least "
                     "1: the 1h alert could never fire"]
    broken = {"name": "api", "sli": "probe", "objective": 0.9, "alerting": {"period": "x"}}
    assert problems({"slos": [broken]}) == [
        "t.yaml: slos[0].component: is required for sli probe",
        "t.yaml: slos[0].alerting.period: must be a duration like 5m, 1h or 30d, got 'x'",
    ]


def test_keys_that_are_not_strings_are_problems_not_crashes() -> None:
    assert problems({"slos": [{**SLO, "alerting": {1: "x", "z": 2, "breach": {2: 1}}}]}) == [
        "t.yaml: slos[0].alerting.1: unknown key",
        "t.yaml: slos[0].alerting.z: unknown key",
        "t.yaml: slos[0].alerting.breach.2: unknown key",
    ]


@pytest.mark.parametrize("name", ["loriot", "mclimate", "evrythng", "cumulocity"])
def test_shipped_contracts_load_with_a_policy_for_every_slo(name: str) -> None:
    settings = load_settings(ROOT / "examples" / "contracts" / f"{name}.yaml")
    assert all(isinstance(s.alerting, AlertPolicy) and s.alerting.service
               for s in settings.slos)
    assert len(plan_all(settings)) == len(settings.slos)
