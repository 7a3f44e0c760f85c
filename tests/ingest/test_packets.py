"""MQTT packet encoding and the streaming PUBLISH parser (MQTT 5.0 and 3.1.1)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slastream.ingest import packets
from slastream.ingest.packets import V5, V311, ProtocolError


def publish(topic: str, payload: bytes, qos: int = 0, packet_id: int = 0, *,
            v5: bool = True, props: bytes = b"", dup: bool = False) -> bytes:
    """A PUBLISH packet as a broker would send it (§3.3)."""
    body = packets.utf8(topic)
    if qos:
        body += struct.pack("!H", packet_id)
    if v5:
        body += packets.varint(len(props)) + props
    body += payload
    first = 0x30 | (qos << 1) | (0x08 if dup else 0)
    return bytes([first]) + packets.varint(len(body)) + body


def parse_all(data: bytes, v5: bool = True, chunks: list[int] | None = None,
              ) -> tuple[list[str], list[bytes], list[int], list[tuple[int, bytes]]]:
    """Feed ``data`` in pieces (cut at ``chunks``), keeping the unparsed rest like the
    connection does."""
    topics: list[str] = []
    payloads: list[bytes] = []
    acks: list[int] = []
    control: list[tuple[int, bytes]] = []
    qos2: set[int] = set()
    cuts = [*sorted(set(chunks or [])), len(data)]
    rest = b""
    prev = 0
    for cut in cuts:
        rest += data[prev:cut]
        prev = cut
        used = packets.parse_stream(rest, v5, topics, payloads, acks, control, qos2)
        rest = rest[used:]
    assert rest == b""
    return topics, payloads, acks, control


def test_varint_matches_the_spec_examples() -> None:
    # §1.5.5: boundaries of the one- to four-byte encodings
    assert packets.varint(0) == b"\x00"
    assert packets.varint(127) == b"\x7f"
    assert packets.varint(128) == b"\x80\x01"
    assert packets.varint(16_383) == b"\xff\x7f"
    assert packets.varint(16_384) == b"\x80\x80\x01"
    assert packets.varint(268_435_455) == b"\xff\xff\xff\x7f"
    for n in (0, 127, 128, 16_383, 16_384, 2_097_151, 268_435_455):
        assert packets.read_varint(packets.varint(n), 0) == (n, len(packets.varint(n)))


def test_connect_asks_for_a_persistent_session_with_flow_control() -> None:
    packet = packets.connect_packet("bridge-1", version=V5, keepalive_s=30, clean_start=False,
                                    session_expiry_s=86_400, receive_maximum=1000)
    assert packet[0] == 0x10
    length, pos = packets.read_varint(packet, 1)
    body = packet[pos:]
    assert len(body) == length
    assert body[:6] == b"\x00\x04MQTT" and body[6] == 5
    assert body[7] == 0x00, "Clean Start 0: resume the session"
    assert struct.unpack_from("!H", body, 8)[0] == 30
    props, end = packets.parse_properties(body, 10)
    assert props == {packets.SESSION_EXPIRY_INTERVAL: 86_400, packets.RECEIVE_MAXIMUM: 1000}
    assert body[end:] == packets.utf8("bridge-1")


def test_connect_311_has_no_properties_and_carries_credentials() -> None:
    packet = packets.connect_packet("b", version=V311, keepalive_s=60, clean_start=False,
                                    session_expiry_s=0, receive_maximum=10,
                                    username="u", password="p")
    body = packet[2:]
    assert body[6] == 4 and body[7] == 0xC0
    assert body[10:] == packets.utf8("b") + packets.utf8("u") + packets.utf8("p")


def test_subscribe_carries_every_filter_with_qos_and_retain_handling() -> None:
    packet = packets.subscribe_packet(7, ["a/#", "$share/g/b/+"], 1, version=V5)
    assert packet[0] == 0x82
    body = packet[2:]
    assert struct.unpack_from("!H", body, 0)[0] == 7 and body[2] == 0
    assert body[3:] == (packets.utf8("a/#") + bytes([0x11])
                        + packets.utf8("$share/g/b/+") + bytes([0x11]))


def test_publishes_of_every_qos_and_the_acks_they_owe() -> None:
    data = (publish("a/b", b"zero") + publish("a/c", b"one", 1, 513)
            + publish("a/d", b"two", 2, 9) + publish("a/e", b"", 1, 65535))
    topics, payloads, acks, control = parse_all(data)
    assert topics == ["a/b", "a/c", "a/d", "a/e"]
    assert payloads == [b"zero", b"one", b"two", b""]
    assert [struct.pack(">I", w) for w in acks] == [
        b"\x40\x02\x02\x01", b"\x50\x02\x00\x09", b"\x40\x02\xff\xff"]
    assert control == []


def test_publish_properties_are_skipped_and_311_has_none() -> None:
    props = b"\x01\x01" + b"\x03" + packets.utf8("application/json")  # format, content type
    topics, payloads, _, _ = parse_all(publish("t", b"{}", 1, 1, props=props))
    assert (topics, payloads) == (["t"], [b"{}"])
    topics, payloads, acks, _ = parse_all(publish("t", b"{}", 1, 1, v5=False), v5=False)
    assert (topics, payloads, acks) == (["t"], [b"{}"], [packets.PUBACK_WORD | 1])


def test_long_payloads_use_multi_byte_lengths() -> None:
    big = bytes(range(256)) * 300  # 76,800 bytes: a 3-byte remaining length
    data = publish("x", big, 1, 2) + publish("y", b"small")
    topics, payloads, _, _ = parse_all(data, chunks=list(range(0, len(data), 4096)))
    assert topics == ["x", "y"] and payloads == [big, b"small"]


def test_a_qos2_redelivery_awaiting_release_is_the_same_message() -> None:
    data = publish("q", b"m", 2, 5) + publish("q", b"m", 2, 5, dup=True)
    topics, _, acks, _ = parse_all(data)
    assert topics == ["q"] and acks == [packets.PUBREC_WORD | 5]


def test_control_packets_are_handed_over() -> None:
    suback = bytes([0x90, 5]) + b"\x00\x01\x00\x01\x9e"
    topics, _, _, control = parse_all(suback + b"\xd0\x00" + publish("t", b"p"))
    assert topics == ["t"]
    assert control == [(0x90, b"\x00\x01\x00\x01\x9e"), (0xD0, b"")]
    assert packets.parse_suback(control[0][1], V5) == (1, [0x01, 0x9E])


def test_connack_of_both_versions() -> None:
    v5 = packets.parse_connack(b"\x01\x00\x03\x21\x00\x14", V5)
    assert v5.session_present and v5.reason == 0
    assert v5.properties == {packets.RECEIVE_MAXIMUM: 20}
    # A 3.1.1 broker's answer to an MQTT 5 CONNECT: return code 1, no properties.
    assert packets.parse_connack(b"\x00\x01", V5).reason == 0x84
    assert packets.parse_connack(b"\x00\x05", V311).reason == 0x87


def test_a_publish_without_topic_is_refused() -> None:
    with pytest.raises(ProtocolError):
        parse_all(publish("", b"alias?", 0))


messages = st.lists(st.tuples(
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x2FF), min_size=1,
            max_size=40),
    st.binary(max_size=400), st.integers(0, 2)), min_size=1, max_size=30)


@given(messages, st.lists(st.integers(0, 20_000), max_size=40), st.booleans())
def test_any_split_of_the_stream_parses_the_same(
        msgs: list[tuple[str, bytes, int]], cuts: list[int], v5: bool) -> None:
    data = b"".join(publish(t, p, q, i + 1, v5=v5) for i, (t, p, q) in enumerate(msgs))
    whole = parse_all(data, v5)
    assert parse_all(data, v5, [c % (len(data) + 1) for c in cuts]) == whole
    assert whole[0] == [t for t, _, _ in msgs] and whole[1] == [p for _, p, _ in msgs]
    assert len(whole[2]) == sum(1 for _, _, q in msgs if q)
