"""Deterministic mutations of real payloads: structure-aware edits of JSON values and of
Protobuf messages, PHYPayload damage, and raw byte noise.

Everything draws from one ``random.Random``, so a seed names a whole run and a failure is
reproduced by its seed and index (``tests/fuzz/harness.py``).
"""

from __future__ import annotations

import base64
import copy
import math
import random
import string
from typing import Any

# Values that stress type checks and ranges: wrong types, bounds of the integer types the
# decoders read (uint32, int64), numbers a double cannot hold, strings of odd content.
ODD_SCALARS: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 255, 256, 0xFFFF, 0x10000, 0xFFFFFFFF, 0x100000000,
    2**63 - 1, -(2**63), 2**64, 10**30, -(10**30), 0.5, -0.0, 1e308, -1e308, 5e-324,
    math.nan, math.inf, -math.inf, "", " ", "0", "-1", "1e400", "NaN", "null", "true",
    "\x00", "\ud800", "é" * 3, "💥", "0x1F", "+12", "1_000", " 12", "00189440", "0018944",
    "001894400", "ZZZZZZZZ", "2026-10-01T00:00:00Z", "2026-13-45T99:99:99Z",
    "99999-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2026-10-01T00:00:00.999999999+14:00",
    "2026-10-01", "1s", "1.500s", "-1s", "999999999999999s", "1.0000000001s", "s",
    "CRC_OK", "BAD_CRC", "NO_CRC", "DELAY", "IMMEDIATELY", "GPS_EPOCH", "OK", "TOO_LATE",
    "CLASS_A", "CLASS_C", "ERROR", "DOWNLINK_GATEWAY", "transmission", "opened", "rx2",
    [], {}, [None], [{}], {"": None},
)


def odd_string(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(40)))
    if kind == 1:
        return rng.choice("aAz09_-./:@#+$%") * rng.choice((1, 7, 64, 1000, 70_000))
    if kind == 2:  # arbitrary code points, surrogates included
        return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 12)))
    if kind == 3:
        return f"{rng.getrandbits(32):08x}"
    if kind == 4:
        return str(rng.getrandbits(rng.choice((8, 32, 64, 128))))
    return rng.choice(("items[0]", "up", "event/up", "\n", "\\", '"', "\t{}[]"))


def odd_value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if r < 0.55:
        return rng.choice(ODD_SCALARS)
    if r < 0.75:
        return odd_string(rng)
    if r < 0.85:
        return rng.choice((rng.getrandbits(70) - 2**69, rng.uniform(-1e12, 1e12)))
    if depth < 3 and r < 0.93:
        return [odd_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 3:
        return {odd_string(rng)[:12]: odd_value(rng, depth + 1) for _ in range(rng.randrange(4))}
    return deep(rng.randrange(1, 200))


def deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


_MAX_PATHS = 10_000  # a list repeated 50 times over a few rounds has millions of paths


def _paths(value: Any) -> list[tuple[Any, ...]]:
    """The paths to values inside ``value`` (the root is ``()``), depth first, at most
    ``_MAX_PATHS`` of them: a value grown by repetition is edited among its first ones."""
    out: list[tuple[Any, ...]] = []
    _walk(value, (), out)
    return out


def _walk(value: Any, prefix: tuple[Any, ...], out: list[tuple[Any, ...]]) -> None:
    if len(out) >= _MAX_PATHS:
        return
    out.append(prefix)
    if len(prefix) > 40:  # deep nesting: its inside is not worth editing
        return
    if isinstance(value, dict):  # in key order: Protobuf maps come in any order
        for key, item in sorted(value.items(), key=lambda kv: str(kv[0])):
            _walk(item, (*prefix, key), out)
    elif isinstance(value, list) and len(value) < 64:
        for i, item in enumerate(value):
            _walk(item, (*prefix, i), out)


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def phy_garbage(rng: random.Random, text: Any) -> Any:
    """A damaged PHYPayload: bad base64, or valid base64 of a damaged frame."""
    try:
        raw = bytearray(base64.b64decode(text, validate=True)) if isinstance(text, str) else None
    except ValueError:
        raw = None
    if raw is None or rng.random() < 0.3:
        raw = bytearray(rng.randbytes(rng.choice((0, 1, 7, 8, 11, 12, 13, 20, 64))))
    kind = rng.randrange(9)
    if kind == 0:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(30)))
    if kind == 1:  # URL-safe and unpadded, which the decoders accept too
        return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    if kind == 2:
        enc = base64.b64encode(bytes(raw)).decode()
        cut = rng.randrange(len(enc) + 1)
        return enc[:cut] + rng.choice(("", "=", "==", "===", "*", " ", "\n", "é"))
    if kind == 3 and raw:  # another message type, major version or FOpts length
        raw[0] = rng.randrange(256)
    elif kind == 4 and len(raw) > 5:
        raw[5] = (raw[5] & 0xF0) | rng.randrange(16)
    elif kind == 5 and raw:
        del raw[rng.randrange(len(raw)):]
    elif kind == 6 and raw:
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    elif kind == 7:
        raw += rng.randbytes(rng.choice((1, 100, 300)))
    return base64.b64encode(bytes(raw)).decode()


def mutate_json(rng: random.Random, seed: Any, rounds: int | None = None) -> Any:
    """``seed`` with one to a few structure-aware edits (the seed is not changed)."""
    value = copy.deepcopy(seed)
    for _ in range(rounds or rng.choice((1, 1, 1, 2, 3))):
        paths = _paths(value)
        path = rng.choice(paths)
        target = _get(value, path)
        op = rng.randrange(10)
        if path and isinstance(path[-1], str) and "phy" in path[-1].lower() and op < 5:
            value = _set(value, path, phy_garbage(rng, target))
        elif op <= 2:
            value = _set(value, path, odd_value(rng))
        elif op == 3 and path:  # drop the field
            parent = _get(value, path[:-1])
            del parent[path[-1]]
        elif op == 4 and isinstance(target, dict):
            target[rng.choice((odd_string(rng)[:16], "items", "rxInfo", "time", "phyPayload",
                               "devAddr", "fCnt", "txInfo", "error", "status"))] = odd_value(rng)
        elif op == 5:  # wrap in a list or an object, or deep nesting
            wrap = rng.choice(([target], {"x": target}, deep(rng.randrange(1, 200))))
            value = _set(value, path, wrap)
        elif op == 6 and isinstance(target, list):
            value = _set(value, path, target * rng.choice((0, 2, 50)))
        elif op == 7 and isinstance(target, str):
            value = _set(value, path, target[: rng.randrange(len(target) + 1)]
                         + rng.choice(("", "x", "\x00", "é", "Z", "9" * 30)))
        elif op == 8 and type(target) is int:
            value = _set(value, path, rng.choice((target + 1, -target, target * 2**32,
                                                  float(target), str(target), target + 0.5)))
        else:
            value = _set(value, path, odd_value(rng))
    return value


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """Byte-level damage: flips, cuts, insertions, splices, or noise of the same length."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4))):
        op = rng.randrange(6)
        if op == 0 and buf:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            del buf[rng.randrange(len(buf)):]
        elif op == 2:
            at = rng.randrange(len(buf) + 1)
            buf[at:at] = rng.randbytes(rng.choice((1, 2, 5, 40)))
        elif op == 3 and buf:
            at = rng.randrange(len(buf))
            buf[at] = rng.choice((0, 0x7F, 0x80, 0xFF, 0x0A, 0x22, 0x5C))
        elif op == 4 and len(buf) > 2:
            a, b = sorted(rng.sample(range(len(buf)), 2))
            buf[a:b] = buf[a:b] * rng.choice((2, 3))
        else:
            buf = bytearray(rng.randbytes(len(buf) or 8))
    return bytes(buf)
