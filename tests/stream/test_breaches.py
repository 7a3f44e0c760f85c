"""Episode start/end events for the breaches topic."""

from __future__ import annotations

from typing import Any

import orjson

from slastream.model.ledger import Episode, EventCounts, Inputs, Ledger, Period, SLOEntry
from slastream.model.time import parse_rfc3339_ms
from slastream.stream.breaches import BreachTracker


def ledger(*episodes: dict[str, Any]) -> Ledger:
    eps = tuple(Episode(parse_rfc3339_ms(ep["start"]), parse_rfc3339_ms(ep["end"]), 1.0,
                        ep["excused"], "", ep["open"]) for ep in episodes)
    return Ledger(Period(0, 0, "UTC", 0, parse_rfc3339_ms("2026-10-01T00:10:00Z")),
                  (SLOEntry("api", "probe", "api", None, 0, 0.0, 0.0, 1.0, True, None, None,
                            eps, 0, EventCounts(0, 0)),), (), (), Inputs())


OPEN = {"start": "2026-10-01T00:05:00Z", "end": "2026-10-01T00:10:00Z", "open": True,
        "excused": False}
CLOSED = {**OPEN, "end": "2026-10-01T00:07:00Z", "open": False}
LATER = {**OPEN, "start": "2026-10-01T00:08:00Z"}


def states(events: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(orjson.loads(v)["state"], orjson.loads(v)["episode_start"][11:16])
            for _, v in events]


def test_start_then_end() -> None:
    t = BreachTracker("app")
    assert t.update(ledger(), leader=True) == []
    started = t.update(ledger(OPEN), leader=True)
    assert states(started) == [("start", "00:05")]
    assert started[0][0] == b"api/api/2026-10-01T00:05:00Z"
    assert t.update(ledger(OPEN), leader=True) == []
    ended = t.update(ledger(CLOSED), leader=True)
    assert states(ended) == [("end", "00:05")]
    assert orjson.loads(ended[0][1])["episode_end"] == "2026-10-01T00:07:00Z"
    assert t.update(ledger(CLOSED), leader=True) == []


def test_an_episode_seen_only_closed_gets_both_events() -> None:
    t = BreachTracker("app")
    t.update(ledger(), leader=True)
    assert states(t.update(ledger(CLOSED, LATER), leader=True)) == [
        ("start", "00:05"), ("end", "00:05"), ("start", "00:08")]


def test_only_the_leader_publishes_and_a_new_leader_announces_again() -> None:
    t = BreachTracker("app")
    assert t.update(ledger(OPEN), leader=False) == []
    assert states(t.update(ledger(OPEN), leader=True)) == [("start", "00:05")]
    t.update(ledger(OPEN), leader=False)
    assert states(t.update(ledger(OPEN), leader=True)) == [("start", "00:05")]


def test_an_open_episode_that_disappears_is_ended() -> None:
    t = BreachTracker("app")
    t.update(ledger(OPEN), leader=True)
    assert states(t.update(ledger(), leader=True)) == [("end", "00:05")]


def test_excused_episodes_are_not_breaches() -> None:
    t = BreachTracker("app")
    assert t.update(ledger({**OPEN, "excused": True}), leader=True) == []
