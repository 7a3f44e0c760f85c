"""Mosquitto (the Debian binary) on a free loopback port with its own config and storage.

The generated configuration matters for the bridge's guarantees:

* ``persistence true`` in a private directory: Mosquitto writes sessions and queued QoS 1
  messages to disk when it exits on SIGTERM, so a restarted broker still holds a persistent
  session's queue (mosquitto.conf(5), ``persistence``). SIGKILL loses what was not saved.
* ``max_queued_messages``: Mosquitto drops QoS 1 messages queued for a client beyond this
  (default 1000), which a bridge paused for a few seconds would exceed; raised here.
* MQTT v5 clients bring their own Receive Maximum, which Mosquitto honours as the in-flight
  window; ``max_inflight_messages`` (default 20) only limits MQTT 3.1.1 clients.
"""

from __future__ import annotations

import getpass
import tempfile
from pathlib import Path

from slastream.embedded.ports import free_port
from slastream.embedded.process import BrokerProcess, find_executable
from slastream.errors import BrokerError

MAX_QUEUED_MESSAGES = 10_000_000


def mosquitto_binary() -> Path | None:
    """The ``mosquitto`` executable (Debian installs it in /usr/sbin, often not on PATH)."""
    return find_executable("mosquitto", [Path("/usr/sbin/mosquitto"),
                                         Path("/usr/local/sbin/mosquitto")])


class Mosquitto(BrokerProcess):
    """A private Mosquitto; ``restart()`` brings it back on the same port with its sessions."""

    name = "Mosquitto"

    def __init__(self, port: int | None = None, workdir: Path | None = None,
                 extra_config: str = "") -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise BrokerError("mosquitto not found (Debian package mosquitto)")
        self.binary = binary
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="slastream-mosquitto-"))
        self.extra_config = extra_config
        super().__init__(port or free_port(), self.workdir / "mosquitto.log")

    @property
    def url(self) -> str:
        """``mqtt://host:port`` for clients."""
        return f"mqtt://{self.host}:{self.port}"

    def config(self) -> str:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "autosave_interval 0",  # save on exit (SIGTERM) only: a save costs time per message
            f"max_queued_messages {MAX_QUEUED_MESSAGES}",
            f"log_dest file {self.workdir}/mosquitto.log",
            # Started as root, mosquitto switches to the user "mosquitto", who could not
            # write our private directory; naming the current user keeps it as is.
            f"user {getpass.getuser()}",
        ]
        return "\n".join(lines) + "\n" + self.extra_config

    def command(self) -> list[str]:
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self.config(), encoding="utf-8")
        return [str(self.binary), "-c", str(conf)]
