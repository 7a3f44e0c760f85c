"""The whole live pipeline with every secured setting at once: Mosquitto with mutual TLS and
a password (from the environment), Kafka with mutual TLS for the bridge and the faust worker
(Tansu behind a TLS terminator, see test_kafka_security.py), and the HTTP token."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import pytest

from slastream.config import parse_settings
from slastream.embedded import Mosquitto
from slastream.embedded.ports import free_port
from slastream.model.time import format_rfc3339_ms, now_ms
from slastream.transport.security import kafka_client_options
from tests.integration.live import live_pipeline
from tests.integration.test_kafka_security import FrontedTansu, tls_keys
from tests.integration.test_mqtt_security import client_context
from tests.pki import Pki, pki  # noqa: F401  (fixture)
from tests.tls_proxy import TlsProxy, server_context

pytestmark = pytest.mark.integration

WAIT_S = 90.0


async def ledger(url: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.get(
            f"{url}/api/ledger", headers=headers) as response:
        body = await response.json() if response.status == 200 else None
        return response.status, body


async def test_bridge_and_worker_over_secured_brokers(
        pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("MQTT_PASSWORD", "mqtt-secret")
    monkeypatch.setenv("HTTP_TOKEN", "http-token")
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "bridge", "mqtt-secret"],
                   check=True, capture_output=True)
    (tmp_path / "mqtt").mkdir()
    mosquitto = Mosquitto(workdir=tmp_path / "mqtt", extra_config=(
        f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
        f"require_certificate true\nallow_anonymous false\npassword_file {passwords}\n"))
    component = f"api-{uuid.uuid4().hex[:6]}"
    kafka_tls = tls_keys(pki)
    settings = parse_settings({
        "slos": [{"name": "api", "sli": "probe", "component": component, "objective": 0.99}],
        "mqtt": {"url": f"mqtt://localhost:{mosquitto.port}", "username": "bridge",
                 "password_env": "MQTT_PASSWORD", "client_id": f"b-{component}",
                 "tls": {"ca_file": str(pki.ca), "cert_file": str(pki.client_cert),
                         "key_file": str(pki.client_key)}},
        "kafka": {"bootstrap": "localhost:1", "topic_prefix": f"t{uuid.uuid4().hex[:8]}",
                  "app_id": f"a{uuid.uuid4().hex[:8]}", "partitions": 2, "tls": kafka_tls},
        "http": {"token_env": "HTTP_TOKEN"},
    })
    tansu = FrontedTansu(free_port(), [], kafka_client_options(settings.kafka))
    proxy = TlsProxy(server_context(pki.server_cert, pki.server_key, pki.ca), tansu.port)
    proxy.port = tansu.advertised_port
    settings = settings.with_overrides(kafka=tansu.bootstrap)
    async with mosquitto, proxy.running(), tansu, \
            live_pipeline(settings, tmp_path / "capture.jsonl") as url:
        async with aiomqtt.Client("localhost", mosquitto.port, identifier=f"p-{component}",
                                  username="bridge", password="mqtt-secret",
                                  tls_context=client_context(pki)) as client:
            for i in range(20):
                payload = (f'{{"time": "{format_rfc3339_ms(now_ms() - i * 1000)}", '
                           f'"ok": true, "latency_ms": 5}}')
                await client.publish(f"slastream/probe/{component}", payload, qos=1)
        assert (await ledger(url, None))[0] == 401
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        inputs: dict[str, Any] = {}
        # messages: counted by the bridge; partitions: reported by the faust worker, which
        # read the events from Kafka over TLS
        while not (inputs.get("messages") == 20 and inputs.get("partitions")) \
                and loop.time() < deadline:
            status, body = await ledger(url, "http-token")
            assert status == 200
            inputs = body["inputs"]
            await asyncio.sleep(0.5)
    assert inputs["messages"] == 20 and inputs["partitions"] >= 1, inputs
