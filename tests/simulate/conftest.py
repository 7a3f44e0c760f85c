"""One generated run shared by the simulator tests (generation is the slow part)."""

from __future__ import annotations

import pytest

from slastream.simulate import GroundTruth, Message, Scenario, Simulation
from tests.simulate.traffic import START_MS, Traffic

# 100 devices every minute for 100 minutes: every default outage (the last, the
# maintenance, ends at 90 min) falls inside, and each minute holds ~100 uplinks.
SCENARIO = Scenario(devices=100)
DURATION_S = 6000.0
SEED = 7


@pytest.fixture(scope="session")
def run() -> tuple[list[Message], GroundTruth]:
    sim = Simulation(SCENARIO, START_MS, DURATION_S, SEED)
    messages = [Message(ms, topic, payload) for ms, topic, payload in sim.messages()]
    return messages, sim.truth


@pytest.fixture(scope="session")
def traffic(run: tuple[list[Message], GroundTruth]) -> Traffic:
    return Traffic(run[0])


@pytest.fixture(scope="session")
def truth(run: tuple[list[Message], GroundTruth]) -> GroundTruth:
    return run[1]
