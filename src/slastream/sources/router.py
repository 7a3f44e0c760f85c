"""Route a message to its decoder by topic, and turn every failure into a counted outcome."""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any

from slastream.errors import Rejected
from slastream.model.events import Event
from slastream.model.spec import Settings
from slastream.sources import canonical, chirpstack, chirpstack_gateway, tickets, tts
from slastream.sources.topics import Layouts

Decoder = Callable[[list[str], Any, int, list[Event]], str | None]

OK = "ok"
IGNORED = "ignored"
REJECTED = "rejected"

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
    """

    def __init__(self, layouts: Layouts | None = None) -> None:
        self.layouts = layouts or Layouts.from_config()
        self._cache: dict[str, tuple[Decoder | None, str, list[str]]] = {}
        self.fast_cache: dict[str, Any] = {}  # the replay fast path's own classification

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
        decoder, source, parts = self.resolve(topic)
        if decoder is None:
            return source, IGNORED, "topic not understood"
        return _run(decoder, source, parts, payload, received_ms, out)


def _run(decoder: Decoder, source: str, parts: list[str], payload: Any, received_ms: int,
         out: list[Event]) -> tuple[str, str, str]:
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
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, binascii.Error) as exc:
        del out[mark:]
        return source, REJECTED, f"malformed {type(exc).__name__}: {exc}"[:200]
    if reason is not None:
        return source, IGNORED, reason
    return source, OK, ""


DEFAULT = Router()
decode = DEFAULT.decode  # the default layouts, for callers without a config


def for_settings(settings: Settings) -> Router:
    """The router of a config's topic layouts (the default one when it declares none)."""
    if not settings.topic_layouts:
        return DEFAULT
    return Router(Layouts.from_config(dict(settings.topic_layouts)))
