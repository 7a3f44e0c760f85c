"""Broker addresses and subscription filters."""

from __future__ import annotations

import pytest

from slastream.errors import BrokerError
from slastream.ingest.bridge import subscription_filters
from slastream.ingest.connection import MqttAddress
from slastream.model.spec import MqttSettings


@pytest.mark.parametrize(("url", "expected"), [
    ("mqtt://127.0.0.1:1883", MqttAddress("127.0.0.1", 1883)),
    ("mqtt://broker", MqttAddress("broker", 1883)),
    ("tcp://broker:1884", MqttAddress("broker", 1884)),
    ("mqtts://broker", MqttAddress("broker", 8883, tls=True)),
    ("mqtt://user:p%40ss@broker:1", MqttAddress("broker", 1, False, "user", "p@ss")),
    ("broker:2000", MqttAddress("broker", 2000)),
])
def test_mqtt_urls(url: str, expected: MqttAddress) -> None:
    assert MqttAddress.parse(url) == expected


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "mqtt://broker:port"])
def test_bad_mqtt_urls_are_one_clear_error(url: str) -> None:
    with pytest.raises(BrokerError, match="MQTT URL"):
        MqttAddress.parse(url)


def test_shared_group_turns_filters_into_shared_subscriptions() -> None:
    topics = ("a/+/b", "slastream/#")
    assert subscription_filters(MqttSettings(topics=topics)) == list(topics)
    assert subscription_filters(MqttSettings(topics=topics, shared_group="slastream")) == [
        "$share/slastream/a/+/b", "$share/slastream/slastream/#"]


def test_settings_add_credentials_and_tls_to_the_url() -> None:
    from slastream.model.security import Secret, TlsSettings
    from slastream.model.spec import MqttSettings

    address = MqttAddress.from_settings(MqttSettings(
        url="mqtt://old:pw@broker.example", username="bridge",
        password=Secret("from-env", "env X"), tls=TlsSettings()))
    assert (address.host, address.port, address.tls) == ("broker.example", 8883, True)
    assert (address.username, address.password) == ("bridge", "from-env")
    assert address.context is not None and "from-env" not in repr(address)
    kept = MqttAddress.from_settings(MqttSettings(url="broker.example:1884", tls=TlsSettings()))
    assert (kept.port, kept.tls, kept.username) == (1884, True, None)
