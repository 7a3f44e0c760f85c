"""slastream: live service-level agreements for IoT platforms, computed from telemetry."""

__version__ = "0.1.0"
