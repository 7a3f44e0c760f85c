"""Independent reading of generated traffic for the simulator tests.

PHYPayloads are parsed here with ``struct`` from the LoRaWAN 1.0.x layout, not with the
simulator's own frame code, so a test can catch a frame the simulator builds wrongly.
"""

from __future__ import annotations

import base64
import struct
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from slastream.model.time import parse_rfc3339_ms
from slastream.simulate import Message

START_MS = parse_rfc3339_ms("2026-10-01T00:00:00Z")
OUR_PREFIX, OUR_BITS = 0x26000000, 7


@dataclass(frozen=True)
class Phy:
    mhdr: int
    devaddr: int  # -1 for join frames
    fctrl: int
    fcnt16: int
    fport: int | None
    frm_payload: bytes
    mic: bytes

    @property
    def mtype(self) -> int:
        return self.mhdr >> 5

    @property
    def ours(self) -> bool:
        shift = 32 - OUR_BITS
        return self.devaddr >= 0 and self.devaddr >> shift == OUR_PREFIX >> shift


def parse_phy(b64: str) -> Phy:
    raw = base64.b64decode(b64, validate=True)
    mhdr = raw[0]
    if mhdr >> 5 in (0, 1):  # join-request / join-accept
        return Phy(mhdr, -1, 0, 0, None, raw[1:-4], raw[-4:])
    assert len(raw) >= 12, raw
    devaddr, fctrl, fcnt16 = struct.unpack_from("<IBH", raw, 1)
    fopts_len = fctrl & 0x0F
    rest = raw[8 + fopts_len:-4]
    fport = rest[0] if rest else None
    return Phy(mhdr, devaddr, fctrl, fcnt16, fport, rest[1:], raw[-4:])


@dataclass
class Traffic:
    """The generated messages, sorted by kind."""

    messages: list[Message]

    def __post_init__(self) -> None:
        self.by_kind: dict[str, list[Message]] = defaultdict(list)
        for m in self.messages:
            self.by_kind[kind(m.topic)].append(m)

    def __getitem__(self, name: str) -> list[Message]:
        return self.by_kind.get(name, [])

    def gateway_frames(self) -> list[tuple[Message, Phy]]:
        return [(m, parse_phy(m.payload["phyPayload"])) for m in self["gateway/up"]]


def kind(topic: str) -> str:
    parts = topic.split("/")
    if parts[0] == "slastream":
        return parts[0] + "/" + parts[1]
    if len(parts) == 5 and parts[1] == "gateway":
        return "gateway/" + parts[4]
    if parts[0] == "application":
        return "app/" + parts[5]
    if parts[0] == "v3":
        return "tts/" + "/".join(parts[4:])
    return "other"


def ms_of(text: str) -> int:
    return parse_rfc3339_ms(text)


def up_key(payload: dict[str, Any]) -> tuple[int, int]:
    """(DevAddr, 16-bit FCnt) of a ChirpStack application ``up``."""
    return int(payload["devAddr"], 16), payload["fCnt"] & 0xFFFF
