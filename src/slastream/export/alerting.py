"""The per-SLO ``alerting`` block: keys, defaults, validation → an :class:`AlertPlan`.

``config.SLO.alerting`` is a free-form mapping; this module owns its keys. Every key is
optional::

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
one line ``FILE: slos[i].alerting.KEY: what is wrong`` each, all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slastream.errors import ConfigError
from slastream.model.spec import SLO, Settings

SEVERITIES = ("page", "ticket")

# Where an alert's runbook_url points unless the SLO says otherwise: the runbooks section of
# deploy/README.md, one anchor per alert name.
DEFAULT_RUNBOOK_URL = (
    "https://github.com/slastream/slastream/blob/main/deploy/README.md#runbook-{alert}"
)

# The SRE Workbook's recommended parameters for a 30-day SLO ("Alerting on SLOs", table 5-8,
# and Sloth's google-30d windows): (share of the period's budget consumed in percent, long
# window, short window = long / 12). The factor is derived from the period, so 2 % in 1 h of
# 30 d is 14.4×, 5 % in 6 h is 6×, 10 % in 1 d is 3× and 10 % in 3 d is 1×.
_DEFAULT_PAGE = (("1h", "5m", 2.0), ("6h", "30m", 5.0))
_DEFAULT_TICKET = (("1d", "2h", 10.0), ("3d", "6h", 10.0))
DEFAULT_PERIOD = "30d"

_KEYS = {"period", "page", "ticket", "no_data", "budget_exhausted", "breach", "response_time",
         "service", "runbook_url", "labels"}
_UNITS_S = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:\d+(?:y|w|d|h|ms|m|s))+$")
_PART = re.compile(r"(\d+)(y|w|d|h|ms|m|s)")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED_LABELS = {"slo", "scope", "severity", "tier", "alertname", "contract"}


def parse_duration_s(text: str) -> int:
    """Parse a Prometheus duration (``5m``, ``1h30m``, ``30d``) into whole seconds.

    Raises ``ValueError`` for anything Prometheus would reject or below one second.
    """
    if not isinstance(text, str) or not _DURATION.match(text):
        raise ValueError(f"must be a duration like 5m, 1h or 30d, got {text!r}")
    total_ms = 0
    for number, unit in _PART.findall(text):
        total_ms += int(number) * (1 if unit == "ms" else _UNITS_S[unit] * 1000)
    if total_ms < 1000 or total_ms % 1000:
        raise ValueError(f"must be a whole number of seconds, at least 1s, got {text!r}")
    return total_ms // 1000


def format_duration(seconds: int) -> str:
    """Format seconds the way Prometheus prints durations (``30d``, ``4w``, ``1h30m``).

    Sloth names its recording rules with this format (``slo:sli_error:ratio_rate4w`` for 28 d),
    so the names match Sloth's for the same windows.
    """
    if seconds <= 0:
        return "0s"
    out = []
    for unit, size in _UNITS_S.items():
        # Like Prometheus, years and weeks only when exact: 30d reads better than 4w2d.
        if unit in "yw" and seconds % size:
            continue
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)


@dataclass(frozen=True)
class BurnWindow:
    """One multiwindow burn-rate condition: both windows above ``factor`` × error budget."""

    severity: str
    tier: int  # 1 is the most urgent; a firing tier inhibits higher numbers (Alertmanager)
    long_s: int
    short_s: int
    factor: float
    for_s: int


@dataclass(frozen=True)
class Toggle:
    """An optional alert: its ``for`` duration, severity and (for no-data) window."""

    for_s: int
    severity: str
    window_s: int = 0


@dataclass(frozen=True)
class AlertPlan:
    """Everything the rule generators need for one SLO, validated."""

    slo: SLO
    service: str
    period_s: int
    windows: tuple[BurnWindow, ...]
    no_data: Toggle | None
    budget_exhausted: Toggle | None
    breach: Toggle | None
    response_time: Toggle | None
    runbook_url: str
    labels: tuple[tuple[str, str], ...]

    @property
    def sloth_id(self) -> str:
        return f"{self.service}-{self.slo.name}"

    @property
    def error_budget(self) -> float | None:
        """1 − objective, rounded so 0.999 gives 0.001 and not 0.0010000000000000009."""
        if self.slo.objective is None:
            return None
        return round(1.0 - self.slo.objective, 12)

    @property
    def scope(self) -> str | None:
        """The scope label when the SLO has exactly one (CONTRACT: "network" or component)."""
        if self.slo.sli in ("probe", "response_time"):
            return self.slo.component
        return "network" if self.slo.scope_by == "network" else None

    def runbook(self, alert: str) -> str:
        """This SLO's runbook link for an alert name."""
        return runbook_link(self.runbook_url, alert, self.slo.name)


def runbook_link(template: str, alert: str, slo: str = "") -> str:
    """Fill ``{alert}`` (lower-cased, as a Markdown heading anchor) and ``{slo}``."""
    return template.replace("{alert}", alert.lower()).replace("{slo}", slo)


class _Problems:
    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path
        self.lines: list[str] = []

    def fail(self, key: str, what: str) -> None:
        self.lines.append(f"{self.source}: {self.path}.{key}: {what}")

    def duration(self, value: Any, key: str, default: int) -> int:
        if value is None:
            return default
        try:
            return parse_duration_s(value)
        except ValueError as exc:
            self.fail(key, str(exc))
            return default

    def mapping(self, value: Any, key: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping or false, got {value!r}")
            return None
        return value


def _default_service(settings: Settings, slo: SLO) -> str:
    for contract in settings.contracts:
        if slo.name in contract.slos:
            return contract.name
    return Path(settings.source).stem or "slastream"


def _windows(p: _Problems, raw: Any, key: str, defaults: tuple[tuple[str, str, float], ...],
             period_s: int) -> list[tuple[int, int, float, int]]:
    """→ (long_s, short_s, factor, for_s) per pair, in the order given."""
    if raw is None:
        raw = [{"long": lg, "short": sh, "budget_percent": pct} for lg, sh, pct in defaults]
    if not isinstance(raw, list):
        p.fail(key, "must be a list of {long, short, budget_percent | factor} pairs")
        return []
    out = []
    for j, item in enumerate(raw):
        k = f"{key}[{j}]"
        if not isinstance(item, dict):
            p.fail(k, f"must be a mapping with long, short and budget_percent or factor, "
                      f"got {item!r}")
            continue
        for extra in sorted(set(item) - {"long", "short", "budget_percent", "factor", "for"}):
            p.fail(f"{k}.{extra}", "unknown key")
        if "long" not in item or "short" not in item:
            p.fail(k, "needs both long and short windows")
            continue
        long_s = p.duration(item["long"], f"{k}.long", 0)
        short_s = p.duration(item["short"], f"{k}.short", 0)
        for_s = p.duration(item.get("for"), f"{k}.for", 0)
        if long_s and short_s and short_s >= long_s:
            p.fail(k, f"short window ({item['short']}) must be shorter than long ({item['long']})")
        if long_s > period_s:
            p.fail(f"{k}.long", f"is longer than the SLO period ({format_duration(period_s)})")
        factor = _factor(p, item, k, long_s, period_s)
        if long_s and short_s and factor:
            out.append((long_s, short_s, factor, for_s))
    return out


def _factor(p: _Problems, item: dict[str, Any], k: str, long_s: int, period_s: int) -> float:
    has_pct, has_factor = "budget_percent" in item, "factor" in item
    if has_pct == has_factor:
        p.fail(k, "needs exactly one of budget_percent or factor")
        return 0.0
    value = item["budget_percent" if has_pct else "factor"]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        p.fail(f"{k}.{'budget_percent' if has_pct else 'factor'}",
               f"must be a positive number, got {value!r}")
        return 0.0
    if has_factor:
        return float(value)
    # Sloth's and the Workbook's definition: factor = budget share × period / long window.
    return round(float(value) / 100.0 * period_s / long_s, 6) if long_s else 0.0


def _toggle(p: _Problems, raw: Any, key: str, default_for_s: int, default_severity: str,
            default_window_s: int = 0) -> Toggle | None:
    if raw is False:
        return None
    d = {} if raw is None or raw is True else p.mapping(raw, key)
    if d is None:
        return None
    allowed = {"for", "severity"} | ({"window"} if default_window_s else set())
    for extra in sorted(set(d) - allowed):
        p.fail(f"{key}.{extra}", "unknown key")
    severity = d.get("severity", default_severity)
    if severity not in SEVERITIES:
        p.fail(f"{key}.severity", f"must be one of {', '.join(SEVERITIES)}; got {severity!r}")
        severity = default_severity
    return Toggle(
        for_s=p.duration(d.get("for"), f"{key}.for", default_for_s),
        severity=severity,
        window_s=p.duration(d.get("window"), f"{key}.window", default_window_s)
        if default_window_s else 0,
    )


def _labels(p: _Problems, raw: Any) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        p.fail("labels", f"must be a mapping of label name to value, got {raw!r}")
        return ()
    out = []
    for name, value in raw.items():
        if not isinstance(name, str) or not _LABEL_NAME.match(name) or name.startswith("__"):
            p.fail(f"labels.{name}", "is not a valid Prometheus label name")
        elif name in _RESERVED_LABELS or name.startswith("sloth_"):
            p.fail(f"labels.{name}", "is set by slastream and cannot be overridden")
        elif not isinstance(value, str | int | float) or isinstance(value, bool):
            p.fail(f"labels.{name}", f"must be a string, got {value!r}")
        else:
            out.append((name, str(value)))
    return tuple(sorted(out))


def _text(p: _Problems, raw: Any, key: str, default: str) -> str:
    if raw is None:
        return default
    if not isinstance(raw, str) or not raw:
        p.fail(key, f"must be a non-empty string, got {raw!r}")
        return default
    return raw


def plan_slo(settings: Settings, index: int) -> tuple[AlertPlan | None, list[str]]:
    """Validate ``settings.slos[index].alerting`` → (plan or None, problem lines)."""
    slo = settings.slos[index]
    a: Mapping[str, Any] = slo.alerting
    p = _Problems(settings.source, f"slos[{index}].alerting")
    for extra in sorted(set(a) - _KEYS):
        p.fail(str(extra), "unknown key")
    period_s = p.duration(a.get("period", DEFAULT_PERIOD), "period", 30 * 86400)
    pairs = [("page", w) for w in _windows(p, a.get("page"), "page", _DEFAULT_PAGE, period_s)]
    pairs += [("ticket", w)
              for w in _windows(p, a.get("ticket"), "ticket", _DEFAULT_TICKET, period_s)]
    budget = None if slo.objective is None else round(1.0 - slo.objective, 12)
    windows = []
    for tier, (severity, (long_s, short_s, factor, for_s)) in enumerate(pairs, start=1):
        if budget is not None and factor * budget >= 1.0:
            p.fail(severity, f"factor {factor:g} × error budget {budget:g} is at least 1: "
                             f"the {format_duration(long_s)} alert could never fire")
        windows.append(BurnWindow(severity, tier, long_s, short_s, factor, for_s))
    # Sparse LoRaWAN traffic can be silent for a while without anything being wrong; a probe
    # that stops reporting is "no data" after a few missed rounds (docs/semantics.md#no-data).
    sparse = slo.sli in ("delivery", "rx2")
    no_data_s = 3600 if sparse else 600
    plan = AlertPlan(
        slo=slo,
        service=_text(p, a.get("service"), "service", _default_service(settings, slo)),
        period_s=period_s,
        windows=tuple(windows) if slo.objective is not None else (),
        no_data=_toggle(p, a.get("no_data"), "no_data", 600, "ticket", no_data_s),
        budget_exhausted=_toggle(p, a.get("budget_exhausted"), "budget_exhausted", 300,
                                 "ticket") if slo.objective is not None else None,
        # The contract counts an episode as downtime once it lasts min_duration_s
        # (e.g. LORIOT: "unreachable for 5 minutes"), so that is when the outage alert fires.
        breach=_toggle(p, a.get("breach"), "breach", slo.downtime.min_duration_s, "page"),
        response_time=_toggle(p, a.get("response_time"), "response_time", 0, "ticket",
                              max(slo.downtime.window_s, 300))
        if slo.sli == "response_time" and slo.target_ms is not None else None,
        runbook_url=_text(p, a.get("runbook_url"), "runbook_url", DEFAULT_RUNBOOK_URL),
        labels=_labels(p, a.get("labels")),
    )
    return (None if p.lines else plan), p.lines


def plan_all(settings: Settings) -> list[AlertPlan]:
    """Validate the ``alerting`` block of every SLO. Raises ``ConfigError`` with every problem."""
    plans: list[AlertPlan] = []
    problems: list[str] = []
    for i in range(len(settings.slos)):
        plan, lines = plan_slo(settings, i)
        problems += lines
        if plan is not None:
            plans.append(plan)
    if problems:
        raise ConfigError(problems)
    return plans
