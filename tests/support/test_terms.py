"""Validation of support terms: the seed contracts parse; every problem names its key."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from slastream.config.support import parse_support
from slastream.model.support import HOUR_MS, Target
from tests.support.contracts import CUMULOCITY, EVRYTHNG, terms


def problems(raw: Any) -> list[str]:
    found: list[str] = []
    result = parse_support(raw, "contracts[0].support", lambda k, w: found.append(f"{k}: {w}"))
    assert (result is None) == bool(found)
    return found


def test_cumulocity_terms() -> None:
    t = terms(CUMULOCITY)
    assert [s.name for s in t.severities] == ["Crisis", "Critical", "Standard"]
    crisis = t.severities[0]
    assert crisis.reaction.within == Target(30, "minutes", "24x7")
    assert crisis.resolution is not None and crisis.resolution.stops == "plan"
    assert [s.after.text for s in crisis.escalation] == ["1 day", "2 days", "3 days", "5 days"]
    critical = t.severities[1]
    assert critical.reaction.within == Target(2, "hours", "business")
    assert critical.starts == "contact_on_non_business_days"
    assert critical.escalation[0].after.text == "5 business days"
    emea = t.region("EMEA")
    assert emea.customer_holidays and emea.hours.start_min == 480 and emea.hours.end_min == 1020
    assert t.region("nowhere").name == "EMEA"


def test_evrythng_terms() -> None:
    t = terms(EVRYTHNG)
    sev2 = t.severities[1]
    assert sev2.clock == "24x7"
    assert sev2.resolution is not None
    assert sev2.resolution.within == Target(1, "days", "business")
    assert sev2.resolution.within.to_ms(t.region("UK").hours.day_ms) == 8 * HOUR_MS
    assert t.severities[2].reaction.within.text == "2 business days"
    assert t.region(None).hours.subdivision == "ENG"


def test_problems_are_reported_with_their_keys() -> None:
    raw = copy.deepcopy(CUMULOCITY)
    raw["severities"]["Crisis"]["reaction"] = "half an hour"
    raw["severities"]["Critical"]["clock"] = "office"
    raw["severities"]["Standard"]["starts"] = "whenever"
    raw["severities"]["Crisis"]["resolution"]["stops"] = "response"
    raw["regions"]["EMEA"]["timezone"] = "Europe/Atlantis"
    raw["regions"]["APJ"]["hours"] = "17:00-08:00"
    raw["regions"]["US"]["country"] = "XX"
    raw["regions"]["US"]["days"] = ["Monday"]
    raw["default_region"] = "MARS"
    raw["colour"] = "blue"
    found = problems(raw)
    keys = {p.split(": ")[0] for p in found}
    assert keys == {
        "contracts[0].support.severities.Crisis.reaction",
        "contracts[0].support.severities.Critical.clock",
        "contracts[0].support.severities.Standard.starts",
        "contracts[0].support.severities.Crisis.resolution.stops",
        "contracts[0].support.regions.EMEA.timezone",
        "contracts[0].support.regions.APJ.hours",
        "contracts[0].support.regions.US.country",
        "contracts[0].support.regions.US.days",
        "contracts[0].support.default_region",
        "contracts[0].support.colour",
    }


def test_missing_parts() -> None:
    assert problems(None) == ["contracts[0].support: must be a mapping with severities and regions"]
    found = problems({})
    assert any(p.startswith("contracts[0].support.severities:") for p in found)
    assert any(p.startswith("contracts[0].support.regions:") for p in found)
    found = problems({"severities": {"S": {"clock": "24x7"}}, "regions": {"R": {}}})
    assert "contracts[0].support.severities.S.reaction" in found[0]
    assert any(p.startswith("contracts[0].support.regions.R.timezone") for p in found)


def test_single_region_is_the_default_and_closures_parse() -> None:
    raw = copy.deepcopy(EVRYTHNG)
    del raw["default_region"]
    closures = ["2026-12-24", date(2026, 12, 31)]
    raw["regions"] = {"UK": dict(EVRYTHNG["regions"]["UK"], closures=closures)}
    t = terms(raw)
    assert t.default_region == "UK"
    assert t.region("UK").hours.closures == (date(2026, 12, 24), date(2026, 12, 31))
    raw["regions"]["UK"]["closures"] = ["24.12.2026"]
    assert problems(raw) == [
        "contracts[0].support.regions.UK.closures[0]: must be a date YYYY-MM-DD; got '24.12.2026'"
    ]


def test_bad_durations() -> None:
    for bad in ("0 hours", "2 fortnights", "hours", 2, "-1 hours"):
        raw = copy.deepcopy(EVRYTHNG)
        raw["severities"]["Severity 1"]["reaction"] = bad
        found = problems(raw)
        assert len(found) == 1 and "severities.Severity 1.reaction" in found[0], (bad, found)


def test_near_deadline_lead_time() -> None:
    raw = dict(EVRYTHNG, near_deadline_s=True)
    assert problems(raw)[0].startswith("contracts[0].support.near_deadline_s")
    assert terms(dict(EVRYTHNG, near_deadline_s=600)).near_deadline_s == 600
