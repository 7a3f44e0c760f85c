"""The maintenance calendar keys of an exclusion policy and an SLO's ``environments``:
what they load into, and one problem line per problem."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from slastream.config import load_settings, parse_settings
from slastream.errors import ConfigError
from slastream.model.maintenance import Blackout, MaintenanceWindow, NthWeekday

ROOT = Path(__file__).resolve().parents[2]
SLO = {"name": "api-services", "sli": "probe", "component": "api", "objective": 0.999}


def problems(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_settings(data, "t.yaml")
    return info.value.problems


def policy(**maintenance: Any) -> dict[str, Any]:
    return {"slos": [SLO], "exclusion_policy": {"maintenance": maintenance}}


# --- windows and blackouts ------------------------------------------------------------

def test_evrythng_calendar_loads() -> None:
    p = load_settings(ROOT / "examples" / "contracts" / "evrythng.yaml").exclusion_policy
    assert p["maintenance"].windows == (MaintenanceWindow(("Sat", "Sun"), "05:00-09:00",
                                                          "Etc/GMT"),)
    assert p["maintenance"].blackouts == (
        Blackout("high-demand", "12-11", "01-04", timezone="Etc/GMT"),
        Blackout("high-demand", nth_weekday=NthWeekday(4, "Mon", 11), days=13,
                 timezone="Etc/GMT"))
    assert p["third_party"].windows is None and p["third_party"].blackouts is None


def test_days_are_kept_in_week_order_and_dates_as_written() -> None:
    s = parse_settings(policy(
        windows=[{"days": ["Sun", "Sat"], "hours": "22:00-24:00"}],
        blackouts=[{"first": date(2026, 12, 24),  # unquoted in YAML
                    "last": "2026-12-26"}]))
    m = s.exclusion_policy["maintenance"]
    assert m.windows == (MaintenanceWindow(("Sat", "Sun"), "22:00-24:00", "UTC"),)
    assert m.blackouts == (Blackout(None, "2026-12-24", "2026-12-26"),)


def test_null_keys_are_absent() -> None:
    # how a policy written back from the settings leaves out what is not set
    s = parse_settings(policy(blackouts=[{"name": None, "first": "12-11", "last": "01-04",
                                          "nth_weekday": None, "days": None}]))
    assert s.exclusion_policy["maintenance"].blackouts == (Blackout(None, "12-11", "01-04"),)


def test_every_calendar_problem_is_one_line() -> None:
    assert problems(policy(
        windows=[{"days": ["Sa"], "hours": "25:00-09:00", "timezone": "Mars/Olympus"},
                 {"days": ["Sat"], "hours": "09:00-05:00", "every": 2}],
        blackouts=[{"first": "02-29", "last": "13-01"},
                   {"nth_weekday": {"n": 0, "weekday": "Mo", "month": 13}},
                   {"first": "2026-01-02", "last": "2026-01-01"},
                   {"first": "12-01", "last": "2026-01-01"},
                   {"nth_weekday": {"n": 1, "weekday": "Mon", "month": 1}, "days": 2,
                    "first": "01-01"},
                   {"first": "01-01", "last": "01-02", "days": 3},
                   {"nth_weekday": {"weekday": "Mon", "month": 11}, "days": 0}],
    )) == [
        "t.yaml: exclusion_policy.maintenance.windows[0].days: must be a non-empty list of "
        "Mon, Tue, Wed, Thu, Fri, Sat, Sun; got ['Sa']",
        "t.yaml: exclusion_policy.maintenance.windows[0].hours: must be like '05:00-09:00', "
        "start before end, end at most 24:00; got '25:00-09:00'",
        "t.yaml: exclusion_policy.maintenance.windows[0].timezone: unknown IANA time zone "
        "'Mars/Olympus'",
        "t.yaml: exclusion_policy.maintenance.windows[1].every: unknown key",
        "t.yaml: exclusion_policy.maintenance.windows[1].hours: must be like '05:00-09:00', "
        "start before end, end at most 24:00; got '09:00-05:00'",
        "t.yaml: exclusion_policy.maintenance.blackouts[0].first: 02-29 is not in every year; "
        "use 02-28 or 03-01",
        "t.yaml: exclusion_policy.maintenance.blackouts[0].last: must be a day MM-DD (every "
        "year) or YYYY-MM-DD (once); got '13-01'",
        "t.yaml: exclusion_policy.maintenance.blackouts[1].nth_weekday.n: must be 1 to 5, or "
        "-1 for the last; got 0",
        "t.yaml: exclusion_policy.maintenance.blackouts[1].nth_weekday.weekday: must be one of "
        "Mon, Tue, Wed, Thu, Fri, Sat, Sun; got 'Mo'",
        "t.yaml: exclusion_policy.maintenance.blackouts[1].nth_weekday.month: must be between "
        "1 and 12, got 13",
        "t.yaml: exclusion_policy.maintenance.blackouts[1].days: is required with nth_weekday "
        "(the days in all, the day itself included)",
        "t.yaml: exclusion_policy.maintenance.blackouts[2].last: must not be before first "
        "(2026-01-02); got 2026-01-01",
        "t.yaml: exclusion_policy.maintenance.blackouts[3]: first and last must both be MM-DD "
        "(every year) or both YYYY-MM-DD",
        "t.yaml: exclusion_policy.maintenance.blackouts[4]: give either first and last, or "
        "nth_weekday and days",
        "t.yaml: exclusion_policy.maintenance.blackouts[5].days: goes with nth_weekday; a "
        "fixed range has first and last",
        "t.yaml: exclusion_policy.maintenance.blackouts[6].nth_weekday.n: is required",
        "t.yaml: exclusion_policy.maintenance.blackouts[6].days: must be between 1 and 366, "
        "got 0",
    ]


@pytest.mark.parametrize("key", ["windows", "blackouts"])
def test_an_empty_or_scalar_calendar_is_a_problem(key: str) -> None:
    for value in ([], "Sat 05:00"):
        (line,) = problems(policy(**{key: value}))
        assert line.startswith(f"t.yaml: exclusion_policy.maintenance.{key}: must be a "
                               "non-empty list of ")


# --- environments ---------------------------------------------------------------------

ENVS = {"production": 0.999, "pre-production": 0.95}


def env_slo(**extra: Any) -> dict[str, Any]:
    out = {k: v for k, v in SLO.items() if k != "objective"}
    return {**out, "environments": ENVS, **extra}


def test_environments_expand_into_one_slo_each() -> None:
    s = parse_settings({"slos": [env_slo(), {**SLO, "name": "mqtt-services",
                                             "component": "mqtt"}]})
    assert [(x.name, x.component, x.objective) for x in s.slos] == [
        ("api-services", "api", 0.999),
        ("mqtt-services", "mqtt", 0.999),
        ("api-services@pre-production", "api@pre-production", 0.95),
    ]
    plain = parse_settings({"slos": [SLO]}).slos[0]
    assert s.slos[0] == plain  # production is the SLO declared without environments


def test_without_production_every_environment_is_named() -> None:
    s = parse_settings({"slos": [env_slo(environments={"staging": 0.99, "qa": 0.98})]})
    assert [x.name for x in s.slos] == ["api-services@staging", "api-services@qa"]
    assert [x.component for x in s.slos] == ["api@staging", "api@qa"]


def test_each_environment_is_checked_with_its_own_objective() -> None:
    # the default page alert (14.4 x the budget over 1 h) cannot fire on a 10 % budget
    assert problems({"slos": [env_slo(environments={"production": 0.999, "lab": 0.9})]}) == [
        "t.yaml: slos[0].alerting.page: factor 14.4 × error budget 0.1 is at least 1: the 1h "
        "alert could never fire"]


def test_cumulocity_declares_production_and_pre_production() -> None:
    s = load_settings(ROOT / "examples" / "contracts" / "cumulocity.yaml")
    assert [(x.name, x.component, x.objective) for x in s.slos] == [
        ("api-services", "api", 0.999), ("mqtt-services", "mqtt", 0.999),
        ("api-services@pre-production", "api@pre-production", 0.95),
        ("mqtt-services@pre-production", "mqtt@pre-production", 0.95)]
    assert s.contracts[0].slos == ("api-services", "mqtt-services")


def test_environment_problems_are_one_line_each() -> None:
    assert problems({"slos": [
        env_slo(objective=0.99),
        env_slo(name="b", environments={"Pre Prod": 0.9, "qa": 1.5, "x": True}),
        {"name": "d", "sli": "delivery", "environments": ENVS},
        env_slo(name="c@x"),
        env_slo(name="e", environments=[0.9]),
    ]}) == [
        "t.yaml: slos[0].objective: give objective or environments, not both",
        "t.yaml: slos[1].environments.Pre Prod: an environment name is lower-case letters, "
        "digits, '-' and '_'",
        "t.yaml: slos[1].environments.qa: must be a ratio strictly between 0 and 1, got 1.5",
        "t.yaml: slos[1].environments.x: must be a ratio strictly between 0 and 1, got True",
        "t.yaml: slos[2].environments: needs an SLI with a component (probe, response_time): "
        "other SLIs have no per-instance input",
        "t.yaml: slos[3].name: must not contain '@' with environments: it separates the "
        "environment",
        "t.yaml: slos[4].environments: must be a mapping of environment name to objective, "
        "like {production: 0.999, pre-production: 0.95}",
    ]


def test_a_problem_of_an_expanded_slo_is_reported_once() -> None:
    assert problems({"slos": [env_slo(deadline_s=0)]}) == [
        "t.yaml: slos[0].deadline_s: must be between 0.1 and 3600, got 0"]


def test_an_expanded_name_may_clash_with_a_declared_one() -> None:
    assert problems({"slos": [env_slo(), {**SLO, "name": "api-services@pre-production"}]}) == [
        "t.yaml: slos: duplicate SLO name 'api-services@pre-production'"]
