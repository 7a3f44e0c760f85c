"""RFC 3339 text for generated payloads, fast: the whole-second part is cached.

A day of traffic formats several timestamps per message, and on these machines one
``strftime`` or even one f-string with format specs costs more than the rest of a payload,
so digits come from lookup tables and strings are concatenated.
"""

from __future__ import annotations

import time

_seconds: dict[int, str] = {}
_MS3 = tuple(f"{i:03d}" for i in range(1000))


def _second(sec: int) -> str:
    text = _seconds.get(sec)
    if text is None:
        if len(_seconds) > 50_000:
            _seconds.clear()
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _seconds[sec] = text
    return text


def iso_ms(ms: int) -> str:
    """``2026-10-01T00:00:01.250Z`` (capture ``received_at``, probes, requests)."""
    return _second(ms // 1000) + "." + _MS3[ms % 1000] + "Z"


def sub_ms_digits(bits: int) -> str:
    """Six digits below the millisecond from 20 random bits (ChirpStack prints nanoseconds)."""
    return _MS3[(bits >> 10) % 1000] + _MS3[(bits & 1023) % 1000]


def iso_ns(ms: int, digits: str) -> str:
    """``2026-10-01T00:00:01.250123456+00:00``: ChirpStack's protobuf-JSON timestamps carry
    nanoseconds and a numeric offset; ``digits`` are the six below the millisecond."""
    return _second(ms // 1000) + "." + _MS3[ms % 1000] + digits + "+00:00"


def iso_ns_z(ms: int, digits: str) -> str:
    """``2026-10-01T00:00:01.250123456Z``, The Things Stack's form."""
    return _second(ms // 1000) + "." + _MS3[ms % 1000] + digits + "Z"
