"""What a flood of odd messages can grow: counter keys of rejections stay a bounded set,
and the reasons of bad capture lines name the field, never the value
(docs/interfaces.md#rejected-messages)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from slastream.config import parse_settings
from slastream.errors import ConfigError
from slastream.ingest.connection import Segment
from slastream.ingest.decoder import Decoder
from slastream.ingest.recorder import CaptureRecorder
from slastream.model.spec import MAX_PAYLOAD_BYTES
from slastream.sources import router
from slastream.sources.capture import BadLine, parse_line
from slastream.sources.decoder import capture_batches
from slastream.transport import codec


def test_rejection_classes_drop_item_numbers_indexes_sizes_and_values() -> None:
    cls = router.rejection_class
    assert cls("probe", "item 1234: missing time") == "probe: missing time"
    assert cls("probe", "item 7: time is not an RFC 3339 timestamp: 'x'") == \
        "probe: time is not an RFC 3339 timestamp"
    assert cls("chirpstack_gateway", "items[4097] without txInfo") == \
        "chirpstack_gateway: items[i] without txInfo"
    assert cls("chirpstack_gateway", "phyPayload too short for a data frame (9 bytes, need 12)"
               ) == "chirpstack_gateway: phyPayload too short for a data frame"
    assert cls("chirpstack", "malformed KeyError: 'x'") == "chirpstack: malformed KeyError"


def test_a_batch_of_many_bad_items_adds_one_rejection_key() -> None:
    lines = [b'{"received_at":"2026-10-01T00:00:00.000Z","topic":"slastream/probe/api",'
             b'"payload":[' + b'{"ok":true,"time":"2026-10-01T00:00:00Z"},' * i + b'1]}'
             for i in range(300)]
    for fast in (True, False):
        (batch,) = capture_batches(lines, fast=fast, rt=router.Router())
        assert dict(batch.rejections) == {"probe: not a JSON object": 300}


def test_bad_capture_fields_are_named_without_their_values() -> None:
    def reason(line: bytes) -> str:
        msg = parse_line(line)
        assert isinstance(msg, BadLine)
        return msg.reason

    for stamp in (b'"yesterday"', b'"2026-10-01T00:00:60.000Z"', b"12", b"[]"):
        assert reason(b'{"received_at":' + stamp + b',"topic":"t","payload":1}') == \
            "received_at is not an RFC 3339 timestamp"
    assert reason(b'{"received_at":"2026-10-01T00:00:00Z","topic":"t","payload_b64":"*"}') \
        == "payload_b64 is not base64"
    assert reason(b'{"received_at":"2026-10-01T00:00:00Z","topic":"t"}') == \
        "missing payload_b64"


LIMIT = 1024
UP_TOPIC = "eu868/gateway/0016c001f153a14c/event/up"
STAMP = b'"2026-10-01T00:00:00.000Z"'


def test_a_payload_over_the_limit_is_rejected_unparsed_whatever_its_topic() -> None:
    rt = router.Router(max_payload_bytes=LIMIT)
    for topic, source in ((UP_TOPIC, "chirpstack_gateway"), ("elsewhere/x", "unknown")):
        assert rt.decode(topic, b"\n" * (LIMIT + 1), 0, []) == (source, "rejected", "oversize")
    # at the limit it is decoded (and here not Protobuf)
    assert rt.decode(UP_TOPIC, b"\n" * LIMIT, 0, [])[2].startswith("not JSON")


def test_the_bridge_rejects_an_oversize_message_and_keeps_it_bounded(tmp_path: Path) -> None:
    rt = router.Router(max_payload_bytes=LIMIT)
    dec = Decoder(rt)
    body = b'{"phyPayload": "' + b"A" * 4000 + b'"}'  # valid JSON, never parsed
    capture = tmp_path / "capture.jsonl"

    async def record() -> list[tuple[str, bytes]]:
        async with CaptureRecorder(capture) as recorder:
            dead = dec.decode([Segment(None, 0, [UP_TOPIC], [body], [])], [], recorder)
            await recorder.flush()
        return dead

    ((_key, value),) = asyncio.run(record())
    letter = codec.decode_deadletter(value)
    assert (letter["reason"], letter["payload"]) == ("oversize", body[:LIMIT + 1])
    assert dec.totals == {("chirpstack_gateway", "rejected"): 1}
    # the recorded line replays as what the bridge decoded: the same source and reason
    lines = capture.read_bytes().splitlines()
    for fast in (True, False):
        (batch,) = capture_batches(lines, fast=fast, rt=router.Router(max_payload_bytes=LIMIT))
        assert dict(batch.rejections) == {"chirpstack_gateway: oversize": 1}
        assert dict(batch.ingest) == {("chirpstack_gateway", "rejected"): 1}


def test_a_capture_line_over_its_limit_is_a_bad_line_not_parsed() -> None:
    rt = router.Router(max_payload_bytes=LIMIT)
    ok = b'{"received_at":' + STAMP + b',"topic":"slastream/probe/api","payload":[]}'
    long = ok.replace(b"[]", b"[" + b"0," * (2 * LIMIT + 2048) + b"0]")
    assert len(long) > rt.max_line_bytes
    for fast in (True, False):
        (batch,) = capture_batches([ok, long, ok], fast=fast, rt=rt)
        assert (batch.messages, batch.bad_lines) == (2, 1)
        assert dict(batch.rejections) == {"capture: oversize": 1}


def test_max_payload_bytes_is_a_checked_config_key() -> None:
    base = {"slos": [{"name": "api", "sli": "probe", "objective": 0.99, "component": "api"}]}
    assert parse_settings(base).max_payload_bytes == MAX_PAYLOAD_BYTES == 262_144
    settings = parse_settings({**base, "max_payload_bytes": 4096})
    assert router.for_settings(settings).max_payload_bytes == 4096
    with pytest.raises(ConfigError, match="max_payload_bytes: must be between"):
        parse_settings({**base, "max_payload_bytes": 10})
