"""Golden files for decoders: ``tests/golden/sources/<decoder>.json``.

Each file holds ``{"decoder": ..., "cases": [...]}``; a case is

    {"name": "...", "note": "why this case exists",
     "topic": "...", "received_at": "RFC 3339 (the bridge clock)",
     "payload": <JSON> | "payload_b64": "<non-JSON bytes>",
     "outcome": "ok" | "ignored" | "rejected", "reason": "...",
     "events": [["uplink_received", <field>, ...], ...]}

Events are written as their type name followed by their fields (tuples as lists, NaN as
null), the same order as the NamedTuple. Cases go through ``router.decode``, so the topic
routing is part of what is checked.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

from slastream.model.events import EVENT_NAMES, Event
from slastream.model.time import parse_rfc3339_ms
from slastream.sources import router

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden" / "sources"


def load_cases(decoder: str) -> list[dict[str, Any]]:
    data = json.loads((GOLDEN_DIR / f"{decoder}.json").read_text(encoding="utf-8"))
    assert data["decoder"] == decoder
    cases: list[dict[str, Any]] = data["cases"]
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


def event_as_json(event: Event) -> list[Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    return [EVENT_NAMES[type(event)], *(plain(v) for v in event)]


def run_case(case: dict[str, Any]) -> None:
    """Decode one golden case and compare outcome, reason and events."""
    payload = base64.b64decode(case["payload_b64"]) if "payload_b64" in case else case["payload"]
    out: list[Event] = []
    received_ms = parse_rfc3339_ms(case["received_at"])
    # a router of its own: each case stands alone (no device session learned from another)
    source, outcome, reason = router.Router().decode(case["topic"], payload, received_ms, out)
    got = {"outcome": outcome, "reason": reason, "events": [event_as_json(e) for e in out]}
    want = {"outcome": case["outcome"], "reason": case["reason"], "events": case["events"]}
    assert got == want, f"{case['name']} ({source})"
