"""Requests chosen by the test, written as access-log lines and as direct publications.

The expected ledger is the one ``slastream replay`` computes from the requests published
directly on ``slastream/request/{component}`` (one message each, as any publisher could);
the reader's output must give the same.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from tests.capture_builder import Capture, ts

START = datetime(2026, 10, 1, tzinfo=UTC)
SLOW = (START + timedelta(hours=1), START + timedelta(hours=1, minutes=20))


class Req(NamedTuple):
    when: datetime  # whole seconds: the combined format has no fraction
    duration_ms: int
    status: int
    client: str


def requests(hours: int = 3, seed: int = 11) -> list[Req]:
    """A request every 2 to 4 seconds; 400-900 ms during the slow 20 minutes, else 20-150."""
    rng = random.Random(seed)
    out: list[Req] = []
    t = START
    while t < START + timedelta(hours=hours):
        slow = SLOW[0] <= t < SLOW[1]
        out.append(Req(t, rng.randint(400, 900) if slow else rng.randint(20, 150),
                       rng.choice((200, 200, 200, 201, 404, 500)),
                       f"10.0.0.{rng.randint(1, 5)}"))
        t += timedelta(seconds=rng.randint(2, 4))
    return out


def combined_line(r: Req) -> str:
    local = r.when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (f'{r.client} - - [{local}] "GET /v1/things?x=\\"y\\" HTTP/1.1" {r.status} 512 "-" '
            f'"curl/8.5.0" {r.duration_ms / 1000:.3f}')


def nginx_json_line(r: Req) -> str:
    return ('{"time_iso8601":"' + r.when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            + f'","request_time":"{r.duration_ms / 1000:.3f}","status":"{r.status}",'
            f'"remote_addr":"{r.client}","request":"GET /v1/things HTTP/1.1"}}')


def direct_capture(reqs: list[Req], component: str, path: Path) -> Path:
    cap = Capture()
    for r in reqs:
        cap.msg(r.when, f"slastream/request/{component}", {
            "time": ts(r.when), "duration_ms": r.duration_ms, "status": r.status,
            "client": r.client})
    return cap.write(path)


def response_time_config(component: str) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "slos": [{"name": "response-time", "sli": "response_time", "component": component,
                  "target_ms": 200, "block_requests": 100,
                  "downtime": {"window_s": 300, "min_events": 20, "min_duration_s": 60}}],
        "contracts": [{"name": "c", "slos": ["response-time"], "objective": 0.999}],
    }


def comparable(ledger: dict[str, Any]) -> dict[str, Any]:
    """The ledger without the message count (batches are fewer messages than requests)."""
    return {"period": ledger["period"], "slos": ledger["slos"],
            "contracts": ledger["contracts"], "rejected": ledger["inputs"]["rejected"],
            "late": ledger["inputs"]["late"]}
