"""``slastream bridge --http``: /healthz and /metrics of a bridge on its own."""

from __future__ import annotations

import aiohttp

from slastream.ingest.bridge import Bridge
from slastream.ingest.command import serve_status
from tests.stream.helpers import settings


async def test_a_bridge_not_connected_yet_is_unhealthy_and_says_why() -> None:
    bridge = Bridge(settings())  # never started: neither broker reached yet
    async with serve_status(bridge, "127.0.0.1", 0) as server, aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/healthz") as response:
            assert response.status == 503
            body = await response.json()
        async with http.get(f"{server.url}/metrics") as response:
            text = await response.text()
    assert body["status"] == "unhealthy"
    assert [p.split()[0] for p in body["problems"]] == ["MQTT", "Kafka"]
    assert all("not connected yet" in p for p in body["problems"])
    assert "slastream_bridge_mqtt_connected 0.0" in text
    assert "slastream_bridge_kafka_connected 0.0" in text
