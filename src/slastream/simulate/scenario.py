"""What the simulator generates: one frozen description of a network, its services and outages.

Every time in a scenario is an offset in seconds from the start of the run, so the same
scenario drives a capture that starts on a fixed date and a live run that starts now.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# EU868 RECEIVE_DELAY1 (RP002 default settings); The Things Stack defaults to 5 s instead.
DEFAULT_RX1_DELAY_S = 1.0
TTS_RX1_DELAY_S = 5.0


@dataclass(frozen=True)
class Window:
    """A span of the run, as offsets in seconds from its start; ``scope`` names a component."""

    start_s: float
    duration_s: float
    scope: str = ""

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def contains(self, offset_ms: int) -> bool:
        """Whether an offset from the start of the run (ms) falls inside ``[start, end)``."""
        return self.start_s * 1000 <= offset_ms < self.end_s * 1000


@dataclass(frozen=True)
class Outages:
    """The scheduled outages of a scenario (all offsets from the start of the run).

    The defaults put every kind of outage inside the first ninety minutes, long enough to
    breach the seed contracts' rules: LORIOT loses availability below 75 % delivery and when
    RX2 cannot be reached "for 10 minutes"; probes and APIs count after 5 minutes.
    """

    # Application side drops ``delivery_drop_ratio`` of the uplinks the network server received.
    delivery: tuple[Window, ...] = (Window(5 * 60, 15 * 60),)
    delivery_drop_ratio: float = 0.9
    # Gateway acks come back TOO_LATE for every item (RX1 and RX2) for this share of downlinks.
    downlink: tuple[Window, ...] = (Window(25 * 60, 15 * 60),)
    downlink_too_late_ratio: float = 0.95
    # Probes of ``scope`` fail (ok false; HTTP 503 or no status at all, as on a timeout).
    probe: tuple[Window, ...] = (Window(10 * 60, 8 * 60, "api"),)
    # Requests of ``scope`` answer slowly (median ``slow_median_ms``, above the 500 ms target).
    slow: tuple[Window, ...] = (Window(30 * 60, 20 * 60, "api"),)
    slow_median_ms: float = 900.0
    # One announced maintenance of ``scope``; its probes fail while it lasts (excused downtime).
    maintenance: Window | None = Window(60 * 60, 30 * 60, "api")
    # LORIOT asks for 7 days' notice, EVRYTHNG and MClimate for 2: announce 8 days ahead.
    maintenance_notice_s: float = 8 * 86400


@dataclass(frozen=True)
class Scenario:
    """A simulated LoRaWAN network (ChirpStack v4 or The Things Stack) plus probed services.

    Shares are probabilities in 0..1 drawn per device, gateway or uplink as named.
    """

    # --- devices and uplinks (Class A)
    devices: int = 200
    uplink_interval_s: float = 60.0
    interval_jitter_ratio: float = 0.1
    applications: int = 3
    netid_prefix: str = "26000000/7"  # DevAddr prefix of NetID 000013; frames outside are foreign
    region: str = "eu868"
    confirmed_share: float = 0.1
    # A confirmed uplink whose ACK did not reach the device is sent again with the same FCnt.
    retransmit_share: float = 0.2
    mac_only_share: float = 0.01  # FPort 0, no payload
    # Devices whose counter wraps 65,535 → 0 on the air during the run, and devices already
    # past it (the application side reports the full 32-bit counter, the PHYPayload 16 bits).
    wrap_device_share: float = 0.05
    high_fcnt_share: float = 0.05
    # Devices that rejoin once during the run: new DevAddr, FCnt back to 0.
    rejoin_device_share: float = 0.02
    # --- gateways
    gateways: int = 12
    # Probability of an uplink being heard by 1, 2, 3, 4 or 5 gateways.
    gateways_heard_weights: tuple[float, ...] = (0.35, 0.3, 0.2, 0.1, 0.05)
    skewed_gateway_share: float = 0.2  # gwTime off by seconds (docs/semantics.md#gateway-clocks)
    no_clock_gateway_share: float = 0.1  # no GNSS, no fake_rx_time: no gwTime at all
    basic_station_share: float = 0.1  # reports TX successes only, never failures
    late_copy_share: float = 0.01  # a copy arrives after ChirpStack's 200 ms dedup window
    # Frames of other networks heard by our gateways, per uplink of ours.
    foreign_frames_per_uplink: float = 0.05
    # --- application side
    app_server: str = "chirpstack"  # "chirpstack" | "tts"
    delivery_loss_ratio: float = 0.0005
    delivery_delay_ms: tuple[int, int] = (200, 400)
    # --- Class-A downlinks
    downlink_share: float = 0.05  # of unconfirmed uplinks; confirmed uplinks always get an ACK
    rx1_delay_s: float = DEFAULT_RX1_DELAY_S
    # --- services
    probe_components: tuple[str, ...] = ("api", "dashboard")
    probe_interval_s: float = 30.0
    request_components: tuple[str, ...] = ("api",)
    requests_per_s: float = 5.0  # per component
    request_batch_s: float = 10.0
    request_median_ms: float = 120.0
    # --- outages
    outages: Outages = field(default_factory=Outages)

    def scaled(self, rate: float) -> Scenario:
        """The same network with ``rate`` times the traffic.

        More devices (and, for request logs, more requests) rather than shorter intervals:
        per-device behaviour stays realistic and probes keep their cadence.
        """
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        return replace(
            self,
            devices=max(1, round(self.devices * rate)),
            gateways=max(1, round(self.gateways * max(1.0, rate) ** 0.5)),
            requests_per_s=self.requests_per_s * rate,
        )

    def messages_per_s(self) -> float:
        """A rough estimate of the message rate, to size the live publishers."""
        weights = self.gateways_heard_weights
        heard = sum((i + 1) * w for i, w in enumerate(weights)) / (sum(weights) or 1.0)
        per_uplink = heard * (1 + self.foreign_frames_per_uplink) + 1 + 3 * self.downlink_share
        uplinks = self.devices / self.uplink_interval_s
        services = len(self.probe_components) / self.probe_interval_s
        services += len(self.request_components) / self.request_batch_s
        return uplinks * per_uplink + services


def lorawan_day() -> Scenario:
    """The benchmark network: 10,000 devices every 10 minutes, about five million messages
    in a day (gateway copies, application events, downlinks, probes and request logs)."""
    return Scenario(devices=10_000, uplink_interval_s=600.0, gateways=400, applications=20,
                    requests_per_s=5.0)


def parse_prefix(text: str) -> tuple[int, int]:
    """``"26000000/7"`` → ``(0x26000000, 7)``; raises ``ValueError``."""
    try:
        addr_s, bits_s = text.split("/")
        addr, bits = int(addr_s, 16), int(bits_s)
    except ValueError:
        raise ValueError(f"DevAddr prefix must look like 26000000/7, got {text!r}") from None
    if not 1 <= bits <= 31 or not 0 <= addr <= 0xFFFFFFFF:
        raise ValueError(f"DevAddr prefix must look like 26000000/7, got {text!r}")
    return addr, bits
