"""The traffic simulator: a seeded LoRaWAN network with probed services and scheduled outages.

Pure generation (``generate``, ``ground_truth``, ``Simulation``) is separate from output:
``write_capture`` writes a capture file (docs/interfaces.md) as fast as it can, ``publish`` sends
the same traffic to an MQTT broker in real time. ``main`` is ``slastream simulate``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator

from slastream.simulate.generator import Simulation
from slastream.simulate.scenario import Outages, Scenario, Window, lorawan_day
from slastream.simulate.truth import GroundTruth, OutageWindow
from slastream.simulate.writer import capture_lines, write_capture
from slastream.sources.capture import Message

__all__ = [
    "GroundTruth",
    "Message",
    "OutageWindow",
    "Outages",
    "Scenario",
    "Simulation",
    "Window",
    "capture_lines",
    "generate",
    "ground_truth",
    "lorawan_day",
    "main",
    "publish",
    "write_capture",
]


def generate(scenario: Scenario, start_ms: int, duration_s: float | None,
             seed: int) -> Iterator[Message]:
    """The messages of a run in received-time order; the same arguments give the same
    messages. ``duration_s`` None runs without end."""
    for ms, topic, payload in Simulation(scenario, start_ms, duration_s, seed).messages():
        yield Message(ms, topic, payload)


def ground_truth(scenario: Scenario, start_ms: int, duration_s: float,
                 seed: int) -> GroundTruth:
    """What the run of ``generate`` with the same arguments contains, by construction."""
    return Simulation(scenario, start_ms, duration_s, seed).run_to_end()


async def publish(scenario: Scenario, mqtt_url: str, duration_s: float | None, rate: float,
                  stop_event: asyncio.Event, seed: int = 1) -> int:
    """Publish ``scenario`` (traffic × ``rate``) live to ``mqtt_url``, simulated time = now,
    until ``duration_s`` has passed or ``stop_event`` is set. Returns messages published.

    Raises ``slastream.errors.BrokerError`` when the broker cannot be reached or drops us.
    """
    from slastream.simulate.live import publish_live

    return await publish_live(scenario, mqtt_url, duration_s, rate, stop_event, seed)


def main(args: argparse.Namespace) -> int:
    """``slastream simulate``: see ``slastream.simulate.command``."""
    from slastream.simulate.command import run

    return run(args)
