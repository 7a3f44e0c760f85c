"""One month of LoRaWAN traffic, its gateway side once in ChirpStack's JSON marshaler on
region-prefixed topics and once in its Protobuf marshaler (the official encoder) on topics
without a prefix: ``slastream replay`` gives the same ledger for both."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from chirpstack_api.gw import gw_pb2
from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage

from slastream.simulate import Scenario, generate
from slastream.sources.capture import Message, format_line

ROOT = Path(__file__).resolve().parents[2]
LORIOT = ROOT / "examples" / "contracts" / "loriot.yaml"  # every SLO scoped to the network
START_MS = 1_790_812_800_000  # 2026-10-01T00:00:00Z
GATEWAY_MESSAGES: dict[str, type[ProtoMessage]] = {
    "event/up": gw_pb2.UplinkFrame,
    "command/down": gw_pb2.DownlinkFrame,
    "event/ack": gw_pb2.DownlinkTxAck,
}


def as_protobuf(message: Message) -> Message:
    """A gateway message as ChirpStack's Protobuf marshaler publishes it without a region
    ``topic_prefix``; any other message unchanged."""
    levels = message.topic.split("/")
    if len(levels) != 5 or levels[1] != "gateway":
        return message
    cls = GATEWAY_MESSAGES["/".join(levels[3:])]
    proto = json_format.ParseDict(message.payload, cls(), ignore_unknown_fields=True)
    return Message(message.received_ms, "/".join(levels[1:]), proto.SerializeToString())


def write(path: Path, messages: list[Message]) -> Path:
    path.write_bytes(b"".join(format_line(m) + b"\n" for m in messages))
    return path


def replay(capture: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "slastream", "replay", "-c", str(LORIOT), str(capture),
         "--month", "2026-10"], capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    ledger: dict[str, Any] = json.loads(proc.stdout)
    return ledger


def test_protobuf_unprefixed_and_json_prefixed_give_the_same_ledger(tmp_path: Path) -> None:
    scenario = Scenario(devices=25, gateways=3, uplink_interval_s=45.0)
    messages = list(generate(scenario, START_MS, 1800.0, seed=11))
    converted = [as_protobuf(m) for m in messages]
    binary = [m for m in converted if isinstance(m.payload, bytes)]
    # the whole gateway side changed marshaler and topic layout
    assert len(binary) == sum("/gateway/" in m.topic for m in messages) > 1000
    assert not any(m.topic.startswith("eu868/gateway/") for m in converted)

    as_json = replay(write(tmp_path / "json.jsonl", messages))
    as_proto = replay(write(tmp_path / "protobuf.jsonl", converted))
    assert as_proto == as_json
    # and the ledger measured something on both SLIs of the gateway side
    slos = {e["name"]: e for e in as_json["slos"]}
    assert slos["lorawan-delivery"]["events"]["total"] > 500
    assert slos["rx2-reach"]["events"]["total"] > 50
