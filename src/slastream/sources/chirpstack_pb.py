"""ChirpStack's Protobuf marshaler, turned into the shapes of its JSON marshaler.

The ChirpStack MQTT Forwarder and Gateway Bridge publish gateway events in Protobuf by
default (``marshaler = "protobuf"``); the integration can be configured for it too. The
messages are parsed with the official definitions (the ``chirpstack-api`` package,
``gw.proto`` and ``integration.proto``) and handed to the JSON decoders in the shape the
JSON marshaler would have written (the Protobuf JSON mapping: camelCase names, enums by
name, bytes in base64, zero values omitted), so both marshalers share one decoder and give
the same events by construction.

A gateway uplink frame is the hot case (one per gateway copy of every uplink): only the two
fields its decoder reads are converted (``phyPayload`` and ``rxInfo.crcStatus``), which is
about 20 times cheaper than the generic mapping. Everything else goes through
``google.protobuf.json_format.MessageToDict``.

Which marshaler a message uses is decided per message: a JSON payload arrives as a parsed
JSON value, anything that is not JSON as bytes (see ``sources/capture.py``).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any

from chirpstack_api.gw import gw_pb2
from chirpstack_api.integration import integration_pb2
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from slastream.errors import Rejected

_b2a = binascii.b2a_base64
_CRC_NAMES = {v.number: v.name for v in gw_pb2.CRCStatus.DESCRIPTOR.values}


def _parse(cls: type[Message], data: bytes, what: str) -> Any:
    try:
        return cls.FromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise Rejected(f"not JSON, and not a Protobuf {what}") from None


def _generic(cls: type[Message], what: str) -> Callable[[bytes], dict[str, Any]]:
    def to_json(data: bytes) -> dict[str, Any]:
        return _mapped(_parse(cls, data, what), what)

    to_json.__doc__ = f"A {what} in the JSON marshaler's shape."
    return to_json


def _mapped(msg: Message, what: str) -> dict[str, Any]:
    """The JSON mapping of a parsed message; one whose values the mapping refuses (a
    timestamp out of range, say) is rejected like an unparsable one."""
    try:
        out: dict[str, Any] = json_format.MessageToDict(msg)
    except (json_format.Error, ValueError) as exc:
        raise Rejected(f"{what} with a field out of range: {exc}"[:200]) from None
    return out


def uplink_frame(data: bytes) -> dict[str, Any]:
    """A ``gw.UplinkFrame``: the fields the gateway decoder reads, in the JSON shape."""
    msg = _parse(gw_pb2.UplinkFrame, data, "gw.UplinkFrame")
    out: dict[str, Any] = {}
    phy = msg.phy_payload
    if phy:
        out["phyPayload"] = _b2a(phy, newline=False).decode("ascii")
    if msg.HasField("rx_info"):
        crc = msg.rx_info.crc_status
        rx: dict[str, Any] = {"gatewayId": msg.rx_info.gateway_id}
        if crc:  # the enum default (NO_CRC) is omitted, like the JSON mapping does
            rx["crcStatus"] = _CRC_NAMES.get(crc, str(crc))
        out["rxInfo"] = rx
    elif msg.HasField("rx_info_legacy"):
        out["rxInfo"] = _mapped(msg.rx_info_legacy, "gw.UplinkFrame")
    return out


downlink_frame = _generic(gw_pb2.DownlinkFrame, "gw.DownlinkFrame")
downlink_tx_ack = _generic(gw_pb2.DownlinkTxAck, "gw.DownlinkTxAck")

# integration.proto events, by the last topic level of application/+/device/+/event/+
INTEGRATION: dict[str, Callable[[bytes], dict[str, Any]]] = {
    "up": _generic(integration_pb2.UplinkEvent, "integration.UplinkEvent"),
    "join": _generic(integration_pb2.JoinEvent, "integration.JoinEvent"),
    "ack": _generic(integration_pb2.AckEvent, "integration.AckEvent"),
    "txack": _generic(integration_pb2.TxAckEvent, "integration.TxAckEvent"),
    "log": _generic(integration_pb2.LogEvent, "integration.LogEvent"),
}
