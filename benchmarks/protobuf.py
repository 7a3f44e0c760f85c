"""Replay speed of a capture whose gateway side is ChirpStack Protobuf, against the same
capture in JSON, in one process.

    .venv/bin/python benchmarks/protobuf.py [--hours H] [--seed S] [--rounds N]

The JSON capture is the simulated LoRaWAN network of ``benchmarks/replay_paths.py``; the
Protobuf capture is the same messages with every gateway message (``event/up``,
``command/down``, ``event/ack``) encoded with the official definitions (``chirpstack-api``)
as the MQTT Forwarder publishes them by default, on topics without a region prefix. Both
are replayed with ``decoder.capture_batches`` (the fast path; Protobuf lines leave it for
the router) into ``Engine.feed``, then flush and ledger. Rows: messages per CPU second
(best of ``--rounds`` interleaved rounds, cyclic GC paused as ``slastream replay`` does),
and the ratio. The two ledgers are compared: the figures mean nothing if they differ.
Numbers, never assertions: a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path

import orjson
from chirpstack_api.gw import gw_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

from slastream.config import load_settings
from slastream.replay import collector_paused

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay_paths import ROOT, run_engine, simulated_capture

_CLASSES: dict[str, type[Message]] = {
    "event/up": gw_pb2.UplinkFrame,
    "command/down": gw_pb2.DownlinkFrame,
    "event/ack": gw_pb2.DownlinkTxAck,
}


def to_protobuf(line: bytes) -> bytes:
    """One capture line with a gateway message re-encoded in Protobuf, unprefixed topic."""
    obj = orjson.loads(line)
    levels = obj["topic"].split("/")
    cls = _CLASSES.get("/".join(levels[3:])) if len(levels) == 5 and levels[1] == "gateway" \
        else None
    if cls is None:
        return line
    proto = json_format.ParseDict(obj.pop("payload"), cls(), ignore_unknown_fields=True)
    obj["topic"] = "/".join(levels[1:])
    obj["payload_b64"] = base64.b64encode(proto.SerializeToString()).decode()
    return orjson.dumps(obj) + b"\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hours", type=float, default=0.5, help="simulated hours (default 0.5)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    args = p.parse_args(argv)
    settings = load_settings(ROOT / "examples" / "contracts" / "loriot.yaml")
    json_lines = simulated_capture(args.hours, args.seed).read_bytes().splitlines(keepends=True)
    proto_lines = [to_protobuf(line) for line in json_lines]
    converted = sum(a is not b for a, b in zip(json_lines, proto_lines, strict=True))
    print(f"capture: {len(json_lines):,} messages, {converted:,} gateway messages in Protobuf")
    rows = {"JSON, prefixed": json_lines, "Protobuf, unprefixed": proto_lines}
    best = dict.fromkeys(rows, float("inf"))
    ledgers = {}
    for _ in range(args.rounds):
        for name, lines in rows.items():
            with collector_paused():
                began = time.process_time()
                ledgers[name] = run_engine(settings, lines, fast=True)[0]
                best[name] = min(best[name], time.process_time() - began)
    n = len(json_lines)
    for name, cpu_s in best.items():
        print(f"{name:22s} {n / cpu_s:>11,.0f} msg/s  ({cpu_s:6.2f} s CPU)")
    print(f"Protobuf / JSON: {best['JSON, prefixed'] / best['Protobuf, unprefixed']:.2f} x")
    same = ledgers["JSON, prefixed"] == ledgers["Protobuf, unprefixed"]
    print(f"ledgers: {'identical' if same else 'DIFFERENT'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
