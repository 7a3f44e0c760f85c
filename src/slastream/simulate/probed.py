"""A small local service for the real prober, failing in scripted windows.

``ScriptedService`` answers ``GET /{component}`` over HTTP (aiohttp, on loopback): 200 with
``{"status": "UP"}``, or 503 with ``{"status": "DOWN"}`` while an outage window of that
component is active, and slowly while a slow window is. Windows are offsets from
``start_ms`` on the service's clock (the demo's time-lapse clock), as in a ``Scenario``.
``probes`` declares what the prober checks: each component's URL (with a condition on the
body) and an MQTT round trip through a broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from slastream.model.probes import HttpCheck, MqttCheck, ProbeSpec
from slastream.probe.conditions import parse_condition
from slastream.simulate.scenario import Window

ROUNDTRIP_TOPIC = "slastream-demo/probe-roundtrip"  # outside slastream/#: not an input


class ScriptedService:
    """``async with ScriptedService(...) as service``; ``service.url(component)``."""

    def __init__(self, components: tuple[str, ...], outages: tuple[Window, ...],
                 now_ms: Callable[[], int], start_ms: int, slow: tuple[Window, ...] = (),
                 slow_s: float = 0.6) -> None:
        self.components = components
        self.outages = outages
        self.slow = slow
        self.slow_s = slow_s
        self.now_ms = now_ms
        self.start_ms = start_ms
        self.port = 0
        self._runner: web.AppRunner | None = None

    def _active(self, windows: tuple[Window, ...], component: str) -> bool:
        offset = self.now_ms() - self.start_ms
        return any(w.scope == component and w.contains(offset) for w in windows)

    async def _answer(self, request: web.Request) -> web.Response:
        component = request.match_info["component"]
        if component not in self.components:
            raise web.HTTPNotFound()
        if self._active(self.outages, component):
            return web.json_response({"status": "DOWN"}, status=503)
        if self._active(self.slow, component):
            await asyncio.sleep(self.slow_s)
        return web.json_response({"status": "UP"})

    async def __aenter__(self) -> ScriptedService:
        app = web.Application()
        app.router.add_get("/{component}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, component: str) -> str:
        return f"http://127.0.0.1:{self.port}/{component}"

    def probes(self, interval_s: float, mqtt_url: str | None = None,
               mqtt_component: str = "mqtt") -> tuple[ProbeSpec, ...]:
        """An HTTP probe per component (status 200 and ``[BODY].status == UP``), and the
        MQTT round trip through ``mqtt_url`` when given."""
        timeout = min(5.0, interval_s)
        up = (parse_condition("[BODY].status == UP"),)
        specs = [ProbeSpec(name=f"{c}-http", component=c, kind="http",
                           check=HttpCheck(self.url(c), conditions=up),
                           interval_s=interval_s, timeout_s=timeout)
                 for c in self.components]
        if mqtt_url is not None:
            specs.append(ProbeSpec(name=f"{mqtt_component}-roundtrip",
                                   component=mqtt_component, kind="mqtt",
                                   check=MqttCheck(mqtt_url, ROUNDTRIP_TOPIC),
                                   interval_s=interval_s, timeout_s=timeout))
        return tuple(specs)
