"""Live publishing against a real Mosquitto (started by the test on a free port)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from slastream.embedded.mosquitto import Mosquitto
from slastream.embedded.ports import free_port
from slastream.errors import BrokerError
from slastream.simulate import Scenario, publish
from slastream.simulate.live import parse_mqtt_url

pytestmark = pytest.mark.integration

# Fast traffic so a few seconds hold every kind of message.
BUSY = Scenario(devices=50, uplink_interval_s=5.0, probe_interval_s=1.0, request_batch_s=1.0)


@pytest.fixture
async def broker() -> AsyncIterator[Mosquitto]:
    async with Mosquitto() as mosquitto:
        yield mosquitto


async def _collect(url: str, sink: list[str], ready: asyncio.Event) -> None:
    addr = parse_mqtt_url(url)
    async with aiomqtt.Client(addr.host, addr.port, identifier="simulate-test-sub") as client:
        await client.subscribe("#", qos=0)
        ready.set()
        async for message in client.messages:
            sink.append(message.topic.value)


async def test_publishes_every_kind_of_message(broker: Mosquitto) -> None:
    received: list[str] = []
    ready = asyncio.Event()
    sub = asyncio.create_task(_collect(broker.url, received, ready))
    await asyncio.wait_for(ready.wait(), 10)
    sent = await publish(BUSY, broker.url, 4.0, 1.0, asyncio.Event())
    await asyncio.sleep(0.5)
    sub.cancel()
    assert sent > 100
    assert len(received) == sent  # QoS 0 on loopback to an idle subscriber: nothing lost
    kinds = {t.split("/")[0] if t.startswith("slastream") is False else t.rsplit("/", 1)[0]
             for t in received}
    assert {"eu868", "application", "slastream/probe", "slastream/request"} <= kinds


async def test_stop_event_ends_an_unbounded_run(broker: Mosquitto) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(publish(BUSY, broker.url, None, 1.0, stop))
    await asyncio.sleep(1.5)
    stop.set()
    sent = await asyncio.wait_for(task, 10)
    assert sent > 0


async def test_unreachable_broker_is_a_broker_error() -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    with pytest.raises(BrokerError, match=url):
        await publish(BUSY, url, 1.0, 1.0, asyncio.Event())


@pytest.mark.parametrize("url", ["http://x:1883", "mqtt://:1883", "mqtt://host:99999"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(BrokerError):
        parse_mqtt_url(url)


def test_importing_the_live_module_leaves_the_package_function_in_place() -> None:
    # the module was once named like the function: importing it replaced the package's
    # ``publish`` attribute with the module for every later ``from ... import publish``
    import importlib
    import types

    import slastream.simulate as simulate

    importlib.import_module("slastream.simulate.live")
    assert callable(simulate.publish) and not isinstance(simulate.publish, types.ModuleType)
