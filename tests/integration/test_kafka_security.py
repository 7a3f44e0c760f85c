"""Kafka TLS through the project's own client construction (the bridge's producer, the
reader, and the aiokafka arguments faust builds from ``broker_credentials``), against a
real Tansu.

Tansu 0.6's ``--cert``/``--key`` do not make a TLS listener (the two flags even exclude each
other), so mutual TLS is checked against a TLS terminator in front of it
(``tests/tls_proxy.py``); the Kafka protocol still runs end to end. SASL cannot be checked
against Tansu 0.6: with ``--authentication`` it offers SCRAM only, and its memory and S3
storage keep no SCRAM users (creating one succeeds, looking it up finds nothing), so only
the settings are tested (tests/transport/test_security.py).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from slastream.config import parse_settings
from slastream.embedded import Tansu
from slastream.embedded.ports import free_port
from slastream.errors import BrokerError
from slastream.model.events import ProbeResult
from slastream.model.spec import Settings
from slastream.transport import codec
from slastream.transport.kafka import EventProducer, RecordReader, delivered, wait_ready
from slastream.transport.security import faust_credentials, kafka_client_options
from tests.pki import Pki, pki  # noqa: F401  (fixture)
from tests.tls_proxy import TlsProxy, server_context

pytestmark = pytest.mark.integration


class FrontedTansu(Tansu):
    """A Tansu that advertises ``advertised_port`` (the TLS terminator in front of it) and
    is ready once a client with ``client_options`` gets metadata there."""

    def __init__(self, advertised_port: int, extra: list[str],
                 client_options: dict[str, Any]) -> None:
        super().__init__(port=free_port())
        self.advertised_port = advertised_port
        self.extra = extra
        self.client_options = client_options

    @property
    def bootstrap(self) -> str:
        return f"localhost:{self.advertised_port}"

    def command(self) -> list[str]:
        return [str(self.binary), "broker", "--listener-url", f"tcp://127.0.0.1:{self.port}",
                "--advertised-listener-url", f"tcp://localhost:{self.advertised_port}",
                "--storage-engine", "memory://tansu/", *self.extra]

    async def wait_ready(self) -> None:
        await wait_ready(self.bootstrap, self.start_timeout_s, self.client_options)


def kafka_settings(bootstrap: str, kafka: dict[str, Any]) -> Settings:
    return parse_settings({
        "slos": [{"name": "probe", "sli": "probe", "component": "api", "objective": 0.999}],
        "kafka": {"bootstrap": bootstrap, "topic_prefix": f"t{uuid.uuid4().hex[:10]}",
                  "partitions": 1, **kafka},
    })


@contextlib.asynccontextmanager
async def tls_broker(settings_kafka: dict[str, Any],
                     pki: Pki) -> AsyncIterator[str]:  # noqa: F811
    """A Tansu behind a terminator that requires a client certificate signed by the test
    CA; yields the bootstrap address clients use."""
    options = kafka_client_options(kafka_settings("x:1", settings_kafka).kafka)
    tansu = FrontedTansu(free_port(), [], options)
    proxy = TlsProxy(server_context(pki.server_cert, pki.server_key, pki.ca), tansu.port)
    proxy.port = tansu.advertised_port
    async with proxy.running(), tansu:
        yield tansu.bootstrap


async def round_trip(settings: Settings) -> None:
    """Produce through the bridge's producer, read back through both the reader and the
    aiokafka arguments faust builds from ``broker_credentials``."""
    event = ProbeResult(1_000, "api", True, 200, 12.0)
    async with EventProducer(settings.kafka, client_id="secured") as producer:
        await delivered(await producer.send_events([event]), settings.kafka.bootstrap)
    topic = codec.topic_name(settings.kafka.topic_prefix, codec.SERVICE)
    async with RecordReader(settings.kafka.bootstrap, [topic],
                            kafka_client_options(settings.kafka)) as reader:
        records = [r async for r in reader.records(idle_s=2.0)]
    assert [e for r in records for e in codec.decode_batch(r.value)] == [event]
    faust_auth = credentials_to_aiokafka_auth(faust_credentials(settings.kafka))
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka.bootstrap,
                                auto_offset_reset="earliest", **faust_auth)
    await consumer.start()
    try:
        got = await consumer.getmany(timeout_ms=5000)
    finally:
        await consumer.stop()
    assert sum(len(batch) for batch in got.values()) == 1


def tls_keys(pki: Pki, **more: Any) -> dict[str, Any]:  # noqa: F811
    return {"ca_file": str(pki.ca), "cert_file": str(pki.client_cert),
            "key_file": str(pki.client_key), **more}


async def test_mutual_tls(pki: Pki) -> None:  # noqa: F811
    kafka = {"tls": tls_keys(pki)}
    async with tls_broker(kafka, pki) as bootstrap:
        await round_trip(kafka_settings(bootstrap, kafka))
        no_cert = kafka_settings(bootstrap, {"tls": {"ca_file": str(pki.ca)}})
        with pytest.raises(BrokerError):
            await wait_ready(bootstrap, 2.0, kafka_client_options(no_cert.kafka))
        wrong_ca = kafka_settings(bootstrap, {"tls": tls_keys(pki, ca_file=str(pki.other_ca))})
        with pytest.raises(BrokerError):
            await wait_ready(bootstrap, 2.0, kafka_client_options(wrong_ca.kafka))
