"""TLS contexts and Kafka client credentials from the config's settings (one place for both
the bridge's aiokafka clients and the worker's faust app; docs/interfaces.md#secured-brokers).

Kafka's ``security_protocol`` follows from what is configured: ``tls`` and ``sasl`` give
``SASL_SSL``, ``sasl`` alone ``SASL_PLAINTEXT``, ``tls`` alone ``SSL``, neither
``PLAINTEXT``.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.abc import AbstractTokenProvider

from slastream.errors import ConfigError
from slastream.model.security import Secret, TlsSettings
from slastream.model.spec import KafkaSettings


def ssl_context(tls: TlsSettings, *, server: str = "broker") -> ssl.SSLContext:
    """A client context: ``tls.ca_file`` (else the system's CAs), the client certificate
    for mutual TLS, and verification unless ``tls.verify`` is false.

    Raises ``ConfigError`` (one line) when a file is not a certificate or key, or the key
    does not match the certificate or its passphrase.
    """
    try:
        context = ssl.create_default_context(cafile=tls.ca_file)
        if tls.cert_file is not None:
            password = tls.key_password.reveal() if tls.key_password is not None else None
            context.load_cert_chain(tls.cert_file, tls.key_file, password)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigError([f"TLS towards the {server}: cannot load the certificates "
                           f"({exc.__class__.__name__}: {exc})"]) from None
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif not tls.check_hostname:
        context.check_hostname = False
    return context


class TokenFromSecret(AbstractTokenProvider):  # type: ignore[misc]  # aiokafka is untyped
    """OAUTHBEARER token provider: the configured token, read again on every request when it
    comes from a file (a sidecar that renews it, e.g. for MSK IAM, just rewrites the file)."""

    def __init__(self, secret: Secret) -> None:
        self.secret = secret

    async def token(self) -> str:
        return self.secret.fresh()


def security_protocol(kafka: KafkaSettings) -> str:
    if kafka.sasl is not None:
        return "SASL_SSL" if kafka.tls is not None else "SASL_PLAINTEXT"
    return "SSL" if kafka.tls is not None else "PLAINTEXT"


def kafka_client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for every aiokafka client (producer, consumer, admin)."""
    options: dict[str, Any] = {"security_protocol": security_protocol(kafka)}
    if kafka.tls is not None:
        options["ssl_context"] = ssl_context(kafka.tls, server="Kafka cluster")
    sasl = kafka.sasl
    if sasl is not None:
        options["sasl_mechanism"] = sasl.mechanism
        if sasl.mechanism == "OAUTHBEARER":
            assert sasl.token is not None  # the loader requires it
            options["sasl_oauth_token_provider"] = TokenFromSecret(sasl.token)
        else:
            options["sasl_plain_username"] = sasl.username
            options["sasl_plain_password"] = (sasl.password.reveal()
                                              if sasl.password is not None else None)
    return options


def faust_credentials(kafka: KafkaSettings) -> Any:
    """``broker_credentials`` for ``faust.App``: the same TLS and SASL as the bridge's
    clients, or None for a plaintext cluster."""
    from faust.auth import OAuthCredentials, SASLCredentials, SSLCredentials

    context = (ssl_context(kafka.tls, server="Kafka cluster")
               if kafka.tls is not None else None)
    sasl = kafka.sasl
    if sasl is None:
        return SSLCredentials(context) if context is not None else None
    if sasl.mechanism == "OAUTHBEARER":
        assert sasl.token is not None
        return OAuthCredentials(oauth_cb=TokenFromSecret(sasl.token), ssl_context=context)
    return SASLCredentials(
        username=sasl.username,
        password=sasl.password.reveal() if sasl.password is not None else None,
        mechanism=sasl.mechanism, ssl_context=context)
