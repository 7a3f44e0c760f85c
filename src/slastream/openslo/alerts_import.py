"""An SLO's OpenSLO alert policies as the ``page`` and ``ticket`` burn-rate pairs.

A v1 ``burnrate`` condition has one lookback window; slastream's alerts need a long and a
short window (docs/openslo.md). The export keeps the short one in an annotation; a condition
without it gets a twelfth of the long window, the SRE Workbook's ratio that the loader's
default windows use too. A condition that cannot be an alert slastream writes is left out
with one problem line.
"""

from __future__ import annotations

from typing import Any

from slastream.model.alerting import SEVERITIES, format_duration, parse_duration_s
from slastream.openslo import vocabulary as v
from slastream.openslo.documents import Doc, Documents, NoMap, inline


def _policies(slo: Doc, docs: Documents) -> list[Doc]:
    """The SLO's policies: by name, by ``alertPolicyRef`` or inline."""
    raw = slo.spec.get("alertPolicies")
    out = []
    for item in raw if isinstance(raw, list) else []:
        ref = item.get("alertPolicyRef") if isinstance(item, dict) else item
        found = docs.get("AlertPolicy", ref) if isinstance(ref, str) else inline(
            item, "AlertPolicy", slo.where)
        if found is None:
            docs.fail(slo.where, f"alert policy {ref!r} is not in these files: left out")
        else:
            out.append(found)
    return out


def _conditions(policy: Doc, docs: Documents) -> list[Doc]:
    raw = policy.spec.get("conditions")
    out = []
    for item in raw if isinstance(raw, list) else []:
        ref = item.get("conditionRef") if isinstance(item, dict) else None
        found = docs.get("AlertCondition", ref) if ref is not None else inline(
            item, "AlertCondition", policy.where)
        if found is None:
            docs.fail(policy.where, f"condition {ref!r} is not in these files: left out")
        else:
            out.append(found)
    return out


def _duration(doc: Doc, key: str, shorthand: Any, what: str) -> int | NoMap:
    """Seconds from the exact annotation, else from the condition's duration shorthand."""
    exact = doc.annotations.get(key)
    if isinstance(exact, str):
        try:
            return 0 if exact == "0s" else parse_duration_s(exact)
        except ValueError as exc:
            return NoMap(f"annotation {key}: {exc}")
    seconds = v.shorthand_s(shorthand)
    if seconds is None:
        return NoMap(f"{what} {shorthand!r} has no fixed length in seconds (months, quarters "
                     "and years vary)")
    return seconds


def _window(cond: Doc, period_s: int, budget: float) -> tuple[str, dict[str, Any]] | NoMap:
    """(severity, pair) of one condition, or why it is not a slastream burn-rate alert."""
    c = cond.spec.get("condition")
    c = c if isinstance(c, dict) else {}
    severity = cond.spec.get("severity")
    if c.get("kind", "burnrate") != "burnrate" or c.get("op") not in ("gt", "gte"):
        return NoMap(f"a {c.get('kind')} condition with op {c.get('op')}: slastream alerts "
                     "when the burn rate is above a factor (burnrate, gt)")
    if severity not in SEVERITIES:
        return NoMap(f"severity {severity!r}: slastream's alerts are {' or '.join(SEVERITIES)}")
    factor = c.get("threshold")
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
        return NoMap(f"threshold {factor!r} is not a positive burn-rate factor")
    long_s = _duration(cond, v.A_LONG_WINDOW, c.get("lookbackWindow"), "lookbackWindow")
    for_s = _duration(cond, v.A_FOR, c.get("alertAfter", "1m"), "alertAfter") \
        if "alertAfter" in c or v.A_FOR in cond.annotations else 0
    if isinstance(long_s, NoMap) or isinstance(for_s, NoMap):
        return long_s if isinstance(long_s, NoMap) else NoMap(str(for_s))
    short_s = _duration(cond, v.A_SHORT_WINDOW, None, "") if v.A_SHORT_WINDOW in \
        cond.annotations else max(1, long_s // 12)
    if isinstance(short_s, NoMap) or not 0 < short_s < long_s:
        return NoMap(f"annotation {v.A_SHORT_WINDOW} is not a duration shorter than the "
                     f"{format_duration(long_s)} lookback window")
    if long_s > period_s:
        return NoMap(f"its {format_duration(long_s)} window is longer than the SLO's alerting "
                     f"period ({format_duration(period_s)})")
    if factor * budget >= 1.0:
        return NoMap(f"factor {factor:g} × error budget {budget:g} is at least 1: it could "
                     "never fire")
    pair: dict[str, Any] = {"long": format_duration(long_s), "short": format_duration(short_s),
                            "factor": float(factor)}
    if for_s:
        pair["for"] = format_duration(for_s)
    return str(severity), pair


def burn_windows(slo: Doc, docs: Documents, period_s: int,
                 budget: float) -> dict[str, list[dict[str, Any]]]:
    """``{"page": [...], "ticket": [...]}`` in the order of the SLO's policies.

    Both lists are always written: an absent list would bring back the loader's defaults.
    """
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in SEVERITIES}
    for policy in _policies(slo, docs):
        for cond in _conditions(policy, docs):
            found = _window(cond, period_s, budget)
            if isinstance(found, NoMap):
                docs.fail(cond.where, f"{found.why}: left out")
                continue
            if cond.spec["condition"].get("op") == "gte":
                docs.fail(cond.where, "op gte imported as gt: slastream alerts above the factor")
            out[found[0]].append(found[1])
    return out
