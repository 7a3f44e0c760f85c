"""TCP and TLS probes against real servers the test starts."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

from slastream.embedded.ports import free_port
from slastream.model.probes import HttpCheck, ProbeSpec, TcpCheck
from slastream.probe.checks import Checker
from tests.probe.certs import expired, expiring_in


async def tls_server(cert: Path, key: Path) -> AsyncIterator[int]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def tcp(port: int, **kw: object) -> ProbeSpec:
    return ProbeSpec(name="t", component="api", kind="tcp",
                     check=TcpCheck("127.0.0.1", port, **kw), timeout_s=5)  # type: ignore[arg-type]


async def test_an_expired_certificate_fails_the_probe_with_that_reason(tmp_path: Path) -> None:
    cert, key = expired(tmp_path / "expired")
    async for port in tls_server(cert, key):
        async with Checker() as checker:
            outcome = await checker.run(tcp(port, tls=True, server_name="localhost",
                                            ca_file=str(cert)))
            assert not outcome.ok
            assert outcome.cause == "certificate_expiry"
            assert outcome.reason == "tls: certificate has expired"
            assert outcome.status is None
            # an HTTPS probe of the same server fails the same way
            https = ProbeSpec(name="h", component="api", kind="http",
                              check=HttpCheck(f"https://localhost:{port}/", ca_file=str(cert)),
                              timeout_s=5)
            outcome = await checker.run(https)
            assert (outcome.ok, outcome.reason) == (False, "tls: certificate has expired")


async def test_certificate_expiry_threshold(tmp_path: Path) -> None:
    cert, key = expiring_in(tmp_path / "soon", days=3)
    async for port in tls_server(cert, key):
        async with Checker() as checker:
            soon = await checker.run(tcp(port, tls=True, server_name="localhost",
                                         ca_file=str(cert), cert_expiry_days=14))
            later = await checker.run(tcp(port, tls=True, server_name="localhost",
                                          ca_file=str(cert), cert_expiry_days=1))
    assert not soon.ok and soon.cause == "certificate_expiry"
    assert soon.reason == "tls: certificate expires in 3.0 days (at least 14 required)"
    assert later.ok and later.reason == "" and later.latency_ms is not None


async def test_an_untrusted_certificate_is_a_tls_failure(tmp_path: Path) -> None:
    cert, key = expiring_in(tmp_path / "untrusted", days=30)
    async for port in tls_server(cert, key):
        async with Checker() as checker:
            outcome = await checker.run(tcp(port, tls=True, server_name="localhost"))
            unverified = await checker.run(tcp(port, tls=True, verify_tls=False))
    assert (outcome.ok, outcome.cause) == (False, "tls")
    assert outcome.reason == "tls: self-signed certificate"
    assert unverified.ok


async def test_refused_dns_and_timeout_are_failed_results() -> None:
    port = free_port()  # nothing listens there
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(0)
    try:
        async with Checker() as checker:
            refused = await checker.run(tcp(port))
            dns = await checker.run(ProbeSpec(
                name="d", component="api", kind="tcp",
                check=TcpCheck("no-such-host.invalid", 443), timeout_s=10))
            # a listener that never completes a TLS handshake: the timeout fires
            hung = await checker.run(ProbeSpec(
                name="h", component="api", kind="tcp",
                check=TcpCheck("127.0.0.1", silent.getsockname()[1], tls=True), timeout_s=0.5))
            http_refused = await checker.run(ProbeSpec(
                name="r", component="api", kind="http",
                check=HttpCheck(f"http://127.0.0.1:{port}/"), timeout_s=5))
    finally:
        silent.close()
    assert (refused.ok, refused.cause, refused.reason) == (False, "refused",
                                                         "connection refused")
    assert (dns.ok, dns.cause) == (False, "dns") and dns.reason.startswith("dns: ")
    assert (hung.ok, hung.cause, hung.reason) == (False, "timeout", "timeout after 0.5 s")
    assert hung.latency_ms is None
    assert (http_refused.ok, http_refused.reason) == (False, "connection refused")


async def test_a_plain_tcp_connect_succeeds() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    try:
        async with Checker() as checker:
            outcome = await checker.run(tcp(server.sockets[0].getsockname()[1]))
    finally:
        server.close()
    assert outcome.ok and outcome.status is None and outcome.reason == ""
