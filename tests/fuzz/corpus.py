"""Seed messages per fuzz target: the real payloads of the decoder golden files
(``tests/golden/sources``), their Protobuf encodings, and ticket events.

A target is a source the router reaches: ChirpStack's gateway topics and its integration
(each in JSON and in Protobuf), The Things Stack, slastream's canonical topics, and
support tickets. ``capture`` is the replay input, capture lines holding all of them.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from typing import Any

from chirpstack_api.gw import gw_pb2
from chirpstack_api.integration import integration_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

from tests.sources.golden import load_cases

from .mutate import mutate_bytes, mutate_json, odd_string

Seed = tuple[str, Any]  # topic, payload (a JSON value, or bytes for Protobuf)

TARGETS = ("gateway_json", "gateway_protobuf", "integration_json", "integration_protobuf",
           "tts", "canonical", "ticket", "capture")

_GW_PROTO: dict[str, type[Message]] = {
    "up": gw_pb2.UplinkFrame, "down": gw_pb2.DownlinkFrame, "ack": gw_pb2.DownlinkTxAck}
_INTEGRATION_PROTO: dict[str, type[Message]] = {
    "up": integration_pb2.UplinkEvent, "join": integration_pb2.JoinEvent,
    "ack": integration_pb2.AckEvent, "txack": integration_pb2.TxAckEvent,
    "log": integration_pb2.LogEvent}

TICKETS: list[Any] = [
    {"id": "T-1", "event": "opened", "time": "2026-10-02T14:50:00Z", "severity": "Critical",
     "contract": "cumulocity", "region": "EMEA", "country": "de", "channel": "portal"},
    {"id": "T-1", "event": "response", "time": "2026-10-02T15:20:00Z",
     "contract": "cumulocity"},
    [{"id": "T-2", "event": "severity", "time": "2026-10-03T08:00:00Z", "severity": "Major",
      "contract": "evrythng", "region": "US", "country": None, "channel": "email"},
     {"id": "T-2", "event": "resolved", "time": "2026-10-03T09:00:00Z",
      "contract": "evrythng"}],
]


def _json_seeds(decoder: str) -> list[Seed]:
    return [(c["topic"], c["payload"]) for c in load_cases(decoder) if "payload" in c]


def _proto_seeds(kind: str) -> list[Seed]:
    """The Protobuf golden cases of one side, plus the JSON cases of that side encoded with
    the official definitions (those the JSON mapping accepts)."""
    gateway = kind == "gateway"
    out: list[Seed] = [(c["topic"], base64.b64decode(c["payload_b64"]))
                       for c in load_cases("protobuf")
                       if ("/gateway/" in f"/{c['topic']}") == gateway]
    for topic, payload in _json_seeds("chirpstack_gateway" if gateway else "chirpstack"):
        cls = (_GW_PROTO if gateway else _INTEGRATION_PROTO).get(topic.rsplit("/", 1)[-1])
        if cls is None or type(payload) is not dict:
            continue
        try:
            msg = json_format.ParseDict(payload, cls(), ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError, AttributeError):
            continue
        out.append((topic, msg.SerializeToString(deterministic=True)))
    return out


def seeds(target: str) -> list[Seed]:
    if target == "gateway_json":
        return _json_seeds("chirpstack_gateway")
    if target == "gateway_protobuf":
        return _proto_seeds("gateway")
    if target == "integration_json":
        return _json_seeds("chirpstack")
    if target == "integration_protobuf":
        return _proto_seeds("integration")
    if target == "tts":
        return _json_seeds("tts")
    if target == "canonical":
        return _json_seeds("canonical")
    if target == "ticket":
        return [("slastream/ticket", t) for t in TICKETS]
    return [s for t in TARGETS[:-1] for s in seeds(t)]


def _id_levels(topic: str) -> list[int]:
    """Indexes of the topic levels that hold ids (gateway, application, device, component)."""
    levels = topic.split("/")
    if levels[0] == "slastream":
        return [2] if len(levels) == 3 else []
    if "gateway" in levels:
        return [i for i in (levels.index("gateway") - 1, levels.index("gateway") + 1) if i >= 0]
    if levels[0] == "application":
        return [1, 3]
    if levels[0] == "v3":
        return [1, 3]
    return []


def mutate_topic(rng: random.Random, topic: str) -> str:
    """Mostly the same topic with other ids; sometimes damaged levels."""
    levels = topic.split("/")
    r = rng.random()
    if r < 0.6:
        for i in _id_levels(topic):
            if rng.random() < 0.7:
                levels[i] = rng.choice((f"{rng.getrandbits(64):016x}", odd_string(rng)[:40]))
    elif r < 0.7:
        i = rng.randrange(len(levels))
        levels[i] = rng.choice(("", "+", "#", "..", odd_string(rng)[:20], levels[i] * 2))
    elif r < 0.75:
        levels = levels[: rng.randrange(1, len(levels) + 1)]
    elif r < 0.8:
        levels.append(rng.choice(("", "x", "up")))
    # MQTT topics are UTF-8 (MQTT 5.0 §1.5.4): what the bridge receives decodes strictly
    return "/".join(levels).encode("utf-8", "replace").decode()


def message(rng: random.Random, pool: list[Seed]) -> Seed:
    """One fuzzed message from a seed of ``pool``."""
    topic, payload = rng.choice(pool)
    topic = mutate_topic(rng, topic) if rng.random() < 0.5 else topic
    r = rng.random()
    if type(payload) is bytes:
        if r < 0.5:
            return topic, mutate_bytes(rng, payload)
        if r < 0.85:
            return topic, _proto_edit(rng, topic, payload)
        return topic, rng.randbytes(rng.choice((0, 1, 3, 16, 200)))
    if r < 0.8:
        return topic, mutate_json(rng, payload)
    if r < 0.9:
        return topic, payload
    return topic, _noise(rng)


def _noise(rng: random.Random) -> bytes:
    """Raw bytes where JSON was expected: random, truncated or invalid UTF-8."""
    return rng.choice((rng.randbytes(rng.randrange(64)), b"{", b'{"a":', b"\xff\xfe{}",
                       b'{"devAddr": "\xc3\x28"}', b"[" * 3000, b"\x00" * 16))


def _proto_edit(rng: random.Random, topic: str, data: bytes) -> bytes:
    """Structure-aware: edit the message's JSON form, encode it again with the definitions."""
    last = topic.rsplit("/", 1)[-1]
    cls = (_GW_PROTO if "/gateway/" in f"/{topic}" else _INTEGRATION_PROTO).get(last)
    if cls is None:
        return mutate_bytes(rng, data)
    try:
        as_json = json_format.MessageToDict(cls.FromString(data))
        edited = mutate_json(rng, as_json)
        return json_format.ParseDict(edited, cls(), ignore_unknown_fields=True
                                     ).SerializeToString(deterministic=True)
    except Exception:  # an edit the mapping refuses: damage the bytes instead
        return mutate_bytes(rng, data)


Generator = Callable[[random.Random], Seed]


def generator(target: str) -> Generator:
    pool = seeds(target)
    assert pool, f"no seeds for {target}"
    return lambda rng: message(rng, pool)
