"""What the parser refuses, and with which MQTT 5 Reason Code the connection closes."""

from __future__ import annotations

import struct

import pytest

from slastream.ingest import packets
from slastream.ingest.packets import V5, V311, ProtocolError

from .test_packets import publish


def parse(data: bytes, max_size: int = 1 << 20) -> int:
    return packets.parse_stream(data, True, [], [], [], [], set(), max_size)


def reason_of(data: bytes, max_size: int = 1 << 20) -> int:
    with pytest.raises(ProtocolError) as info:
        parse(data, max_size)
    return info.value.code


def test_connect_announces_the_maximum_packet_size_with_mqtt5_only() -> None:
    v5 = packets.connect_packet("b", version=V5, keepalive_s=30, clean_start=False,
                                session_expiry_s=60, receive_maximum=10,
                                maximum_packet_size=4096)
    props_at = 2 + 6 + 1 + 1 + 2  # fixed header, "MQTT", level, flags, keep alive
    props, _ = packets.parse_properties(v5, props_at)
    assert props[packets.MAXIMUM_PACKET_SIZE] == 4096
    v311 = packets.connect_packet("b", version=V311, keepalive_s=30, clean_start=False,
                                  session_expiry_s=60, receive_maximum=10,
                                  maximum_packet_size=4096)
    assert struct.pack("!I", 4096) not in v311


def test_a_packet_over_the_announced_size_is_packet_too_large() -> None:
    packet = publish("t", b"x" * 200, qos=1, packet_id=1)
    assert parse(packet, max_size=len(packet)) == len(packet)
    assert reason_of(packet, max_size=len(packet) - 1) == packets.PACKET_TOO_LARGE
    # Known from the header alone: refused before the rest of it has arrived.
    assert reason_of(packet[:10], max_size=100) == packets.PACKET_TOO_LARGE


def test_qos_bits_3_are_a_malformed_packet_not_qos_2() -> None:
    packet = bytearray(publish("t", b"x", qos=2, packet_id=7))
    packet[0] |= 0x06
    assert reason_of(bytes(packet)) == packets.MALFORMED_PACKET


def test_a_remaining_length_of_five_bytes_is_malformed() -> None:
    assert reason_of(b"\x30\xff\xff\xff\xff\x01" + b"\x00" * 8) == packets.MALFORMED_PACKET


def test_fields_running_past_the_packet_are_malformed() -> None:
    topic_too_long = b"\x30\x04\x00\x10ab" + publish("next", b"payload")
    assert reason_of(topic_too_long) == packets.MALFORMED_PACKET
    props_too_long = b"\x30\x05\x00\x01t\x7f\x00" + publish("next", b"payload")
    assert reason_of(props_too_long) == packets.MALFORMED_PACKET


def test_truncated_properties_in_control_packets_are_malformed() -> None:
    with pytest.raises(ProtocolError) as info:
        packets.parse_disconnect(bytes([0x8E, 5, packets.REASON_STRING, 0, 9, 65]))
    assert info.value.code == packets.MALFORMED_PACKET
    with pytest.raises(ProtocolError):
        packets.parse_connack(bytes([0, 0, 3, packets.RECEIVE_MAXIMUM, 0]), V5)
    with pytest.raises(ProtocolError):  # a property longer than the properties
        packets.parse_properties(bytes([2, packets.SESSION_EXPIRY_INTERVAL, 0, 0, 0, 1]), 0)


def test_a_disconnect_says_why_with_mqtt5_only() -> None:
    assert packets.disconnect_packet(V5, 0x95) == b"\xe0\x01\x95"
    assert packets.disconnect_packet(V311, 0x95) == b"\xe0\x00"
    assert packets.disconnect_packet(V5) == b"\xe0\x00"


def test_a_protocol_error_in_a_publish_says_protocol_error() -> None:
    assert reason_of(publish("", b"x")) == 0x82
