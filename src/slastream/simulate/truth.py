"""What a generated run contains by construction, counted where the generator decides it.

These numbers are tallied from the generator's own choices (which uplink it dropped, which
ack it made TOO_LATE), never by decoding the messages it wrote, so a test can hold the
engine's ledger against them without checking the engine against itself.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutageWindow:
    """A scheduled outage as absolute epoch milliseconds; ``scope`` is a component or ""."""

    kind: str  # "delivery" | "downlink" | "probe" | "slow" | "maintenance"
    scope: str
    start_ms: int
    end_ms: int

    @property
    def minutes(self) -> float:
        return (self.end_ms - self.start_ms) / 60_000


@dataclass
class GroundTruth:
    """Counts and windows implied by a generated run (filled in while it is generated).

    LoRaWAN counts are of *logical* uplinks of our network (one per DevAddr, FCnt, MIC),
    never of gateway copies; ``*_by_minute`` maps an epoch minute (of the first gateway
    copy's receive time) to a count.
    """

    start_ms: int = 0
    end_ms: int = 0
    messages: int = 0
    # NS ingress (gateway side)
    uplinks_received: int = 0  # unique valid data uplinks of ours heard by >= 1 gateway
    gateway_copies: int = 0  # gateway event/up messages carrying our data uplinks
    retransmissions: int = 0  # confirmed uplinks sent again with the same FCnt
    late_copies: int = 0  # copies after the NS dedup window (a log event, not a second up)
    foreign_frames: int = 0  # frames of other networks heard by our gateways
    foreign_copies: int = 0  # their gateway event/up messages
    join_requests: int = 0
    rejoins: int = 0
    mac_only_uplinks: int = 0
    fcnt_wrapped_devices: int = 0  # devices whose 16-bit FCnt wrapped during the run
    max_fcnt: int = 0
    # application side
    uplinks_delivered: int = 0  # unique logical uplinks that reached the application
    uplinks_dropped_in_outage: int = 0
    uplinks_received_by_minute: Counter[int] = field(default_factory=Counter)
    uplinks_delivered_by_minute: Counter[int] = field(default_factory=Counter)
    # Class-A downlinks (join-accepts excluded: RX at 5/6 s, not an RX2 attempt)
    downlinks: int = 0
    downlinks_reached: int = 0  # some item (RX1 or RX2) acknowledged OK by the gateway
    downlinks_rx2: int = 0  # RX1 failed, RX2 OK
    downlinks_failed: int = 0  # every item rejected, and the gateway said so
    downlinks_unacked: int = 0  # rejected on a Basic Station gateway: no ack at all
    downlinks_by_minute: Counter[int] = field(default_factory=Counter)
    downlinks_reached_by_minute: Counter[int] = field(default_factory=Counter)
    join_accepts: int = 0
    # services
    probes: Counter[str] = field(default_factory=Counter)  # per component
    probes_ok: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    request_duration_ms_sum: dict[str, float] = field(default_factory=dict)
    outages: list[OutageWindow] = field(default_factory=list)

    @property
    def delivery_ratio(self) -> float:
        return self.uplinks_delivered / self.uplinks_received if self.uplinks_received else 1.0

    @property
    def rx2_reach_ratio(self) -> float:
        return self.downlinks_reached / self.downlinks if self.downlinks else 1.0

    def probe_ratio(self, component: str) -> float:
        n = self.probes[component]
        return self.probes_ok[component] / n if n else 1.0

    def mean_response_ms(self, component: str) -> float:
        n = self.requests[component]
        return self.request_duration_ms_sum.get(component, 0.0) / n if n else 0.0

    def windows(self, kind: str, scope: str | None = None) -> list[OutageWindow]:
        return [w for w in self.outages
                if w.kind == kind and (scope is None or w.scope == scope)]

    def summary(self) -> dict[str, Any]:
        """The headline numbers as plain JSON-able values."""
        return {
            "start_ms": self.start_ms, "end_ms": self.end_ms, "messages": self.messages,
            "uplinks_received": self.uplinks_received,
            "uplinks_delivered": self.uplinks_delivered,
            "delivery_ratio": round(self.delivery_ratio, 6),
            "gateway_copies": self.gateway_copies, "foreign_frames": self.foreign_frames,
            "retransmissions": self.retransmissions, "rejoins": self.rejoins,
            "fcnt_wrapped_devices": self.fcnt_wrapped_devices,
            "downlinks": self.downlinks, "downlinks_reached": self.downlinks_reached,
            "downlinks_unacked": self.downlinks_unacked,
            "rx2_reach_ratio": round(self.rx2_reach_ratio, 6),
            "probes": dict(self.probes), "probes_ok": dict(self.probes_ok),
            "requests": dict(self.requests),
            "mean_response_ms": {c: round(self.mean_response_ms(c), 3) for c in self.requests},
            "outages": [{"kind": w.kind, "scope": w.scope, "start_ms": w.start_ms,
                         "end_ms": w.end_ms, "minutes": w.minutes} for w in self.outages],
        }
