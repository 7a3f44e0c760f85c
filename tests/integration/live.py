"""The live pipeline as the integration tests run it (bridge and worker in this process),
and the offline replay its ledger is compared with."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

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


ROOT = Path(__file__).resolve().parents[2]


def replayed(config: Path, capture: Path, month: str,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    """The ledger ``slastream replay`` prints for ``capture``, run as a user runs it."""
    out = subprocess.run(
        [sys.executable, "-m", "slastream", "replay", "-c", str(config), str(capture),
         "--month", month], capture_output=True, check=False,
        env=env or {**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 0, out.stderr.decode()
    return dict(json.loads(out.stdout))


def metric(url: str, name: str) -> float | None:
    """The value of the unlabelled sample ``name`` on ``url``'s /metrics; None if absent."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None
