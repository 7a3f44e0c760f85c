"""Building request-allowance counters and traffic for the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slastream.config.usage import parse_usage
from slastream.model.time import Month
from slastream.model.usage import UsageTerms
from slastream.usage.counter import UsageCounter, UsageRequest
from slastream.usage.report import UsageReport, usage_report

# the EVRYTHNG table, each band claiming the clients named after it
EVRYTHNG_USAGE: dict[str, Any] = {
    "component": "api",
    "bands": {name: {"clients": [f"{name.lower()}-*"]} for name in ("Trial", "F", "U", "A", "B")},
}


def terms(raw: dict[str, Any] | None = None) -> UsageTerms:
    found: list[str] = []
    t = parse_usage(raw or EVRYTHNG_USAGE, "contracts[0].usage",
                    lambda k, w: found.append(f"{k}: {w}"))
    assert t is not None, found
    return t


def ms(text: str) -> int:
    """``2026-10-05T10:00:00`` (UTC) → epoch ms."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def every(client: str, start_ms: int, step_ms: int, count: int,
          size: int = -1) -> list[UsageRequest]:
    """``count`` requests of ``client``, ``step_ms`` apart from ``start_ms``."""
    return [UsageRequest(start_ms + i * step_ms, "api", client, size) for i in range(count)]


def spread(client: str, day_start_ms: int, count: int, day_ms: int = 86_400_000,
           size: int = -1) -> list[UsageRequest]:
    """``count`` requests spread evenly over a day (never closer than a second)."""
    step = day_ms // count
    assert step >= 1000
    return every(client, day_start_ms, step, count, size)


def run(requests: list[UsageRequest], timezone: str = "UTC",
        raw: dict[str, Any] | None = None) -> UsageCounter:
    counter = UsageCounter(terms(raw), timezone, lateness_s=120)
    counter.feed(sorted(requests))
    counter.flush()
    return counter


def report(counter: UsageCounter, month: str) -> UsageReport:
    return usage_report(counter, Month.parse(month, counter.timezone))
