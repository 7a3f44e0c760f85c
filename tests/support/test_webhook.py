"""The Zendesk webhook receiver against a real Mosquitto: a signed ticket event is on
``slastream/ticket`` when the receiver answers 200, in the shape ``sources/tickets.py``
decodes back to the same events; bad signatures, unmappable bodies and an absent broker are
answered 401, 400 and 503 and counted (docs/interfaces.md#zendesk-webhook)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import orjson
import pytest
import yaml

from slastream.embedded import free_port
from slastream.model.events import TicketEvent
from slastream.model.zendesk import ZendeskSettings
from slastream.sources.tickets import decode_ticket
from slastream.support.publisher import AckedPublisher
from slastream.support.webhook import SIGNATURE, TIMESTAMP, WebhookServer, signature
from tests.brokers import MqttBroker
from tests.probe.replaying import SRC
from tests.support.contracts import CUMULOCITY, utc
from tests.support.test_zendesk import MAPPING, body

pytestmark = pytest.mark.integration

SECRET = b"dGhpcyBpcyBhIHNpZ25pbmcgc2VjcmV0"
ZENDESK = ZendeskSettings((MAPPING,), port=0, publish_timeout_s=2.0)


@contextlib.asynccontextmanager
async def receiver(url: str, settings: ZendeskSettings = ZENDESK
                   ) -> AsyncIterator[WebhookServer]:
    publisher = AckedPublisher(url, "test-webhook", reconnect_s=0.2)
    task = asyncio.create_task(publisher.run())
    server = WebhookServer(settings, SECRET, publisher)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
        publisher.close()
        await task


async def post(url: str, payload: bytes, secret: bytes = SECRET,
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    stamp = "2026-11-20T15:50:02Z"
    signed = {TIMESTAMP: stamp, SIGNATURE: signature(secret, stamp, payload)}
    async with aiohttp.ClientSession() as http, http.post(
            url, data=payload, headers=signed if headers is None else headers,
            timeout=aiohttp.ClientTimeout(total=10)) as response:
        return response.status, await response.json()


async def metrics(server: WebhookServer) -> str:
    async with aiohttp.ClientSession() as http, http.get(
            f"http://{server.host}:{server.port}/metrics") as response:
        return await response.text()


def created() -> bytes:
    return orjson.dumps(body("created", "2026-11-20T15:50:01Z",
                             {"current": {"status": "OPEN"}}))


async def test_a_signed_event_is_on_the_ticket_topic_when_answered(
        mosquitto: MqttBroker) -> None:
    async with aiomqtt.Client(mosquitto.host, mosquitto.port,
                              identifier=f"webhook-test-{os.getpid()}") as sub:
        await sub.subscribe("slastream/ticket", qos=1)
        async with receiver(mosquitto.url) as server:
            status, answer = await post(server.url, created())
            assert (status, answer) == (200, {"outcome": "published", "events": 1})
            message = await asyncio.wait_for(anext(aiomqtt_messages(sub)), 10)
            assert isinstance(message.payload, bytes)
            got: list[TicketEvent] = []
            assert decode_ticket(["slastream", "ticket"], orjson.loads(message.payload), 0,
                                 got) is None
            assert got == [TicketEvent("35436", "opened", utc("2026-11-20T15:50:00Z"),
                                       "Critical", "cumulocity", "EMEA", "DE", "portal")]

            assert (await post(server.url, created(), secret=b"wrong"))[0] == 401
            assert (await post(server.url, created(), headers={}))[0] == 401
            tampered = created().replace(b"HIGH", b"LOW")
            stamp = "2026-11-20T15:50:02Z"
            assert (await post(server.url, tampered, headers={
                TIMESTAMP: stamp, SIGNATURE: signature(SECRET, stamp, created())}))[0] == 401
            assert await post(server.url, b"{not json") == (400, {"outcome": "bad_request",
                                                               "reason": "not JSON"})
            unknown = orjson.dumps(body("created", "2026-11-20T15:50:01Z", priority="asap"))
            status, answer = await post(server.url, unknown)
            assert (status, answer["reason"]) == (
                400, "priority 'asap' has no severity in the mapping")
            status, answer = await post(server.url, orjson.dumps(
                {**body("created", "2026-11-20T15:50:01Z"),
                 "type": "zen:event-type:user.created"}))
            assert (status, answer["outcome"]) == (200, "ignored")
            text = await metrics(server)
    for outcome, n in (("published", 1), ("unauthorized", 3), ("bad_request", 2),
                       ("ignored", 1), ("unavailable", 0)):
        assert (f'slastream_webhook_requests_total{{outcome="{outcome}",source="zendesk"}} '
                f'{n}.0') in text, outcome
    assert 'slastream_webhook_ticket_events_total{source="zendesk"} 1.0' in text


async def test_without_a_broker_the_answer_is_503_and_zendesk_retries() -> None:
    nobody = f"mqtt://127.0.0.1:{free_port()}"
    async with receiver(nobody, ZendeskSettings((MAPPING,), port=0,
                                                publish_timeout_s=0.5)) as server:
        status, answer = await post(server.url, created())
        assert (status, answer["outcome"]) == (503, "unavailable")
        async with aiohttp.ClientSession() as http, http.get(
                f"http://{server.host}:{server.port}/healthz") as response:
            assert response.status == 503


async def aiomqtt_messages(client: aiomqtt.Client) -> AsyncIterator[aiomqtt.Message]:
    async for message in client.messages:
        yield message


def webhook_config(tmp_path: Path, mqtt: str) -> Path:
    raw = {"timezone": "UTC",
           "slos": [{"name": "api", "sli": "probe", "component": "api", "objective": 0.99}],
           "contracts": [{"name": "cumulocity", "slos": ["api"], "support": CUMULOCITY}],
           "mqtt": {"url": mqtt},
           "zendesk": {"mappings": [{"contract": "cumulocity",
                                     "severities": dict(MAPPING.severities),
                                     "regions": dict(MAPPING.regions)}]}}
    path = tmp_path / "webhook.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_command_needs_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SLASTREAM_ZENDESK_SECRET"}
    done = subprocess.run(
        [sys.executable, "-m", "slastream", "webhook", "-c",
         str(webhook_config(tmp_path, "mqtt://127.0.0.1:1"))], capture_output=True,
        env={**env, "PYTHONPATH": str(SRC)}, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == (
        "slastream webhook: no signing secret: set SLASTREAM_ZENDESK_SECRET or "
        "zendesk.secret_file")


async def test_the_command_publishes_until_stopped(mosquitto: MqttBroker,
                                                   tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "slastream", "webhook", "-c",
        str(webhook_config(tmp_path, mosquitto.url)), "--port", str(port),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(SRC),
             "SLASTREAM_ZENDESK_SECRET": SECRET.decode()})
    try:
        assert proc.stderr is not None
        banner = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert f"receiving Zendesk webhooks on http://127.0.0.1:{port}/zendesk" in banner
        for _ in range(50):  # the broker connection comes up just after the banner
            status, answer = await post(f"http://127.0.0.1:{port}/zendesk", created())
            if status != 503:
                break
            await asyncio.sleep(0.2)
        assert (status, answer) == (200, {"outcome": "published", "events": 1})
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
