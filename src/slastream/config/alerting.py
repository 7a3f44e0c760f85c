"""The per-SLO ``alerting`` block: keys, defaults, validation → an :class:`AlertPolicy`.

Every key is optional::

    alerting:
      period: 30d            # rolling SLO period the error budget is spread over (Sloth's
                             # "time window"); burn-rate factors are derived from it
      page:                  # window pairs that page; [] disables paging
        - {long: 1h, short: 5m, budget_percent: 2}   # or `factor: 14.4` instead of budget_percent
        - {long: 6h, short: 30m, budget_percent: 5}
      ticket:                # window pairs that open a ticket; [] disables them
        - {long: 1d, short: 2h, budget_percent: 10}
        - {long: 3d, short: 6h, budget_percent: 10}
      no_data: {window: 10m, for: 10m, severity: ticket}     # or false
      budget_exhausted: {for: 5m, severity: ticket}          # or false
      breach: {for: 5m, severity: page}                      # or false; default `for` is the
                                                             # downtime rule's min_duration_s
      response_time: {window: 24h, for: 0s, severity: ticket}  # response_time SLOs only
      service: loriot        # sloth_service label (default: first contract naming the SLO)
      runbook_url: https://wiki.example.net/runbooks/{alert}  # {alert} and {slo} are filled in
      labels: {team: iot}    # extra labels on every alert of this SLO

A window pair may carry its own ``for``. Problems are reported like the rest of the config:
one line ``FILE: slos[i].alerting.KEY: what is wrong`` each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from slastream.config.checker import Checker
from slastream.model.alerting import (
    DEFAULT_RUNBOOK_URL,
    SEVERITIES,
    AlertPolicy,
    BurnWindow,
    Severity,
    Toggle,
    format_duration,
)
from slastream.model.spec import SLO, Contract, DowntimeRule, SliKind

# The SRE Workbook's recommended parameters for a 30-day SLO ("Alerting on SLOs", table 5-8,
# and Sloth's google-30d windows): (share of the period's budget consumed in percent, long
# window, short window = long / 12). The factor is derived from the period, so 2 % in 1 h of
# 30 d is 14.4×, 5 % in 6 h is 6×, 10 % in 1 d is 3× and 10 % in 3 d is 1×.
_Table = tuple[tuple[str, str, float], ...]
_DEFAULT_WINDOWS: tuple[tuple[Severity, _Table], ...] = (
    ("page", (("1h", "5m", 2.0), ("6h", "30m", 5.0))),
    ("ticket", (("1d", "2h", 10.0), ("3d", "6h", 10.0))),
)
DEFAULT_PERIOD = "30d"

_KEYS = {"period", "page", "ticket", "no_data", "budget_exhausted", "breach", "response_time",
         "service", "runbook_url", "labels"}
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED_LABELS = {"slo", "scope", "severity", "tier", "alertname", "contract"}

_Pair = tuple[int, int, float, int]  # long_s, short_s, factor, for_s


def _windows(c: Checker, raw: Any, key: str, defaults: _Table, period_s: int) -> list[_Pair]:
    """→ (long_s, short_s, factor, for_s) per pair, in the order given."""
    if raw is None:
        raw = [{"long": lg, "short": sh, "budget_percent": pct} for lg, sh, pct in defaults]
    if not isinstance(raw, list):
        c.fail(key, "must be a list of {long, short, budget_percent | factor} pairs")
        return []
    out = []
    for j, item in enumerate(raw):
        k = f"{key}[{j}]"
        if not isinstance(item, dict):
            c.fail(k, f"must be a mapping with long, short and budget_percent or factor, "
                      f"got {item!r}")
            continue
        for extra in _sorted(set(item) - {"long", "short", "budget_percent", "factor", "for"}):
            c.fail(f"{k}.{extra}", "unknown key")
        if "long" not in item or "short" not in item:
            c.fail(k, "needs both long and short windows")
            continue
        long_s = c.duration(item["long"], f"{k}.long", 0)
        short_s = c.duration(item["short"], f"{k}.short", 0)
        for_s = c.duration(item.get("for"), f"{k}.for", 0)
        if long_s and short_s and short_s >= long_s:
            c.fail(k, f"short window ({item['short']}) must be shorter than long ({item['long']})")
        if long_s > period_s:
            c.fail(f"{k}.long", f"is longer than the SLO period ({format_duration(period_s)})")
        factor = _factor(c, item, k, long_s, period_s)
        if long_s and short_s and factor:
            out.append((long_s, short_s, factor, for_s))
    return out


def _factor(c: Checker, item: dict[str, Any], k: str, long_s: int, period_s: int) -> float:
    has_pct, has_factor = "budget_percent" in item, "factor" in item
    if has_pct == has_factor:
        c.fail(k, "needs exactly one of budget_percent or factor")
        return 0.0
    value = item["budget_percent" if has_pct else "factor"]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        c.fail(f"{k}.{'budget_percent' if has_pct else 'factor'}",
               f"must be a positive number, got {value!r}")
        return 0.0
    if has_factor:
        return float(value)
    # Sloth's and the Workbook's definition: factor = budget share × period / long window.
    return round(float(value) / 100.0 * period_s / long_s, 6) if long_s else 0.0


def _burn_windows(c: Checker, a: dict[str, Any], path: str, period_s: int,
                  objective: float | None, judge: bool) -> tuple[BurnWindow, ...]:
    """Page pairs then ticket pairs, numbered into tiers; none without an objective.

    With ``judge``, a pair that can never fire under the objective is a problem.
    """
    pairs: list[tuple[Severity, _Pair]] = []
    for severity, defaults in _DEFAULT_WINDOWS:
        key = f"{path}.{severity}"
        pairs += [(severity, w) for w in _windows(c, a.get(severity), key, defaults, period_s)]
    budget = None if objective is None else round(1.0 - objective, 12)
    windows = []
    for tier, (severity, (long_s, short_s, factor, for_s)) in enumerate(pairs, start=1):
        if judge and budget is not None and factor * budget >= 1.0:
            c.fail(f"{path}.{severity}",
                   f"factor {factor:g} × error budget {budget:g} is at least 1: "
                   f"the {format_duration(long_s)} alert could never fire")
        windows.append(BurnWindow(severity, tier, long_s, short_s, factor, for_s))
    return tuple(windows) if objective is not None else ()


def _toggle(c: Checker, raw: Any, key: str, default_for_s: int, default_severity: Severity,
            default_window_s: int = 0) -> Toggle | None:
    if raw is False:
        return None
    if raw is None or raw is True:
        d: dict[str, Any] = {}
    elif isinstance(raw, dict):
        d = raw
    else:
        c.fail(key, f"must be a mapping or false, got {raw!r}")
        return None
    allowed = {"for", "severity"} | ({"window"} if default_window_s else set())
    for extra in _sorted(set(d) - allowed):
        c.fail(f"{key}.{extra}", "unknown key")
    value = d.get("severity", default_severity)
    severity = next((s for s in SEVERITIES if s == value), None)
    if severity is None:
        c.fail(f"{key}.severity", f"must be one of {', '.join(SEVERITIES)}; got {value!r}")
        severity = default_severity
    return Toggle(
        for_s=c.duration(d.get("for"), f"{key}.for", default_for_s),
        severity=severity,
        window_s=c.duration(d.get("window"), f"{key}.window", default_window_s)
        if default_window_s else 0,
    )


def _labels(c: Checker, raw: Any, path: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        c.fail(f"{path}.labels", f"must be a mapping of label name to value, got {raw!r}")
        return ()
    out = []
    for name, value in raw.items():
        key = f"{path}.labels.{name}"
        if not isinstance(name, str) or not _LABEL_NAME.match(name) or name.startswith("__"):
            c.fail(key, "is not a valid Prometheus label name")
        elif name in _RESERVED_LABELS or name.startswith("sloth_"):
            c.fail(key, "is set by slastream and cannot be overridden")
        elif not isinstance(value, str | int | float) or isinstance(value, bool):
            c.fail(key, f"must be a string, got {value!r}")
        else:
            out.append((name, str(value)))
    return tuple(sorted(out))


def _sorted(keys: Iterable[Any]) -> list[str]:
    """Unknown keys in a stable order; YAML keys need not be strings."""
    return sorted(str(k) for k in keys)


def alert_policy(c: Checker, raw: Any, path: str, sli: SliKind, objective: float | None,
                 downtime: DowntimeRule, target_ms: float | None,
                 slo_valid: bool) -> AlertPolicy:
    """Validate one SLO's ``alerting`` block (``path`` is ``slos[i].alerting``).

    Whether a burn rate can fire depends on the objective, so it is judged only for an SLO
    whose own keys are valid (``slo_valid``): a broken SLO is reported for what is wrong with
    it, not also for what follows from it. ``service`` is left empty unless the block names
    one: :func:`with_services` fills it in once the contracts are read.
    """
    a = c.mapping(raw, path)
    for extra in _sorted(set(a) - _KEYS):
        c.fail(f"{path}.{extra}", "unknown key")
    period_s = c.duration(a.get("period", DEFAULT_PERIOD), f"{path}.period", 30 * 86400)
    windows = _burn_windows(c, a, path, period_s, objective, slo_valid)
    service = c.text(a, "service", path, None) or ""
    # Sparse LoRaWAN traffic can be silent for an hour without anything being wrong; a probe
    # that stops reporting is "no data" after a few missed rounds.
    no_data_s = 3600 if sli in ("delivery", "rx2") else 600
    return AlertPolicy(
        service=service,
        period_s=period_s,
        windows=windows,
        no_data=_toggle(c, a.get("no_data"), f"{path}.no_data", 600, "ticket", no_data_s),
        budget_exhausted=_toggle(c, a.get("budget_exhausted"), f"{path}.budget_exhausted",
                                 300, "ticket") if objective is not None else None,
        # The contract counts an episode as downtime once it lasts min_duration_s
        # (e.g. LORIOT: "unreachable for 5 minutes"), so that is when the outage alert fires.
        breach=_toggle(c, a.get("breach"), f"{path}.breach", downtime.min_duration_s, "page"),
        response_time=_toggle(c, a.get("response_time"), f"{path}.response_time", 0, "ticket",
                              max(downtime.window_s, 300))
        if sli == "response_time" and target_ms is not None else None,
        runbook_url=c.text(a, "runbook_url", path, None) or DEFAULT_RUNBOOK_URL,
        labels=_labels(c, a.get("labels"), path),
    )


def with_services(slos: Iterable[SLO], contracts: Iterable[Contract],
                  source: str) -> tuple[SLO, ...]:
    """Fill in each SLO's default alerting ``service``: the first contract naming the SLO,
    else the config file's name."""
    contracts = tuple(contracts)
    fallback = Path(source).stem or "slastream"
    out = []
    for slo in slos:
        if not slo.alerting.service:
            service = next((k.name for k in contracts if slo.name in k.slos), fallback)
            slo = replace(slo, alerting=replace(slo.alerting, service=service))
        out.append(slo)
    return tuple(out)
