"""The bridge's decode step: raw MQTT messages → canonical events, counters, dead letters.

A received message and the bridge's own outage line go through the same ``Decoder``, and
with ``--record`` each is written to the capture as it was received, so a replay of the
capture decodes exactly what the live bridge decoded.
"""

from __future__ import annotations

import orjson

from slastream.ingest.connection import Segment
from slastream.ingest.recorder import CaptureRecorder
from slastream.model.events import Event
from slastream.sources import router
from slastream.sources.capture import Message
from slastream.transport import codec


class Decoder:
    """Decodes chunks of segments; counts messages by ``(source, outcome)``.

    A malformed message is not an error: it becomes a dead letter (its reason and raw
    bytes, for ``{prefix}.deadletter``) and is counted as rejected.
    """

    def __init__(self, rt: router.Router = router.DEFAULT) -> None:
        self.router = rt
        self.totals: dict[tuple[str, str], int] = {}
        self.ignored: dict[tuple[str, str], int] = {}  # (source, reason class) -> messages
        self.received = 0
        self.deadlettered = 0

    def decode(self, segments: list[Segment], events: list[Event],
               recorder: CaptureRecorder | None) -> list[tuple[str, bytes]]:
        """Decode ``segments`` into ``events``; returns dead letters ``(key, value)``."""
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        decode, rejected, ignored = self.router.decode, router.REJECTED, router.IGNORED
        ignored_totals = self.ignored
        totals = self.totals
        dead: list[tuple[str, bytes]] = []
        received = 0
        limit = self.router.max_payload_bytes
        for segment in segments:
            received_ms = segment.received_ms
            received += len(segment.topics)
            for topic, raw in zip(segment.topics, segment.payloads, strict=True):
                if len(raw) <= limit:
                    try:
                        payload = loads(raw)
                    except decode_error:
                        payload = raw
                else:
                    # oversize: not parsed (the router rejects it), and kept one byte over
                    # the limit, so the capture and the dead letter stay bounded and a
                    # replay still rejects it as oversize (docs/interfaces.md#bounds)
                    payload = raw = raw[:limit + 1]
                if recorder is not None:
                    recorder.add(Message(received_ms, topic, payload))
                source, outcome, reason = decode(topic, payload, received_ms, events)
                key = (source, outcome)
                totals[key] = totals.get(key, 0) + 1
                if outcome == ignored:
                    ig = (source, router.ignored_class(reason))
                    ignored_totals[ig] = ignored_totals.get(ig, 0) + 1
                if outcome is rejected:
                    dead.append((topic, codec.encode_deadletter(
                        topic, received_ms, source, reason, raw)))
        self.received += received
        self.deadlettered += len(dead)
        return dead
