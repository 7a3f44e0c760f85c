"""The Grafana dashboards shipped in ``grafana/dashboards/``, generated from code.

Four dashboards, all on slastream's own metrics (docs/interfaces.md#prometheus-metrics)
so they work without the generated rules; the rolling-window burn panels use the Sloth recordings of
``slastream rules``. Every panel and query names the ``${datasource}`` variable, so the
JSON imports into any Grafana with any Prometheus data source. Regenerate after a change::

    python -m slastream.export.dashboards grafana/dashboards

(tests/export/test_dashboards.py fails when the committed JSON differs from this code).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Grafana 10.4 / 11 classic dashboard model.
SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SLO = 'slo=~"$slo", scope=~"$scope"'
# Every worker serves the whole picture (all partitions), so a gauge or counter arrives once
# per worker: take one copy per SLO and scope, never the sum.
ONE = "max by (slo, scope)"
MONTH = 'period="month"'
RATE = "$__rate_interval"


def _events_ratio(sli: str, outcome: str = "good") -> str:
    """Good (or bad) share of final SLI events, only for SLOs of one SLI kind."""
    sel = f"slastream_sli_events_total{{{SLO}}}"
    good = f'slastream_sli_events_total{{{SLO}, outcome="{outcome}"}}'
    return (f"sum by (slo, scope) (rate({good}[{RATE}]))\n/ sum by (slo, scope) "
            f"(rate({sel}[{RATE}]))\nand on (slo, scope) slastream_slo_info{{sli=~\"{sli}\"}}")


def _quantile(q: float, sli: str) -> str:
    return (f"histogram_quantile({q}, sum by (le, slo, scope) (rate("
            f"slastream_sli_latency_seconds_bucket{{{SLO}}}[{RATE}])))\n"
            f"and on (slo, scope) slastream_slo_info{{sli=~\"{sli}\"}}")


# --------------------------------------------------------------------------- building blocks


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False,
           fmt: str = "time_series") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref,
            "instant": instant, "range": not instant, "format": fmt}


def panel(kind: str, title: str, targets: list[dict[str, Any]], w: int = 12, h: int = 8,
          unit: str = "short", description: str = "", **options: Any) -> dict[str, Any]:
    """A panel without id and position; :func:`layout` assigns both."""
    p: dict[str, Any] = {
        "type": kind, "title": title, "description": description, "datasource": DATASOURCE,
        "targets": targets, "gridPos": {"w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit, **options.pop("defaults", {})},
                        "overrides": []},
        "options": options.pop("options", {}),
    }
    p.update(options)
    return p


def stat(title: str, expr: str, unit: str, legend: str = "{{slo}} {{scope}}",
         thresholds: list[tuple[float | None, str]] | None = None, w: int = 6,
         description: str = "") -> dict[str, Any]:
    steps = [{"value": v, "color": c} for v, c in (thresholds or [(None, "green")])]
    return panel("stat", title, [target(expr, legend, instant=True)], w=w, h=5, unit=unit,
                 description=description,
                 defaults={"thresholds": {"mode": "absolute", "steps": steps}},
                 options={"reduceOptions": {"calcs": ["lastNotNull"]},
                          "colorMode": "background", "textMode": "value_and_name"})


def bars(title: str, expr: str, unit: str, legend: str = "{{slo}} ({{scope}})",
         thresholds: list[tuple[float | None, str]] | None = None, w: int = 12,
         description: str = "", **defaults: Any) -> dict[str, Any]:
    steps = [{"value": v, "color": c} for v, c in (thresholds or [(None, "green")])]
    return panel("bargauge", title, [target(expr, legend, instant=True)], w=w, unit=unit,
                 description=description,
                 defaults={"thresholds": {"mode": "absolute", "steps": steps}, **defaults},
                 options={"reduceOptions": {"calcs": ["lastNotNull"]},
                          "orientation": "horizontal", "displayMode": "gradient"})


def series(title: str, targets: list[dict[str, Any]], unit: str, w: int = 12,
           description: str = "", **defaults: Any) -> dict[str, Any]:
    return panel("timeseries", title, targets, w=w, unit=unit, description=description,
                 defaults=defaults, options={"legend": {"displayMode": "table",
                                                        "placement": "bottom"}})


def row(title: str) -> dict[str, Any]:
    return {"type": "row", "title": title, "collapsed": False, "panels": [],
            "gridPos": {"w": 24, "h": 1}}


def layout(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Number panels 1, 2, … and flow them left to right, top to bottom, 24 columns wide."""
    x = y = line_h = 0
    for number, p in enumerate(panels, start=1):
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if x + w > 24 or p["type"] == "row":
            x, y, line_h = 0, y + line_h, 0
        p["id"] = number
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x, line_h = x + w, max(line_h, h)
        if p["type"] == "row":
            x, y, line_h = 0, y + h, 0
    return panels


def variable(name: str, label: str, query: str, multi: bool = True) -> dict[str, Any]:
    return {
        "name": name, "label": label, "type": "query", "datasource": DATASOURCE,
        "definition": query, "query": {"query": query, "refId": f"{name}-variable"},
        "refresh": 2, "sort": 1, "multi": multi, "includeAll": True, "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [], "hide": 0, "regex": "",
    }


def templating(slo_query: str) -> dict[str, Any]:
    return {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource",
         "query": "prometheus", "current": {}, "options": [], "hide": 0, "refresh": 1,
         "regex": ""},
        variable("contract", "Contract", "label_values(slastream_contract_slo_info, contract)"),
        variable("slo", "SLO", slo_query),
        variable("scope", "Scope", 'label_values(slastream_slo_info{slo=~"$slo"}, scope)'),
        variable("tenant", "Tenant",
                 "label_values(slastream_tenant_contract_credit_ratio, tenant)"),
    ]}


def dashboard(uid: str, title: str, description: str, panels: list[dict[str, Any]],
              slo_query: str) -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["slastream", "slo"],
        "editable": True, "graphTooltip": 1, "timezone": "", "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"}, "schemaVersion": SCHEMA_VERSION,
        "version": 1, "links": [{"type": "dashboards", "tags": ["slastream"], "asDropdown": True,
                                 "title": "slastream", "includeVars": True,
                                 "keepTime": True}],
        "annotations": {"list": []}, "templating": templating(slo_query),
        "panels": layout(panels),
    }


# --------------------------------------------------------------------------- dashboards

_IN_CONTRACT = 'label_values(slastream_contract_slo_info{contract=~"$contract"}, slo)'
_BUDGET_STEPS: list[tuple[float | None, str]] = [(None, "red"), (0, "orange"), (0.25, "green")]


def fleet() -> dict[str, Any]:
    """Every contract and SLO of the month: availability, budget, downtime, credits."""
    c = 'contract=~"$contract", period="month"'
    panels = [
        row("Contracts this month"),
        bars("Contract availability (month to date)",
             f"max by (contract) (slastream_contract_availability_ratio{{{c}}})", "percentunit",
             "{{contract}}",
             decimals=3, min=0.99, max=1),
        bars("Credits at stake (share of the monthly fee)",
             f"max by (contract) (slastream_contract_credit_ratio{{{c}}})", "percentunit",
             "{{contract}}",
             [(None, "green"), (0.0001, "red")], min=0, max=0.5),
        row("SLOs this month"),
        stat("SLOs in an outage now",
             f"count({ONE} (slastream_slo_breach{{{SLO}}}) > 0) or vector(0)", "none", "in outage",
             [(None, "green"), (1, "red")]),
        stat("SLOs that missed the objective",
             f"count({ONE} (slastream_slo_error_budget_remaining_ratio{{{SLO}, {MONTH}}}) <= 0)"
             " or vector(0)",
             "none", "missed", [(None, "green"), (1, "red")]),
        stat("Downtime minutes (all SLOs)",
             f"sum({ONE} (slastream_slo_downtime_minutes{{{SLO}, {MONTH}}}))", "m", "downtime"),
        stat("Excused minutes (all SLOs)",
             f"sum({ONE} (slastream_slo_excused_minutes{{{SLO}, {MONTH}}}))", "m", "excused"),
        bars("Error budget remaining (month to date)",
             f"{ONE} (slastream_slo_error_budget_remaining_ratio{{{SLO}, {MONTH}}})",
             "percentunit",
             thresholds=_BUDGET_STEPS, min=-1, max=1),
        bars("Availability vs objective (month to date)",
             f"{ONE} (slastream_slo_availability_ratio{{{SLO}, {MONTH}}})", "percentunit",
             decimals=3, min=0.99, max=1),
        bars("Downtime minutes (month to date)",
             f"{ONE} (slastream_slo_downtime_minutes{{{SLO}, {MONTH}}})", "m",
             thresholds=[(None, "green"), (43, "red")]),
        bars("Objective", f"{ONE} (slastream_slo_objective_ratio{{{SLO}}})", "percentunit",
             decimals=3),
        row("Rolling windows (Sloth recordings of `slastream rules`)"),
        series("Current burn rate (5m)",
               [target(f"slo:current_burn_rate:ratio{{{SLO}}}", "{{slo}} ({{scope}})")], "x",
               description="1 spends the budget exactly over the period; 14.4 pages."),
        series("Rolling-period error budget remaining",
               [target(f"slo:period_error_budget_remaining:ratio{{{SLO}}}",
                       "{{slo}} ({{scope}})")], "percentunit"),
    ]
    return dashboard("slastream-fleet", "slastream / Fleet overview",
                     "Contracts, SLOs, budgets and credits of the calendar month.", panels,
                     _IN_CONTRACT)


def lorawan() -> dict[str, Any]:
    """Delivery ratio and RX2 reach per scope, downlink latency."""
    panels = [
        row("Delivery (NS ingress → application)"),
        series("Delivery ratio", [target(_events_ratio("delivery"), "{{slo}} ({{scope}})")],
               "percentunit", w=16, min=0, max=1,
               description="Share of valid uplinks received by the network server that reached "
                           "the application in time. LORIOT counts minutes below 75 % as down.",
               thresholds={"mode": "absolute", "steps": [{"value": None, "color": "red"},
                                                         {"value": 0.75, "color": "green"}]}),
        bars("Delivery ratio (month to date)",
             f'{ONE} (slastream_sli_value{{{SLO}, {MONTH}}})\nand on (slo, scope) '
             f'slastream_slo_info{{sli="delivery"}}', "percentunit", w=8, decimals=2),
        row("RX2 reachability"),
        series("RX2 reach ratio", [target(_events_ratio("rx2"), "{{slo}} ({{scope}})")],
               "percentunit", w=16, min=0, max=1),
        bars("RX2 reach (month to date)",
             f'{ONE} (slastream_sli_value{{{SLO}, {MONTH}}})\nand on (slo, scope) '
             f'slastream_slo_info{{sli="rx2"}}', "percentunit", w=8, decimals=2),
        panel("heatmap", "Downlink latency", [target(
            f"sum by (le) (max by (le, slo, scope) (rate("
            f"slastream_sli_latency_seconds_bucket{{{SLO}}}[{RATE}]))\n"
            f'and on (slo, scope) slastream_slo_info{{sli="rx2"}})', "{{le}}",
            fmt="heatmap")], unit="s", options={"calculate": False, "yAxis": {"unit": "s"}}),
        series("Downlink latency percentiles", [
            target(_quantile(0.5, "rx2"), "p50 {{slo}} ({{scope}})", "A"),
            target(_quantile(0.95, "rx2"), "p95 {{slo}} ({{scope}})", "B"),
            target(_quantile(0.99, "rx2"), "p99 {{slo}} ({{scope}})", "C")], "s"),
        row("Outages"),
        panel("state-timeline", "Outage episodes (contract rule)", [target(
            f'{ONE} (slastream_slo_breach{{{SLO}}})\nand on (slo, scope) '
            f'slastream_slo_info{{sli=~"delivery|rx2"}}', "{{slo}} ({{scope}})")], w=24,
              h=6, defaults={"mappings": [{"type": "value", "options": {
                  "0": {"text": "ok", "color": "green"},
                  "1": {"text": "outage", "color": "red"}}}]}),
    ]
    return dashboard("slastream-lorawan", "slastream / LoRaWAN",
                     "Packet delivery ratio, RX2 reachability and downlink latency.", panels,
                     'label_values(slastream_slo_info{sli=~"delivery|rx2"}, slo)')


def components() -> dict[str, Any]:
    """Probe availability and response times per component."""
    panels = [
        row("Probes"),
        series("Probe success ratio", [target(_events_ratio("probe"), "{{slo}} ({{scope}})")],
               "percentunit", w=16, min=0, max=1),
        bars("Availability (month to date)",
             f"{ONE} (slastream_slo_availability_ratio{{{SLO}, {MONTH}}})\n"
             f'and on (slo, scope) slastream_slo_info{{sli=~"probe|response_time"}}',
             "percentunit", w=8, decimals=3, min=0.99, max=1),
        row("Response time"),
        series("Response time percentiles", [
            target(_quantile(0.5, "response_time|probe"), "p50 {{slo}} ({{scope}})", "A"),
            target(_quantile(0.95, "response_time|probe"), "p95 {{slo}} ({{scope}})", "B"),
            target(_quantile(0.99, "response_time|probe"), "p99 {{slo}} ({{scope}})", "C")],
               "s", w=16),
        bars("Mean response time (month to date)",
             f'{ONE} (slastream_sli_value{{{SLO}, {MONTH}}})\nand on (slo, scope) '
             f'slastream_slo_info{{sli="response_time"}}', "s", w=8),
        series("Mean response time", [target(
            f"sum by (slo, scope) (rate(slastream_sli_latency_seconds_sum{{{SLO}}}[{RATE}]))\n/ "
            f"sum by (slo, scope) (rate(slastream_sli_latency_seconds_count{{{SLO}}}[{RATE}]))",
            "{{slo}} ({{scope}})")], "s", w=24),
        row("Outages"),
        bars("Downtime minutes (month to date)",
             f"{ONE} (slastream_slo_downtime_minutes{{{SLO}, {MONTH}}})\n"
             f'and on (slo, scope) slastream_slo_info{{sli=~"probe|response_time"}}', "m",
             thresholds=[(None, "green"), (43, "red")]),
        panel("state-timeline", "Outage episodes (contract rule)", [target(
            f"{ONE} (slastream_slo_breach{{{SLO}}})\nand on (slo, scope) "
            f'slastream_slo_info{{sli=~"probe|response_time"}}', "{{slo}} ({{scope}})")], h=8,
              defaults={"mappings": [{"type": "value", "options": {
                  "0": {"text": "ok", "color": "green"},
                  "1": {"text": "outage", "color": "red"}}}]}),
    ]
    return dashboard("slastream-components", "slastream / Components",
                     "Synthetic-probe availability and response times per component.", panels,
                     'label_values(slastream_slo_info{sli=~"probe|response_time"}, slo)')


def pipeline() -> dict[str, Any]:
    """The measuring pipeline: ingest, rejects, lateness, lag, watermark."""
    panels = [
        series("Ingested messages by source and outcome", [target(
            f"sum by (source, outcome) (rate(slastream_ingest_messages_total[{RATE}]))",
            "{{source}} {{outcome}}")], "reqps", w=12),
        series("Rejected share of messages", [target(
            f'sum(rate(slastream_ingest_messages_total{{outcome="rejected"}}[{RATE}]))\n/ '
            f"sum(rate(slastream_ingest_messages_total[{RATE}]))", "rejected")],
               "percentunit", w=12),
        series("Watermark delay per worker", [target(
            "max by (instance) (slastream_watermark_delay_seconds)", "{{instance}}")], "s"),
        series("Kafka consumer lag per worker", [target(
            "sum by (instance) (slastream_consumer_lag_messages)", "{{instance}}")], "short"),
        series("Late events (applied as corrections)", [target(
            f"sum by (instance) (rate(slastream_late_events_total[{RATE}]))", "{{instance}}")],
               "reqps"),
        series("Final SLI events", [target(
            f"max by (slo, outcome) (rate(slastream_sli_events_total{{{SLO}}}[{RATE}]))",
            "{{slo}} {{outcome}}")], "reqps"),
        series("Uplinks held for delivery matching", [target(
            "sum by (instance) (slastream_tracked_uplinks)", "{{instance}}")], "short"),
        series("Metric sections that failed (per hour)", [target(
            "sum by (section) (increase(slastream_collector_errors_total[1h]))",
            "{{section}}")], "short"),
    ]
    return dashboard("slastream-pipeline", "slastream / Pipeline health",
                     "Is the measurement itself healthy: ingest, rejects, lag, watermark.",
                     panels, "label_values(slastream_slo_info, slo)")


# a tenant's SLO scopes: the tenant, or its applications ``{tenant}/{application}``
_TENANT = 'scope=~"$tenant(/.*)?"'


def tenants() -> dict[str, Any]:
    """Per tenant (docs/semantics.md#tenants): credits owed, delivery and availability."""
    panels = [
        row("Credits this month"),
        bars("Credit owed (share of the fee)",
             'max by (contract, tenant) (slastream_tenant_contract_credit_ratio'
             '{tenant=~"$tenant", period="month"}) > 0', "percentunit",
             legend="{{tenant}} ({{contract}})", w=12, decimals=1),
        bars("Credit owed (amount)",
             'max by (contract, tenant) (slastream_tenant_contract_credit_amount'
             '{tenant=~"$tenant", period="month"}) > 0', "short",
             legend="{{tenant}} ({{contract}})", w=8),
        stat("Tenants on /metrics", "max by (state) (slastream_tenants)", "short",
             legend="{{state}}", w=4, description="Tenants past tenants.metrics_limit are "
                                                  "summed into the overflow scope."),
        row("Delivery per tenant"),
        series("Delivery ratio", [target(
            f'sum by (slo, scope) (rate(slastream_sli_events_total{{{_TENANT}, '
            f'outcome="good"}}[{RATE}]))\n/ sum by (slo, scope) (rate('
            f'slastream_sli_events_total{{{_TENANT}}}[{RATE}]))\nand on (slo, scope) '
            f'slastream_slo_info{{sli="delivery"}}', "{{scope}}")], "percentunit", w=16,
            min=0, max=1),
        bars("Availability (month to date)",
             f'{ONE} (slastream_slo_availability_ratio{{{_TENANT}, {MONTH}}}) < 1',
             "percentunit", w=8, decimals=3),
    ]
    return dashboard("slastream-tenants", "slastream / Tenants",
                     "Credits, delivery and availability per tenant.", panels,
                     'label_values(slastream_slo_info{sli="delivery"}, slo)')


DASHBOARDS = {"fleet-overview": fleet, "lorawan": lorawan, "components": components,
              "pipeline-health": pipeline, "tenants": tenants}


def render_all() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {f"slastream-{name}.json": json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
            for name, build in DASHBOARDS.items()}


def expressions(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target of a dashboard."""
    for p in board["panels"]:
        for t in p.get("targets", []):
            yield f"{board['uid']} panel {p['id']} {p['title']!r} {t['refId']}", t["expr"]


def main(argv: list[str]) -> int:
    """Write the dashboards into a directory (default ``grafana/dashboards``)."""
    out = Path(argv[0] if argv else "grafana/dashboards")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (out / name).write_text(text, encoding="utf-8")
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
