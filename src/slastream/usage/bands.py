"""Which band a client (ADI) is in: the mapping file first, then the bands' id patterns."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from fnmatch import translate
from pathlib import Path
from typing import NamedTuple

from slastream.model.usage import MAX_BANDS, UsageTerms

NO_BAND = MAX_BANDS + 1  # a client no band claims: its requests are rejected, counted


class BandMatcher:
    """Client id → band number (its place in ``terms.bands``) by ``fnmatch`` patterns."""

    def __init__(self, terms: UsageTerms) -> None:
        self._patterns = [
            (i, re.compile("|".join(f"(?:{translate(p)})" for p in band.clients)))
            for i, band in enumerate(terms.bands) if band.clients
        ]

    def band(self, client: str) -> int:
        for i, pattern in self._patterns:
            if pattern.match(client):
                return i
        return NO_BAND


class MappingRow(NamedTuple):
    """One ``client,band`` row of a mapping file, or the reason it was rejected."""

    client: str
    band: int
    problem: str = ""


def read_mapping(path: Path, terms: UsageTerms) -> Iterator[MappingRow]:
    """The rows of a ``client,band`` CSV file (a first row ``client,band`` is a header).

    A row with another number of fields, an empty client or an unknown band is yielded
    with its ``problem`` (band ``NO_BAND``); the caller counts it. ``OSError`` propagates:
    a missing file is the config check's to report.
    """
    with path.open(newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f)):
            if n == 0 and [c.strip().lower() for c in row] == ["client", "band"]:
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != 2 or not row[0].strip():
                yield MappingRow("", NO_BAND, "mapping_malformed")
                continue
            band = terms.band_index(row[1].strip())
            if band is None:
                yield MappingRow(row[0].strip(), NO_BAND, "mapping_unknown_band")
            else:
                yield MappingRow(row[0].strip(), band)
