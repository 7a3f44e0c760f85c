"""Canonical events: what every source is normalised into.

Events are ``NamedTuple`` values: cheap to build on the hot path, immutable, and they
serialise as plain JSON arrays (``list(event)``), which is how they travel through Kafka.
Every time is an integer of milliseconds since the Unix epoch (UTC).

Clock rules (docs/semantics.md#clocks): LoRaWAN times are the *bridge's* receive time of a message,
so that server latency is measured on one clock; gateway clocks drift and are not used.
Probe, request and exclusion times come from the payload (the prober's or server's clock).
"""

from __future__ import annotations

from typing import NamedTuple


class UplinkReceived(NamedTuple):
    """One gateway copy of a LoRaWAN data uplink, as received by the network server."""

    time_ms: int
    devaddr: int
    fcnt16: int  # the 16-bit FCnt of the frame header (the PHYPayload carries only 16 bits)
    gateway: str
    region: str
    confirmed: bool
    # FPort of the frame: 0..255; FPORT_NONE when the frame has none (then it has no
    # FRMPayload either, LoRaWAN 1.0.x §4.3.2); FPORT_UNKNOWN when the source does not say
    # (a canonical publisher that leaves it out, a record written before the field existed):
    # such an uplink counts as carrying application data, as every uplink did before.
    fport: int = -2


# The FPort values other than 0..255 (see UplinkReceived.fport).
FPORT_NONE = -1
FPORT_UNKNOWN = -2


class UplinkDelivered(NamedTuple):
    """A data uplink that reached the consuming application (integration side)."""

    time_ms: int
    devaddr: int
    fcnt: int  # full 32-bit counter as reported by the application server
    application: str
    device: str
    # The tenant owning the device (ChirpStack ``deviceInfo.tenantId``, The Things Stack's
    # ``@tenant`` of the application); "" when the source does not say.
    tenant: str = ""


class DeviceJoined(NamedTuple):
    """A device's new session (an OTAA join or rejoin) and the DevAddr it was given.

    What it carries besides the DevAddr is who owns the session: it attributes the
    DevAddr's uplinks to a tenant and an application (docs/semantics.md#tenants).
    """

    time_ms: int
    devaddr: int
    application: str
    device: str
    tenant: str


class DownlinkCommand(NamedTuple):
    """A downlink frame the network server sent to a gateway (ChirpStack ``command/down``)."""

    time_ms: int
    gateway: str
    downlink_id: int
    devaddr: int  # -1 when the frame carries no DevAddr (join-accept)
    delays_ms: tuple[int, ...]  # per item: RX delay in ms, -1 for "immediately" / GPS time
    join_accept: bool


class DownlinkAck(NamedTuple):
    """The gateway's TX acknowledgement of a downlink (ChirpStack ``event/ack``)."""

    time_ms: int
    gateway: str
    downlink_id: int
    statuses: tuple[str, ...]  # per item: OK, TOO_LATE, TOO_EARLY, ..., IGNORED


class DownlinkOutcome(NamedTuple):
    """A resolved Class-A downlink attempt, reported by an application-side integration."""

    time_ms: int
    device: str
    ok: bool
    status: str  # OK, TOO_LATE, ... as the server named it
    window: str  # "rx1", "rx2" or "" when the source does not say
    latency_ms: int  # -1 when unknown


class ProbeResult(NamedTuple):
    """One synthetic-probe check of a component."""

    time_ms: int
    component: str
    ok: bool
    status: int  # -1 when no HTTP status (connect error, timeout)
    latency_ms: float  # NaN when unknown
    # Where the prober ran (docs/semantics.md#probe-locations); "" when the publisher does
    # not say (and for records written before the field existed).
    location: str = ""


class RequestLog(NamedTuple):
    """One served request of a component (from access logs)."""

    time_ms: int
    component: str
    duration_ms: float
    status: int
    client: str
    # Bytes the request moved (its response body, as access logs write it), for the data
    # transfer of request allowances (docs/semantics.md#usage); -1 when the log does not
    # say (and for records written before the field existed).
    bytes: int = -1


EXCLUSION_KINDS = ("maintenance", "emergency", "third_party", "force_majeure", "customer")


class Exclusion(NamedTuple):
    """A declared exclusion window (maintenance, third-party outage, ...)."""

    id: str
    scope: str  # component or SLO name; "*" for everything
    start_ms: int
    end_ms: int
    announced_ms: int  # -1 when not announced
    kind: str
    evidence: str


class BridgeOutage(NamedTuple):
    """A window during which the bridge was not connected to the MQTT broker.

    QoS-0 traffic lost in such a window would look exactly like network-server loss, so
    the delivery SLI leaves uplinks whose fate fell into the window out of its count.
    ``end_ms == OUTAGE_OPEN`` announces an outage still going on (its start only): a live
    partition holds its watermark at the start until the closing event with the same
    start and bridge arrives (docs/semantics.md#bridge-outages).
    """

    start_ms: int
    end_ms: int
    bridge: str

    @property
    def open(self) -> bool:
        return self.end_ms == OUTAGE_OPEN


OUTAGE_OPEN = -1  # BridgeOutage.end_ms of an outage not over yet


TICKET_EVENTS = ("opened", "severity", "contact", "response", "plan", "resolved", "reopened")


class TicketEvent(NamedTuple):
    """One thing that happened to a support ticket. Optional fields are ``""`` when absent."""

    id: str
    event: str  # one of TICKET_EVENTS
    time_ms: int
    severity: str  # the contract's own name; "" except on opened and severity
    contract: str
    region: str
    country: str  # ISO 3166-1 alpha-2, upper case
    channel: str  # phone, portal, email or ""


Event = (
    UplinkReceived
    | UplinkDelivered
    | DeviceJoined
    | DownlinkCommand
    | DownlinkAck
    | DownlinkOutcome
    | ProbeResult
    | RequestLog
    | Exclusion
    | BridgeOutage
    | TicketEvent
)

EVENT_TYPES: dict[str, type[Event]] = {
    "uplink_received": UplinkReceived,
    "uplink_delivered": UplinkDelivered,
    "device_joined": DeviceJoined,
    "downlink_command": DownlinkCommand,
    "downlink_ack": DownlinkAck,
    "downlink_outcome": DownlinkOutcome,
    "probe": ProbeResult,
    "request": RequestLog,
    "exclusion": Exclusion,
    "bridge_outage": BridgeOutage,
    "ticket": TicketEvent,
}
EVENT_NAMES: dict[type[Event], str] = {cls: name for name, cls in EVENT_TYPES.items()}

