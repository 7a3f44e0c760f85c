"""The bridge's decode step: raw MQTT messages → canonical events, counters, dead letters.

A received message and the bridge's own outage line go through the same ``Decoder``, and
with ``--record`` each is written to the capture as it was received, so a replay of the
capture decodes exactly what the live bridge decoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from typing import cast

import orjson

from slastream.ingest import fastdecode
from slastream.ingest.connection import Segment
from slastream.ingest.recorder import CaptureRecorder
from slastream.model.events import Event, ProbeResult, UplinkDelivered, UplinkReceived
from slastream.sources import router
from slastream.sources.capture import Message
from slastream.transport import codec


class Decoder:
    """Decodes chunks of segments; counts messages by ``(source, outcome)``.

    ``fast`` (the default) lets plain probes take ``fastdecode.py``'s path; the outcome is
    the same either way, message by message (tests/ingest/test_fastdecode.py).

    A malformed message is not an error: it becomes a dead letter (its reason and raw
    bytes, for ``{prefix}.deadletter``) and is counted as rejected.
    """

    def __init__(self, rt: router.Router = router.DEFAULT, fast: bool = True) -> None:
        self.router = rt
        self.fast = fast  # False: every message through router.decode (the reference)
        self.totals: dict[tuple[str, str], int] = {}
        self.ignored: dict[tuple[str, str], int] = {}  # (source, reason class) -> messages
        self.received = 0
        self.deadlettered = 0
        self._fast = fastdecode.FastTopics(rt)

    def decode(self, segments: list[Segment], events: list[Event],
               recorder: CaptureRecorder | None) -> list[tuple[str, bytes]]:
        """Decode ``segments`` into ``events``; returns dead letters ``(key, value)``.

        Plain probes, and plain ChirpStack uplinks where the C extension is built, take the
        fast path (``fastdecode.py``: a segment's payloads read in C, else, without the
        extension, a segment of nothing but probes at once, else message by message), which
        gives the events ``router.decode`` would give; anything else, and every message the
        fast path does not take, goes through ``router.decode``.
        """
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        decode, rejected, ignored = self.router.decode, router.REJECTED, router.IGNORED
        component_of, fast = self._fast.component, self.fast
        not_exact = self._fast.not_exact
        # with a capture to write, the payload is needed parsed: tier 2 only
        from_bytes = fastdecode.probe_from_bytes if recorder is None else None
        from_json = fastdecode.probe_from_json
        append = events.append
        ignored_totals = self.ignored
        totals = self.totals
        fast_ok = 0  # messages the fast path took, counted as (probe, ok)
        probe_ok = (fastdecode.PROBE_SOURCE, router.OK)
        made_ok = {UplinkReceived: (fastdecode.UPLINK_SOURCE, router.OK),
                   UplinkDelivered: (fastdecode.DELIVERY_SOURCE, router.OK)}
        dead: list[tuple[str, bytes]] = []
        received = 0
        limit = self.router.max_payload_bytes
        # a whole segment of plain probes at once (tier 0); with a capture to write, the
        # messages are needed one by one, parsed
        whole = fast and recorder is None
        for segment in segments:
            received_ms = segment.received_ms
            received += len(segment.topics)
            made: Iterable[Event | None] = repeat(None)  # tier C's events, by message
            if whole and segment.topics:
                infos = self._fast.infos(segment.topics)
                native = fastdecode.native_events(segment.payloads, infos, limit, received_ms)
                if native is not None:
                    made, probes, _others = native
                    if probes == len(segment.topics):
                        if not fast_ok:
                            totals.setdefault(probe_ok, 0)
                        events.extend(cast("list[Event]", made))
                        fast_ok += probes
                        continue
                else:  # without the extension: probes only, tier 0
                    components = self._fast.components(segment.topics)
                    if None not in components and max(map(len, segment.payloads)) <= limit:
                        batch = fastdecode.probes(segment.payloads,
                                                  cast("list[str]", components))
                        if batch is not None:
                            if not fast_ok:
                                totals.setdefault(probe_ok, 0)
                            events.extend(batch)
                            fast_ok += len(batch)
                            continue
            # made: as long as the segment, or repeat(None)
            for topic, raw, made_event in zip(segment.topics, segment.payloads, made,
                                              strict=False):
                if made_event is not None:
                    if type(made_event) is ProbeResult:
                        if not fast_ok:
                            totals.setdefault(probe_ok, 0)
                        fast_ok += 1
                    else:
                        key = made_ok[type(made_event)]
                        totals[key] = totals.get(key, 0) + 1
                    append(made_event)
                    continue
                if len(raw) <= limit:
                    component = component_of(topic) if fast else None
                    if (component is not None and from_bytes is not None
                            and topic not in not_exact):
                        event = from_bytes(raw, component)
                        if event is None:
                            not_exact.add(topic)
                        else:
                            if not fast_ok:  # the counter keeps its place among the keys
                                totals.setdefault(probe_ok, 0)
                            append(event)
                            fast_ok += 1
                            continue
                    try:
                        payload = loads(raw)
                    except decode_error:
                        payload = raw
                    else:
                        if component is not None and type(payload) is dict:
                            event = from_json(payload, component)
                            if event is not None:
                                if recorder is not None:
                                    recorder.add(Message(received_ms, topic, payload))
                                if not fast_ok:
                                    totals.setdefault(probe_ok, 0)
                                append(event)
                                fast_ok += 1
                                continue
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
        if fast_ok:
            totals[probe_ok] += fast_ok
        self.received += received
        self.deadlettered += len(dead)
        return dead
