"""The live pipeline as the integration tests run it: bridge and worker in this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from slastream.embedded import free_port
from slastream.model.spec import Settings
from slastream.stream.partition import Timing
from slastream.stream.profile import EMBEDDED
from slastream.stream.run import make_bridge, pipeline


@asynccontextmanager
async def live_pipeline(settings: Settings, capture: Path) -> AsyncIterator[str]:
    """Bridge (recording every message to ``capture``) and worker on the embedded Kafka
    profile, the worker's HTTP on a free port. Yields the worker's base URL once it serves
    and the bridge has subscribed; on the way out both stop, and must stop cleanly."""
    stop = asyncio.Event()
    urls: list[str] = []
    live = replace(settings, http=replace(settings.http, port=free_port()))
    bridge = make_bridge(live, EMBEDDED, capture)
    task = asyncio.create_task(pipeline(
        live, stop, profile=EMBEDDED, bridge=bridge,
        timing=Timing(idle_s=1.0, checkpoint_interval_s=2.0), on_ready=urls.append))
    try:
        while not (urls and bridge.connected.is_set()):
            assert not task.done(), task.result()
            await asyncio.sleep(0.2)
        yield urls[0]
    finally:
        stop.set()
        failure = await task
    assert failure is None, failure
