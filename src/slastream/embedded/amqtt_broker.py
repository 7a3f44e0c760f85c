"""An in-process MQTT broker (amqtt) for machines without Mosquitto.

amqtt speaks MQTT 3.1.1 only (an MQTT 5 client cannot connect; the bridge then falls back
to 3.1.1), must be created inside a running event loop, and binds 0.0.0.0:1883 unless given a
bind address. It keeps sessions in memory only, so it is not restartable with
its sessions: fault tests use Mosquitto. amqtt is optional: ``pip install amqtt``.
"""

from __future__ import annotations

import importlib
from types import TracebackType
from typing import Any, Self

from slastream.embedded.ports import free_port, wait_port
from slastream.errors import BrokerError


class AmqttBroker:
    """``async with AmqttBroker() as mqtt: mqtt.url``."""

    host = "127.0.0.1"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        try:
            module = importlib.import_module("amqtt.broker")
        except ImportError:
            raise BrokerError("neither mosquitto nor amqtt is installed "
                              "(apt-get install mosquitto, or pip install amqtt)") from None
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "sys_interval": 0,
            "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
            "topic-check": {"enabled": False},
        }
        self._broker = module.Broker(config)
        await self._broker.start()
        await wait_port(self.host, self.port, 10.0, "amqtt")

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()
