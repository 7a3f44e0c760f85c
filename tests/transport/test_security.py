"""Kafka client credentials: the bridge's aiokafka clients and the faust app get the same
security settings from one config."""

from __future__ import annotations

from pathlib import Path

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from slastream.model.security import SaslSettings, Secret, TlsSettings
from slastream.model.spec import KafkaSettings
from slastream.stream.profile import PRODUCTION
from slastream.transport.security import (
    TokenFromSecret,
    faust_credentials,
    kafka_client_options,
)
from tests.pki import Pki, pki  # noqa: F401  (fixture)

SCRAM = SaslSettings("SCRAM-SHA-256", "svc", Secret("pw", "env X"))
KEYS = ("security_protocol", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password")


@pytest.mark.parametrize(("tls", "sasl", "protocol"), [
    (False, None, "PLAINTEXT"), (True, None, "SSL"),
    (False, SCRAM, "SASL_PLAINTEXT"), (True, SCRAM, "SASL_SSL"),
    (True, SaslSettings("PLAIN", "u", Secret("p", "env P")), "SASL_SSL"),
    (True, SaslSettings("SCRAM-SHA-512", "u", Secret("p", "env P")), "SASL_SSL"),
])
def test_faust_and_the_bridge_get_the_same_credentials(
        pki: Pki, tls: bool, sasl: SaslSettings | None, protocol: str) -> None:  # noqa: F811
    kafka = KafkaSettings(tls=TlsSettings(ca_file=str(pki.ca)) if tls else None, sasl=sasl)
    ours = kafka_client_options(kafka)
    theirs = credentials_to_aiokafka_auth(faust_credentials(kafka))
    assert ours["security_protocol"] == theirs["security_protocol"] == protocol
    assert {k: ours.get(k) for k in KEYS} == {k: theirs.get(k) for k in KEYS}
    assert (ours.get("ssl_context") is None) == (theirs.get("ssl_context") is None) == (not tls)


def test_the_faust_app_options_carry_the_credentials(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from faust.auth import SASLCredentials

    from slastream.config import parse_settings

    monkeypatch.setenv("KAFKA_PASSWORD", "pw")
    slos = [{"name": "api", "sli": "probe", "component": "api", "objective": 0.999}]
    plain = parse_settings({"slos": slos}, "t.yaml")
    assert "broker_credentials" not in PRODUCTION.faust_options(plain, "/tmp/x")
    secured = parse_settings({"slos": slos, "kafka": {"sasl": {
        "mechanism": "SCRAM-SHA-512", "username": "svc", "password_env": "KAFKA_PASSWORD"}}},
        "t.yaml")
    credentials = PRODUCTION.faust_options(secured, "/tmp/x")["broker_credentials"]
    assert isinstance(credentials, SASLCredentials)
    assert (credentials.username, credentials.password, credentials.mechanism.value) == (
        "svc", "pw", "SCRAM-SHA-512")


async def test_an_oauth_token_file_is_read_again_for_every_request(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first\n")
    kafka = KafkaSettings(sasl=SaslSettings(
        "OAUTHBEARER", token=Secret("first", f"file {token_file}", str(token_file))))
    provider = kafka_client_options(kafka)["sasl_oauth_token_provider"]
    assert isinstance(provider, TokenFromSecret)
    assert await provider.token() == "first"
    token_file.write_text("renewed\n")
    assert await provider.token() == "renewed"
    theirs = credentials_to_aiokafka_auth(faust_credentials(kafka))
    assert theirs["sasl_mechanism"] == "OAUTHBEARER"
    assert await theirs["sasl_oauth_token_provider"].token() == "renewed"
