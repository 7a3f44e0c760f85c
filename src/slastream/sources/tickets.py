"""``slastream/ticket``: support-desk ticket events (docs/interfaces.md#mqtt-topics).

One ticket event or a JSON array of them (all or nothing). The time is the payload's (the
desk's clock); what a contract makes of the events is ``support/``'s business.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from slastream.errors import Rejected
from slastream.model.events import TICKET_EVENTS, TicketEvent
from slastream.sources._fields import text, timestamp_ms

CHANNELS = frozenset({"phone", "portal", "email"})
_NEEDS_SEVERITY = frozenset({"opened", "severity"})
_KINDS = frozenset(TICKET_EVENTS)


class _Sink(Protocol):
    def append(self, item: TicketEvent, /) -> None: ...

    def extend(self, items: Iterable[TicketEvent], /) -> None: ...


def _optional(obj: dict[str, Any], key: str) -> str:
    return text(obj, key, default="")


def _ticket(obj: dict[str, Any]) -> TicketEvent:
    ident = text(obj, "id")
    contract = text(obj, "contract")
    if not ident or not contract:
        raise Rejected("id and contract must not be empty")
    kind = text(obj, "event")
    if kind not in _KINDS:
        raise Rejected(f"event must be one of {', '.join(TICKET_EVENTS)}")
    severity = _optional(obj, "severity")
    if kind in _NEEDS_SEVERITY and not severity:
        raise Rejected(f"severity is required on {kind}")
    country = _optional(obj, "country")
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise Rejected("country must be an ISO 3166-1 alpha-2 code like DE")
    channel = _optional(obj, "channel")
    if channel and channel not in CHANNELS:
        raise Rejected("channel must be phone, portal, email or null")
    return TicketEvent(
        ident,
        kind,
        timestamp_ms(obj, "time"),
        severity if kind in _NEEDS_SEVERITY else "",
        contract,
        _optional(obj, "region"),
        country.upper(),
        channel,
    )


def decode_ticket(parts: list[str], payload: Any, received_ms: int, out: _Sink) -> str | None:
    """``slastream/ticket``: one ticket event, or a JSON array of them (all or nothing).

    The time is the payload's (the desk's clock). ``severity`` is kept only on ``opened``
    and ``severity`` events, where it is required.
    """
    if type(payload) is dict:
        out.append(_ticket(payload))
        return None
    if type(payload) is not list:
        raise Rejected("payload is not a JSON object or array")
    if not payload:
        return "empty batch"
    events: list[TicketEvent] = []
    for i, element in enumerate(payload):
        if type(element) is not dict:
            raise Rejected(f"item {i}: not a JSON object")
        try:
            events.append(_ticket(element))
        except Rejected as exc:
            raise Rejected(f"item {i}: {exc.reason}") from None
    out.extend(events)
    return None


