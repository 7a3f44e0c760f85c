"""Synthetic probes as declared in a config file: frozen values, no I/O.

A config declares a top-level ``probes:`` list (one entry per check of a component) and a
``probe:`` mapping with the prober's own settings (location, concurrency, HTTP port).
``slastream.config.probes`` builds these values; ``slastream.probe`` runs them and
publishes each result on ``slastream/probe/{component}``.

Conditions on an HTTP response (``HttpCheck.conditions``) use a deliberately small language,
one comparison per condition::

    SUBJECT OP VALUE

    SUBJECT  [STATUS]            the HTTP status code
             [RESPONSE_TIME]     milliseconds from request to the end of the body
             [BODY]              the whole body parsed as JSON
             [BODY].a.b.0.c      a dotted path into the JSON body (integers index arrays)
    OP       ==  !=  <  <=  >  >=
    VALUE    a number, true, false, null, a "quoted" or a bare string (UP)

``==`` and ``!=`` compare numbers as numbers and anything else as JSON values (a bare ``UP``
equals the JSON string ``"UP"``); ``<``, ``<=``, ``>``, ``>=`` need a number on both sides.
A path that is not in the body makes the condition fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProbeKind = Literal["http", "tcp", "mqtt"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]
Subject = Literal["status", "response_time", "body"]

PROBE_KINDS: tuple[ProbeKind, ...] = ("http", "tcp", "mqtt")
COMPARE_OPS: tuple[CompareOp, ...] = ("==", "!=", "<=", ">=", "<", ">")  # longest first
PROBE_TOPIC = "slastream/probe/{component}"

JsonScalar = str | int | float | bool | None


@dataclass(frozen=True)
class Condition:
    """One comparison on a response: ``[BODY].status == UP`` is
    ``Condition("body", ("status",), "==", "UP", "[BODY].status == UP")``."""

    subject: Subject
    path: tuple[str, ...]  # only for ``body``; empty means the whole body
    op: CompareOp
    value: JsonScalar
    text: str  # as written, for reasons


@dataclass(frozen=True)
class HttpCheck:
    """An HTTP(S) request; good when the status is expected and every condition holds."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    statuses: tuple[int, ...] = (200,)
    conditions: tuple[Condition, ...] = ()
    verify_tls: bool = True
    ca_file: str | None = None


@dataclass(frozen=True)
class TcpCheck:
    """A TCP connect, optionally a TLS handshake (with ``server_name`` as SNI).

    ``cert_expiry_days``: fail when the server's certificate expires within that many days
    (needs the certificate to be verified, against the system store or ``ca_file``).
    """

    host: str
    port: int
    tls: bool = False
    server_name: str | None = None
    verify_tls: bool = True
    ca_file: str | None = None
    cert_expiry_days: float | None = None


@dataclass(frozen=True)
class MqttCheck:
    """An MQTT round trip: connect, subscribe to ``topic``, publish a token, receive it.

    Everything, the connect included, must finish within the probe's timeout.
    """

    url: str
    topic: str = "slastream/probe-roundtrip"
    qos: int = 1


Check = HttpCheck | TcpCheck | MqttCheck


@dataclass(frozen=True)
class ProbeSpec:
    """One probe: which component it speaks for, what it checks, how often, from where.

    ``location`` None means the prober's own location (``ProberSettings.location``).
    """

    name: str
    component: str
    kind: ProbeKind
    check: Check
    interval_s: float = 60.0
    timeout_s: float = 10.0
    location: str | None = None


@dataclass(frozen=True)
class ProberSettings:
    """The ``probe:`` section: the prober process itself."""

    location: str = "default"
    concurrency: int = 8
    jitter: float = 0.1  # each interval varies by up to this fraction, either way
    http_host: str = "127.0.0.1"
    http_port: int | None = 9465  # /metrics and /healthz; 0 picks a free port, None: off
    buffer: int = 10_000  # results held while the MQTT broker is away; the oldest go first
    client_id: str = "slastream-prober"
