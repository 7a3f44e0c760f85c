"""``slastream webhook``: Zendesk ticket-event webhooks in, ``slastream/ticket`` messages out.

Zendesk POSTs each ticket event to ``zendesk.path`` (docs/interfaces.md#zendesk-webhook).
A request is answered

- 401 when its signature is missing or wrong: Zendesk signs the timestamp header followed by
  the raw body with HMAC-SHA256 under the webhook's signing secret, base64-encoded in
  ``X-Zendesk-Webhook-Signature`` (the timestamp in ``X-Zendesk-Webhook-Signature-Timestamp``);
- 400 when the body is not a ticket event slastream can map (not JSON, a priority without a
  severity, an organisation and brand no mapping claims);
- 200 once its ticket events are on the MQTT broker (one JSON array, QoS 1, after the
  PUBACK), or when there is nothing to publish (an event type slastream ignores);
- 503 when the broker did not acknowledge in time, so that Zendesk sends it again (a ticket
  event delivered twice is the same event: the fold drops duplicates).

Every answer is counted by outcome on ``/metrics``; ``/healthz`` is 200 while the broker is
connected. The signing secret comes from ``SLASTREAM_ZENDESK_SECRET`` or
``zendesk.secret_file``, never from the config itself.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from prometheus_client.registry import CollectorRegistry

from slastream.errors import Rejected, SlastreamError
from slastream.model.events import TicketEvent
from slastream.model.time import format_rfc3339_ms
from slastream.model.zendesk import SECRET_ENV, ZendeskSettings
from slastream.support.publisher import AckedPublisher, Unavailable
from slastream.support.zendesk import decode_webhook

TICKET_TOPIC = "slastream/ticket"
SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
OUTCOMES = ("published", "ignored", "unauthorized", "bad_request", "unavailable")
MAX_BODY = 1 << 20  # Zendesk's event bodies are a few KiB


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """Zendesk's webhook signature: base64(HMAC-SHA256(secret, timestamp + body))."""
    digest = hmac.new(secret, timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def ticket_message(e: TicketEvent) -> dict[str, Any]:
    """A ticket event as ``slastream/ticket`` carries it (docs/interfaces.md#ticket-events)."""
    return {"id": e.id, "event": e.event, "time": format_rfc3339_ms(e.time_ms),
            "severity": e.severity or None, "contract": e.contract,
            "region": e.region or None, "country": e.country or None,
            "channel": e.channel or None}


def signing_secret(env: Mapping[str, str], settings: ZendeskSettings) -> bytes:
    """The signing secret: ``SLASTREAM_ZENDESK_SECRET``, else the contents of
    ``zendesk.secret_file`` (surrounding whitespace dropped); ``SlastreamError`` if none."""
    secret = env.get(SECRET_ENV, "").strip()
    if not secret and settings.secret_file:
        try:
            secret = Path(settings.secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SlastreamError(f"cannot read zendesk.secret_file: {exc.strerror}") from None
    if not secret:
        raise SlastreamError(f"no signing secret: set {SECRET_ENV} or zendesk.secret_file")
    return secret.encode()


class WebhookServer:
    """The receiver: ``await start()``, ``await close()``; ``port`` once started."""

    def __init__(self, settings: ZendeskSettings, secret: bytes, publisher: AckedPublisher,
                 registry: CollectorRegistry | None = None) -> None:
        self.settings = settings
        self.secret = secret
        self.publisher = publisher
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter("slastream_webhook_requests", "Webhook requests by outcome.",
                                ["source", "outcome"], registry=self.registry)
        self.events = Counter("slastream_webhook_ticket_events",
                              "Ticket events published from webhooks.", ["source"],
                              registry=self.registry)
        for outcome in OUTCOMES:
            self.requests.labels("zendesk", outcome)
        self.host, self.port = settings.host, settings.port
        self._runner: web.AppRunner | None = None

    def _answer(self, outcome: str, status: int, **body: Any) -> web.Response:
        self.requests.labels("zendesk", outcome).inc()
        return web.Response(body=orjson.dumps({"outcome": outcome, **body}), status=status,
                            content_type="application/json")

    async def _zendesk(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp, given = request.headers.get(TIMESTAMP), request.headers.get(SIGNATURE)
        if not stamp or not given or not hmac.compare_digest(
                signature(self.secret, stamp, body), given):
            return self._answer("unauthorized", 401, reason="bad or missing signature")
        events: list[TicketEvent] = []
        try:
            ignored = decode_webhook(orjson.loads(body), self.settings, events)
        except orjson.JSONDecodeError:
            return self._answer("bad_request", 400, reason="not JSON")
        except Rejected as exc:
            return self._answer("bad_request", 400, reason=exc.reason)
        if ignored is not None or not events:
            return self._answer("ignored", 200, reason=ignored or "no ticket events")
        payload = orjson.dumps([ticket_message(e) for e in events])
        try:
            await self.publisher.publish(TICKET_TOPIC, payload, self.settings.publish_timeout_s)
        except Unavailable as exc:
            return self._answer("unavailable", 503, reason=str(exc))
        self.events.labels("zendesk").inc(len(events))
        return self._answer("published", 200, events=len(events))

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        ok = self.publisher.connected
        return web.Response(body=orjson.dumps({"ok": ok, "broker_connected": ok}),
                            status=200 if ok else 503, content_type="application/json")

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.settings.path, self._zendesk)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as exc:
            await self.close()
            raise SlastreamError(f"cannot listen on {self.host}:{self.port}: "
                                 f"{exc.strerror}") from None
        for address in self._runner.addresses:  # the real port when 0 was asked for
            self.port = int(address[1])
            break

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.settings.path}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def command(settings: ZendeskSettings, mqtt_url: str, secret: bytes,
                  stop: asyncio.Event) -> int:
    """``slastream webhook``: receive until ``stop``, publishing to ``mqtt_url``."""
    publisher = AckedPublisher(mqtt_url, settings.client_id)
    task = asyncio.create_task(publisher.run())
    server = WebhookServer(settings, secret, publisher)
    try:
        await server.start()
        print(f"receiving Zendesk webhooks on {server.url} into {mqtt_url} "
              f"({len(settings.mappings)} mappings)", file=sys.stderr)
        await stop.wait()
    finally:
        await server.close()
        publisher.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return 0
