"""Engine batches from messages and from decoded events: grouping and input counters."""

from __future__ import annotations

from slastream.model.events import ProbeResult, RequestLog
from slastream.sources.capture import BadLine, Message
from slastream.sources.decoder import group, message_batches

T = 1_790_000_000_000


def probe(t: int, ok: bool = True) -> Message:
    return Message(t, "slastream/probe/api",
                   {"time": "2026-09-21T14:13:20Z", "ok": ok, "status": 200,
                    "latency_ms": 10.0})


def test_group_keeps_input_order_within_a_type_and_first_appearance_across() -> None:
    a, b = ProbeResult(T, "api", True, 200, 1.0), ProbeResult(T + 1, "api", False, 500, 2.0)
    r = RequestLog(T, "api", 120.0, 200, "c")
    batch = group([a, r, b])
    assert list(batch.events) == [ProbeResult, RequestLog]
    assert batch.events[ProbeResult] == [a, b]
    assert (batch.messages, batch.bad_lines, batch.first_time_ms) == (0, 0, None)
    assert not batch.ingest and not batch.rejections


def test_message_batches_close_after_chunk_decoded_messages_and_count_bad_lines() -> None:
    msgs = [BadLine(1, "not JSON"), probe(T + 5), probe(T + 6), BadLine(4, "not JSON"),
            probe(T + 7), Message(T + 8, "slastream/probe/api", {"ok": "maybe"}),
            Message(T + 9, "some/other/topic", {})]
    batches = list(message_batches(msgs, chunk=2))
    assert [b.messages for b in batches] == [2, 2, 1]
    assert [b.bad_lines for b in batches] == [1, 1, 0]
    assert [b.first_time_ms for b in batches] == [T + 5, T + 7, T + 9]
    assert batches[0].ingest == {("capture", "rejected"): 1, ("probe", "ok"): 2}
    assert batches[1].ingest[("probe", "rejected")] == 1
    assert batches[2].ingest == {("unknown", "ignored"): 1}
    assert sum(len(evs) for b in batches for evs in b.events.values()) == 3


def test_the_last_batch_may_be_empty() -> None:
    (batch,) = list(message_batches([]))
    assert batch.messages == 0 and not batch.events and batch.first_time_ms is None


def test_ignored_messages_are_counted_by_source_and_reason_class() -> None:
    app = "application/a/device/0102030405060708/event"
    msgs = [Message(T, "some/other/topic", {}),
            Message(T + 1, f"{app}/join", {}),
            Message(T + 2, f"{app}/log", {"code": "UPLINK_CODEC", "level": "ERROR"}),
            Message(T + 3, f"{app}/log", {"code": "OTAA"}),
            Message(T + 4, f"{app}/log", {"code": "anything a sender makes up"}),
            probe(T + 5)]
    (batch,) = message_batches(msgs)
    assert batch.ignored == {("unknown", "topic not understood"): 1,
                             ("chirpstack", "session change"): 1, ("chirpstack", "log"): 3}
    assert batch.ingest[("chirpstack", "ignored")] == 4
    assert not batch.rejections


def test_a_reason_class_drops_what_the_message_said() -> None:
    from slastream.sources.router import ignored_class

    assert ignored_class("downlink failed: some error name") == "downlink failed"
    assert ignored_class("log DOWNLINK_GATEWAY WARNING") == "log"
    assert ignored_class("not a Class-A downlink") == "not a Class-A downlink"
    assert ignored_class("x" * 500) == "x" * 60
