"""The bridge against a real Mosquitto with mutual TLS (certificates made by the test),
QoS 2 end to end into a real Tansu, and a session taken over by another client."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from slastream.config import parse_settings
from slastream.embedded import Mosquitto
from slastream.errors import BrokerError
from slastream.ingest.bridge import Bridge
from slastream.ingest.connection import MqttAddress, SessionOptions, connect_any_version
from slastream.model.spec import Settings
from slastream.transport import codec
from tests.brokers import KafkaBroker, MqttBroker
from tests.integration.test_bridge import (
    WAIT_S,
    events_of,
    probe,
    probes_by_seq,
    read_until,
    topic,
)
from tests.pki import KEY_PASSPHRASE, Pki, pki  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def tls_mosquitto(pki: Pki, workdir: Path) -> Mosquitto:  # noqa: F811
    return Mosquitto(workdir=workdir, extra_config=(
        f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
        "require_certificate true\n"))


def settings_for(url: str, bootstrap: str, topics: list[str], tls: dict[str, Any] | None,
                 qos: int = 1) -> Settings:
    mqtt: dict[str, Any] = {"url": url, "topics": topics, "qos": qos,
                            "client_id": f"bridge-{uuid.uuid4().hex[:8]}"}
    if tls is not None:
        mqtt["tls"] = tls
    return parse_settings({
        "slos": [{"name": "probe", "sli": "probe", "component": "api", "objective": 0.999}],
        "mqtt": mqtt,
        "kafka": {"bootstrap": bootstrap, "topic_prefix": f"t{uuid.uuid4().hex[:10]}"},
    })


def client_context(pki: Pki) -> ssl.SSLContext:  # noqa: F811
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.load_cert_chain(pki.client_cert, pki.client_key)
    return context


async def test_qos2_over_mutual_tls_arrives_in_kafka_exactly_once(
        pki: Pki, tansu: KafkaBroker, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_KEY_PASSPHRASE", KEY_PASSPHRASE)
    component = f"api-{uuid.uuid4().hex[:6]}"
    async with tls_mosquitto(pki, tmp_path) as broker:
        url = f"mqtt://localhost:{broker.port}"  # the certificate's name is checked
        settings = settings_for(url, tansu.bootstrap, [f"slastream/probe/{component}"], {
            "ca_file": str(pki.ca), "cert_file": str(pki.client_cert),
            "key_file": str(pki.client_key_encrypted),
            "key_password_env": "BRIDGE_KEY_PASSPHRASE"}, qos=2)
        bridge = Bridge(settings)
        async with bridge.running():
            async with aiomqtt.Client("localhost", broker.port, identifier=f"pub-{component}",
                                      tls_context=client_context(pki),
                                      protocol=aiomqtt.ProtocolVersion.V5) as client:
                for seq in range(1, 201):
                    await client.publish(f"slastream/probe/{component}", probe(seq), qos=2)
            records = await read_until(tansu.bootstrap, [topic(settings, codec.SERVICE)],
                                       lambda rs: len(events_of(rs)) >= 200)
            await asyncio.sleep(0.5)  # a duplicate would come now
            records = await read_until(tansu.bootstrap, [topic(settings, codec.SERVICE)],
                                       lambda rs: False, timeout_s=1.0)
            stats = bridge.stats()
    events = events_of(records)
    assert len(events) == 200 and sorted(probes_by_seq(events)) == list(range(1, 201))
    assert stats.acknowledged == 200 and stats.mqtt_errors == {}


async def test_mutual_tls_refuses_what_it_must(pki: Pki, tmp_path: Path) -> None:  # noqa: F811
    options = SessionOptions(client_id=f"c-{uuid.uuid4().hex[:8]}", connect_timeout_s=5)

    async def attempt(**tls: Any) -> None:
        settings = settings_for("mqtt://localhost:1", "k:1", ["t"], tls)
        address = MqttAddress.from_settings(settings.mqtt)
        address = MqttAddress("localhost", broker.port, address.tls, context=address.context)
        conn, _ = await connect_any_version(address, options, lambda s: None, lambda: 0)
        conn.close()

    async with tls_mosquitto(pki, tmp_path) as broker:
        await attempt(ca_file=str(pki.ca), cert_file=str(pki.client_cert),
                      key_file=str(pki.client_key))
        with pytest.raises((OSError, BrokerError)):  # no client certificate
            await attempt(ca_file=str(pki.ca))
        with pytest.raises(ssl.SSLCertVerificationError):  # a CA that did not sign it
            await attempt(ca_file=str(pki.other_ca), cert_file=str(pki.client_cert),
                          key_file=str(pki.client_key))
        # verify: false is the explicit switch for tests: any server certificate will do.
        await attempt(ca_file=str(pki.other_ca), cert_file=str(pki.client_cert),
                      key_file=str(pki.client_key), verify=False)


async def test_a_client_with_the_bridge_id_takes_the_session_and_the_bridge_takes_it_back(
        mosquitto: MqttBroker, tansu: KafkaBroker) -> None:
    """Mosquitto 2.0 closes the old connection without a DISCONNECT 0x8E; the bridge sees a
    lost connection and reconnects (the 0x8E case: tests/integration/test_mqtt_faults.py)."""
    settings = settings_for(mosquitto.url, tansu.bootstrap, [f"t/{uuid.uuid4().hex}"], None)
    bridge = Bridge(settings)
    async with bridge.running():
        options = SessionOptions(client_id=bridge.client_id)
        intruder, _ = await connect_any_version(
            MqttAddress(mosquitto.host, mosquitto.port), options, lambda s: None, lambda: 0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while bridge.stats().connects < 2 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.wait_for(intruder.closed, WAIT_S)  # the bridge took it back
        assert bridge.connected.is_set()
    assert bridge.stats().connects == 2
