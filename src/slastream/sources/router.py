"""Route a message to its decoder by topic, and turn every failure into a counted outcome."""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from typing import Any

from slastream.errors import Rejected
from slastream.model.events import Event, UplinkDelivered
from slastream.model.spec import MAX_PAYLOAD_BYTES, Settings
from slastream.sources import canonical, chirpstack, chirpstack_gateway, tickets, tts
from slastream.sources.topics import Layouts

Decoder = Callable[[list[str], Any, int, list[Event]], str | None]

OK = "ok"
IGNORED = "ignored"
REJECTED = "rejected"
OVERSIZE = "oversize"  # the reason of a payload over the limit (docs/interfaces.md#bounds)

_GATEWAY: dict[tuple[str, str], Decoder] = {
    ("event", "up"): chirpstack_gateway.decode_up,
    ("event", "ack"): chirpstack_gateway.decode_ack,
    ("command", "down"): chirpstack_gateway.decode_down,
}
_CS_EVENTS: dict[str, Decoder] = {
    "up": chirpstack.decode_up,
    "txack": chirpstack.decode_txack,
    "ack": chirpstack.decode_ack,
    "log": chirpstack.decode_log,
    "join": chirpstack.decode_join,
}
_TTS: dict[str, Decoder] = {
    "up": tts.decode_up,
    "join": tts.decode_join,
    "down/queued": tts.decode_down,
    "down/sent": tts.decode_down,
    "down/failed": tts.decode_down,
    "down/ack": tts.decode_down,
    "down/nack": tts.decode_down,
}
# ChirpStack's Protobuf marshaler: a payload that is not JSON (bytes) is parsed with the
# official definitions into the JSON marshaler's shape before its decoder runs. Imported on
# the first binary payload: JSON-only deployments do not pay for the Protobuf runtime.
_PROTOBUF: dict[Decoder, Callable[[bytes], dict[str, Any]]] = {}


def _protobuf(decoder: Decoder) -> Callable[[bytes], dict[str, Any]] | None:
    if not _PROTOBUF:
        from slastream.sources import chirpstack_pb

        _PROTOBUF.update({
            chirpstack_gateway.decode_up: chirpstack_pb.uplink_frame,
            chirpstack_gateway.decode_down: chirpstack_pb.downlink_frame,
            chirpstack_gateway.decode_ack: chirpstack_pb.downlink_tx_ack,
            **{_CS_EVENTS[name]: to_json for name, to_json in chirpstack_pb.INTEGRATION.items()},
        })
    return _PROTOBUF.get(decoder)


_CANONICAL: dict[str, Decoder] = {
    "probe": canonical.decode_probe,
    "request": canonical.decode_request,
    "exclusion": canonical.decode_exclusion,
    "uplink/received": canonical.decode_uplink_received,
    "uplink/delivered": canonical.decode_uplink_delivered,
    "downlink": canonical.decode_downlink,
    "bridge/outage": canonical.decode_bridge_outage,
    "ticket": tickets.decode_ticket,
}


def find_decoder(parts: list[str]) -> tuple[Decoder | None, str]:
    """The decoder for a topic and the ``source`` label used in metrics."""
    n = len(parts)
    if n == 5 and parts[1] == "gateway":
        return _GATEWAY.get((parts[3], parts[4])), "chirpstack_gateway"
    if n == 6 and parts[0] == "application" and parts[2] == "device" and parts[4] == "event":
        return _CS_EVENTS.get(parts[5]), "chirpstack"
    if n >= 5 and parts[0] == "v3" and parts[2] == "devices":
        return _TTS.get("/".join(parts[4:])), "tts"
    if n >= 2 and parts[0] == "slastream":
        if parts[1] in ("probe", "request"):
            return (_CANONICAL[parts[1]] if n == 3 and parts[2] else None), parts[1]
        return _CANONICAL.get("/".join(parts[1:])), "canonical"
    return None, "unknown"


CACHE_MAX = 200_000  # topics repeat per gateway and device; caches stay bounded


class Router:
    """Topics to decoders under one set of topic layouts (``sources/topics.py``).

    A network-server topic is rewritten into its canonical levels by the first layout it
    matches; ``slastream/...`` topics are canonical already. Results are cached per topic.

    A payload longer than ``max_payload_bytes`` is rejected as :data:`OVERSIZE` and never
    parsed: the bridge hands such a payload over as bytes, unparsed (and records it so), and
    a capture line longer than ``max_line_bytes`` is rejected before it is parsed
    (docs/interfaces.md#bounds).
    """

    def __init__(self, layouts: Layouts | None = None,
                 max_payload_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.layouts = layouts or Layouts.from_config()
        self.max_payload_bytes = max_payload_bytes
        # a capture line holds the payload as JSON (re-written by the bridge, at most about
        # four times as long as received) or in base64 (a third longer), and an envelope
        self.max_line_bytes = 4 * max_payload_bytes + 4096
        self._cache: dict[str, tuple[Decoder | None, str, list[str]]] = {}
        self.fast_cache: dict[str, Any] = {}  # the replay fast path's own classification
        self.sessions = Sessions()

    def resolve(self, topic: str) -> tuple[Decoder | None, str, list[str]]:
        """The decoder of ``topic`` (``None``: not understood), its source label and the
        canonical topic levels the decoder reads."""
        hit = self._cache.get(topic)
        if hit is None:
            parts = self.layouts.canonical(topic)
            if parts is None:
                parts = topic.split("/")
                found, src = find_decoder(parts) if parts[0] == "slastream" else (None, "unknown")
            else:
                found, src = find_decoder(parts)
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            hit = self._cache[topic] = (found, src, parts)
        return hit

    def decode(self, topic: str, payload: Any, received_ms: int,
               out: list[Event]) -> tuple[str, str, str]:
        """Decode one message into ``out``. Returns ``(source, outcome, reason)``.

        Never raises: a malformed message is a value (``rejected`` with a reason), not an
        exception that stops a loop.
        """
        # run once per message: the cache hit inline, one call fewer than resolve()
        hit = self._cache.get(topic)
        decoder, source, parts = hit if hit is not None else self.resolve(topic)
        if type(payload) is bytes and len(payload) > self.max_payload_bytes:
            return source, REJECTED, OVERSIZE
        if decoder is None:
            return source, IGNORED, "topic not understood"
        mark = len(out)
        try:
            if type(payload) is bytes:
                to_json = _protobuf(decoder)
                if to_json is not None:
                    payload = to_json(payload)
            reason = decoder(parts, payload, received_ms, out)
        except Rejected as exc:
            del out[mark:]
            return source, REJECTED, exc.reason
        except (KeyError, TypeError, ValueError, AttributeError, IndexError,
                binascii.Error) as exc:
            del out[mark:]
            return source, REJECTED, f"malformed {type(exc).__name__}: {exc}"[:200]
        if reason is not None:
            return source, IGNORED, reason
        if source == "tts":
            self.sessions.complete(out, mark)
        return source, OK, ""

class Sessions:
    """The DevAddr of each The Things Stack device's current session, for its deliveries
    that do not say it (an ``up`` may lack ``end_device_ids.dev_addr``).

    Learned from the device's deliveries that say it, at decode time, so the events that
    reach the delivery SLI all carry a DevAddr and its join with the gateway side stays a
    key lookup (docs/semantics.md#the-things-stack). A new DevAddr is a new session (a
    join); within a session FCntUp only grows (LoRaWAN 1.0.x §4.3.1.5), so a delivery below
    the session's first FCnt is from an earlier session and is not guessed. Bounded: past
    ``limit`` devices the oldest entry goes.
    """

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self._known: dict[tuple[str, str], tuple[int, int]] = {}  # -> (DevAddr, first FCnt)

    def complete(self, out: list[Event], start: int) -> None:
        """Learn from, or fill in, the deliveries ``out[start:]``."""
        for i in range(start, len(out)):
            ev = out[i]
            if type(ev) is not UplinkDelivered:
                continue
            key = (ev.application, ev.device)
            known = self._known.get(key)
            if ev.devaddr >= 0:
                if known is None or known[0] != ev.devaddr:
                    if len(self._known) >= self.limit:
                        del self._known[next(iter(self._known))]
                    self._known[key] = (ev.devaddr, ev.fcnt)
                elif ev.fcnt < known[1]:
                    self._known[key] = (known[0], ev.fcnt)
            elif known is not None and ev.fcnt >= known[1]:
                out[i] = ev._replace(devaddr=known[0])


def ignored_class(reason: str) -> str:
    """The class of an ignored message's reason: a label value of a bounded set.

    Decoders return fixed texts, except that what follows a ``:`` names a value of the
    message (``downlink failed: <error name>``), and that ChirpStack log events are ignored
    as ``log <code> [<level>]`` with the event's own code; both are cut off here.
    """
    head = reason.split(":", 1)[0]
    return "log" if head.startswith("log ") else head[:60]


_ITEM = re.compile(r"item \d+: ")
_INDEX = re.compile(r"\[\d+\]")
_DETAIL = re.compile(r" \([^)]*\)")


def rejection_class(source: str, reason: str) -> str:
    """The counter key of a rejected message: ``"source: class"``, a bounded set.

    A rejection reason may name what the message held: a value after a ``:``, a batch
    element (``item 3: missing time``), an item index (``items[2] without txInfo``) or
    sizes in parentheses. The class keeps the fixed text only (``probe: missing time``,
    ``chirpstack_gateway: items[i] without txInfo``), so a flood of odd messages cannot
    grow the counters; the dead letter keeps the whole reason.
    """
    if reason.startswith("item "):
        reason = _ITEM.sub("", reason, count=1)
    head = _DETAIL.sub("", _INDEX.sub("[i]", reason.split(":", 1)[0]))
    return f"{source}: {head[:120]}"


DEFAULT = Router()
decode = DEFAULT.decode  # the default layouts, for callers without a config


def for_settings(settings: Settings) -> Router:
    """A router of a config's topic layouts, with its own sessions (a replay or a bridge
    starts with none, so its result does not depend on what ran before in the process)."""
    return Router(Layouts.from_config(dict(settings.topic_layouts)),
                  settings.max_payload_bytes)
