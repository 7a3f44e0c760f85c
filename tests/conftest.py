"""Shared fixtures. Broker fixtures live in tests/brokers.py."""

from tests.brokers import mosquitto, tansu

__all__ = ["mosquitto", "tansu"]
