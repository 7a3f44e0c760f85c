"""The support terms of the Cumulocity (001) and EVRYTHNG (002) agreements, as a config
file writes them, and helpers to build tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slastream.config.support import parse_support
from slastream.model.events import TicketEvent
from slastream.model.support import SupportTerms

CUMULOCITY: dict[str, Any] = {
    "default_region": "EMEA",
    "regions": {
        "EMEA": {"timezone": "Europe/Berlin", "hours": "08:00-17:00", "country": "DE",
                 "customer_holidays": True},
        "APJ": {"timezone": "Asia/Kuala_Lumpur", "hours": "08:00-17:00", "country": "MY",
                "customer_holidays": True},
        "US": {"timezone": "America/Denver", "hours": "08:00-17:00", "country": "US",
               "customer_holidays": True},
    },
    "severities": {
        "Crisis": {
            "clock": "24x7",
            "reaction": "30 minutes",
            "resolution": {"within": "4 hours", "stops": "plan"},
            "escalation": [
                {"after": "1 day", "to": "Regional Director Support"},
                {"after": "2 days", "to": "Global Vice President Support"},
                {"after": "3 days", "to": "Global Senior Vice President Support"},
                {"after": "5 days", "to": "Chief Operating Officer"},
            ],
        },
        "Critical": {
            "clock": "business",
            "reaction": "2 hours",
            "starts": "contact_on_non_business_days",
            "escalation": [
                {"after": "5 business days", "to": "Regional Director Support"},
                {"after": "7 business days", "to": "Global Vice President Support"},
                {"after": "9 business days", "to": "Global Senior Vice President Support"},
                {"after": "11 business days", "to": "Chief Operating Officer"},
            ],
        },
        "Standard": {
            "clock": "business",
            "reaction": "1 day",
            "starts": "contact_on_non_business_days",
        },
    },
}

EVRYTHNG: dict[str, Any] = {
    "default_region": "UK",
    "regions": {
        "Americas": {"timezone": "America/New_York", "hours": "09:00-17:00", "country": "US"},
        "UK": {"timezone": "Europe/London", "hours": "09:00-17:00", "country": "GB",
               "subdivision": "ENG"},
    },
    "severities": {
        "Severity 1": {"clock": "24x7", "reaction": "2 hours", "resolution": "4 hours"},
        "Severity 2": {"clock": "24x7", "reaction": "4 hours", "resolution": "1 business day"},
        "Severity 3": {"clock": "business", "reaction": "2 business days"},
    },
}


def terms(raw: dict[str, Any]) -> SupportTerms:
    problems: list[str] = []
    parsed = parse_support(raw, "support", lambda k, w: problems.append(f"{k}: {w}"))
    assert parsed is not None and not problems, problems
    return parsed


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch ms of a local wall-clock time."""
    local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))
    return int(local.timestamp() * 1000)


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def ev(
    kind: str,
    time_ms: int,
    severity: str = "",
    ident: str = "T-1",
    contract: str = "cumulocity",
    region: str = "EMEA",
    country: str = "DE",
    channel: str = "",
) -> TicketEvent:
    return TicketEvent(ident, kind, time_ms, severity, contract, region, country, channel)
