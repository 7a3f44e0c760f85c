"""Per-ticket rules and the per-contract report, case by case."""

from __future__ import annotations

from slastream.model.events import TicketEvent
from slastream.model.support import HOUR_MS, MINUTE_MS
from slastream.support.report import evaluate_support, near_deadline, open_by_severity
from tests.support.contracts import CUMULOCITY, EVRYTHNG, at, ev, terms, utc

C8Y = terms(CUMULOCITY)
EVT = terms(EVRYTHNG)
MON = at("Europe/Berlin", 2026, 11, 23, 9, 0)  # Monday 09:00 CET, a business day


def evt(kind: str, time_ms: int, severity: str = "", ident: str = "E-1") -> TicketEvent:
    return ev(kind, time_ms, severity, ident, "evrythng", "UK", "GB")


def test_ledger_fields_in_order() -> None:
    report = evaluate_support(C8Y, "cumulocity", [ev("opened", MON, "Crisis")], MON)
    section = report.to_json()
    assert list(section) == ["tickets", "by_severity", "unknown_severity", "incomplete"]
    assert list(section["tickets"][0])[:7] == [
        "id", "severity", "opened", "clock", "reaction_deadline", "reacted", "met"]
    assert section["by_severity"] == {
        "Crisis": {"tickets": 1, "met": 0, "missed": 0, "open": 1},
        "Critical": {"tickets": 0, "met": 0, "missed": 0, "open": 0},
        "Standard": {"tickets": 0, "met": 0, "missed": 0, "open": 0},
    }


def test_summary_near_deadline_and_open_counts() -> None:
    events = [
        ev("opened", MON, "Crisis", "A"),  # due 09:30
        ev("response", MON + 10 * MINUTE_MS, ident="A"),
        ev("opened", MON, "Crisis", "B"),  # due 09:30, no reply → missed as of 09:40
        ev("opened", MON + 20 * MINUTE_MS, "Critical", "C"),  # due 11:20
        ev("opened", MON + 30 * MINUTE_MS, "Standard", "D"),  # due Tuesday 09:30
        ev("resolved", MON + 35 * MINUTE_MS, ident="D"),
        ev("opened", MON, "Sev9", "E"),
        ev("response", MON, ident="F"),  # no opening yet
        ev("opened", MON, "Crisis", "G", contract="other"),
    ]
    report = evaluate_support(C8Y, "cumulocity", events, MON + 40 * MINUTE_MS)
    section = report.to_json()
    assert section["by_severity"]["Crisis"] == {"tickets": 2, "met": 1, "missed": 1, "open": 0}
    assert section["unknown_severity"] == ["E"]
    assert section["incomplete"] == 1
    assert [t["id"] for t in section["tickets"]] == ["A", "B", "C", "D"]
    assert open_by_severity(report) == {"Crisis": 2, "Critical": 1, "Standard": 0}
    assert section["tickets"][3]["reacted"] == section["tickets"][3]["resolved"]  # D: a reply
    assert near_deadline(report, 2 * HOUR_MS) == {"Crisis": 0, "Critical": 1, "Standard": 0}
    assert near_deadline(report, 30 * MINUTE_MS) == {"Crisis": 0, "Critical": 0, "Standard": 0}


def test_opened_range() -> None:
    events = [ev("opened", MON, "Crisis", "A"), ev("opened", MON + HOUR_MS, "Crisis", "B")]
    report = evaluate_support(C8Y, "cumulocity", events, MON + 2 * HOUR_MS,
                              opened_from_ms=MON + 1, opened_to_ms=MON + 2 * HOUR_MS)
    assert [t.id for t in report.tickets] == ["B"]


def test_lowering_counts_the_new_target_from_the_opening() -> None:
    """Critical opened Monday 09:00 (due 11:00), lowered to Standard at 10:00: Standard's
    9 business hours from the opening → Tuesday 09:00 CET (08:00Z), not from the change."""
    events = [ev("opened", MON, "Critical"), ev("severity", MON + HOUR_MS, "Standard")]
    t = evaluate_support(C8Y, "cumulocity", events, MON + 2 * HOUR_MS).to_json()["tickets"][0]
    assert (t["severity"], t["reaction_deadline"], t["met"]) == (
        "Standard", "2026-11-24T08:00:00Z", None)


def test_a_change_after_the_reply_does_not_move_the_reaction_deadline() -> None:
    events = [ev("opened", MON, "Standard"), ev("response", MON + HOUR_MS),
              ev("severity", MON + 2 * HOUR_MS, "Crisis")]
    t = evaluate_support(C8Y, "cumulocity", events, MON + 3 * HOUR_MS).tickets[0]
    assert t.reaction.due_ms == at("Europe/Berlin", 2026, 11, 24, 9, 0)
    assert t.reaction.met is True


def test_contact_on_a_business_day_does_not_restart_the_clock() -> None:
    events = [ev("opened", MON, "Standard"), ev("contact", MON + HOUR_MS)]
    t = evaluate_support(C8Y, "cumulocity", events, MON).tickets[0]
    assert (t.reaction.clock, t.reaction.due_ms) == (
        "business", at("Europe/Berlin", 2026, 11, 24, 9, 0))


def test_evrythng_severity_1_and_2_resolution() -> None:
    """Severity 1 opened Saturday 2026-11-21 10:00 GMT: call-back by 12:00, workaround by
    14:00 (24x7). Severity 2 opened Saturday 10:00: call-back by 14:00 (24x7), workaround
    within 1 business day = 8 business hours from Monday 09:00 → Monday 17:00 GMT."""
    sat = utc("2026-11-21T10:00:00Z")
    events = [
        evt("opened", sat, "Severity 1", "S1"),
        evt("response", sat + HOUR_MS, ident="S1"),
        evt("resolved", sat + 5 * HOUR_MS, ident="S1"),
        evt("opened", sat, "Severity 2", "S2"),
        evt("resolved", utc("2026-11-23T16:00:00Z"), ident="S2"),
    ]
    tickets = evaluate_support(EVT, "evrythng", events, utc("2026-11-30T00:00:00Z")).to_json()[
        "tickets"]
    s1, s2 = tickets
    assert (s1["reaction_deadline"], s1["met"]) == ("2026-11-21T12:00:00Z", True)
    assert s1["resolution"] == {"stops": "resolved", "clock": "24x7",
                                "deadline": "2026-11-21T14:00:00Z",
                                "done": "2026-11-21T15:00:00Z", "met": False}
    assert (s2["reaction_deadline"], s2["met"]) == ("2026-11-21T14:00:00Z", False)
    assert s2["resolution"]["clock"] == "business"
    assert s2["resolution"]["deadline"] == "2026-11-23T17:00:00Z"
    assert s2["resolution"]["met"] is True


def test_a_reopened_ticket_is_resolved_by_its_final_resolution() -> None:
    sat = utc("2026-11-21T10:00:00Z")
    events = [
        evt("opened", sat, "Severity 1"),
        evt("resolved", sat + HOUR_MS),
        evt("reopened", sat + 2 * HOUR_MS),
    ]
    t = evaluate_support(EVT, "evrythng", events, sat + 3 * HOUR_MS).tickets[0]
    assert t.is_open and t.resolution is not None
    assert (t.resolution.done_ms, t.resolution.met) == (-1, None)
    later = [*events, evt("resolved", sat + 5 * HOUR_MS)]
    t = evaluate_support(EVT, "evrythng", later, sat + 6 * HOUR_MS).tickets[0]
    assert t.resolution is not None and t.resolution.met is False


def test_customer_country_without_holiday_data_keeps_the_region_default() -> None:
    """Ascension Day 2026-05-14 is a German holiday; a country the holiday library does not
    know falls back to the region's own country (Germany for EMEA)."""
    opened = at("Europe/Berlin", 2026, 5, 14, 10, 0)
    t = evaluate_support(C8Y, "cumulocity", [ev("opened", opened, "Critical", country="ZZ")],
                         opened).tickets[0]
    assert t.reaction.due_ms == at("Europe/Berlin", 2026, 5, 15, 10, 0)
