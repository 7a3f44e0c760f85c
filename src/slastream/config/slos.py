"""The ``slos`` section: each SLO, its downtime rule and its alerting block."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, get_args

from slastream.config.alerting import alert_policy
from slastream.config.checker import Checker
from slastream.config.environments import expand
from slastream.model import spec
from slastream.model.spec import SLI_KINDS, SLO, DowntimeRule

_SLO_KEYS = {"name", "sli", "objective", "downtime", "component", "description", "deadline_s",
             "scope_by", "source", "rx1_delay_s", "missing_ack", "ack_timeout_s", "target_ms",
             "block_requests", "alerting"}


def _downtime(c: Checker, raw: Any, path: str) -> DowntimeRule:
    d = c.mapping(raw, path)
    c.unknown(d, path, {"bad_below", "bad_above_ms", "window_s", "min_events",
                        "min_duration_s", "no_data", "failing_locations"})
    return DowntimeRule(
        bad_below=float(c.num(d, "bad_below", path, 1.0, 0.0, 1.0) or 0.0),
        bad_above_ms=c.num(d, "bad_above_ms", path, None, 0.0),
        window_s=int(c.num(d, "window_s", path, 60, 60, 31 * 86400, integer=True) or 60),
        min_events=int(c.num(d, "min_events", path, 1, 1, integer=True) or 1),
        min_duration_s=int(c.num(d, "min_duration_s", path, 60, 60, integer=True) or 60),
        no_data=c.choice(d, "no_data", path, "ignore", get_args(spec.NoDataRule)),
        failing_locations=int(c.num(d, "failing_locations", path, 1, 1, 1000, integer=True)
                              or 1),
    )


def _check_locations(c: Checker, sli: str, rule: DowntimeRule, path: str) -> None:
    """``downtime.failing_locations`` (docs/semantics.md#probe-locations): k of n prober
    locations, judged minute by minute, for probe SLIs only."""
    if rule.failing_locations == 1:
        return
    if sli != "probe":
        c.fail(f"{path}.failing_locations", "applies to sli probe only")
    if rule.window_s != 60:
        c.fail(f"{path}.failing_locations", f"judges each minute on its own; it needs "
                                            f"window_s 60, got {rule.window_s}")


def _slo(c: Checker, raw: Any, i: int) -> SLO | None:
    path = f"slos[{i}]"
    before = len(c.problems)
    d = c.mapping(raw, path)
    if not d:
        c.fail(path, "must be a mapping with at least name and sli")
        return None
    c.unknown(d, path, _SLO_KEYS | {"coverage"})
    name = c.text(d, "name", path, None)
    if name is None:
        c.fail(f"{path}.name", "is required")
    sli = next((k for k in SLI_KINDS if k == d.get("sli")), None)
    if sli is None:
        c.fail(f"{path}.sli", f"unknown SLI kind {d.get('sli')!r}; known: {', '.join(SLI_KINDS)}")
        return None
    objective = c.num(d, "objective", path, None, 0.0, 1.0)
    if objective is not None and not 0.0 < objective < 1.0:
        c.fail(f"{path}.objective", f"must be a ratio strictly between 0 and 1, got {objective!r}")
    if "objective" not in d and sli != "response_time":
        c.fail(f"{path}.objective", "is required for this SLI (a ratio like 0.999)")
    component = c.text(d, "component", path, None)
    if sli in ("probe", "response_time") and "component" not in d:
        c.fail(f"{path}.component", f"is required for sli {sli}")
    target = c.num(d, "target_ms", path, None, 0.0)
    if sli == "response_time" and "target_ms" not in d:
        c.fail(f"{path}.target_ms", "is required for sli response_time")
    downtime = _downtime(c, d.get("downtime"), f"{path}.downtime")
    _check_locations(c, sli, downtime, f"{path}.downtime")
    if sli == "response_time" and downtime.bad_above_ms is None and target is not None:
        downtime = replace(downtime, bad_above_ms=target)
    scope_by = d.get("scope_by")
    if scope_by in ("tenant", "application") and sli != "delivery":
        c.fail(f"{path}.scope_by", f"{scope_by} applies to sli delivery only")
    alerting = alert_policy(c, d.get("alerting"), f"{path}.alerting", sli, objective, downtime,
                            target, slo_valid=len(c.problems) == before)
    return SLO(
        name=name or f"slo-{i}", sli=sli, objective=objective, downtime=downtime,
        coverage=_coverage(c, d.get("coverage"), f"{path}.coverage"),
        alerting=alerting, component=component,
        description=c.text(d, "description", path, "") or "",
        deadline_s=float(c.num(d, "deadline_s", path, 30.0, 0.1, 3600) or 30.0),
        scope_by=c.choice(d, "scope_by", path, "network", get_args(spec.ScopeBy)),
        source=c.choice(d, "source", path, "gateway", get_args(spec.Rx2Source)),
        rx1_delay_s=float(c.num(d, "rx1_delay_s", path, 1.0, 1.0, 15.0) or 1.0),
        missing_ack=c.choice(d, "missing_ack", path, "miss", get_args(spec.MissingAck)),
        ack_timeout_s=float(c.num(d, "ack_timeout_s", path, 10.0, 1.0, 600.0) or 10.0),
        target_ms=target,
        block_requests=int(c.num(d, "block_requests", path, 1000, 1, integer=True) or 1000),
    )


def slos(c: Checker, raw: Any) -> tuple[SLO, ...]:
    """Every valid SLO of the ``slos`` list, one per environment of an SLO with
    ``environments`` (``config/environments.py``); SLO names must be unique."""
    if not isinstance(raw, list) or not raw:
        c.fail("slos", "must be a non-empty list")
        raw = []
    before = len(c.problems)
    out = [s for i, r in expand(c, raw) if (s := _slo(c, r, i)) is not None]
    # an item read once per environment reports each of its problems once
    c.problems[before:] = list(dict.fromkeys(c.problems[before:]))
    names = [s.name for s in out]
    for n in sorted({n for n in names if names.count(n) > 1}):
        c.fail("slos", f"duplicate SLO name {n!r}")
    return tuple(out)


def _coverage(c: Checker, raw: Any, path: str) -> spec.Coverage:
    """How much evidence the SLO needs to be reported met (docs/semantics.md#coverage)."""
    d = c.mapping(raw, path)
    c.unknown(d, path, {"min_ratio", "window_s"})
    window = c.num(d, "window_s", path, None, 60, 31 * 86400, integer=True)
    return spec.Coverage(
        min_ratio=float(c.num(d, "min_ratio", path, 0.9, 0.0, 1.0) or 0.0),
        window_s=None if window is None else int(window),
    )
