"""Acceptance cases: tickets built by hand, each expected value worked out from the
contract text in the docstring (Cumulocity support agreement, EVRYTHNG service level).

Cumulocity: Crisis 30 min, Critical 2 h, Standard 1 day ("call-back or electronic reply");
Crisis 24x7, Critical and Standard progressed in business hours (EMEA: 08:00-17:00 CET,
Mon-Fri without the customer's public holidays); on non-business days the reaction time is
measured from the customer's phone contact; crisis resolution plan within 4 hours;
Management Assistance after 1, 2, 3, 5 days (crisis) and 5, 7, 9, 11 business days
(critical). One business day = 9 business hours (08:00-17:00).
EVRYTHNG: Severity 3 call-back within 2 business days, business hours 09:00-17:00 UK time
without UK holidays (8 business hours a day).
"""

from __future__ import annotations

from typing import Any

from slastream.model.events import TicketEvent
from slastream.support.report import SupportReport, evaluate_support
from tests.support.contracts import CUMULOCITY, EVRYTHNG, at, ev, terms, utc

C8Y = terms(CUMULOCITY)
EVT = terms(EVRYTHNG)
BERLIN = "Europe/Berlin"


def c8y(events: list[TicketEvent], as_of: int) -> SupportReport:
    return evaluate_support(C8Y, "cumulocity", events, as_of)


def only(report: SupportReport) -> dict[str, Any]:
    tickets: list[dict[str, Any]] = report.to_json()["tickets"]
    assert len(tickets) == 1
    return tickets[0]


def test_critical_opened_friday_1650_cet() -> None:
    """Critical, opened Friday 2026-11-20 16:50 CET (15:50Z) through the portal.

    Business clock, 2 h: 10 minutes remain on Friday (16:50-17:00); Saturday and Sunday are
    not business days; the other 110 minutes run from Monday 08:00 → Monday 2026-11-23
    09:50 CET = 08:50Z. A reply at 09:30 CET meets it; at 09:00 CET without a reply the
    ticket is open and not yet due (met null); at 10:00 CET without one it is missed.
    Management Assistance (5 business days = 45 business hours): 10 min Friday + 9 h on each
    of Mon 23 .. Thu 26 (36 h) leaves 8 h 50 min on Friday 27 → 2026-11-27 16:50 CET
    (15:50Z); 7 days → Tue 1 Dec 16:50; 9 → Thu 3 Dec 16:50; 11 → Mon 7 Dec 16:50 CET.
    """
    opened = ev("opened", at(BERLIN, 2026, 11, 20, 16, 50), "Critical", channel="portal")
    t = only(c8y([opened], at(BERLIN, 2026, 11, 23, 9, 0)))
    assert (t["opened"], t["clock"]) == ("2026-11-20T15:50:00Z", "business")
    assert t["reaction_deadline"] == "2026-11-23T08:50:00Z"
    assert (t["reacted"], t["met"]) == (None, None)
    assert only(c8y([opened], at(BERLIN, 2026, 11, 23, 10, 0)))["met"] is False
    reply = ev("response", at(BERLIN, 2026, 11, 23, 9, 30))
    t = only(c8y([opened, reply], at(BERLIN, 2026, 12, 2, 12, 0)))
    assert (t["reacted"], t["met"]) == ("2026-11-23T08:30:00Z", True)
    assert [(e["due"], e["reached"]) for e in t["escalation"]] == [
        ("2026-11-27T15:50:00Z", True),
        ("2026-12-01T15:50:00Z", True),
        ("2026-12-03T15:50:00Z", False),
        ("2026-12-07T15:50:00Z", False),
    ]
    assert t["escalation"][0]["to"] == "Regional Director Support"


def test_critical_opened_on_a_german_public_holiday() -> None:
    """Critical, opened on Ascension Day, Thursday 2026-05-14 10:00 CEST, German customer.

    The holiday is not a business day, so without a phone call the 2 business hours run
    from Friday 15 May 08:00 → 10:00 CEST (08:00Z). The same ticket of a UK customer in
    the EMEA region: 14 May is a business day in the UK, so 12:00 CEST (10:00Z) the same
    day. With a phone contact at 10:15 CEST on the holiday the 2 hours run round the clock
    from the contact: 12:15 CEST (10:15Z), earlier than Friday, so that deadline applies.
    """
    opened_ms = at(BERLIN, 2026, 5, 14, 10, 0)
    as_of = at(BERLIN, 2026, 5, 31, 0, 0)
    german = only(c8y([ev("opened", opened_ms, "Critical")], as_of))
    assert (german["reaction_deadline"], german["clock"]) == ("2026-05-15T08:00:00Z", "business")
    british = only(c8y([ev("opened", opened_ms, "Critical", country="GB")], as_of))
    assert british["reaction_deadline"] == "2026-05-14T10:00:00Z"
    phoned = [
        ev("opened", opened_ms, "Critical"),
        ev("contact", at(BERLIN, 2026, 5, 14, 10, 15), channel="phone"),
    ]
    t = only(c8y(phoned, as_of))
    assert (t["reaction_deadline"], t["clock"]) == ("2026-05-14T10:15:00Z", "24x7")
    assert t["met"] is False  # no reply at all by the end of the month


def test_critical_across_the_autumn_dst_change() -> None:
    """Critical, opened Friday 2026-10-23 16:00 CEST (14:00Z); clocks go back on Sunday 25.

    1 business hour on Friday (16:00-17:00 CEST), 1 on Monday 26 from 08:00 CET → 09:00 CET
    = 08:00Z. Keeping Friday's +02:00 offset would wrongly give 07:00Z.
    """
    t = only(c8y([ev("opened", at(BERLIN, 2026, 10, 23, 16, 0), "Critical")],
                 at(BERLIN, 2026, 10, 26, 8, 30)))
    assert t["opened"] == "2026-10-23T14:00:00Z"
    assert t["reaction_deadline"] == "2026-10-26T08:00:00Z"
    assert t["met"] is None


def test_crisis_across_the_spring_dst_gap() -> None:
    """Crisis (24x7), opened Sunday 2026-03-29 01:50 CET (00:50Z), 30 minutes.

    At 02:00 CET the clocks jump to 03:00 CEST; 30 real minutes later it is 03:20 CEST
    (01:20Z), not "02:20", which does not exist.
    """
    t = only(c8y([ev("opened", at(BERLIN, 2026, 3, 29, 1, 50), "Crisis", channel="phone")],
                 utc("2026-03-29T01:00:00Z")))
    assert (t["reaction_deadline"], t["clock"]) == ("2026-03-29T01:20:00Z", "24x7")


def test_standard_on_a_sunday_reported_by_phone() -> None:
    """Standard, opened on the portal Sunday 2026-11-22 10:00 CET, phoned in at 10:15 CET.

    Sunday is not a business day, so the reaction time (1 day) is measured from the phone
    contact, round the clock: Monday 2026-11-23 10:15 CET (09:15Z). Without the call, the
    business clock would start Monday 08:00 and give 1 business day = 9 h → 17:00 CET
    (16:00Z). A reply on Monday at 11:00 CET is late after the call, in time without it.
    """
    opened = ev("opened", at(BERLIN, 2026, 11, 22, 10, 0), "Standard", channel="portal")
    call = ev("contact", at(BERLIN, 2026, 11, 22, 10, 15), channel="phone")
    reply = ev("response", at(BERLIN, 2026, 11, 23, 11, 0))
    as_of = at(BERLIN, 2026, 11, 30, 0, 0)
    t = only(c8y([opened, call, reply], as_of))
    assert (t["reaction_deadline"], t["clock"]) == ("2026-11-23T09:15:00Z", "24x7")
    assert t["met"] is False
    t = only(c8y([opened, reply], as_of))
    assert (t["reaction_deadline"], t["clock"]) == ("2026-11-23T16:00:00Z", "business")
    assert t["met"] is True


def test_severity_raised_from_standard_to_critical() -> None:
    """Standard opened Monday 2026-11-23 09:00 CET; raised to Critical at 14:00 CET.

    Standard alone: 9 business hours → Tuesday 09:00 CET. The raise counts Critical's 2 h
    from the change (14:00 → 16:00 CET = 15:00Z), never later than the running deadline and
    never earlier than 2 h from the opening (11:00): clamp(Tue 09:00, [11:00, 16:00]) = 16:00.
    A reply at 15:30 CET meets it. Raised only on Tuesday at 08:30 CET, 2 h from the change
    would be 10:30, later than the running Tuesday 09:00 (08:00Z), which therefore stays.
    """
    opened = ev("opened", at(BERLIN, 2026, 11, 23, 9, 0), "Standard")
    raised = ev("severity", at(BERLIN, 2026, 11, 23, 14, 0), "Critical")
    reply = ev("response", at(BERLIN, 2026, 11, 23, 15, 30))
    report = c8y([opened, raised, reply], at(BERLIN, 2026, 11, 30, 0, 0))
    t = only(report)
    assert (t["severity"], t["reaction_deadline"], t["met"]) == (
        "Critical", "2026-11-23T15:00:00Z", True)
    assert report.to_json()["by_severity"]["Critical"] == {
        "tickets": 1, "met": 1, "missed": 0, "open": 0}
    late_raise = ev("severity", at(BERLIN, 2026, 11, 24, 8, 30), "Critical")
    t = only(c8y([opened, late_raise], at(BERLIN, 2026, 11, 24, 9, 15)))
    assert (t["reaction_deadline"], t["met"]) == ("2026-11-24T08:00:00Z", False)


def test_crisis_walks_the_whole_escalation_ladder() -> None:
    """Crisis reported by phone Tuesday 2026-12-01 10:00 CET (09:00Z).

    Reply at 10:20 (deadline 10:30): met. Resolution plan at 13:30 (deadline 14:00): met.
    The ladder runs round the clock: 1 day → Wed 2 Dec 10:00 CET, 2 → Thu 3, 3 → Fri 4.
    A potential resolution on Fri 4 Dec 12:00 halts the process until the customer reports
    on Sat 5 Dec 12:00 that it did not help: 24 h halted, so "after 5 days" is Mon 7 Dec
    10:00 CET (09:00Z) instead of Sunday. As of Thursday 3 Dec 12:00 (before the halt)
    two steps are reached and the others projected: Fri 4 and Sun 6 Dec 10:00 CET.
    """
    events = [
        ev("opened", at(BERLIN, 2026, 12, 1, 10, 0), "Crisis", channel="phone"),
        ev("response", at(BERLIN, 2026, 12, 1, 10, 20)),
        ev("plan", at(BERLIN, 2026, 12, 1, 13, 30)),
        ev("resolved", at(BERLIN, 2026, 12, 4, 12, 0)),
        ev("reopened", at(BERLIN, 2026, 12, 5, 12, 0)),
        ev("resolved", at(BERLIN, 2026, 12, 8, 9, 0)),
    ]
    t = only(c8y(events, at(BERLIN, 2026, 12, 31, 0, 0)))
    assert (t["reaction_deadline"], t["met"]) == ("2026-12-01T09:30:00Z", True)
    assert t["resolution"] == {"stops": "plan", "clock": "24x7", "deadline": "2026-12-01T13:00:00Z",
                               "done": "2026-12-01T12:30:00Z", "met": True}
    assert [(e["after"], e["to"], e["due"], e["reached"]) for e in t["escalation"]] == [
        ("1 day", "Regional Director Support", "2026-12-02T09:00:00Z", True),
        ("2 days", "Global Vice President Support", "2026-12-03T09:00:00Z", True),
        ("3 days", "Global Senior Vice President Support", "2026-12-04T09:00:00Z", True),
        ("5 days", "Chief Operating Officer", "2026-12-07T09:00:00Z", True),
    ]
    assert t["resolved"] == "2026-12-08T08:00:00Z"
    early = only(c8y(events, at(BERLIN, 2026, 12, 3, 12, 0)))
    assert [(e["due"], e["reached"]) for e in early["escalation"]] == [
        ("2026-12-02T09:00:00Z", True),
        ("2026-12-03T09:00:00Z", True),
        ("2026-12-04T09:00:00Z", False),
        ("2026-12-06T09:00:00Z", False),
    ]


def test_evrythng_severity_3_on_a_uk_bank_holiday() -> None:
    """EVRYTHNG Severity 3, opened on the Summer bank holiday, Monday 2026-08-31 11:00 BST.

    The region is not given, so UK business hours apply (09:00-17:00 UK time, without
    England's bank holidays). 2 business days = 16 business hours from Tuesday 1 Sep 09:00:
    8 h on Tuesday, 8 h on Wednesday → Wednesday 2026-09-02 17:00 BST (16:00Z). A call-back
    at 16:30 BST on Wednesday is in time. The same ticket in the Americas region (US
    Eastern, no US holiday on 31 August): 6 h Monday (11-17), 8 h Tuesday, 2 h Wednesday →
    Wednesday 2 Sep 11:00 EDT (15:00Z).
    """
    def sev3(region: str, zone: str) -> list[TicketEvent]:
        return [
            ev("opened", at(zone, 2026, 8, 31, 11, 0), "Severity 3", "E-7", "evrythng",
               region, ""),
            ev("response", at("Europe/London", 2026, 9, 2, 16, 30), ident="E-7",
               contract="evrythng", region=region, country=""),
        ]

    as_of = utc("2026-09-30T00:00:00Z")
    uk = only(evaluate_support(EVT, "evrythng", sev3("", "Europe/London"), as_of))
    assert (uk["region"], uk["clock"], uk["reaction_deadline"], uk["met"]) == (
        "UK", "business", "2026-09-02T16:00:00Z", True)
    us = only(evaluate_support(EVT, "evrythng", sev3("Americas", "America/New_York"), as_of))
    assert (us["reaction_deadline"], us["met"]) == ("2026-09-02T15:00:00Z", False)
    assert "resolution" not in uk  # Severity 3 has no resolution target
