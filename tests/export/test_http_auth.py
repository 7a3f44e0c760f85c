"""The HTTP token: which areas it protects, and the two ways to present it."""

from __future__ import annotations

import base64

import aiohttp
import pytest

from slastream.export.http import area, serve
from slastream.export.metrics import build_registry

from .fakesource import FakeSource

TOKEN = "s3cret-token"


async def status_of(url: str, authorization: str | None = None) -> int:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        return r.status


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_api_needs_the_token_metrics_and_healthz_stay_open() -> None:
    source = FakeSource()
    async with await serve(source, build_registry(source), "127.0.0.1", 0,
                           token=TOKEN) as srv:
        assert await status_of(f"{srv.url}/api/ledger") == 401
        assert await status_of(f"{srv.url}/api/status", "Bearer wrong") == 401
        assert await status_of(f"{srv.url}/api/ledger", basic("x", "wrong")) == 401
        assert await status_of(f"{srv.url}/api/ledger", "Basic !!notbase64") == 401
        assert await status_of(f"{srv.url}/api/ledger", f"Bearer {TOKEN}") == 200
        assert await status_of(f"{srv.url}/api/status", basic("anyone", TOKEN)) == 200
        assert await status_of(f"{srv.url}/metrics") == 200
        assert await status_of(f"{srv.url}/healthz") == 200
        assert await status_of(f"{srv.url}/") == 200


@pytest.mark.parametrize("protect", [("api", "status", "metrics")])
async def test_every_area_can_be_protected_but_healthz(protect: tuple[str, ...]) -> None:
    source = FakeSource()
    async with await serve(source, build_registry(source), "127.0.0.1", 0,
                           token=TOKEN, protect=protect) as srv:
        for path in ("/metrics", "/", "/api/ledger"):
            assert await status_of(f"{srv.url}{path}") == 401, path
            assert await status_of(f"{srv.url}{path}", f"Bearer {TOKEN}") == 200, path
        assert await status_of(f"{srv.url}/healthz") == 200


async def test_without_a_token_everything_is_open() -> None:
    source = FakeSource()
    async with await serve(source, build_registry(source), "127.0.0.1", 0) as srv:
        assert await status_of(f"{srv.url}/api/ledger") == 200


@pytest.mark.parametrize("path, expected", [
    ("/healthz", None), ("/api/ledger", "api"), ("/api/gateways", "api"),
    ("/metrics", "metrics"), ("/", "status"), ("/slo/x", "status"),
    ("/tenant/acme", "status"), ("/tenant/acme/slo/x", "status"), ("/anything-new", "status"),
])
def test_every_page_but_healthz_belongs_to_an_area(path: str, expected: str | None) -> None:
    # a page added later is protected with the status page, never left open by omission
    assert area(path) == expected
