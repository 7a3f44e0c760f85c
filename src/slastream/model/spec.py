"""The spec: what a config file declares, as frozen values (no I/O, no YAML).

``slastream.config`` builds these from a YAML file and validates them; everything after the
entry point (``sli/``, ``slo/``, ``export/``, ``stream/``) reads only these types.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from typing import Literal

from slastream.model.alerting import AlertPolicy
from slastream.model.events import Exclusion
from slastream.model.maintenance import Blackout, MaintenanceWindow
from slastream.model.probes import ProberSettings, ProbeSpec
from slastream.model.security import SaslSettings, Secret, TlsSettings
from slastream.model.support import SupportTerms
from slastream.model.usage import UsageTerms
from slastream.model.zendesk import ZendeskSettings

SliKind = Literal["delivery", "rx2", "probe", "response_time"]
NoDataRule = Literal["ignore", "downtime"]
ScopeBy = Literal["network", "region", "tenant", "application"]
Rx2Source = Literal["gateway", "integration"]
MissingAck = Literal["miss", "ignore"]
CreditKind = Literal["none", "tiers", "evrythng"]
CreditBasis = Literal["max_downtime", "total_downtime"]
Combine = Literal["min", "mean"]

SLI_KINDS: tuple[SliKind, ...] = ("delivery", "rx2", "probe", "response_time")
# The subscription of the default topic layouts (sources/topics.py derives it; a test checks
# they agree): ChirpStack gateway topics with and without a region prefix, its integration,
# The Things Stack, and slastream's own topics.
DEFAULT_TOPICS = (
    "+/gateway/+/event/up", "+/gateway/+/event/ack", "+/gateway/+/command/down",
    "gateway/+/event/up", "gateway/+/event/ack", "gateway/+/command/down",
    "application/+/device/+/event/up", "application/+/device/+/event/txack",
    "application/+/device/+/event/ack", "application/+/device/+/event/log",
    "application/+/device/+/event/join",
    "v3/+/devices/+/up", "v3/+/devices/+/join", "v3/+/devices/+/down/queued",
    "v3/+/devices/+/down/sent", "v3/+/devices/+/down/failed", "v3/+/devices/+/down/ack",
    "v3/+/devices/+/down/nack",
    "slastream/#",
)


@dataclass(frozen=True)
class DowntimeRule:
    """When minutes of an SLO count as downtime.

    A minute is *bad* when the SLI over the trailing ``window_s`` is below ``bad_below``
    (ratio SLIs) or above ``bad_above_ms`` (response time) with at least ``min_events``
    events in the window; with fewer events it has *no data*. Bad minutes form an episode
    until a good minute ends it (no-data minutes in between belong to the episode). An
    episode counts as downtime only if it lasts at least ``min_duration_s``.

    ``failing_locations`` (probe SLIs): how many prober locations must fail a minute
    before it is bad (docs/semantics.md#probe-locations); 1 pools every location's results.
    """

    bad_below: float = 1.0
    bad_above_ms: float | None = None
    window_s: int = 60
    min_events: int = 1
    min_duration_s: int = 60
    no_data: NoDataRule = "ignore"
    failing_locations: int = 1

    @property
    def window_min(self) -> int:
        return max(1, self.window_s // 60)

    @property
    def min_duration_min(self) -> int:
        return max(1, -(-self.min_duration_s // 60))


@dataclass(frozen=True)
class Coverage:
    """How much evidence an SLO needs before its month can be reported as met
    (docs/semantics.md#coverage).

    A minute has evidence when the downtime rule can judge it (at least ``min_events``
    events in its trailing window); with ``window_s`` set, also when the trailing
    ``window_s`` holds at least one event. Below ``min_ratio`` of the period's minutes so
    far, an SLO that is not already missed on evidence is ``insufficient_data``.
    """

    min_ratio: float = 0.9
    window_s: int | None = None


@dataclass(frozen=True)
class SLO:
    """One service-level objective: an SLI, its scope, the contract's downtime rule and the
    alerts ``slastream rules`` writes for it."""

    name: str
    sli: SliKind
    objective: float | None
    downtime: DowntimeRule
    alerting: AlertPolicy
    component: str | None = None  # probe / response_time: which component
    description: str = ""
    # delivery
    deadline_s: float = 30.0
    scope_by: ScopeBy = "network"  # delivery (any), rx2 (network, region)
    # rx2
    source: Rx2Source = "gateway"  # "gateway": ChirpStack gateway topics; "integration"
    rx1_delay_s: float = 1.0
    missing_ack: MissingAck = "miss"
    ack_timeout_s: float = 10.0
    # response_time
    target_ms: float | None = None
    block_requests: int = 1000
    coverage: Coverage = field(default_factory=Coverage)

    @property
    def rx2_delay_ms(self) -> int:
        # LoRaWAN: RECEIVE_DELAY2 = RECEIVE_DELAY1 + 1 s (RP002 default settings)
        return round(self.rx1_delay_s * 1000) + 1000


@dataclass(frozen=True)
class CreditTier:
    over_minutes: float
    credit: float


@dataclass(frozen=True)
class Credit:
    kind: CreditKind
    tiers: tuple[CreditTier, ...] = ()
    basis: CreditBasis = "max_downtime"  # tiers
    uptime_slo: str | None = None  # evrythng
    response_slo: str | None = None  # evrythng
    target_uptime: float = 0.999  # evrythng
    claim_within_days: int | None = None  # credits must be claimed within this after the month


@dataclass(frozen=True)
class TenantTerms:
    """What a per-tenant contract changes for one tenant (``None``: the template's)."""

    objective: float | None = None
    credit: Credit | None = None
    monthly_fee: float | None = None
    support: SupportTerms | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Contract:
    name: str
    slos: tuple[str, ...]
    objective: float | None
    combine: Combine
    credit: Credit
    support: SupportTerms | None = None  # reaction and resolution times per severity
    usage: UsageTerms | None = None  # request allowance per device and band
    # A template instantiated per tenant (docs/semantics.md#tenant-contracts): "all" for
    # every tenant seen or known, or the listed tenants; None for one network-wide contract.
    tenants: tuple[str, ...] | Literal["all"] | None = None
    overrides: tuple[tuple[str, TenantTerms], ...] = ()
    monthly_fee: float | None = None  # the credit's amount is credit × fee
    timezone: str | None = None  # the month of an instance; None: the config's
    tenant: str | None = None  # set on an instance of a template


@dataclass(frozen=True)
class ExclusionPolicy:
    """Whether a kind of exclusion excuses downtime, and on which conditions.

    With ``windows``, an exclusion is excused only when it lies wholly inside them; with
    ``blackouts``, only when it touches none of them (docs/semantics.md#maintenance-calendars).
    """

    excused: bool
    notice_s: int = 0
    cap_minutes: float | None = None  # per calendar month; minutes past the cap are downtime
    evidence_required: bool = False
    windows: tuple[MaintenanceWindow, ...] | None = None  # None: at any time
    blackouts: tuple[Blackout, ...] | None = None  # None: no blackouts


OTHER_REGION = "other"  # the scope of the regions lorawan.regions does not list
MAX_PAYLOAD_BYTES = 262_144  # the default of max_payload_bytes (docs/interfaces.md#bounds)


@dataclass(frozen=True)
class LoRaWAN:
    # DevAddr prefixes of our network ("26000000/7"); frames outside are foreign. Empty: all ours.
    devaddr_prefixes: tuple[tuple[int, int], ...] = ()
    count_mac_only: bool = True  # FPort-0 / no-payload uplinks count as valid packets
    # Class B/C devices: shell-style patterns of device ids ("eui-70b3*") or of
    # "{application}/{device}" ("app-streetlights/*"); their downlinks are no RX2 attempts
    class_b_c: tuple[str, ...] = ()
    # The regions of the network (gateway topic prefixes, "region" of canonical uplinks):
    # with scope_by region, any other region is the scope "other". Empty: every region is a
    # scope of its own (docs/interfaces.md#bounds).
    regions: tuple[str, ...] = ()

    def region_scope(self, region: str) -> str:
        """The scope of ``region`` for SLOs scoped by region."""
        if not self.regions or region in self.regions:
            return region
        return OTHER_REGION

    def is_class_b_c(self, device: str, application: str = "") -> bool:
        """Whether a device is declared Class B/C. A pattern with a ``/`` names the
        application too, and matches only when the application is known; a TTS application
        matches with and without its ``@tenant``."""
        if not self.class_b_c:
            return False
        names = [device]
        if application:
            names.append(f"{application}/{device}")
            if "@" in application:
                names.append(f"{application.split('@', 1)[0]}/{device}")
        return any(fnmatch.fnmatchcase(name, pattern)
                   for pattern in self.class_b_c for name in names)

    def is_ours(self, devaddr: int) -> bool:
        if not self.devaddr_prefixes:
            return True
        for prefix, bits in self.devaddr_prefixes:
            if (devaddr >> (32 - bits)) == (prefix >> (32 - bits)):
                return True
        return False


MqttProtocol = Literal["auto", "5", "3.1.1"]
DEFAULT_MAX_PACKET_BYTES = 1 << 20


@dataclass(frozen=True)
class Tenant:
    """A tenant named in the config: the DevAddr blocks its devices' sessions are given
    from, the applications it owns (for sources whose messages name no tenant), and its own
    contract terms (docs/semantics.md#tenants)."""

    id: str
    devaddr_ranges: tuple[tuple[int, int], ...] = ()
    applications: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tenants:
    """The ``tenants`` section: known tenants and the bounds of what is shown per tenant.

    ``metrics_limit``: at most this many tenants get their own label values on /metrics;
    the others are summed into the ``overflow`` bucket. ``gateway_diagnostics``: count the
    uplinks heard and delivered per gateway (``sli/gateways.py``); ``gateways_top`` of them
    per tenant in the API, and metrics only while the gateways are at most
    ``gateway_metrics_limit``.
    ``attribution_ttl_s``: a DevAddr's owner learned from the application side is forgotten
    after this long without a delivery or join of that session.
    """

    known: tuple[Tenant, ...] = ()
    metrics_limit: int = 100
    gateway_diagnostics: bool = False
    gateway_metrics_limit: int = 0
    gateways_top: int = 10
    attribution_ttl_s: int = 30 * 86400

    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.known)


@dataclass(frozen=True)
class MqttSettings:
    url: str = "mqtt://127.0.0.1:1883"
    topics: tuple[str, ...] = DEFAULT_TOPICS
    shared_group: str | None = None
    qos: int = 1
    client_id: str = "slastream-bridge"
    queue_size: int = 100_000
    username: str | None = None  # else the URL's
    password: Secret | None = None  # else the URL's
    tls: TlsSettings | None = None  # also implied by mqtts:// (system CAs)
    # "auto": MQTT 5, and 3.1.1 only when the broker answers "unsupported protocol version"
    protocol: MqttProtocol = "auto"
    max_packet_size: int = DEFAULT_MAX_PACKET_BYTES  # announced to the broker (MQTT 5)


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "slastream"
    partitions: int = 4
    app_id: str = "slastream"
    tls: TlsSettings | None = None
    sasl: SaslSettings | None = None


HttpArea = Literal["api", "status", "metrics"]
HTTP_AREAS: tuple[HttpArea, ...] = ("api", "status", "metrics")


@dataclass(frozen=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 9464
    token: Secret | None = None  # required (Bearer, or Basic password) on ``protect``
    protect: tuple[HttpArea, ...] = ("api",)


@dataclass(frozen=True)
class Settings:
    source: str
    timezone: str
    lateness_s: int
    slos: tuple[SLO, ...]
    contracts: tuple[Contract, ...]
    exclusion_policy: dict[str, ExclusionPolicy]
    exclusions: tuple[Exclusion, ...]  # declared in the file, decoded
    lorawan: LoRaWAN
    mqtt: MqttSettings
    kafka: KafkaSettings
    http: HttpSettings
    # (source, templates) where a network server puts its fields in a topic; empty: defaults
    topic_layouts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    probes: tuple[ProbeSpec, ...] = ()  # synthetic probes run by `slastream probe`
    prober: ProberSettings = field(default_factory=ProberSettings)
    zendesk: ZendeskSettings | None = None  # the receiver of `slastream webhook`
    # a message whose payload is longer is rejected as ``oversize``, never parsed
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    tenants: Tenants = field(default_factory=Tenants)

    def slo(self, name: str) -> SLO:
        for slo in self.slos:
            if slo.name == name:
                return slo
        raise KeyError(name)

    def with_overrides(
        self, mqtt: str | None = None, kafka: str | None = None, http: int | None = None
    ) -> Settings:
        """Command-line overrides (``--mqtt``, ``--kafka``, ``--http``)."""
        s = self
        if mqtt:
            s = replace(s, mqtt=replace(s.mqtt, url=mqtt))
        if kafka:
            s = replace(s, kafka=replace(s.kafka, bootstrap=kafka))
        if http is not None:
            s = replace(s, http=replace(s.http, port=http))
        return s
