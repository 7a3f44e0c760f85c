"""LoRaWAN PHYPayloads as a network server sees them (LoRaWAN 1.0.x, §4 of the spec).

Data frame:
``MHDR | DevAddr (4, LE) | FCtrl | FCnt (2, LE) | FOpts | [FPort | FRMPayload] | MIC (4)``.
Join-request: ``MHDR | JoinEUI (8, LE) | DevEUI (8, LE) | DevNonce (2, LE) | MIC (4)``.

The MIC is a stand-in (a CRC-32 keyed per device), not AES-CMAC: the simulator holds no
session keys and nothing downstream verifies MICs. It is a function of the frame, so a
retransmission of the same frame carries the same MIC, as it does on the air in 1.0.x.
"""

from __future__ import annotations

import binascii
import struct
import zlib

# MHDR MType values (bits 7..5), LoRaWAN 1.0.x §4.2.1.
JOIN_REQUEST = 0x00
JOIN_ACCEPT = 0x20
UNCONFIRMED_UP = 0x40
UNCONFIRMED_DOWN = 0x60
CONFIRMED_UP = 0x80
CONFIRMED_DOWN = 0xA0

FCTRL_ADR = 0x80
FCTRL_ACK = 0x20

_DATA_HEAD = struct.Struct("<BIBH")  # MHDR, DevAddr, FCtrl, FCnt16
_JOIN_HEAD = struct.Struct("<BQQH")  # MHDR, JoinEUI, DevEUI, DevNonce
_MIC = struct.Struct("<I")
_MASKS = [bytes(b ^ mask for b in range(256)) for mask in range(256)]


def mic(frame: bytes, key: int) -> bytes:
    """The 4-byte MIC stand-in of ``frame`` under a per-device ``key``."""
    return _MIC.pack(zlib.crc32(frame, key & 0xFFFFFFFF))


def data_frame(mtype: int, devaddr: int, fctrl: int, fcnt: int, fport: int | None,
               frm_payload: bytes, key: int) -> bytes:
    """A data frame; ``fcnt`` is truncated to the 16 bits the header carries.

    ``fport`` None means no port and no payload (a MAC-only frame without FOpts).
    """
    head = _DATA_HEAD.pack(mtype, devaddr, fctrl & 0xF0, fcnt & 0xFFFF)
    body = head if fport is None else head + bytes((fport,)) + frm_payload
    return body + mic(body, key)


def join_request(join_eui: int, dev_eui: int, dev_nonce: int, key: int) -> bytes:
    body = _JOIN_HEAD.pack(JOIN_REQUEST, join_eui, dev_eui, dev_nonce & 0xFFFF)
    return body + mic(body, key)


def join_accept(encrypted: bytes) -> bytes:
    """A join-accept: MHDR and the encrypted rest (16 bytes without CFList)."""
    return bytes((JOIN_ACCEPT,)) + encrypted


def encrypt(payload: bytes, key: int) -> bytes:
    """A keyed byte mask standing in for the AES-CTR FRMPayload encryption (§4.3.3).

    The gateway side carries the encrypted bytes, the application side the plaintext, so a
    decoder cannot take one for the other.
    """
    return payload.translate(_MASKS[(key & 0xFF) or 0x5A])


def b64(data: bytes) -> str:
    """Base64 text of bytes, as protobuf JSON renders ``bytes`` fields."""
    return binascii.b2a_base64(data, newline=False).decode()
