"""Field checks shared by the decoders: each failure becomes a ``Rejected`` with a clear reason.

JSON values arrive as parsed by orjson: ``dict``, ``list``, ``str``, ``int``, ``float``,
``bool`` or ``None``. ``bool`` is a subclass of ``int`` in Python, so integer checks use
``type(x) is int``, which also keeps them fast.
"""

from __future__ import annotations

import math
from typing import Any

from slastream.errors import Rejected
from slastream.model.time import parse_rfc3339_ms

NOT_OBJECT = "payload is not a JSON object"
UINT32_MAX = 0xFFFFFFFF
_INT_AS_FLOAT_MAX = 2**63  # far beyond any duration; keeps float() from overflowing


def need_object(payload: Any) -> dict[str, Any]:
    """The payload as a JSON object, or ``Rejected``."""
    if type(payload) is not dict:
        raise Rejected(NOT_OBJECT)
    return payload


def sub_object(obj: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    """``obj[key]`` when it is an object, ``None`` when absent or null; ``Rejected`` otherwise."""
    value = obj.get(key)
    if value is None or type(value) is dict:
        return value
    raise Rejected(f"{where}{key} is not a JSON object")


def devaddr_hex(value: Any, field: str, exact: bool = True) -> int:
    """A DevAddr written as hex (ChirpStack ``00189440``, TTS ``260B5972``) → int.

    ``exact`` demands the 8 digits both servers write; otherwise 1 to 8 digits are accepted.
    ``int(x, 16)`` alone would also take signs, spaces, underscores and a ``0x`` prefix:
    ``isascii``/``isalnum`` keep out the first three, the ``value[1]`` test the prefix.
    """
    n = len(value) if type(value) is str else 0
    if (
        not (n == 8 if exact else 0 < n <= 8)
        or not value.isascii()
        or not value.isalnum()
        or (n > 1 and value[1] in "xX")
    ):
        raise Rejected(f"{field} must be {'8' if exact else '1 to 8'} hex digits")
    try:
        return int(value, 16)
    except ValueError:
        raise Rejected(f"{field} must be {'8' if exact else '1 to 8'} hex digits") from None


def uint32(value: Any, field: str) -> int:
    """A protobuf ``uint32`` (frame counters, downlink ids)."""
    if type(value) is not int or not 0 <= value <= UINT32_MAX:
        raise Rejected(f"{field} must be an integer from 0 to {UINT32_MAX}")
    return value


def text(obj: dict[str, Any], key: str, where: str = "", default: str | None = None) -> str:
    """A string field; absent (or null) gives ``default``, or ``Rejected`` when there is none."""
    value = obj.get(key)
    if type(value) is str:
        return value
    if value is None:
        if default is not None:
            return default
        raise Rejected(f"{where}missing {key}")
    raise Rejected(f"{where}{key} must be a string")


def flag(obj: dict[str, Any], key: str, where: str = "", default: bool | None = None) -> bool:
    """A boolean field; absent (or null) gives ``default``, or ``Rejected`` when there is none."""
    value = obj.get(key)
    if type(value) is bool:
        return value
    if value is None:
        if default is not None:
            return default
        raise Rejected(f"{where}missing {key}")
    raise Rejected(f"{where}{key} must be true or false")


def timestamp_ms(obj: dict[str, Any], key: str, where: str = "", default: int | None = None) -> int:
    """An RFC 3339 field as epoch ms; absent (or null) gives ``default`` or ``Rejected``."""
    value = obj.get(key)
    if value is None:
        if default is not None:
            return default
        raise Rejected(f"{where}missing {key}")
    if type(value) is not str:
        raise Rejected(f"{where}{key} must be an RFC 3339 string")
    try:
        return parse_rfc3339_ms(value)
    except (ValueError, OverflowError):
        raise Rejected(f"{where}{key} is not an RFC 3339 timestamp: {value[:40]!r}") from None


def number(value: Any, field: str) -> float:
    """A finite, non-negative JSON number (``1e400`` parses as infinity: refused)."""
    if type(value) is float:
        if 0.0 <= value < math.inf:
            return value
    elif type(value) is int and 0 <= value <= _INT_AS_FLOAT_MAX:
        return float(value)
    raise Rejected(f"{field} must be a finite number >= 0")
