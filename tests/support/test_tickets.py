"""The ``slastream/ticket`` decoder, and the fold: any arrival order, any duplicates."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slastream.errors import Rejected
from slastream.model.events import TicketEvent
from slastream.sources.tickets import decode_ticket
from slastream.support.report import evaluate_support
from slastream.support.tickets import fold
from tests.support.contracts import CUMULOCITY, at, ev, terms, utc

PARTS = ["slastream", "ticket"]
OPENED: dict[str, Any] = {
    "id": "C-1", "event": "opened", "time": "2026-11-20T15:50:00Z", "severity": "Critical",
    "contract": "cumulocity", "region": "EMEA", "country": "de", "channel": "portal",
}


def decode(payload: Any) -> list[TicketEvent]:
    out: list[TicketEvent] = []
    assert decode_ticket(PARTS, payload, 0, out) is None
    return out


def test_one_event() -> None:
    assert decode(OPENED) == [
        TicketEvent("C-1", "opened", utc("2026-11-20T15:50:00Z"), "Critical", "cumulocity",
                    "EMEA", "DE", "portal")
    ]


def test_an_array_and_null_optionals() -> None:
    reply = {"id": "C-1", "event": "response", "time": "2026-11-23T08:30:00+00:00",
             "severity": "Crisis", "contract": "cumulocity", "region": None, "country": None,
             "channel": None}
    events = decode([OPENED, reply])
    assert events[1] == TicketEvent(
        "C-1", "response", utc("2026-11-23T08:30:00Z"), "", "cumulocity", "", "", ""
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event": "closed"}, "event must be one of opened, severity, contact, response, plan, "
                              "resolved, reopened"),
        ({"severity": None}, "severity is required on opened"),
        ({"id": ""}, "id and contract must not be empty"),
        ({"contract": None}, "missing contract"),
        ({"time": "yesterday"}, "time is not an RFC 3339 timestamp: 'yesterday'"),
        ({"country": "Germany"}, "country must be an ISO 3166-1 alpha-2 code like DE"),
        ({"channel": "pigeon"}, "channel must be phone, portal, email or null"),
        ({"region": 3}, "region must be a string"),
    ],
)
def test_rejections(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(Rejected) as exc:
        decode({**OPENED, **change})
    assert exc.value.reason == reason


def test_batches_are_all_or_nothing() -> None:
    out: list[TicketEvent] = []
    with pytest.raises(Rejected) as exc:
        decode_ticket(PARTS, [OPENED, {**OPENED, "event": "x"}], 0, out)
    assert exc.value.reason.startswith("item 1: event must be")
    assert out == []
    with pytest.raises(Rejected, match="item 0: not a JSON object"):
        decode_ticket(PARTS, [1], 0, out)
    with pytest.raises(Rejected, match="not a JSON object or array"):
        decode_ticket(PARTS, "opened", 0, out)
    assert decode_ticket(PARTS, [], 0, out) == "empty batch"


def test_fold_needs_the_opening_and_stops_at_as_of() -> None:
    t0 = at("Europe/Berlin", 2026, 11, 23, 9, 0)
    assert fold([ev("response", t0)]) is None
    state = fold([ev("opened", t0, "Standard"), ev("response", t0 + 60_000)], as_of_ms=t0)
    assert state is not None and state.response_ms == -1
    events = [
        ev("opened", t0, "Standard", region=""),
        ev("severity", t0 + 1, "Standard", region="APJ"),  # no change
        ev("severity", t0 + 2, "Critical"),
        ev("resolved", t0 + 3),
        ev("reopened", t0 + 4),
        ev("resolved", t0 + 5),
        ev("opened", t0 + 6, "Crisis"),  # a repeated opening changes nothing
    ]
    state = fold(events)
    assert state is not None
    assert state.region == "APJ"
    assert state.severities == ((t0, "Standard"), (t0 + 2, "Critical"))
    assert state.pauses == ((t0 + 3, t0 + 4),)
    assert state.resolved_ms == t0 + 5


T0 = at("Europe/Berlin", 2026, 11, 20, 16, 0)
KINDS = ["severity", "contact", "response", "plan", "resolved", "reopened"]
ticket_events = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(min_value=0, max_value=10 * 86_400_000),
        st.sampled_from(["Crisis", "Critical", "Standard", "Sev9"]),
    ),
    max_size=12,
).map(lambda items: [ev("opened", T0, "Critical")] + [
    ev(kind, T0 + offset, severity if kind == "severity" else "")
    for kind, offset, severity in items
])


@settings(max_examples=200, deadline=None)
@given(ticket_events, st.randoms(use_true_random=False), st.integers(min_value=0, max_value=3))
def test_any_order_and_duplicates_give_the_same_result(
    events: list[TicketEvent], rnd: Any, copies: int
) -> None:
    shuffled = events + rnd.sample(events, min(copies, len(events)))
    rnd.shuffle(shuffled)
    assert fold(shuffled) == fold(events)
    c8y = terms(CUMULOCITY)
    as_of = T0 + 12 * 86_400_000
    assert (evaluate_support(c8y, "cumulocity", shuffled, as_of)
            == evaluate_support(c8y, "cumulocity", events, as_of))
