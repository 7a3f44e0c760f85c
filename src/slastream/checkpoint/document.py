"""The byte encoding of a checkpoint document (version 2) and of a delta (version 3).

``MAGIC`` (4 bytes), the version (2 bytes, big endian), then, compressed with zlib at
level 1 (a checkpoint is written every few seconds; speed matters more than ratio):
a header length (4 bytes, big endian), the header as JSON, the array buffers back to back.
The header is ``{"doc": ..., "arrays": [[dtype, shape], ...]}``: the document with each
numpy array replaced by ``{"$nd": index}``, its raw little-endian bytes in the buffers.
Columns of integers cost 8 bytes (or 1) a value instead of a JSON number, and load
without parsing.

A delta (version 3) has the same layout; its document is ``{"seq": n, "parent": crc,
"patch": ...}``: the ``n``-th delta after a base, the CRC-32 of the record before it in
the chain (the base, or delta ``n - 1``), and the change since that record's document
(``delta.py``). It is read only with its chain (``decode_chain``), never on its own.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from slastream.checkpoint import delta, v1

MAGIC = b"SLCK"
VERSION = 2
DELTA_VERSION = 3
_HEAD = struct.Struct(">4sH")
_LEN = struct.Struct(">I")
_DTYPES = frozenset({"<i8", "<f8", "|u1", "|b1"})
_REF = "$nd"
_NESTED = (dict, list, tuple, np.ndarray)

Document = dict[str, Any]


def encode(doc: Document) -> bytes:
    """The bytes of ``doc`` (plain data: dicts with str keys, lists, str, int, float,
    bool, None, numpy arrays of int64, float64, uint8 or bool)."""
    return _encode(doc, VERSION)


def encode_delta(change: delta.Patch | None, parent: bytes, seq: int) -> bytes:
    """The bytes of the ``seq``-th delta of a chain, ``parent`` being the bytes of the record
    before it (the base when ``seq`` is 1)."""
    return _encode({"seq": seq, "parent": zlib.crc32(parent), "patch": change}, DELTA_VERSION)


def _encode(doc: Document, version: int) -> bytes:
    arrays: list[np.ndarray[Any, Any]] = []
    header = orjson.dumps({"doc": _strip(doc, arrays),
                           "arrays": [[a.dtype.str, list(a.shape)] for a in arrays]})
    body = b"".join([_LEN.pack(len(header)), header, *(a.tobytes() for a in arrays)])
    return _HEAD.pack(MAGIC, version) + zlib.compress(body, 1)


def decode(data: bytes) -> Document:
    """The document in ``data``; a version-1 checkpoint is migrated to version 2.

    Raises ``ValueError`` ("unreadable checkpoint: ...") on an unknown version, a delta
    without its chain, or a malformed document.
    """
    if data[:len(MAGIC)] != MAGIC and v1.recognises(data):
        return v1.migrate(data)
    version = _version(data)
    if version == DELTA_VERSION:
        raise ValueError("unreadable checkpoint: a delta, read only after its base")
    return _body(data)


def decode_chain(base: bytes, deltas: Sequence[bytes]) -> Document:
    """The document of a base followed by its deltas, in order.

    Raises ``ValueError`` ("unreadable checkpoint: ...") if a delta is not the next one
    of the chain (another base's, missing, out of order) or does not fit the document.
    """
    doc = decode(base)
    parent = base
    for seq, data in enumerate(deltas, start=1):
        if _version(data) != DELTA_VERSION:
            raise ValueError(f"unreadable checkpoint: delta {seq} is not a delta")
        head = _body(data)
        if head.get("seq") != seq or head.get("parent") != zlib.crc32(parent):
            raise ValueError(f"unreadable checkpoint: delta {seq} does not follow its "
                             f"chain (it says seq {head.get('seq')!r})")
        try:
            doc = delta.patch(doc, head.get("patch"))
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
            raise ValueError(f"unreadable checkpoint: delta {seq}: {type(exc).__name__}: "
                             f"{exc}") from None
        if not isinstance(doc, dict):
            raise ValueError(f"unreadable checkpoint: delta {seq} leaves no mapping")
        parent = data
    return doc


def _version(data: bytes) -> int:
    if data[:len(MAGIC)] != MAGIC:
        raise ValueError("unreadable checkpoint: not a slastream checkpoint")
    if len(data) < _HEAD.size:
        raise ValueError("unreadable checkpoint: truncated")
    _, version = _HEAD.unpack_from(data)
    if version not in (VERSION, DELTA_VERSION):
        raise ValueError(f"unreadable checkpoint: version {version} is not supported "
                         f"(this release reads versions 1 to {DELTA_VERSION})")
    return int(version)


def _body(data: bytes) -> Document:
    try:
        body = zlib.decompress(data[_HEAD.size:])
        (size,) = _LEN.unpack_from(body)
        header = orjson.loads(body[_LEN.size:_LEN.size + size])
        arrays = _arrays(header["arrays"], body, _LEN.size + size)
        doc = _restore(header["doc"], arrays)
    except (zlib.error, struct.error, orjson.JSONDecodeError, KeyError, TypeError,
            IndexError, ValueError) as exc:
        raise ValueError(f"unreadable checkpoint: {type(exc).__name__}: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError("unreadable checkpoint: the document is not a mapping")
    return doc


def _strip(value: Any, arrays: list[np.ndarray[Any, Any]]) -> Any:
    if isinstance(value, dict):
        return {str(k): _strip(v, arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if not _holds(value, _NESTED):  # a column of scalars
            return value
        return [_strip(v, arrays) for v in value]
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        if arr.dtype.str not in _DTYPES:
            raise TypeError(f"checkpoint arrays are int64, float64, uint8 or bool: {arr.dtype}")
        arrays.append(arr)
        return {_REF: len(arrays) - 1}
    return value


def _arrays(specs: list[Any], body: bytes, at: int) -> list[np.ndarray[Any, Any]]:
    out = []
    for dtype, shape in specs:
        if dtype not in _DTYPES or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise ValueError(f"array of {dtype} {shape}")
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if at + nbytes > len(body):
            raise ValueError("array buffers truncated")
        count = math.prod(shape)
        out.append(np.frombuffer(body, dtype=dtype, count=count, offset=at).reshape(shape)
                   if count else np.empty(shape, dtype=dtype))
        at += nbytes
    if at != len(body):
        raise ValueError(f"{len(body) - at} bytes after the last array")
    return out


def _restore(value: Any, arrays: list[np.ndarray[Any, Any]]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _REF in value:
            index = value[_REF]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise ValueError(f"no array {index!r}")
            return arrays[index]
        return {k: _restore(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        if not _holds(value, (dict, list)):  # a column of scalars
            return value
        return [_restore(v, arrays) for v in value]
    return value


def _holds(values: list[Any] | tuple[Any, ...], kinds: tuple[type, ...]) -> bool:
    """Whether any of ``values`` is an instance of ``kinds`` (by the set of their types:
    a column of a million strings has one)."""
    return any(issubclass(t, kinds) for t in set(map(type, values)))
