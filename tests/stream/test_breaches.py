"""Episode start/end events for the breaches topic."""

from __future__ import annotations

from typing import Any

import orjson

from slastream.stream.breaches import BreachTracker


def ledger(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"period": {"as_of": "2026-10-01T00:10:00Z"},
            "slos": [{"name": "api", "scope": "api", "episodes": episodes}]}


OPEN = {"start": "2026-10-01T00:05:00Z", "end": "2026-10-01T00:10:00Z", "open": True,
        "excused": False}
CLOSED = {**OPEN, "end": "2026-10-01T00:07:00Z", "open": False}


def update(t: BreachTracker, episodes: list[dict[str, Any]],
           leader: bool = True) -> list[tuple[bytes, bytes]]:
    starts = [ep["start"] for ep in episodes if ep["open"] and not ep["excused"]]
    now_open = {("api", "api"): starts[-1]} if starts else {}
    return t.update(now_open, ledger(episodes), leader)


def states(events: list[tuple[bytes, bytes]]) -> list[str]:
    return [orjson.loads(v)["state"] for _, v in events]


def test_start_then_end() -> None:
    t = BreachTracker("app")
    assert update(t, [], leader=True) == []
    started = update(t, [OPEN], leader=True)
    assert states(started) == ["start"]
    assert started[0][0] == b"api/api/2026-10-01T00:05:00Z"
    assert update(t, [OPEN], leader=True) == []
    ended = update(t, [CLOSED], leader=True)
    assert states(ended) == ["end"]
    assert orjson.loads(ended[0][1])["episode_end"] == "2026-10-01T00:07:00Z"


def test_only_the_leader_publishes_and_a_new_leader_re_announces() -> None:
    t = BreachTracker("app")
    assert update(t, [OPEN], leader=False) == []
    assert states(update(t, [OPEN], leader=True)) == ["start"]


def test_excused_episodes_are_not_breaches() -> None:
    t = BreachTracker("app")
    assert update(t, [{**OPEN, "excused": True}], leader=True) == []
