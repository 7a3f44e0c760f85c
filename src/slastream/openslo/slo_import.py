"""One OpenSLO SLO (with its SLI and burn-rate alert policies) as an entry of ``slos``.

An SLO maps when it is budgeted in one-minute ``Timeslices`` over calendar months and its SLI
reads slastream's own metrics; anything else changes what is measured, and the SLO is left
out with one problem line saying why (docs/openslo.md#what-does-not-map). A function that
cannot map returns the reason as a :class:`NoMap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slastream.model.alerting import parse_duration_s
from slastream.openslo import vocabulary as v
from slastream.openslo.alerts_import import burn_windows
from slastream.openslo.documents import Doc, Documents, NoMap, inline, mapping

# Keys of an SLO entry that the SLI's parameters cannot set.
_NOT_PARAMS = {"name", "sli", "objective", "description", "downtime", "alerting"}


@dataclass(frozen=True)
class Measure:
    """What an SLI says about an SLO: its slastream name, SLI kind and parameters."""

    name: str
    sli: str
    params: dict[str, Any]
    threshold: bool  # response time: a threshold on the mean, not a ratio
    window_s: int | None  # the trailing window the threshold query averages over


def _source_type(source: Any, docs: Documents) -> str | None:
    """The data source type of a metricSource: its own, else its DataSource's."""
    if not isinstance(source, dict):
        return None
    if isinstance(source.get("type"), str):
        return str(source["type"])
    ref = docs.get("DataSource", source.get("metricSourceRef"))
    if ref is not None and isinstance(ref.spec.get("type"), str):
        return str(ref.spec["type"])
    return None


def _query(metric: Any, docs: Documents) -> tuple[Any, str | None]:
    source = metric.get("metricSource") if isinstance(metric, dict) else None
    spec = source.get("spec") if isinstance(source, dict) else None
    query = spec.get("query") if isinstance(spec, dict) else None
    return query, _source_type(source, docs)


def _other_source(kind: str | None) -> NoMap | None:
    if kind not in (None, v.DATASOURCE_TYPE):
        return NoMap(f"its SLI reads {kind}, not slastream's Prometheus metrics: slastream "
                     "measures its own SLIs from telemetry")
    return None


def _ratio(ratio: dict[str, Any], docs: Documents) -> str | NoMap:
    """The slastream SLO name a ratio over slastream's events counts, or why it is not one."""
    if "raw" in ratio:
        return NoMap("its SLI is a precomputed (raw) ratio, not slastream's event counters")
    part = "good" if "good" in ratio else "bad"
    top, top_type = _query(ratio.get(part), docs)
    total, total_type = _query(ratio.get("total"), docs)
    other = _other_source(top_type) or _other_source(total_type)
    if other:
        return other
    top_q, total_q = v.parse_events_query(top), v.parse_events_query(total)
    if top_q is None or total_q is None or top_q != (total_q[0], part) or total_q[1]:
        return NoMap(f"its SLI's queries are not slastream's counters ({v.EVENTS}{{slo=...,"
                     f'outcome="{part}"}} over {v.EVENTS}{{slo=...}})')
    if ratio.get("counter") is False:
        return NoMap(f"its SLI reads {v.EVENTS} as a gauge (counter: false); it is a counter")
    return top_q[0]


def measure(sli: Doc, docs: Documents) -> Measure | NoMap:
    """The slastream SLI behind an OpenSLO SLI, or why there is none."""
    kind = sli.annotations.get(v.A_SLI)
    params = docs.json(sli, v.A_SLI_PARAMS)
    params = params if isinstance(params, dict) else {}
    if isinstance(sli.spec.get("thresholdMetric"), dict):
        query, source = _query(sli.spec["thresholdMetric"], docs)
        parsed = v.parse_latency_query(query)
        if parsed is None:
            return _other_source(source) or NoMap(
                "its SLI's threshold query is not slastream's mean response time "
                f"(sum(rate({v.LATENCY}_sum{{slo=...}}[W])) / sum(rate(..._count...)))")
        if kind not in (None, "response_time"):
            return NoMap(f"its SLI is annotated {kind} but measures response time")
        return Measure(parsed[0], "response_time", params, True, parsed[1])
    ratio = sli.spec.get("ratioMetric")
    if not isinstance(ratio, dict):
        return NoMap("its SLI has neither a ratioMetric nor a thresholdMetric")
    found = _ratio(ratio, docs)
    if isinstance(found, NoMap):
        return found
    if kind not in ("delivery", "rx2", "probe"):
        return NoMap(f"its SLI counts slastream's events but has no {v.A_SLI} annotation saying "
                "which SLI (delivery, rx2 or probe) makes them")
    return Measure(found, str(kind), params, False, None)


def _indicator(doc: Doc, docs: Documents) -> Doc | NoMap:
    spec = doc.spec
    if "indicatorRef" in spec:
        found = docs.get("SLI", spec["indicatorRef"])
        return found or NoMap(f"its indicatorRef {spec['indicatorRef']!r} names no SLI of "
                              "these files")
    return inline(spec.get("indicator"), "SLI", doc.where) or NoMap("it has no indicator")


def _is_month_start(start: Any) -> bool:
    if isinstance(start, datetime):
        start = start.strftime("%Y-%m-%d %H:%M:%S")
    return isinstance(start, str) and start[8:] == "01 00:00:00" and len(start) == 19


def calendar_zone(spec: dict[str, Any]) -> str | NoMap | None:
    """The time zone of a one-month calendar window; ``None`` when there is no window."""
    windows = spec.get("timeWindow")
    if not windows:
        return None
    w = windows[0] if isinstance(windows, list) and len(windows) == 1 else None
    if not isinstance(w, dict):
        return NoMap("its timeWindow is not a list of one window")
    if w.get("isRolling") or not isinstance(w.get("calendar"), dict):
        return NoMap(f"its {w.get('duration')} rolling window does not map: slastream judges "
                     "calendar months (a contract's billing period)")
    cal = w["calendar"]
    if w.get("duration") != v.MONTH or not _is_month_start(cal.get("startTime")):
        return NoMap(f"its calendar window of {w.get('duration')} from {cal.get('startTime')}"
                     " does not map: slastream judges calendar months from the 1st, 00:00")
    zone = cal.get("timeZone")
    return zone if isinstance(zone, str) else NoMap("its calendar has no timeZone")


def _budget(spec: dict[str, Any]) -> NoMap | None:
    method = spec.get("budgetingMethod")
    if method == "Timeslices":
        return None
    why = {"Occurrences": "counts events against the target",
           "RatioTimeslices": "averages the ratios of the time slices"}.get(
        str(method), "is not an OpenSLO v1 budgeting method")
    return NoMap(f"budgetingMethod {method} {why}; slastream counts bad minutes (Timeslices of "
            f"{v.SLICE_WINDOW}), so the objective would change meaning")


def objective(doc: Doc) -> dict[str, Any] | NoMap:
    """The first objective (composite objectives are refused)."""
    objectives = doc.spec.get("objectives")
    if not isinstance(objectives, list) or not objectives or not isinstance(objectives[0], dict):
        return NoMap("it has no objectives")
    if any(isinstance(o, dict) and ("indicator" in o or "indicatorRef" in o)
           for o in objectives):
        return NoMap("it is a composite SLO: slastream has no composite objective "
                     "(contracts combine SLOs by min or mean instead)")
    first = objectives[0]
    window = first.get("timeSliceWindow")
    if window not in (v.SLICE_WINDOW, 1):
        return NoMap(f"its time slices of {window} do not map: slastream judges every "
                     f"minute (timeSliceWindow {v.SLICE_WINDOW})")
    target = first.get("target")
    if target is None and isinstance(first.get("targetPercent"), int | float):
        target = first["targetPercent"] / 100.0
    if isinstance(target, bool) or not isinstance(target, int | float):
        return NoMap("its objective has no numeric target")
    return {**first, "target": float(target)}


def _dropped(doc: Doc, docs: Documents) -> None:
    """Report the objectives after the first of an SLO that is imported."""
    objectives = doc.spec["objectives"]
    if len(objectives) > 1:
        dropped = ", ".join(str(mapping(o).get("displayName") or f"#{i + 2}")
                            for i, o in enumerate(objectives[1:]))
        docs.fail(doc.where, f"objectives after the first dropped ({dropped}): a slastream SLO "
                             "has one objective")


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


def _minute_rule(obj: dict[str, Any], m: Measure, docs: Documents,
                 doc: Doc) -> dict[str, Any] | NoMap:
    """What makes a minute bad: the objective's ``value`` (response time, seconds) or its
    ``timeSliceTarget`` (ratios); annotations where the objective cannot carry it."""
    bad_below = docs.number(doc, v.A_BAD_BELOW, integer=False)
    if not m.threshold:
        target = _number(obj.get("timeSliceTarget"))
        if target is None:
            return NoMap("its objective has no timeSliceTarget: which minutes are bad is unsaid")
        return {"bad_below": target if bad_below is None else bad_below,
                "bad_above_ms": docs.number(doc, v.A_BAD_ABOVE_MS, integer=False)}
    op, limit = obj.get("op", "lte"), _number(obj.get("value"))
    if op not in ("lte", "lt") or limit is None:
        return NoMap(f"its objective ({op} {obj.get('value')!r}) is not a limit on the mean "
                     "response time (lte, a value in seconds)")
    if op == "lt":
        docs.fail(doc.where, "objective op lt imported as lte: a minute is bad when the mean "
                             "is above the limit")
    return {"bad_below": bad_below, "bad_above_ms": round(limit * 1000.0, 9)}


def _downtime(doc: Doc, docs: Documents, obj: dict[str, Any],
              m: Measure) -> dict[str, Any] | NoMap:
    out = _minute_rule(obj, m, docs, doc)
    if isinstance(out, NoMap):
        return out
    out["window_s"] = docs.number(doc, v.A_WINDOW) or m.window_s
    out["min_events"] = docs.number(doc, v.A_MIN_EVENTS)
    out["min_duration_s"] = docs.number(doc, v.A_MIN_DURATION)
    out["no_data"] = doc.annotations.get(v.A_NO_DATA)
    out["failing_locations"] = docs.number(doc, v.A_FAILING_LOCATIONS)
    return {k: val for k, val in out.items() if val is not None}


def _alerting(doc: Doc, docs: Documents, objective: float | None,
              service: str) -> dict[str, Any]:
    rest = docs.json(doc, v.A_ALERTING)
    out: dict[str, Any] = rest if isinstance(rest, dict) else {}
    if service:
        out.setdefault("service", service)
    if objective is not None:
        try:
            period_s = parse_duration_s(out.get("period", "30d"))
        except ValueError:
            period_s = 30 * 86400  # the loader reports the bad period
        out |= burn_windows(doc, docs, period_s, round(1.0 - objective, 12))
    return out


def slo_entry(doc: Doc, docs: Documents) -> dict[str, Any] | NoMap:
    """The ``slos`` entry for an OpenSLO SLO, or why it does not map."""
    obj = _budget(doc.spec) or objective(doc)
    if isinstance(obj, NoMap):
        return obj
    sli = _indicator(doc, docs)
    m = measure(sli, docs) if isinstance(sli, Doc) else sli
    if isinstance(m, NoMap):
        return m
    target: float | None = obj["target"] or None
    if target is None and m.sli != "response_time":
        return NoMap(f"its target is 0: a {m.sli} SLO needs an objective between 0 and 1")
    entry: dict[str, Any] = {"name": m.name, "sli": m.sli}
    if target is not None:
        entry["objective"] = target
    text = doc.annotations.get(v.A_DESCRIPTION) or doc.spec.get("description")
    if isinstance(text, str) and text:
        entry["description"] = text
    downtime = _downtime(doc, docs, obj, m)
    if isinstance(downtime, NoMap):
        return downtime
    _dropped(doc, docs)
    entry |= {k: val for k, val in m.params.items() if k not in _NOT_PARAMS}
    entry["downtime"] = downtime
    service = doc.spec.get("service")
    entry["alerting"] = _alerting(doc, docs, target, service if isinstance(service, str)
                                  else "")
    return entry
