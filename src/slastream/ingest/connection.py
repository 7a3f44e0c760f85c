"""One MQTT connection of the bridge: an ``asyncio.Protocol`` that subscribes and receives.

Why not aiomqtt here: aiomqtt drives paho-mqtt, which reads a packet with three ``recv``
calls and builds a ``Properties`` object for every MQTT 5 PUBLISH; measured on these
machines a bare paho subscriber drains a Mosquitto backlog at ~10k msg/s over MQTT 5
(~16k over 3.1.1), five times below the bridge's 50k msg/s target, and the aiomqtt
iterator adds a task per message on top. This protocol parses whole socket reads at once
(``packets.parse_stream``): >150k msg/s on the same broker (numbers: benchmarks/bridge.py).

Acknowledgements are the caller's: ``ack(words)`` sends the PUBACK/PUBREC the broker is owed
once the messages are safe in Kafka. With MQTT 5 the CONNECT carries a Receive Maximum, so
the broker never has more than that many unacknowledged QoS 1/2 messages out to us
(§4.9 Flow Control): the broker, not the bridge, holds the backlog.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urlsplit

from slastream.errors import BrokerError
from slastream.ingest import packets
from slastream.ingest.packets import V5, V311, ConnAck, ProtocolError
from slastream.model.spec import DEFAULT_MAX_PACKET_BYTES, MqttSettings
from slastream.transport.security import ssl_context

log = logging.getLogger("slastream.bridge")

DEFAULT_PORTS = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


@dataclass(frozen=True)
class MqttAddress:
    """Where the broker is: ``mqtt://[user[:password]@]host[:port]`` (``mqtts://`` for TLS).

    ``context`` is the TLS context (None with ``tls``: the system's CAs).
    """

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_settings(cls, mqtt: MqttSettings) -> MqttAddress:
        """The URL, with ``mqtt.username``/``password``/``tls`` taking precedence."""
        address = cls.parse(mqtt.url)
        if mqtt.username is not None:
            address = replace(address, username=mqtt.username)
        if mqtt.password is not None:
            address = replace(address, password=mqtt.password.reveal())
        if mqtt.tls is not None:
            url = mqtt.url if "://" in mqtt.url else f"mqtt://{mqtt.url}"
            port = address.port if urlsplit(url).port else DEFAULT_PORTS["mqtts"]
            address = replace(address, port=port, tls=True,
                              context=ssl_context(mqtt.tls, server="MQTT broker"))
        return address

    @classmethod
    def parse(cls, url: str) -> MqttAddress:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise BrokerError(f"MQTT URL must look like mqtt://host:1883 or mqtts://host:8883,"
                              f" got {url!r}")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise BrokerError(f"MQTT URL has a bad port: {url!r}") from None
        return cls(parts.hostname, port, parts.scheme in ("mqtts", "ssl"),
                   unquote(parts.username) if parts.username is not None else None,
                   unquote(parts.password) if parts.password is not None else None)

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


@dataclass(frozen=True)
class SessionOptions:
    """How the bridge presents itself to the broker."""

    client_id: str
    keepalive_s: int = 30
    session_expiry_s: int = 86_400  # the broker keeps our queue a day while we are away
    receive_maximum: int = 65_535  # §3.1.2.11.3: at most 65,535
    connect_timeout_s: float = 10.0
    max_packet_size: int = DEFAULT_MAX_PACKET_BYTES  # §3.1.2.11.4, announced with MQTT 5


class Segment:
    """Messages of one socket read: one receive time, parallel lists, acks owed for them.

    ``conn`` is None for messages the bridge makes itself (outage records).
    """

    __slots__ = ("acks", "conn", "payloads", "received_ms", "topics")

    def __init__(self, conn: MqttConnection | None, received_ms: int, topics: list[str],
                 payloads: list[bytes], acks: list[int]) -> None:
        self.conn = conn
        self.received_ms = received_ms
        self.topics = topics
        self.payloads = payloads
        self.acks = acks


class Refused(BrokerError):
    """The broker refused the connection or a subscription."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code in packets.PERMANENT_REFUSALS


class MqttConnection(asyncio.Protocol):
    """The protocol object of one TCP (or TLS) connection.

    ``deliver`` receives a ``Segment`` per socket read that carried PUBLISH packets; it
    runs inside ``data_received``, so it must not block.
    """

    def __init__(self, options: SessionOptions, version: int,
                 deliver: Callable[[Segment], None], clock_ms: Callable[[], int],
                 username: str | None = None, password: str | None = None) -> None:
        self.options = options
        self.version = version
        self._v5 = version == V5
        self._deliver = deliver
        self._clock_ms = clock_ms
        self._username = username
        self._password = password
        self._transport: asyncio.Transport | None = None
        self._rest = b""
        self._qos2_open: set[int] = set()
        loop = asyncio.get_running_loop()
        self.connack: asyncio.Future[ConnAck] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._suback: dict[int, asyncio.Future[list[int]]] = {}
        self._next_packet_id = 1
        self.keepalive_s = options.keepalive_s
        self.last_rx = time.monotonic()
        self.lost_ms: int | None = None
        self.paused = False
        self.disconnect_reason: tuple[int, str] | None = None  # the broker's DISCONNECT
        self.error_code: int | None = None  # the Reason Code we closed with, if we did
        # MQTT 5 only: a 3.1.1 broker is never told the limit, so it is not enforced there
        self._max_size = options.max_packet_size if self._v5 else 1 << 28
        self._pinger: asyncio.Task[None] | None = None

    @property
    def problem(self) -> str | None:
        """Why the connection ended, when it was a protocol matter: the Reason Code we
        closed with (the broker sent a bad packet), or another client taking the session."""
        if self.error_code is not None:
            return packets.reason_text(self.error_code)
        if self.disconnect_reason and self.disconnect_reason[0] == packets.SESSION_TAKEN_OVER:
            return "session taken over"
        return None

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(packets.connect_packet(
            self.options.client_id, version=self.version, keepalive_s=self.options.keepalive_s,
            clean_start=False, session_expiry_s=self.options.session_expiry_s,
            receive_maximum=self.options.receive_maximum,
            username=self._username, password=self._password,
            maximum_packet_size=self.options.max_packet_size))

    def data_received(self, data: bytes) -> None:
        self.last_rx = time.monotonic()
        if self._rest:
            data = self._rest + data
        topics: list[str] = []
        payloads: list[bytes] = []
        acks: list[int] = []
        control: list[tuple[int, bytes]] = []
        try:
            used = packets.parse_stream(data, self._v5, topics, payloads, acks, control,
                                        self._qos2_open, self._max_size)
        except ProtocolError as exc:
            self._fail(exc)
            return
        except (IndexError, UnicodeDecodeError) as exc:
            self._fail(ProtocolError(f"malformed packet from the broker: {exc}"))
            return
        self._rest = data[used:]
        if topics:
            self._deliver(Segment(self, self._clock_ms(), topics, payloads, acks))
        for first, body in control:
            self._control(first, body)

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if self.lost_ms is None:
            self.lost_ms = self._clock_ms()
        if self._pinger is not None:
            self._pinger.cancel()
        error = exc or BrokerError("connection closed by the broker")
        if not self.connack.done():
            self.connack.set_exception(error)
        for fut in self._suback.values():
            if not fut.done():
                fut.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(None)

    # ------------------------------------------------------------------ control packets

    def _control(self, first: int, body: bytes) -> None:
        kind = first >> 4
        try:
            if kind == packets.CONNACK and not self.connack.done():
                self.connack.set_result(packets.parse_connack(body, self.version))
            elif kind == packets.SUBACK:
                packet_id, codes = packets.parse_suback(body, self.version)
                fut = self._suback.pop(packet_id, None)
                if fut is not None and not fut.done():
                    fut.set_result(codes)
            elif kind == packets.PUBREL:
                # QoS 2, second half (§4.3.3): the message is released; confirm.
                packet_id = struct.unpack_from("!H", body, 0)[0]
                self._qos2_open.discard(packet_id)
                self._write(packets.pubcomp_packet(packet_id))
            elif kind == packets.DISCONNECT:
                self.disconnect_reason = packets.parse_disconnect(body)
                if self._transport is not None:
                    self._transport.close()  # §3.14.4: the broker closes too; no reply
            # PINGRESP only proves liveness (last_rx); PUBACK etc. never come to a subscriber.
        except ProtocolError as exc:
            self._fail(exc)
        except (struct.error, IndexError) as exc:
            self._fail(ProtocolError(f"malformed packet from the broker: {exc}"))

    def _fail(self, exc: ProtocolError) -> None:
        """Close with ``exc.code`` in a DISCONNECT (MQTT 5, §4.13.2; a 3.1.1 client just
        closes, 3.1.1 §4.8); the session stays with the broker, which re-sends what we did
        not acknowledge."""
        log.error("MQTT: %s: closing with %s", exc, packets.reason_text(exc.code))
        self.error_code = exc.code
        if not self.connack.done():
            self.connack.set_exception(exc)
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()
            if self._v5:
                self._transport.write(packets.disconnect_packet(V5, exc.code))
            self._transport.close()

    # ------------------------------------------------------------------ commands

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def ack(self, words: list[int]) -> None:
        """Send the PUBACK/PUBREC packets ``words`` (from ``Segment.acks``) in one write.

        After a reconnect the packet ids of the old connection mean nothing: the broker
        re-sends those messages instead (§4.4), so acks of a closed connection are dropped.
        """
        if words and self.is_open:
            assert self._transport is not None
            self._transport.write(struct.pack(f">{len(words)}I", *words))

    async def subscribe(self, filters: list[str], qos: int) -> list[int]:
        """Subscribe to every filter; returns the granted QoS per filter."""
        packet_id = self._next_packet_id
        self._next_packet_id = packet_id % 0xFFFF + 1
        fut: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._suback[packet_id] = fut
        self._write(packets.subscribe_packet(packet_id, filters, qos, version=self.version))
        codes = await asyncio.wait_for(fut, self.options.connect_timeout_s)
        for topic_filter, code in zip(filters, codes, strict=False):
            if code >= 0x80:
                raise Refused(f"MQTT broker refused subscription {topic_filter!r}: "
                              f"{packets.reason_text(code)}", code)
        return codes

    def pause(self) -> None:
        """Stop reading the socket: TCP flow control makes the broker hold the messages."""
        if not self.paused and self.is_open:
            assert self._transport is not None
            self._transport.pause_reading()
            self.paused = True

    def resume(self) -> None:
        if self.paused and self.is_open:
            assert self._transport is not None
            self._transport.resume_reading()
            self.last_rx = time.monotonic()
        self.paused = False

    def start_pinger(self) -> None:
        self._pinger = asyncio.get_running_loop().create_task(self._ping_loop())

    async def _ping_loop(self) -> None:
        """Keep Alive (§3.1.2.10): a PINGREQ every half period; no sign of life for 1.5
        periods (while we are reading) means the connection is dead though TCP says not."""
        period = self.keepalive_s
        if period <= 0:
            return
        while self.is_open:
            await asyncio.sleep(period / 2)
            self._write(packets.PINGREQ_PACKET)
            silent_s = time.monotonic() - self.last_rx
            if not self.paused and silent_s > 1.5 * period:
                log.warning("MQTT: no packet from the broker for %.0f s: reconnecting", silent_s)
                # The connection died when it went silent, not when we noticed.
                self.lost_ms = self._clock_ms() - int(silent_s * 1000)
                self.abort()
                return

    def close(self) -> None:
        """Normal disconnect: the broker keeps the session for ``session_expiry_s``."""
        if self.is_open:
            assert self._transport is not None
            self._transport.write(packets.disconnect_packet(self.version))
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


async def open_connection(address: MqttAddress, options: SessionOptions, version: int,
                          deliver: Callable[[Segment], None], clock_ms: Callable[[], int],
                          ) -> tuple[MqttConnection, ConnAck]:
    """Connect and wait for an accepting CONNACK; ``Refused``, ``OSError`` or
    ``TimeoutError`` otherwise."""
    loop = asyncio.get_running_loop()
    context = (address.context or ssl.create_default_context()) if address.tls else None
    transport, conn = await asyncio.wait_for(
        loop.create_connection(
            lambda: MqttConnection(options, version, deliver, clock_ms,
                                   address.username, address.password),
            address.host, address.port, ssl=context),
        options.connect_timeout_s)
    try:
        connack = await asyncio.wait_for(conn.connack, options.connect_timeout_s)
    except BaseException:
        transport.abort()
        raise
    if connack.reason:
        transport.abort()
        raise Refused(f"MQTT broker {address} refused the connection: "
                      f"{packets.reason_text(connack.reason)}", connack.reason)
    keepalive = connack.properties.get(packets.SERVER_KEEP_ALIVE)
    if isinstance(keepalive, int):
        conn.keepalive_s = keepalive  # §3.2.2.3.14: the server's value wins
    conn.start_pinger()
    return conn, connack


async def connect_any_version(address: MqttAddress, options: SessionOptions,
                              deliver: Callable[[Segment], None],
                              clock_ms: Callable[[], int],
                              version: int | None = None) -> tuple[MqttConnection, ConnAck]:
    """MQTT 5 first, 3.1.1 only when the broker says it does not speak 5 (``version``
    forces one).

    The broker must say so: an MQTT 5 CONNACK with Reason Code 0x84 (§3.1.2.2), or the
    3.1.1 CONNACK return code 1 that a 3.1.1 broker answers a level-5 CONNECT with
    (3.1.1 §3.1.2.2). A timeout or a close is an ordinary connection failure, retried with
    MQTT 5: falling back on those would quietly drop Receive Maximum flow control whenever
    the network hiccups. Each connect asks again, so a broker upgraded to MQTT 5 gets it.
    """
    if version is not None:
        return await open_connection(address, options, version, deliver, clock_ms)
    try:
        return await open_connection(address, options, V5, deliver, clock_ms)
    except Refused as exc:
        if exc.code != packets.UNSUPPORTED_PROTOCOL_VERSION:
            raise
    log.warning("MQTT broker %s does not speak MQTT 5: using 3.1.1 (no flow control, "
                "no session expiry; shared subscriptions only if the broker allows them)",
                address)
    return await open_connection(address, options, V311, deliver, clock_ms)
