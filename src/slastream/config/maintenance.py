"""The maintenance calendar keys of an exclusion policy: ``windows`` and ``blackouts``.

::

    windows:                                  # maintenance is excused only inside these
      - {days: [Sat, Sun], hours: "05:00-09:00", timezone: Etc/GMT}
    blackouts:                                # ... and never in these (whole local days)
      - {name: high-demand, first: "12-11", last: "01-04", timezone: Etc/GMT}
      - {name: high-demand, nth_weekday: {n: 4, weekday: Mon, month: 11}, days: 13}

The rules are in docs/semantics.md#maintenance-calendars. A key given as null is absent
(that is how a policy written back from the settings leaves out what is not set).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slastream.config.checker import Checker, day_hours
from slastream.model.maintenance import Blackout, MaintenanceWindow, NthWeekday
from slastream.model.support import WEEKDAYS

_HOURS = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
_MONTH_DAY = re.compile(r"^\d\d-\d\d$")


def _set(raw: Any, path: str, c: Checker, keys: set[str]) -> dict[str, Any]:
    d = {k: v for k, v in c.mapping(raw, path).items() if v is not None}
    c.unknown(d, path, keys)
    return d


def _zone(c: Checker, d: dict[str, Any], path: str) -> str:
    zone = c.text(d, "timezone", path, "UTC") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail(f"{path}.timezone", f"unknown IANA time zone {zone!r}")
        return "UTC"
    return zone


def _items(c: Checker, raw: Any, path: str, what: str) -> list[Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        c.fail(path, f"must be a non-empty list of {what}")
        return None
    return raw


def _hours_ok(hours: Any) -> bool:
    # the strict form (no spaces) that MaintenanceWindow stores and hours_minutes reads
    return isinstance(hours, str) and _HOURS.match(hours) is not None and (
        day_hours(hours) is not None)


def _window(c: Checker, raw: Any, path: str) -> MaintenanceWindow | None:
    d = _set(raw, path, c, {"days", "hours", "timezone"})
    days, hours = d.get("days"), d.get("hours")
    ok = True
    if not isinstance(days, list) or not days or any(x not in WEEKDAYS for x in days):
        c.fail(f"{path}.days", f"must be a non-empty list of {', '.join(WEEKDAYS)}; got {days!r}")
        ok = False
    if not _hours_ok(hours):
        c.fail(f"{path}.hours", f"must be like '05:00-09:00', start before end, end at most "
                                f"24:00; got {hours!r}")
        ok = False
    zone = _zone(c, d, path)
    if not ok or not isinstance(days, list):
        return None
    ordered = tuple(x for x in WEEKDAYS if x in days)
    return MaintenanceWindow(ordered, str(hours), zone)


def windows(c: Checker, raw: Any, path: str) -> tuple[MaintenanceWindow, ...] | None:
    """``windows``: weekly wall-clock windows maintenance must lie in; absent: any time."""
    items = _items(c, raw, path, "windows like {days: [Sat, Sun], hours: '05:00-09:00'}")
    if items is None:
        return None
    found = [w for i, r in enumerate(items) if (w := _window(c, r, f"{path}[{i}]")) is not None]
    return tuple(found) if len(found) == len(items) else None


def _day(c: Checker, value: Any, key: str) -> str | None:
    """``MM-DD`` (every year, never 02-29) or ``YYYY-MM-DD`` (once), as text."""
    text = value.isoformat() if isinstance(value, date) else value
    try:
        if not isinstance(text, str):
            raise ValueError
        if _MONTH_DAY.match(text):
            if text == "02-29":
                c.fail(key, "02-29 is not in every year; use 02-28 or 03-01")
                return None
            date.fromisoformat(f"2000-{text}")
        else:
            date.fromisoformat(text)
    except ValueError:
        c.fail(key, f"must be a day MM-DD (every year) or YYYY-MM-DD (once); got {value!r}")
        return None
    return text


def _nth(c: Checker, raw: Any, path: str) -> NthWeekday | None:
    d = _set(raw, path, c, {"n", "weekday", "month"})
    for key in ("n", "weekday", "month"):
        if key not in d:
            c.fail(f"{path}.{key}", "is required")
    n = c.num(d, "n", path, None, -1, 5, integer=True)
    if n == 0:
        c.fail(f"{path}.n", "must be 1 to 5, or -1 for the last; got 0")
    weekday = c.text(d, "weekday", path, None, WEEKDAYS)
    month = c.num(d, "month", path, None, 1, 12, integer=True)
    if not n or weekday is None or month is None:
        return None
    return NthWeekday(int(n), weekday, int(month))


def _by_rule(c: Checker, d: dict[str, Any], path: str) -> tuple[NthWeekday, int] | None:
    nth = _nth(c, d["nth_weekday"], f"{path}.nth_weekday")
    days = c.num(d, "days", path, None, 1, 366, integer=True)
    if "days" not in d:
        c.fail(f"{path}.days", "is required with nth_weekday (the days in all, the day itself "
                               "included)")
    return None if nth is None or days is None else (nth, int(days))


def _by_dates(c: Checker, d: dict[str, Any], path: str) -> tuple[str, str] | None:
    first, last = (_day(c, d.get(k), f"{path}.{k}") for k in ("first", "last"))
    if first is None or last is None:
        return None
    if len(first) != len(last):
        c.fail(path, "first and last must both be MM-DD (every year) or both YYYY-MM-DD")
        return None
    if len(first) > 5 and last < first:
        c.fail(f"{path}.last", f"must not be before first ({first}); got {last}")
        return None
    return first, last


def _blackout(c: Checker, raw: Any, path: str) -> Blackout | None:
    d = _set(raw, path, c, {"name", "first", "last", "nth_weekday", "days", "timezone"})
    name = c.text(d, "name", path, None)
    zone = _zone(c, d, path)
    if "nth_weekday" in d and ("first" in d or "last" in d):
        c.fail(path, "give either first and last, or nth_weekday and days")
        return None
    if "nth_weekday" in d:
        rule = _by_rule(c, d, path)
        return None if rule is None else Blackout(name, nth_weekday=rule[0], days=rule[1],
                                                  timezone=zone)
    if "days" in d:
        c.fail(f"{path}.days", "goes with nth_weekday; a fixed range has first and last")
    dates = _by_dates(c, d, path)
    return None if dates is None else Blackout(name, dates[0], dates[1], timezone=zone)


def blackouts(c: Checker, raw: Any, path: str) -> tuple[Blackout, ...] | None:
    """``blackouts``: periods of whole local days maintenance must avoid; absent: none."""
    items = _items(c, raw, path, "blackouts (first and last, or nth_weekday and days)")
    if items is None:
        return None
    found = [b for i, r in enumerate(items) if (b := _blackout(c, r, f"{path}[{i}]")) is not None]
    return tuple(found) if len(found) == len(items) else None
