"""The ADIs furthest over their band's allowance in a month, by id: for the ledger only
(ids are never metric labels).

An ADI is ranked by its worst day: its requests per minute of that day. Ties are broken by
client id, so the list does not depend on the order devices were first seen in.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from slastream.usage.days import DayTotals
from slastream.usage.devices import DeviceTable

I64 = npt.NDArray[np.int64]


class Offender(NamedTuple):
    """An ADI over the allowance on its worst day of the month."""

    client: str
    day_ms: int  # start of that day
    requests: int
    minutes: int  # of that day

    @property
    def per_minute(self) -> float:
        return self.requests / self.minutes


def _rank(o: Offender) -> tuple[float, str, int]:
    return (-o.per_minute, o.client, o.day_ms)


def merge_offenders(
    current: tuple[tuple[Offender, ...], ...] | None,
    table: DeviceTable,
    devices: I64,
    counts: I64,
    bands: I64,
    day: DayTotals,
    n_bands: int,
    top: int,
) -> tuple[tuple[Offender, ...], ...]:
    """``current`` (per band) with one day's ADIs over the allowance merged in: per band
    the ``top`` ADIs by their worst day."""
    out: list[tuple[Offender, ...]] = []
    for band in range(n_bands):
        kept = list(current[band]) if current is not None else []
        mine = np.flatnonzero(bands == band)
        if top and mine.size:
            band_counts = counts[mine]
            if mine.size > top:  # every ADI tied with the top-th stays a candidate
                floor = np.partition(band_counts, mine.size - top)[mine.size - top]
                mine = mine[band_counts >= floor]
            kept.extend(
                Offender(table.id(int(devices[i])), day.start_ms, int(counts[i]), day.minutes)
                for i in mine.tolist())
        worst: dict[str, Offender] = {}
        for o in sorted(kept, key=_rank):
            worst.setdefault(o.client, o)
        out.append(tuple(sorted(worst.values(), key=_rank)[:top]))
    return tuple(out)
