"""``/metrics`` and ``/healthz`` of a prober or request-log reader, over aiohttp.

``/healthz`` answers 200 with a JSON summary while the process is healthy, 503 otherwise;
``health()`` decides (for a prober: running, and the sink is not dropping results).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

Health = Callable[[], tuple[bool, dict[str, Any]]]


class StatusServer:
    """A small HTTP server; ``await start()``, ``await close()``; ``port`` once started."""

    def __init__(self, registry: CollectorRegistry, health: Health, host: str,
                 port: int) -> None:
        self.registry = registry
        self.health = health
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, details = self.health()
        return web.Response(body=orjson.dumps({"ok": ok, **details}),
                            status=200 if ok else 503, content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        for address in self._runner.addresses:  # the real port when 0 was asked for
            self.port = int(address[1])
            break

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
