"""Validated settings back into the config file's syntax, section by section.

The inverse of :mod:`slastream.config`: ``parse_settings`` of what these functions write
gives the same values. The OpenSLO export keeps, in annotations, the parts of a config that
OpenSLO has no field for, in this syntax, so the import can hand them back to the loader.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, fields, is_dataclass
from typing import Any

from slastream.config.support import support_syntax
from slastream.config.usage import usage_syntax
from slastream.model.alerting import AlertPolicy, BurnWindow, Toggle, format_duration
from slastream.model.events import Exclusion
from slastream.model.probes import HttpCheck, MqttCheck, ProberSettings, ProbeSpec
from slastream.model.security import Secret
from slastream.model.spec import SLO, Contract, Credit, ExclusionPolicy, Settings
from slastream.model.time import format_rfc3339_ms

# The SLO fields each SLI kind reads (model/spec.py); the import restores them from the SLI.
SLI_PARAMS: dict[str, tuple[str, ...]] = {
    "delivery": ("deadline_s", "scope_by"),
    "rx2": ("scope_by", "source", "rx1_delay_s", "missing_ack", "ack_timeout_s"),
    "probe": ("component",),
    "response_time": ("component", "target_ms", "block_requests"),
}
# SLO fields that are not parameters of the SLI.
_NOT_PARAMS = {"name", "sli", "objective", "downtime", "alerting", "description"}


def _no_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _declared(value: Any) -> Any:
    """A settings value as the YAML that declares it: a secret becomes the ``NAME_env`` or
    ``NAME_file`` key it was read from, never its value (docs/interfaces.md#secrets); a
    field left at its default is left out, as a user would."""
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in fields(value):
            v = getattr(value, f.name)
            if f.default is not MISSING and v == f.default:
                continue
            if isinstance(v, Secret):
                kind, _, where = v.origin.partition(" ")
                out[f"{f.name}_{kind}"] = v.file if kind == "file" else where
            elif v is not None:
                out[f.name] = _declared(v)
        return out
    if isinstance(value, tuple):
        return [_declared(v) for v in value]
    return value


def sli_params(slo: SLO) -> dict[str, Any]:
    """The SLI's parameters: those its kind reads, and any other set away from its default."""
    defaults = SLO(name="", sli=slo.sli, objective=None, downtime=slo.downtime,
                   alerting=slo.alerting)
    out = {}
    for f in fields(SLO):
        value = getattr(slo, f.name)
        if f.name in _NOT_PARAMS:
            continue
        if f.name in SLI_PARAMS[slo.sli] or value != getattr(defaults, f.name):
            # a nested block (``coverage``) in its mapping syntax
            out[f.name] = (_no_none(asdict(value)) if is_dataclass(value)
                           and not isinstance(value, type) else value)
    return _no_none(out)


def _toggle(t: Toggle | None) -> dict[str, Any] | bool:
    if t is None:
        return False
    out: dict[str, Any] = {"severity": t.severity}
    # A zero ``for`` cannot be written (durations are at least 1s); it is only ever the
    # loader's default, so leaving it out gives it back.
    if t.for_s:
        out["for"] = format_duration(t.for_s)
    if t.window_s:
        out["window"] = format_duration(t.window_s)
    return out


def burn_window(w: BurnWindow) -> dict[str, Any]:
    """One ``page``/``ticket`` pair of the ``alerting`` block."""
    out: dict[str, Any] = {"long": format_duration(w.long_s), "short": format_duration(w.short_s),
                           "factor": w.factor}
    if w.for_s:
        out["for"] = format_duration(w.for_s)
    return out


def alerting_rest(policy: AlertPolicy) -> dict[str, Any]:
    """The ``alerting`` block without ``service`` and the burn-rate pairs."""
    return {
        "period": format_duration(policy.period_s),
        "no_data": _toggle(policy.no_data),
        "budget_exhausted": _toggle(policy.budget_exhausted),
        "breach": _toggle(policy.breach),
        "response_time": _toggle(policy.response_time),
        "runbook_url": policy.runbook_url,
        "labels": dict(policy.labels),
    }


def credit(c: Credit) -> dict[str, Any]:
    return _no_none({
        "kind": c.kind,
        "tiers": [{"over_minutes": t.over_minutes, "credit": t.credit} for t in c.tiers],
        "basis": c.basis,
        "uptime_slo": c.uptime_slo,
        "response_slo": c.response_slo,
        "target_uptime": c.target_uptime,
        "claim_within_days": c.claim_within_days,
    })


def contract(c: Contract) -> dict[str, Any]:
    """One entry of ``contracts``."""
    return _no_none({"name": c.name, "slos": list(c.slos), "objective": c.objective,
                     "combine": c.combine, "credit": credit(c.credit),
                     "support": None if c.support is None else support_syntax(c.support),
                     "usage": None if c.usage is None else usage_syntax(c.usage)})


def _policy(p: ExclusionPolicy) -> dict[str, Any]:
    return _no_none(asdict(p))


def _exclusion(e: Exclusion) -> dict[str, Any]:
    out: dict[str, Any] = {"id": e.id, "scope": e.scope, "kind": e.kind,
                           "start": format_rfc3339_ms(e.start_ms),
                           "end": format_rfc3339_ms(e.end_ms)}
    if e.announced_ms >= 0:
        out["announced_at"] = format_rfc3339_ms(e.announced_ms)
    if e.evidence:
        out["evidence"] = e.evidence
    return out


def _check(spec: ProbeSpec) -> dict[str, Any]:
    check = spec.check
    out = _no_none(asdict(check))
    if isinstance(check, HttpCheck):
        out.pop("statuses")
        out |= {"headers": dict(check.headers), "status": list(check.statuses),
                "conditions": [c.text for c in check.conditions]}
    elif isinstance(check, MqttCheck):
        out["topic"] = check.topic
    return out


def probe(spec: ProbeSpec) -> dict[str, Any]:
    """One entry of ``probes``."""
    return _no_none({"name": spec.name, "component": spec.component, spec.kind: _check(spec),
                     "interval_s": spec.interval_s, "timeout_s": spec.timeout_s,
                     "location": spec.location})


def prober(p: ProberSettings) -> dict[str, Any]:
    """The ``probe`` mapping (``http_port`` null: no status server)."""
    return asdict(p)


def sections(s: Settings) -> dict[str, Any]:
    """The sections of the file that are neither SLOs, contracts, time zone nor lateness."""
    mqtt = _declared(s.mqtt)
    probes: dict[str, Any] = {}
    if s.probes or s.prober != ProberSettings():
        probes = {"probes": [probe(p) for p in s.probes], "probe": prober(s.prober)}
    return {
        "exclusion_policy": {kind: _policy(p) for kind, p in s.exclusion_policy.items()},
        "exclusions": [_exclusion(e) for e in s.exclusions],
        "lorawan": {"devaddr_prefixes": [f"{p:08X}/{bits}" for p, bits in
                                         s.lorawan.devaddr_prefixes],
                    "count_mac_only": s.lorawan.count_mac_only,
                    "class_b_c": list(s.lorawan.class_b_c),
                    **({"regions": list(s.lorawan.regions)} if s.lorawan.regions else {})},
        "mqtt": mqtt,
        "kafka": _declared(s.kafka),
        "http": _declared(s.http),
        **probes,
    }
