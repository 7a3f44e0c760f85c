"""What the OpenSLO export and import share: names, annotation keys, queries, durations.

The mapping itself is described in docs/openslo.md. Both directions read the same
constants here, so a key or a query the export writes is exactly what the import looks for.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slastream.model.alerting import format_duration, parse_duration_s

API_VERSION = "openslo/v1"
DATASOURCE = "slastream"  # the one DataSource: slastream's Prometheus exposition
DATASOURCE_TYPE = "Prometheus"
TARGET = "alertmanager"  # what slastream's alerts are delivered through
SLICE_WINDOW = "1m"  # every SLO is judged minute by minute (docs/semantics.md#slices)
# A calendar window needs a start; any first of a month at midnight says "calendar months".
MONTH_START = "2024-01-01 00:00:00"
MONTH = "1M"

EVENTS = "slastream_sli_events_total"
LATENCY = "slastream_sli_latency_seconds"

PREFIX = "slastream.io/"
# Settings of the whole file, on the DataSource (config syntax, JSON where structured).
A_TIMEZONE = PREFIX + "timezone"
A_LATENESS = PREFIX + "lateness-s"
A_SECTIONS = {key: PREFIX + key.replace("_", "-") for key in
              ("exclusion_policy", "exclusions", "lorawan", "mqtt", "kafka", "http",
               "probes", "probe")}
# A contract, on its Service.
A_CONTRACT = PREFIX + "contract"
# An SLI: the slastream SLI kind and its parameters.
A_SLI = PREFIX + "sli"
A_SLI_PARAMS = PREFIX + "sli-params"
# An SLO: the parts of the downtime rule OpenSLO has no field for, and the alerts that are
# not burn-rate conditions.
A_WINDOW = PREFIX + "window-s"
A_MIN_EVENTS = PREFIX + "min-events"
A_MIN_DURATION = PREFIX + "min-duration-s"
A_NO_DATA = PREFIX + "no-data"
A_FAILING_LOCATIONS = PREFIX + "failing-locations"
A_BAD_BELOW = PREFIX + "bad-below"
A_BAD_ABOVE_MS = PREFIX + "bad-above-ms"
A_ALERTING = PREFIX + "alerting"
# A burn-rate condition: the second window, and durations the shorthand cannot carry.
A_SHORT_WINDOW = PREFIX + "short-window"
A_LONG_WINDOW = PREFIX + "long-window"
A_FOR = PREFIX + "for"
# A description longer than OpenSLO allows (1050 characters), whole.
A_DESCRIPTION = PREFIX + "description"
DESCRIPTION_MAX = 1050

_NOT_NAME = re.compile(r"[^a-z0-9.-]+")
_EDGE = re.compile(r"^[^a-z0-9]+|[^a-z0-9]+$")
# The OpenSLO v1 schema's time zone pattern (unanchored): Area/Location.
_ZONE = re.compile(r"[A-Z][a-zA-Z_]+/[A-Z][a-zA-Z_]+")
_SHORTHAND = re.compile(r"^([1-9][0-9]*)([mhdwMQY])$")
_UNITS = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60))
_STRING = r'"((?:[^"\\]|\\.)*)"'
_EVENTS_Q = re.compile(rf"^\s*{EVENTS}\s*\{{(.*)\}}\s*$")
_MATCHER = re.compile(rf"\s*(\w+)\s*=\s*{_STRING}\s*(?:,|$)")
_LATENCY_Q = re.compile(
    rf'^\s*sum\s*\(\s*rate\s*\(\s*{LATENCY}_sum\s*\{{\s*slo\s*=\s*{_STRING}\s*\}}\s*'
    rf'\[(\w+)\]\s*\)\s*\)\s*/\s*sum\s*\(\s*rate\s*\(\s*{LATENCY}_count\s*\{{\s*slo\s*=\s*'
    rf'{_STRING}\s*\}}\s*\[(\w+)\]\s*\)\s*\)\s*$')


def object_name(text: str) -> str:
    """An OpenSLO object name for a slastream name: RFC 1123 style, lower case, 63 chars."""
    name = _EDGE.sub("", _NOT_NAME.sub("-", text.lower()))[:63]
    return _EDGE.sub("", name) or "unnamed"


def openslo_zone(timezone: str) -> str:
    """The calendar time zone: the schema wants ``Area/Location``, so ``UTC`` is ``Etc/UTC``."""
    if _ZONE.search(timezone):
        return timezone
    try:
        ZoneInfo(f"Etc/{timezone}")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone
    return f"Etc/{timezone}"


def shorthand(seconds: int) -> tuple[str, bool]:
    """An OpenSLO duration shorthand for ``seconds`` and whether it is exact.

    The shorthand has minutes as its smallest unit and no zero, so anything else is rounded
    up to whole minutes, at least one (the caller keeps the exact value in an annotation).
    """
    minutes = max(1, -(-seconds // 60))
    exact = seconds == minutes * 60
    for unit, size in _UNITS:
        if (minutes * 60) % size == 0:
            return f"{minutes * 60 // size}{unit}", exact
    return f"{minutes}m", exact  # not reached: minutes always divide


def shorthand_s(text: object) -> int | None:
    """Seconds of a shorthand with a fixed length (m, h, d, w); ``None`` for M, Q, Y or junk."""
    m = _SHORTHAND.match(text) if isinstance(text, str) else None
    if m is None or m.group(2) in "MQY":
        return None
    return int(m.group(1)) * dict(_UNITS)[m.group(2)]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def events_query(slo: str, outcome: str | None = None) -> str:
    """The counter of an SLO's final SLI events; all outcomes when ``outcome`` is None."""
    extra = f', outcome="{outcome}"' if outcome else ""
    return f"{EVENTS}{{slo={_quote(slo)}{extra}}}"


def parse_events_query(query: object) -> tuple[str, str | None] | None:
    """(SLO name, outcome or None) of an :func:`events_query` (matchers in any order), else
    ``None``."""
    m = _EVENTS_Q.match(query) if isinstance(query, str) else None
    if m is None:
        return None
    labels, at, body = {}, 0, m.group(1).strip()
    while at < len(body):
        matcher = _MATCHER.match(body, at)
        if matcher is None or matcher.group(1) in labels:
            return None
        labels[matcher.group(1)] = _unquote(matcher.group(2))
        at = matcher.end()
    outcome = labels.pop("outcome", None)
    if set(labels) != {"slo"} or outcome not in (None, "good", "bad"):
        return None
    return labels["slo"], outcome


def latency_query(slo: str, window_s: int) -> str:
    """Mean response time over the trailing window, in seconds, from the latency histogram."""
    w, sel = format_duration(window_s), f"{{slo={_quote(slo)}}}"
    return (f"sum(rate({LATENCY}_sum{sel}[{w}])) / "
            f"sum(rate({LATENCY}_count{sel}[{w}]))")


def parse_latency_query(query: object) -> tuple[str, int] | None:
    """(SLO name, trailing window in seconds) of a :func:`latency_query`, else ``None``."""
    m = _LATENCY_Q.match(query) if isinstance(query, str) else None
    if m is None or m.group(1) != m.group(3) or m.group(2) != m.group(4):
        return None
    try:
        return _unquote(m.group(1)), parse_duration_s(m.group(2))
    except ValueError:
        return None
