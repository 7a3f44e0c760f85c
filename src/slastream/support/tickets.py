"""Ticket events (``slastream/ticket``) and the state of a ticket as a fold over them.

A ticket's state depends only on the *set* of its events: they are sorted by (time, kind
order, remaining fields) and exact duplicates are dropped before the fold, so any arrival
order, any redelivery and any interleaving of late events give the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, NamedTuple, Protocol

from slastream.errors import Rejected
from slastream.sources._fields import text, timestamp_ms

TicketKind = Literal["opened", "severity", "contact", "response", "plan", "resolved", "reopened"]
Channel = Literal["phone", "portal", "email"]

# Kind order at equal times: a ticket is opened before anything happens to it, its severity
# is settled before the reply is judged, and a reopening at the resolution's millisecond
# undoes that resolution.
KIND_ORDER: dict[str, int] = {
    "opened": 0,
    "severity": 1,
    "contact": 2,
    "response": 3,
    "plan": 4,
    "resolved": 5,
    "reopened": 6,
}
CHANNELS = frozenset({"phone", "portal", "email"})
_NEEDS_SEVERITY = frozenset({"opened", "severity"})


class TicketEvent(NamedTuple):
    """One thing that happened to a support ticket. Optional fields are ``""`` when absent."""

    id: str
    event: str  # a TicketKind
    time_ms: int
    severity: str  # the contract's own name; "" except on opened and severity
    contract: str
    region: str
    country: str  # ISO 3166-1 alpha-2, upper case
    channel: str  # phone, portal, email or ""


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
    if kind not in KIND_ORDER:
        raise Rejected(f"event must be one of {', '.join(KIND_ORDER)}")
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


class TicketState(NamedTuple):
    """A ticket as its events say, up to some time.

    ``severities`` is the history: (time, severity) of the opening and of every change
    that changed it. ``pauses`` are the [resolved, reopened) spans; ``resolved_ms`` the
    final resolution (-1 while open). Times are -1 when the event has not happened.
    """

    id: str
    contract: str
    region: str
    country: str
    channel: str
    opened_ms: int
    severities: tuple[tuple[int, str], ...]
    contacts: tuple[int, ...]
    response_ms: int
    plan_ms: int
    resolved_ms: int
    pauses: tuple[tuple[int, int], ...]


def sort_key(e: TicketEvent) -> tuple[int, int, str, str, str, str, str, str]:
    return (e.time_ms, KIND_ORDER.get(e.event, 99), e.severity, e.channel, e.region,
            e.country, e.contract, e.id)


def fold(events: Iterable[TicketEvent], as_of_ms: int | None = None) -> TicketState | None:
    """The state of one ticket from its events (those after ``as_of_ms`` are ignored).

    ``None`` while the ``opened`` event is missing: nothing can be judged before it arrives.
    The first ``opened`` wins; later ones are repeats. A severity change stamped before
    the opening is ignored (the opening's severity is the desk's first word). Region,
    country and channel come from the opening, else from the first event that names them.
    """
    ordered = sorted(
        {e for e in events if as_of_ms is None or e.time_ms <= as_of_ms}, key=sort_key
    )
    opening = next((e for e in ordered if e.event == "opened"), None)
    if opening is None:
        return None
    severities: list[tuple[int, str]] = [(opening.time_ms, opening.severity)]
    contacts: list[int] = []
    response = plan = resolved = -1
    pauses: list[tuple[int, int]] = []
    for e in ordered:
        kind = e.event
        if kind == "severity" and e.time_ms >= opening.time_ms and e.severity != severities[-1][1]:
            severities.append((e.time_ms, e.severity))
        elif kind == "contact":
            contacts.append(e.time_ms)
        elif kind == "response" and response < 0:
            response = e.time_ms
        elif kind == "plan" and plan < 0:
            plan = e.time_ms
        elif kind == "resolved" and resolved < 0:
            resolved = e.time_ms
        elif kind == "reopened" and resolved >= 0:
            pauses.append((resolved, e.time_ms))
            resolved = -1
    return TicketState(
        opening.id,
        opening.contract,
        opening.region or next((e.region for e in ordered if e.region), ""),
        opening.country or next((e.country for e in ordered if e.country), ""),
        opening.channel,
        opening.time_ms,
        tuple(severities),
        tuple(contacts),
        response,
        plan,
        resolved,
        tuple(pauses),
    )


def group(events: Iterable[TicketEvent]) -> dict[tuple[str, str], list[TicketEvent]]:
    """Events by (contract, ticket id)."""
    by_ticket: dict[tuple[str, str], list[TicketEvent]] = {}
    for e in events:
        by_ticket.setdefault((e.contract, e.id), []).append(e)
    return by_ticket
