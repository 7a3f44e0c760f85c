"""Build capture files by hand for tests: real payload shapes, times chosen by the test.

Expected ledger numbers in tests come from how the capture is built (this module only
writes messages), never from the code under test.
"""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson


def ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def phy_uplink(devaddr: int, fcnt16: int, confirmed: bool = False, mic: int = 0x01020304) -> str:
    """A LoRaWAN 1.0 data-uplink PHYPayload (base64): MHDR, DevAddr LE, FCtrl, FCnt LE, FPort,
    one payload byte, MIC."""
    mhdr = 0x80 if confirmed else 0x40
    raw = struct.pack("<BIBHB", mhdr, devaddr, 0x80, fcnt16 & 0xFFFF, 1) + b"\xaa" + struct.pack(
        "<I", mic)
    return base64.b64encode(raw).decode()


def phy_downlink(devaddr: int, fcnt_down: int = 1) -> str:
    raw = struct.pack("<BIBHB", 0x60, devaddr, 0x20, fcnt_down, 1) + b"\xbb" + b"\x00" * 4
    return base64.b64encode(raw).decode()


def phy_join_accept() -> str:
    return base64.b64encode(bytes([0x20]) + b"\x11" * 16).decode()


class Capture:
    """Accumulates capture lines; ``write`` sorts them by receive time (bridge order)."""

    def __init__(self) -> None:
        self.lines: list[tuple[datetime, bytes]] = []

    def raw(self, when: datetime, line: bytes) -> None:
        self.lines.append((when, line))

    def msg(self, when: datetime, topic: str, payload: Any) -> None:
        self.lines.append((when, orjson.dumps(
            {"received_at": ts(when), "topic": topic, "payload": payload})))

    # --- services ------------------------------------------------------------------
    def probe(self, when: datetime, component: str, ok: bool, status: int | None = None,
              latency_ms: float | None = 80.0) -> None:
        self.msg(when, f"slastream/probe/{component}", {
            "time": ts(when), "ok": ok, "status": status if status is not None else (
                200 if ok else 503), "latency_ms": latency_ms})

    def requests(self, when: datetime, component: str, durations_ms: list[float]) -> None:
        self.msg(when, f"slastream/request/{component}", [
            {"time": ts(when), "duration_ms": d, "status": 200, "client": "c1"}
            for d in durations_ms])

    def exclusion(self, when: datetime, ex_id: str, scope: str, start: datetime, end: datetime,
                  announced: datetime | None, kind: str = "maintenance",
                  evidence: str = "") -> None:
        self.msg(when, "slastream/exclusion", {
            "id": ex_id, "scope": scope, "start": ts(start), "end": ts(end),
            "announced_at": ts(announced) if announced else None, "kind": kind,
            "evidence": evidence})

    # --- LoRaWAN, ChirpStack v4 ------------------------------------------------------
    def gw_up(self, when: datetime, gateway: str, devaddr: int, fcnt: int,
              confirmed: bool = False, gw_clock_skew_s: float = 0.0, region: str = "eu868",
              crc: str | None = None) -> None:
        rx: dict[str, Any] = {"gatewayId": gateway, "uplinkId": 1234, "rssi": -80, "snr": 7.5,
                              "gwTime": ts(when + timedelta(seconds=gw_clock_skew_s)),
                              "nsTime": ts(when), "context": "AAAAAA=="}
        if crc:
            rx["crcStatus"] = crc
        self.msg(when, f"{region}/gateway/{gateway}/event/up", {
            "phyPayload": phy_uplink(devaddr, fcnt, confirmed),
            "txInfo": {"frequency": 868100000, "modulation": {"lora": {
                "bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
            "rxInfo": rx})

    def app_up(self, when: datetime, devaddr: int, fcnt: int, dev_eui: str = "0102030405060708",
               app: str = "5f0e2e7a-0000-4000-8000-000000000001", tenant: str = "t") -> None:
        self.msg(when, f"application/{app}/device/{dev_eui}/event/up", {
            "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d", "time": ts(when),
            "deviceInfo": {"tenantId": tenant, "applicationId": app, "devEui": dev_eui,
                           "deviceClassEnabled": "CLASS_A", "tags": {}},
            "devAddr": f"{devaddr:08x}", "adr": True, "dr": 5, "fCnt": fcnt, "fPort": 1,
            "confirmed": False, "data": "qg==", "rxInfo": [], "txInfo": {}})

    def app_join(self, when: datetime, devaddr: int, dev_eui: str, app: str, tenant: str) -> None:
        """ChirpStack ``event/join``: the device's new session and its DevAddr."""
        self.msg(when, f"application/{app}/device/{dev_eui}/event/join", {
            "deduplicationId": "5bd1c0d2-6a57-4e8e-9a83-2f0d0b5b0e61", "time": ts(when),
            "deviceInfo": {"tenantId": tenant, "applicationId": app, "devEui": dev_eui,
                           "deviceClassEnabled": "CLASS_A", "tags": {}},
            "devAddr": f"{devaddr:08x}", "relayRxInfo": None})

    def gw_down(self, when: datetime, gateway: str, downlink_id: int, devaddr: int,
                delays: tuple[str, ...] = ("1s", "2s"), join_accept: bool = False) -> None:
        phy = phy_join_accept() if join_accept else phy_downlink(devaddr)
        items = []
        for d in delays:
            timing: dict[str, Any] = ({"immediately": {}} if d == "immediately"
                                      else {"delay": {"delay": d}})
            items.append({"phyPayload": phy, "txInfo": {"frequency": 869525000, "power": 14,
                                                         "timing": timing}})
        self.msg(when, f"eu868/gateway/{gateway}/command/down", {
            "downlinkId": downlink_id, "gatewayId": gateway, "items": items})

    def gw_ack(self, when: datetime, gateway: str, downlink_id: int,
               statuses: tuple[str, ...]) -> None:
        items = [{} if s == "IGNORED" else {"status": s} for s in statuses]
        self.msg(when, f"eu868/gateway/{gateway}/event/ack", {
            "gatewayId": gateway, "downlinkId": downlink_id, "items": items})

    def write(self, path: Path) -> Path:
        self.lines.sort(key=lambda x: x[0])
        with open(path, "wb") as fh:
            for _, line in self.lines:
                fh.write(line + b"\n")
        return path


def minutes(start: datetime, n: int) -> list[datetime]:
    return [start + timedelta(minutes=i) for i in range(n)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
