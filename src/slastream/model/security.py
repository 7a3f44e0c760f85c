"""Credentials and TLS towards the brokers, as values (docs/interfaces.md#secrets).

A secret is read once, when the config is loaded, from the environment variable or file the
config names; the value itself is never written in the config, never printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class Secret:
    """A credential from an environment variable or a file named in the config
    (``password_env`` / ``password_file``, docs/interfaces.md#secrets); never printed.

    ``reveal()`` gives the value read when the config was loaded; with a file, ``fresh()``
    reads it again (OAuth tokens a sidecar rotates).
    """

    __slots__ = ("_value", "file", "origin")

    def __init__(self, value: str, origin: str, file: str | None = None) -> None:
        self._value = value
        self.origin = origin  # "env NAME" or "file PATH": safe to print
        self.file = file

    def reveal(self) -> str:
        return self._value

    def fresh(self) -> str:
        if self.file is None:
            return self._value
        with open(self.file, encoding="utf-8") as f:
            return f.read().strip()

    def __repr__(self) -> str:
        return f"Secret(<{self.origin}>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class TlsSettings:
    """TLS towards a broker. Paths are absolute (the loader resolves them against the
    config file's directory); no ``ca_file`` means the system's CAs."""

    ca_file: str | None = None
    cert_file: str | None = None  # client certificate (mutual TLS), PEM
    key_file: str | None = None  # its private key, PEM; defaults to cert_file
    key_password: Secret | None = None
    verify: bool = True  # False: no certificate and no hostname check (tests only)
    check_hostname: bool = True


SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
SASL_MECHANISMS: tuple[SaslMechanism, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512",
                                              "OAUTHBEARER")


@dataclass(frozen=True)
class SaslSettings:
    """SASL towards Kafka: user name and password, or an OAuth bearer token."""

    mechanism: SaslMechanism
    username: str | None = None
    password: Secret | None = None
    token: Secret | None = None  # OAUTHBEARER
