"""Ticket and request traffic through the live pipeline (real Mosquitto and Tansu) gives
the ledger's ``support`` and ``usage`` sections a replay of the bridge's capture gives
(docs/semantics.md#support, docs/semantics.md#usage).

All traffic lies in October 2026 (UTC), a month in the past: a replay judges it as of the
month's end, and so does the worker once its watermark, carried by ticks past the last
request (23:59:30 on the 31st), has passed the month's end. The tickets are those of
``tests/support/test_cases.py``, moved by whole weeks into October where they lie in
another month (weekday and local time kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from slastream.config import load_settings
from slastream.model.events import TicketEvent
from tests.brokers import KafkaBroker, MqttBroker
from tests.integration.live import live_pipeline, replayed
from tests.integration.test_live import get_json, write_config
from tests.support.contracts import CUMULOCITY, EVRYTHNG, at, ev
from tests.usage.helpers import ms

pytestmark = pytest.mark.integration

BERLIN = "Europe/Berlin"
WEEK_MS = 7 * 86_400_000
MONTH = "2026-10"
MONTH_END = "2026-11-01T00:00:00Z"
BANDS = {name: {"clients": [f"{name.lower()}-*"]} for name in ("Trial", "A")}
WAIT_S = 90.0


def tickets() -> list[TicketEvent]:
    """The acceptance cases' events, each case under its own id, shifted into October."""
    def moved(events: list[TicketEvent], ident: str, weeks: int) -> list[TicketEvent]:
        return [e._replace(id=ident, time_ms=e.time_ms + weeks * WEEK_MS) for e in events]

    friday = [ev("opened", at(BERLIN, 2026, 11, 20, 16, 50), "Critical", channel="portal"),
              ev("response", at(BERLIN, 2026, 11, 23, 9, 30))]
    holiday = [ev("opened", at(BERLIN, 2026, 5, 14, 10, 0), "Critical"),
               ev("contact", at(BERLIN, 2026, 5, 14, 10, 15), channel="phone")]
    dst = [ev("opened", at(BERLIN, 2026, 10, 23, 16, 0), "Critical")]
    sunday = [ev("opened", at(BERLIN, 2026, 11, 22, 10, 0), "Standard", channel="portal"),
              ev("contact", at(BERLIN, 2026, 11, 22, 10, 15), channel="phone"),
              ev("response", at(BERLIN, 2026, 11, 23, 11, 0))]
    raised = [ev("opened", at(BERLIN, 2026, 11, 23, 9, 0), "Standard"),
              ev("severity", at(BERLIN, 2026, 11, 23, 14, 0), "Critical"),
              ev("response", at(BERLIN, 2026, 11, 23, 15, 30))]
    crisis = [ev("opened", at(BERLIN, 2026, 12, 1, 10, 0), "Crisis", channel="phone"),
              ev("response", at(BERLIN, 2026, 12, 1, 10, 20)),
              ev("plan", at(BERLIN, 2026, 12, 1, 13, 30)),
              ev("resolved", at(BERLIN, 2026, 12, 4, 12, 0)),
              ev("reopened", at(BERLIN, 2026, 12, 5, 12, 0)),
              ev("resolved", at(BERLIN, 2026, 12, 8, 9, 0))]
    bank_holiday = [
        ev("opened", at("Europe/London", 2026, 8, 31, 11, 0), "Severity 3", "E-7",
           "evrythng", "", ""),
        ev("response", at("Europe/London", 2026, 9, 2, 16, 30), ident="E-7",
           contract="evrythng", region="", country="")]
    return [*moved(friday, "C-1", -4), *moved(holiday, "C-2", 22), *moved(dst, "C-3", 0),
            *moved(sunday, "C-4", -4), *moved(raised, "C-5", -4), *moved(crisis, "C-6", -7),
            *moved(bank_holiday, "E-7", 8)]


def requests() -> list[tuple[int, str, str]]:
    """``(time, component, client)`` on 31 October: a device at 2 requests/s for 12
    minutes (an intensive episode, band A over its allowance that day), 20 trial devices
    every 30 minutes, a few requests of another component from a device of its own, and
    trial-1 calling a third one too (api and ingest are on two partitions by component);
    every device's last request at 23:59:30, so every partition's newest event is there
    however the requests are keyed; in time order."""
    day = ms("2026-10-31T00:00:00")
    out = [(day + 22 * 3_600_000 + i * 500, "api", "a-hot") for i in range(12 * 60 * 2)]
    out += [(day + d * 1000 + i * 1_800_000, "api", f"trial-{d}")
            for d in range(20) for i in range(48)]
    out += [(day + i * 3_600_000 + 7, "web", "trial-web") for i in range(24)]
    out += [(day + i * 3_600_000 + 11, "ingest", "trial-1") for i in range(24)]
    out += [(day + 86_400_000 - 30_000, "web" if who == "trial-web" else "api", who)
            for who in ("a-hot", *(f"trial-{d}" for d in range(20)), "trial-web")]
    return sorted(out)


def rfc3339(ms_: int) -> str:
    return datetime.fromtimestamp(ms_ / 1000, UTC).isoformat(timespec="milliseconds"
                                                              ).replace("+00:00", "Z")


def ticket_json(e: TicketEvent) -> dict[str, Any]:
    return {"id": e.id, "event": e.event, "time": rfc3339(e.time_ms),
            "severity": e.severity or None, "contract": e.contract,
            "region": e.region or None, "country": e.country or None,
            "channel": e.channel or None}


def config(tmp: Path, kafka: str, mqtt: str) -> Path:
    path = write_config(tmp, kafka, "livesupport", mqtt)
    raw = yaml.safe_load(path.read_text())
    base = {"slos": ["api-probe"], "objective": 0.99}
    raw["contracts"] = [
        {"name": "cumulocity", **base, "support": copy.deepcopy(CUMULOCITY)},
        {"name": "evrythng", **base, "support": copy.deepcopy(EVRYTHNG),
         "usage": {"component": "api", "bands": BANDS}},
        # every component: request logs travel keyed by client (docs/semantics.md#usage)
        {"name": "fleet", **base, "usage": {"bands": BANDS}},
    ]
    path.write_text(yaml.safe_dump(raw))
    return path


async def publish(url: str) -> None:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    async with aiomqtt.Client(host, int(port), identifier=f"live-support-{os.getpid()}"
                              ) as client:
        rows = requests()
        for i in range(0, len(rows), 200):
            chunk = rows[i:i + 200]
            for component in sorted({c for _, c, _ in chunk}):
                body = [{"time": rfc3339(t), "duration_ms": 12.5, "status": 200,
                         "client": who} for t, c, who in chunk if c == component]
                await client.publish(f"slastream/request/{component}", json.dumps(body),
                                     qos=1)
        for e in tickets():
            await client.publish("slastream/ticket", json.dumps(ticket_json(e)), qos=1)


def sections(ledger: dict[str, Any]) -> dict[str, Any]:
    return {c["name"]: (c.get("support"), c.get("usage")) for c in ledger["contracts"]}


def wait_final(url: str, deadline: float) -> dict[str, Any]:
    """The ledger once the month is judged as of its end, every ticket is in, the day is
    closed, and two readings in a row agree."""
    last: dict[str, Any] | None = None
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            seen = get_json(f"{url}/api/ledger?month={MONTH}")
            got = sections(seen)
            days = got["evrythng"][1]["days"]
            done = (seen["period"]["as_of"] == MONTH_END
                    and sum(len(s["tickets"]) for s, _ in got.values() if s) == 7
                    and days and all(d["complete"] for d in days))
            if done:
                if got == last:
                    return seen
                last = got
        time.sleep(1.0)
    raise AssertionError(f"the live ledger did not complete: {seen.get('period')}")


def test_tickets_and_requests_live_give_the_replays_support_and_usage(
        tansu: KafkaBroker, mosquitto: MqttBroker, tmp_path: Path) -> None:
    path = config(tmp_path, tansu.bootstrap, mosquitto.url)
    settings = load_settings(path)
    capture = tmp_path / "capture.jsonl"

    async def run() -> dict[str, Any]:
        async with live_pipeline(settings, capture) as url:
            await publish(mosquitto.url)
            return await asyncio.to_thread(wait_final, url, time.monotonic() + WAIT_S)

    live_ledger = asyncio.run(run())
    offline = replayed(path, capture, MONTH)
    assert sections(live_ledger) == sections(offline)
    support, usage = sections(offline)["evrythng"]
    assert [t["id"] for t in support["tickets"]] == ["E-7"]
    assert [e["client"] for e in usage["intensive"]] == ["a-hot"]
    bands = {b["band"]: b for b in usage["bands"]}
    assert (bands["Trial"]["adis"], bands["A"]["adis"], bands["A"]["over_allowance"]) == (
        20, 1, 1)
    assert len(sections(offline)["cumulocity"][0]["tickets"]) == 6
    # trial-1 calls api and web: one ADI of the contract counting every component
    fleet = {b["band"]: b for b in sections(offline)["fleet"][1]["bands"]}
    assert (fleet["Trial"]["adis"], fleet["Trial"]["requests"]) == (21, 20 * 49 + 24 + 25)
