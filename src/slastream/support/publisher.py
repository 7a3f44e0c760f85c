"""An MQTT publisher that says when the broker has a message: ``await publish(...)`` returns
once the PUBACK of a QoS 1 publication arrived (MQTT 3.1.1 §4.3.2), and raises
``Unavailable`` when the broker is away or does not answer in time.

A webhook answers its sender only after that, so a request answered 200 is on the broker and
one that is not is sent again by the sender (Zendesk retries failed deliveries). It keeps
one connection and reconnects in the background; nothing is buffered: a caller whose
message cannot be delivered is told so at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets

import aiomqtt

from slastream.errors import SlastreamError
from slastream.health import first_of, sleep_unless
from slastream.ingest.connection import MqttAddress

log = logging.getLogger("slastream.webhook")


class Unavailable(SlastreamError):
    """The broker did not acknowledge the message."""


class AckedPublisher:
    """Publishes at QoS 1 to ``url`` (``mqtt://[user:pass@]host[:port]``, ``mqtts://``);
    ``await run()`` keeps the connection until ``close()``."""

    def __init__(self, url: str, client_id: str, reconnect_s: float = 1.0) -> None:
        address = MqttAddress.parse(url)  # a bad URL is a one-line BrokerError
        self.tls = address.tls
        self.host, self.port = address.host, address.port
        self.username, self.password = address.username, address.password
        # one id per process: two receivers with one id would take each other's session
        self.client_id = f"{client_id}-{os.getpid()}-{secrets.token_hex(3)}"
        self.reconnect_s = reconnect_s
        self._client: aiomqtt.Client | None = None
        self._up = asyncio.Event()
        self._lost = asyncio.Event()
        self._closing = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    async def publish(self, topic: str, body: bytes, timeout_s: float) -> None:
        """Publish at QoS 1 and return once the broker acknowledged it."""
        try:
            await asyncio.wait_for(self._up.wait(), timeout_s)
        except TimeoutError:
            raise Unavailable(f"MQTT broker {self.host}:{self.port} not connected") from None
        client = self._client
        assert client is not None
        try:
            await client.publish(topic, body, qos=1, timeout=timeout_s)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            self._up.clear()
            self._lost.set()  # let run() start over with a fresh connection
            raise Unavailable(f"MQTT broker {self.host}:{self.port}: {exc}") from None

    def close(self) -> None:
        self._closing.set()

    async def run(self) -> None:
        """Connect and stay connected (reconnecting every ``reconnect_s``) until ``close()``."""
        last_error = ""
        while not self._closing.is_set():
            self._lost.clear()
            try:
                async with aiomqtt.Client(
                        self.host, self.port, identifier=self.client_id,
                        username=self.username, password=self.password,
                        tls_params=aiomqtt.TLSParameters() if self.tls else None) as client:
                    self._client = client
                    self._up.set()
                    log.info("publishing tickets to mqtt://%s:%d", self.host, self.port)
                    last_error = ""
                    await first_of(self._closing.wait(), self._lost.wait())
            except aiomqtt.MqttError as exc:
                if str(exc) != last_error:
                    log.warning("MQTT broker %s:%d: %s", self.host, self.port, exc)
                last_error = str(exc)
            finally:
                self._up.clear()
                self._client = None
            await sleep_unless(self._closing, self.reconnect_s)


