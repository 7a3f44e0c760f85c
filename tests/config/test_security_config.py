"""Secrets, TLS and SASL keys: read from the environment or files, every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slastream.config import load_settings, parse_settings
from slastream.errors import ConfigError
from slastream.model.security import Secret
from slastream.transport.security import kafka_client_options, security_protocol
from tests.pki import KEY_PASSPHRASE, Pki, pki  # noqa: F401  (fixture)

SLO = {"name": "api", "sli": "probe", "component": "api", "objective": 0.999}


def problems(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_settings({"slos": [SLO], **data}, "t.yaml")
    return info.value.problems


def test_secrets_come_from_the_environment_or_a_file_and_never_print(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MQTT_PASSWORD", "from-env")
    (tmp_path / "kafka.pw").write_text("from-file\n")
    (tmp_path / "http.token").write_text("tok")
    config = tmp_path / "c.yaml"
    config.write_text(f"""
slos: [{{name: api, sli: probe, component: api, objective: 0.999}}]
mqtt: {{url: "mqtt://u:url-pw@broker:1883", username: bridge, password_env: MQTT_PASSWORD}}
kafka:
  sasl: {{mechanism: SCRAM-SHA-512, username: svc, password_file: kafka.pw}}
http: {{host: 0.0.0.0, token_file: {tmp_path / 'http.token'}, protect: [api, metrics]}}
""")
    settings = load_settings(config)
    assert settings.mqtt.username == "bridge"
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.reveal() == "from-env"
    assert "from-env" not in repr(settings) and "from-file" not in repr(settings)
    sasl = settings.kafka.sasl
    assert sasl is not None and sasl.password is not None
    assert sasl.password.reveal() == "from-file"  # relative to the config, stripped
    assert settings.http.token == Secret("tok", "x")
    assert settings.http.protect == ("api", "metrics")
    options = kafka_client_options(settings.kafka)
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert (options["sasl_mechanism"], options["sasl_plain_username"],
            options["sasl_plain_password"]) == ("SCRAM-SHA-512", "svc", "from-file")


def test_every_secret_problem_is_one_line_reported_together(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    assert problems({
        "mqtt": {"password_env": "NOT_SET_ANYWHERE", "protocol": 4, "max_packet_size": 10},
        "kafka": {"sasl": {"mechanism": "SCRAM-SHA-1", "username": "u"},
                  "tls": {"ca_file": str(tmp_path / "missing.pem"), "key_file": "k.pem"}},
        "http": {"token_env": "A", "token_file": "b", "protect": ["admin"]},
    }) == [
        "t.yaml: mqtt.password_env: environment variable NOT_SET_ANYWHERE is not set or empty",
        "t.yaml: mqtt.protocol: must be one of auto, 5, 3.1.1; got 4",
        "t.yaml: mqtt.max_packet_size: must be between 128 and 268435460, got 10",
        "t.yaml: kafka.tls.key_file: no readable file 'k.pem'",
        "t.yaml: kafka.tls.key_file: needs cert_file (the client certificate)",
        f"t.yaml: kafka.tls.ca_file: no readable file '{tmp_path / 'missing.pem'}'",
        "t.yaml: kafka.sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, "
        "OAUTHBEARER; got 'SCRAM-SHA-1'",
        "t.yaml: http.protect: must be a list of api, status, metrics; got ['admin']",
        "t.yaml: http.token_env: give either token_env or token_file, not both",
        "t.yaml: http.protect: needs token_env or token_file",
    ]


def test_sasl_needs_what_its_mechanism_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", "t")
    assert problems({"kafka": {"sasl": {"mechanism": "PLAIN", "token_env": "TOKEN"}}}) == [
        "t.yaml: kafka.sasl.username: PLAIN needs a user name",
        "t.yaml: kafka.sasl.password_env: PLAIN needs password_env or password_file",
        "t.yaml: kafka.sasl.token_env: a token is for OAUTHBEARER only",
    ]
    assert problems({"kafka": {"sasl": {"mechanism": "OAUTHBEARER", "username": "u"}}}) == [
        "t.yaml: kafka.sasl.token_env: OAUTHBEARER needs token_env or token_file",
        "t.yaml: kafka.sasl.username: OAUTHBEARER takes a token, not a user name",
    ]
    settings = parse_settings({"slos": [SLO], "kafka": {
        "sasl": {"mechanism": "OAUTHBEARER", "token_env": "TOKEN"}, "tls": True}}, "t.yaml")
    assert security_protocol(settings.kafka) == "SASL_SSL"
    assert kafka_client_options(settings.kafka)["sasl_mechanism"] == "OAUTHBEARER"


def test_tls_files_are_checked_as_certificates_and_keys(
        pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("KEY_PASS", KEY_PASSPHRASE)
    good = {"ca_file": str(pki.ca), "cert_file": str(pki.client_cert),
            "key_file": str(pki.client_key_encrypted), "key_password_env": "KEY_PASS"}
    settings = parse_settings({"slos": [SLO], "mqtt": {"tls": good}, "kafka": {"tls": good}},
                              "t.yaml")
    assert settings.mqtt.tls is not None and settings.mqtt.tls.verify
    assert security_protocol(settings.kafka) == "SSL"
    monkeypatch.setenv("KEY_PASS", "wrong")
    (line,) = problems({"kafka": {"tls": good}})
    assert line.startswith("t.yaml: kafka.tls: cannot load the certificates")
    (line,) = problems({"mqtt": {"tls": {"cert_file": str(pki.ca),
                                         "key_file": str(pki.client_key)}}})
    assert line.startswith("t.yaml: mqtt.tls: cannot load the certificates")
