"""Incremental checkpoints: a base document, then deltas of what changed since the record
before, compacted into a new base when the deltas outgrow it.

A full snapshot costs what is in flight (every pending uplink and tombstone, every few
seconds); a delta costs what changed since the previous checkpoint (``delta.py``: the rows
added, changed or dropped). The chain is exact: the base followed by its deltas decodes
(``document.decode_chain``) to the very document the last checkpoint was computed from,
which restores like a full snapshot of it would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from slastream.checkpoint import delta, document

Kind = Literal["base", "delta"]


@dataclass(frozen=True)
class Piece:
    """One record of a chain: a base (``document.encode``) or a delta of the base it
    follows (``document.encode_delta``)."""

    kind: Kind
    data: bytes


class ChainWriter:
    """Turns successive documents into the records of a chain.

    ``compact_ratio``: a base is written again once the deltas since the last one would
    add up to more than this fraction of its size, which bounds what a restore reads (at
    most ``1 + compact_ratio`` times a base); ``max_deltas`` bounds how many records it
    reads (an idle partition's deltas are tiny next to its base). ``compact_ratio`` 0
    writes a base every time (full snapshots).

    The writer assumes every record it returns is stored; after a failed write,
    ``restart()`` makes the next one a base.
    """

    def __init__(self, compact_ratio: float = 1.0, max_deltas: int = 100) -> None:
        self.compact_ratio = compact_ratio
        self.max_deltas = max_deltas
        self._doc: document.Document | None = None  # what the chain so far decodes to
        self._parent = b""  # the last record of the chain
        self._base_bytes = 0
        self._delta_bytes = 0
        self._seq = 0

    def next(self, doc: document.Document) -> Piece:
        """The record to store next for ``doc``: a delta, or a base when there is no
        chain yet or the deltas would outgrow it."""
        if self._doc is not None and self.compact_ratio > 0 and self._seq < self.max_deltas:
            data = document.encode_delta(delta.diff(self._doc, doc), self._parent,
                                         self._seq + 1)
            if self._delta_bytes + len(data) <= self._base_bytes * self.compact_ratio:
                self._seq += 1
                self._delta_bytes += len(data)
                return self._took(doc, Piece("delta", data))
        data = document.encode(doc)
        self._seq = self._delta_bytes = 0
        self._base_bytes = len(data)
        return self._took(doc, Piece("base", data))

    def restart(self) -> None:
        self._doc = None

    @property
    def deltas(self) -> int:
        """Deltas written since the last base."""
        return self._seq

    def _took(self, doc: document.Document, piece: Piece) -> Piece:
        # the next delta is computed against this document: it must not see later changes
        # of arrays the state shares with the live objects
        self._doc = _owned(doc)
        self._parent = piece.data
        return piece


def _owned(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _owned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_owned(v) for v in value] if any(
            isinstance(v, dict | list | tuple | np.ndarray) for v in value) else list(value)
    return value
