"""What one report says, as values: per contract its SLOs with their days, its exclusions,
its terms, and the ledger's optional fields (status, coverage, claim deadline, support,
usage) read from the ledger's JSON where the typed ledger has no place for them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slastream.model.ledger import ContractEntry, ExclusionEntry, Inputs, Period, SLOEntry
from slastream.model.spec import Contract, ExclusionPolicy
from slastream.report.daily import Day


@dataclass(frozen=True, slots=True)
class Extras:
    """The ledger's optional fields of one SLO or contract entry (None where absent).

    ``support`` and ``usage`` are the contract's sections as the ledger's JSON has them
    (docs/interfaces.md#ledger-json); they stay JSON until the typed ledger carries them.
    """

    status: str | None = None
    coverage: float | None = None
    claim_deadline: str | None = None
    support: Mapping[str, Any] | None = None
    usage: Mapping[str, Any] | None = None


def extras_of(entry: Mapping[str, Any]) -> Extras:
    """The optional fields of one JSON entry; a field of the wrong type counts as absent."""
    status, coverage = entry.get("status"), entry.get("coverage")
    deadline = entry.get("claim_deadline")
    support, usage = entry.get("support"), entry.get("usage")
    return Extras(
        status if isinstance(status, str) else None,
        float(coverage) if isinstance(coverage, int | float)
        and not isinstance(coverage, bool) else None,
        deadline if isinstance(deadline, str) else None,
        support if isinstance(support, Mapping) else None,
        usage if isinstance(usage, Mapping) else None)


@dataclass(frozen=True, slots=True)
class SloReport:
    entry: SLOEntry
    days: tuple[Day, ...]
    extra: Extras

    @property
    def coverage(self) -> float | None:
        """The ledger's coverage, else the share of the period's judged minutes with
        evidence (from ``no_data_minutes``)."""
        if self.extra.coverage is not None:
            return self.extra.coverage
        total = self.entry.total_minutes
        return (total - self.entry.no_data_minutes) / total if total > 0 else None


@dataclass(frozen=True, slots=True)
class ContractReport:
    """One contract's month; ``entry`` None: the SLOs that no contract covers."""

    name: str
    entry: ContractEntry | None
    terms: Contract | None  # the contract as CONFIG declares it (None: not in CONFIG)
    slos: tuple[SloReport, ...]
    exclusions: tuple[ExclusionEntry, ...]
    extra: Extras


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the renderers need; ``document`` is the ledger JSON of the contracts."""

    period: Period
    contracts: tuple[ContractReport, ...]
    policy: Mapping[str, ExclusionPolicy]
    inputs: Inputs
    source: str  # where the figures come from, for the reader
    days_have_evidence: bool  # False: no slices at hand, the days show no evidence figures
    document: dict[str, Any]  # JSON as orjson writes it
