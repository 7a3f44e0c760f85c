"""Shared fixtures. Broker fixtures live in tests/brokers.py; live runs started ahead of
their tests in tests/integration/ahead.py."""

from tests.brokers import mosquitto, tansu
from tests.integration.ahead import ahead_runs

__all__ = ["ahead_runs", "mosquitto", "tansu"]
