"""MQTT control packets, as much of MQTT 5.0 and 3.1.1 as a subscriber needs. Pure, no I/O.

Section numbers (§) refer to the MQTT 5.0 OASIS standard. A 3.1.1 packet is the same
packet without the properties, which is how one parser serves both versions.

``parse_stream`` is the hot path: it walks a received buffer once and appends every complete
PUBLISH to plain lists (topic, payload, acknowledgement word), so the caller pays no object
per message beyond the topic string and the payload bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from slastream.errors import BrokerError

V311, V5 = 4, 5  # protocol levels (§3.1.2.2)
PROTOCOL_LEVELS = {"5": V5, "3.1.1": V311}  # mqtt.protocol → level

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = range(8, 16)

# Acknowledgement words: a PUBACK (§3.4) or PUBREC (§3.5) with Reason Code 0 and no
# properties is exactly 4 bytes (type, remaining length 2, packet id), i.e. one big-endian
# u32. Reason Code and properties may be omitted on success (§3.4.2.1).
PUBACK_WORD = 0x40020000
PUBREC_WORD = 0x50020000
PINGREQ_PACKET = b"\xc0\x00"

# Subscription options (§3.8.3.1): Retain Handling 1 = send retained messages only when the
# subscription is new, so a reconnecting bridge does not re-read every retained message.
RETAIN_HANDLING_IF_NEW = 1 << 4

# Property identifiers (§2.2.2.2) and their types.
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
MAXIMUM_PACKET_SIZE = 0x27
TOPIC_ALIAS = 0x23
_BYTE = frozenset({0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A})
_U16 = frozenset({0x13, 0x21, 0x22, 0x23})
_U32 = frozenset({0x02, 0x11, 0x18, 0x27})
_VARINT = frozenset({0x0B})
_UTF8 = frozenset({0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F})
_BINARY = frozenset({0x09, 0x16})
_PAIR = frozenset({0x26})

# Reason codes worth a sentence (§3.2.2.2, §3.9.3, §3.14.2.1).
REASONS = {
    0x80: "unspecified error", 0x81: "malformed packet", 0x82: "protocol error",
    0x83: "implementation specific error", 0x84: "unsupported protocol version",
    0x85: "client identifier not valid", 0x86: "bad user name or password",
    0x87: "not authorized", 0x88: "server unavailable", 0x89: "server busy",
    0x8A: "banned", 0x8B: "server shutting down", 0x8C: "bad authentication method",
    0x8D: "keep alive timeout", 0x8E: "session taken over (another client uses this id)",
    0x8F: "topic filter invalid", 0x90: "topic name invalid", 0x93: "receive maximum exceeded",
    0x95: "packet too large", 0x97: "quota exceeded", 0x99: "payload format invalid",
    0x9B: "QoS not supported", 0x9C: "use another server", 0x9D: "server moved",
    0x9E: "shared subscriptions not supported", 0x9F: "connection rate exceeded",
    0xA1: "subscription identifiers not supported", 0xA2: "wildcard subscriptions not supported",
}
# MQTT 3.1.1 CONNACK return codes (3.1.1 §3.2.2.3), mapped to their 5.0 equivalents.
V311_CONNACK = {1: 0x84, 2: 0x85, 3: 0x88, 4: 0x86, 5: 0x87}
# Refusals that no retry will cure: configuration problems to report, not to retry.
PERMANENT_REFUSALS = frozenset({0x85, 0x86, 0x87, 0x8A, 0x8C, 0x8F, 0x9E, 0xA2})


MALFORMED_PACKET = 0x81
PACKET_TOO_LARGE = 0x95
SESSION_TAKEN_OVER = 0x8E
UNSUPPORTED_PROTOCOL_VERSION = 0x84


class ProtocolError(BrokerError):
    """The broker sent something this client cannot accept; ``code`` is the Reason Code
    the client closes the connection with (§4.13: 0x81 Malformed Packet unless said)."""

    def __init__(self, message: str, code: int = MALFORMED_PACKET) -> None:
        super().__init__(message)
        self.code = code


def reason_text(code: int) -> str:
    return REASONS.get(code, f"reason code 0x{code:02x}")


def varint(n: int) -> bytes:
    """Variable Byte Integer (§1.5.5)."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(text: str) -> bytes:
    """UTF-8 Encoded String (§1.5.4): 2-byte length, then the bytes."""
    raw = text.encode()
    if len(raw) > 0xFFFF:
        raise ValueError("MQTT strings are at most 65535 bytes")
    return struct.pack("!H", len(raw)) + raw


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + varint(len(body)) + body


def connect_packet(client_id: str, *, version: int, keepalive_s: int, clean_start: bool,
                   session_expiry_s: int, receive_maximum: int,
                   username: str | None = None, password: str | None = None,
                   maximum_packet_size: int | None = None) -> bytes:
    """CONNECT (§3.1). ``clean_start`` False resumes the session (3.1.1: Clean Session 0);
    ``maximum_packet_size`` (MQTT 5, §3.1.2.11.4): the broker sends nothing larger."""
    flags = (0x02 if clean_start else 0) | (0x80 if username is not None else 0)
    flags |= 0x40 if password is not None else 0
    body = utf8("MQTT") + bytes([version, flags]) + struct.pack("!H", keepalive_s)
    if version == V5:
        props = (bytes([SESSION_EXPIRY_INTERVAL]) + struct.pack("!I", session_expiry_s)
                 + bytes([RECEIVE_MAXIMUM]) + struct.pack("!H", receive_maximum))
        if maximum_packet_size is not None:
            props += bytes([MAXIMUM_PACKET_SIZE]) + struct.pack("!I", maximum_packet_size)
        body += varint(len(props)) + props
    body += utf8(client_id)
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += utf8(password)
    return _packet(CONNECT << 4, body)


def subscribe_packet(packet_id: int, filters: list[str], qos: int, *, version: int) -> bytes:
    """SUBSCRIBE (§3.8) of every filter in one packet; fixed header flags are 0b0010."""
    body = struct.pack("!H", packet_id)
    options = qos
    if version == V5:
        body += b"\x00"  # no properties
        options |= RETAIN_HANDLING_IF_NEW
    for topic_filter in filters:
        body += utf8(topic_filter) + bytes([options])
    return _packet((SUBSCRIBE << 4) | 0x02, body)


def disconnect_packet(version: int, reason: int = 0) -> bytes:
    """DISCONNECT (§3.14): Reason Code 0 (normal) keeps the session; another code says why
    we close (MQTT 5 only: a 3.1.1 DISCONNECT has no body)."""
    if reason and version == V5:
        return bytes([DISCONNECT << 4, 1, reason])  # no properties: length 1 (§3.14.2.2.1)
    return b"\xe0\x00"


def pubcomp_packet(packet_id: int) -> bytes:
    return struct.pack("!BBH", PUBCOMP << 4, 2, packet_id)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """``(value, next position)``; ``(-1, pos)`` when the buffer ends inside the integer."""
    value = 0
    shift = 0
    end = len(data)
    while True:
        if pos >= end:
            return -1, pos
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 21:
            raise ProtocolError("malformed variable byte integer (more than 4 bytes)")


def parse_properties(data: bytes, pos: int) -> tuple[dict[int, object], int]:
    """Properties (§2.2.2) starting at ``pos``: ``({id: value}, position after them)``."""
    length, pos = read_varint(data, pos)
    if length < 0 or pos + length > len(data):
        raise ProtocolError("truncated properties")
    end = pos + length
    props: dict[int, object] = {}
    try:
        while pos < end:
            pos = _property(data, pos, props)
    except (struct.error, IndexError):
        raise ProtocolError("truncated property") from None
    if pos != end:
        raise ProtocolError("properties overrun their length")
    return props, end


def _property(data: bytes, pos: int, props: dict[int, object]) -> int:
    """Read one property into ``props``; the position after it."""
    ident = data[pos]
    pos += 1
    value: object
    if ident in _BYTE:
        value, pos = data[pos], pos + 1
    elif ident in _U16:
        value, pos = struct.unpack_from("!H", data, pos)[0], pos + 2
    elif ident in _U32:
        value, pos = struct.unpack_from("!I", data, pos)[0], pos + 4
    elif ident in _VARINT:
        value, pos = read_varint(data, pos)
    elif ident in _UTF8 or ident in _BINARY:
        n = struct.unpack_from("!H", data, pos)[0]
        raw = data[pos + 2:pos + 2 + n]
        value, pos = (raw.decode(errors="replace") if ident in _UTF8 else raw), pos + 2 + n
    elif ident in _PAIR:
        n = struct.unpack_from("!H", data, pos)[0]
        m = struct.unpack_from("!H", data, pos + 2 + n)[0]
        value, pos = None, pos + 4 + n + m
    else:
        raise ProtocolError(f"unknown property 0x{ident:02x}")
    props[ident] = value
    return pos


@dataclass(frozen=True)
class ConnAck:
    """CONNACK (§3.2): ``reason`` 0 means accepted (3.1.1 codes are mapped to 5.0 ones)."""

    session_present: bool
    reason: int
    properties: dict[int, object] = field(default_factory=dict)


def parse_connack(body: bytes, version: int) -> ConnAck:
    if len(body) < 2:
        raise ProtocolError("short CONNACK")
    code = body[1]
    if version == V311 or len(body) == 2:
        # A 3.1.1 broker answers an MQTT 5 CONNECT with a 3.1.1 CONNACK, code 1.
        return ConnAck(bool(body[0] & 1), V311_CONNACK.get(code, code) if code else 0)
    props, _ = parse_properties(body, 2)
    return ConnAck(bool(body[0] & 1), code, props)


def parse_suback(body: bytes, version: int) -> tuple[int, list[int]]:
    """SUBACK (§3.9): ``(packet id, one reason code per filter)``; codes < 0x80 = granted QoS."""
    packet_id = struct.unpack_from("!H", body, 0)[0]
    pos = 2
    if version == V5:
        _, pos = parse_properties(body, pos)
    return packet_id, list(body[pos:])


def parse_disconnect(body: bytes) -> tuple[int, str]:
    """Server DISCONNECT (§3.14, MQTT 5 only): ``(reason code, reason string)``."""
    if not body:
        return 0, ""
    code = body[0]
    reason = ""
    if len(body) > 1:
        props, _ = parse_properties(body, 1)
        reason = str(props.get(REASON_STRING, ""))
    return code, reason


def parse_stream(data: bytes, v5: bool, topics: list[str], payloads: list[bytes],
                 acks: list[int], control: list[tuple[int, bytes]],
                 qos2_open: set[int], max_size: int = 1 << 28) -> int:
    """Parse every complete packet in ``data``; returns how many bytes were consumed.

    PUBLISH packets (§3.3) go to ``topics``/``payloads``, with the acknowledgement word the
    broker is owed appended to ``acks`` (QoS 1: PUBACK, QoS 2: PUBREC; QoS 0: none). A QoS 2
    re-delivery of a packet id still in ``qos2_open`` is dropped: it is the same message
    (§4.3.3). Other packets go to ``control`` as ``(first byte, body)``.

    Raises ``ProtocolError`` with the Reason Code to close with: 0x95 for a packet larger
    than ``max_size`` bytes (what the CONNECT announced, §3.1.2.11.4), 0x81 for a malformed
    one (QoS 3 §3.3.1.2, a Remaining Length over 4 bytes §1.5.5, fields past the packet).
    """
    # Longer than 60 lines on purpose: this is the bridge's hot loop, run once per
    # received message, so the header fields are parsed inline, without a function call
    # per packet or per field (throughput: benchmarks/bridge.py).
    pos = 0
    end = len(data)
    while end - pos >= 2:
        first = data[pos]
        # Remaining Length (§2.1.4), inlined: this loop runs once per message.
        i = pos + 1
        length = data[i]
        if length < 0x80:
            i += 1
        elif i + 1 < end and data[i + 1] < 0x80:  # two bytes: packets of 128 B to 16 kB
            length = (length & 0x7F) | (data[i + 1] << 7)
            i += 2
        else:
            length, i = read_varint(data, i)
            if length < 0:
                break
        stop = i + length
        if stop - pos > max_size:
            raise ProtocolError(f"packet of {stop - pos} bytes exceeds the announced Maximum"
                                f" Packet Size of {max_size}", PACKET_TOO_LARGE)
        if stop > end:
            break
        if first >> 4 == PUBLISH:
            topic_len = (data[i] << 8) | data[i + 1]
            j = i + 2 + topic_len
            topic = data[i + 2:j].decode()
            qos = (first >> 1) & 3
            if qos == 3:
                raise ProtocolError("PUBLISH with QoS bits 3")
            if qos:
                packet_id = (data[j] << 8) | data[j + 1]
                j += 2
                if qos == 1:
                    acks.append(PUBACK_WORD | packet_id)
                elif packet_id in qos2_open:
                    pos = stop
                    continue
                else:
                    qos2_open.add(packet_id)
                    acks.append(PUBREC_WORD | packet_id)
            if v5:
                # Properties are skipped: this client never allows Topic Aliases (it sends
                # no Topic Alias Maximum, so the broker must not use them, §3.1.2.11.8).
                props_len = data[j]
                if props_len & 0x80:
                    props_len, j = read_varint(data, j)
                    j += props_len
                else:
                    j += 1 + props_len
            if j > stop:
                raise ProtocolError("PUBLISH fields run past the packet")
            if not topic:
                raise ProtocolError("PUBLISH without a topic name (topic alias not allowed)",
                                    0x82)  # Protocol Error: we allowed no Topic Alias
            topics.append(topic)
            payloads.append(data[j:stop])
        else:
            control.append((first, data[i:stop]))
        pos = stop
    return pos
