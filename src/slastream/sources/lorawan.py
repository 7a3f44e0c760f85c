"""LoRaWAN PHYPayload parsing: just enough of the frame header to identify an uplink.

Layout (LoRaWAN 1.0.x / 1.1 specification, §4 "MAC message formats"):

    PHYPayload = MHDR(1) | MACPayload | MIC(4)
    MHDR       = MType (bits 7..5) | RFU (bits 4..2) | Major (bits 1..0)
    MACPayload = FHDR | [FPort(1) | FRMPayload]           (data frames)
    FHDR       = DevAddr(4, little-endian) | FCtrl(1) | FCnt(2, little-endian) | FOpts(0..15)

so a data frame without FOpts and FPort is 1 + 4 + 1 + 2 + 4 = 12 bytes. The 16 bits of FCnt
are all the frame carries; the network server reconstructs the 32-bit counter.

Nothing here decrypts or checks the MIC: the keys live in the network server. The module is
pure and the functions used per message (``b64_bytes``, ``DATA_HEADER``) are cheap.
"""

from __future__ import annotations

import binascii
import struct
from typing import NamedTuple

from slastream.errors import Rejected

# MType values (LoRaWAN 1.1 §4.2.1, table "MAC message types"; 110 was RFU before 1.1).
JOIN_REQUEST = 0
JOIN_ACCEPT = 1
UNCONFIRMED_DATA_UP = 2
UNCONFIRMED_DATA_DOWN = 3
CONFIRMED_DATA_UP = 4
CONFIRMED_DATA_DOWN = 5
REJOIN_REQUEST = 6
PROPRIETARY = 7

MTYPE_NAMES = (
    "JoinRequest",
    "JoinAccept",
    "UnconfirmedDataUp",
    "UnconfirmedDataDown",
    "ConfirmedDataUp",
    "ConfirmedDataDown",
    "RejoinRequest",
    "Proprietary",
)

# Major 0 is "LoRaWAN R1", the only major version defined (LoRaWAN 1.1 §4.2.2).
MAJOR_LORAWAN_R1 = 0

MIN_DATA_FRAME_BYTES = 12  # MHDR + DevAddr + FCtrl + FCnt + MIC
# Join-accept: MHDR + 12 (or 28 with CFList) encrypted bytes + MIC (LoRaWAN 1.0.x §6.2.5).
MIN_JOIN_ACCEPT_BYTES = 17
MIC_BYTES = 4

# MHDR, DevAddr (LE uint32), FCtrl, FCnt (LE uint16): the first 8 bytes of a data frame.
DATA_HEADER = struct.Struct("<BIBH")


class Frame(NamedTuple):
    """The header fields of a PHYPayload (for tools and tests; the hot path unpacks inline)."""

    mtype: int
    major: int
    devaddr: int  # -1 when the frame is not a data frame
    fctrl: int  # -1 when the frame is not a data frame
    fcnt16: int  # -1 when the frame is not a data frame
    fopts_len: int  # 0 when the frame is not a data frame
    fport: int  # -1 when absent (no FRMPayload, or not a data frame)
    mic: bytes

    @property
    def is_data(self) -> bool:
        """A data frame (MType 010..101), the only kind with DevAddr and FCnt in clear."""
        return UNCONFIRMED_DATA_UP <= self.mtype <= CONFIRMED_DATA_DOWN

    @property
    def is_uplink(self) -> bool:
        """A data uplink (MType 010 or 100)."""
        return self.mtype in (UNCONFIRMED_DATA_UP, CONFIRMED_DATA_UP)

    @property
    def confirmed(self) -> bool:
        """A confirmed data frame (MType 100 or 101)."""
        return self.mtype in (CONFIRMED_DATA_UP, CONFIRMED_DATA_DOWN)


def b64_bytes(text: object, field: str) -> bytes:
    """Decode a protobuf-JSON ``bytes`` field.

    The protobuf JSON mapping writes standard base64 with padding and accepts standard or
    URL-safe, with or without padding, when reading. The strict standard form is tried first
    (the one ChirpStack writes); the lenient forms only on failure.
    """
    if type(text) is not str:
        raise Rejected(f"{field} must be a base64 string")
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    alt = text.replace("-", "+").replace("_", "/").rstrip("=")
    alt += "=" * (-len(alt) % 4)
    try:
        return binascii.a2b_base64(alt, strict_mode=True)
    except (binascii.Error, ValueError):
        raise Rejected(f"{field} is not valid base64") from None


def data_frame_header(phy: bytes, field: str = "phyPayload") -> tuple[int, int, int]:
    """``(MHDR, DevAddr, FCnt16)`` of a data frame, checking the length.

    Raises ``Rejected`` when the frame is shorter than its header, FOpts and MIC.
    """
    if len(phy) < MIN_DATA_FRAME_BYTES:
        raise Rejected(f"{field} too short for a data frame ({len(phy)} bytes, need 12)")
    mhdr, devaddr, fctrl, fcnt = DATA_HEADER.unpack_from(phy)
    # FOptsLen is FCtrl bits 3..0 (LoRaWAN 1.0.x §4.3.1); the options sit before the MIC.
    if len(phy) < MIN_DATA_FRAME_BYTES + (fctrl & 0x0F):
        raise Rejected(f"{field} shorter than its FOpts length")
    return mhdr, devaddr, fcnt


def frame_port(phy: bytes, fctrl: int) -> int:
    """FPort of a data frame whose header and FOpts are known to fit, -1 when it has none.

    FPort is present iff anything follows FOpts before the MIC (LoRaWAN 1.0.x §4.3.2).
    """
    port_at = 8 + (fctrl & 0x0F)
    return phy[port_at] if len(phy) > port_at + MIC_BYTES else -1


def parse_frame(phy: bytes) -> Frame:
    """Parse the header of any PHYPayload. Raises ``Rejected`` on a truncated frame."""
    if not phy:
        raise Rejected("empty PHYPayload")
    mhdr = phy[0]
    mtype = mhdr >> 5
    major = mhdr & 0x03
    if UNCONFIRMED_DATA_UP <= mtype <= CONFIRMED_DATA_DOWN:
        _, devaddr, fcnt = data_frame_header(phy, "PHYPayload")
        fctrl = phy[5]
        fopts_len = fctrl & 0x0F
        fport = frame_port(phy, fctrl)
        return Frame(mtype, major, devaddr, fctrl, fcnt, fopts_len, fport, phy[-MIC_BYTES:])
    if mtype == JOIN_ACCEPT and len(phy) < MIN_JOIN_ACCEPT_BYTES:
        raise Rejected(f"join-accept too short ({len(phy)} bytes, need 17)")
    if mtype == JOIN_REQUEST and len(phy) != 23:
        # MHDR + JoinEUI(8) + DevEUI(8) + DevNonce(2) + MIC(4) (LoRaWAN 1.0.x §6.2.4).
        raise Rejected(f"join-request must be 23 bytes, got {len(phy)}")
    mic = phy[-MIC_BYTES:] if mtype != PROPRIETARY and len(phy) > MIC_BYTES else b""
    return Frame(mtype, major, -1, -1, -1, 0, -1, mic)
