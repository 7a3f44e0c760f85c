"""A local S3 server (``moto_server`` from the PyPI package ``moto[server]``), for a Tansu
that keeps its data across a restart (``Tansu(storage=S3Server...)``, fault tests).

moto keeps its buckets in memory: they outlive a restart of Tansu, not of this server.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from slastream.embedded.ports import free_port
from slastream.embedded.process import BrokerProcess, find_executable
from slastream.errors import BrokerError


def moto_binary() -> Path | None:
    """``moto_server`` next to this interpreter (a virtualenv), else on ``PATH``."""
    return find_executable("moto_server", [Path(sys.executable).parent / "moto_server"])


class S3Server(BrokerProcess):
    """``moto_server`` on a free loopback port; ``create_bucket`` makes a bucket."""

    name = "S3 (moto)"

    def __init__(self, port: int | None = None) -> None:
        binary = moto_binary()
        if binary is None:
            raise BrokerError("moto_server not found: pip install 'moto[server]'")
        self.binary = binary
        log_path = Path(tempfile.mkdtemp(prefix="slastream-s3-")) / "moto.log"
        super().__init__(port or free_port(), log_path)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [str(self.binary), "-H", self.host, "-p", str(self.port)]

    def client_environment(self) -> dict[str, str]:
        """What an S3 client (Tansu's object store) needs to use this server."""
        return {"AWS_ENDPOINT": self.endpoint, "AWS_ALLOW_HTTP": "true",
                "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_DEFAULT_REGION": "us-east-1"}

    async def create_bucket(self, bucket: str) -> None:
        """``PUT /{bucket}`` (S3 CreateBucket); an existing bucket is kept."""
        def put() -> None:
            request = urllib.request.Request(f"{self.endpoint}/{bucket}", method="PUT")
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError as exc:
                if exc.code != 409:  # BucketAlreadyOwnedByYou
                    raise BrokerError(f"S3 {self.endpoint}: cannot create bucket {bucket}: "
                                      f"HTTP {exc.code}") from None

        await asyncio.to_thread(put)
