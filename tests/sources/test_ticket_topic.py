"""``slastream/ticket`` through the router, the Kafka record format, the engine's state and
the live view: the plumbing that brings support-desk events to the ledger."""

from __future__ import annotations

from pathlib import Path

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.events import Event, TicketEvent
from slastream.sources import router
from slastream.sources.decoder import group
from slastream.stream.view import LiveView
from slastream.transport import codec, routes

ROOT = Path(__file__).resolve().parents[2]
OPENED = {"id": "T-1", "event": "opened", "time": "2026-10-02T14:50:00Z",
          "severity": "Critical", "contract": "cumulocity", "region": "EMEA", "country": "de",
          "channel": "portal"}
RESPONSE = {"id": "T-1", "event": "response", "time": "2026-10-02T15:20:00Z",
            "contract": "cumulocity"}


def _decode(payload: object) -> tuple[tuple[str, str, str], list[Event]]:
    out: list[Event] = []
    return router.decode("slastream/ticket", payload, 0, out), out


def test_ticket_events_decode_and_route_to_the_control_topic() -> None:
    outcome, events = _decode([OPENED, RESPONSE])
    assert outcome == ("canonical", "ok", "")
    assert events[0] == TicketEvent("T-1", "opened", 1_790_952_600_000, "Critical",
                                    "cumulocity", "EMEA", "DE", "portal")
    assert routes.routes(events[0]) == [(routes.CONTROL, "cumulocity/T-1")]
    assert codec.decode_batch(codec.encode_batch(events)) == events


def test_a_bad_ticket_is_a_counted_rejection() -> None:
    outcome, events = _decode({**OPENED, "event": "escalated"})
    assert outcome[1] == "rejected" and "event must be one of" in outcome[2] and events == []


def test_tickets_survive_an_engine_snapshot() -> None:
    settings = load_settings(ROOT / "examples/contracts/cumulocity.yaml")
    engine = Engine(settings)
    engine.feed(group(_decode([OPENED, RESPONSE])[1]))
    restored = Engine.restore(settings, engine.snapshot())
    assert restored.tickets == engine.tickets and len(engine.tickets) == 2


def test_the_live_view_keeps_each_ticket_event_once() -> None:
    view = LiveView(load_settings(ROOT / "examples/contracts/cumulocity.yaml"))
    events = _decode([OPENED, RESPONSE])[1]
    assert view.add_control(events) is True
    assert view.add_control(list(reversed(events))) is False  # redelivered: nothing new
    assert list(view.tickets) == events
