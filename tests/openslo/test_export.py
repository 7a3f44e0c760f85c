"""What the export says about each SLO, in OpenSLO's terms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from slastream.config import load_settings
from slastream.export import rules
from slastream.openslo import export_main, vocabulary
from slastream.openslo.vocabulary import object_name, openslo_zone, shorthand

ROOT = Path(__file__).resolve().parents[2]


def _docs(name: str) -> dict[tuple[str, str], dict[str, Any]]:
    path = ROOT / "examples" / "contracts" / name
    docs = yaml.safe_load_all(export_main(load_settings(path)))
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def test_the_metric_names_are_those_slastream_exposes() -> None:
    assert vocabulary.EVENTS == rules.EVENTS
    assert vocabulary.LATENCY == rules.LATENCY


def test_a_ratio_slo_counts_slastream_events_in_minute_slices_of_calendar_months() -> None:
    docs = _docs("loriot.yaml")
    sli = docs[("SLI", "lorawan-delivery")]["spec"]["ratioMetric"]
    assert sli["counter"] is True
    assert sli["good"]["metricSource"]["spec"]["query"] == \
        'slastream_sli_events_total{slo="lorawan-delivery", outcome="good"}'
    assert sli["total"]["metricSource"]["spec"]["query"] == \
        'slastream_sli_events_total{slo="lorawan-delivery"}'
    assert sli["good"]["metricSource"]["metricSourceRef"] == "slastream"
    slo = docs[("SLO", "lorawan-delivery")]
    spec = slo["spec"]
    assert spec["budgetingMethod"] == "Timeslices"
    assert spec["timeWindow"] == [{"duration": "1M", "isRolling": False, "calendar": {
        "startTime": "2024-01-01 00:00:00", "timeZone": "Etc/UTC"}}]
    assert spec["objectives"] == [{"displayName": "99.9 % of minutes good", "target": 0.999,
                                   "timeSliceTarget": 0.75, "timeSliceWindow": "1m"}]
    assert spec["service"] == "loriot" and spec["indicatorRef"] == "lorawan-delivery"
    notes = slo["metadata"]["annotations"]
    assert (notes["slastream.io/window-s"], notes["slastream.io/min-events"],
            notes["slastream.io/min-duration-s"], notes["slastream.io/no-data"]) == \
        ("300", "20", "60", "ignore")


def test_response_time_is_a_threshold_on_the_trailing_mean() -> None:
    docs = _docs("evrythng.yaml")
    metric = docs[("SLI", "response-time")]["spec"]["thresholdMetric"]["metricSource"]
    assert metric["spec"]["query"] == (
        'sum(rate(slastream_sli_latency_seconds_sum{slo="response-time"}[1d])) / '
        'sum(rate(slastream_sli_latency_seconds_count{slo="response-time"}[1d]))')
    objective = docs[("SLO", "response-time")]["spec"]["objectives"][0]
    # No objective in the contract (the minutes only feed the credit): a target of 0.
    assert (objective["op"], objective["value"], objective["target"]) == ("lte", 0.5, 0.0)


def test_burn_rate_windows_become_one_policy_and_condition_each() -> None:
    docs = _docs("loriot.yaml")
    slo = docs[("SLO", "rx2-reach")]
    assert slo["spec"]["alertPolicies"] == [f"rx2-reach-burn-{t}" for t in (1, 2, 3, 4)]
    policy = docs[("AlertPolicy", "rx2-reach-burn-1")]["spec"]
    assert policy["conditions"] == [{"conditionRef": "rx2-reach-burn-1"}]
    assert policy["notificationTargets"] == [{"targetRef": "slastream-page"}]
    cond = docs[("AlertCondition", "rx2-reach-burn-1")]
    assert cond["spec"]["severity"] == "page"
    assert cond["spec"]["condition"] == {"kind": "burnrate", "op": "gt", "threshold": 14.4,
                                         "lookbackWindow": "1h", "alertAfter": "1m"}
    assert cond["metadata"]["annotations"] == {"slastream.io/short-window": "5m",
                                               "slastream.io/for": "0s"}
    ticket = docs[("AlertCondition", "rx2-reach-burn-4")]["spec"]
    assert (ticket["severity"], ticket["condition"]["lookbackWindow"]) == ("ticket", "3d")


def test_contracts_and_file_settings_ride_in_annotations() -> None:
    docs = _docs("mclimate.yaml")
    contract = yaml.safe_load(
        docs[("Service", "mclimate")]["metadata"]["annotations"]["slastream.io/contract"])
    assert contract["slos"] == ["enterprise-availability", "home-app-availability",
                                "api-availability"]
    assert contract["credit"]["tiers"][0] == {"over_minutes": 43, "credit": 0.15}
    source = docs[("DataSource", "slastream")]
    assert source["spec"]["type"] == "Prometheus"
    assert source["metadata"]["annotations"]["slastream.io/timezone"] == "UTC"


def test_names_zones_and_durations_in_openslo_spelling() -> None:
    assert object_name("LoRaWAN_Delivery") == "lorawan-delivery"
    assert object_name("__x__") == "x"
    assert object_name("lorawan.delivery") == "lorawan.delivery"
    assert openslo_zone("UTC") == "Etc/UTC"
    assert openslo_zone("Europe/Berlin") == "Europe/Berlin"
    assert shorthand(3600) == ("1h", True)
    assert shorthand(30 * 86400) == ("30d", True)
    assert shorthand(14 * 86400) == ("2w", True)
    assert shorthand(90) == ("2m", False)
    assert shorthand(0) == ("1m", False)


def test_queries_are_read_back_whatever_the_matcher_order() -> None:
    parse = vocabulary.parse_events_query
    assert parse(vocabulary.events_query('a"b\\c', "bad")) == ('a"b\\c', "bad")
    assert parse('slastream_sli_events_total{outcome="good", slo="a"}') == ("a", "good")
    assert parse('slastream_sli_events_total{slo="a", scope="eu"}') is None
    assert parse('slastream_sli_events_total{slo=~"a.*"}') is None
    assert parse('sum(slastream_sli_events_total{slo="a"})') is None
    assert vocabulary.parse_latency_query(vocabulary.latency_query("x", 86400)) == ("x", 86400)
