"""HTTP on a worker or the demo: ``/metrics``, ``/healthz``, ``/api/ledger``, ``/api/status``,
the status page ``/``, a page per SLO ``/slo/{name}`` and per tenant ``/tenant/{tenant}``
(``/api/ledger?tenant=``), per-gateway diagnostics ``/api/gateways``
(docs/interfaces.md#http-endpoints).

Usage (the worker and the demo)::

    registry = build_registry(engine)
    async with await serve(engine, registry, settings.http.host, settings.http.port) as server:
        print(f"metrics on {server.url}/metrics")
        await stop_event.wait()

``serve`` returns once the socket listens; ``port=0`` picks a free port (see
``server.port``). Leaving the ``async with`` block (or ``await server.close()``) stops it.

Threads: the source is read on the event loop, so it needs no locking; only turning the
collected metric families into exposition text, which is the slow part of a scrape, runs in
a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from slastream.export.metrics import MetricsSource
from slastream.export.status import StatusPage, gather, render_page, render_slo_page, status_json
from slastream.health import HealthCheck
from slastream.model.ledger import Ledger, ledger_json
from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.sli.slices import SliceStore
from slastream.slo import tenants
from slastream.slo.gateways import gateway_report

log = logging.getLogger(__name__)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_SOURCE: web.AppKey[MetricsSource] = web.AppKey("source", MetricsSource)
_REGISTRY: web.AppKey[CollectorRegistry] = web.AppKey("registry", CollectorRegistry)
_HEALTH: web.AppKey[HealthCheck] = web.AppKey("health")


class _Collected(Collector):
    """Metric families already collected on the loop, handed to the encoder in a thread."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> Iterable[Any]:
        return self.families


def _json(data: Any, status: int = 200) -> web.Response:
    # orjson writes NaN as null, so a ledger with an undefined ratio stays valid JSON.
    return web.Response(body=orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), status=status,
                        content_type="application/json")


class _BadRequest(Exception):
    """Answered as 400 with ``{"error": message}`` (one line) by :func:`_errors`."""


class _NotFound(Exception):
    """Answered as 404 with ``{"error": message}`` by :func:`_errors`."""


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except _BadRequest as exc:
        return _json({"error": str(exc)}, status=400)
    except _NotFound as exc:
        return _json({"error": str(exc)}, status=404)
    return response


def _month(request: web.Request) -> str | None:
    """``?month=YYYY-MM`` or None; a 400 otherwise."""
    month = request.query.get("month")
    if month is not None and not _MONTH.match(month):
        raise _BadRequest(f"month must be YYYY-MM, got {month!r}")
    return month


def _ledger(source: MetricsSource, month: str | None) -> Ledger:
    try:
        return source.ledger(month)
    except ValueError as exc:  # e.g. a month the source cannot compute
        raise _BadRequest(str(exc).splitlines()[0] if str(exc) else "bad month") from None


async def _metrics(request: web.Request) -> web.Response:
    registry = request.app[_REGISTRY]
    families = list(registry.collect())
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    body = await asyncio.to_thread(encoder, _Collected(families))
    response = web.Response(body=body, headers={"Content-Type": content_type})
    response.enable_compression()
    return response


async def _healthz(request: web.Request) -> web.Response:
    """200 ``{"status": "ok"}``, or 503 ``{"status": "unhealthy", "problems": [...]}``
    while a broker the process needs is unreachable (docs/interfaces.md#http-endpoints)."""
    problems = request.app[_HEALTH]()
    if problems:
        return _json({"status": "unhealthy", "problems": problems}, status=503)
    return _json({"status": "ok"})


def _tenant(request: web.Request, tenant: str | None) -> Any:
    """The app's source, or the source as ``tenant`` sees it (docs/interfaces.md#tenants);
    a 404 for a tenant neither configured nor seen."""
    source = request.app[_SOURCE]
    if tenant is None:
        return source
    settings = getattr(source, "settings", None)
    if not isinstance(settings, Settings):
        raise _BadRequest("this source has no tenants")
    if tenant not in tenants.seen_tenants(settings, getattr(source, "store", None)):
        raise _NotFound(f"no tenant named {tenant!r}")
    return tenants.TenantSource(source, settings, tenant)


async def _api_ledger(request: web.Request) -> web.Response:
    source = _tenant(request, request.query.get("tenant"))
    return _json(ledger_json(_ledger(source, _month(request))))


async def _api_gateways(request: web.Request) -> web.Response:
    """Per-gateway diagnostics (docs/interfaces.md#tenants): the top gateways by losses."""
    source = request.app[_SOURCE]
    settings, store = getattr(source, "settings", None), getattr(source, "store", None)
    if not isinstance(settings, Settings) or not isinstance(store, SliceStore):
        raise _BadRequest("this source has no slices")
    if not settings.tenants.gateway_diagnostics:
        raise _NotFound("gateway diagnostics are off (tenants.gateway_diagnostics)")
    tenant = request.query.get("tenant")
    if tenant is not None:
        _tenant(request, tenant)  # 404 for an unknown tenant
    top = request.query.get("top", str(settings.tenants.gateways_top))
    if not top.isdigit() or not 0 < int(top) <= 1000:
        raise _BadRequest(f"top must be a whole number from 1 to 1000, got {top!r}")
    period = _ledger(source, _month(request)).period
    month = Month.containing(period.start_ms, period.timezone)
    return _json(gateway_report(settings, store, month, tenant, int(top)))


def _page(request: web.Request) -> StatusPage:
    """The status page, of one tenant under ``/tenant/{id}`` (and ``?tenant=`` for
    ``/api/status``)."""
    month = _month(request)
    tenant = request.match_info.get("tenant") or request.query.get("tenant")
    try:
        page = gather(_tenant(request, tenant), month)
        return page if tenant is None else replace(page, tenant=tenant)
    except ValueError as exc:  # a month the source cannot compute
        raise _BadRequest(str(exc).splitlines()[0] if str(exc) else "bad month") from None


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


async def _status(request: web.Request) -> web.Response:
    return _html(render_page(_page(request)))


async def _api_status(request: web.Request) -> web.Response:
    return _json(status_json(_page(request)))


async def _slo(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    html = render_slo_page(_page(request), name)
    if html is None:
        return _json({"error": f"no SLO named {name!r}"}, status=404)
    return _html(html)


def area(path: str) -> str | None:
    """Which protectable area a path belongs to (``http.protect``); None: always open."""
    if path == "/healthz":
        return None
    if path.startswith("/api/"):
        return "api"
    if path == "/metrics":
        return "metrics"
    # every page is the status page's (/, /slo/NAME, /tenant/ID/...): a page added later
    # is protected with it, never open by omission
    return "status"


def _authorized(header: str, token: str) -> bool:
    """``Bearer TOKEN``, or ``Basic`` with TOKEN as the password (any user name), so a
    browser can open a protected status page and Prometheus can scrape with either."""
    scheme, _, value = header.partition(" ")
    given = ""
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return False
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def _auth(token: str, protect: Sequence[str]) -> Any:
    @web.middleware
    async def check(request: web.Request, handler: Any) -> web.StreamResponse:
        if area(request.path) in protect and not _authorized(
                request.headers.get("Authorization", ""), token):
            return web.json_response(
                {"error": "authorization required"}, status=401,
                headers={"WWW-Authenticate": 'Basic realm="slastream", charset="UTF-8"'})
        response: web.StreamResponse = await handler(request)
        return response

    return check


def create_app(source: MetricsSource, registry: CollectorRegistry, *,
               token: str | None = None, protect: Sequence[str] = ("api",),
               health: HealthCheck | None = None) -> web.Application:
    """The aiohttp application; ``registry`` is what ``/metrics`` exposes, ``health``
    what ``/healthz`` reports (default: always healthy). With ``token``, the areas in
    ``protect`` (``api``, ``status``, ``metrics``) need it; ``/healthz`` never does
    (docs/interfaces.md#http-endpoints)."""
    middlewares = [_errors] if token is None else [_auth(token, protect), _errors]
    app = web.Application(middlewares=middlewares)
    app[_SOURCE] = source
    app[_REGISTRY] = registry
    app[_HEALTH] = health or list
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/api/ledger", _api_ledger)
    app.router.add_get("/api/status", _api_status)
    app.router.add_get("/api/gateways", _api_gateways)
    app.router.add_get("/slo/{name}", _slo)
    app.router.add_get("/tenant/{tenant}", _status)
    app.router.add_get("/tenant/{tenant}/slo/{name}", _slo)
    app.router.add_get("/", _status)
    return app


@dataclass
class HttpServer:
    """A running server. ``port`` is the bound port (useful with ``port=0``)."""

    host: str
    port: int
    runner: web.AppRunner

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        """Stop listening and finish open requests."""
        await self.runner.cleanup()

    async def __aenter__(self) -> HttpServer:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()


async def serve(source: MetricsSource, registry: CollectorRegistry,
                host: str = "127.0.0.1", port: int = 9464, *, token: str | None = None,
                protect: Sequence[str] = ("api",),
                health: HealthCheck | None = None) -> HttpServer:
    """Start serving ``source`` and ``registry`` on ``host:port`` (from ``Settings.http``);
    ``token``, ``protect`` and ``health`` as in :func:`create_app`.

    Raises ``OSError`` when the address cannot be bound (the CLI prints it as one line).
    """
    if token is None and host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("HTTP on %s without http.token_env/token_file: /api/* is open to "
                    "anyone who can reach it", host)
    runner = web.AppRunner(create_app(source, registry, token=token, protect=protect,
                                      health=health), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            bound = int(address[1])
            break
    return HttpServer(host=host, port=bound, runner=runner)
