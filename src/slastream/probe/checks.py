"""The checks: HTTP(S) through aiohttp, TCP/TLS through asyncio and ssl, MQTT through aiomqtt.

``Checker.run(spec)`` never raises (except on cancellation): a probe that cannot run (DNS
failure, connection refused, TLS error, expired certificate, timeout) is a failed
``Outcome`` whose reason says why. Every run opens its own connections (no keep-alive), so
each one measures what a new client would meet: name resolution, connect, handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import ssl
import time
from urllib.parse import unquote, urlsplit

import aiohttp
import aiomqtt

from slastream.model.probes import HttpCheck, MqttCheck, ProbeSpec, TcpCheck
from slastream.probe.conditions import evaluate, parse_body
from slastream.probe.result import Outcome

MAX_BODY = 1 << 20  # conditions look at the first MiB of a body
# X509_V_ERR_CERT_HAS_EXPIRED (OpenSSL's verify code 10)
_EXPIRED = 10
_DAY_S = 86_400.0


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def classify(exc: BaseException, timeout_s: float) -> Outcome:
    """A failed outcome for an exception raised while probing."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return classify(exc.certificate_error, timeout_s)
    if isinstance(exc, aiohttp.ClientConnectorDNSError | aiohttp.ClientConnectorError):
        return classify(exc.os_error, timeout_s)
    if isinstance(exc, TimeoutError):
        return Outcome.failed("timeout", f"timeout after {timeout_s:g} s")
    if isinstance(exc, socket.gaierror):
        return Outcome.failed("dns", f"dns: {exc.strerror or exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = f"tls: {exc.verify_message or exc.reason}"
        if exc.verify_code == _EXPIRED:
            return Outcome.failed("certificate_expiry", reason)
        return Outcome.failed("tls", reason)
    if isinstance(exc, ssl.SSLError):
        return Outcome.failed("tls", f"tls: {exc.reason or exc}")
    if isinstance(exc, ConnectionRefusedError):
        return Outcome.failed("refused", "connection refused")
    if isinstance(exc, OSError):
        return Outcome.failed("connect", f"connect: {exc.strerror or exc}")
    if isinstance(exc, aiomqtt.MqttError):
        return Outcome.failed("mqtt", f"mqtt: {exc}")
    return Outcome.failed("error", f"{type(exc).__name__}: {exc}")


class Checker:
    """Runs probes; holds the HTTP client session (``async with Checker() as c``)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._contexts: dict[tuple[bool, str | None], ssl.SSLContext] = {}

    async def __aenter__(self) -> Checker:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True, limit=0),
            auto_decompress=True, raise_for_status=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def context(self, verify: bool, ca_file: str | None) -> ssl.SSLContext:
        key = (verify, ca_file)
        if key not in self._contexts:
            self._contexts[key] = _tls_context(verify, ca_file)
        return self._contexts[key]

    async def run(self, spec: ProbeSpec) -> Outcome:
        """One run of ``spec`` within its timeout; the outcome, never an exception."""
        start = time.perf_counter()
        try:
            async with asyncio.timeout(spec.timeout_s):
                check = spec.check
                if isinstance(check, HttpCheck):
                    return await self._http(check, start)
                if isinstance(check, TcpCheck):
                    return await self._tcp(check, start)
                return await _mqtt(check, self, start)
        except Exception as exc:  # a probe that cannot run is a failed probe, with the reason
            outcome = classify(exc, spec.timeout_s)
            latency = _ms_since(start) if outcome.cause != "timeout" else None
            return Outcome(False, outcome.status, latency, outcome.reason, outcome.cause)

    async def _http(self, check: HttpCheck, start: float) -> Outcome:
        assert self._session is not None, "use Checker as an async context manager"
        tls = (self.context(check.verify_tls, check.ca_file)
               if check.url.startswith("https:") else None)
        async with self._session.request(
                check.method, check.url, headers=dict(check.headers),
                data=check.body.encode() if check.body is not None else None,
                ssl=tls if tls is not None else True, allow_redirects=True) as resp:
            body = await resp.content.read(MAX_BODY)
            status = resp.status
        latency = _ms_since(start)
        if status not in check.statuses:
            expected = ", ".join(str(s) for s in check.statuses)
            return Outcome.failed("status", f"status {status}, expected {expected}",
                                  latency, status)
        parsed = parse_body(body) if any(c.subject == "body" for c in check.conditions) else None
        for condition in check.conditions:
            why = evaluate(condition, status, latency, parsed)
            if why is not None:
                return Outcome.failed("condition", why, latency, status)
        return Outcome(True, status, latency)

    async def _tcp(self, check: TcpCheck, start: float) -> Outcome:
        tls = self.context(check.verify_tls, check.ca_file) if check.tls else None
        _, writer = await asyncio.open_connection(
            check.host, check.port, ssl=tls,
            server_hostname=(check.server_name or check.host) if tls else None)
        try:
            latency = _ms_since(start)
            if check.cert_expiry_days is not None:
                left = _days_left(writer)
                if left is None or left < check.cert_expiry_days:
                    shown = "unknown" if left is None else f"{left:.1f}"
                    return Outcome.failed(
                        "certificate_expiry", f"tls: certificate expires in {shown} days "
                        f"(at least {check.cert_expiry_days:g} required)", latency)
            return Outcome(True, None, latency)
        finally:
            writer.close()
            # The verdict is in; a rough close does not change it.
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


def _days_left(writer: asyncio.StreamWriter) -> float | None:
    ssl_object = writer.get_extra_info("ssl_object")
    cert = ssl_object.getpeercert() if ssl_object is not None else None
    if not cert or "notAfter" not in cert:
        return None
    return (ssl.cert_time_to_seconds(str(cert["notAfter"])) - time.time()) / _DAY_S


async def _mqtt(check: MqttCheck, checker: Checker, start: float) -> Outcome:
    url = urlsplit(check.url if "://" in check.url else f"mqtt://{check.url}")
    tls = url.scheme in ("mqtts", "ssl")
    token = secrets.token_hex(8)
    async with aiomqtt.Client(
            url.hostname or "localhost", url.port or (8883 if tls else 1883),
            identifier=f"slastream-probe-{token}",
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            tls_context=checker.context(True, None) if tls else None) as client:
        await client.subscribe(check.topic, qos=check.qos)
        await client.publish(check.topic, token.encode(), qos=check.qos)
        async for message in client.messages:
            if message.payload == token.encode():
                return Outcome(True, None, _ms_since(start))
    return Outcome.failed("mqtt", "mqtt: connection closed before the message came back",
                          _ms_since(start))
