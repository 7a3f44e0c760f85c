"""Kafka client settings of the worker: production defaults, and the embedded profile.

The embedded profile (the demo and the integration tests, on Tansu) carries two settings
measured on Tansu 0.6.0 with faust-streaming 0.15.3 that must never become
production defaults:

* ``broker_session_timeout=10``: Tansu holds each group join for half the session
  timeout, so faust's default of 60 s makes a worker take ~32 s to start and ~88 s to
  take over after a SIGKILL; with 10 s about 7 s and 15 s. On a real Kafka a short
  session evicts workers on every GC pause or slow rebalance.
* ``producer_max_batch_size=1``: Tansu reports a wrong "latest" offset when the last
  write to a partition was a batch of several records, so faust stops reading a
  changelog early and a table (our checkpoints) comes back short after a rebalance. One
  record per batch avoids it; on a real Kafka it would only cost throughput.

Both profiles take TLS and SASL from the config (``kafka.tls``, ``kafka.sasl``) as faust
``broker_credentials``, built by ``transport/security.py`` like the bridge's clients.

Neither profile asks for idempotent or transactional producers (``exactly_once``):
Tansu refuses InitProducerId, and correctness comes from idempotent state instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slastream.errors import SlastreamError
from slastream.model.spec import Settings
from slastream.transport.security import faust_credentials


@dataclass(frozen=True)
class KafkaProfile:
    """faust/aiokafka knobs that depend on the broker, not on the SLOs."""

    name: str
    session_timeout_s: float = 60.0
    heartbeat_interval_s: float = 3.0
    producer_max_batch_size: int | None = None  # None: faust's default (16 kB)
    replication_factor: int = 1  # of the changelog faust creates for the checkpoint table
    # faust logs a failed table recovery and waits forever; past this, the worker stops
    # with an error instead (a changelog of checkpoints is small: minutes mean trouble)
    recovery_limit_s: float = 600.0
    # the bridge's producer, when it runs in the same process (run, demo): one record per
    # batch for the same Tansu quirk (the worker reads "latest" to know it caught up)
    bridge_one_record_per_batch: bool = False
    # how long the broker may hold a fetch of partitions that have nothing new
    # (stream/fetch.py: faust's fixed 1.5 s stalls a worker catching up on a backlog)
    fetch_max_wait_ms: int = 100

    def faust_options(self, settings: Settings, datadir: str) -> dict[str, Any]:
        """Keyword arguments for ``faust.App`` (besides the app id)."""
        http = settings.http
        host = f"[{http.host}]" if ":" in http.host else http.host
        # faust wants a real port; with port 0 (ours picked at bind time) any placeholder
        # will do, as the URL only labels this member in the group's assignment metadata
        port = http.port or 6066
        options: dict[str, Any] = {
            "broker": [f"kafka://{h.strip()}" for h in settings.kafka.bootstrap.split(",")
                       if h.strip()],
            "topic_partitions": settings.kafka.partitions,
            "topic_replication_factor": self.replication_factor,
            # the metrics server is export/http.py on settings.http; faust's own would bind
            # 0.0.0.0:6066 by default, so it is off, and its address is pinned
            # to ours because faust still advertises it to the group as this member's URL
            "web_enabled": False,
            "web_host": http.host,
            "web_port": port,
            "canonical_url": f"http://{host}:{port}",
            "datadir": datadir,
            # the agent acks a record only once a checkpoint covers it; a rebalance must
            # not wait for those acks (the new owner replays from the checkpoint)
            "stream_wait_empty": False,
            "consumer_auto_offset_reset": "earliest",
            "key_serializer": "raw",
            "value_serializer": "raw",
            "producer_acks": -1,
            "broker_session_timeout": self.session_timeout_s,
            "broker_heartbeat_interval": self.heartbeat_interval_s,
            "autodiscover": False,
        }
        credentials = faust_credentials(settings.kafka)
        if credentials is not None:
            options["broker_credentials"] = credentials
        if self.producer_max_batch_size is not None:
            options["producer_max_batch_size"] = self.producer_max_batch_size
        return options


PRODUCTION = KafkaProfile("production")
EMBEDDED = KafkaProfile("embedded", session_timeout_s=10.0, heartbeat_interval_s=1.0,
                        producer_max_batch_size=1, recovery_limit_s=120.0,
                        bridge_one_record_per_batch=True)


PROFILE_ENV = "SLASTREAM_KAFKA_PROFILE"
PROFILES = {p.name: p for p in (PRODUCTION, EMBEDDED)}


def profile_from_env(environ: Mapping[str, str]) -> KafkaProfile:
    """The profile named by ``SLASTREAM_KAFKA_PROFILE`` (default ``production``).

    For ``slastream worker``/``run`` against a Tansu broker (tests, a local demo setup);
    read once at the entry point. Raises ``SlastreamError`` on an unknown name.
    """
    name = environ.get(PROFILE_ENV, PRODUCTION.name) or PRODUCTION.name
    if name not in PROFILES:
        raise SlastreamError(f"{PROFILE_ENV}={name!r}: must be one of "
                             f"{', '.join(sorted(PROFILES))}")
    return PROFILES[name]
