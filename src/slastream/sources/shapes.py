"""The typed read of a capture line: the fields the replay's fast path needs, nothing else.

``read`` decodes a line (docs/interfaces.md#capture-files) into :class:`Line`: the fields
of the shapes the fast path decodes are converted, everything else is checked for JSON
syntax and skipped unconverted (about twice as fast as ``orjson.loads`` building every
value). A field of another type than declared here fails the read, and the line takes the
plain path (``sources/fastpath.py``); the C loop reads these structs' slots
(``sources/_scan.c``), and its byte reader declines any line these types would read
differently (``sources/_scan_json.h``).
"""

from __future__ import annotations

from typing import Any

import msgspec

# gc=False on every struct: decoded JSON holds no reference cycles, and untracked instances
# are cheaper to make and free (the typed read 0.91 -> 0.82 µs a line, measured).


class RxInfo(msgspec.Struct, gc=False):
    """What the fast path reads of a ChirpStack gateway uplink's ``rxInfo``."""

    crcStatus: str | None = None  # ChirpStack's field names, as in the JSON


class DeviceInfo(msgspec.Struct, gc=False):
    """What the fast path reads of an integration event's ``deviceInfo``."""

    tenantId: Any = ""
    deviceClassEnabled: Any = None


class Delay(msgspec.Struct, gc=False):
    """``txInfo.timing.delay`` of a downlink (a ``google.protobuf.Duration`` in JSON)."""

    delay: Any = "0s"  # absent: no delay, as the decoder reads it; null is malformed


class Timing(msgspec.Struct, gc=False):
    """``txInfo.timing`` (ChirpStack v4: one of delay, immediately, gpsEpoch)."""

    delay: Delay | None = None
    immediately: Any = msgspec.UNSET  # UNSET: the key is absent
    gpsEpoch: Any = msgspec.UNSET


class TxInfo(msgspec.Struct, gc=False):
    """What the fast path reads of a ``txInfo``: its timing (v3 writes it as a name)."""

    timing: Timing | str | None = None


class Item(msgspec.Struct, gc=False):
    """One item of a gateway downlink or its acknowledgement."""

    phyPayload: str | None = None
    txInfo: TxInfo | None = None
    status: str | None = None


class Payload(msgspec.Struct, gc=False):
    """The fields of the fast shapes (a gateway uplink and an integration ``event/up``, and
    for the C loop a gateway downlink, its acknowledgement and an integration ``event/txack``);
    any other field of any payload object is skipped (its syntax checked, not converted).
    A field of another type than these fails the typed read, and the line takes the
    plain path."""

    rxInfo: RxInfo | list[RxInfo] | None = None
    phyPayload: str | None = None
    devAddr: Any = None
    fCnt: Any = 0
    deviceInfo: DeviceInfo | None = None
    # gateway downlinks and acknowledgements, integration txacks (decoded in _scan.c only)
    items: list[Item] | None = None
    downlinkId: Any = None
    txInfo: TxInfo | None = None
    code: Any = None  # an integration log event's


class Line(msgspec.Struct, gc=False):
    """A capture line as the fast path reads it (docs/interfaces.md#capture-files)."""

    received_at: str
    topic: str
    payload: Payload | list[Any] | str | int | float | bool | None = None


read = msgspec.json.Decoder(Line).decode
"""The typed read of a capture line (raises ``msgspec.DecodeError`` on what it refuses)."""
