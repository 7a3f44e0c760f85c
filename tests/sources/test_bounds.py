"""What a flood of odd messages can grow: counter keys of rejections stay a bounded set,
and the reasons of bad capture lines name the field, never the value
(docs/interfaces.md#rejection-reasons)."""

from __future__ import annotations

from slastream.sources import router
from slastream.sources.capture import BadLine, parse_line
from slastream.sources.decoder import capture_batches


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
