"""Build LoRaWAN PHYPayloads for tests (LoRaWAN 1.0.x §4: MHDR | FHDR | FPort | FRMPayload | MIC).

The MIC is whatever the test passes: decoders never verify it (the keys are the NS's).
"""

from __future__ import annotations

import base64

JOIN_REQUEST = 0
JOIN_ACCEPT = 1
UNCONF_UP = 2
UNCONF_DOWN = 3
CONF_UP = 4
CONF_DOWN = 5
REJOIN = 6
PROPRIETARY = 7

DEFAULT_MIC = bytes.fromhex("a1b2c3d4")


def mhdr(mtype: int, major: int = 0) -> bytes:
    return bytes([(mtype << 5) | major])


def data_frame(
    mtype: int,
    devaddr: int,
    fcnt: int,
    *,
    fctrl: int = 0,
    fopts: bytes = b"",
    fport: int | None = None,
    payload: bytes = b"",
    mic: bytes = DEFAULT_MIC,
    major: int = 0,
) -> bytes:
    """A data frame; FOptsLen in FCtrl is set from ``fopts``. Only the low 16 bits of FCnt go in."""
    fctrl = (fctrl & 0xF0) | len(fopts)
    body = devaddr.to_bytes(4, "little") + bytes([fctrl]) + (fcnt & 0xFFFF).to_bytes(2, "little")
    body += fopts
    if fport is not None:
        body += bytes([fport]) + payload
    return mhdr(mtype, major) + body + mic


def join_request(join_eui: int, dev_eui: int, dev_nonce: int, mic: bytes = DEFAULT_MIC) -> bytes:
    return (
        mhdr(JOIN_REQUEST)
        + join_eui.to_bytes(8, "little")
        + dev_eui.to_bytes(8, "little")
        + dev_nonce.to_bytes(2, "little")
        + mic
    )


def join_accept(encrypted: bytes = bytes(range(12)), mic: bytes = DEFAULT_MIC) -> bytes:
    """MHDR + the encrypted AppNonce/NetID/DevAddr/DLSettings/RxDelay[/CFList] + MIC."""
    return mhdr(JOIN_ACCEPT) + encrypted + mic


def rejoin_request(rejoin_type: int = 0) -> bytes:
    """Rejoin type 0/2: MHDR + type + NetID(3) + DevEUI(8) + RJcount0(2) + MIC = 19 bytes."""
    return mhdr(REJOIN) + bytes([rejoin_type]) + bytes(3) + bytes(range(8)) + bytes(2) + DEFAULT_MIC


def proprietary(body: bytes = b"\x01\x02\x03") -> bytes:
    return mhdr(PROPRIETARY) + body


def b64(frame: bytes) -> str:
    return base64.b64encode(frame).decode()
