"""Importing OpenSLO written by others: what maps becomes config, the rest one line each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.config import parse_settings
from slastream.openslo import import_main

FOREIGN = str(Path(__file__).parent / "foreign.yaml")


def _lines(problems: list[str]) -> list[str]:
    return [p.replace(FOREIGN, "F") for p in problems]


def test_foreign_documents_map_where_they_can_and_say_why_not_elsewhere() -> None:
    text, problems = import_main([FOREIGN])
    assert _lines(problems) == [
        "F: SLO/next-version: apiVersion 'openslo/v2alpha' is not openslo/v1: only OpenSLO v1 "
        "is read",
        "F: Dashboard/board: unknown kind: OpenSLO v1 kinds are DataSource, Service, SLI, SLO, "
        "AlertPolicy, AlertCondition, AlertNotificationTarget",
        "F: DataSource/datadog: a Datadog data source: slastream measures from telemetry it "
        "receives, not from other data sources",
        "F: SLO/api-uptime: objectives after the first dropped (internal): a slastream SLO has "
        "one objective",
        "F: SLO/api-uptime: alert policy 'no-such-policy' is not in these files: left out",
        "F: AlertCondition/inline-slow: op gte imported as gt: slastream alerts above the factor",
        "F: AlertCondition/cpu: a burnrate condition with op lte: slastream alerts when the burn "
        "rate is above a factor (burnrate, gt): left out",
        "F: SLO/rolling: its 28d rolling window does not map: slastream judges calendar months "
        "(a contract's billing period): not imported",
        "F: SLO/occurrences: budgetingMethod Occurrences counts events against the target; "
        "slastream counts bad minutes (Timeslices of 1m), so the objective would change "
        "meaning: not imported",
        "F: SLO/five-minute-slices: its time slices of 5m do not map: slastream judges every "
        "minute (timeSliceWindow 1m): not imported",
        "F: SLO/checkout-latency: its SLI reads Datadog, not slastream's Prometheus metrics: "
        "slastream measures its own SLIs from telemetry: not imported",
        "F: SLO/journey: it is a composite SLO: slastream has no composite objective (contracts "
        "combine SLOs by min or mean instead): not imported",
        "F: SLO/new-york: its calendar is in America/New_York, the SLOs before it in "
        "Europe/Vienna: a slastream config cuts every month in one time zone: not imported",
        "F: Service/broken-contract: contract names SLOs that were not imported (gone): not "
        "imported",
        "F: AlertNotificationTarget/oncall-slack: where alerts go is Alertmanager's routing on "
        "the severity label, not part of a slastream config: not imported",
        "F: SLI/orphan: no SLO of these files refers to it: not imported",
    ]
    settings = parse_settings(yaml.safe_load(text), "imported")
    assert settings.timezone == "Europe/Vienna"
    (slo,) = settings.slos
    assert (slo.name, slo.sli, slo.component, slo.objective) == ("api-uptime", "probe", "api",
                                                                 0.995)
    assert slo.downtime.bad_below == 1.0 and slo.alerting.service == "web"
    windows = [(w.severity, w.long_s, w.short_s, w.factor, w.for_s)
               for w in slo.alerting.windows]
    # No short window in OpenSLO: a twelfth of the long one.
    assert windows == [("page", 3600, 300, 10.0, 120), ("ticket", 172800, 14400, 2.0, 900)]


def _write(tmp_path: Path, *docs: dict[str, Any]) -> str:
    path = tmp_path / "docs.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return str(path)


def _sli(slo: str = "probe-a", notes: dict[str, str] | None = None) -> dict[str, Any]:
    def metric(outcome: str) -> dict[str, Any]:
        q = f'slastream_sli_events_total{{slo="{slo}"{outcome}}}'
        return {"metricSource": {"metricSourceRef": "slastream", "spec": {"query": q}}}
    meta: dict[str, Any] = {"name": "s"}
    meta["annotations"] = {"slastream.io/sli": "probe",
                           "slastream.io/sli-params": '{"component": "api"}'} \
        if notes is None else notes
    return {"apiVersion": "openslo/v1", "kind": "SLI", "metadata": meta, "spec": {
        "ratioMetric": {"counter": True, "good": metric(', outcome="good"'),
                        "total": metric("")}}}


def _slo(name: str = "a", notes: dict[str, str] | None = None,
         policies: list[str] | None = None, target: float = 0.99) -> dict[str, Any]:
    return {"apiVersion": "openslo/v1", "kind": "SLO",
            "metadata": {"name": name, "annotations": notes or {}}, "spec": {
                "service": "svc", "indicatorRef": "s", "budgetingMethod": "Timeslices",
                "timeWindow": [{"duration": "1M", "calendar": {
                    "startTime": "2025-06-01 00:00:00", "timeZone": "Etc/UTC"}}],
                "objectives": [{"target": target, "timeSliceTarget": 0.5,
                                "timeSliceWindow": "1m"}],
                "alertPolicies": policies or []}}


def _burn(condition: dict[str, Any], severity: str = "page") -> list[dict[str, Any]]:
    cond = {"apiVersion": "openslo/v1", "kind": "AlertCondition", "metadata": {"name": "c"},
            "spec": {"severity": severity, "condition": {"kind": "burnrate", **condition}}}
    policy = {"apiVersion": "openslo/v1", "kind": "AlertPolicy", "metadata": {"name": "p"},
              "spec": {"alertWhenNoData": False, "alertWhenResolved": False,
                       "alertWhenBreaching": True, "conditions": [{"conditionRef": "c"}],
                       "notificationTargets": [{"targetRef": "slastream-page"}]}}
    return [cond, policy]


def test_a_minimal_ratio_slo_over_slastream_events_imports(tmp_path: Path) -> None:
    text, problems = import_main([_write(tmp_path, _sli(), _slo())])
    assert problems == []
    slo = parse_settings(yaml.safe_load(text), "x").slo("probe-a")
    assert (slo.objective, slo.downtime.bad_below, slo.downtime.window_s) == (0.99, 0.5, 60)
    # Timeslices over Etc/UTC; without the export's annotation the zone is taken as written.
    assert parse_settings(yaml.safe_load(text), "x").timezone == "Etc/UTC"


def test_a_ratio_without_the_sli_kind_does_not_map(tmp_path: Path) -> None:
    _text, problems = import_main([_write(tmp_path, _sli(notes={}), _slo())])
    assert problems[0].endswith(
        "SLO/a: its SLI counts slastream's events but has no slastream.io/sli annotation "
        "saying which SLI (delivery, rx2 or probe) makes them: not imported")


def test_two_slos_over_one_slastream_slo(tmp_path: Path) -> None:
    _text, problems = import_main([_write(tmp_path, _sli(), _slo("a"), _slo("b"))])
    assert [p.split(": ", 1)[1] for p in problems] == [
        "SLO/b: a second SLO over slastream SLO 'probe-a': not imported"]


@pytest.mark.parametrize(("condition", "severity", "why"), [
    ({"op": "gt", "threshold": 5, "lookbackWindow": "1M", "alertAfter": "1m"}, "page",
     "lookbackWindow '1M' has no fixed length in seconds (months, quarters and years vary)"),
    ({"op": "gt", "threshold": 200, "lookbackWindow": "1h"}, "page",
     "factor 200 × error budget 0.01 is at least 1: it could never fire"),
    ({"op": "gt", "threshold": 2, "lookbackWindow": "6w"}, "page",
     "its 6w window is longer than the SLO's alerting period (30d)"),
    ({"op": "gt", "threshold": 2, "lookbackWindow": "1h"}, "sev1",
     "severity 'sev1': slastream's alerts are page or ticket"),
    ({"op": "gt", "threshold": -1, "lookbackWindow": "1h"}, "page",
     "threshold -1 is not a positive burn-rate factor"),
])
def test_burn_rate_conditions_that_do_not_map(tmp_path: Path, condition: dict[str, Any],
                                               severity: str, why: str) -> None:
    path = _write(tmp_path, _sli(), _slo(policies=["p"]), *_burn(condition, severity))
    text, problems = import_main([path])
    assert problems == [f"{path}: AlertCondition/c: {why}: left out"]
    slo = parse_settings(yaml.safe_load(text), "x").slo("probe-a")
    assert slo.alerting.windows == ()


def test_a_short_window_longer_than_the_lookback_does_not_map(tmp_path: Path) -> None:
    cond, policy = _burn({"op": "gt", "threshold": 6, "lookbackWindow": "1h"})
    cond["metadata"]["annotations"] = {"slastream.io/short-window": "2h"}
    path = _write(tmp_path, _sli(), _slo(policies=["p"]), cond, policy)
    _text, problems = import_main([path])
    assert problems == [f"{path}: AlertCondition/c: annotation slastream.io/short-window is "
                        "not a duration shorter than the 1h lookback window: left out"]


def test_a_burn_rate_condition_without_alert_after_fires_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, _sli(), _slo(policies=["p"]),
                  *_burn({"op": "gt", "threshold": 6, "lookbackWindow": "6h"}))
    text, problems = import_main([path])
    assert problems == []
    (w,) = parse_settings(yaml.safe_load(text), "x").slo("probe-a").alerting.windows
    assert (w.long_s, w.short_s, w.factor, w.for_s) == (21600, 1800, 6.0, 0)


def test_what_the_loader_refuses_is_among_the_problems(tmp_path: Path) -> None:
    notes = {"slastream.io/no-data": "sometimes"}
    _text, problems = import_main([_write(tmp_path, _sli(), _slo(notes=notes))])
    assert problems == ["<imported config>: slos[0].downtime.no_data: must be one of ignore, "
                        "downtime; got 'sometimes'"]


def test_unreadable_input_is_a_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n", encoding="utf-8")
    odd = tmp_path / "odd.yaml"
    odd.write_text("--- just text\n---\napiVersion: openslo/v1\nkind: SLO\nspec: {}\n",
                   encoding="utf-8")
    _text, problems = import_main([str(bad), str(odd), str(tmp_path / "none.yaml")])
    assert problems[:4] == [
        f"{bad}: line 2, column 1: invalid YAML: expected ',' or ']', but got '<stream end>'",
        f"{odd}: document 1: not a mapping: not an OpenSLO object",
        f"{odd}: SLO/?: needs metadata.name and a spec mapping",
        f"{tmp_path / 'none.yaml'}: (file): not found",
    ]
    # Nothing mapped: the loader's own line says so.
    assert problems[4:] == ["<imported config>: slos: must be a non-empty list"]


def _latency_sli() -> dict[str, Any]:
    q = ('sum(rate(slastream_sli_latency_seconds_sum{slo="rt"}[5m])) / '
         'sum(rate(slastream_sli_latency_seconds_count{slo="rt"}[5m]))')
    return {"apiVersion": "openslo/v1", "kind": "SLI", "metadata": {"name": "s", "annotations": {
        "slastream.io/sli-params": '{"component": "api", "target_ms": 400}'}},
        "spec": {"thresholdMetric": {"metricSource": {"type": "Prometheus",
                                                      "spec": {"query": q}}}}}


def test_a_response_time_threshold_imports_with_its_trailing_window(tmp_path: Path) -> None:
    slo = _slo()
    slo["spec"]["objectives"] = [{"op": "lte", "value": 0.4, "target": 0.95,
                                  "timeSliceTarget": 1, "timeSliceWindow": "1m"}]
    text, problems = import_main([_write(tmp_path, _latency_sli(), slo)])
    assert problems == []
    rt = parse_settings(yaml.safe_load(text), "x").slo("rt")
    assert (rt.sli, rt.target_ms, rt.objective) == ("response_time", 400, 0.95)
    assert (rt.downtime.bad_above_ms, rt.downtime.window_s) == (400.0, 300)


@pytest.mark.parametrize(("objective", "why"), [
    ({"op": "gte", "value": 0.4}, "its objective (gte 0.4) is not a limit on the mean response "
                                  "time (lte, a value in seconds)"),
    ({"op": "lte"}, "its objective (lte None) is not a limit on the mean response time (lte, "
                    "a value in seconds)"),
])
def test_a_threshold_that_is_not_a_response_time_limit(tmp_path: Path, objective: dict[str, Any],
                                                      why: str) -> None:
    slo = _slo()
    slo["spec"]["objectives"] = [{**objective, "target": 0.95, "timeSliceTarget": 1,
                                  "timeSliceWindow": "1m"}]
    path = _write(tmp_path, _latency_sli(), slo)
    _text, problems = import_main([path])
    assert problems[0] == f"{path}: SLO/a: {why}: not imported"


def test_a_ratio_objective_without_time_slice_target(tmp_path: Path) -> None:
    slo = _slo()
    del slo["spec"]["objectives"][0]["timeSliceTarget"]
    path = _write(tmp_path, _sli(), slo)
    _text, problems = import_main([path])
    assert problems[0] == (f"{path}: SLO/a: its objective has no timeSliceTarget: which "
                           "minutes are bad is unsaid: not imported")
