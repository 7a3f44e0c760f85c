"""Request-allowance terms of a contract as frozen values: ADI bands, intensive communication.

Built by ``slastream.config.usage.parse_usage`` from a contract's ``usage`` mapping and read
by ``slastream.usage``. An ADI is one device (one request ``client``); its band decides its
request allowance per minute and the band's data transfer per 24 hours per thousand ADIs.

The EVRYTHNG SLA's table ("ADI Band" / "Request Allowance per ADI" / "Data Transfer per 24
Hours per Thousand ADIs") is ``EVRYTHNG_BANDS``: a band of that name takes its figures from
there unless the config gives its own (the SLA lets an order form set band F differently).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

# A megabyte of transfer is 2**20 bytes: the table's 1 GB band is 1,024 MB, its 4.5 GB 4,608.
MB = 1 << 20
# A device's band is one byte, the last value meaning "no band".
MAX_BANDS = 254


@dataclass(frozen=True)
class BandLimits:
    """One row of a request-allowance table."""

    per_minute: float  # requests per ADI per minute, averaged over the band's operational ADIs
    transfer_mb_per_1000: float | None  # data transfer per 24 h per 1,000 ADIs; None: no limit


EVRYTHNG_BANDS: dict[str, BandLimits] = {
    "Trial": BandLimits(0.1, 2.0),
    "F": BandLimits(0.3, 512.0),
    "U": BandLimits(0.3, 512.0),
    "A": BandLimits(0.5, 1024.0),
    "B": BandLimits(2.0, 4608.0),
}


@dataclass(frozen=True)
class Band:
    """An ADI band: its limits and the client ids (``fnmatch`` patterns) that belong to it.

    A client belongs to the first band (in config order) with a matching pattern, unless
    the mapping file names its band.
    """

    name: str
    limits: BandLimits
    clients: tuple[str, ...] = ()

    @property
    def per_minute(self) -> float:
        return self.limits.per_minute

    @property
    def allowance(self) -> Fraction:
        """The allowance as an exact fraction, so "exactly at the allowance" is exact."""
        return Fraction(repr(self.limits.per_minute))


@dataclass(frozen=True)
class Intensive:
    """The "intensive communication" limits: a device may request at most once every
    ``1 / max_per_second`` seconds, and a run of faster requests may last at most
    ``max_minutes`` (``slastream.usage.runs`` says how a run is measured)."""

    max_per_second: float = 1.0
    max_minutes: float = 10.0

    @property
    def gap_ms(self) -> int:
        """Requests less than this apart are "more than once every second"."""
        return round(1000 / self.max_per_second)

    @property
    def max_ms(self) -> int:
        return round(self.max_minutes * 60_000)


@dataclass(frozen=True)
class UsageTerms:
    """A contract's request allowance.

    ``mapping_file``: a CSV of ``client,band`` rows naming the band of each listed ADI (a
    path as written in the config; relative paths are relative to the config file).
    ``component``: only requests of this component count (None: every component).
    ``top``: how many offenders per band the ledger lists by id.
    """

    bands: tuple[Band, ...]
    mapping_file: str | None = None
    component: str | None = None
    intensive: Intensive = Intensive()
    top: int = 10

    def band_index(self, name: str) -> int | None:
        for i, band in enumerate(self.bands):
            if band.name == name:
                return i
        return None
