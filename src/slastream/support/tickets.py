"""The state of a support ticket as a fold over its events (``model/events.py``).

A ticket's state depends only on the *set* of its events: they are sorted by (time, kind
order, remaining fields) and exact duplicates are dropped before the fold, so any arrival
order, any redelivery and any interleaving of late events give the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

from slastream.model.events import TICKET_EVENTS, TicketEvent

TicketKind = Literal["opened", "severity", "contact", "response", "plan", "resolved", "reopened"]
Channel = Literal["phone", "portal", "email"]

# Kind order at equal times: a ticket is opened before anything happens to it, its severity
# is settled before the reply is judged, and a reopening at the resolution's millisecond
# undoes that resolution.
KIND_ORDER: dict[str, int] = {kind: i for i, kind in enumerate(TICKET_EVENTS)}


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
