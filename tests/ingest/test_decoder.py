"""The bridge's decode step: events out, every message counted, malformed ones dead-lettered."""

from __future__ import annotations

from pathlib import Path

import orjson

from slastream.ingest.connection import Segment
from slastream.ingest.decoder import Decoder
from slastream.ingest.recorder import CaptureRecorder
from slastream.model.events import Event, ProbeResult
from slastream.sources.capture import Message, parse_line
from slastream.transport import codec

GOOD = orjson.dumps({"time": "2026-10-01T00:00:00Z", "ok": True, "status": 200,
                     "latency_ms": 12})
RECEIVED_MS = 1_790_812_800_000


def test_good_and_malformed_messages() -> None:
    decoder = Decoder()
    events: list[Event] = []
    segments = [Segment(None, RECEIVED_MS, ["slastream/probe/api", "slastream/probe/api"],
                        [GOOD, b"{not json"], [])]
    dead = decoder.decode(segments, events, None)
    assert [type(e) for e in events] == [ProbeResult]
    assert decoder.received == 2 and decoder.deadlettered == 1
    assert sum(decoder.totals.values()) == 2
    assert [outcome for (_, outcome) in decoder.totals] == ["ok", "rejected"]
    [(key, value)] = dead
    letter = codec.decode_deadletter(value)
    assert key == "slastream/probe/api"
    assert letter["payload"] == b"{not json" and letter["reason"]


async def test_every_message_is_recorded_as_received(tmp_path: Path) -> None:
    path = tmp_path / "capture.jsonl"
    async with CaptureRecorder(path) as recorder:
        Decoder().decode([Segment(None, RECEIVED_MS, ["slastream/probe/api", "x/y"],
                                  [GOOD, b"\xff"], [])], [], recorder)
        await recorder.flush()
    lines = [parse_line(line) for line in path.read_bytes().splitlines()]
    assert lines == [Message(RECEIVED_MS, "slastream/probe/api", orjson.loads(GOOD)),
                     Message(RECEIVED_MS, "x/y", b"\xff")]


def test_ignored_messages_are_counted_by_reason_class() -> None:
    decoder = Decoder()
    log = orjson.dumps({"time": "2026-10-01T00:00:00Z", "level": "INFO", "code": "UPLINK_CODEC",
                        "description": "x", "deviceInfo": {"devEui": "0102030405060708"}})
    segments = [Segment(None, RECEIVED_MS, ["x/y", "application/a/device/d/event/log", "z"],
                        [GOOD, log, GOOD], [])]
    decoder.decode(segments, [], None)
    assert decoder.ignored == {("unknown", "topic not understood"): 2, ("chirpstack", "log"): 1}
