"""Seed fixtures for the report tests (each capture built and replayed once)."""

from __future__ import annotations

import pytest

from tests.report.seeds import SEEDS, Seed, build


@pytest.fixture(scope="session", params=sorted(SEEDS))
def seed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Seed:
    return build(str(request.param), tmp_path_factory.mktemp(str(request.param)))


@pytest.fixture(scope="session")
def mclimate(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """One seed, for tests that need just one (an outage, an excused and a capped window)."""
    return build("mclimate", tmp_path_factory.mktemp("mclimate-one"))
