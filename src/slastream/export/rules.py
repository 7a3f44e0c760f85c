"""Prometheus recording and alerting rules for every SLO of a config (``slastream rules``).

Spec → model → generators, the way Sloth does it: the loader validates each SLO's alerting
block into ``SLO.alerting``, :mod:`slastream.export.alerting` binds it to its SLO as an
:class:`AlertPlan`, and the functions here turn each plan into rule groups. The recording
rules carry Sloth's names and labels (``slo:sli_error:ratio_rate5m``
… ``slo:period_error_budget_remaining:ratio``, ``sloth_slo_info``; ``sloth_id``,
``sloth_service``, ``sloth_slo``, ``sloth_window``), so Sloth's published Grafana dashboards
work unchanged; every series also keeps slastream's own ``slo`` and ``scope`` labels.

The SLI is the ratio of bad to all final events of ``slastream_sli_events_total``, both
summed ``by (slo, scope)`` over the scraped workers before dividing: the ratio is the same
whether each worker reports its own partitions or (as ``stream/view.py`` does) all of them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from slastream.export.alerting import AlertPlan, plan_all
from slastream.export.global_rules import contract_group, pipeline_group
from slastream.model.alerting import BurnWindow, format_duration
from slastream.model.spec import SLO, DowntimeRule, Settings

EVENTS = "slastream_sli_events_total"
LATENCY = "slastream_sli_latency_seconds"
SLI_ERROR = "slo:sli_error:ratio_rate{window}"  # Sloth's name
# Per-SLO event rates over the shortest window, recorded once and reused: the ratio at that
# window and the whole-period ratio are built from them (Prometheus naming convention
# level:metric:operations; level = the labels kept).
BAD_RATE = "slo_scope:slastream_sli_events_bad:rate{window}"
ALL_RATE = "slo_scope:slastream_sli_events:rate{window}"
# Value of sloth_version on the info series: the layout of these rules, not the package version,
# so upgrading slastream does not change every generated file.
RULES_FORMAT = "slastream-rules-v1"
# Sloth's dashboards expect the current burn rate and the 5-minute error ratio to exist.
_ALWAYS_WINDOWS_S = (300,)


def _num(x: float) -> str:
    """A float as PromQL text: 0.001, 14.4 (no 0.0010000000000000009)."""
    return format(x, ".12g")


def _events(plan: AlertPlan, bad: bool = False) -> str:
    outcome = ', outcome="bad"' if bad else ""
    return f'{EVENTS}{{slo="{plan.slo.name}"{outcome}}}'


def recording_windows_s(plan: AlertPlan) -> list[int]:
    """Windows of ``slo:sli_error:ratio_rate*`` below the period, shortest first."""
    found = set(_ALWAYS_WINDOWS_S)
    for w in plan.windows:
        found.update((w.long_s, w.short_s))
    return sorted(s for s in found if s < plan.period_s)


# --------------------------------------------------------------------------- recordings


def sli_recordings(plan: AlertPlan) -> list[dict[str, Any]]:
    """Event rates, then the error ratio for every window and the period."""
    windows = recording_windows_s(plan)
    base = format_duration(windows[0])
    ids, sel = plan.sloth_labels, plan.sloth_selector
    rules: list[dict[str, Any]] = [
        {"record": BAD_RATE.format(window=base),
         "expr": f"sum by (slo, scope) (rate({_events(plan, bad=True)}[{base}]))",
         "labels": ids},
        {"record": ALL_RATE.format(window=base),
         "expr": f"sum by (slo, scope) (rate({_events(plan)}[{base}]))",
         "labels": ids},
    ]
    for seconds in windows:
        w = format_duration(seconds)
        if w == base:
            expr = (f"{BAD_RATE.format(window=base)}{sel}\n/\n"
                    f"{ALL_RATE.format(window=base)}{sel}")
        else:
            expr = (f"sum by (slo, scope) (rate({_events(plan, bad=True)}[{w}]))\n/\n"
                    f"sum by (slo, scope) (rate({_events(plan)}[{w}]))")
        rules.append({"record": SLI_ERROR.format(window=w), "expr": expr,
                      "labels": {**ids, "sloth_window": w}})
    # The period ratio sums the short-window rates over the period, numerator and denominator
    # apart: the ratio of sums (docs/semantics.md#slices: never averages of ratios; Sloth
    # averages the 5m ratios instead, which weighs a quiet night like a busy day). It costs
    # one sample per
    # evaluation instead of every raw sample of 30 days.
    period = format_duration(plan.period_s)
    rules.append({
        "record": SLI_ERROR.format(window=period),
        "expr": (f"sum_over_time({BAD_RATE.format(window=base)}{sel}[{period}])\n/\n"
                 f"sum_over_time({ALL_RATE.format(window=base)}{sel}[{period}])"),
        "labels": {**ids, "sloth_window": period},
    })
    return rules


def _burn_rate(plan: AlertPlan, window: str) -> str:
    return (f"{SLI_ERROR.format(window=window)}{plan.sloth_selector}\n"
            f"/ on (sloth_id, sloth_slo, sloth_service) group_left\n"
            f"slo:error_budget:ratio{plan.sloth_selector}")


def meta_recordings(plan: AlertPlan) -> list[dict[str, Any]]:
    """Sloth's metadata: objective, budget, period, burn rates, remaining budget, info."""
    assert plan.slo.objective is not None and plan.error_budget is not None
    labels = {**plan.sloth_labels, "slo": plan.slo.name}
    base = format_duration(recording_windows_s(plan)[0])
    period = format_duration(plan.period_s)
    info = {**labels, "sli": plan.slo.sli, "sloth_mode": "cli-gen-prom",
            "sloth_objective": _num(plan.slo.objective * 100), "sloth_spec": "prometheus/v1",
            "sloth_version": RULES_FORMAT}
    return [
        {"record": "slo:objective:ratio", "expr": f"vector({_num(plan.slo.objective)})",
         "labels": labels},
        {"record": "slo:error_budget:ratio", "expr": f"vector({_num(plan.error_budget)})",
         "labels": labels},
        {"record": "slo:time_period:days", "expr": f"vector({_num(plan.period_s / 86400)})",
         "labels": labels},
        {"record": "slo:current_burn_rate:ratio", "expr": _burn_rate(plan, base),
         "labels": labels},
        {"record": "slo:period_burn_rate:ratio", "expr": _burn_rate(plan, period),
         "labels": labels},
        {"record": "slo:period_error_budget_remaining:ratio",
         "expr": f"1 - slo:period_burn_rate:ratio{plan.sloth_selector}", "labels": labels},
        {"record": "sloth_slo_info", "expr": "vector(1)", "labels": info},
    ]


# --------------------------------------------------------------------------- alerts


def _alert(plan: AlertPlan, name: str, expr: str, for_s: int, labels: dict[str, str],
           summary: str, description: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_s:
        rule["for"] = format_duration(for_s)
    # The static slo label repeats the one the expression yields; it keeps the rules of two
    # SLOs apart for promtool's duplicate-rule lint.
    rule["labels"] = {**labels, "slo": plan.slo.name, **dict(plan.labels)}
    rule["annotations"] = {"summary": summary, "description": description,
                           "runbook_url": plan.runbook(name)}
    return rule


def _pct(ratio: float) -> str:
    return f"{_num(round(ratio * 100, 6))}%"


def burn_alert(plan: AlertPlan, w: BurnWindow) -> dict[str, Any]:
    """One multiwindow burn-rate alert (SRE Workbook, "Alerting on SLOs", approach 6).

    The long window proves the burn is significant; the short window, 1/12 of it, makes the
    alert stop soon after the burn does, instead of hours later.
    """
    assert plan.error_budget is not None
    threshold = f"({_num(w.factor)} * {_num(plan.error_budget)})"
    long_w, short_w = format_duration(w.long_s), format_duration(w.short_s)
    expr = "(\n" + "\n  and\n".join(
        f"  max without (sloth_window) ({SLI_ERROR.format(window=win)}{plan.sloth_selector}"
        f" > {threshold})"
        for win in (long_w, short_w)) + "\n)"
    consumed = w.factor * w.long_s / plan.period_s
    lasts = format_duration(int(plan.period_s / w.factor))
    return _alert(
        plan, "SLOErrorBudgetBurn", expr, w.for_s,
        {"severity": w.severity, "tier": str(w.tier), "sloth_severity": w.severity},
        summary=(f"{{{{ $labels.slo }}}} ({{{{ $labels.scope }}}}) is burning its error budget "
                 f"{_num(w.factor)}× too fast"),
        description=(
            f"Error ratio {{{{ $value | humanizePercentage }}}} over the last {long_w}, still "
            f"above {_num(w.factor)} × the {_pct(plan.error_budget)} error budget over the last "
            f"{short_w}: at least {_pct(consumed)} of the {format_duration(plan.period_s)} "
            f"budget of the {_pct(plan.slo.objective or 0)} objective went in {long_w}, and at "
            f"this rate all of it goes in {lasts}."),
    )


_SLI_NAMES = {"delivery": "delivery ratio", "rx2": "RX2 reach ratio",
              "probe": "probe success ratio"}


def _rule_text(slo: SLO) -> str:
    d: DowntimeRule = slo.downtime
    if d.bad_above_ms is not None:
        cond = f"mean response time above {_num(d.bad_above_ms)} ms"
    else:
        cond = f"{_SLI_NAMES.get(slo.sli, 'SLI')} below {_pct(d.bad_below)}"
    return (f"{cond} over {format_duration(d.window_s)} windows for at least "
            f"{format_duration(d.min_duration_s)}")


def no_data_alert(plan: AlertPlan) -> dict[str, Any]:
    """No final SLI events for a while: the SLO cannot be judged (docs/semantics.md#no-data)."""
    assert plan.no_data is not None
    metric = EVENTS if plan.slo.objective is not None else f"{LATENCY}_count"
    selector = f'{metric}{{slo="{plan.slo.name}"}}'
    # absent() copies equality matchers into its result, so name the scope when it is known.
    scope = f', scope="{plan.scope}"' if plan.scope else ""
    w = format_duration(plan.no_data.window_s)
    expr = (f"(sum by (slo, scope) (rate({selector}[{w}])) == 0)\nor\n"
            f'absent({metric}{{slo="{plan.slo.name}"{scope}}})')
    return _alert(
        plan, "SLONoData", expr, plan.no_data.for_s, {"severity": plan.no_data.severity},
        summary="{{ $labels.slo }} ({{ $labels.scope }}) has no SLI data",
        description=(f"No final {plan.slo.sli} events for {w}: the SLO cannot be judged. A "
                     "missing measurement is not success; check the prober, the bridge and the "
                     "workers."),
    )


def budget_exhausted_alert(plan: AlertPlan) -> dict[str, Any]:
    """The contract's calendar-month budget is spent (the engine's month-to-date ledger)."""
    assert plan.budget_exhausted is not None
    expr = (f"min by (slo, scope) (slastream_slo_error_budget_remaining_ratio"
            f'{{slo="{plan.slo.name}", period="month"}}) <= 0')
    return _alert(
        plan, "SLOErrorBudgetExhausted", expr, plan.budget_exhausted.for_s,
        {"severity": plan.budget_exhausted.severity},
        summary="{{ $labels.slo }} ({{ $labels.scope }}) has spent this month's error budget",
        description=(f"Month-to-date downtime has used the whole error budget of the "
                     f"{_pct(plan.slo.objective or 0)} objective: the objective is missed for "
                     "this calendar month and credits may be owed."),
    )


def breach_alert(plan: AlertPlan) -> dict[str, Any]:
    """The contract's own downtime rule holds: downtime minutes are accruing right now."""
    assert plan.breach is not None
    expr = f'max by (slo, scope) (slastream_slo_breach{{slo="{plan.slo.name}"}}) > 0'
    # tier 0 outranks every burn-rate tier: an outage the contract counts says it all.
    return _alert(
        plan, "SLOOutage", expr, plan.breach.for_s,
        {"severity": plan.breach.severity, "tier": "0"},
        summary="{{ $labels.slo }} ({{ $labels.scope }}) is down by the contract's rule",
        description=(f"Outage episode under the downtime rule ({_rule_text(plan.slo)}); "
                     "every further minute counts as contractual downtime."),
    )


def response_time_alert(plan: AlertPlan) -> dict[str, Any]:
    """Mean response time over the contract's window above its target (EVRYTHNG §2)."""
    assert plan.response_time is not None and plan.slo.target_ms is not None
    w = format_duration(plan.response_time.window_s)
    sel = f'{{slo="{plan.slo.name}"}}'
    expr = (f"sum by (slo, scope) (rate({LATENCY}_sum{sel}[{w}]))\n/\n"
            f"sum by (slo, scope) (rate({LATENCY}_count{sel}[{w}]))\n"
            f"> {_num(plan.slo.target_ms / 1000)}")
    return _alert(
        plan, "SLOResponseTimeHigh", expr, plan.response_time.for_s,
        {"severity": plan.response_time.severity},
        summary="{{ $labels.slo }} ({{ $labels.scope }}) responds slower than its target",
        description=(f"Mean response time over {w} is {{{{ $value | humanizeDuration }}}}, "
                     f"above the {_num(plan.slo.target_ms)} ms target."),
    )


def alerts(plan: AlertPlan) -> list[dict[str, Any]]:
    """Every alert of one SLO, most urgent first."""
    rules = [breach_alert(plan)] if plan.breach else []
    rules += [burn_alert(plan, w) for w in plan.windows]
    if plan.response_time:
        rules.append(response_time_alert(plan))
    if plan.budget_exhausted:
        rules.append(budget_exhausted_alert(plan))
    if plan.no_data:
        rules.append(no_data_alert(plan))
    return rules


# --------------------------------------------------------------------------- output


def rule_groups(settings: Settings) -> list[dict[str, Any]]:
    """All rule groups for a config: one per SLO, then the contracts and the pipeline."""
    groups: list[dict[str, Any]] = []
    for plan in plan_all(settings):
        # One group per SLO, in dependency order. Rules of a group run one after the other;
        # groups run concurrently, so with Sloth's three groups an alert may read the ratio of
        # the previous evaluation (and promtool's results depend on group order).
        rules = (sli_recordings(plan) + meta_recordings(plan)
                 if plan.slo.objective is not None else [])
        groups.append({"name": f"slastream-slo-{plan.sloth_id}", "rules": rules + alerts(plan)})
    contracts = contract_group(settings)
    if contracts:
        groups.append(contracts)
    groups.append(pipeline_group(settings))
    return groups


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # label maps are shared between rules; never write &id001 anchors


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(document: Any) -> str:
    """YAML with multi-line PromQL as literal blocks, keys in the order built."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)


def render(settings: Settings) -> str:
    """The rule file for a config, as ``promtool check rules`` and Prometheus load it."""
    header = (f"# Prometheus rules for {Path(settings.source).name}, generated by "
              "`slastream rules`. Do not edit: change the config and generate again.\n")
    return header + to_yaml({"groups": rule_groups(settings)})


def prometheus_rule(settings: Settings, name: str, namespace: str,
                    labels: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """The same groups as a prometheus-operator ``PrometheusRule`` object."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/name": "slastream", **dict(labels)}},
        "spec": {"groups": rule_groups(settings)},
    }


def main(settings: Settings) -> int:
    """``slastream rules -c CONFIG``: print the rules on stdout."""
    sys.stdout.write(render(settings))
    return 0


def _prometheus_rule_main(argv: list[str]) -> int:
    """``python -m slastream.export.rules -c CONFIG --name N --namespace NS``: the rules as a
    prometheus-operator PrometheusRule (deploy/kubernetes/prometheusrule.yaml)."""
    from slastream.config import load_settings
    from slastream.errors import ConfigError

    parser = argparse.ArgumentParser(prog="python -m slastream.export.rules")
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--name", default="slastream")
    parser.add_argument("--namespace", default="slastream")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        rule = prometheus_rule(settings, args.name, args.namespace)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    sys.stdout.write(f"# PrometheusRule for {args.config}, generated by `python -m "
                     f"slastream.export.rules -c {args.config}`. Do not edit.\n")
    sys.stdout.write(to_yaml(rule))
    return 0


if __name__ == "__main__":
    raise SystemExit(_prometheus_rule_main(sys.argv[1:]))
