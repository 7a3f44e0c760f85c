"""Zendesk ticket-event webhook bodies (shaped like Zendesk's documented examples)."""

from __future__ import annotations

from typing import Any

import pytest

from slastream.errors import Rejected
from slastream.model.events import TicketEvent
from slastream.support.report import evaluate_support
from slastream.support.zendesk import ZendeskMapping, decode_zendesk, decoder
from tests.support.contracts import CUMULOCITY, terms, utc

MAPPING = ZendeskMapping(
    contract="cumulocity",
    severities=(("urgent", "Crisis"), ("high", "Critical"), ("normal", "Standard"),
                ("low", "Standard")),
    regions=(("emea", "EMEA"), ("apj", "APJ"), ("us", "US")),
)


def body(
    kind: str, time: str, event: dict[str, Any] | None = None, **detail: Any
) -> dict[str, Any]:
    return {
        "type": f"zen:event-type:ticket.{kind}",
        "account_id": 12514403,
        "id": "01HNXXXX-EXAMPLE",
        "time": time,
        "zendesk_event_version": "2022-11-06",
        "subject": "zen:ticket:35436",
        "detail": {
            "id": "35436",
            "status": "OPEN",
            "priority": "HIGH",
            "via": {"channel": "web"},
            "tags": ["emea", "country_de", "enterprise"],
            "created_at": "2026-11-20T15:50:00Z",
            "updated_at": time,
            **detail,
        },
        "event": event or {},
    }


def decode(payload: dict[str, Any]) -> tuple[str | None, list[TicketEvent]]:
    out: list[TicketEvent] = []
    return decode_zendesk(payload, MAPPING, out), out


def test_created_through_the_portal() -> None:
    created = body("created", "2026-11-20T15:50:01Z", {"current": {"status": "OPEN"}})
    reason, events = decode(created)
    assert reason is None
    assert events == [TicketEvent("35436", "opened", utc("2026-11-20T15:50:00Z"), "Critical",
                                  "cumulocity", "EMEA", "DE", "portal")]


def test_created_by_phone_is_also_the_contact() -> None:
    _, events = decode(body("created", "2026-11-22T09:00:00Z", priority="normal",
                            via={"channel": "voice"}, created_at="2026-11-22T09:00:00Z"))
    assert [(e.event, e.severity, e.channel) for e in events] == [
        ("opened", "Standard", "phone"), ("contact", "", "phone")]


def test_priority_change() -> None:
    _, events = decode(body("priority_changed", "2026-11-23T13:00:00Z",
                            {"current": "URGENT", "previous": "HIGH"}))
    assert [(e.event, e.severity, e.time_ms) for e in events] == [
        ("severity", "Crisis", utc("2026-11-23T13:00:00Z"))]


def test_only_a_public_staff_comment_is_a_response() -> None:
    def comment(public: bool, staff: bool) -> dict[str, Any]:
        return body("comment_added", "2026-11-23T08:30:00Z", {"comment": {
            "id": "1", "body": "Looking into it", "is_public": public,
            "author": {"id": "7", "is_staff": staff, "name": "Agent"}}})

    assert [e.event for e in decode(comment(True, True))[1]] == ["response"]
    assert decode(comment(False, True)) == ("ignored comment_added", [])
    assert decode(comment(True, False)) == ("ignored comment_added", [])


def test_status_changes() -> None:
    solved = body("status_changed", "2026-11-25T10:00:00Z",
                  {"current": "SOLVED", "previous": "OPEN"})
    reopened = body("status_changed", "2026-11-26T10:00:00Z",
                    {"current": "OPEN", "previous": "SOLVED"})
    pending = body("status_changed", "2026-11-24T10:00:00Z",
                   {"current": "PENDING", "previous": "OPEN"})
    assert [e.event for e in decode(solved)[1]] == ["resolved"]
    assert [e.event for e in decode(reopened)[1]] == ["reopened"]
    assert decode(pending) == ("ignored status_changed", [])


def test_tags_for_plan_and_phone_contact() -> None:
    _, events = decode(body("tags_changed", "2026-11-20T18:00:00Z",
                            {"tags_added": ["resolution_plan", "phone_contact"],
                             "tags_removed": []}))
    assert [(e.event, e.channel) for e in events] == [("plan", ""), ("contact", "phone")]


def test_ignored_and_rejected() -> None:
    assert decode({"type": "zen:event-type:user.created", "detail": {}}) == (
        "not a ticket event", [])
    assert decode(body("subject_changed", "2026-11-20T18:00:00Z"))[0] == "ignored subject_changed"
    with pytest.raises(Rejected, match="priority 'whenever' has no severity"):
        decode(body("created", "2026-11-20T18:00:00Z", priority="whenever"))
    with pytest.raises(Rejected, match="priority 'none' has no severity"):
        decode(body("created", "2026-11-20T18:00:00Z", priority=None))
    with pytest.raises(Rejected, match=r"detail\.id must be a ticket id"):
        decode(body("created", "2026-11-20T18:00:00Z", id=None))
    with pytest.raises(Rejected, match="missing detail"):
        decode({"type": "zen:event-type:ticket.created", "time": "2026-11-20T18:00:00Z"})
    with pytest.raises(Rejected, match="time is not an RFC 3339"):
        decode(body("priority_changed", "soon", {"current": "LOW"}))


def test_a_ticket_through_the_adapter_is_judged() -> None:
    """Created Friday 16:50 CET as high (Critical); a public reply Monday 09:30 CET:
    2 business hours end Monday 09:50 CET (08:50Z), so it is met."""
    decode_one = decoder(MAPPING)
    out: list[TicketEvent] = []
    for payload in [
        body("created", "2026-11-20T15:50:01Z"),
        body("comment_added", "2026-11-23T08:30:00Z", {"comment": {
            "is_public": True, "author": {"is_staff": True}}}),
    ]:
        decode_one(["zendesk"], payload, 0, out)
    report = evaluate_support(terms(CUMULOCITY), "cumulocity", out, utc("2026-11-30T00:00:00Z"))
    ticket = report.to_json()["tickets"][0]
    assert (ticket["reaction_deadline"], ticket["met"]) == ("2026-11-23T08:50:00Z", True)
