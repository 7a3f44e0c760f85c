"""The scrape-time collector: names, labels, units and what a source's gaps look like."""

from __future__ import annotations

import math
from dataclasses import replace

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry
from prometheus_client.samples import Sample

from slastream.export.metrics import build_registry
from slastream.model.ledger import Ledger

from .fakesource import FakeSource


def scrape(registry: CollectorRegistry) -> dict[str, list[Sample]]:
    from prometheus_client import generate_latest

    text = generate_latest(registry).decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


def test_ledger_numbers_are_exposed_per_slo_scope_and_month() -> None:
    m = scrape(build_registry(FakeSource()))
    api = {"slo": "api-probe", "scope": "api", "period": "month"}
    assert value(m["slastream_slo_availability_ratio"], "slastream_slo_availability_ratio",
                 **api) == 0.99973
    assert value(m["slastream_slo_downtime_minutes"], "slastream_slo_downtime_minutes",
                 **api) == 12.0
    assert value(m["slastream_slo_excused_minutes"], "slastream_slo_excused_minutes",
                 **api) == 30.0
    assert value(m["slastream_slo_error_budget_remaining_ratio"],
                 "slastream_slo_error_budget_remaining_ratio",
                 slo="delivery", scope="network", period="month") == -0.35
    assert value(m["slastream_slo_objective_ratio"], "slastream_slo_objective_ratio",
                 slo="api-probe", scope="api") == 0.999
    assert value(m["slastream_contract_credit_ratio"], "slastream_contract_credit_ratio",
                 contract="fixture-sla", period="month") == 0.15
    assert value(m["slastream_contract_slo_info"], "slastream_contract_slo_info",
                 contract="fixture-sla", slo="delivery") == 1.0
    assert value(m["slastream_slo_info"], "slastream_slo_info", slo="api-response",
                 scope="api", sli="response_time") == 1.0


def test_response_time_is_in_seconds_and_missing_ratios_are_absent_not_zero() -> None:
    m = scrape(build_registry(FakeSource()))
    assert value(m["slastream_sli_value"], "slastream_sli_value",
                 slo="api-response", scope="api", period="month") == 0.42
    # No objective, no budget: absent (a 0 would read as "budget spent" on a dashboard).
    assert not [s for s in m["slastream_slo_objective_ratio"]
                if s.labels["slo"] == "api-response"]
    assert not [s for s in m["slastream_slo_error_budget_remaining_ratio"]
                if s.labels["slo"] == "api-response"]


def test_both_outcomes_are_always_exposed() -> None:
    m = scrape(build_registry(FakeSource()))
    events = m["slastream_sli_events"]
    # delivery never had a bad event, yet its bad counter exists at 0, so
    # bad / (good + bad) is 0 rather than empty and the first errors are seen at once.
    assert value(events, "slastream_sli_events_total", slo="delivery",
                 scope="network", outcome="bad") == 0
    assert value(events, "slastream_sli_events_total", slo="api-probe", scope="api",
                 outcome="good") == 1100


def test_breach_is_one_while_in_an_outage_episode() -> None:
    source = FakeSource()
    registry = build_registry(source)
    labels = {"slo": "api-probe", "scope": "api"}
    assert value(scrape(registry)["slastream_slo_breach"], "slastream_slo_breach",
                 **labels) == 0
    source.breach = True
    assert value(scrape(registry)["slastream_slo_breach"], "slastream_slo_breach",
                 **labels) == 1


def test_latency_histogram_is_in_seconds_with_an_inf_bucket() -> None:
    m = scrape(build_registry(FakeSource()))
    hist = m["slastream_sli_latency_seconds"]
    rt = {"slo": "api-response", "scope": "api"}
    assert value(hist, "slastream_sli_latency_seconds_bucket", le="0.1", **rt) == 550
    assert value(hist, "slastream_sli_latency_seconds_bucket", le="+Inf", **rt) == 1100
    assert value(hist, "slastream_sli_latency_seconds_sum", **rt) == 330.0
    # A source whose bounds stop short of +Inf: the largest bound's count is the total.
    rx2 = {"slo": "rx2", "scope": "network"}
    assert value(hist, "slastream_sli_latency_seconds_bucket", le="2.0", **rx2) == 1100
    assert value(hist, "slastream_sli_latency_seconds_bucket", le="+Inf", **rx2) == 1100


def test_pipeline_figures_and_counters_follow_the_source_at_each_scrape() -> None:
    source = FakeSource()
    registry = build_registry(source)
    first, second = scrape(registry), scrape(registry)
    ok = {"source": "probe", "outcome": "ok"}
    assert value(first["slastream_ingest_messages"], "slastream_ingest_messages_total",
                 **ok) == 100
    assert value(second["slastream_ingest_messages"], "slastream_ingest_messages_total",
                 **ok) == 200
    assert value(first["slastream_watermark_delay_seconds"],
                 "slastream_watermark_delay_seconds") == 121.5
    assert value(first["slastream_late_events"], "slastream_late_events_total") == 3
    assert value(first["slastream_consumer_lag_messages"],
                 "slastream_consumer_lag_messages") == 42
    assert value(first["slastream_skipped_records"], "slastream_skipped_records_total") == 2
    assert not any("something_new" in name for name in first)


def test_a_failing_section_is_counted_and_the_rest_still_exposed() -> None:
    source = FakeSource()
    source.fail_ledger = True
    m = scrape(build_registry(source))
    assert value(m["slastream_collector_errors"], "slastream_collector_errors_total",
                 section="ledger") == 1
    assert m["slastream_sli_events"]  # burn-rate alerts keep their input
    assert "slastream_slo_availability_ratio" not in m


def test_no_label_names_a_device_and_the_default_registry_is_untouched() -> None:
    before = {m.name for m in REGISTRY.collect()}
    m = scrape(build_registry(FakeSource()))
    labels = {k for samples in m.values() for s in samples for k in s.labels}
    assert labels <= {"slo", "scope", "period", "outcome", "source", "contract", "le",
                      "section", "sli"}
    assert {m.name for m in REGISTRY.collect()} == before
    assert all(not math.isnan(s.value) for samples in m.values() for s in samples)


class ThinSource(FakeSource):
    """The fake ledger with the delivery SLO and its contract short of evidence."""

    def ledger(self, month: str | None = None) -> Ledger:
        led = super().ledger(month)
        slos = tuple(replace(e, met=None, coverage=0.25, min_coverage=0.9)
                     if e.name == "delivery" else e for e in led.slos)
        contracts = tuple(replace(c, met=None, credit=None, coverage=0.25)
                          for c in led.contracts)
        return replace(led, slos=slos, contracts=contracts)


def test_coverage_and_insufficient_evidence_are_exposed() -> None:
    m = scrape(build_registry(ThinSource()))
    cov = m["slastream_slo_coverage_ratio"]
    assert value(cov, "slastream_slo_coverage_ratio", slo="delivery", scope="network",
                 period="month") == 0.25
    assert value(cov, "slastream_slo_coverage_ratio", slo="rx2", scope="network",
                 period="month") == 1.0
    flag = m["slastream_slo_insufficient_data"]
    assert value(flag, "slastream_slo_insufficient_data", slo="delivery", scope="network") == 1
    assert value(flag, "slastream_slo_insufficient_data", slo="api-probe", scope="api") == 0
    assert value(m["slastream_contract_insufficient_data"],
                 "slastream_contract_insufficient_data", contract="fixture-sla") == 1
    # no credit is computed without evidence: no sample, rather than a credit of 0
    assert not m["slastream_contract_credit_ratio"]


def test_ignored_messages_by_source_and_why() -> None:
    m = scrape(build_registry(FakeSource()))
    assert value(m["slastream_ingest_ignored_messages"],
                 "slastream_ingest_ignored_messages_total", source="chirpstack",
                 outcome="session change") == 3
