"""A Zendesk ticket through the whole live pipeline: signed webhooks POSTed to the receiver,
``slastream/ticket`` on Mosquitto, the bridge, Tansu, the worker: the ticket is in the
worker's support section as a replay of the bridge's capture has it
(docs/interfaces.md#zendesk-webhook, docs/semantics.md#support)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import time
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
import yaml

from slastream.config import load_settings
from slastream.support.publisher import AckedPublisher
from slastream.support.webhook import WebhookServer
from tests.brokers import KafkaBroker, MqttBroker
from tests.integration.live import live_pipeline, replayed
from tests.integration.test_live import get_json, write_config
from tests.support.contracts import CUMULOCITY
from tests.support.test_webhook import SECRET, post
from tests.support.test_zendesk import body

pytestmark = pytest.mark.integration

MONTH = "2026-10"
MONTH_END = "2026-11-01T00:00:00Z"
WAIT_S = 90.0
ZENDESK = {"port": 0, "mappings": [{
    "contract": "cumulocity", "organizations": ["360001"],
    "severities": {"urgent": "Crisis", "high": "Critical", "normal": "Standard",
                   "low": "Standard"},
    "regions": {"emea": "EMEA", "apj": "APJ", "us": "US"}}]}


def config(tmp: Path, kafka: str, mqtt: str) -> Path:
    path = write_config(tmp, kafka, "livewebhook", mqtt)
    raw = yaml.safe_load(path.read_text())
    raw["contracts"] = [{"name": "cumulocity", "slos": ["api-probe"], "objective": 0.99,
                         "support": copy.deepcopy(CUMULOCITY)}]
    raw["zendesk"] = ZENDESK
    path.write_text(yaml.safe_dump(raw))
    return path


def webhooks() -> list[bytes]:
    """Ticket 35436 of organisation 360001, opened high (Critical) on Monday 5 October at
    09:00 in Berlin through the web form, answered publicly by an agent at 10:00."""
    where = {"organization_id": "360001", "created_at": "2026-10-05T07:00:00Z"}
    return [orjson.dumps(body("created", "2026-10-05T07:00:01Z", **where)),
            orjson.dumps(body("comment_added", "2026-10-05T08:00:00Z", {"comment": {
                "id": "1", "body": "We are on it", "is_public": True,
                "author": {"id": "7", "is_staff": True, "name": "Agent"}}}, **where))]


async def close_the_month(url: str) -> None:
    """One probe result just before the month's end: ticks carry the watermark past it."""
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    async with aiomqtt.Client(host, int(port), identifier=f"live-webhook-{os.getpid()}"
                              ) as client:
        await client.publish("slastream/probe/api", json.dumps(
            {"time": "2026-10-31T23:59:58Z", "ok": True, "status": 200, "latency_ms": 5}),
            qos=1)


def wait_ticket(url: str, deadline: float) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            seen = get_json(f"{url}/api/ledger?month={MONTH}")
            [contract] = seen["contracts"]
            tickets = contract["support"]["tickets"]
            if seen["period"]["as_of"] == MONTH_END and tickets and tickets[0]["reacted"]:
                return dict(contract["support"])
        time.sleep(0.5)
    raise AssertionError(f"the ticket did not reach the live ledger: {seen.get('period')}")


def test_a_zendesk_ticket_reaches_the_live_support_section(
        tansu: KafkaBroker, mosquitto: MqttBroker, tmp_path: Path) -> None:
    path = config(tmp_path, tansu.bootstrap, mosquitto.url)
    settings = load_settings(path)
    assert settings.zendesk is not None
    capture = tmp_path / "capture.jsonl"

    async def run() -> dict[str, Any]:
        async with live_pipeline(settings, capture) as url:
            publisher = AckedPublisher(mosquitto.url, "live-webhook", reconnect_s=0.2)
            task = asyncio.create_task(publisher.run())
            assert settings.zendesk is not None
            server = WebhookServer(settings.zendesk, SECRET, publisher)
            await server.start()
            try:
                for hook in webhooks():
                    assert (await post(server.url, hook))[0] == 200
            finally:
                await server.close()
                publisher.close()
                await task
            await close_the_month(mosquitto.url)
            return await asyncio.to_thread(wait_ticket, url, time.monotonic() + WAIT_S)

    live = asyncio.run(run())
    [contract] = replayed(path, capture, MONTH)["contracts"]
    assert live == contract["support"]
    [ticket] = live["tickets"]
    assert (ticket["id"], ticket["severity"], ticket["region"], ticket["reacted"],
            ticket["met"]) == ("35436", "Critical", "EMEA", "2026-10-05T08:00:00Z", True)
