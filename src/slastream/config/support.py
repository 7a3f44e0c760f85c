"""Validation of a contract's ``support`` mapping into ``SupportTerms``.

Every problem is reported through ``fail(key, what)`` with the full key (such as
``contracts[0].support.severities.Crisis.reaction``), and checking goes on, so a config
check lists all problems at once. Durations are written as the contracts write them:
``30 minutes``, ``2 hours``, ``1 day``, ``2 business days``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slastream.config.checker import day_hours
from slastream.model.support import (
    CLOCK_KINDS,
    CLOCK_STARTS,
    STOP_EVENTS,
    WEEKDAYS,
    BusinessHours,
    ClockKind,
    EscalationStep,
    Obligation,
    Region,
    SeverityTerms,
    StopEvent,
    SupportTerms,
    Target,
    TimeUnit,
)

Fail = Callable[[str, str], None]

_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+(business\s+)?(minute|hour|day)s?\s*$")
_HOURS = re.compile(r"^\s*(\d\d):(\d\d)\s*-\s*(\d\d):(\d\d)\s*$")
_SUPPORT_KEYS = {"severities", "regions", "default_region", "near_deadline_s"}
_SEVERITY_KEYS = {"clock", "reaction", "starts", "resolution", "escalation"}
_REGION_KEYS = {"timezone", "hours", "days", "country", "subdivision", "customer_holidays",
                "closures"}


def _unknown(raw: dict[str, Any], path: str, allowed: set[str], fail: Fail) -> None:
    for key in raw:
        if key not in allowed:
            fail(f"{path}.{key}", "unknown key")


def parse_target(raw: Any, clock: ClockKind, key: str, fail: Fail) -> Target | None:
    """``"2 business days"`` → Target; on a business severity every target is business time."""
    m = _TARGET.match(raw) if isinstance(raw, str) else None
    if m is None:
        fail(key, f"must be a duration like '2 hours' or '2 business days'; got {raw!r}")
        return None
    amount = float(m.group(1))
    if amount <= 0:
        fail(key, "must be longer than zero")
        return None
    unit: TimeUnit = "minutes" if m.group(3) == "minute" else (
        "hours" if m.group(3) == "hour" else "days")
    return Target(amount, unit, "business" if m.group(2) or clock == "business" else "24x7")


def _choice(raw: Any, key: str, choices: tuple[str, ...], fail: Fail) -> str | None:
    if raw in choices:
        return str(raw)
    fail(key, f"must be one of {', '.join(choices)}; got {raw!r}")
    return None


def _resolution(raw: Any, clock: ClockKind, key: str, fail: Fail) -> Obligation | None:
    if isinstance(raw, str):
        raw = {"within": raw}
    if not isinstance(raw, dict):
        fail(key, "must be a duration or a mapping with within and stops")
        return None
    _unknown(raw, key, {"within", "stops"}, fail)
    within = parse_target(raw.get("within"), clock, f"{key}.within", fail)
    stops = _choice(raw.get("stops", "resolved"), f"{key}.stops", STOP_EVENTS[1:], fail)
    if within is None or stops is None:
        return None
    stop: StopEvent = "plan" if stops == "plan" else "resolved"
    return Obligation(within, stop)


def _escalation(raw: Any, clock: ClockKind, key: str, fail: Fail) -> tuple[EscalationStep, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        fail(key, "must be a list of {after, to}")
        return ()
    steps: list[EscalationStep] = []
    for i, item in enumerate(raw):
        path = f"{key}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("to"), str) or not item["to"]:
            fail(path, "must be a mapping with after (a duration) and to (a name)")
            continue
        _unknown(item, path, {"after", "to"}, fail)
        after = parse_target(item.get("after"), clock, f"{path}.after", fail)
        if after is not None:
            steps.append(EscalationStep(after, item["to"]))
    return tuple(steps)


def _severity(name: str, raw: Any, path: str, fail: Fail) -> SeverityTerms | None:
    if not isinstance(raw, dict):
        fail(path, "must be a mapping with at least clock and reaction")
        return None
    _unknown(raw, path, _SEVERITY_KEYS, fail)
    clock_name = _choice(raw.get("clock"), f"{path}.clock", CLOCK_KINDS, fail)
    clock: ClockKind = "business" if clock_name == "business" else "24x7"
    reaction = parse_target(raw.get("reaction"), clock, f"{path}.reaction", fail)
    starts = _choice(raw.get("starts", "opened"), f"{path}.starts", CLOCK_STARTS, fail)
    resolution = None
    if raw.get("resolution") is not None:
        resolution = _resolution(raw["resolution"], clock, f"{path}.resolution", fail)
    escalation = _escalation(raw.get("escalation"), clock, f"{path}.escalation", fail)
    if clock_name is None or reaction is None or starts is None:
        return None
    return SeverityTerms(
        name,
        clock,
        Obligation(reaction, "response"),
        "opened" if starts == "opened" else "contact_on_non_business_days",
        resolution,
        escalation,
    )


def _hours(raw: Any, key: str, fail: Fail) -> tuple[int, int] | None:
    hours = day_hours(raw)
    if hours is None:
        if isinstance(raw, str) and _HOURS.match(raw):
            fail(key, f"must be a time range within one day, start before end; got {raw!r}")
        else:
            fail(key, f"must be like '08:00-17:00'; got {raw!r}")
    return hours


def _days(raw: Any, key: str, fail: Fail) -> tuple[int, ...] | None:
    if raw is None:
        return (0, 1, 2, 3, 4)
    if not isinstance(raw, list) or not raw or any(d not in WEEKDAYS for d in raw):
        fail(key, f"must be a non-empty list of {', '.join(WEEKDAYS)}")
        return None
    return tuple(sorted({WEEKDAYS.index(d) for d in raw}))


def _closures(raw: Any, key: str, fail: Fail) -> tuple[date, ...]:
    if raw is None:
        return ()
    days: list[date] = []
    for i, item in enumerate(raw if isinstance(raw, list) else [raw]):
        try:
            days.append(item if isinstance(item, date) else date.fromisoformat(item))
        except (TypeError, ValueError):
            fail(f"{key}[{i}]", f"must be a date YYYY-MM-DD; got {item!r}")
    return tuple(sorted(set(days)))


def _holiday_country(raw: dict[str, Any], key: str, fail: Fail) -> tuple[str | None, str | None]:
    # here, not at the top: the holidays tables cost start-up time to configs without support
    from slastream.support.calendar import supported_country

    country, subdivision = raw.get("country"), raw.get("subdivision")
    if country is None:
        if subdivision is not None:
            fail(f"{key}.subdivision", "needs a country")
        return None, None
    if not isinstance(country, str) or not supported_country(country.upper()):
        fail(f"{key}.country", f"unknown holiday country {country!r} (ISO 3166-1 alpha-2)")
        return None, None
    if subdivision is not None and (
        not isinstance(subdivision, str) or not supported_country(country.upper(), subdivision)
    ):
        fail(f"{key}.subdivision", f"unknown subdivision {subdivision!r} of {country}")
        return country.upper(), None
    return country.upper(), subdivision


def _region(name: str, raw: Any, path: str, fail: Fail) -> Region | None:
    if not isinstance(raw, dict):
        fail(path, "must be a mapping with at least timezone")
        return None
    _unknown(raw, path, _REGION_KEYS, fail)
    zone = raw.get("timezone")
    try:
        ZoneInfo(zone if isinstance(zone, str) and zone else "-")
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"{path}.timezone", f"unknown IANA time zone {zone!r}")
        zone = None
    hours = _hours(raw.get("hours", "08:00-17:00"), f"{path}.hours", fail)
    days = _days(raw.get("days"), f"{path}.days", fail)
    country, subdivision = _holiday_country(raw, path, fail)
    closures = _closures(raw.get("closures"), f"{path}.closures", fail)
    customer = raw.get("customer_holidays", False)
    if not isinstance(customer, bool):
        fail(f"{path}.customer_holidays", f"must be true or false, got {customer!r}")
    if not isinstance(zone, str) or hours is None or days is None:
        return None
    business = BusinessHours(zone, days, hours[0], hours[1], country, subdivision, closures)
    return Region(name, business, customer is True)


def _named(raw: Any, key: str, fail: Fail) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        fail(key, "must be a non-empty mapping of names")
        return {}
    return {str(k): v for k, v in raw.items()}


def parse_support(raw: Any, path: str, fail: Fail) -> SupportTerms | None:
    """A contract's ``support`` mapping → ``SupportTerms``; ``None`` (after ``fail``) if bad.

    ``path`` is the key of the mapping itself, e.g. ``contracts[0].support``.
    """
    found: list[str] = []

    def report(key: str, what: str) -> None:
        found.append(key)
        fail(key, what)

    if not isinstance(raw, dict):
        report(path, "must be a mapping with severities and regions")
        return None
    _unknown(raw, path, _SUPPORT_KEYS, report)
    severities = [
        _severity(name, value, f"{path}.severities.{name}", report)
        for name, value in _named(raw.get("severities"), f"{path}.severities", report).items()
    ]
    regions = [
        _region(name, value, f"{path}.regions.{name}", report)
        for name, value in _named(raw.get("regions"), f"{path}.regions", report).items()
    ]
    default = raw.get("default_region")
    if default is None and len(regions) == 1 and regions[0] is not None:
        default = regions[0].name
    if not isinstance(default, str) or all(r is None or r.name != default for r in regions):
        report(f"{path}.default_region", f"must name one of the regions; got {default!r}")
    lead = raw.get("near_deadline_s", 1800)
    if isinstance(lead, bool) or not isinstance(lead, int) or lead < 0:
        report(f"{path}.near_deadline_s", f"must be a whole number of seconds >= 0; got {lead!r}")
    if found or not isinstance(default, str) or not isinstance(lead, int):
        return None
    return SupportTerms(
        tuple(s for s in severities if s is not None),
        tuple(r for r in regions if r is not None),
        default,
        lead,
    )


def support_syntax(terms: SupportTerms) -> dict[str, Any]:
    """The ``support`` mapping a config file writes for ``terms`` (``parse_support`` of it
    gives ``terms`` back): for tools that write configs, such as the OpenSLO export."""

    def hhmm(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def obligation(o: Obligation, default_stop: StopEvent) -> Any:
        if o.stops == default_stop:
            return o.within.text
        return {"within": o.within.text, "stops": o.stops}

    def severity(s: SeverityTerms) -> dict[str, Any]:
        out: dict[str, Any] = {"clock": s.clock, "reaction": obligation(s.reaction, "response")}
        if s.starts != "opened":
            out["starts"] = s.starts
        if s.resolution is not None:
            out["resolution"] = obligation(s.resolution, "resolved")
        if s.escalation:
            out["escalation"] = [{"after": e.after.text, "to": e.to} for e in s.escalation]
        return out

    def region(r: Region) -> dict[str, Any]:
        h = r.hours
        out: dict[str, Any] = {"timezone": h.timezone,
                               "hours": f"{hhmm(h.start_min)}-{hhmm(h.end_min)}",
                               "days": [WEEKDAYS[d] for d in h.days]}
        if h.country:
            out["country"] = h.country
        if h.subdivision:
            out["subdivision"] = h.subdivision
        if h.closures:
            out["closures"] = [d.isoformat() for d in h.closures]
        if r.customer_holidays:
            out["customer_holidays"] = True
        return out

    return {"default_region": terms.default_region,
            "near_deadline_s": terms.near_deadline_s,
            "regions": {r.name: region(r) for r in terms.regions},
            "severities": {s.name: severity(s) for s in terms.severities}}
