"""The per-SLO `alerting` block: Workbook defaults, scaling with the period, overrides, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slastream.config import parse_settings
from slastream.errors import ConfigError
from slastream.export.alerting import AlertPlan, plan_all
from slastream.model.alerting import format_duration, parse_duration_s


def plan(alerting: dict[str, Any] | None = None, **slo: Any) -> AlertPlan:
    spec = {"name": "api", "sli": "probe", "component": "api", "objective": 0.999, **slo}
    if alerting is not None:
        spec["alerting"] = alerting
    return plan_all(parse_settings({"slos": [spec]}, "test.yaml"))[0]


def problems(alerting: dict[str, Any], **slo: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        plan(alerting, **slo)
    return info.value.problems


def pairs(p: AlertPlan) -> list[tuple[str, int, str, str, float]]:
    return [(w.severity, w.tier, format_duration(w.long_s), format_duration(w.short_s), w.factor)
            for w in p.windows]


def test_defaults_are_the_sre_workbook_table_for_30_days() -> None:
    assert pairs(plan()) == [
        ("page", 1, "1h", "5m", 14.4), ("page", 2, "6h", "30m", 6.0),
        ("ticket", 3, "1d", "2h", 3.0), ("ticket", 4, "3d", "6h", 1.0)]


def test_factors_scale_with_the_period() -> None:
    # Same share of the budget per window (2 %, 5 %, 10 %, 10 %), over 28 days.
    assert [w.factor for w in plan({"period": "28d"}).windows] == [13.44, 5.6, 2.8, 0.933333]


def test_windows_and_factors_can_be_overridden_per_slo() -> None:
    p = plan({"page": [{"long": "10m", "short": "1m", "factor": 20, "for": "30s"}],
              "ticket": []})
    assert pairs(p) == [("page", 1, "10m", "1m", 20.0)]
    assert p.windows[0].for_s == 30


def test_optional_alerts_can_be_switched_off_or_tuned() -> None:
    p = plan({"no_data": False, "budget_exhausted": False,
              "breach": {"for": "2m", "severity": "ticket"}})
    assert p.no_data is None and p.budget_exhausted is None
    assert p.breach is not None and (p.breach.for_s, p.breach.severity) == (120, "ticket")


def test_breach_waits_for_the_contracts_minimum_duration_by_default() -> None:
    p = plan(downtime={"bad_below": 1.0, "min_duration_s": 600})
    assert p.breach is not None and p.breach.for_s == 600


def test_sloth_service_is_the_contract_naming_the_slo() -> None:
    settings = parse_settings({
        "slos": [{"name": "api", "sli": "probe", "component": "api", "objective": 0.999}],
        "contracts": [{"name": "acme", "slos": ["api"]}]}, "configs/acme.yaml")
    assert plan_all(settings)[0].sloth_id == "acme-api"
    alone = parse_settings({"slos": [{"name": "api", "sli": "probe", "component": "api",
                                      "objective": 0.999}]}, "configs/acme.yaml")
    assert plan_all(alone)[0].service == "acme"  # no contract: the config file's name


def test_every_problem_is_reported_once_with_its_key() -> None:
    assert problems({
        "periode": "30d",
        "page": [{"long": "5m", "short": "1h", "factor": 14.4},
                 {"long": "1h", "short": "5m", "factor": 2, "budget_percent": 2}],
        "ticket": [{"long": "60d", "short": "6h", "budget_percent": 10}],
        "no_data": {"severity": "urgent"},
        "labels": {"severity": "x", "team": "iot"},
    }) == [
        "test.yaml: slos[0].alerting.periode: unknown key",
        "test.yaml: slos[0].alerting.page[0]: short window (1h) must be shorter than long (5m)",
        "test.yaml: slos[0].alerting.page[1]: needs exactly one of budget_percent or factor",
        "test.yaml: slos[0].alerting.ticket[0].long: is longer than the SLO period (30d)",
        "test.yaml: slos[0].alerting.no_data.severity: must be one of page, ticket; got 'urgent'",
        "test.yaml: slos[0].alerting.labels.severity: is set by slastream and cannot be "
        "overridden",
    ]


def test_a_burn_rate_that_can_never_fire_is_refused() -> None:
    # 90 %: a budget of 10 %; 14.4 × 10 % is an error ratio above 100 %.
    assert problems({}, objective=0.9) == [
        "test.yaml: slos[0].alerting.page: factor 14.4 × error budget 0.1 is at least 1: "
        "the 1h alert could never fire"]


def test_response_time_without_objective_has_no_burn_rate_alerts() -> None:
    p = plan(sli="response_time", objective=None, target_ms=500,
             downtime={"window_s": 86400})
    assert p.windows == () and p.budget_exhausted is None
    assert p.response_time is not None and p.response_time.window_s == 86400


@pytest.mark.parametrize("text,seconds", [
    ("5m", 300), ("1h30m", 5400), ("30d", 2592000), ("4w", 2419200), ("1500ms", None),
    ("5 m", None), ("", None), ("0s", None)])
def test_parse_duration(text: str, seconds: int | None) -> None:
    if seconds is None:
        with pytest.raises(ValueError):
            parse_duration_s(text)
    else:
        assert parse_duration_s(text) == seconds


@given(st.integers(min_value=1, max_value=10 * 365 * 86400))
def test_durations_round_trip_in_prometheus_format(seconds: int) -> None:
    assert parse_duration_s(format_duration(seconds)) == seconds


def test_durations_print_like_prometheus() -> None:
    # Sloth names its recordings with Prometheus' format: ratio_rate30d, ratio_rate4w.
    assert [format_duration(s) for s in (300, 5400, 86400, 30 * 86400, 28 * 86400)] == [
        "5m", "1h30m", "1d", "30d", "4w"]
