"""The simulated network's fixed parts: applications, gateways and devices, drawn from a seed."""

from __future__ import annotations

import base64
import binascii
import random
from dataclasses import dataclass

from slastream.simulate.scenario import Scenario, parse_prefix

_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID string from ``rng`` (``uuid.uuid4`` would not be reproducible)."""
    h = rng.randbytes(16).hex()
    # Version nibble 4 and the RFC 4122 variant (10xx), set on the text: cheaper than ints.
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


@dataclass(frozen=True)
class Application:
    id: str  # ChirpStack: a UUID; The Things Stack: an application ID
    name: str
    tenant_id: str
    tenant_name: str
    profile_id: str


class Gateway:
    """A gateway and the properties that shape its traffic."""

    __slots__ = ("ack_topic", "basic_station", "down_topic", "has_clock", "id", "index",
                 "skew_ms", "tmst_base", "up_topic")

    def __init__(self, index: int, region: str, rng: random.Random) -> None:
        self.index = index
        self.id = f"0016c001f{index:07x}"
        # ChirpStack v4 gateway topics: {region topic_prefix}/gateway/{id}/event|command/...
        base = f"{region}/gateway/{self.id}"
        self.up_topic = f"{base}/event/up"
        self.ack_topic = f"{base}/event/ack"
        self.down_topic = f"{base}/command/down"
        self.has_clock = True
        self.skew_ms = 0
        self.basic_station = False
        # Concentrator counter (µs, 32 bits, wraps every ~71.6 min): random origin per gateway.
        self.tmst_base = rng.getrandbits(32)

    def tmst(self, true_ms: int) -> int:
        """The concentrator counter (µs, uint32) at a true time."""
        return (self.tmst_base + true_ms * 1000) & 0xFFFFFFFF

    def context(self, true_ms: int) -> str:
        """The uplink ``context``: for Semtech UDP, the 4-byte big-endian ``tmst``."""
        tmst = (self.tmst_base + true_ms * 1000) & 0xFFFFFFFF
        return binascii.b2a_base64(tmst.to_bytes(4, "big"), newline=False).decode()


class Device:
    """A Class-A device: identity, current session and counters."""

    __slots__ = ("app", "app_topic", "dev_eui", "dev_eui_hex", "devaddr", "device_info", "fcnt",
                 "fcnt_down", "fport", "index", "join_pending", "key", "nearby", "rejoin_at_ms",
                 "session", "session_key_id", "sf", "tts_ids")

    def __init__(self, index: int, app: Application, devaddr: int, rng: random.Random,
                 app_server: str) -> None:
        self.index = index
        self.app = app
        self.dev_eui = (0x70B3D57ED0000000 | index) & 0xFFFFFFFFFFFFFFFF
        self.dev_eui_hex = f"{self.dev_eui:016x}"
        self.devaddr = devaddr
        self.fcnt = 0
        self.fcnt_down = 0
        self.fport = 1 + index % 20
        self.sf = rng.choice((7, 7, 7, 8, 8, 9, 10, 11, 12))  # ADR keeps most devices fast
        self.key = rng.getrandbits(32)
        self.nearby: list[Gateway] = []
        self.rejoin_at_ms = -1
        self.join_pending = False
        self.session = 0
        self.session_key_id = _session_key_id(rng)
        self.device_info: dict[str, object] = {
            "tenantId": app.tenant_id,
            "tenantName": app.tenant_name,
            "applicationId": app.id,
            "applicationName": app.name,
            "deviceProfileId": app.profile_id,
            "deviceProfileName": "Class A sensor",
            "deviceName": f"sensor-{index:05d}",
            "devEui": self.dev_eui_hex,
            "deviceClassEnabled": "CLASS_A",
            "tags": {},
        }
        if app_server == "tts":
            # The Things Stack: v3/{application id}@{tenant id}/devices/{device id}/...; the
            # device ID is not the DevEUI, and EUIs are upper-case hex.
            device_id = f"eui-{self.dev_eui_hex}"
            self.app_topic = f"v3/{app.name}@{app.tenant_name}/devices/{device_id}/"
            self.tts_ids: dict[str, object] = {
                "device_id": device_id,
                "application_ids": {"application_id": app.name},
                "dev_eui": self.dev_eui_hex.upper(),
                "join_eui": "70B3D57ED0000000",
            }
        else:
            # ChirpStack v4: application/{application UUID}/device/{DevEUI, lower-case}/event/...
            self.app_topic = f"application/{app.id}/device/{self.dev_eui_hex}/event/"
            self.tts_ids = {}


def _session_key_id(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(16)).decode()


def _quota(share: float, n: int) -> int:
    """How many of ``n`` gateways get a trait: the share, rounded, but at least one when the
    share is positive, so that a small network still shows every behaviour."""
    return 0 if share <= 0 else min(n, max(1, round(share * n)))


def _assign_traits(gateways: list[Gateway], scenario: Scenario, rng: random.Random) -> None:
    """Give disjoint sets of gateways Basic Station, no clock, and a skewed clock."""
    n = len(gateways)
    order = rng.sample(gateways, n)
    n_bs = _quota(scenario.basic_station_share, n)
    n_nc = min(n - n_bs, _quota(scenario.no_clock_gateway_share, n))
    n_sk = min(n - n_bs - n_nc, _quota(scenario.skewed_gateway_share, n))
    for gw in order[:n_bs]:
        gw.basic_station = True
    for gw in order[n_bs:n_bs + n_nc]:
        gw.has_clock = False
    for i, gw in enumerate(order[n_bs + n_nc:n_bs + n_nc + n_sk]):
        # Gateway clocks drift (docs/semantics.md#gateway-clocks): one capture shows gwTime 42 s
        # behind nsTime; others within the 30 s ChirpStack still trusts, or beyond it.
        gw.skew_ms = -42_000 if i == 0 else rng.choice((-1, 1)) * rng.randint(2_000, 60_000)


class World:
    """Applications, gateways and devices of a scenario, all drawn from one RNG.

    The simulation that runs the world goes on drawing from the same ``rng``, so building
    the world ahead of time (it is the slow part for a large network) changes nothing.
    A world is mutable state: one simulation uses it, once.
    """

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.scenario = scenario
        self.rng = rng
        self.in_use = False
        self.prefix, self.prefix_bits = parse_prefix(scenario.netid_prefix)
        self._used: set[int] = set()
        tenant = "ttn" if scenario.app_server == "tts" else "slastream-sim"
        self.applications = [
            Application(id=uuid4(rng), name=f"fleet-{i + 1}", tenant_id=uuid4(rng),
                        tenant_name=tenant, profile_id=uuid4(rng))
            for i in range(max(1, scenario.applications))
        ]
        self.gateways = [Gateway(i, scenario.region, rng) for i in range(max(1, scenario.gateways))]
        _assign_traits(self.gateways, scenario, rng)
        self.devices: list[Device] = []
        # Gateways in a shuffled ring; a device hears a run of neighbours on it, a cheap
        # stand-in for geography (and cheaper than sampling per device).
        ring = rng.sample(self.gateways, len(self.gateways))
        reach = min(len(ring), 8)
        for i in range(scenario.devices):
            app = self.applications[i % len(self.applications)]
            dev = Device(i, app, self.new_devaddr(rng), rng, scenario.app_server)
            at = int(rng.random() * len(ring))
            dev.nearby = [ring[(at + j) % len(ring)] for j in range(reach)]
            self.devices.append(dev)

    def new_devaddr(self, rng: random.Random) -> int:
        """A DevAddr inside our NetID prefix, unique in this world."""
        free_bits = 32 - self.prefix_bits
        base = (self.prefix >> free_bits) << free_bits
        while True:
            addr = base | rng.getrandbits(free_bits)
            if addr not in self._used:
                self._used.add(addr)
                return addr

    def foreign_devaddr(self, rng: random.Random) -> int:
        """A DevAddr outside our prefix: a frame of another network heard by our gateways."""
        shift = 32 - self.prefix_bits
        while True:
            addr = rng.getrandbits(32)
            if addr >> shift != self.prefix >> shift:
                return addr

    def is_ours(self, devaddr: int) -> bool:
        shift = 32 - self.prefix_bits
        return devaddr >> shift == self.prefix >> shift
