"""A validated config as OpenSLO v1 documents (``slastream openslo export``).

One ``DataSource`` (slastream's Prometheus exposition), one ``Service`` per contract, and per
SLO an ``SLI``, an ``SLO`` and, per burn-rate window of its alerting policy, an
``AlertCondition`` with the ``AlertPolicy`` that uses it (a v1 policy holds one condition).
An SLO is budgeted by ``Timeslices`` of one minute over calendar months: slastream judges
every minute good, bad or without data and counts bad minutes (docs/semantics.md#slices). What
OpenSLO has no field for (the trailing window, minimum events and duration, the no-data
rule, exclusions, credits, the other alerts) is kept in ``slastream.io/`` annotations in
the config's own syntax, so :mod:`slastream.openslo.importer` gives back the same settings.
The mapping is docs/openslo.md.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from slastream.model.alerting import BurnWindow, format_duration
from slastream.model.spec import SLO, Contract, Settings
from slastream.openslo import config_syntax
from slastream.openslo import vocabulary as v

# A minute is good when its ratio is at least ``bad_below``; OpenSLO's timeSliceTarget must
# be above 0, so "never bad" (bad_below 0) is written as this and kept in an annotation.
_NEVER_BAD = 1e-9


def _doc(kind: str, name: str, spec: dict[str, Any],
         annotations: dict[str, str] | None = None, display: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if display:
        metadata["displayName"] = display
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": v.API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _describe(spec: dict[str, Any], annotations: dict[str, str], text: str) -> None:
    """Set ``spec.description``; a longer text than OpenSLO allows is kept whole aside."""
    if not text:
        return
    if len(text) > v.DESCRIPTION_MAX:
        annotations[v.A_DESCRIPTION] = text
        text = text[: v.DESCRIPTION_MAX - 1] + "…"
    spec["description"] = text


def datasource(settings: Settings) -> dict[str, Any]:
    """slastream's metrics, and the settings of the file that belong to no SLO."""
    annotations = {v.A_TIMEZONE: settings.timezone, v.A_LATENESS: str(settings.lateness_s)}
    for key, value in config_syntax.sections(settings).items():
        annotations[v.A_SECTIONS[key]] = _json(value)
    http = settings.http
    return _doc("DataSource", v.DATASOURCE, {
        "description": ("slastream's Prometheus exposition (docs/interfaces.md). Queries go "
                        "to the Prometheus server that scrapes it: set its url here."),
        "type": v.DATASOURCE_TYPE,
        "connectionDetails": {"scrapeTarget": f"http://{http.host}:{http.port}/metrics"},
    }, annotations)


def notification_target(severity: str) -> dict[str, Any]:
    return _doc("AlertNotificationTarget", f"slastream-{severity}", {
        "description": (f"Alerts with severity={severity} from `slastream rules`, routed by "
                        "Alertmanager on that label."),
        "target": v.TARGET,
    })


def service(c: Contract) -> dict[str, Any]:
    """A contract: the SLOs it combines and the credit it owes, as an annotation."""
    objective = f", objective {c.objective:.10g}" if c.objective is not None else ""
    return _doc("Service", v.object_name(c.name), {
        "description": (f"Contract {c.name}: the {c.combine} of {len(c.slos)} SLOs"
                        f"{objective}, credit {c.credit.kind}."),
    }, {v.A_CONTRACT: _json(config_syntax.contract(c))})


def _metric(query: str) -> dict[str, Any]:
    return {"metricSource": {"metricSourceRef": v.DATASOURCE, "type": v.DATASOURCE_TYPE,
                             "spec": {"query": query}}}


def sli(slo: SLO, name: str) -> dict[str, Any]:
    """Ratio SLIs count slastream's final events; response time is a threshold on the mean.

    The response-time clauses promise a mean over a trailing window (the latency histogram's
    sum over its count), which a ratio of histogram buckets (a share of fast requests)
    cannot say; so it is a ``thresholdMetric`` over that window.
    """
    annotations = {v.A_SLI: slo.sli, v.A_SLI_PARAMS: _json(config_syntax.sli_params(slo))}
    spec: dict[str, Any]
    if slo.sli == "response_time":
        spec = {"description": f"Mean response time of {slo.name}, in seconds",
                "thresholdMetric": _metric(v.latency_query(slo.name, slo.downtime.window_s))}
    else:
        spec = {"description": f"Final {slo.sli} events of {slo.name}: good over all",
                "ratioMetric": {"counter": True, "good": _metric(v.events_query(slo.name, "good")),
                                "total": _metric(v.events_query(slo.name))}}
    return _doc("SLI", name, spec, annotations)


def _objective(slo: SLO) -> dict[str, Any]:
    d = slo.downtime
    # No objective: no share of good minutes is promised (the minutes still count for
    # credits), which is a target of 0.
    target = slo.objective or 0.0
    shown = f"{target * 100:.10g} % of minutes good" if target else "minutes judged, no target"
    out: dict[str, Any] = {"displayName": shown}
    if slo.sli == "response_time":
        limit_ms = d.bad_above_ms if d.bad_above_ms is not None else slo.target_ms or 0.0
        out |= {"op": "lte", "value": limit_ms / 1000.0, "target": target,
                "timeSliceTarget": 1.0}
    else:
        out |= {"target": target, "timeSliceTarget": d.bad_below or _NEVER_BAD}
    out["timeSliceWindow"] = v.SLICE_WINDOW
    return out


def _slo_annotations(slo: SLO) -> dict[str, str]:
    d = slo.downtime
    out = {v.A_WINDOW: str(d.window_s), v.A_MIN_EVENTS: str(d.min_events),
           v.A_MIN_DURATION: str(d.min_duration_s), v.A_NO_DATA: d.no_data}
    if d.failing_locations != 1:
        out[v.A_FAILING_LOCATIONS] = str(d.failing_locations)
    # Only where the objective's fields cannot carry the value.
    if slo.sli == "response_time" and d.bad_below != 1.0:
        out[v.A_BAD_BELOW] = repr(d.bad_below)
    if slo.sli != "response_time" and d.bad_below == 0:
        out[v.A_BAD_BELOW] = "0.0"
    if slo.sli != "response_time" and d.bad_above_ms is not None:
        out[v.A_BAD_ABOVE_MS] = repr(d.bad_above_ms)
    alerting = config_syntax.alerting_rest(slo.alerting)
    if v.object_name(slo.alerting.service) != slo.alerting.service:
        alerting["service"] = slo.alerting.service
    out[v.A_ALERTING] = _json(alerting)
    return out


def slo_doc(settings: Settings, slo: SLO, name: str, policies: list[str]) -> dict[str, Any]:
    """The SLO: calendar months in the config's time zone, one-minute time slices."""
    annotations = _slo_annotations(slo)
    spec: dict[str, Any] = {}
    _describe(spec, annotations, slo.description)
    spec |= {
        "service": v.object_name(slo.alerting.service),
        "indicatorRef": name,
        "timeWindow": [{"duration": v.MONTH, "isRolling": False,
                        "calendar": {"startTime": v.MONTH_START,
                                     "timeZone": v.openslo_zone(settings.timezone)}}],
        "budgetingMethod": "Timeslices",
        "objectives": [_objective(slo)],
    }
    if policies:
        spec["alertPolicies"] = policies
    return _doc("SLO", name, spec, annotations)


def burn_documents(slo: SLO, w: BurnWindow, name: str) -> list[dict[str, Any]]:
    """One burn-rate window: its condition (long window; the short one is an annotation)
    and the policy holding it."""
    lookback, exact_long = v.shorthand(w.long_s)
    after, exact_for = v.shorthand(w.for_s)
    annotations = {v.A_SHORT_WINDOW: format_duration(w.short_s)}
    if not exact_long:
        annotations[v.A_LONG_WINDOW] = format_duration(w.long_s)
    if not exact_for:
        annotations[v.A_FOR] = format_duration(w.for_s)
    what = (f"{slo.name} burns its error budget faster than {w.factor:.10g}× the sustainable "
            f"rate over the last {format_duration(w.long_s)} and {format_duration(w.short_s)}")
    condition = _doc("AlertCondition", name, {
        "description": what, "severity": w.severity,
        "condition": {"kind": "burnrate", "op": "gt", "threshold": w.factor,
                      "lookbackWindow": lookback, "alertAfter": after},
    }, annotations)
    policy = _doc("AlertPolicy", name, {
        "description": f"{w.severity} (tier {w.tier}) when {what}",
        # slastream's own no-data alert is separate (the alerting annotation of the SLO).
        "alertWhenNoData": False, "alertWhenResolved": False, "alertWhenBreaching": True,
        "conditions": [{"conditionRef": name}],
        "notificationTargets": [{"targetRef": f"slastream-{w.severity}"}],
    })
    return [condition, policy]


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}-{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def documents(settings: Settings) -> list[dict[str, Any]]:
    """Every document, in an order a reader can follow: sources first, then per SLO."""
    severities = sorted({w.severity for s in settings.slos for w in s.alerting.windows})
    docs = [datasource(settings), *(notification_target(s) for s in severities),
            *(service(c) for c in settings.contracts)]
    names = _unique([v.object_name(s.name) for s in settings.slos])
    for slo, name in zip(settings.slos, names, strict=True):
        burns = [(w, f"{name}-burn-{w.tier}") for w in slo.alerting.windows]
        docs.append(sli(slo, name))
        for w, burn in burns:
            docs += burn_documents(slo, w, burn)
        docs.append(slo_doc(settings, slo, name, [burn for _w, burn in burns]))
    return docs


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # never &id001 anchors: every document stands on its own


def export_main(settings: Settings) -> str:
    """``slastream openslo export -c CONFIG``: the documents as one multi-document YAML."""
    header = (f"# OpenSLO v1 documents for {settings.source}, written by `slastream openslo "
              "export`. slastream.io/ annotations hold what OpenSLO has no field for; "
              "`slastream openslo import` reads them back (docs/openslo.md).\n")
    body = yaml.dump_all(documents(settings), Dumper=_Dumper, sort_keys=False,
                         allow_unicode=True, width=4096, explicit_start=True)
    return header + body
