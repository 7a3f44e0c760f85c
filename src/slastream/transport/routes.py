"""Where events travel: the Kafka stream (and key) of each canonical event type, and the
stream each SLO is computed on.

Everything one SLI must join has to land on one partition of one stream, so the two halves
are one table: each SLI names the event types it joins (``SLI_INPUTS``), and its stream is
the one stream all of them are produced to (``stream_of``). The codec routes events with
``routes``; the worker runs an SLO on the partitions of ``stream_of(slo)``. An uplink copy
is produced to two streams, so each SLI runs on exactly one of them or it would count it
twice. Bridge outages and exclusions travel on the control stream, read by every worker.

One route depends on the config (``router``): where a contract counts the request
allowance of every component, request logs are keyed by client instead of component, so
all requests of one ADI meet on one partition (docs/semantics.md#usage).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, NamedTuple

from slastream.model.events import (
    BridgeOutage,
    DeviceJoined,
    DownlinkAck,
    DownlinkCommand,
    DownlinkOutcome,
    Event,
    Exclusion,
    ProbeResult,
    RequestLog,
    TicketEvent,
    UplinkDelivered,
    UplinkReceived,
)
from slastream.model.spec import SLO, Settings

LORAWAN, GATEWAY, SERVICE, CONTROL, DEADLETTER, BREACHES = (
    "lorawan", "gateway", "service", "control", "deadletter", "breaches")
EVENT_STREAMS = (LORAWAN, GATEWAY, SERVICE, CONTROL)


class Route(NamedTuple):
    """One stream an event type is produced to, and the key of its record there."""

    stream: str
    key: Callable[[Any], str]


# Keys are read by C callables (attrgetter, str.format), not lambdas: the producer maps
# them over a whole chunk's events of a type (transport/grouping.py).
_devaddr: Callable[[Any], str] = "{0.devaddr:08x}".format
_gateway: Callable[[Any], str] = attrgetter("gateway")
_component: Callable[[Any], str] = attrgetter("component")

EVENT_ROUTES: dict[type[Event], tuple[Route, ...]] = {
    # the delivery SLI joins by DevAddr; RX2 links a downlink to one gateway's uplink + ack
    UplinkReceived: (Route(LORAWAN, _devaddr), Route(GATEWAY, _gateway)),
    UplinkDelivered: (Route(LORAWAN, _devaddr),),
    # a session's owner, on the partition of its DevAddr's uplinks (docs/semantics.md#tenants)
    DeviceJoined: (Route(LORAWAN, _devaddr),),
    DownlinkCommand: (Route(GATEWAY, _gateway),),
    DownlinkAck: (Route(GATEWAY, _gateway),),
    DownlinkOutcome: (Route(LORAWAN, attrgetter("device")),),
    ProbeResult: (Route(SERVICE, _component),),
    RequestLog: (Route(SERVICE, _component),),
    Exclusion: (Route(CONTROL, attrgetter("id")),),
    BridgeOutage: (Route(CONTROL, attrgetter("bridge")),),
    # few, and every worker's ledger needs all of a contract's tickets
    TicketEvent: (Route(CONTROL, "{0.contract}/{0.id}".format),),
}

# (SLI kind, RX2 source or "") -> the event types the SLI joins
SLI_INPUTS: dict[tuple[str, str], tuple[type[Event], ...]] = {
    ("delivery", ""): (UplinkReceived, UplinkDelivered, DeviceJoined),
    ("rx2", "gateway"): (UplinkReceived, DownlinkCommand, DownlinkAck),
    ("rx2", "integration"): (DownlinkOutcome,),
    ("probe", ""): (ProbeResult,),
    ("response_time", ""): (RequestLog,),
}


def _common_stream(inputs: tuple[type[Event], ...]) -> str:
    streams = set.intersection(*({r.stream for r in EVENT_ROUTES[cls]} for cls in inputs))
    if len(streams) != 1:
        raise AssertionError(f"events {inputs} do not meet on exactly one stream: {streams}")
    return streams.pop()


SLI_STREAMS: dict[tuple[str, str], str] = {
    kind: _common_stream(inputs) for kind, inputs in SLI_INPUTS.items()}


def sli_kind(slo: SLO) -> tuple[str, str]:
    """The row of ``SLI_INPUTS`` for ``slo``."""
    return (slo.sli, slo.source if slo.sli == "rx2" else "")


def stream_of(slo: SLO) -> str:
    """The stream an SLO is computed on: the one all the events it joins reach."""
    return SLI_STREAMS[sli_kind(slo)]


def slos_for_stream(settings: Settings, stream: str) -> tuple[SLO, ...]:
    """The SLOs computed on ``stream`` (each SLO is on exactly one stream)."""
    return tuple(s for s in settings.slos if stream_of(s) == stream)


def _router(event_routes: tuple[Route, ...]) -> Callable[[Any], list[tuple[str, str]]]:
    if len(event_routes) == 1:
        stream, key = event_routes[0]
        return lambda e: [(stream, key(e))]
    return lambda e: [(stream, key(e)) for stream, key in event_routes]


_ROUTERS = {cls: _router(rs) for cls, rs in EVENT_ROUTES.items()}


def routes(event: Event) -> list[tuple[str, str]]:
    """``(stream, key)`` pairs an event is produced to (an uplink copy goes to two)."""
    route = _ROUTERS.get(type(event))  # one dict lookup: this runs once per event
    if route is None:
        raise TypeError(f"not a canonical event: {event!r}")
    return route(event)


Router = Callable[[Event], list[tuple[str, str]]]


def requests_by_client(settings: Settings) -> bool:
    """Whether request logs travel keyed by client: a contract counts the request allowance
    of every component (usage terms without ``component``), so an ADI calling two
    components must still reach one partition."""
    return any(c.usage is not None and c.usage.component is None for c in settings.contracts)


def _by_client(event: Event) -> list[tuple[str, str]]:
    if type(event) is RequestLog:
        return [(SERVICE, event.client or event.component)]  # no client: by component
    return routes(event)


def router(settings: Settings) -> Router:
    """``routes`` as ``settings`` wants them: request logs keyed by client when
    ``requests_by_client``, else by component like everything on the service stream."""
    return _by_client if requests_by_client(settings) else routes


def _client_or_component(event: Any) -> str:
    return event.client or event.component  # type: ignore[no-any-return]


# The routers above as tables, type by type: what the producer groups a chunk with
_TABLES: dict[Router, dict[type[Event], tuple[Route, ...]]] = {
    routes: EVENT_ROUTES,
    _by_client: {**EVENT_ROUTES, RequestLog: (Route(SERVICE, _client_or_component),)},
}


def table_of(rt: Router) -> dict[type[Event], tuple[Route, ...]] | None:
    """The routes of ``rt`` type by type, when it is one of the routers above."""
    return _TABLES.get(rt)
